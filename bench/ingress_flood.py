#!/usr/bin/env python3
"""Flood benchmark of the MQTT ingress (docs/benchmarks.md, "Ingress under flood").

An independent paho-mqtt client against a running gatehouse (the demo: `bench/ingress.sh`
starts one). Two phases:

1. garbage: GARBAGE_RATE messages/s at QoS 0 for DURATION s (non-JSON on unknown readers'
   swipe topics, on a configured reader that is not the measured one, and on topics with
   invalid ids), while one legitimate swipe every 200 ms goes to a configured reader from a
   second client (TCP_NODELAY) that waits for each result: p50/p99/max and unanswered.
2. commands: FORGED_RATE forged command envelopes/s at QoS 0 for COMMAND_DURATION s, with
   three real signed lockdown/lift commands (the demo office key) spread through it: how many
   were answered ok.

Prints one JSON line per phase. Usage:
  ingress_flood.py PORT SITE KEYFILE [DURATION] [GARBAGE_RATE] [COMMAND_DURATION] [FORGED_RATE]
"""
import base64
import datetime
import json
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PORT = int(sys.argv[1])
SITE = sys.argv[2]
KEY = Ed25519PrivateKey.from_private_bytes(base64.b64decode(open(sys.argv[3]).read().strip()))
DURATION = float(sys.argv[4]) if len(sys.argv) > 4 else 30
GARBAGE_RATE = int(sys.argv[5]) if len(sys.argv) > 5 else 10_000
COMMAND_DURATION = float(sys.argv[6]) if len(sys.argv) > 6 else 15
FORGED_RATE = int(sys.argv[7]) if len(sys.argv) > 7 else 5_000
PREFIX = f"gatehouse/{SITE}/"
LEGIT_READER = "r-gate-north-2-in"
LEGIT_CARD = "F8D48735"  # a resident of the sample estate (config/residents.csv)
NOISY_READER = "r-gate-north-out"


def client(name, nodelay):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", PORT, keepalive=30)
    if nodelay:
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def flood(stop, rate, make):
    c = client(f"flood-{time.time_ns()}", False)
    c.loop_start()
    sent = 0
    start = time.monotonic()
    while not stop.is_set():
        # Pace in slices of 10 ms.
        due = int((time.monotonic() - start) * rate)
        while sent < due:
            topic, payload = make(sent)
            c.publish(topic, payload, qos=0)
            sent += 1
        time.sleep(0.01)
    c.loop_stop()
    c.disconnect()
    return sent


def garbage(i):
    kind = i % 4
    if kind == 0:
        return f"{PREFIX}readers/junk-{i % 5000}/swipe", b"\x00garbage" + str(i).encode()
    if kind == 1:
        return f"{PREFIX}readers/{NOISY_READER}/swipe", b"{not json " + str(i).encode()
    if kind == 2:
        return f"{PREFIX}readers/bad id {i}/swipe", b"x"
    return f"{PREFIX}doors/gate-north/input", b'{"fire":true}'


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def phase_garbage():
    results = {}
    got = threading.Condition()
    reader = client("bench-reader", True)

    def on_message(_c, _u, msg):
        try:
            v = json.loads(msg.payload)
        except ValueError:
            return
        with got:
            results[str(v.get("id"))] = (time.monotonic(), v)
            got.notify_all()

    reader.on_message = on_message
    reader.subscribe(f"{PREFIX}readers/{LEGIT_READER}/result", qos=1)
    reader.loop_start()
    time.sleep(0.5)
    stop = threading.Event()
    counter = {}
    t = threading.Thread(target=lambda: counter.setdefault("sent", flood(stop, GARBAGE_RATE, garbage)))
    t.start()
    sent_at = {}
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < DURATION:
        rid = f"bench-{i}"
        sent_at[rid] = time.monotonic()
        reader.publish(f"{PREFIX}readers/{LEGIT_READER}/swipe",
                       json.dumps({"id": rid, "card": LEGIT_CARD}), qos=1)
        i += 1
        time.sleep(max(0.0, start + i * 0.2 - time.monotonic()))
    stop.set()
    t.join()
    deadline = time.monotonic() + 10
    with got:
        while len([r for r in sent_at if r in results]) < len(sent_at) and time.monotonic() < deadline:
            got.wait(0.5)
    lat = [(results[r][0] - s) * 1000 for r, s in sent_at.items() if r in results]
    reasons = sorted({results[r][1].get("reason") for r in sent_at if r in results})
    reader.loop_stop()
    return {
        "phase": "garbage", "duration_s": DURATION, "garbage_rate": GARBAGE_RATE,
        "garbage_sent": counter.get("sent"), "swipes": len(sent_at), "answered": len(lat),
        "unanswered": len(sent_at) - len(lat), "reasons": reasons,
        "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat) if lat else None,
    }


