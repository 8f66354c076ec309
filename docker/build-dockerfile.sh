#!/bin/bash
# build-dockerfile.sh - build docker/Dockerfile itself with buildah, offline (`make image-dockerfile`).
#
# Proves the Dockerfile on a machine with no Docker engine and no registry: buildah (Debian 12) runs
# it with chroot isolation. Its FROM images cannot be pulled here, so when the store has no
# debian:bookworm / debian:bookworm-slim, stand-ins are committed from `make image`'s cached bookworm
# root (labelled org.nodeprint.stand-in=true; a real image already in the store is used as is).
# Output: build/image-dockerfile/nodeprint-oci (OCI layout) and nodeprint-<version>.oci.tar,
# which tests/image/test_image.py checks with NP_IMAGE_OUT=build/image-dockerfile.
set -euo pipefail

die() { echo "build-dockerfile: $*" >&2; exit 1; }
cd "$(dirname "$0")/.."
OUT=${1:-build/image-dockerfile}
export BUILDAH_ISOLATION=chroot
[ "$(id -u)" = 0 ] || die "needs root"
command -v buildah >/dev/null || die "buildah missing (scripts/deps.sh dockerfile)"
VERSION=$(sed -n 's/^#define NODEPRINT_VERSION "\(.*\)"$/\1/p' pkg/shared/version.h)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)

for ref in docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim; do
	buildah inspect --type image "$ref" >/dev/null 2>&1 && continue
	root=$(find .cache/image -maxdepth 1 -name 'rootfs-bookworm-*.tar' 2>/dev/null | head -1)
	[ -n "$root" ] || die "no $ref in the store and no cached root: run make image first"
	echo "build-dockerfile: stand-in $ref from $root" >&2
	c=$(buildah from scratch)
	m=$(buildah mount "$c")
	tar -C "$m" --numeric-owner -xpf "$root"
	buildah umount "$c" >/dev/null
	buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash \
		--label org.nodeprint.stand-in=true "$c"
	buildah commit -q "$c" "$ref" >/dev/null
	buildah rm "$c" >/dev/null
done

buildah bud --pull=never --isolation chroot --ignorefile docker/Dockerfile.dockerignore \
	-f docker/Dockerfile --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
	--build-arg SOURCE="${NP_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo unknown)}" \
	-t "localhost/nodeprint:$VERSION" .
rm -rf "$OUT"
mkdir -p "$OUT"
buildah push -q "localhost/nodeprint:$VERSION" "oci:$OUT/nodeprint-oci:$VERSION"
buildah push -q "localhost/nodeprint:$VERSION" "oci-archive:$OUT/nodeprint-$VERSION.oci.tar:$VERSION"
echo "build-dockerfile: $OUT/nodeprint-oci (tag $VERSION), $OUT/nodeprint-$VERSION.oci.tar" >&2
