#!/usr/bin/env bash
# The MQTT benchmark of issue 16 (docs/benchmarks.md, "MQTT"): an independent paho-mqtt reader
# (with and without TCP_NODELAY) against the default embedded broker and against Mosquitto
# with set_tcp_nodelay true, the gateway in process; then the disk's bare fdatasync, every
# 10 ms and at the sequential swipes' own pace (one per 110 ms, 1,000 of them: ~2 minutes).
# Run under the CPU lock: flock /work/cpu.lock bench/mqtt.sh
# knobs: N=500 (sequential swipes, paced to a reader's 10/s, and echoes: the issue's 500) SUSTAINED=0 IN_FLIGHT=64
# (a sustained run from one reader measures the admission limit of 10 swipes/s per reader;
# the gateway's own throughput is the runtime bench's, docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p gatehouse-bus --bench mqtt_paho
data="${TMPDIR:-/tmp}"
python3 bench/fsync-tail.py "$data" 10
python3 bench/fsync-tail.py "$data" 110 1000
