#!/usr/bin/env python3
"""The disk's fsync tail: writes 4 KiB and fdatasyncs it, 3,000 times, in the directory given
(default: the current one), and prints p50, p99, p99.9 and max. A lone swipe's latency can be
no better than this (its record must be durable before the door opens).

    flock /work/cpu.lock bench/fsync-tail.py [DIR] [EVERY_MS] [COUNT]

EVERY_MS (default 10) is the pause between fdatasyncs. It matters: on a virtual disk a
fdatasync after the disk has been idle for a few tens of milliseconds can cost several times
one issued 10 ms after the last (docs/benchmarks.md, "MQTT"), so bench/mqtt.sh measures it
at 10 ms and at the sequential swipes' own pace (110 ms). Run under the CPU lock.
"""
import os
import sys
import time

path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "fsync-tail.tmp")
every = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.010
count = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
times = []
try:
    for i in range(count):
        os.pwrite(fd, b"x" * 4096, (i % 256) * 4096)
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(every)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
n = len(times)
print(
    "fdatasync every %d ms, %d times: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; over 5 ms: %d"
    % (round(every * 1000), n, times[n // 2], times[int(n * 0.99)], times[int(n * 0.999)], times[-1], sum(t > 5 for t in times))
)
