#!/usr/bin/env python3
"""kmsg_capture.py - save this machine's kernel log ring buffer as a fixture.

    tests/kmsg_capture.py --out tests/fixtures/NAME [--root /]

Reads ROOT/dev/kmsg the way the follower does (non-blocking, one read() = one record,
from the first record still in the buffer until EAGAIN; EPIPE = overtaken, go on) and
writes the records back to back, byte for byte, to OUT/dev/kmsg: a regular file that
`nodeprint --host-root OUT` and the unit tests read as a stream (each record ends in a
newline; its dictionary lines start with a space). Nothing is invented or reordered.
"""
import argparse, errno, os, sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    fd = os.open(os.path.join(a.root, "dev/kmsg"), os.O_RDONLY | os.O_NONBLOCK)
    os.lseek(fd, 0, os.SEEK_SET)
    records, lost = [], 0
    while True:
        try:
            rec = os.read(fd, 16384)
        except BlockingIOError:
            break
        except OSError as e:
            if e.errno == errno.EPIPE:
                lost += 1
                continue
            raise
        if not rec:
            break
        records.append(rec if rec.endswith(b"\n") else rec + b"\n")
    os.close(fd)
    os.makedirs(os.path.join(a.out, "dev"), exist_ok=True)
    with open(os.path.join(a.out, "dev", "kmsg"), "wb") as f:
        f.write(b"".join(records))
    print(f"captured {len(records)} records into {a.out}/dev/kmsg ({lost} overruns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
