#!/usr/bin/env python3
"""ports.py - TCP ports for the tests' own servers (control plane, kubelet, agents, QEMU forwards), the one
place tests pick them.

    python3 tests/ports.py [N [ADDR]]     N free ports (default 1) on ADDR (default 127.0.0.1), one a line
    import ports; ports.free_port(addr="127.0.0.1"); ports.free_ports(n, addr="127.0.0.1")

A port is found free now and bound later by another process (etcd, kube-apiserver, a kubelet, QEMU):
in between anyone may take it. bind(port 0) draws from the kernel's ephemeral range
(net.ipv4.ip_local_port_range, 32768-60999 by default), the same range every other process's bind(0)
and every outgoing connection's source port come from: on a busy machine (parallel suites, the control
plane's own hundreds of connections) a port picked that way was taken before the server bound it, and
a cluster that restarts on its kept ports found one of them taken by a client connection. So the ports
here are drawn at random BELOW the ephemeral range (from 20000, or above it when it starts lower):
only an explicit bind takes such a port, never a connection or a bind(0). Each is checked free by
binding it (127.0.0.1 and the wildcard address both conflict) and the N are distinct. Two pickers can
still draw the same port (about 1 in 12000 per pair): a caller that starts a server retries its start
on a new port when the bind fails (tests/cluster/cluster.sh does).
"""
import random
import socket
import sys

LOW = 20000


def _ranges():
    """The ranges to draw from: below the ephemeral range, else above it; [(first, last)]."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    out = []
    if lo - 1 - LOW >= 1000:
        out.append((LOW, lo - 1))
    if 65535 - hi - 1 >= 1000:
        out.append((hi + 1, 65535))
    return out or [(1024, 65535)]


def _free(addr, port):
    with socket.socket() as s:
        try:
            s.bind((addr, port))
            return True
        except OSError:
            return False


def free_ports(n, addr="127.0.0.1"):
    """@n distinct TCP ports free on @addr now, outside the ephemeral range (see above)."""
    rng = random.SystemRandom()
    ranges = _ranges()
    got = []
    for _ in range(1000 * max(n, 1)):
        if len(got) == n:
            return got
        first, last = rng.choice(ranges)
        p = rng.randint(first, last)
        if p not in got and _free(addr, p):
            got.append(p)
    raise OSError(f"ports.py: no {n} free ports on {addr}")


def free_port(addr="127.0.0.1"):
    """One TCP port free on @addr now, outside the ephemeral range."""
    return free_ports(1, addr)[0]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    print("\n".join(str(p) for p in free_ports(n, sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1")))
