#!/usr/bin/env python3
"""nib.py - node-in-a-box: Debian's own kernel under QEMU/TCG with emulated devices.

The host side of nodeprint's system tests (docs/node-in-a-box.md). It

  * prepares, once per machine, a cache (NODEPRINT_VM_CACHE, default <repo>/.cache/vm):
    the newest linux-image-6.1.0-N-amd64 from apt-cache (`apt-get download` + `dpkg -x`,
    never installed), its uncompressed vmlinux (booted by its PVH note: no BIOS, no
    in-guest XZ), Debian's nvme-cli, dmsetup and ethtool unpacked as independent oracles,
    and a base initramfs: busybox-static, the module closure, the oracles and their libs,
    a minimal python3 for captures, and guest/init;
  * adds, per run, a small overlay initramfs with the program under test (build/nodeprint
    and its shared libraries) and tests/capture.py, so a rebuilt nodeprint never
    invalidates the cache;
  * boots the guest with the devices a group of scenarios needs, drives faults from the
    host over QMP (and HMP through QMP), and runs shell commands in the guest over a
    virtio-serial port: each command's stdout/stderr land in a 9p share read by the host;
  * reports TAP (`ok N - name`). A missing prerequisite is a failure with its reason.

Network: every NIC is QEMU user networking with restrict=on (the guest reaches nothing).

    tests/vm/nib.py prepare            # fill the cache, print what it holds
    tests/vm/nib.py shell              # boot the full device set, interactive guest commands
    tests/vm/nib.py capture NAME       # guest /sys, /proc, kmsg -> tests/fixtures/NAME
"""
import contextlib
import ctypes
import fcntl
import hashlib
import json
import lzma
import os
import re
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("NODEPRINT_VM_CACHE") or REPO / ".cache" / "vm")
NODEPRINT = Path(os.environ.get("NODEPRINT_VM_BIN") or REPO / "build" / "nodeprint")
KERNEL_RE = re.compile(r"^linux-image-6\.1\.0-(\d+)-amd64$")
# Oracles: Debian package -> files taken from it (path inside the package).
ORACLE_DEBS = {"nvme-cli": ["usr/sbin/nvme"], "libnvme1": [], "dmsetup": ["sbin/dmsetup"],
               "libdevmapper1.02.1": [], "ethtool": ["sbin/ethtool"]}
# Guest modules (and what modprobe pulls in). crc64-rocksoft and crct10dif are asked for by
# name through the crypto API (t10-pi, used by nvme-core), so modprobe cannot see them; so is crc32
# (rdma_rxe, soft-RoCE: "failed to init crc32 algorithm err:-2" without it).
MODULES = """nvme nvme-core scsi_debug sd_mod sg dm-mod dm-multipath dm-round-robin dm-queue-length
dm-service-time e1000e virtio_net virtio_pci virtio_console 9p 9pnet_virtio aer_inject
nvmet nvmet-tcp nvme-tcp crc64_rocksoft_generic crct10dif_generic rdma_rxe
crc32_generic overlay""".split()   # overlay: containerd's snapshotter (test_pod.py)
# libraries nodeprint loads with dlopen (pkg/kube/curl_dl.c, pkg/agent/mhd_dl.c, pkg/collect/{nvme,dm}_dl.c)
DLOPEN_LIBS = ["libcurl.so.4", "libmicrohttpd.so.12", "libnvme.so.1", "libdevmapper.so.1.02.1"]
PY_MODULES = "argparse glob os sys json errno fcntl stat select locale gettext"   # capture.py, kmsg_capture.py
BASE_FORMAT = 7   # bump when the base initramfs layout changes

DEFAULT_TIMEOUT = 90     # seconds for one guest command (TCG on 2 shared cores)
BOOT_TIMEOUT = 120


class Missing(Exception):
    """A prerequisite of the node-in-a-box is missing: the message says which and how to get it."""


class GuestError(Exception):
    """The guest did not answer, a command failed, or QEMU died."""


