#!/usr/bin/env bash
# The ingress flood benchmark (docs/benchmarks.md, "Ingress under flood"): the sample estate
# plus one MQTT door (bench/ingress_estate.py) under `gatehouse run` with its default embedded
# broker, its 30 Modbus controllers simulated by `gatehouse sim controller` processes, flooded
# by an independent paho-mqtt client (bench/ingress_flood.py) that also plays the MQTT door
# and toggles its fire input. Prints the client's figures, the daemon's resident memory and
# store size before and after, a summary of its log and a verdict per target; exits 1 when a
# target is missed (then the daemon log's tail is printed and the run's directory kept).
#   bench/ingress.sh [DURATION_S] [GARBAGE_RATE] [COMMAND_DURATION_S] [FORGED_RATE]
# GATEHOUSE_BIN: the binary to run (default: build the release binary here).
# INGRESS_KEEP=1: keep the run's directory (config, data, logs) whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GATEHOUSE_BIN:-}" ]; then
  target="${CARGO_TARGET_DIR:-target}"
  cargo build --release --bin gatehouse
  GATEHOUSE_BIN="$target/release/gatehouse"
fi
bin=$GATEHOUSE_BIN
duration=${1:-30}
command_duration=${3:-15}
dir=$(mktemp -d)
pid=""
sims=()
cleanup() {
  status=$?
  set +e
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  for s in "${sims[@]}"; do kill "$s" 2>/dev/null; wait "$s" 2>/dev/null; done
  if [ "$status" -ne 0 ] || [ -n "${INGRESS_KEEP:-}" ]; then
    if [ "$status" -ne 0 ] && [ -f "$dir/daemon.log" ]; then
      echo "--- last 40 lines of the daemon log ---" >&2
      tail -n 40 "$dir/daemon.log" >&2
    fi
    echo "kept: $dir (estate.toml, data/, daemon.log, sim-*.log)" >&2
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mqtt_port=$(free_port)
web_port=$(free_port)
metrics_port=$(free_port)
# 30 consecutive free ports for the simulated controllers (the sample's 15020… may be taken
# by a demo).
modbus_base=""
for _ in $(seq 20); do
  base=$((20000 + RANDOM % 30000))
  if python3 - "$base" <<'PY'; then modbus_base=$base; break; fi
import socket, sys
b = int(sys.argv[1])
for p in range(b, b + 30):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
done
[ -n "$modbus_base" ] || { echo "no 30 free consecutive ports found" >&2; exit 1; }

# Broker logins of the bench's office, forger and door (loopback only, thrown away after).
export INGRESS_PASSWORD="bench-$RANDOM$RANDOM"
hash=$(printf '%s' "$INGRESS_PASSWORD" | "$bin" broker hash-password)
printf '%s\n%s\n%s\n' "$hash" "$hash" "$hash" |
  python3 bench/ingress_estate.py config/estate.toml "$dir/estate.toml" "$modbus_base" >"$dir/sims"
"$bin" check-config "$dir/estate.toml" >/dev/null
while read -r profile listen count; do
  "$bin" sim controller --profile "$profile" --listen "$listen" --count "$count" \
    >"$dir/sim-$profile.log" 2>&1 &
  sims+=($!)
done <"$dir/sims"
mkdir -p "$dir/data"
"$bin" import residents config/residents.csv --config "$dir/estate.toml" --data-dir "$dir/data" \
  >"$dir/import.log" 2>&1
"$bin" run --log-format json --config "$dir/estate.toml" --data-dir "$dir/data" --mqtt-listen "127.0.0.1:$mqtt_port" \
  --web-listen "127.0.0.1:$web_port" --metrics-listen "127.0.0.1:$metrics_port" \
  >"$dir/daemon.log" 2>&1 &
pid=$!
# Ready: /readyz passes (the broker is up and the controllers are online), within 60 s.
ready=""
for _ in $(seq 120); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=1)' \
    "$metrics_port" 2>/dev/null; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || { echo "the gateway did not become ready" >&2; exit 1; }
sleep 3
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
store() { du -sk "$dir/data" | cut -f1; }
echo "{\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"before\":{\"rss_kb\":$(rss),\"store_kb\":$(store)}}" | tee "$dir/figures"
python3 bench/ingress_flood.py "$mqtt_port" north-estate config/demo-office.key "$@" | tee -a "$dir/figures"
sleep 6  # the last refusal summaries are written when their 5 s interval ends
echo "{\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"after\":{\"rss_kb\":$(rss),\"store_kb\":$(store)}}" | tee -a "$dir/figures"
# Where the store's growth went and what the daemon logged: stop it, export its event log.
kill "$pid"
wait "$pid" || true
pid=""
"$bin" log export --config "$dir/estate.toml" --data-dir "$dir/data" --format jsonl \
  --out "$dir/events.jsonl" >/dev/null 2>&1 || true
python3 - "$dir/daemon.log" "$dir/events.jsonl" <<'PY' | tee -a "$dir/figures"
import collections, json, os, sys
levels, warns = collections.Counter(), collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    levels[v.get("level")] += 1
    if v.get("level") in ("WARN", "ERROR"):
        warns[v.get("fields", {}).get("message", "")[:70]] += 1
events = collections.Counter()
size = collections.Counter()
if os.path.exists(sys.argv[2]):
    for line in open(sys.argv[2]):
        kind = json.loads(line).get("kind")
        events[kind] += 1
        size[kind] += len(line)
print(json.dumps({"daemon_log": {"bytes": os.path.getsize(sys.argv[1]), "levels": levels,
                                 "top_warnings": warns.most_common(4)},
                  "events": {k: {"n": n, "bytes": size[k]} for k, n in events.most_common()}}))
PY
python3 - "$dir/figures" "$duration" "$command_duration" <<'PY'
import json, sys
f = {}
for line in open(sys.argv[1]):
    v = json.loads(line)
    if "events" in v:
        continue
    f[v.get("phase", "after" if "after" in v else "before")] = v
before, after = f["before"]["before"], f["after"]["after"]
g, c = f["garbage"], f["commands"]
minutes = (float(sys.argv[2]) + float(sys.argv[3])) / 60
growth = (after["store_kb"] - before["store_kb"]) / minutes
fire = [s["set_ms"] for s in g["fire"]]
verdict = {
    "swipe_p99_le_250ms_none_unanswered": g["p99_ms"] is not None and g["p99_ms"] <= 250 and g["unanswered"] == 0,
    "fire_released_le_100ms": bool(fire) and all(x is not None and x <= 100 for x in fire),
    "store_growth_le_1MB_per_min": growth <= 1024,
    "rss_le_plus_50MB": after["rss_kb"] - before["rss_kb"] <= 50 * 1024,
    "lockdowns_3_of_3": c["real_ok"] == 3,
}
print(json.dumps({"store_growth_kb_per_min": round(growth, 1),
                  "rss_growth_kb": after["rss_kb"] - before["rss_kb"], "targets": verdict}))
sys.exit(0 if all(verdict.values()) else 1)
PY
