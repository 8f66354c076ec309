#!/bin/bash
# build.sh - build the test world's real Kubernetes components from the Go module proxy, once per
# version, into a cache; print the bin folder. Test-only: the product stays C on Debian's libraries.
#
#   tests/cluster/build.sh [COMPONENT...]   build what is missing, print the bin folder on stdout
#   COMPONENT: kube (kube-apiserver, kube-scheduler, kube-controller-manager, kubelet, kubectl),
#              etcd, helm; runtime (containerd, containerd-shim-runc-v2, ctr, runc, crictl, and the
#              pod sandbox's pause from Kubernetes' own pause.c: tests/node); faultproxy
#              (tests/cluster/faultproxy, the tests' fault-injecting proxy); default: kube etcd helm
#
# Pinned versions (docs/test-cluster.md): Kubernetes v1.37.2, etcd v3.7.3, Helm v4.3.2, containerd
# v2.4.2, runc v1.5.3, crictl v1.37.0.
# Cache: $NP_K8S_CACHE (default <repo>/.cache/k8s, git-ignored), binaries in bin/, each with a
# .NAME.version stamp, so a version change rebuilds just that binary. Go: `go` when it is 1.26 or newer, else the Go
# toolchain module fetched with the machine's own (older) go and its own GOPROXY settings.
# Builds use at most 2 jobs and print their times on stderr. No network: a clear error, no hang.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
C=$(readlink -m "${NP_K8S_CACHE:-$ROOT/.cache/k8s}")

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
HELM_VERSION=v4.3.2
CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.3
CRICTL_VERSION=v1.37.0
GO_VERSION=1.26.8
GO_MIN_MINOR=26
# a download that has not finished in this long is the network, not the build
FETCH_TIMEOUT=${NP_K8S_FETCH_TIMEOUT:-900}

log() { echo "cluster/build: $*" >&2; }
die() { log "error: $*"; exit 1; }

BIN=$C/bin
mkdir -p "$C" "$BIN"
exec 9>"$C/.lock"
flock 9

# --- Go ------------------------------------------------------------------------------------------
go_ok() { # $1 = go binary; true when its minor version >= GO_MIN_MINOR
	local v
	v=$("$1" env GOVERSION 2>/dev/null) || return 1
	v=${v#go1.}
	[ "${v%%.*}" -ge "$GO_MIN_MINOR" ] 2>/dev/null
}

find_go() {
	local g
	for g in "${NP_GO:-}" "$(command -v go || true)" /usr/local/go/bin/go "$C/go/bin/go"; do
		[ -n "$g" ] && [ -x "$g" ] && go_ok "$g" && { echo "$g"; return 0; }
	done
	return 1
}

bootstrap_go() { # the Go distribution is itself a module: fetch it with the older go
	local old arch mod dir
	old=$(command -v go || true)
	[ -z "$old" ] && [ -x /usr/lib/go/bin/go ] && old=/usr/lib/go/bin/go
	[ -n "$old" ] || die "no Go at all: install Debian's golang-go (scripts/deps.sh test does)"
	case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) die "unsupported arch $(uname -m)" ;; esac
	mod=golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch
	log "Go $GO_VERSION: fetching the toolchain module $mod with $($old version)"
	local t0=$SECONDS
	GOMODCACHE=$C/gomod-toolchain GOFLAGS=-mod=mod GOTOOLCHAIN=local \
		timeout "$FETCH_TIMEOUT" "$old" mod download -json "$mod" >"$C/toolchain.json" 2>&1 ||
		die "cannot fetch $mod from the Go module proxy ($($old env GOPROXY)): $(tail -c 300 "$C/toolchain.json")"
	dir=$C/gomod-toolchain/$mod
	chmod -R u+w "$C/gomod-toolchain"
	rm -rf "$C/go"
	cp -a "$dir" "$C/go"
	chmod +x "$C"/go/bin/* "$C"/go/pkg/tool/*/* 2>/dev/null || true
	go_ok "$C/go/bin/go" || die "the fetched toolchain does not run: $C/go/bin/go"
	log "Go $GO_VERSION ready in $((SECONDS - t0)) s"
}