def log(msg):
    print(f"# nib: {msg}", flush=True)


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait(fn, timeout, step=0.3):
    """fn() until it is true or @timeout seconds passed; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


# ---------------------------------------------------------------------------------------------
# cache: kernel, oracles, base initramfs

@contextlib.contextmanager
def cache_lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def need_tools():
    missing = [t for t in ("qemu-system-x86_64", "apt-get", "apt-cache", "dpkg", "depmod", "modprobe", "ldd")
               if not shutil.which(t)]
    if missing:
        raise Missing(f"missing host tools {missing}: run scripts/deps.sh test "
                      "(qemu-system-x86 kmod busybox-static ...)")
    bb = Path("/bin/busybox")
    if not bb.exists() or "not a dynamic executable" not in subprocess.run(
            ["ldd", str(bb)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout:
        raise Missing("/bin/busybox is missing or not static: apt-get install busybox-static")


def apt_download(pkg, dest):
    """Download the .deb of @pkg into @dest (never installed); refresh the lists once if needed."""
    def attempt():
        return subprocess.run(["apt-get", "download", pkg], cwd=dest, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    p = attempt()
    if p.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p = attempt()
    if p.returncode != 0:
        raise Missing(f"apt-get download {pkg} failed: {p.stdout.strip()[-300:]}")


def cached_deb(pkg, debs):
    hits = sorted(debs.glob(f"{pkg}_*.deb"))
    return hits[-1] if hits else None


def newest_kernel_pkg():
    """Newest linux-image-6.1.0-N-amd64 that apt-cache knows, or None."""
    def search():
        p = subprocess.run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        names = [ln.split()[0] for ln in p.stdout.splitlines() if ln.split()]
        return sorted((n for n in names if KERNEL_RE.match(n)), key=lambda n: int(KERNEL_RE.match(n)[1]))
    names = search()
    if not names:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        names = search()
    return names[-1] if names else None


def extract_vmlinux(bzimage, out):
    """Debian's 6.1 amd64 bzImage carries an XZ-compressed ELF vmlinux with a PVH note (CONFIG_PVH=y)."""
    data = bzimage.read_bytes()
    off = data.find(b"\xfd7zXZ\x00")
    if off < 0:
        raise Missing(f"{bzimage}: no XZ payload found (not a Debian 6.1 amd64 kernel?)")
    elf = lzma.LZMADecompressor().decompress(data[off:])
    if elf[:4] != b"\x7fELF":
        raise Missing(f"{bzimage}: payload is not an ELF vmlinux")
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(elf)
    tmp.rename(out)


def prepare_kernel(debs):
    pkg = newest_kernel_pkg()
    kdirs = sorted(CACHE.glob("kernel-6.1.0-*-amd64"), key=lambda p: int(p.name.split("-")[2]))
    if pkg is None:
        if not kdirs:
            raise Missing("apt-cache knows no linux-image-6.1.0-N-amd64 and none is cached: "
                          "is the Debian 12 archive in /etc/apt/sources.list?")
        kver = kdirs[-1].name[len("kernel-"):]
        log(f"apt-cache lists no kernel; using cached {kver}")
    else:
        kver = pkg[len("linux-image-"):]
    kdir = CACHE / f"kernel-{kver}"
    if not (kdir / "vmlinux").exists():
        deb = cached_deb(f"linux-image-{kver}", debs)
        if deb is None:
            log(f"downloading linux-image-{kver}")
            apt_download(f"linux-image-{kver}", debs)
            deb = cached_deb(f"linux-image-{kver}", debs)
        tmp = CACHE / f".kernel-{kver}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        run(["dpkg", "-x", str(deb), str(tmp)])
        run(["depmod", "-b", str(tmp), kver])
        extract_vmlinux(tmp / "boot" / f"vmlinuz-{kver}", tmp / "vmlinux")
        shutil.rmtree(kdir, ignore_errors=True)
        tmp.rename(kdir)
        for old in CACHE.glob("kernel-6.1.0-*-amd64"):        # one kernel tree (~500 MB) is enough
            if old != kdir:
                shutil.rmtree(old, ignore_errors=True)
        for old in debs.glob("linux-image-*.deb"):
            if not old.name.startswith(f"linux-image-{kver}_"):
                old.unlink()
    return kver, kdir


def prepare_oracles(debs):
    sysroot = CACHE / "oracles"
    stamp = sysroot / ".debs"
    want = []
    for pkg in ORACLE_DEBS:
        deb = cached_deb(pkg, debs)
        if deb is None:
            apt_download(pkg, debs)
            deb = cached_deb(pkg, debs)
        want.append(deb.name)
    if not stamp.exists() or stamp.read_text().split() != want:
        shutil.rmtree(sysroot, ignore_errors=True)
        sysroot.mkdir()
        for name in want:
            run(["dpkg", "-x", str(debs / name), str(sysroot)])
        stamp.write_text("\n".join(want) + "\n")
    return sysroot, want


