#!/usr/bin/env bash
# Issue 19's store benchmarks: backup of a ~1 GB store, `log verify` of ~1 M records, and
# start-up with a damaged old record (time to /readyz 200), each with /usr/bin/time -v where
# it is one command (wall, CPU, peak RSS).
#
#   flock /work/cpu.lock bench/store-ops.sh                          # ~1 GiB store
#   SIZE_MB=100 WORK=/tmp/storebench bench/store-ops.sh              # a smaller one
#   GATEHOUSE_BIN=/path/to/gatehouse ...                             # default: target/release/gatehouse
#
# Needs bash, python3, jq, GNU time and ss (`apt-get install -y jq time iproute2`); the
# start-up probe is bench/startup_probe.py (python3 standard library only). Everything goes under WORK (default
# /tmp/storebench/ops) and is deleted at the end unless KEEP=1 (the store is ~SIZE_MB).
#
# The store is made the way bench/occupancy-10m.sh makes its: `gatehouse simulate` writes
# swipe records, `gatehouse import swipes` imports them. A small calibration run (200
# households x 30 days) gives the store's bytes per record, from which DAYS for HOUSEHOLDS
# is chosen to reach SIZE_MB.
#
# Backup while the gateway runs: `gatehouse backup` opens the store itself, and redb lets one
# process hold a store file, so on a running gateway it is refused ("in use"); the running
# gateway backs up on its `[backup]` schedule (every_h >= 1 hour, first one a period after
# start), which this script does not wait for. The refusal is checked and printed.
#
# Damage: as crates/store/tests/damage.rs does it, one byte inside the JSON of an old record
# (DAMAGE_SEQ, default 5000) is XORed with 0x80 (invalid UTF-8) in a copy of the backup
# (a fresh file, where each record is stored once); the data directory's seal key goes with
# it. The undamaged backup copy is the baseline. Each copy is started once to warm up (the
# first start makes the console's certificate and the admin user), then RUNS times; each
# start is timed to /readyz 200 and to live occupancy's first line, then left running HOLD s
# (default 3) before /metrics is read (active alarms, outbox lag) and it is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD
SIZE_MB=${SIZE_MB:-1024}
HOUSEHOLDS=${HOUSEHOLDS:-5000}
SEED=${SEED:-42}
DAMAGE_SEQ=${DAMAGE_SEQ:-5000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/storebench/ops}
BIN_SRC=${GATEHOUSE_BIN:-target/release/gatehouse}
# Loopback ports for `gatehouse run` (metrics, MQTT, console); start-ups use BASE+1, +2, ...
MPORT=${MPORT:-29464}
QPORT=${QPORT:-28831}
WPORT=${WPORT:-28443}
command -v jq >/dev/null || { echo "needs jq: apt-get install jq" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time: apt-get install time" >&2; exit 1; }
mkdir -p "$WORK"
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
BIN="$WORK/gatehouse"
# Copied so that a build into the shared target directory cannot swap it.
cp "$BIN_SRC" "$BIN"

wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
field() { awk -F': ' -v k="$2" '$0 ~ k { print $2 }' "$1"; }
summary() { # FILE -> "W s wall, U s user + S s sys, peak R MiB"
  echo "$(wall "$1") s wall, $(field "$1" 'User time') s user + $(field "$1" 'System time') s sys," \
    "peak $(($(field "$1" 'Maximum resident') / 1024)) MiB"
}
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

echo "== $(date -u +%FT%TZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$BIN" --version)"

# --- calibration
"$BIN" simulate --households 200 --days 30 --seed "$SEED" --out "$WORK/cal-sim" >/dev/null
"$BIN" import residents "$WORK/cal-sim/residents.csv" --config "$WORK/cal-sim/estate.toml" --data-dir "$WORK/cal" >/dev/null
cal_n=$("$BIN" import swipes "$WORK/cal-sim/swipes.csv" --skip-bad --config "$WORK/cal-sim/estate.toml" \
  --data-dir "$WORK/cal" 2>/dev/null | grep -o 'now at seq [0-9]*' | grep -o '[0-9]*$')
