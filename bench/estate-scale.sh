#!/usr/bin/env bash
# The estate-scale benchmark of issue 14 (docs/benchmarks.md, "Estate scale (issue 14)"): for
# each size, a generated residents file imported into a fresh store, then start to ready,
# resident memory, and swipe latency with and without 10 console people searches per second
# (bench/estate_scale.py). Prints one JSON line per size.
# Run under the CPU lock: flock /work/cpu.lock bench/estate-scale.sh
# knobs: GATEHOUSE_BIN=target/release/gatehouse SIZES="50000 250000" SWIPE_S=30 STARTS=3
# PHASES=6 (swipe phases, alternately without and with searches) KEEP=1 (keep the data
# directories)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${GATEHOUSE_BIN:-${CARGO_TARGET_DIR:-target}/release/gatehouse}"
if [ ! -x "$bin" ]; then
  echo "no gatehouse binary at $bin: build it (cargo build --release --bin gatehouse) or set GATEHOUSE_BIN" >&2
  exit 1
fi
for persons in ${SIZES:-50000 250000}; do
  python3 bench/estate_scale.py "$bin" "$persons" "${SWIPE_S:-30}" "${STARTS:-3}" "${PHASES:-6}"
done
