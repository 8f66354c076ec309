#!/bin/bash
# build-image.sh - build nodeprint's OCI image without a Docker engine or a registry (`make image`).
#
#   docker/build-image.sh BINARY [OUTDIR]
#
# The same image as docker/Dockerfile, made from Debian 12 tools: debootstrap (minbase) lays a
# bookworm root with only the runtime libraries (cached under .cache/image/, keyed by the package
# list), the PCI-only udev hwdb is compiled with the udev package's own systemd-hwdb, the stripped
# BINARY goes to /usr/bin/nodeprint, and umoci writes an OCI image layout (two layers: runtime root,
# binary) with the Dockerfile's Entrypoint/Cmd/labels. Output in OUTDIR (default build/image):
#   nodeprint-oci/                  OCI image layout, tag = version (pkg/shared/version.h)
#   nodeprint-<version>.oci.tar     the same layout as one archive (skopeo/podman "oci-archive:")
# Needs root (debootstrap, chroot, mount). Env: NP_IMAGE_MIRROR (Debian mirror), NP_IMAGE_CACHE
# (default .cache/image), NP_IMAGE_MAX_AGE_DAYS (rebuild a cached root older than that, default 7).
set -euo pipefail

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "build-image: [$(( $(date +%s) - T0 ))s] $*" >&2; }
T0=$(date +%s)

[ $# -ge 1 ] || die "usage: $0 BINARY [OUTDIR]"
BIN=$(readlink -f "$1")
OUT=$(readlink -m "${2:-$(dirname "$0")/../build/image}")
CACHE=$(readlink -m "${NP_IMAGE_CACHE:-$(dirname "$0")/../.cache/image}")
cd "$(dirname "$0")/.."
MIRROR=${NP_IMAGE_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

[ -x "$BIN" ] || die "$BIN: not an executable (run make first)"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot); run as root or with sudo"
for t in debootstrap umoci tar chroot; do
	command -v "$t" >/dev/null || die "$t missing (scripts/deps.sh image installs it)"
done

VERSION=$(sed -n 's/^#define NODEPRINT_VERSION "\(.*\)"$/\1/p' pkg/shared/version.h)
[ -n "$VERSION" ] || die "no NODEPRINT_VERSION in pkg/shared/version.h"
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || REVISION=$REVISION-dirty
# org.opencontainers.image.source: NP_IMAGE_SOURCE, else the git remote "origin", else "unknown"
SOURCE=${NP_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo unknown)}

# Keep in step with docker/Dockerfile's runtime stage.
RUNTIME_PKGS="libcurl4 libjansson4 libnvme1 libudev1 libyaml-0-2 libnettle8 libdevmapper1.02.1 libmicrohttpd12"
# The hwdb sources PCI names come from (udev ships them; its postinst compiles hwdb.bin)
HWDB_SRC="20-pci-vendor-model.hwdb 20-pci-classes.hwdb"

# --- 1. runtime root filesystem (cached) ---------------------------------------------------------
# The key covers everything that shapes the root: packages, suite, mirror and this script's recipe.
RECIPE_REV=1
KEY=$(printf '%s\n' "$RECIPE_REV" "$SUITE" "$MIRROR" "$RUNTIME_PKGS" "$HWDB_SRC" | sha256sum | cut -c1-16)
ROOTFS_TAR=$CACHE/rootfs-$SUITE-$KEY.tar
LAYOUT=$OUT/nodeprint-oci
ARCHIVE=$OUT/nodeprint-$VERSION.oci.tar
mkdir -p "$CACHE" "$OUT"
# a failed build leaves no image behind (tests must never check a stale one)
rm -rf "$LAYOUT" "$ARCHIVE"