cal_b=$(size "$WORK/cal/gatehouse.redb")
per_rec=$(awk -v b="$cal_b" -v n="$cal_n" 'BEGIN { printf "%.1f", b / n }')
per_hh_day=$(awk -v n="$cal_n" 'BEGIN { printf "%.3f", n / (200 * 30) }')
DAYS=${DAYS:-$(awk -v s="$SIZE_MB" -v r="$per_rec" -v d="$per_hh_day" -v h="$HOUSEHOLDS" \
  'BEGIN { x = s * 1048576 / r / d / h; printf "%d", (x < 1 ? 1 : x + 0.5) }')}
echo "calibration: $cal_n records in $(mib "$cal_b") MiB = $per_rec bytes/record, $per_hh_day records per household-day" \
  "-> $HOUSEHOLDS households x $DAYS days for ~$SIZE_MB MiB"
rm -rf "$WORK/cal" "$WORK/cal-sim"

# --- the store
SIM="$WORK/sim"
DATA="$WORK/data"
CONFIG="$SIM/estate.toml"
/usr/bin/time -v -o "$WORK/simulate.time" "$BIN" simulate --households "$HOUSEHOLDS" --days "$DAYS" \
  --seed "$SEED" --out "$SIM" >/dev/null
echo "simulate: $(summary "$WORK/simulate.time")"
"$BIN" import residents "$SIM/residents.csv" --config "$CONFIG" --data-dir "$DATA" >/dev/null
/usr/bin/time -v -o "$WORK/import.time" "$BIN" import swipes "$SIM/swipes.csv" --skip-bad \
  --config "$CONFIG" --data-dir "$DATA" 2>/dev/null >"$WORK/import.out"
RECORDS=$(grep -o 'now at seq [0-9]*' "$WORK/import.out" | grep -o '[0-9]*$')
rm -f "$SIM/swipes.csv"
STORE_B=$(size "$DATA/gatehouse.redb")
echo "import: $RECORDS records, $(summary "$WORK/import.time")"
echo "store: $DATA/gatehouse.redb $(mib "$STORE_B") MiB ($STORE_B bytes; du $(du -sm "$DATA" | cut -f1) MiB)"

# --- log verify of the store
/usr/bin/time -v -o "$WORK/verify.time" "$BIN" log verify --config "$CONFIG" --data-dir "$DATA" | tee "$WORK/verify.out"
w=$(wall "$WORK/verify.time")
echo "log verify: $RECORDS records, $(summary "$WORK/verify.time"), $(awk -v n="$RECORDS" -v w="$w" 'BEGIN { printf "%.0f", n / w }') records/s"

# --- backup (gateway stopped)
BACKUP="$WORK/backup.redb"
/usr/bin/time -v -o "$WORK/backup.time" "$BIN" backup --config "$CONFIG" --data-dir "$DATA" --out "$BACKUP" | tee "$WORK/backup.out"
w=$(wall "$WORK/backup.time")
BACKUP_B=$(size "$BACKUP")
echo "backup: $(summary "$WORK/backup.time"), $(awk -v b="$STORE_B" -v w="$w" 'BEGIN { printf "%.1f", b / 1048576 / w }') MiB/s of store read," \
  "backup file $(mib "$BACKUP_B") MiB"
/usr/bin/time -v -o "$WORK/verify-backup.time" "$BIN" log verify --config "$CONFIG" --data-dir "$DATA" --file "$BACKUP" | tee "$WORK/verify-backup.out"
echo "log verify --file backup: $(summary "$WORK/verify-backup.time")"

