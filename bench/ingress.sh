#!/usr/bin/env bash
# The ingress flood benchmark (docs/benchmarks.md, "Ingress under flood"): `gatehouse demo`
# with its default embedded broker, flooded by an independent paho-mqtt client
# (bench/ingress_flood.py). Prints the client's figures, and the daemon's resident memory and
# store size before and after.
#   bench/ingress.sh [DURATION_S] [GARBAGE_RATE] [COMMAND_DURATION_S] [FORGED_RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin gatehouse
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mqtt_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
web_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/release/gatehouse" demo --data-dir "$dir/data" --mqtt-listen "127.0.0.1:$mqtt_port" \
  --web-listen "127.0.0.1:$web_port" >"$dir/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  python3 - "$mqtt_port" <<'PY' && break || sleep 0.2
import sys, paho.mqtt.client as m
c = m.Client(m.CallbackAPIVersion.VERSION2); c.connect("127.0.0.1", int(sys.argv[1])); sys.exit(0)
PY
done
sleep 3
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
store() { du -sk "$dir/data" | cut -f1; }
echo "{\"before\":{\"rss_kb\":$(rss),\"store_kb\":$(store)}}"
python3 bench/ingress_flood.py "$mqtt_port" north-estate config/demo-office.key "$@"
sleep 6  # the last refusal summaries are written when their 5 s interval ends
echo "{\"after\":{\"rss_kb\":$(rss),\"store_kb\":$(store)}}"