def prepare_hwdb(debs):
    """The PCI part of the udev hwdb (20-pci-*.hwdb of Debian's udev .deb, unpacked, not installed),
    compiled by that package's own systemd-hwdb. Returns the folder holding etc/udev/hwdb.bin (the path
    libudev reads first) and bin/systemd-hwdb (the tests' oracle: `systemd-hwdb --root DIR query`)."""
    deb = cached_deb("udev", debs)
    if deb is None:
        apt_download("udev", debs)
        deb = cached_deb("udev", debs)
    out = CACHE / "hwdb-pci"
    if (out / ".deb").exists() and (out / ".deb").read_text() == deb.name:
        return out
    tmp = CACHE / ".hwdb-pci.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(["dpkg", "-x", str(deb), str(tmp / "udev")])
    src = sorted(tmp.glob("udev/*lib/udev/hwdb.d/20-pci-*.hwdb")) + sorted(tmp.glob("udev/lib/udev/hwdb.d/20-pci-*.hwdb"))
    tool = next(iter(sorted(tmp.glob("udev/*bin/systemd-hwdb")) + sorted(tmp.glob("udev/usr/*bin/systemd-hwdb"))), None)
    if not src or tool is None:
        raise Missing(f"{deb.name}: no 20-pci-*.hwdb or systemd-hwdb inside")
    (tmp / "etc/udev/hwdb.d").mkdir(parents=True)
    for f in src:
        shutil.copy(f, tmp / "etc/udev/hwdb.d" / f.name)
    (tmp / "bin").mkdir()
    shutil.copy(tool, tmp / "bin/systemd-hwdb")
    try:
        run([str(tmp / "bin/systemd-hwdb"), "--root", str(tmp), "update"])
    except subprocess.CalledProcessError as e:
        raise Missing(f"systemd-hwdb from {deb.name} failed: {e.stderr.strip()[-300:]}")
    shutil.rmtree(tmp / "udev")
    (tmp / ".deb").write_text(deb.name)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def hwdb_query(modalias):
    """Properties the udev hwdb gives @modalias (Debian's systemd-hwdb on the cached PCI hwdb)."""
    root = CACHE / "hwdb-pci"
    p = run([str(root / "bin/systemd-hwdb"), "--root", str(root), "query", modalias])
    return dict(ln.split("=", 1) for ln in p.stdout.splitlines() if "=" in ln)


def ldd_libs(binary, extra_path=()):
    """Shared libraries of @binary (resolved through @extra_path first, then the host); fails on 'not found'."""
    env = dict(os.environ)
    if extra_path:
        env["LD_LIBRARY_PATH"] = ":".join(str(p) for p in extra_path)
    p = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if "not a dynamic executable" in p.stdout:
        return []
    if p.returncode != 0 or "not found" in p.stdout:
        raise Missing(f"ldd {binary}: {p.stdout.strip()}")
    libs = []
    for ln in p.stdout.splitlines():
        m = re.search(r"=>\s+(/\S+)", ln) or re.match(r"\s*(/\S+)", ln)
        if m:
            libs.append(Path(m[1]))
    return libs