# --- backup while `gatehouse run` holds the store
python3 - "$BIN" "$CONFIG" "$DATA" "$MPORT" "$QPORT" "$WPORT" "$WORK/backup-running.redb" <<'EOF'
import subprocess, sys, time, urllib.request
bin_, config, data, mp, qp, wp, out = sys.argv[1:8]
p = subprocess.Popen([bin_, "run", "--config", config, "--data-dir", data, "--mqtt-listen", f"127.0.0.1:{qp}",
                      "--web-listen", f"127.0.0.1:{wp}", "--metrics-listen", f"127.0.0.1:{mp}"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.monotonic()
while time.monotonic() - t0 < 120 and p.poll() is None:
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{mp}/readyz", timeout=1).status == 200:
            break
    except OSError:
        time.sleep(0.05)
r = subprocess.run([bin_, "backup", "--config", config, "--data-dir", data, "--out", out],
                   capture_output=True, text=True)
p.terminate(); p.wait(timeout=30)
print(f"backup while running: exit {r.returncode}: {(r.stdout + r.stderr).strip()[:400]}")
EOF
rm -f "$WORK/backup-running.redb"

# --- start-up with a damaged old record
mkdir -p "$WORK/clean" "$WORK/damaged"
cp "$BACKUP" "$WORK/clean/gatehouse.redb"
cp "$DATA/log-seal.key" "$WORK/clean/"
cp "$WORK/clean/log-seal.key" "$WORK/damaged/"
chmod 600 "$WORK"/{clean,damaged}/*
rm -rf "$DATA" # the copies are enough from here on (disk)
python3 - "$WORK/clean/gatehouse.redb" "$WORK/damaged/gatehouse.redb" "$DAMAGE_SEQ" <<'EOF'
import mmap, shutil, sys
src, dst, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.copyfile(src, dst)
needle = b'"seq":%d,' % seq
with open(dst, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
    at = m.find(needle)
    if at < 0 or m.find(needle, at + 1) >= 0:
        sys.exit(f"record {seq}: found {'no' if at < 0 else 'more than one'} copy")
    start = m.rfind(b'{"id":', 0, at)
    # A byte inside the record's "door" value: invalid UTF-8 (redb used to panic on it).
    door = m.find(b'"door":"', at, at + 600)
    off = door + len(b'"door":"') + 2 if door >= 0 else at + 2
    m[off] ^= 0x80
    print(f"damaged: record {seq}, record starts at byte {start}, byte {off} (record byte {off - start}) XOR 0x80")
EOF
set +e
"$BIN" log verify --config "$CONFIG" --data-dir "$WORK/damaged" >"$WORK/verify-damaged.out" 2>&1
echo "log verify of the damaged copy: exit $?: $(tr '\n' ' ' <"$WORK/verify-damaged.out" | cut -c1-600)"
set -e
# Every start gets ports of its own: the embedded broker's port stays in TIME-WAIT for a
# minute after a stop, so ports with any socket on them (`ss`) are skipped.
n=0
busy() { ss -tanH | awk '{ print $4; print $5 }' | grep -qE ":($((MPORT + n))|$((QPORT + n))|$((WPORT + n)))\$"; }
start() { # COPY OUT
  n=$((n + 1))
  while busy && [ "$n" -lt 500 ]; do n=$((n + 1)); done
  python3 "$HERE/bench/startup_probe.py" "$BIN" "$CONFIG" "$WORK/$1" $((MPORT + n)) $((QPORT + n)) $((WPORT + n)) 120 "${HOLD:-3}" >"$2"
}
for copy in clean damaged; do
  start "$copy" "$WORK/start-$copy-warm.json"
  echo "start-up $copy (warm-up, makes cert and admin): $(jq -c '{ready_s, occupancy_seeded_s, exit}' "$WORK/start-$copy-warm.json")"
  for i in $(seq 1 "$RUNS"); do
    start "$copy" "$WORK/start-$copy-$i.json"
    echo "start-up $copy #$i: $(jq -c '{ready_s, occupancy_seeded_s, alarms_active, outbox_lag, ran_s, exit}' "$WORK/start-$copy-$i.json")"
  done
  echo "  readyz: $(jq -r .readyz "$WORK/start-$copy-$RUNS.json")"
  echo "  occupancy: $(jq -r '.occupancy_line // "none"' "$WORK/start-$copy-$RUNS.json" | cut -c1-400)"
  echo "  warnings/errors on stderr (last run, by message): $(jq -c '.warning_counts' "$WORK/start-$copy-$RUNS.json")"
  echo "  first of each: $(jq -c '.warnings' "$WORK/start-$copy-$RUNS.json" | cut -c1-1500)"
done
echo "== done $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
