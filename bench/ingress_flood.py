#!/usr/bin/env python3
"""Flood benchmark of the MQTT ingress (docs/benchmarks.md, "Ingress under flood").

An independent paho-mqtt client against a running gatehouse (`bench/ingress.sh` starts one
on the sample estate plus the MQTT door `bench-fire-door`, with broker logins for the office,
the forger and the door; the password is INGRESS_PASSWORD). Two phases:

1. garbage: GARBAGE_RATE messages/s at QoS 0 for DURATION s (non-JSON on unknown readers'
   swipe topics, on a configured reader that is not the measured one, on topics with
   invalid ids, and a fire input on a Modbus door's topic, which the broker refuses), while
   one legitimate swipe every 200 ms goes to a configured reader from a second client
   (TCP_NODELAY) that waits for each result: p50/p99/max and unanswered. Meanwhile a third
   client plays the MQTT door and toggles its fire input FIRE_CYCLES times: `{"fire":true}`,
   the time until the gateway's `set` releasing the lock (and its retained `state` showing
   `fire_release`), then `{"fire":false}` and the office's signed `ack_fire`.
2. commands: FORGED_RATE forged command envelopes/s at QoS 0 for COMMAND_DURATION s (from a
   client with the issuer's broker login, so that they reach the gateway's signature check),
   with three real signed lockdown/lift commands (the demo office key) spread through it: how
   many were answered ok.

Prints one JSON line per phase. Usage:
  ingress_flood.py PORT SITE KEYFILE [DURATION] [GARBAGE_RATE] [COMMAND_DURATION] [FORGED_RATE]
"""
import base64
import datetime
import json
import os
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
PASSWORD = os.environ.get("INGRESS_PASSWORD")
FIRE_DOOR = "bench-fire-door"
FIRE_ZONE = "bldg-1"
FIRE_CYCLES = 3


def client(name, nodelay, user=None):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    if user:
        c.username_pw_set(user, PASSWORD)
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", PORT, keepalive=30)
    if nodelay:
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def flood(stop, rate, make, user=None):
    c = client(f"flood-{time.time_ns()}", False, user)
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


class Office:
    """The office: signed commands with the demo key, over the issuer's broker login."""

    def __init__(self, name):
        self.results = {}
        self.c = client(name, True, "bench-office")
        self.c.on_message = self.on_message
        self.c.subscribe(f"{PREFIX}commands/result", qos=1)
        self.c.loop_start()

    def on_message(self, _c, _u, msg):
        try:
            v = json.loads(msg.payload)
        except ValueError:
            return
        self.results.setdefault(v.get("id"), v)

    def send(self, cid, counter, action):
        self.c.publish(f"{PREFIX}commands", signed(command(cid, counter, action)), qos=1)

    def wait(self, cid, timeout):
        deadline = time.monotonic() + timeout
        while cid not in self.results and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.results.get(cid)