class Cpio:
    """A newc cpio archive (the kernel's initramfs format), written from Python. Not compressed: under
    TCG the guest inflates gzip several times slower than it copies (measured under load: 6.5 s gzip, 2 s plain for 40 MB)."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.ino = 1
        self.dirs = {"", "."}

    def _entry(self, name, mode, data=b"", nlink=1, mtime=0):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, nlink, int(mtime), len(data), 0, 0, 0, 0, len(name_b), 0))
        self.ino += 1
        buf = hdr.encode() + name_b
        buf += b"\0" * (-len(buf) % 4)
        self.f.write(buf + data + b"\0" * (-len(data) % 4))

    def mkdir(self, name, mode=0o755):
        name = name.strip("/")
        if name in self.dirs:
            return
        self.mkdir(os.path.dirname(name))
        self.dirs.add(name)
        self._entry(name, stat.S_IFDIR | mode, nlink=2)

    def add_bytes(self, name, data, mode=0o644, mtime=0):
        name = name.strip("/")
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFREG | mode, data, mtime=mtime)

    def add_file(self, name, src, mode=None):
        """Copy @src to @name, keeping its mtime (python's .pyc files check their source's)."""
        src = Path(src)
        st = src.stat()
        self.add_bytes(name, src.read_bytes(), mode if mode is not None else (st.st_mode & 0o777), st.st_mtime)

    def symlink(self, name, target):
        name = name.strip("/")
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def add_libs(self, binary, extra_path=()):
        for lib in ldd_libs(binary, extra_path):
            if lib.name.startswith("ld-linux"):
                self.add_file("lib64/" + lib.name, lib.resolve(), 0o755)
            else:
                self.add_file("lib/x86_64-linux-gnu/" + lib.name, lib.resolve(), 0o755)

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.close()


def python_closure():
    """The host python3 and the stdlib files that capture.py needs (Debian builds most modules in)."""
    py = Path("/usr/bin/python3")
    if not py.exists():
        return None, []
    code = (f"import sys, importlib; [importlib.import_module(m) for m in {PY_MODULES.split()!r}]; "
            "import encodings.utf_8, encodings.latin_1, encodings.aliases, codecs, io, abc, site;"
            "ms = sys.modules.values();"
            "print('\\n'.join(sorted({f for m in ms for f in (getattr(m, '__file__', None),"
            " getattr(m, '__cached__', None)) if f})))")
    p = subprocess.run([str(py), "-I", "-S", "-c", code], stdout=subprocess.PIPE, text=True, check=True)
    files = [Path(f) for f in p.stdout.split() if f]
    return py.resolve(), files


def build_base(kver, kdir, sysroot, oracle_debs, hwdb):
    """Base initramfs (cached): init, busybox, modules, oracles, python for captures. Returns its path."""
    key = hashlib.sha256()
    py, pyfiles = python_closure()
    for part in (str(BASE_FORMAT), kver, " ".join(oracle_debs), " ".join(MODULES), str(py),
                 (hwdb / ".deb").read_text(),
                 (HERE / "guest" / "init").read_text(), str(os.stat("/bin/busybox").st_mtime)):
        key.update(part.encode() + b"\0")
    out = CACHE / f"base-{kver}-{key.hexdigest()[:12]}.cpio"
    if out.exists():
        return out
    for old in CACHE.glob("base-*.cpio*"):
        old.unlink()
    tmp = out.with_suffix(".tmp")
    c = Cpio(tmp)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "run", "share", "root",
              "var/lib/kubelet", "lib/x86_64-linux-gnu", "lib64", "nib"):
        c.mkdir(d)
    c.add_file("init", HERE / "guest" / "init", 0o755)
    c.add_file("bin/busybox", "/bin/busybox", 0o755)
    c.add_bytes("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.add_bytes("etc/group", b"root:x:0:\n")
    # kernel modules: closure of MODULES, then the guest tree's own modules.dep
    mods = set()
    for m in MODULES:
        p = subprocess.run(["modprobe", "-d", str(kdir), "-S", kver, "--show-depends", m],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise Missing(f"kernel {kver} has no module {m}: {p.stderr.strip()}")
        mods.update(ln.split()[1] for ln in p.stdout.splitlines() if ln.startswith("insmod "))
    stage = Path(tempfile.mkdtemp(prefix="nib-mods-"))
    try:
        mdir = f"lib/modules/{kver}"
        for ko in sorted(mods):
            rel = os.path.relpath(ko, kdir)
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ko, stage / rel)
        for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
            shutil.copy(kdir / mdir / f, stage / mdir / f)
        run(["depmod", "-b", str(stage), kver])
        for p in sorted(stage.rglob("*")):
            rel = str(p.relative_to(stage))
            if p.is_dir():
                c.mkdir(rel)
            else:
                c.add_file(rel, p, 0o644)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    # oracles with their libraries (the unpacked sysroot first, then the host)
    lp = [sysroot / "usr/lib/x86_64-linux-gnu", sysroot / "lib/x86_64-linux-gnu"]
    for files in ORACLE_DEBS.values():
        for f in files:
            c.add_file(f, sysroot / f, 0o755)
            c.add_libs(sysroot / f, lp)
    # python3 for tests/capture.py (the interpreter + the stdlib modules it imports)
    if py:
        c.add_file("usr/bin/python3", py, 0o755)
        c.add_libs(py)
        for f in pyfiles:
            if f.exists():
                c.add_file(str(f), f, 0o755 if f.suffix == ".so" else 0o644)
        c.mkdir(f"usr/lib/{py.name}/lib-dynload")
    # the guest's userland is Debian 12's (busybox, nvme-cli, ...): say so as the host's os-release does
    c.add_file("usr/lib/os-release", "/usr/lib/os-release", 0o644)
    c.symlink("etc/os-release", "../usr/lib/os-release")
    c.add_file("etc/udev/hwdb.bin", hwdb / "etc/udev/hwdb.bin", 0o644)     # PCI names for libudev
    c.close()
    tmp.rename(out)
    return out


def prepare():
    """Fill the cache (idempotent). Returns dict(kver, vmlinux, base)."""
    need_tools()
    with cache_lock():
        debs = CACHE / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        kver, kdir = prepare_kernel(debs)
        sysroot, oracle_debs = prepare_oracles(debs)
        hwdb = prepare_hwdb(debs)
        base = build_base(kver, kdir, sysroot, oracle_debs, hwdb)
    return {"kver": kver, "vmlinux": kdir / "vmlinux", "base": base, "oracles": oracle_debs}


def build_overlay(path, programs=(), libs_of=()):
    """Per-run initramfs overlay: the program under test, its libraries, capture.py, guest helpers, the
    host programs a group asks for (Devices.program: e.g. Debian's fio, with its ldd libraries) and the
    libraries of binaries the guest runs from a share (Devices.libs_of: runc's libseccomp)."""
    if not os.access(NODEPRINT, os.X_OK):
        raise Missing(f"{NODEPRINT} is not built: run `make all` first (or set NODEPRINT_VM_BIN)")
    c = Cpio(path)
    c.add_file("usr/bin/nodeprint", NODEPRINT, 0o755)
    c.add_libs(NODEPRINT)
    for name in DLOPEN_LIBS:          # loaded with dlopen on first use: ldd cannot see them
        lib = Path("/usr/lib/x86_64-linux-gnu") / name
        if lib.exists():
            c.add_file("lib/x86_64-linux-gnu/" + name, lib.resolve(), 0o755)
            c.add_libs(lib)
    for prog in programs:
        src = shutil.which(prog)
        if not src:
            raise Missing(f"{prog} is not installed on the host (scripts/deps.sh test)")
        c.add_file("usr/bin/" + prog, Path(src).resolve(), 0o755)
        c.add_libs(Path(src).resolve())
    for binary in libs_of:
        c.add_libs(Path(binary))
    c.add_file("nib/capture.py", REPO / "tests" / "capture.py", 0o755)
    c.add_file("nib/kmsg_capture.py", REPO / "tests" / "kmsg_capture.py", 0o755)
    for f in sorted((HERE / "guest").glob("*")):
        if f.name != "init":
            c.add_file("nib/" + f.name, f, 0o755)
    c.close()


# ---------------------------------------------------------------------------------------------
# devices: QEMU arguments for the emulated hardware a group of scenarios needs

def _port_id(name):
    """QEMU's chardev id (and its socket's name) for the virtio-serial port @name."""
    return "sp-" + re.sub(r"[^A-Za-z0-9]", "-", name)


class Devices:
    """Builds QEMU -device/-netdev arguments; every PCIe endpoint sits behind its own root port."""

    def __init__(self):
        self.args, self.port = [], 0
        self.files = []
        self.programs = []     # host programs copied into the guest with their libraries
        self.libs_of = []      # binaries run from a share: only their libraries are copied
        self.shares = 0

    def program(self, name):
        self.programs.append(name)
        return self

    def serial_port(self, name):
        """A virtio-serial port @name for a program of the test's own in the guest (/sys/class/virtio-ports/*/name),
        a unix socket on the host: Guest.serial_port(@name) connects to it."""
        cid = _port_id(name)
        self.args += ["-chardev", f"socket,id={cid},path=@RUN@/{cid}.sock,server=on,wait=off",
                      "-device", f"virtserialport,bus=vser.0,chardev={cid},name={name}"]
        return self

    def share(self, tag, host_dir, libs_of=()):
        """@host_dir as a read-only 9p share with mount tag @tag (the guest mounts it: guest/node.sh);
        the shared libraries of @libs_of (binaries in it) go into the overlay initramfs."""
        self.shares += 1
        self.args += ["-fsdev", f"local,id=ro{self.shares},path={host_dir},security_model=none,readonly=on",
                      "-device", f"virtio-9p-pci,fsdev=ro{self.shares},mount_tag={tag}"]
        self.libs_of += [Path(host_dir) / b for b in libs_of]
        return self

    def _root_port(self):
        self.port += 1
        rp = f"rp{self.port}"
        self.args += ["-device", f"pcie-root-port,id={rp},bus=pcie.0,chassis={self.port},slot={self.port}"]
        return rp

    def nvme(self, id="nvme0", serial="NIB0001", size_mb=64):
        rp = self._root_port()
        self.files.append((f"{id}.img", size_mb))
        self.args += ["-drive", f"file=@RUN@/{id}.img,if=none,id={id}d,format=raw",
                      "-device", f"nvme,serial={serial},drive={id}d,id={id},bus={rp}"]
        return self

    def e1000e(self, id="nic1"):
        rp = self._root_port()
        # restrict=on: the guest reaches nothing outside QEMU's user network
        self.args += ["-netdev", f"user,id={id}n,restrict=on",
                      "-device", f"e1000e,bus={rp},id={id},netdev={id}n,romfile="]
        return self

    def virtio_net(self, id="nic2", aer=True):
        rp = self._root_port()
        self.args += ["-netdev", f"user,id={id}n,restrict=on",
                      "-device", f"virtio-net-pci,bus={rp},id={id},netdev={id}n,romfile=" +
                      (",aer=on" if aer else "")]
        return self


    @staticmethod
    def _fwd(host_port):
        """The guestfwd command to 127.0.0.1:@host_port: tests/vm/fwd.py, one per connection (socat waited
        40 ms for a delayed ACK on most requests: fwd.py's docstring), commas doubled for QEMU's option parser."""
        argv = [sys.executable, "-I", "-S", str(HERE / "fwd.py"), "127.0.0.1", str(host_port)]
        return " ".join(map(shlex.quote, argv)).replace(",", ",,")    # libslirp: g_shell_parse_argv

    def api_net(self, host_port, guest_addr="10.0.2.100:6443", id="api"):
        """A virtio NIC whose only way out is @guest_addr, forwarded to 127.0.0.1:@host_port on the host
        (QEMU user networking, guestfwd to tests/vm/fwd.py: one per connection; restrict=on
        keeps everything else in). The guest configures it statically as 10.0.2.15/24."""
        rp = self._root_port()
        self.args += ["-netdev", f"user,id={id}n,restrict=on,guestfwd=tcp:{guest_addr}-cmd:{self._fwd(host_port)}",
                      "-device", f"virtio-net-pci,bus={rp},id={id},netdev={id}n,romfile="]
        return self

    def cluster_net(self, api_port, kubelet_fwd, id="cl"):
        """A virtio NIC on QEMU's user network 10.96.0.0/24 (the guest sets 10.96.0.15 itself: guest/node.sh),
        where 10.96.0.1:443 - the test cluster's `kubernetes` Service ClusterIP, in its apiserver's
        certificate - is forwarded to the host's kube-apiserver on 127.0.0.1:@api_port (guestfwd to
        tests/vm/fwd.py, one per connection): what kube-proxy does for that one Service. @kubelet_fwd = (host
        address, port): the host's address:port is forwarded to the guest's kubelet on the same port,
        so the apiserver reaches it for `kubectl logs`/`exec`. restrict=on: nothing else goes in or out."""
        rp = self._root_port()
        host, port = kubelet_fwd
        self.args += ["-netdev", f"user,id={id}n,restrict=on,net=10.96.0.0/24,"
                                 f"guestfwd=tcp:10.96.0.1:443-cmd:{self._fwd(api_port)},"
                                 f"hostfwd=tcp:{host}:{port}-:{port}",
                      "-device", f"virtio-net-pci,bus={rp},id={id},netdev={id}n,romfile="]
        return self


def full_devices():
    return Devices().e1000e().virtio_net().nvme()


# ---------------------------------------------------------------------------------------------
# QMP

class QMP:
    """Minimal QMP client on a unix socket: execute() returns "return" or raises GuestError."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(str(path))
        self.f = self.s.makefile("rw")
        self.events = []
        self._recv()
        self.execute("qmp_capabilities")

    def _recv(self):
        while True:
            line = self.f.readline()
            if not line:
                raise GuestError("QMP: connection closed")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def execute(self, cmd, **args):
        self.f.write(json.dumps({"execute": cmd, **({"arguments": args} if args else {})}) + "\n")
        self.f.flush()
        msg = self._recv()
        if "error" in msg:
            raise GuestError(f"QMP {cmd} {args}: {msg['error']}")
        return msg.get("return")

    def hmp(self, line):
        """Human monitor command through QMP; returns its text (HMP reports errors as text)."""
        return self.execute("human-monitor-command", **{"command-line": line})

    def close(self):
        with contextlib.suppress(OSError):
            self.s.close()


# ---------------------------------------------------------------------------------------------
# the guest

def _pdeathsig():
    # QEMU dies with the test process, whatever happens to it
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


class Guest:
    """One QEMU/TCG guest: `with Guest(devices) as g:` boots it, leaving always powers it off / kills it."""

    def __init__(self, devices=None, smp=2, mem="768M", append="", name="nib"):
        self.devices = devices or Devices()
        self.smp, self.mem, self.append, self.name = smp, mem, append, name
        self.proc = self.qmp = self.ctl = None
        self.seq = 0
        self.t0 = None

    # -- lifecycle
    def __enter__(self):
        try:
            self.boot()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def boot(self):
        self.cache = prepare()
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"nib-{self.name}-"))
        self.share = self.run_dir / "share"
        (self.share / "o").mkdir(parents=True)
        overlay = self.run_dir / "overlay.cpio"
        build_overlay(overlay, self.devices.programs, self.devices.libs_of)
        initrd = self.run_dir / "initrd.img"          # concatenated archives: the kernel unpacks both
        with open(initrd, "wb") as out:
            for part in (self.cache["base"], overlay):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        for fname, mb in self.devices.files:
            with open(self.run_dir / fname, "wb") as f:
                f.truncate(mb << 20)
        self.serial = self.run_dir / "serial.log"
        argv = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", str(self.smp),
                "-m", self.mem, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", f"file:{self.serial}",
                "-kernel", str(self.cache["vmlinux"]), "-initrd", str(initrd),
                "-append", f"console=ttyS0 quiet panic=-1 {self.append}".strip(),
                "-qmp", f"unix:{self.run_dir}/qmp.sock,server=on,wait=off",
                "-device", "virtio-serial-pci,id=vser",
                "-chardev", f"socket,id=ctl,path={self.run_dir}/ctl.sock,server=on,wait=off",
                "-device", "virtserialport,bus=vser.0,chardev=ctl,name=nib.ctl",
                "-fsdev", f"local,id=share,path={self.share},security_model=none",
                "-device", "virtio-9p-pci,fsdev=share,mount_tag=nibshare"]
        argv += [a.replace("@RUN@", str(self.run_dir)) for a in self.devices.args]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
        for sock in ("qmp.sock", "ctl.sock"):
            self._wait_path(self.run_dir / sock)
        self.qmp = QMP(self.run_dir / "qmp.sock")
        self.ctl = socket.socket(socket.AF_UNIX)
        self.ctl.connect(str(self.run_dir / "ctl.sock"))
        self.buf = b""
        self.sh("true", timeout=BOOT_TIMEOUT)
        self.boot_s = time.monotonic() - self.t0
        log(f"guest {self.name} up in {self.boot_s:.1f}s (kernel {self.cache['kver']}, run dir {self.run_dir})")

    def _wait_path(self, p, timeout=30):
        end = time.monotonic() + timeout
        while not p.exists():
            if self.proc.poll() is not None:
                raise GuestError(f"QEMU exited with {self.proc.returncode}: {self.proc.stdout.read().decode()[-800:]}")
            if time.monotonic() > end:
                raise GuestError(f"QEMU did not create {p}")
            time.sleep(0.05)

    def stop(self):
        """Power off (guest command), else kill QEMU; never leaves it running."""
        if self.proc and self.proc.poll() is None:
            if self.ctl:
                with contextlib.suppress(OSError):
                    self.ctl.sendall(b"sync; poweroff -f\n")
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for x in (self.qmp, self.ctl):
            if x:
                with contextlib.suppress(OSError):
                    x.close()
        self.qmp = self.ctl = None
        if self.t0 is not None:
            log(f"guest {self.name} ran {time.monotonic() - self.t0:.1f}s wall")
            self.t0 = None
        if getattr(self, "run_dir", None) and not os.environ.get("NIB_KEEP"):
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def serial_port(self, name):
        """The host's end of Devices.serial_port(@name): a connected unix socket (the caller closes it)."""
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(self.run_dir / f"{_port_id(name)}.sock"))
        return s

    # -- commands in the guest
    def sh(self, cmd, timeout=DEFAULT_TIMEOUT):
        """Run @cmd (busybox sh) in the guest; returns (rc, stdout, stderr) as text."""
        self.seq += 1
        n = self.seq
        wrapped = f"( {cmd}\n) </dev/null >/share/o/{n}.out 2>/share/o/{n}.err; echo \"@@NIB {n} $?\"\n"
        try:
            self.ctl.sendall(wrapped.encode())
        except OSError as e:
            raise self._died(e, cmd)
        end = time.monotonic() + timeout
        pat = re.compile(rb"@@NIB %d (\d+)\n" % n)
        while True:
            m = pat.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                break
            left = end - time.monotonic()
            if self.proc.poll() is not None:
                raise GuestError(f"QEMU exited ({self.proc.returncode}) during: {cmd[:200]}\n{self.console_tail()}")
            if left <= 0:
                raise GuestError(f"guest command timed out after {timeout}s: {cmd[:200]}\n{self.console_tail()}")
            r, _, _ = select.select([self.ctl], [], [], min(left, 1.0))
            if r:
                try:
                    data = self.ctl.recv(65536)
                except OSError as e:
                    raise self._died(e, cmd)
                if not data:
                    raise GuestError(f"guest control channel closed during: {cmd[:200]}")
                self.buf += data
        out = (self.share / "o" / f"{n}.out").read_text(errors="replace")
        err = (self.share / "o" / f"{n}.err").read_text(errors="replace")
        return int(m[1]), out, err

    def out(self, cmd, timeout=DEFAULT_TIMEOUT):
        """stdout of @cmd; raises GuestError when it exits non-zero."""
        rc, out, err = self.sh(cmd, timeout)
        if rc != 0:
            raise GuestError(f"guest command failed (rc={rc}): {cmd[:200]}\n{err.strip()[-800:]}")
        return out

    def json(self, cmd, timeout=DEFAULT_TIMEOUT):
        text = self.out(cmd, timeout)
        try:
            return json.loads(text)
        except ValueError as e:
            raise GuestError(f"not JSON from `{cmd[:100]}`: {e}: {text[:300]!r}")

    def inspect(self, args="", timeout=DEFAULT_TIMEOUT):
        """`nodeprint inspect -o json ARGS` in the guest, parsed. Exit 3 (blind) and 4 (findings) are
        inspect's answers, not failures (docs/reference.md, exit status)."""
        cmd = f"nodeprint inspect -o json --color never {args}"
        rc, out, err = self.sh(cmd, timeout)
        if rc not in (0, 3, 4):
            raise GuestError(f"guest command failed (rc={rc}): {cmd[:200]}\n{err.strip()[-800:]}")
        try:
            return json.loads(out)
        except ValueError as e:
            raise GuestError(f"not JSON from `{cmd[:100]}`: {e}: {out[:300]!r}")

    def _died(self, e, cmd):
        """The control channel failed (QEMU gone): a GuestError with QEMU's own last words."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        said = ""
        if self.proc.poll() is not None and self.proc.stdout:
            with contextlib.suppress(OSError, ValueError):
                said = self.proc.stdout.read().decode(errors="replace")[-800:]
        return GuestError(f"guest control channel: {e} during: {cmd[:200]} (QEMU exit {self.proc.poll()}: "
                          f"{said.strip()})\n{self.console_tail()}")

    def console_tail(self, n=25):
        try:
            text = self.serial.read_text(errors="replace").replace("\r", "")
        except OSError:
            return ""
        return "\n".join("console| " + ln for ln in text.splitlines()[-n:])


# ---------------------------------------------------------------------------------------------
# TAP

class Tap(taplib.Tap):
    """TAP output (tests/taplib.py): ok(cond, name), eq(got, want, name), fail(name, diag) for one guest
    group. finish() exits 1 when anything failed or nothing ran."""

    def __init__(self, group):
        super().__init__()
        self.group = group
        self.t0 = time.monotonic()

    def finish(self):
        super().finish()
        log(f"{self.group}: {self.n - self.failed}/{self.n} passed in {time.monotonic() - self.t0:.1f}s wall")
        sys.exit(1 if self.failed or self.n == 0 else 0)


def run_group(group, devices, scenarios, append=""):
    """Boot one guest for @scenarios (functions taking (tap, guest)); every error is a TAP failure."""
    tap = Tap(group)
    try:
        with Guest(devices, append=append, name=group) as g:
            for fn in scenarios:
                try:
                    fn(tap, g)
                except (GuestError, KeyError, TypeError, IndexError, ValueError) as e:
                    tap.fail(f"{fn.__name__}: {type(e).__name__}", str(e))
    except Missing as e:
        tap.fail(f"{group}: prerequisites", f"node-in-a-box prerequisite missing: {e}")
    except GuestError as e:
        tap.fail(f"{group}: guest", str(e))
    except (OSError, subprocess.CalledProcessError) as e:
        tap.fail(f"{group}: harness", f"{type(e).__name__}: {e} {getattr(e, 'stderr', '') or ''}")
    tap.finish()


# ---------------------------------------------------------------------------------------------
# command line: prepare, shell, capture

def guest_capture(g, dest):
    """Record guest @g's /sys, /proc and kernel log subset (tests/capture.py --preset inspect, run by the
    guest's python3 into the 9p share, plus /dev/kmsg records) and copy the tree to @dest."""
    # recorded into the guest's tmpfs, moved as one tar: thousands of small 9p writes are slow under TCG
    g.out("rm -rf /tmp/cap /share/cap.tar && python3 -I -S /nib/capture.py --out /tmp/cap --preset inspect && "
          "python3 -I -S /nib/kmsg_capture.py --out /tmp/cap && tar -C /tmp/cap -cf /share/cap.tar .", timeout=300)
    os.makedirs(dest)
    run(["tar", "-C", str(dest), "-xf", str(g.share / "cap.tar")])


def capture(name, out_root=None):
    """Boot the full device set with every driver loaded and capture it as tests/fixtures/NAME."""
    dest = Path(out_root or REPO / "tests" / "fixtures") / name
    if dest.exists():
        raise SystemExit(f"{dest} exists: remove it first")
    with Guest(full_devices(), name="capture") as g:
        g.out("/nib/setup.sh all", timeout=180)
        g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct")
        guest_capture(g, dest)
    print(f"captured the guest into {dest}")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    cmd = argv[1]
    try:
        if cmd == "prepare":
            c = prepare()
            print(json.dumps({k: str(v) for k, v in c.items()}, indent=2))
        elif cmd == "capture" and len(argv) == 3:
            capture(argv[2])
        elif cmd == "shell":
            with Guest(full_devices(), name="shell") as g:
                print("guest commands (busybox sh), one per line; EOF to power off", file=sys.stderr)
                for line in sys.stdin:
                    rc, out, err = g.sh(line.rstrip("\n"))
                    sys.stdout.write(out)
                    sys.stderr.write(err + (f"[rc={rc}]\n" if rc else ""))
                    sys.stdout.flush()
        else:
            print(__doc__)
            return 2
    except (Missing, GuestError) as e:
        print(f"nib: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
