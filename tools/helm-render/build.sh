#!/bin/bash
# build.sh - build tools/helm-render offline from Debian 12's Go packages and print the binary's path.
#
#   tools/helm-render/build.sh      build when the sources changed, print .cache/helm-render/helm-render
#
# Debian packages (scripts/deps.sh test list): golang-go (1.19), golang-github-masterminds-sprig-dev
# (sprig 3.2.3, the function library of Helm's engine) and golang-github-ghodss-yaml-dev (the YAML
# library sigs.k8s.io/yaml - Helm's - was forked from). GOPATH mode over /usr/share/gocode
# (GO111MODULE=off, GOPROXY=off): nothing is downloaded. The binary and the
# Go build cache live in $NP_HELM_CACHE (default .cache/helm-render, git-ignored); the binary is rebuilt
# only when main.go or this script is newer. At most 2 cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
C=${NP_HELM_CACHE:-$ROOT/.cache/helm-render}
mkdir -p "$C"
C=$(cd "$C" && pwd)
BIN=$C/helm-render
exec 9>"$C/lock"
flock 9
if [ -x "$BIN" ] && [ "$BIN" -nt "$HERE/main.go" ] && [ "$BIN" -nt "$HERE/build.sh" ]; then
	echo "$BIN"
	exit 0
fi
for d in /usr/share/gocode/src/github.com/Masterminds/sprig /usr/share/gocode/src/github.com/ghodss/yaml; do
	if [ ! -d "$d" ]; then
		echo "helm-render: $d missing; run scripts/deps.sh test" >&2
		exit 1
	fi
done
command -v go >/dev/null || { echo "helm-render: go missing; run scripts/deps.sh test" >&2; exit 1; }
t0=$(date +%s%N)
cd "$HERE"
env GO111MODULE=off GOPROXY=off GOPATH=/usr/share/gocode GOCACHE="$C/gocache" GOMAXPROCS=2 \
	CGO_ENABLED=0 go build -p 2 -trimpath -o "$BIN.tmp" .
mv "$BIN.tmp" "$BIN"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "helm-render: built $BIN in ${ms} ms ($(go version | cut -d' ' -f3))" >&2
echo "$BIN"
