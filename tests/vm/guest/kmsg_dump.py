#!/usr/bin/env python3
"""kmsg_dump.py OUT - copy the kernel's /dev/kmsg records (as read(2) returns them) to the file OUT.

Part of the node-in-a-box capture (tests/vm/nib.py capture): /dev/kmsg is a stream, so
tests/capture.py cannot copy it; this reads it non-blocking, one record per read(2), until
EAGAIN, and writes the records unchanged (Documentation/ABI/testing/dev-kmsg).
"""
import errno, os, sys

out = sys.argv[1]
os.makedirs(os.path.dirname(out), exist_ok=True)
fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
recs = []
while True:
    try:
        recs.append(os.read(fd, 8192))
    except BlockingIOError:
        break
    except OSError as e:
        if e.errno == errno.EPIPE:   # overwritten while reading: go on from the next record
            continue
        raise
with open(out, "wb") as f:
    f.write(b"".join(recs))
print(f"{len(recs)} kmsg records -> {out}")
