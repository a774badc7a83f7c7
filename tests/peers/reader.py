#!/usr/bin/env python3
"""A card reader, played by paho-mqtt: the independent peer of gatehouse's MQTT readers.

usage: reader.py HOST PORT SITE READER CASES_JSON

CASES_JSON is a JSON list of payloads; a string is sent as it is (to send malformed bytes),
an object is sent as JSON. For each one the reader publishes on
gatehouse/SITE/readers/READER/swipe (QoS 1) and waits for one message on .../result.
It prints one JSON line per case: {"sent": ..., "result": <the result object or null>}.
Exits non-zero when a result does not come within 10 seconds. READER_PACE_S (default 0)
spaces the swipes: each one leaves that many seconds after the one before it (a reader's
own rate; the gateway admits about 10 a second per reader).
"""
import json
import os
import queue
import sys
import time

import paho.mqtt.client as mqtt


def main():
    host, port, site, reader, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    cases = json.loads(cases)
    results = queue.Queue()
    subscribed = queue.Queue()
    prefix = f"gatehouse/{site}/readers/{reader}"

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"reader-{reader}")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{prefix}/result", qos=1)
    client.on_subscribe = lambda c, u, mid, rc, p: subscribed.put(True)
    client.on_message = lambda c, u, msg: results.put(msg.payload)
    client.connect(host, port)
    client.loop_start()
    subscribed.get(timeout=10)
    status = 0
    pace = float(os.environ.get("READER_PACE_S", "0"))
    next_at = time.monotonic()
    for case in cases:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += pace
        payload = case if isinstance(case, str) else json.dumps(case)
        client.publish(f"{prefix}/swipe", payload, qos=1).wait_for_publish(10)
        try:
            result = json.loads(results.get(timeout=10))
        except queue.Empty:
            result = None
            status = 1
        print(json.dumps({"sent": case, "result": result}, ensure_ascii=False), flush=True)
    client.loop_stop()
    client.disconnect()
    sys.exit(status)


if __name__ == "__main__":
    main()
