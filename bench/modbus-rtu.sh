#!/usr/bin/env bash
# The shared RS-485 bus benchmark of issue 15 (docs/benchmarks.md, "Modbus RTU: one silent
# unit"): two relay-io units on one socat bus, unit 2 silent in the second phase.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p gatehouse-devices --bench modbus_rtu_isolation
