#!/usr/bin/env python3
"""fwd.py HOST PORT - the host end of a QEMU user-network guestfwd (`guestfwd=tcp:ADDR:PORT-cmd:fwd.py ...`):
copies the guest's connection, which QEMU hands over as stdin/stdout, to HOST:PORT and back, one process
per connection (what `socat STDIO TCP:HOST:PORT` did, without its Nagle delays).

libslirp gives the command one end of a loopback TCP pair (slirp_socketpair_with_oob) and writes the
guest's bytes into the other end without TCP_NODELAY (fork_exec sets only SO_OOBINLINE). A request
that the guest sends as several TLS records (HTTP/2: a WINDOW_UPDATE, HEADERS, DATA) reaches that
socket as several writes, and Nagle holds each one after the first until this end ACKs - which Linux
delays by up to 40 ms (delayed ACK, TCP_DELACK_MIN). socat waited for that on every request. Here every
read from QEMU is followed by TCP_QUICKACK (tcp(7): the pending ACK goes out now), so QEMU's kernel
sends the held segment at once, and both of our own sockets have TCP_NODELAY, so nothing we write
waits either (the fault proxy and kube-apiserver, Go, set TCP_NODELAY themselves, as does libcurl).
When one side closes, the other is shut down for writing; exits when both directions are done.
"""
import os
import select
import socket
import sys


def tune(s, quickack=False):
    """TCP_NODELAY (and TCP_QUICKACK) on @s; a non-TCP stdin (a pipe, a unix socket) needs neither."""
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if quickack:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    except OSError:
        pass


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    up = socket.create_connection((host, port))
    tune(up)
    try:
        guest = socket.socket(fileno=os.dup(0))
    except OSError:
        guest = None            # stdin is not a socket: plain reads and writes, nothing to tune
    if guest:
        tune(guest, quickack=True)
    reading = {0: True, up.fileno(): True}
    while any(reading.values()):
        # once one direction has ended, the other gets 5 s of silence before we go (socat's -t, longer)
        timeout = None if all(reading.values()) else 5
        ready, _, _ = select.select([fd for fd, on in reading.items() if on], [], [], timeout)
        if not ready:
            break
        for fd in ready:
            if fd == 0:
                data = os.read(0, 65536)
                if guest:
                    tune(guest, quickack=True)      # ACK what was read now: QEMU's Nagle waits for it
                if data:
                    up.sendall(data)
                else:
                    reading[0] = False
                    up.shutdown(socket.SHUT_WR)
            else:
                data = up.recv(65536)
                if data:
                    write_all(1, data)
                    continue
                reading[fd] = False
                if guest:
                    guest.shutdown(socket.SHUT_WR)
                else:
                    os.close(1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BrokenPipeError, ConnectionError):
        sys.exit(0)
