"""The DaemonSet's container as an OCI runtime config, translated flag by flag the way a kubelet asks
containerd's CRI plugin for it (containerd v2 internal/cri/server/container_create_linux.go and
pkg/oci/spec.go), so a plain `runc run` sees what the pod would: used where no kubelet runs and to
measure which privilege the agent needs.

    translate(ds, rootfs, args=None, privileged=None, extra_devices=(), policy_dir=None) -> dict

What is translated (and how containerd does it):
  securityContext.privileged     all capabilities of the running kernel, every device allowed
                                 ("a *:* rwm"), no masked or read-only /proc paths, /sys read-write
  capabilities drop ALL + add    exactly those in bounding, effective and permitted (none inheritable
                                 or ambient: containerd >= 1.6.18)
  allowPrivilegeEscalation=false noNewPrivileges
  readOnlyRootFilesystem         root.readonly
  runAsUser                      process.user.uid
  hostNetwork                    no network namespace
  volumeMounts / hostPath        rbind mounts, "ro" when readOnly ("rro" with recursiveReadOnly),
                                 rprivate (None) or rslave (HostToContainer) propagation
  volumeMounts / configMap       a read-only bind of policy_dir (the ConfigMap's files)
  volumeMounts / emptyDir Memory tmpfs of sizeLimit
  the runtime's default devices  deny all, then containerd's oci.WithDefaultUnixDevices set:
                                 /dev/null, zero, full, random, urandom, tty, console, ptmx, pts, tun,
                                 mknod of any char or block device
"""
import os

# containerd pkg/oci/spec_opts.go, WithDefaultUnixDevices (and populateDefaultUnixSpec's deny-all)
DEFAULT_DEVICE_RULES = [
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},   # /dev/null
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},   # /dev/random
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},   # /dev/full
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},   # /dev/tty
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},   # /dev/zero
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},   # /dev/urandom
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},   # /dev/console
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},             # /dev/pts/*
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},   # /dev/ptmx
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # /dev/net/tun
    {"allow": True, "type": "c", "access": "m"},                             # mknod c *:*
    {"allow": True, "type": "b", "access": "m"},                             # mknod b *:*
]

# containerd pkg/oci/spec.go defaultUnixMaskedPaths / ReadonlyPaths (non-privileged containers)
MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/sys/devices/virtual/powercap", "/proc/scsi"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def all_capabilities():
    """Every capability this process may hold (containerd's privileged: WithAllCurrentCapabilities,
    the bounding set of the runtime's own process)."""
    names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
             "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
             "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
             "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
             "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
             "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
    with open("/proc/self/status") as f:
        bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
    return ["CAP_" + n for i, n in enumerate(names) if bnd >> i & 1]


def container_of(ds, name="nodeprint"):
    spec = ds["spec"]["template"]["spec"]
    return spec, next(c for c in spec["containers"] if c["name"] == name)


def cgroup_v2():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def translate(ds, rootfs, args=None, privileged=None, extra_devices=(), policy_dir=None, env=None,
              entrypoint=("/usr/bin/nodeprint",)):
    """The OCI config (a dict for config.json) of the DaemonSet @ds's container on rootfs @rootfs.
    @privileged None = as the manifest says; @extra_devices: device cgroup rules added after the
    defaults (what a device plugin or CDI would add)."""
    pod, c = container_of(ds)
    sc = c.get("securityContext", {})
    priv = sc.get("privileged", False) if privileged is None else privileged
    if priv:
        caps = all_capabilities()
    else:
        add = ["CAP_" + x for x in sc.get("capabilities", {}).get("add", [])]
        drop = sc.get("capabilities", {}).get("drop", [])
        caps = sorted(set(add)) if "ALL" in drop else sorted(set(add) | {"CAP_CHOWN", "CAP_DAC_OVERRIDE",
                                                                            "CAP_FSETID", "CAP_FOWNER",
                                                                            "CAP_MKNOD", "CAP_NET_RAW",
                                                                            "CAP_SETGID", "CAP_SETUID",
                                                                            "CAP_SETFCAP", "CAP_SETPCAP",
                                                                            "CAP_NET_BIND_SERVICE",
                                                                            "CAP_SYS_CHROOT", "CAP_KILL",
                                                                            "CAP_AUDIT_WRITE"})
    process_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    for e in c.get("env", []):
        if "value" in e:
            process_env.append(f"{e['name']}={e['value']}")
        elif e["name"] in (env or {}):
            process_env.append(f"{e['name']}={env[e['name']]}")
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev"] + ([] if priv else ["ro"])},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    ]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for vm in c.get("volumeMounts", []):
        v = vols[vm["name"]]
        # recursiveReadOnly: containerd asks runc for "rro" (mount_setattr(2) AT_RECURSIVE)
        rro = vm.get("recursiveReadOnly") in ("IfPossible", "Enabled") and vm.get("readOnly")
        ro = ["rro"] if rro else ["ro"] if vm.get("readOnly") else []
        prop = "rslave" if vm.get("mountPropagation") == "HostToContainer" else "rprivate"
        if "hostPath" in v:
            src = v["hostPath"]["path"]
            if v["hostPath"].get("type") == "DirectoryOrCreate":
                os.makedirs(src, exist_ok=True)
            mounts.append({"destination": vm["mountPath"], "type": "bind", "source": src,
                           "options": ["rbind", prop] + ro})
        elif "configMap" in v:
            if policy_dir:
                mounts.append({"destination": vm["mountPath"], "type": "bind", "source": policy_dir,
                               "options": ["rbind", "rprivate", "ro"]})
        elif "emptyDir" in v:
            size = v["emptyDir"].get("sizeLimit", "16Mi").replace("Mi", "m")
            mounts.append({"destination": vm["mountPath"], "type": "tmpfs", "source": "tmpfs",
                           "options": ["nosuid", "nodev", "mode=1777", f"size={size}"]})
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if not pod.get("hostNetwork"):
        namespaces.append({"type": "network"})
    if cgroup_v2():
        namespaces.append({"type": "cgroup"})
    devices = [{"allow": True, "access": "rwm"}] if priv else DEFAULT_DEVICE_RULES + list(extra_devices)
    linux = {"namespaces": namespaces, "resources": {"devices": devices},
             "cgroupsPath": f"/nodeprint-node-test/{os.getpid()}"}
    if not priv:
        linux["maskedPaths"] = MASKED
        linux["readonlyPaths"] = READONLY
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": sc.get("runAsUser", 0), "gid": 0},
            "args": list(entrypoint) + list(args if args is not None else c.get("args", [])),
            "env": process_env,
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "noNewPrivileges": sc.get("allowPrivilegeEscalation", True) is False,
        },
        "root": {"path": rootfs, "readonly": bool(sc.get("readOnlyRootFilesystem"))},
        "hostname": "nodeprint-node-test",
        "mounts": mounts,
        "linux": linux,
    }