GO=$(find_go) || { bootstrap_go; GO=$C/go/bin/go; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=${CGO_ENABLED:-0}
export GOPATH=${GOPATH:-$HOME/go}

# a module proxy that answers: checked once, quickly, so a machine without network fails clearly
check_proxy() {
	local d
	d=$(mktemp -d)
	if ! (cd "$d" && printf 'module probe\n\ngo 1.26\n' >go.mod &&
		timeout 60 "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" >"$d/out" 2>&1); then
		local why
		why=$(tail -c 300 "$d/out")
		rm -rf "$d"
		die "the Go module proxy ($("$GO" env GOPROXY)) did not give k8s.io/kubernetes@$K8S_VERSION within 60 s: $why"
	fi
	rm -rf "$d"
}

# $1 = binary, $2 = version: true when bin/ holds that binary built at that version
have() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
installed() { mv "$BIN/$1.tmp" "$BIN/$1" && echo "$2" >"$BIN/.$1.version"; }

# $1 = name, $2 = module dir; rest = go build arguments
gobuild() {
	local name=$1 dir=$2 t0=$SECONDS
	shift 2
	log "building $name"
	(cd "$dir" && timeout 3600 "$GO" build -p 2 -trimpath "$@") >"$C/build-$name.log" 2>&1 ||
		die "building $name failed: $(tail -c 1500 "$C/build-$name.log")"
	log "built $name in $((SECONDS - t0)) s"
}

# --- Kubernetes: one module that requires k8s.io/kubernetes and replaces its staging modules -----
build_kube() {
	local want=(kube-apiserver kube-scheduler kube-controller-manager kubelet kubectl) missing=0 b
	for b in "${want[@]}"; do have "$b" "$K8S_VERSION" || missing=1; done
	[ $missing = 0 ] && return 0
	check_proxy
	local src=$C/src/kubernetes-$K8S_VERSION
	mkdir -p "$src"
	if [ ! -f "$src/go.sum" ]; then
		local t0=$SECONDS modfile minor
		(cd "$src" && printf 'module nodeprint.test/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n' \
			"$K8S_VERSION" >go.mod &&
			timeout "$FETCH_TIMEOUT" "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" >dl.json) ||
			die "cannot download k8s.io/kubernetes@$K8S_VERSION"
		modfile=$(sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p' "$src/dl.json")
		minor=${K8S_VERSION#v1.}
		minor=${minor%%.*}
		# the published go.mod lists the staging modules at v0.0.0: pin each to v0.<minor>.<patch>
		{
			echo
			echo 'replace ('
			grep -E '^\s+k8s.io/[a-z0-9-]+ v0\.0\.0$' "$modfile" | awk '{print $1}' | sort -u |
				while read -r m; do printf '\t%s => %s v0.%s.%s\n' "$m" "$m" "$minor" "${K8S_VERSION##*.}"; done
			echo ')'
		} >>"$src/go.mod"
		cat >"$src/tools.go" <<-'EOF'
			//go:build tools

			package tools

			import (
				_ "k8s.io/kubernetes/cmd/kube-apiserver"
				_ "k8s.io/kubernetes/cmd/kube-controller-manager"
				_ "k8s.io/kubernetes/cmd/kube-scheduler"
				_ "k8s.io/kubernetes/cmd/kubectl"
				_ "k8s.io/kubernetes/cmd/kubelet"
			)
		EOF
		(cd "$src" && timeout "$FETCH_TIMEOUT" "$GO" mod tidy) >"$C/tidy.log" 2>&1 ||
			die "go mod tidy for Kubernetes $K8S_VERSION failed (a module refused?): $(grep -m3 -E 'refused|Forbidden|not available|error' "$C/tidy.log")"
		log "Kubernetes $K8S_VERSION modules resolved in $((SECONDS - t0)) s"
	fi
	local v=${K8S_VERSION#v} ld
	ld="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=${v%%.*} -X $p.gitMinor=$(echo "$v" | cut -d. -f2)"
		ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	for b in "${want[@]}"; do
		have "$b" "$K8S_VERSION" && continue
		gobuild "$b" "$src" -ldflags "$ld" -o "$BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b"
		installed "$b" "$K8S_VERSION"
	done
}

# a whole module's command at a version: $1 = binary name, $2 = module@version, $3 = package path,
# $4 = extra -ldflags, $5 = build tags
build_module_cmd() {
	local name=$1 modver=$2 pkg=$3 ld=${4:-} tags=${5:-} src=$C/src/$1-${2#*@} stamp=$2
	[ -n "${5:-}" ] && stamp="$stamp tags=$5"
	have "$name" "$stamp" && return 0
	check_proxy
	mkdir -p "$src"
	if [ ! -f "$src/go.sum" ]; then
		(cd "$src" && printf 'module nodeprint.test/%s\n\ngo 1.26.0\n' "$name" >go.mod &&
			printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go &&
			timeout "$FETCH_TIMEOUT" "$GO" get "$modver" >get.log 2>&1 &&
			timeout "$FETCH_TIMEOUT" "$GO" mod tidy >>get.log 2>&1) ||
			die "cannot resolve $modver: $(tail -c 400 "$src/get.log")"
	fi
	gobuild "$name" "$src" -tags "$tags" -ldflags "-s -w $ld" -o "$BIN/$name.tmp" "$pkg"
	installed "$name" "$stamp"
}

build_etcd() {
	build_module_cmd etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3
}

build_helm() {
	build_module_cmd helm "helm.sh/helm/v4@$HELM_VERSION" helm.sh/helm/v4/cmd/helm \
		"-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
}

# --- a container runtime for the kubelet: containerd + its runc shim, runc, crictl ---------------
build_runtime() {
	local ctr=github.com/containerd/containerd/v2
	# no_btrfs: Debian's libbtrfs headers are not needed (btrfs snapshotter left out)
	build_module_cmd containerd "$ctr@$CONTAINERD_VERSION" $ctr/cmd/containerd \
		"-X $ctr/version.Version=$CONTAINERD_VERSION" no_btrfs
	build_module_cmd containerd-shim-runc-v2 "$ctr@$CONTAINERD_VERSION" $ctr/cmd/containerd-shim-runc-v2 \
		"-X $ctr/version.Version=$CONTAINERD_VERSION" no_btrfs
	build_module_cmd ctr "$ctr@$CONTAINERD_VERSION" $ctr/cmd/ctr "-X $ctr/version.Version=$CONTAINERD_VERSION" no_btrfs
	# runc's nsexec is C: cgo on; seccomp (libseccomp-dev): containerd gives a non-privileged pod's
	# sandbox the RuntimeDefault profile, which a runc without it refuses
	CGO_ENABLED=1 build_module_cmd runc "github.com/opencontainers/runc@$RUNC_VERSION" github.com/opencontainers/runc \
		"-X main.version=${RUNC_VERSION#v}" seccomp
	build_module_cmd crictl "sigs.k8s.io/cri-tools@$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
		"-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
	# the sandbox process (no registry to pull registry.k8s.io/pause from): Kubernetes' pause.c, static
	if ! have pause "$K8S_VERSION"; then
		local src
		src=$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
		gcc -Os -static -DVERSION="$K8S_VERSION" -o "$BIN/pause.tmp" "$src/build/pause/linux/pause.c" ||
			die "cannot compile pause.c (gcc, libc6-dev)"
		installed pause "$K8S_VERSION"
	fi
}

# the fault proxy: our own source, standard library only (no download); rebuilt when its source changes
build_faultproxy() {
	local src=$HERE/faultproxy stamp
	stamp=$(cat "$src"/go.mod "$src"/*.go | sha256sum | cut -c1-16)
	have faultproxy "$stamp" && return 0
	gobuild faultproxy "$src" -ldflags "-s -w" -o "$BIN/faultproxy.tmp" .
	installed faultproxy "$stamp"
}

what=("$@")
[ ${#what[@]} -eq 0 ] && what=(kube etcd helm)
for w in "${what[@]}"; do
	case $w in
	kube) build_kube ;;
	etcd) build_etcd ;;
	helm) build_helm ;;
	runtime) build_runtime ;;
	faultproxy) build_faultproxy ;;
	*) die "unknown component '$w' (kube, etcd, helm, runtime, faultproxy)" ;;
	esac
done
echo "$BIN"
