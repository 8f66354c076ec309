# nodeprint - see README.md. `make run` and `make check` install what they need.
CC      ?= gcc
# a cross build names its pkg-config too (docker/README.md, "Other architectures")
PKG_CONFIG ?= pkg-config
PKGS    := libcurl jansson libnvme libudev yaml-0.1 nettle devmapper libmicrohttpd
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
           -D_FILE_OFFSET_BITS=64 $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl, libmicrohttpd, libnvme and libdevmapper are loaded with dlopen on first use (pkg/kube/curl_dl.h,
# pkg/agent/mhd_dl.h, pkg/collect/nvme_dl.h, pkg/collect/dm_dl.h): compiled against, not linked.
DLOPENED := libcurl libmicrohttpd libnvme devmapper
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(filter-out $(DLOPENED),$(PKGS)) 2>/dev/null) -lm

# SAN=1 builds into build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer.
ifeq ($(SAN),1)
B       ?= build-asan
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
B       ?= build
endif

PKG_SRC  := $(sort $(shell find pkg -name '*.c'))
CMD_SRC  := $(sort $(wildcard cmd/nodeprint/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
PKG_OBJ  := $(PKG_SRC:%.c=$(B)/obj/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/obj/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: image image-dockerfile fuzz-build all run check check-unit check-asan check-e2e check-vm check-kube check-helm check-cluster check-node test-world helm-template bench fuzz deps deps-test clean

all: $(B)/nodeprint $(TESTS)

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The OCI image (docker/Dockerfile's, built without a Docker engine: docker/README.md), from the
# binary built with the default flags: build/image/nodeprint-oci and nodeprint-<version>.oci.tar.
image:
	@scripts/deps.sh image
	@$(MAKE) --no-print-directory SAN= B=build build/nodeprint
	docker/build-image.sh build/nodeprint build/image

# docker/Dockerfile itself, built offline with buildah and checked by the image test (not in `check`:
# buildah and a second toolchain install cost minutes). docker/README.md.
image-dockerfile: image
	@scripts/deps.sh dockerfile
	docker/build-dockerfile.sh build/image-dockerfile
	NP_IMAGE_OUT=build/image-dockerfile tests/image/test_image.py

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/nodeprint: $(PKG_OBJ) $(CMD_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(PKG_OBJ) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -DNP_SRCDIR='"$(CURDIR)"' -o $@ $< $(PKG_OBJ) $(LDFLAGS) $(LDLIBS) -lcmocka

# The Kubernetes client against the test API server (run by tests/kube/test_client.sh).
all: $(B)/tests/kube_it
$(B)/tests/kube_it: tests/kube/kube_it.c $(PKG_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(PKG_OBJ) $(LDFLAGS) $(LDLIBS)

# The main job: build and run `nodeprint inspect` on this machine (built-in default policy).
run: deps
	@$(MAKE) --no-print-directory $(B)/nodeprint
	./$(B)/nodeprint inspect $(ARGS)

# Every test: unit (plain and ASan/UBSan), fuzz corpora replayed, end-to-end on this machine,
# the OCI image, node-in-a-box (QEMU), the real Kubernetes control plane, Helm.
check: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SAN=1 all
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory test-world
	@# a failed image build must not stop the other suites: the image suite then fails loudly
	@$(MAKE) --no-print-directory image 2>&1 | tee build/image-build.log | tail -3 || true
	tests/run.sh

# libFuzzer targets: tests/fuzz/fuzz_<parser>.c, built with clang into build-fuzz/.
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_OBJ  := $(PKG_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=fuzzer-no-link,address,undefined
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Wno-unused-command-line-argument -c $< -o $@
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
fuzz-build: $(FUZZ_BIN)

check-unit: all
	tests/run.sh unit

# The test world: kube-apiserver, kube-scheduler, kube-controller-manager, kubelet, kubectl, etcd,
# Helm, containerd, runc and crictl at pinned versions, built from the Go module proxy once into $(NP_K8S_CACHE) (default
# .cache/k8s; docs/test-cluster.md). Test-only: the product stays C.
test-world: deps-test
	@tests/cluster/build.sh kube etcd helm runtime >/dev/null

# Render the Helm chart helm/nodeprint with the real Helm (built by tests/cluster/build.sh; Helm is not
# in Debian 12). HELM_ARGS="--set k=v -f values.yaml".
helm-template: deps-test
	@bin=$$(tests/cluster/build.sh helm) && $$bin/helm template nodeprint helm/nodeprint $(HELM_ARGS)

check-helm: deps-test all
	tests/run.sh helm

# The end-to-end proofs against the real control plane (tests/cluster/, docs/test-cluster.md).
check-cluster: deps-test all
	tests/run.sh cluster

# The DaemonSet on a real node: runc alone, then containerd + runc + kubelet (tests/node/, docs/test-node.md).
check-node: deps-test all
	@$(MAKE) --no-print-directory image | tail -1
	tests/run.sh node

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(B)/nodeprint
	tests/bench/bench.sh $(B)/nodeprint

# Fuzz every parser for FUZZ_SECONDS each (default 30); new crashes land in tests/fuzz/regress/<target>/.
fuzz: deps-test
	@$(MAKE) --no-print-directory fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj $(B)/tests -name '*.d' 2>/dev/null)

# keep intermediate objects of pattern chains (fuzz objects)
.SECONDARY:
