#!/usr/bin/env bash
# Issue 20's district benchmarks with real gateways: ESTATES gateway daemons (default 37, the
# sub-district's communities) as separate processes on this machine, each with its embedded
# broker and its uplink to a three-node NATS cluster, and `gatehouse office` on a PostgreSQL
# server of its own. All are release builds with the shipped defaults; everything is stopped
# at the end.
#
#   flock /work/cpu.lock bench/district-estates.sh
#   ESTATES=37 ROUNDS=10 RATE=100 DURATION=30 bench/district-estates.sh
#
# bench/district_estates.py does the measuring, through the district console's HTTPS API as
# an office would:
# - a lockdown of every estate (then its lift), ROUNDS times: each estate's answer time as the
#   office records it (order written -> the estate's signed-command result), p50/p99/max;
#   target p99 <= 2 s for a lockdown of all 37 fully acknowledged;
# - the district head-count query (GET /api/district/headcounts), 200 times: p50/p99;
#   target <= 100 ms;
# - swipes at RATE per second spread over the estates for DURATION seconds (paho-mqtt readers on each
#   estate's broker): the delay from the gateway's decision (`at`) to the row in PostgreSQL
#   (`received`), p50/p99; target p99 <= 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
ESTATES=${ESTATES:-37}
WORK=${WORK:-$(mktemp -d /tmp/district-estates.XXXXXX)}
BASE=${BASE_PORT:-26222}
PG_PORT=${PG_PORT:-26433}
MQTT_BASE=${MQTT_BASE:-27000}
CONSOLE=${CONSOLE:-127.0.0.1:9643}
export GATEHOUSE_ADMIN_PASSWORD=${GATEHOUSE_ADMIN_PASSWORD:-bench-district-pw}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  deploy/district/nats-cluster.sh stop "$WORK/nats" >/dev/null 2>&1 || true
  deploy/district/postgres.sh stop "$WORK/pg" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

python3 -c 'import paho.mqtt.client' 2>/dev/null || pip install --quiet paho-mqtt 2>/dev/null \
  || pip install --quiet --break-system-packages paho-mqtt
cargo build --release --locked --bin gatehouse
BIN=$PWD/target/release/gatehouse

deploy/district/nats-cluster.sh start "$WORK/nats" "$BASE"
PG_URL=$(deploy/district/postgres.sh start "$WORK/pg" "$PG_PORT")
"$BIN" keys new --out "$WORK/district" >/dev/null
PUBLIC=$(tr -d '\n' < "$WORK/district.pub")
URLS="\"mqtt://127.0.0.1:$((BASE + 20))\", \"mqtt://127.0.0.1:$((BASE + 21))\", \"mqtt://127.0.0.1:$((BASE + 22))\""

cat > "$WORK/office.toml" <<TOML
[nats]
servers = ["nats://127.0.0.1:$BASE", "nats://127.0.0.1:$((BASE + 1))", "nats://127.0.0.1:$((BASE + 2))"]
[postgres]
url = "$PG_URL"
[issuer]
id = "district"
key_file = "district.key"
[web]
listen = "$CONSOLE"
data_dir = "office-data"
TOML
"$BIN" office --config "$WORK/office.toml" > "$WORK/office.log" 2>&1 &
pids+=($!)

for k in $(seq 1 "$ESTATES"); do
  site=$(printf 'estate-%02d' "$k")
  mkdir -p "$WORK/$site"
  cat > "$WORK/$site/estate.toml" <<TOML
[site]
id = "$site"
name = "社区 $k"
[broker]
mode = "embedded"
listen = "127.0.0.1:$((MQTT_BASE + k))"
[web]
listen = "127.0.0.1:0"
[metrics]
enabled = false
[uplink]
urls = [$URLS]
[[issuers]]
id = "district"
public_key = "$PUBLIC"
[[zones]]
id = "court"
name = "小区"
parent = "site"
[[doors]]
id = "gate"
name = "大门"
kind = "pedestrian"
outside = "outside"
inside = "court"
controller = "mqtt"
readers = [{ id = "r-in", direction = "in" }]
TOML
  "$BIN" run --config "$WORK/$site/estate.toml" --data-dir "$WORK/$site/data" > "$WORK/$site/log" 2>&1 &
  pids+=($!)
done
echo "cores: $(nproc); estates: $ESTATES gateway processes; office console https://$CONSOLE/"
python3 bench/district_estates.py --console "$CONSOLE" --estates "$ESTATES" --mqtt-base "$MQTT_BASE" \
  --pg "$PG_URL" --rounds "${ROUNDS:-10}" --rate "${RATE:-100}" --seconds "${DURATION:-30}"
ps -o rss= -p "${pids[1]}" | awk '{printf "one gateway resident memory: %.0f MB\n", $1/1024}'
ps -o rss= -p "${pids[0]}" | awk '{printf "office resident memory: %.0f MB\n", $1/1024}'
