#!/usr/bin/env python3
"""Measures a district of real gateways through the district console (bench/district-estates.sh
starts them): lockdown/lift answer times over every estate, the head-count query, and swipe ->
row in PostgreSQL. Prints figures and their ratio to issue 20's targets."""
import argparse, http.client, json, os, shutil, ssl, subprocess, sys, threading, time
import paho.mqtt.client as mqtt


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Console:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the office's self-signed certificate
        self.conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
        self.cookies, self.csrf = "", ""

    def call(self, method, path, body=None):
        headers = {"Cookie": self.cookies, "X-CSRF-Token": self.csrf}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                res = self.conn.getresponse()
                raw = res.read()
                return res.status, res, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise

    def sign_in(self, password):
        status, res, me = self.call("POST", "/api/login", {"user": "admin", "password": password})
        assert status == 200, (status, me)
        self.cookies = "; ".join(c.split(";")[0] for c in res.headers.get_all("Set-Cookie"))
        self.csrf = me["csrf"]


def wait_console(addr, password, deadline):
    while True:
        try:
            c = Console(addr)
            c.sign_in(password)
            return c
        except (OSError, AssertionError, http.client.HTTPException):
            if time.time() > deadline:
                raise SystemExit("the district console did not come up")
            time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--estates", type=int, default=37)
    ap.add_argument("--mqtt-base", type=int, required=True)
    ap.add_argument("--pg", required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()
    sites = [f"estate-{k:02d}" for k in range(1, a.estates + 1)]
    c = wait_console(a.console, os.environ["GATEHOUSE_ADMIN_PASSWORD"], time.time() + 120)

    t0 = time.time()
    while True:
        _, _, estates = c.call("GET", "/api/district/estates")
        online = [e for e in estates or [] if e["state"] == "online"]
        if len(online) >= a.estates:
            break
        if time.time() - t0 > 300:
            raise SystemExit(f"only {len(online)} of {a.estates} estates came online")
        time.sleep(1)
    print(f"all {a.estates} estates online {time.time() - t0:.1f} s after the console answered")

    # Lockdown and lift of every estate, ROUNDS times.
    answers, orders_done = {"lockdown": [], "lift": []}, []
    for r in range(a.rounds):
        for action in ("lockdown", "lift"):
            body = {"action": action, "sites": sites}
            if action == "lockdown":
                body.update(mode="quarantine", reason="bench")
            sent = time.time()
            status, _, order = c.call("POST", "/api/district/orders", body)
            assert status == 201, (status, order)
            while True:
                _, _, o = c.call("GET", f"/api/district/orders/{order['id']}")
                states = [s["state"] for s in o["sites"]]
                if all(s != "waiting" for s in states):
                    break
                if time.time() - sent > 60:
                    raise SystemExit(f"order {order['id']} still waiting after 60 s: {o}")
                time.sleep(0.05)
            full = time.time() - sent
            bad = [s for s in o["sites"] if s["state"] != "applied"]
            assert not bad, f"not applied: {bad}"
            answers[action] += [s["answered_after_s"] for s in o["sites"]]
            orders_done.append((action, full, max(s["answered_after_s"] for s in o["sites"])))
    for action, xs in answers.items():
        whole = [m for (act, _, m) in orders_done if act == action]
        print(f"{action} of {a.estates} estates x {a.rounds}: per-estate answer p50 {pct(xs, 50)*1000:.0f} ms, "
              f"p99 {pct(xs, 99)*1000:.0f} ms, max {max(xs)*1000:.0f} ms; whole order fully answered "
              f"p50 {pct(whole, 50)*1000:.0f} ms, max {max(whole)*1000:.0f} ms")
    lock_p99 = pct(answers["lockdown"], 99)
    print(f"  lockdown p99 / target 2 s = {lock_p99 / 2:.3f}")

    # The head-count query.
    times = []
    for _ in range(200):
        s = time.perf_counter()
        status, _, counts = c.call("GET", "/api/district/headcounts")
        times.append(time.perf_counter() - s)
        assert status == 200 and len(counts["estates"]) == a.estates, counts
    print(f"head-count query (HTTPS, {a.estates} estates): p50 {pct(times, 50)*1000:.1f} ms, "
          f"p99 {pct(times, 99)*1000:.1f} ms; p99 / target 100 ms = {pct(times, 99) / 0.1:.3f}")

    # Swipes at RATE per second spread over the estates.
    psql = shutil.which("psql") or sorted(
        p for p in (os.path.join(d, "bin/psql") for d in
                    (os.path.join("/usr/lib/postgresql", v) for v in os.listdir("/usr/lib/postgresql")))
        if os.path.exists(p))[-1]

    def sql(q):
        return subprocess.run([psql, a.pg, "-Atc", q], check=True, capture_output=True, text=True).stdout.strip()

    start_row = sql("SELECT now()")
    clients = []
    for k, site in enumerate(sites, start=1):
        cl = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-reader-{site}")
        cl.connect("127.0.0.1", a.mqtt_base + k)
        cl.loop_start()
        clients.append((site, cl))
    n = int(a.rate * a.seconds)
    begin = time.perf_counter()
    for i in range(n):
        site, cl = clients[i % len(clients)]
        cl.publish(f"gatehouse/{site}/readers/r-in/swipe", json.dumps({"card": f"{0xB0000000 + i:08X}"}), qos=1)
        delay = begin + (i + 1) / a.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    print(f"published {n} swipes at {n / (time.perf_counter() - begin):.1f}/s over {len(clients)} estates")
    deadline = time.time() + 120
    q_count = f"SELECT count(*) FROM events WHERE kind = 'access' AND received >= '{start_row}'"
    while int(sql(q_count)) < n and time.time() < deadline:
        time.sleep(0.5)
    got = int(sql(q_count))
    row = sql("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d) "
              f"FROM (SELECT EXTRACT(EPOCH FROM received - at) AS d FROM events WHERE kind = 'access' AND received >= '{start_row}') x")
    p50, p99, worst = (float(x) for x in row.split("|"))
    print(f"swipe decision -> row in PostgreSQL ({got} of {n} rows): p50 {p50*1000:.0f} ms, p99 {p99*1000:.0f} ms, "
          f"max {worst*1000:.0f} ms; p99 / target 1 s = {p99:.3f}")
    for _, cl in clients:
        cl.loop_stop()
        cl.disconnect()
    if got < n:
        sys.exit(f"{n - got} swipes did not reach PostgreSQL")


if __name__ == "__main__":
    main()
