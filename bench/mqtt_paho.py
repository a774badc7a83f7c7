#!/usr/bin/env python3
"""An independent MQTT reader for the round-trip benchmark (docs/benchmarks.md, "MQTT"),
played by paho-mqtt: the bare echo floor, sequential swipe round trips and sustained swipes.

usage: mqtt_paho.py HOST PORT SITE READER CARD N NODELAY ECHO_USER ECHO_PASSWORD SUSTAINED IN_FLIGHT

- echo: a responder (TCP_NODELAY on, like the gateway) answers bench/echo/req on
  bench/echo/resp; the requester sends N requests one after another (QoS 1 both ways).
- swipe: the reader publishes N swipes one after another on readers/READER/swipe and waits
  for each result (QoS 1 both ways), as a card reader does.
- sustained: SUSTAINED swipes with IN_FLIGHT outstanding; swipes per second.
NODELAY (0 or 1) sets TCP_NODELAY on the requester's and the reader's sockets. ECHO_USER
may be "-" for an anonymous echo pair. Prints one JSON line.
"""
import json
import os
import socket
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def summary(ms):
    return {"p50": round(pct(ms, 0.5), 3), "p99": round(pct(ms, 0.99), 3), "max": round(max(ms), 3), "n": len(ms)}


def client(host, port, cid, nodelay, login, on_message, subscribe):
    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid)
    if login:
        c.username_pw_set(*login)

    def on_connect(c, u, flags, rc, props):
        if rc != 0:
            sys.exit(f"{cid}: the broker refused the connection: {rc}")
        c.subscribe(subscribe, qos=1)

    c.on_connect = on_connect
    c.on_subscribe = lambda c, u, mid, rc, p: ready.set()
    c.on_message = on_message
    c.connect(host, port, keepalive=30)
    if nodelay:
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.loop_start()
    if not ready.wait(10):
        sys.exit(f"{cid}: not subscribed within 10 s")
    return c


def main():
    host, port, site, reader, card, n, nodelay, user, password, sustained, in_flight = sys.argv[1:12]
    port, n, nodelay, sustained, in_flight = int(port), int(n), nodelay == "1", int(sustained), int(in_flight)
    login = None if user == "-" else (user, password)
    tag = uuid.uuid4().hex[:8]
    offset = time.time() - time.perf_counter()

    # Echo floor.
    responder = client(host, port, f"echo-resp-{tag}", True, login,
                       lambda c, u, m: c.publish("bench/echo/resp", m.payload, qos=1), "bench/echo/req")
    got = {}
    arrived = threading.Condition()

    def collect(c, u, m):
        with arrived:
            got[m.payload.decode()] = time.perf_counter()
            arrived.notify_all()

    requester = client(host, port, f"echo-req-{tag}", nodelay, login, collect, "bench/echo/resp")
    echo = []
    for i in range(n):
        key = f"e{i}"
        t = time.perf_counter()
        requester.publish("bench/echo/req", key, qos=1)
        with arrived:
            if not arrived.wait_for(lambda: key in got, 10):
                sys.exit("echo: no answer within 10 s")
            echo.append((got.pop(key) - t) * 1000)

    # Sequential swipes.
    prefix = f"gatehouse/{site}/readers/{reader}"
    results = {}

    def result(c, u, m):
        body = json.loads(m.payload)
        with arrived:
            results[body.get("id")] = (time.perf_counter(), body)
            arrived.notify_all()

    rd = client(host, port, f"reader-{reader}-{tag}", nodelay, None, result, f"{prefix}/result")
    swipe = []
    sent_at = []
    reasons = {}
    # A reader may send 10 swipes a second (burst 20) before the gateway drops its swipes
    # unread (crates/bus/src/admission.rs): sequential swipes are paced to one per 110 ms.
    next_at = time.perf_counter()
    for i in range(n):
        rid = f"{tag}-s{i}"
        time.sleep(max(0.0, next_at - time.perf_counter()))
        next_at = time.perf_counter() + 0.110
        t = time.perf_counter()
        rd.publish(f"{prefix}/swipe", json.dumps({"id": rid, "card": card}), qos=1)
        with arrived:
            if not arrived.wait_for(lambda: rid in results, 10):
                sys.exit("swipe: no result within 10 s")
            at, body = results.pop(rid)
        swipe.append((at - t) * 1000)
        sent_at.append(t)
        reasons[body.get("reason")] = reasons.get(body.get("reason"), 0) + 1

    # Sustained: IN_FLIGHT outstanding (SUSTAINED=0 skips it; one reader is held to 10/s by
    # admission, so this measures the admission limit, not the gateway's throughput).
    done = 0
    t0 = time.perf_counter()
    sent = 0
    with arrived:
        while done < sustained:
            while sent < sustained and sent - done < in_flight:
                rd.publish(f"{prefix}/swipe", json.dumps({"id": f"{tag}-x{sent}", "card": card}), qos=1)
                sent += 1
            if not arrived.wait_for(lambda: results, 10):
                sys.exit(f"sustained: stalled after {done} results")
            done += len(results)
            results.clear()
    rate = sustained / (time.perf_counter() - t0) if sustained else None

    for c in (responder, requester, rd):
        c.loop_stop()
        c.disconnect()
    # RAW=path appends each sequential swipe's send time (s, from the first) and round trip
    # (ms), to see whether the slow ones come at a rhythm (a periodic task) or at random.
    raw = os.environ.get("RAW")
    if raw:
        with open(raw, "a") as f:
            for t, ms in zip(sent_at, swipe):
                f.write(f"{nodelay} {t - sent_at[0]:.4f} {ms:.3f} {t + offset:.6f}\n")
    print(json.dumps({"nodelay": nodelay, "echo_ms": summary(echo), "swipe_ms": summary(swipe),
                      "reasons": reasons, "sustained_per_s": round(rate) if rate else None}))


if __name__ == "__main__":
    main()
