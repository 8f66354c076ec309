#!/bin/bash
# build-server.sh - build the test Kubernetes API server (tests/kube/server) from Debian sid packages,
# without installing anything on the host.
#
#   tests/kube/build-server.sh            build (or rebuild) and print the binary's path on stdout
#
# Packages: tests/kube/sid-packages.txt (name=version). They are taken from a cache folder when one
# is present and every file matches its SHA256SUMS line: $NODEPRINT_DEB_CACHE, else ../shared/deb-cache/sid
# beside the clone. Otherwise they are downloaded by name from sid with a private apt configuration
# (own sources list, lists dir and cache; the host's apt setup is not touched). They are unpacked with
# dpkg-deb -x into $NP_KUBE_CACHE/root (default .cache/kube, git-ignored); Go 1.27 comes from there too.
# The Go build cache ($NP_KUBE_CACHE/gocache) persists between runs; the build is offline
# (GOPATH layout over the unpacked /usr/share/gocode, GO111MODULE=off, GOPROXY=off).
# Progress and timings go to stderr. Uses at most 2 cores (GOMAXPROCS=2, go build -p 2).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
C=${NP_KUBE_CACHE:-$ROOT/.cache/kube}
PKGLIST=$HERE/sid-packages.txt
BIN=$C/bin/np-kube-apiserver
mkdir -p "$C"
C=$(cd "$C" && pwd)
log() { echo "build-server: $*" >&2; }
now() { date +%s%N; }
secs() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

exec 9>"$C/lock"
flock 9

t_all=$(now)
mapfile -t PINNED < <(grep -v '^#' "$PKGLIST" | sed '/^$/d')
NAMES=("${PINNED[@]%%=*}")

# ---- 1. the .deb files: verified cache, else download by name ----
DEBS=()
cache_dir=""
for d in "${NODEPRINT_DEB_CACHE:-}" "$ROOT/../shared/deb-cache/sid"; do
	if [ -n "$d" ] && [ -f "$d/SHA256SUMS" ]; then cache_dir=$(cd "$d" && pwd); break; fi