class Door:
    """The MQTT door controller of FIRE_DOOR: its inputs, the gateway's `set` and `state`."""

    def __init__(self):
        self.seen = []
        self.cond = threading.Condition()
        self.c = client("bench-door", True, "bench-door")
        self.c.on_message = self.on_message
        self.c.subscribe([(f"{PREFIX}doors/{FIRE_DOOR}/set", 1), (f"{PREFIX}doors/{FIRE_DOOR}/state", 1)])
        self.c.loop_start()

    def on_message(self, _c, _u, msg):
        t = time.monotonic()
        try:
            v = json.loads(msg.payload)
        except ValueError:
            return
        with self.cond:
            self.seen.append((t, msg.topic.rsplit("/", 1)[1], v))
            self.cond.notify_all()

    def input(self, payload):
        t = time.monotonic()
        self.c.publish(f"{PREFIX}doors/{FIRE_DOOR}/input", payload, qos=1)
        return t

    def wait(self, since, kind, match, timeout):
        """The first `kind` message at or after `since` that `match`es: (ms after since, payload)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, k, v in self.seen:
                    if t >= since and k == kind and match(v):
                        return round((t - since) * 1000, 1), v
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cond.wait(left)


def fire_cycles(door, office, start, out):
    """FIRE_CYCLES times during the flood: fire on, lock released?, fire off, office ack."""
    for k in range(FIRE_CYCLES):
        time.sleep(max(0.0, start + DURATION * (k + 0.2) / FIRE_CYCLES - time.monotonic()))
        t0 = door.input('{"fire":true}')
        set_ms, set_v = door.wait(t0, "set", lambda v: v.get("action") in ("hold_open", "unlock"), 5)
        state_ms, state_v = door.wait(t0, "state", lambda v: v.get("mode") == "fire_release", 5)
        time.sleep(1)
        t1 = door.input('{"fire":false}')
        with door.cond:
            locks = sorted({v.get("lock") for t, k, v in door.seen if t0 <= t < t1 and k == "state"})
        time.sleep(0.5)
        cid = f"bench-ack-{time.time_ns()}"
        office.send(cid, time.time_ns() // 1000 * 10, {"action": "ack_fire", "zone": FIRE_ZONE})
        ack = office.wait(cid, 5)
        normal_ms, _ = door.wait(t1, "state", lambda v: v.get("mode") == "normal", 5)
        out.append({"set_ms": set_ms, "set": set_v and set_v.get("action"), "state_ms": state_ms,
                    "locks_while_on": locks, "ack_ok": bool(ack and ack.get("ok")),
                    "ack_error": ack and ack.get("error"), "back_to_normal": normal_ms is not None})


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
    door = Door()
    office = Office("bench-office-fire")
    time.sleep(0.5)
    stop = threading.Event()
    counter = {}
    t = threading.Thread(target=lambda: counter.setdefault("sent", flood(stop, GARBAGE_RATE, garbage)))
    t.start()
    sent_at = {}
    start = time.monotonic()
    fire = []
    ft = threading.Thread(target=fire_cycles, args=(door, office, start, fire))
    ft.start()
    i = 0
    while time.monotonic() - start < DURATION:
        rid = f"bench-{i}"
        sent_at[rid] = time.monotonic()
        reader.publish(f"{PREFIX}readers/{LEGIT_READER}/swipe",
                       json.dumps({"id": rid, "card": LEGIT_CARD}), qos=1)
        i += 1
        time.sleep(max(0.0, start + i * 0.2 - time.monotonic()))
    ft.join()
    stop.set()
    t.join()
    deadline = time.monotonic() + 10
    with got:
        while len([r for r in sent_at if r in results]) < len(sent_at) and time.monotonic() < deadline:
            got.wait(0.5)
    lat = [(results[r][0] - s) * 1000 for r, s in sent_at.items() if r in results]
    reasons = sorted({results[r][1].get("reason") for r in sent_at if r in results})
    for c in (reader, door.c, office.c):
        c.disconnect()
        c.loop_stop()
    fire_set = [f["set_ms"] for f in fire]
    return {
        "phase": "garbage", "duration_s": DURATION, "garbage_rate": GARBAGE_RATE,
        "garbage_sent": counter.get("sent"), "swipes": len(sent_at), "answered": len(lat),
        "unanswered": len(sent_at) - len(lat), "reasons": reasons,
        "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat) if lat else None,
        "fire": fire, "fire_set_ms_max": None if None in fire_set or not fire_set else max(fire_set),
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

    office = Office("bench-office")
    results = office.results
    time.sleep(0.5)
    stop = threading.Event()
    counter = {}
    t = threading.Thread(target=lambda: counter.setdefault("sent", flood(stop, FORGED_RATE, forged, "bench-forger")))
    t.start()
    real = []
    actions = [{"action": "lockdown", "zone": "area-a", "mode": "residents_only", "reason": "bench"},
               {"action": "lift", "zone": "area-a"},
               {"action": "lockdown", "zone": "area-a", "mode": "residents_only", "reason": "bench"}]
    for n, action in enumerate(actions):
        time.sleep(COMMAND_DURATION / 4)
        cid = f"bench-real-{base}-{n}"
        real.append(cid)
        office.send(cid, base * 10 + n, action)
    time.sleep(COMMAND_DURATION / 4)
    stop.set()
    t.join()
    deadline = time.monotonic() + 10
    while not all(r in results for r in real) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Leave the estate as it was.
    office.send(f"bench-real-{base}-lift", base * 10 + 9, {"action": "lift", "zone": "area-a"})
    time.sleep(1)
    office.c.disconnect()
    office.c.loop_stop()
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