def signed(body):
    text = json.dumps(body)
    return json.dumps({"body": text, "sig": base64.b64encode(KEY.sign(text.encode())).decode()})


def command(cid, counter, action):
    now = datetime.datetime.now(datetime.timezone.utc)
    body = {"id": cid, "issuer": "office-1", "counter": counter,
            "issued_at": now.isoformat(), "expires_at": (now + datetime.timedelta(minutes=5)).isoformat(),
            "site": SITE}
    body.update(action)
    return body


def phase_commands():
    forged_key = Ed25519PrivateKey.from_private_bytes(bytes([9] * 32))
    base = time.time_ns() // 1000

    def forged(i):
        body = command(f"forged-{i}", base + i, {"action": "lift", "zone": "area-a"})
        text = json.dumps(body)
        return f"{PREFIX}commands", json.dumps(
            {"body": text, "sig": base64.b64encode(forged_key.sign(text.encode())).decode()})

    results = {}
    office = client("bench-office", True)
    office.on_message = lambda _c, _u, m: results.setdefault(json.loads(m.payload).get("id"), json.loads(m.payload))
    office.subscribe(f"{PREFIX}commands/result", qos=1)
    office.loop_start()
    time.sleep(0.5)
    stop = threading.Event()
    counter = {}
    t = threading.Thread(target=lambda: counter.setdefault("sent", flood(stop, FORGED_RATE, forged)))
    t.start()
    real = []
    actions = [{"action": "lockdown", "zone": "area-a", "mode": "residents_only", "reason": "bench"},
               {"action": "lift", "zone": "area-a"},
               {"action": "lockdown", "zone": "area-a", "mode": "residents_only", "reason": "bench"}]
    for n, action in enumerate(actions):
        time.sleep(COMMAND_DURATION / 4)
        cid = f"bench-real-{base}-{n}"
        real.append(cid)
        office.publish(f"{PREFIX}commands", signed(command(cid, base * 10 + n, action)), qos=1)
    time.sleep(COMMAND_DURATION / 4)
    stop.set()
    t.join()
    deadline = time.monotonic() + 10
    while not all(r in results for r in real) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Leave the estate as it was.
    office.publish(f"{PREFIX}commands", signed(command(f"bench-real-{base}-lift", base * 10 + 9,
                                                       {"action": "lift", "zone": "area-a"})), qos=1)
    time.sleep(1)
    office.loop_stop()
    return {
        "phase": "commands", "duration_s": COMMAND_DURATION, "forged_rate": FORGED_RATE,
        "forged_sent": counter.get("sent"), "real": len(real),
        "real_ok": sum(1 for r in real if results.get(r, {}).get("ok") is True),
        "real_answers": [results.get(r) for r in real],
        "forged_answered": sum(1 for k in results if str(k).startswith("forged-")),
    }


if __name__ == "__main__":
    print(json.dumps(phase_garbage()), flush=True)
    print(json.dumps(phase_commands()), flush=True)
