#!/usr/bin/env python3
"""Start `gatehouse run` and time it: process start -> first 200 from /readyz on the metrics
listener, and -> the "Live occupancy seeded" (or "could not start") line on stderr. Every
stderr line is kept with its time since start; warnings and errors are listed. Prints one
JSON object. Loopback only; the wait is bounded (TIMEOUT s).

  startup_probe.py BIN CONFIG DATA_DIR METRICS_PORT MQTT_PORT WEB_PORT [TIMEOUT] [HOLD]

After both, the gateway is left running HOLD s (default 3) before /metrics is read (active
alarms, outbox lag) and it is stopped with SIGTERM.
"""
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

bin_, config, data, mport, qport, wport = sys.argv[1:7]
timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 120.0
hold = float(sys.argv[8]) if len(sys.argv) > 8 else 3.0
url = f"http://127.0.0.1:{mport}"

lines = []  # (seconds since start, line)
t0 = time.monotonic()
proc = subprocess.Popen(
    [bin_, "run", "--log-format", "json", "--config", config, "--data-dir", data,
     "--mqtt-listen", f"127.0.0.1:{qport}", "--web-listen", f"127.0.0.1:{wport}",
     "--metrics-listen", f"127.0.0.1:{mport}"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def reader():
    for line in proc.stderr:
        lines.append((time.monotonic() - t0, line.rstrip("\n")))


threading.Thread(target=reader, daemon=True).start()

ready = None
body = None
last = None
while time.monotonic() - t0 < timeout and proc.poll() is None:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as r:
            if r.status == 200:
                ready = time.monotonic() - t0
                body = r.read().decode()
                break
    except urllib.error.HTTPError as e:
        last = f"{e.code} {e.read().decode()[:300]}"
    except OSError as e:
        last = str(e)
    time.sleep(0.005)


def seeded_at():
    for t, line in lines:
        if "Live occupancy" in line:
            return t, line
    return None, None


# Wait (bounded) for live occupancy to finish seeding, which may come after readiness.
while ready is not None and seeded_at()[0] is None and time.monotonic() - t0 < timeout \
        and proc.poll() is None:
    time.sleep(0.02)
seeded, seeded_line = seeded_at()

metrics = {}
if proc.poll() is None:
    time.sleep(hold)
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            for m in r.read().decode().splitlines():
                name = m.split(" ")[0]
                if name in ("gatehouse_alarms_active", "gatehouse_outbox_lag_events",
                            "gatehouse_log_records_total", "gatehouse_log_writable"):
                    metrics[name] = float(m.split()[1])
    except OSError:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
time.sleep(0.1)

notable = []
counts = {}
for t, line in lines:
    try:
        rec = json.loads(line)
    except ValueError:
        rec = {"level": "?", "fields": {"message": line}}
    if rec.get("level") in ("WARN", "ERROR", "?"):
        fields = rec.get("fields", {})
        if fields.get("log.target", "").startswith("rmqtt"):
            continue  # the embedded broker's own chatter (a client kicked at shutdown)
        key = f'{rec.get("level")} {fields.get("message", "")}'
        counts[key] = counts.get(key, 0) + 1
        if counts[key] == 1:
            notable.append({"t": round(t, 3), "level": rec.get("level"), "fields": fields})

print(json.dumps({
    "ready_s": None if ready is None else round(ready, 3),
    "readyz": body if ready is not None else last,
    "occupancy_seeded_s": None if seeded is None else round(seeded, 3),
    "occupancy_line": seeded_line,
    "alarms_active": metrics.get("gatehouse_alarms_active"),
    "outbox_lag": metrics.get("gatehouse_outbox_lag_events"),
    "metrics": metrics,
    "ran_s": round(time.monotonic() - t0, 3),
    "exit": proc.returncode,
    "warning_counts": counts,
    "warnings": notable,
}))