done
from_cache() {
	local n f h
	local -A sums=()
	while read -r h f; do sums[$f]=$h; done <"$cache_dir/SHA256SUMS"
	DEBS=()
	for n in "${NAMES[@]}"; do
		f=$(compgen -G "$cache_dir/${n}_*.deb" | head -1) || true
		f=${f##*/}
		if [ -z "$f" ]; then log "cache $cache_dir: no ${n}_*.deb"; return 1; fi
		if [ -z "${sums[$f]:-}" ]; then log "cache: $f not listed in SHA256SUMS"; return 1; fi
		DEBS+=("$cache_dir/$f")
		echo "${sums[$f]}  $f"
	done >"$C/cache-sums.txt"
	# files already verified (same sums, names, sizes, mtimes) are not hashed again
	local seen
	seen=$( (cat "$C/cache-sums.txt"; cd "$cache_dir" && stat -c '%n %s %Y' "${DEBS[@]##*/}") | sha256sum)
	[ "$(cat "$C/cache-verified" 2>/dev/null)" = "$seen" ] && return 0
	if ! (cd "$cache_dir" && sha256sum --quiet -c "$C/cache-sums.txt" >&2); then
		log "cache $cache_dir: SHA256SUMS mismatch"
		return 1
	fi
	echo "$seen" >"$C/cache-verified"
}
download() {
	local A=$C/apt
	mkdir -p "$A/lists/partial" "$A/archives/partial" "$C/debs"
	echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' >"$A/sources.list"
	local O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A" -o Dir::Etc::Preferences=/dev/null
		-o Dir::Etc::PreferencesParts=/dev/null -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	log "downloading ${#NAMES[@]} packages from sid (private apt config in $A)"
	apt-get "${O[@]}" -qq update >&2
	# exact versions first; sid moves on, so fall back to the current version of each name
	if ! (cd "$C/debs" && apt-get "${O[@]}" -qq download "${PINNED[@]}" >&2); then
		log "pinned versions not all available any more; downloading the current ones by name"
		(cd "$C/debs" && apt-get "${O[@]}" -qq download "${NAMES[@]}" >&2)
	fi
	local n f
	DEBS=()
	for n in "${NAMES[@]}"; do
		f=$(ls -1t "$C/debs/${n}"_*.deb | head -1)
		DEBS+=("$f")
	done
}
t=$(now)
if [ -n "$cache_dir" ] && from_cache; then
	log "packages: ${#DEBS[@]} .deb from $cache_dir, verified against SHA256SUMS ($(secs "$t") s)"
else
	download
	log "packages: ${#DEBS[@]} .deb downloaded into $C/debs ($(secs "$t") s)"
fi

# ---- 2. unpack into a private root (redone only when the set of .debs changes) ----
stamp=$(for f in "${DEBS[@]}"; do basename "$f"; done | sort | sha256sum | cut -c1-16)
R=$C/root
if [ "$(cat "$R/.stamp" 2>/dev/null)" != "$stamp" ]; then
	t=$(now)
	rm -rf "$R" "$C/ws"
	mkdir -p "$R"
	for f in "${DEBS[@]}"; do dpkg-deb -x "$f" "$R"; done
	echo "$stamp" >"$R/.stamp"
	log "unpacked into $R ($(secs "$t") s, $(du -sh "$R" | cut -f1))"
fi

# ---- 3. offline Go build in a GOPATH layout ----
export GOROOT=$R/usr/lib/go-1.27 GO111MODULE=off GOPATH=$R/usr/share/gocode:$C/ws GOPROXY=off \
	GOFLAGS= GOCACHE=$C/gocache CGO_ENABLED=0 GOTOOLCHAIN=local GOMAXPROCS=2 GOTELEMETRY=off
export PATH=$GOROOT/bin:$PATH
[ -x "$GOROOT/bin/go" ] || { log "no go binary in $GOROOT"; exit 1; }
W=$C/ws/src/npkubeserver
mkdir -p "$W" "$C/bin"
# sources are copied (not linked): GOPATH mode resolves the package from the real path
find "$W" -mindepth 1 -maxdepth 1 ! -name openapi -exec rm -rf {} +
cp -a "$HERE/server/." "$W/"

# OpenAPI definitions (mandatory for the server) generated by openapi-gen, once per package set
GEN=$W/openapi/zz_generated.openapi.go
ostamp="$stamp $(sha256sum <"$HERE/server/openapi-packages.txt" | cut -c1-16)"
if [ "$(cat "$C/openapi.stamp" 2>/dev/null)" != "$ostamp" ] || [ ! -f "$GEN" ]; then
	t=$(now)
	go build -p 2 -o "$C/bin/openapi-gen" k8s.io/kube-openapi/cmd/openapi-gen
	PK=$(cat "$HERE/server/openapi-packages.txt")
	RO=()
	for p in $PK; do RO+=(--readonly-pkg "$p"); done
	mkdir -p "$W/openapi"
	(cd "$W" && "$C/bin/openapi-gen" --go-header-file /dev/null --output-dir "$W/openapi" \
		--output-pkg npkubeserver/openapi --output-file zz_generated.openapi.go \
		--report-filename "$C/openapi-violations.txt" "${RO[@]}" $PK) >&2
	echo "$ostamp" >"$C/openapi.stamp"
	log "openapi-gen ($(secs "$t") s)"
fi

# rebuilt only when the sources or the package set changed
src=$( (echo "$stamp"; cd "$HERE" && find server build-server.sh -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
if [ -x "$BIN" ] && [ "$(cat "$BIN.stamp" 2>/dev/null)" = "$src" ]; then
	log "up to date ($(secs "$t_all") s)"
	echo "$BIN"
	exit 0
fi
t=$(now)
V=v1.36.4-nodeprint-test
(cd "$W" && go build -p 2 -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$V \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
	-o "$BIN.tmp" .) >&2
mv "$BIN.tmp" "$BIN"
echo "$src" >"$BIN.stamp"
log "go build ($(secs "$t") s); total $(secs "$t_all") s; binary $(du -h "$BIN" | cut -f1)"
echo "$BIN"
