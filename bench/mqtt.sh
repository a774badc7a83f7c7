#!/usr/bin/env bash
# The MQTT benchmark of issue 16 (docs/benchmarks.md, "MQTT"): an independent paho-mqtt reader
# (with and without TCP_NODELAY) against the default embedded broker and against Mosquitto
# with set_tcp_nodelay true, the gateway in process; then the disk's bare fdatasync.
# Run under the CPU lock: flock /work/cpu.lock bench/mqtt.sh
# knobs: N=500 (sequential swipes and echoes) SUSTAINED=5000 IN_FLIGHT=64
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p gatehouse-bus --bench mqtt_paho
data="${TMPDIR:-/tmp}"
python3 bench/fsync-tail.py "$data"
