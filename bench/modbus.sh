#!/usr/bin/env bash
# The Modbus benchmark of issue 4 (docs/benchmarks.md, "Modbus"): 60 doors on 20 simulated
# relay-io controllers (a separate `gatehouse sim controller` process) polled every 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin gatehouse
GATEHOUSE_BIN="$target/release/gatehouse" cargo bench -p gatehouse-devices --bench modbus_estate
