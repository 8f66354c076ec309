#!/usr/bin/env python3
"""The OCI image `make image` built (build/image/), checked as a container runtime would use it.

TAP output. Verifies the OCI layout itself (every blob's sha256 and size), the config against
docker/Dockerfile and manifests/daemonset.yaml, then unpacks the image with umoci into a temporary
root and runs the image's own /usr/bin/nodeprint in it with chroot, in a private mount namespace laid
out as the DaemonSet does: the root read-only, /tmp a tmpfs, the host's /sys, /proc, /dev, /run/udev
and /etc/os-release bind-mounted read-only under /host, `--host-root=/host`. Independent sources:
uname(2), lspci (pci.ids), the image's own dpkg database. Needs root (mount, chroot).
"""
import glob, hashlib, json, os, re, shutil, subprocess, sys, tarfile, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("NP_IMAGE_OUT", os.path.join(ROOT, "build", "image"))
LAYOUT = os.path.join(OUT, "nodeprint-oci")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402


def dlopened():
    """The sonames the binary loads with dlopen(3) on first use, read from pkg/*/*_dl.c (`#define LIBX
    "soname"`); NVML belongs to the GPU host's driver, never to the image."""
    out = []
    for d in sorted(os.listdir(os.path.join(ROOT, "pkg"))):
        for f in sorted(glob.glob(os.path.join(ROOT, "pkg", d, "*_dl.c"))):
            out += [m for m in re.findall(r'^#define LIB\w+ "(lib[^"]+)"', open(f).read(), re.M)
                    if not m.startswith("libnvidia")]
    return out


def version():
    with open(os.path.join(ROOT, "pkg/shared/version.h")) as f:
        return re.search(r'NODEPRINT_VERSION "([^"]+)"', f.read()).group(1)


def blob(digest, size=None):
    """Bytes of a blob, checked against its digest (and size when given)."""
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(LAYOUT, "blobs", algo, hexd), "rb") as f:
        data = f.read()
    if hashlib.new(algo, data).hexdigest() != hexd:
        raise ValueError(f"{digest}: content does not match its digest")
    if size is not None and len(data) != size:
        raise ValueError(f"{digest}: {len(data)} bytes, descriptor says {size}")
    return data


def dockerfile_exec_form(instr):
    """JSON array of the runtime stage's ENTRYPOINT/CMD in docker/Dockerfile (last one wins)."""
    val = None
    with open(os.path.join(ROOT, "docker", "Dockerfile")) as f:
        for line in f:
            m = re.match(rf"^{instr}\s+(\[.*\])\s*$", line)
            if m:
                val = json.loads(m.group(1))
    return val