# all scratch work in memory: dpkg's fsync per file and umoci's unpack cost minutes on a shared
# disk and nothing on tmpfs (the root is ~100 MiB)
work=$(mktemp -d "$OUT/.work.XXXXXX")
cleanup() {
	umount -l "$work/rootfs/proc" 2>/dev/null || true
	umount -l "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=2g,mode=0700 nodeprint-image "$work"

make_rootfs() {
	local r=$work/rootfs
	mkdir -m 0755 "$r"
	log "debootstrap --variant=minbase $SUITE from $MIRROR (cold; cached afterwards)"
	# the .debs are cached too, so a changed package list does not download the base again
	mkdir -p "$CACHE/debs"
	debootstrap --variant=minbase --cache-dir="$CACHE/debs" \
		--include="$(echo "$RUNTIME_PKGS" | tr ' ' ',')" "$SUITE" "$r" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
		{ tail -30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

	# point releases and security fixes, as debian:bookworm-slim carries them
	local sec=${MIRROR%/debian}/debian-security
	cat >"$r/etc/apt/sources.list" <<-SRC
	deb $MIRROR $SUITE main
	deb $MIRROR $SUITE-updates main
	deb $sec $SUITE-security main
	SRC
	mount -t proc proc "$r/proc"
	log "debootstrap done; apt-get upgrade (bookworm-updates, bookworm-security)"
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		sh -c 'apt-get update -q && apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade &&
			apt-get download udev' >"$work/apt.log" 2>&1 ||
		{ tail -30 "$work/apt.log" >&2; die "apt-get in the image root failed (log above)"; }
	umount "$r/proc"

	# PCI names: compile only the PCI databases into /usr/lib/udev/hwdb.bin (where libudev's
	# udev_hwdb_new() looks) with the udev package's own static systemd-hwdb, then drop the package
	local hw=$work/hwdb
	mkdir -p "$hw/udev"
	dpkg-deb -x "$r"/udev_*.deb "$hw/udev"
	mkdir -p "$hw/root/lib/udev/hwdb.d"
	for f in $HWDB_SRC; do cp "$hw/udev/lib/udev/hwdb.d/$f" "$hw/root/lib/udev/hwdb.d/"; done
	"$hw/udev/bin/systemd-hwdb" --root="$hw/root" --usr update
	install -D -m 0644 "$hw/root/lib/udev/hwdb.bin" "$r/usr/lib/udev/hwdb.bin"
	rm -f "$r"/udev_*.deb

	# slim: what debian:bookworm-slim leaves out, and no package caches, logs or host files
	cat >"$r/etc/dpkg/dpkg.cfg.d/nodeprint-slim" <<-CFG
	path-exclude /usr/share/doc/*
	path-include /usr/share/doc/*/copyright
	path-exclude /usr/share/man/*
	path-exclude /usr/share/info/*
	path-exclude /usr/share/locale/*
	path-exclude /usr/share/lintian/*
	CFG
	find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "${r:?}"/usr/share/man/* "${r:?}"/usr/share/info/* "${r:?}"/usr/share/locale/* "${r:?}"/usr/share/lintian/* \
		"${r:?}"/var/lib/apt/lists/* "${r:?}"/var/cache/apt/* "${r:?}"/var/cache/debconf/*-old \
		"${r:?}"/var/lib/dpkg/*-old "${r:?}"/var/log/* "${r:?}"/tmp/* "${r:?}"/var/tmp/* "${r:?}"/dev/* "${r:?}"/run/*
	: >"$r/etc/resolv.conf"
	: >"$r/etc/hostname"
	rm -f "$r/etc/machine-id"

	rm -f "$CACHE"/rootfs-*.tar   # roots of other keys: superseded
	tar -C "$r" --numeric-owner --xattrs -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
	rm -rf "$r"
	log "runtime root cached: $ROOTFS_TAR ($(du -k "$ROOTFS_TAR" | cut -f1) KiB)"
}

t0=$(date +%s)
# a week-old root is rebuilt, so the image picks up security updates
MAX_AGE_DAYS=${NP_IMAGE_MAX_AGE_DAYS:-7}
if [ -f "$ROOTFS_TAR" ] && [ -n "$(find "$ROOTFS_TAR" -mtime +"$MAX_AGE_DAYS")" ]; then
	log "runtime root older than $MAX_AGE_DAYS days: rebuilding"
	rm -f "$ROOTFS_TAR"
fi
if [ -f "$ROOTFS_TAR" ]; then
	log "runtime root: cached $ROOTFS_TAR"
else
	make_rootfs
fi

# --- 2. OCI image with umoci ---------------------------------------------------------------------
IMG=$LAYOUT:$VERSION
umoci init --layout "$LAYOUT"
umoci new --image "$IMG"
umoci unpack --image "$IMG" "$work/bundle" >/dev/null
tar -C "$work/bundle/rootfs" --numeric-owner --xattrs -xpf "$ROOTFS_TAR"
umoci repack --image "$IMG" --history.author nodeprint \
	--history.created_by "debootstrap --variant=minbase $SUITE; runtime: $RUNTIME_PKGS; PCI hwdb" \
	"$work/bundle"

# the binary as the Dockerfile installs it: install -s (stripped), root:root 0755
install -D -s -m 0755 -o root -g root "$BIN" "$work/bin/nodeprint"
umoci insert --image "$IMG" --history.author nodeprint \
	--history.created_by "install -s build/nodeprint /usr/bin/nodeprint" \
	"$work/bin/nodeprint" /usr/bin/nodeprint
# the licence travels with the binary (Apache-2.0 section 4(a)), where the Dockerfile copies it
install -D -m 0644 -o root -g root LICENSE "$work/doc/LICENSE"
umoci insert --image "$IMG" --history.author nodeprint \
	--history.created_by "COPY LICENSE /usr/share/doc/nodeprint/LICENSE" \
	"$work/doc/LICENSE" /usr/share/doc/nodeprint/LICENSE

# the runtime configuration, identical to docker/Dockerfile's (and to manifests/daemonset.yaml's
# expectations: image nodeprint:$VERSION, args start with "run")
umoci config --image "$IMG" --author nodeprint --os linux --architecture amd64 \
	--config.entrypoint /usr/bin/nodeprint --config.cmd run --config.workingdir / \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.label org.opencontainers.image.title=nodeprint \
	--config.label "org.opencontainers.image.description=Kubernetes node agent: driver-layer inventory, fingerprint and health" \
	--config.label org.opencontainers.image.version="$VERSION" \
	--config.label org.opencontainers.image.revision="$REVISION" \
	--config.label org.opencontainers.image.base.name=docker.io/library/debian:bookworm-slim \
	--config.label org.opencontainers.image.source="$SOURCE" \
	--config.label org.opencontainers.image.licenses=Apache-2.0 \
	--manifest.annotation org.opencontainers.image.version="$VERSION" \
	--manifest.annotation org.opencontainers.image.revision="$REVISION" \
	--manifest.annotation org.opencontainers.image.source="$SOURCE" \
	--manifest.annotation org.opencontainers.image.licenses=Apache-2.0 \
	--history.author nodeprint --history.created_by 'ENTRYPOINT ["/usr/bin/nodeprint"] CMD ["run"]'
umoci gc --layout "$LAYOUT"

# one archive (the layout's files at its top, as oci-archive: expects)
tar -C "$LAYOUT" --numeric-owner --owner=0 --group=0 -cf "$ARCHIVE.tmp" oci-layout index.json blobs
mv "$ARCHIVE.tmp" "$ARCHIVE"

size=$(du -sb "$LAYOUT/blobs" | cut -f1)
log "done in $(( $(date +%s) - t0 ))s: $LAYOUT (tag $VERSION), $ARCHIVE," \
	"compressed layers $((size / 1024)) KiB"
