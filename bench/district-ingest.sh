#!/usr/bin/env bash
# Issue 20's office benchmarks against real peers: a three-node NATS cluster
# (deploy/district/nats-cluster.sh) and a PostgreSQL server of its own
# (deploy/district/postgres.sh), both on this machine, both stopped at the end.
#
#   flock /work/cpu.lock bench/district-ingest.sh
#   EVENTS=200000 SITES=37 RATE=100 SECONDS=30 bench/district-ingest.sh
#
# crates/office/benches/ingest.rs does the measuring: the sustained ingest rate of events
# already in the stream (target >= 5,000 events/s) and, at RATE events/s spread over SITES
# estates, the delay from publish to the row in PostgreSQL (target p99 <= 1 s). Events are
# published straight into JetStream with valid hash chains; gateways are not involved (the
# uplink's own path is tested in crates/bus/tests/uplink.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-$(mktemp -d /tmp/district-bench.XXXXXX)}
BASE=${BASE_PORT:-24222}
PG_PORT=${PG_PORT:-25433}
cleanup() {
  deploy/district/nats-cluster.sh stop "$WORK/nats" || true
  deploy/district/postgres.sh stop "$WORK/pg" || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
deploy/district/nats-cluster.sh start "$WORK/nats" "$BASE"
PG_URL=$(deploy/district/postgres.sh start "$WORK/pg" "$PG_PORT")
export PG_URL
export NATS_SERVERS="nats://127.0.0.1:$BASE,nats://127.0.0.1:$((BASE + 1)),nats://127.0.0.1:$((BASE + 2))"
echo "nats: $NATS_SERVERS"
echo "postgres: $PG_URL"
nproc | sed 's/^/cores: /'
cargo bench -p gatehouse-office --bench ingest
