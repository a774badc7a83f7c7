#!/usr/bin/env python3
"""The disk's fsync tail: writes 4 KiB and fdatasyncs it every 10 ms, 3,000 times, in the
directory given (default: the current one), and prints p50, p99, p99.9 and max. A lone
swipe's latency can be no better than this (its record must be durable before the door
opens). Run under the CPU lock: `flock /work/cpu.lock bench/fsync-tail.py /path/on/the/disk`.
"""
import os
import sys
import time

path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "fsync-tail.tmp")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
times = []
try:
    for i in range(3000):
        os.pwrite(fd, b"x" * 4096, (i % 256) * 4096)
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.01)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
n = len(times)
print(
    "fdatasync every 10 ms, %d times: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; over 5 ms: %d"
    % (n, times[n // 2], times[int(n * 0.99)], times[int(n * 0.999)], times[-1], sum(t > 5 for t in times))
)
