#!/usr/bin/env bash
# 1, 2 and 4 weeks × 0, 20 and 40 % missing exits through the CLI (simulate, report, eval),
# our inference beside the two simple baselines, all on the same seeded simulated estates.
#
#   cargo build --release && bench/occupancy-eval.sh            # 1,000 households, seed 42
#   HOUSEHOLDS=300 SEED=7 bench/occupancy-eval.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GATEHOUSE:-${CARGO_TARGET_DIR:-target}/release/gatehouse}
HOUSEHOLDS=${HOUSEHOLDS:-1000}
SEED=${SEED:-42}
command -v jq >/dev/null || { echo "bench/occupancy-eval.sh needs jq: apt-get install jq" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no binary at $BIN: run cargo build --release (or set GATEHOUSE=path)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "$HOUSEHOLDS households, seed $SEED."
echo
echo "| weeks | missing exits | method | F1 occupied vs vacant | residents exact % | residents ±1 % | over-occupancy P@20 | head-count error % | anomaly recall % (lent / cloned / moved out / tailgating) | false alarms per 1,000 passes |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for weeks in 1 2 4; do
  for miss in 0 0.2 0.4; do
    d="$work/w$weeks-m$miss"
    "$BIN" simulate --households "$HOUSEHOLDS" --days $((weeks * 7)) --seed "$SEED" --missing-exits "$miss" --out "$d" >/dev/null
    from=$(jq -r .window.from "$d/truth.json")
    to=$(jq -r .window.to "$d/truth.json")
    pct=$(awk "BEGIN { printf \"%d\", $miss * 100 }")
    for m in ours first-last-read last-direction entry-days; do
      "$BIN" report occupancy --config "$d/estate.toml" --swipes "$d/swipes.csv" --estate-json "$d/estate.json" \
        --from "$from" --to "$to" --method "$m" --format json --out "$d/$m.json"
      "$BIN" eval occupancy --truth "$d/truth.json" --report "$d/$m.json" --markdown-row "$weeks | $pct % | $m" | tail -n 1
    done
  done
done
