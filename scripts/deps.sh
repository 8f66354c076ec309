#!/bin/sh
# deps.sh - install the Debian packages nodeprint needs, only those missing.
# Idempotent; safe to run on every build. Usage: scripts/deps.sh [build|image|dockerfile|test|bench|all]
#   build: compiler and libraries for `make`        test: build + everything `make check` uses
#   image: build + what `make image` uses (debootstrap, umoci)    dockerfile: buildah (make image-dockerfile)
#   bench: build + the anchors `make bench` measures against (docs/performance.md)
set -eu
what=${1:-build}

BUILD="gcc make pkg-config libcurl4-openssl-dev libjansson-dev libnvme-dev libudev-dev libyaml-dev
nettle-dev libdevmapper-dev libmicrohttpd-dev"
# fio: `nodeprint baseline` (tests/e2e/test_baseline.py, the node-in-a-box)
# golang-go: only to fetch the Go toolchain module tests/cluster/build.sh builds the test world with
# (Kubernetes, etcd, Helm from the Go module proxy; Debian 12's Go is too old); python3-yaml and
# python3-jsonschema: tests/helm (YAML documents, ../shared/k8s strict schemas)
TEST="libcmocka-dev clang libclang-rt-14-dev python3 python3-yaml python3-jsonschema iproute2 util-linux kmod pciutils ethtool
qemu-system-x86 qemu-utils busybox-static cpio nvme-cli dmsetup xz-utils
ca-certificates openssl sysstat curl prometheus fio
golang-go"
# tests/node: Debian's runc runs the image when the test world's is not built; the CNI plugins
# (loopback) make the kubelet's Node Ready; libseccomp-dev: the test world's runc with seccomp
TEST="$TEST runc containernetworking-plugins libseccomp-dev"
# make image: a bookworm root without Docker (debootstrap) and the OCI layout (umoci)
IMAGE="debootstrap umoci"
# make bench: a node_exporter to scrape, strace for the large tree's floor list, the playbook's tools
BENCH="prometheus-node-exporter strace iproute2 util-linux kmod pciutils ethtool sysstat"

case $what in
build) want=$BUILD ;;
image) want="$BUILD $IMAGE" ;;
dockerfile) want="buildah" ;;
bench) want="$BUILD $BENCH" ;;
test | all)
	# kubectl and helm are built at pinned versions by tests/cluster/build.sh (Debian 12's
	# kubernetes-client is 1.20: no --validate=strict, no `kubectl events`)
	want="$BUILD $TEST $IMAGE" ;;
*) echo "usage: $0 [build|image|dockerfile|test|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