def check_layout(ver):
    """The layout, its manifest and config; returns the config (or None)."""
    try:
        with open(os.path.join(LAYOUT, "oci-layout")) as f:
            layout_ver = json.load(f).get("imageLayoutVersion")
        with open(os.path.join(LAYOUT, "index.json")) as f:
            index = json.load(f)
    except OSError as e:
        tap(False, "OCI layout exists (make image)",
            f"{e}; `make image` did not build it: see its output (make check: build/image-build.log)")
        return None, None
    tap(layout_ver == "1.0.0", "oci-layout says imageLayoutVersion 1.0.0", layout_ver)
    refs = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m for m in index["manifests"]}
    if not tap(ver in refs, f"index.json tags the image {ver} (the version the DaemonSet pulls)", list(refs)):
        return None, None
    desc = refs[ver]
    try:
        manifest = json.loads(blob(desc["digest"], desc["size"]))
        config = json.loads(blob(manifest["config"]["digest"], manifest["config"]["size"]))
        for layer in manifest["layers"]:
            blob(layer["digest"], layer["size"])
        ok, detail = True, ""
    except (OSError, ValueError, KeyError) as e:
        ok, detail = False, e
    tap(ok, "every blob (manifest, config, layers) matches its sha256 digest and size", detail)
    if not ok:
        return None, None
    # a manifest's own mediaType is optional in image-spec 1.0 (umoci 0.4 leaves it out)
    tap(manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json") ==
        "application/vnd.oci.image.manifest.v1+json" and desc.get("mediaType") ==
        "application/vnd.oci.image.manifest.v1+json" and
        manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json" and
        all(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip" for l in manifest["layers"]) and
        len(manifest["layers"]) >= 1, "OCI media types: manifest, config, gzip layers",
        json.dumps(manifest)[:500])
    tap(len(config["rootfs"]["diff_ids"]) == len(manifest["layers"]), "one diff_id per layer")
    return manifest, config


def check_config(config, ver):
    c = config.get("config", {})
    tap(c.get("Entrypoint") == ["/usr/bin/nodeprint"], "config Entrypoint is [/usr/bin/nodeprint]", c.get("Entrypoint"))
    tap(c.get("Entrypoint") == dockerfile_exec_form("ENTRYPOINT") and c.get("Cmd") == dockerfile_exec_form("CMD"),
        "config Entrypoint/Cmd equal docker/Dockerfile's", f"{c.get('Entrypoint')} {c.get('Cmd')} vs "
        f"{dockerfile_exec_form('ENTRYPOINT')} {dockerfile_exec_form('CMD')}")
    with open(os.path.join(ROOT, "manifests", "daemonset.yaml")) as f:
        ds = f.read()
    m = re.search(r"^\s+image:\s*(\S+)", ds, re.M)
    args = re.search(r"^\s+args:\s*\n\s+-\s*(\S+)", ds, re.M)
    tap(m and m.group(1) == f"nodeprint:{ver}" and args and args.group(1) == c.get("Cmd", [None])[0],
        "manifests/daemonset.yaml pulls nodeprint:<tag> and its args start with the image's Cmd",
        f"{m and m.group(1)} args[0]={args and args.group(1)} Cmd={c.get('Cmd')}")
    tap(config.get("os") == "linux" and config.get("architecture") == "amd64", "os linux, architecture amd64")
    labels = c.get("Labels") or {}
    tap(labels.get("org.opencontainers.image.version") == ver and labels.get("org.opencontainers.image.title") == "nodeprint",
        "OCI labels: title nodeprint, version from pkg/shared/version.h", labels)
    spdx = set()
    for d in ("pkg", "cmd"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for fn in files:
                if fn.endswith((".c", ".h")):
                    with open(os.path.join(dirpath, fn)) as f:
                        m = re.search(r"SPDX-License-Identifier:\s*([\w.+-]+)", f.read(400))
                    if m:
                        spdx.add(m.group(1))
    with open(os.path.join(ROOT, "LICENSE")) as f:
        lic = f.read(300)
    tap(spdx == {labels.get("org.opencontainers.image.licenses")} and "Apache License" in lic and "Version 2.0" in lic,
        "OCI label licenses equals the sources' SPDX identifier and LICENSE holds that licence",
        f"label {labels.get('org.opencontainers.image.licenses')} sources {spdx}")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    rev = labels.get("org.opencontainers.image.revision", "")
    tap(bool(head) and rev.split("-")[0] == head, "OCI label revision is the commit it was built from", f"{rev} vs {head}")
    tap(labels.get("org.opencontainers.image.source", "") != "", "OCI label source is set (git remote, or NP_IMAGE_SOURCE, or unknown)", labels)


def check_archive(manifest):
    """The .oci.tar holds the same layout (oci-archive: form)."""
    path = os.path.join(OUT, f"nodeprint-{version()}.oci.tar")
    try:
        with tarfile.open(path) as t:
            names = set(t.getnames())
    except (OSError, tarfile.TarError) as e:
        tap(False, "nodeprint-<version>.oci.tar readable", e)
        return
    want = {"oci-layout", "index.json"} | {"blobs/" + d["digest"].replace(":", "/")
                                          for d in manifest["layers"] + [manifest["config"]]}
    names = {x[2:] if x.startswith("./") else x for x in names}
    tap(want <= names, "nodeprint-<version>.oci.tar holds oci-layout, index.json and every blob", want - names)


# Run in a private mount namespace; {R} is the unpacked root. The root is bind-mounted read-only as
# readOnlyRootFilesystem does; mount points under /host are made first (a runtime makes them too).
RUN_SH = r"""
set -eu
R=$1; shift
mkdir -p "$R/host/sys" "$R/host/proc" "$R/host/dev" "$R/host/run/udev" "$R/host/etc" "$R/proc" "$R/tmp" "$R/dev"
: >"$R/host/etc/os-release"
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o size=16m tmp "$R/tmp"
mount -t tmpfs -o size=1m,mode=0755 dev "$R/dev"
touch "$R/dev/null" && mount --bind /dev/null "$R/dev/null"
for d in sys proc dev; do mount --rbind "/$d" "$R/host/$d"; mount -o remount,bind,ro "$R/host/$d"; done
if [ -d /run/udev ]; then mount --bind /run/udev "$R/host/run/udev"; mount -o remount,bind,ro "$R/host/run/udev"; fi
mount --bind /etc/os-release "$R/host/etc/os-release"; mount -o remount,bind,ro "$R/host/etc/os-release"
exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
"""


def in_image(rootfs, *argv, timeout=180):
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", RUN_SH, "sh", rootfs, *argv],
                          capture_output=True, text=True, timeout=timeout)


def lspci_vendors():
    """{address: vendor name} from lspci -mm (pci.ids), or {} without lspci."""
    try:
        p = subprocess.run(["lspci", "-D", "-mm"], capture_output=True, text=True, timeout=30)
    except OSError:
        return {}
    out = {}
    for line in p.stdout.splitlines():
        f = re.findall(r'"([^"]*)"|(\S+)', line)
        vals = [a or b for a, b in f]
        if len(vals) >= 3:
            out[vals[0]] = vals[2]
    return out


def sections(path, names=(".text", ".rodata")):
    """{section: sha256} of @path's code and constants (objcopy), or None."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for sec in names:
            dst = os.path.join(d, sec.strip("."))
            p = subprocess.run(["objcopy", "-O", "binary", "--only-section=" + sec, path, dst],
                               capture_output=True, text=True)
            if p.returncode != 0 or not os.path.exists(dst):
                return None
            out[sec] = hashlib.sha256(open(dst, "rb").read()).hexdigest()
    return out


def check_binary(rootfs):
    """The image's binary is this tree's build/nodeprint (same code and constants; the Dockerfile's
    build stage compiles the same bytes in another folder, so debug info and build-id may differ)."""
    img = os.path.join(rootfs, "usr/bin/nodeprint")
    want, got = sections(os.path.join(ROOT, "build", "nodeprint")), sections(img)
    tap(want is not None and want == got, "/usr/bin/nodeprint has this tree's build/nodeprint code (not a stale image)",
        f"{want} vs {got}")
    p = subprocess.run(["readelf", "-S", "-W", img], capture_output=True, text=True)
    tap(p.returncode == 0 and ".symtab" not in p.stdout and ".debug_info" not in p.stdout,
        "/usr/bin/nodeprint is stripped (install -s)", p.stderr)
    st = os.stat(img)
    tap(st.st_uid == 0 and st.st_gid == 0 and (st.st_mode & 0o7777) == 0o755, "/usr/bin/nodeprint root:root 0755",
        oct(st.st_mode))
    lic = os.path.join(rootfs, "usr/share/doc/nodeprint/LICENSE")
    tap(os.path.isfile(lic) and open(lic, "rb").read() == open(os.path.join(ROOT, "LICENSE"), "rb").read(),
        "/usr/share/doc/nodeprint/LICENSE is the repository's LICENSE")


def check_run(rootfs, ver):
    p = in_image(rootfs, "/usr/bin/nodeprint", "--version")
    tap(p.returncode == 0 and p.stdout.strip() == f"nodeprint {ver}", f"nodeprint --version in the image says {ver}",
        f"exit {p.returncode}\n{p.stdout}{p.stderr}")

    # the image's own libraries: the loader inside the root resolves every one of them
    p = in_image(rootfs, "/usr/bin/ldd", "/usr/bin/nodeprint")
    libs = re.findall(r"=>\s*(\S+)", p.stdout)
    linked = {os.path.basename(l) for l in libs}
    tap(p.returncode == 0 and "not found" not in p.stdout and
        {"libjansson.so.4", "libudev.so.1", "libyaml-0.so.2", "libnettle.so.8", "libc.so.6"} <= linked and
        all(os.path.exists(os.path.join(rootfs, l.lstrip("/"))) for l in libs),
        "ldd in the image: every linked library resolved inside the image's root", p.stdout + p.stderr)
    # the libraries loaded with dlopen on first use (pkg/*/*_dl.c) are not in ldd's list: the image's
    # loader cache must resolve each soname, and each one's own dependencies, inside the root
    cache = in_image(rootfs, "/sbin/ldconfig", "-p").stdout
    sonames = dlopened()
    tap(len(sonames) >= 4, "the dlopen sonames are found in pkg/*/*_dl.c", sonames)
    for soname in sonames:
        m = re.search(r"^\s*" + re.escape(soname) + r" \(libc6,x86-64\) => (\S+)$", cache, re.M)
        dep = in_image(rootfs, "/usr/bin/ldd", m.group(1)) if m else None
        tap(m is not None and dep.returncode == 0 and "not found" not in dep.stdout,
            f"{soname} (loaded with dlopen) is in the image's loader cache with its dependencies",
            (dep.stdout + dep.stderr) if dep else cache[-2000:])

    p = in_image(rootfs, "/bin/sh", "-c", "touch /nodeprint-write-test")
    tap(p.returncode != 0 and "Read-only file system" in p.stderr, "the root is read-only while it runs", p.stderr)

    p = in_image(rootfs, "/usr/bin/nodeprint", "inspect", "-o", "json", "--host-root=/host")
    try:
        rep = json.loads(p.stdout)
    except ValueError as e:
        tap(False, "nodeprint inspect -o json --host-root=/host in the image", f"exit {p.returncode}: {e}\n{p.stderr}")
        return
    tap(True, "nodeprint inspect -o json --host-root=/host in the image")
    tap(rep.get("host_root") == "/host", "report says host_root /host", rep.get("host_root"))
    rel = rep.get("kernel", {}).get("release")
    tap(rel == os.uname().release, "kernel release read through /host equals the host's uname -r",
        f"{rel} vs {os.uname().release}")
    tap(rep.get("kernel", {}).get("boot_id") == open("/proc/sys/kernel/random/boot_id").read().strip(),
        "boot id read through /host equals the host's")
    pci = rep.get("pci", {})
    devs = pci.get("devices", [])
    tap(pci.get("hwdb") is True, "pci: the image's udev hwdb is found (hwdb: true)", pci)
    vend = lspci_vendors()
    named = [d for d in devs if d.get("vendor_name")]
    mismatch = [(d["address"], d["vendor_name"], vend.get(d["address"])) for d in named
                if d["address"] in vend and vend[d["address"]] != d["vendor_name"]]
    tap(len(devs) == 0 or (len(named) == len(devs) and not mismatch and any(d["address"] in vend for d in named)),
        "pci: every device has its vendor name from the hwdb, equal to lspci's (pci.ids)",
        f"{len(named)}/{len(devs)} named; mismatches {mismatch}; lspci {vend}")


def dpkg_packages(rootfs):
    names = []
    pkg = None
    with open(os.path.join(rootfs, "var/lib/dpkg/status")) as f:
        for line in f:
            if line.startswith("Package: "):
                pkg = line.split()[1]
            elif line.startswith("Status: ") and line.split()[-1] == "installed" and pkg:
                names.append(pkg)
    return names


def check_slim(rootfs):
    pkgs = dpkg_packages(rootfs)
    # gcc-12-base (libgcc-s1's copyright files) is in every Debian root and is no compiler
    bad = [p for p in pkgs if p.endswith("-dev") or
           re.match(r"^((gcc|cpp|g\+\+|clang|llvm)(-\d+)?|binutils.*|make|tcc|libgcc-\d+-dev)$", p)]
    tap(len(pkgs) > 20 and not bad, "no compiler, binutils, make or -dev package installed in the image",
        f"{len(pkgs)} packages; offending {bad}")
    tools = [t for t in ("cc", "gcc", "cpp", "ld", "as", "make", "pkg-config")
             if os.path.lexists(os.path.join(rootfs, "usr/bin", t))]
    inc = os.path.join(rootfs, "usr/include")
    tap(not tools and not (os.path.isdir(inc) and os.listdir(inc)), "no compiler tools and no headers in the root",
        f"tools {tools}")
    want = {"libcurl4", "libjansson4", "libnvme1", "libudev1", "libyaml-0-2", "libnettle8", "libdevmapper1.02.1",
            "libmicrohttpd12"}
    tap(want <= set(pkgs), "the runtime libraries are installed", want - set(pkgs))
    junk = [d for d in ("var/lib/apt/lists", "var/cache/apt/archives", "usr/share/man")
            if os.path.isdir(os.path.join(rootfs, d)) and
            [x for x in os.listdir(os.path.join(rootfs, d)) if x not in ("partial", "lock")]]
    tap(not junk, "no apt lists, cached .debs or man pages", junk)
    tap(os.path.isfile(os.path.join(rootfs, "usr/lib/udev/hwdb.bin")), "the PCI hwdb is at /usr/lib/udev/hwdb.bin")


def main():
    ver = version()
    manifest, config = check_layout(ver)
    if config is None:
        return 1
    check_config(config, ver)
    check_archive(manifest)
    if os.geteuid() != 0 or not shutil.which("umoci"):
        tap(False, "unpack and run the image", "needs root and umoci (scripts/deps.sh test)")
        return 1
    tmp = tempfile.mkdtemp(prefix="np-image-test.")
    try:
        bundle = os.path.join(tmp, "bundle")
        p = subprocess.run(["umoci", "unpack", "--image", f"{LAYOUT}:{ver}", bundle],
                           capture_output=True, text=True, timeout=300)
        rootfs = os.path.join(bundle, "rootfs")
        if tap(p.returncode == 0 and os.path.isfile(os.path.join(rootfs, "usr/bin/nodeprint")),
               "umoci unpack gives a root with /usr/bin/nodeprint", p.stderr):
            check_binary(rootfs)
            check_slim(rootfs)
            check_run(rootfs, ver)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    taplib.run(main, "test_image")
