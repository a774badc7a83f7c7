#!/usr/bin/env python3
"""The estate-scale benchmark of issue 14 (docs/benchmarks.md, "Estate scale (issue 14)").

For one estate size: generates a residents file of PERSONS persons in PERSONS * 2 / 5
households of 2 or 3 (every person with a card pass, fake mainland mobile numbers), imports it
with `gatehouse import residents` into a fresh data directory under the sample estate's
configuration, then:

1. start to ready: starts `gatehouse demo` on that store (embedded broker, simulated
   controllers, metrics on free loopback ports; a first start that makes the console users is
   not timed) and times process start → first 200 from the metrics listener's `/healthz` and
   `/readyz`, STARTS times (median, and each); resident memory (VmRSS) once ready after the
   last start, 10 s and 30 s later, and the peak (VmHWM). The same for `gatehouse run`
   with the sample configuration and `ready_controllers = 0` (no simulators in that process).
2. swipes: one paho-mqtt reader (TCP_NODELAY) swipes residents' cards on r-gate-north-2-in
   every 100 ms and waits for each result, in PHASES phases of SWIPE_S seconds (default 6),
   alternately without and with another thread running 10 console people searches per
   second from a process of its own (GET /api/people over HTTPS, signed in as the demo's
   admin) — surname + one given character, full names, last four phone digits, household
   codes. Interleaved phases put a
   load burst from elsewhere on the machine into both sides rather than one; the p99s and
   their ratio are over all swipes of each side, with each phase's p99 beside them.

Prints one JSON line. Phone numbers (and the search texts, some of which are phone digits)
are never printed.

usage: estate_scale.py BIN PERSONS [SWIPE_S] [STARTS] [PHASES]
"""
import http.client
import multiprocessing as mp
import queue
import json
import os
import random
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid

import paho.mqtt.client as mqtt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "config", "estate.toml")
READER = "r-gate-north-2-in"  # gate-north-2: into area-a, card only, open 06:00-22:00
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉红梅志文斌海燕春雷晓东立新凤德珍学"
PREFIXES = ["138", "139", "137", "186", "135", "150", "188", "159", "177", "199"]


def free_port():
    """A free loopback port below the ephemeral range, so that no outgoing connection takes it."""
    for _ in range(100):
        port = random.randrange(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    sys.exit("no free port between 20000 and 32000")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def summary(ms):
    if not ms:
        return {"n": 0}
    return {"p50": round(pct(ms, 0.5), 2), "p99": round(pct(ms, 0.99), 2),
            "max": round(max(ms), 2), "n": len(ms)}


def units():
    """(building number, unit number, area) of every unit of the sample estate."""
    with open(CONFIG, "rb") as f:
        zones = {z["id"]: z for z in tomllib.load(f)["zones"]}
    out = []
    for z in zones.values():
        if z.get("kind") == "unit":
            building = zones[z["parent"]]
            out.append((building["number"], z["number"], building["parent"]))
    return out


def generate(path, persons, rng):
    """Writes the residents CSV; returns (cards of area-a residents, search texts)."""
    unit_list = units()
    households = persons * 2 // 5
    threes = persons - 2 * households  # households with a third person
    area_a_cards, queries = [], []
    i = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("household,name,phone,role,pass,valid_until\n")
        for h in range(households):
            building, unit, area = unit_list[h % len(unit_list)]
            k = h // len(unit_list)
            code = f"{building}-{unit}-{(k // 20 + 1) * 100 + k % 20 + 1}"
            surname = SURNAMES[rng.randrange(len(SURNAMES))]
            for member in range(3 if h < threes else 2):
                name = surname + "".join(GIVEN[rng.randrange(len(GIVEN))]
                                         for _ in range(rng.randint(1, 2)))
                # Bijective in i: every phone and every card is unique.
                phone = PREFIXES[i % 10] + f"{(i * 7919 + 12345) % 100_000_000:08d}"
                card = f"{(i * 2654435761 + 0x1234567) & 0xFFFFFFFF:08X}"
                role = "owner" if member == 0 else "family"
                f.write(f"{code},{name},{phone},{role},{card},\n")
                if area == "area-a" and len(area_a_cards) < 5000 and rng.random() < 0.2:
                    area_a_cards.append(card)
                if rng.random() < 0.002:
                    queries.append(rng.choice([name[:2], name, phone[-4:], code]))
                i += 1
    return area_a_cards, queries


def get(url, timeout=0.5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def status_mb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


class Gateway:
    """A gatehouse process on loopback ports, new ones at each start (a stopped listener's
    port may not be free again at once); `start` times it to healthy and to ready."""

    def __init__(self, args, env, log):
        self.args, self.env, self.log = args, env, log
        self.proc = None

    def start(self, limit_s=120):
        self.mqtt, self.web, metrics = free_port(), free_port(), free_port()
        self.metrics = f"http://127.0.0.1:{metrics}"
        args = self.args + ["--mqtt-listen", f"127.0.0.1:{self.mqtt}", "--web-listen", f"127.0.0.1:{self.web}",
                            "--metrics-listen", f"127.0.0.1:{metrics}"]
        out = open(self.log, "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        healthy = ready = None
        while time.monotonic() - t0 < limit_s and self.proc.poll() is None:
            now = time.monotonic() - t0
            if healthy is None and get(f"{self.metrics}/healthz") == 200:
                healthy = now
            if healthy is not None and get(f"{self.metrics}/readyz") == 200:
                ready = time.monotonic() - t0
                break
            time.sleep(0.01)
        if ready is None:
            self.stop()
            sys.exit(f"{self.args[1]}: not ready (exit code {self.proc.returncode}, limit {limit_s} s); see {self.log}")
        return {"healthz_s": round(healthy, 3), "ready_s": round(ready, 3)}

    def timed_starts(self, runs):
        """`runs` starts, each stopped but the last: every start's times and their medians."""
        starts = []
        for k in range(runs):
            if k:
                self.stop()
            starts.append(self.start())
        return {"healthz_s": sorted(s["healthz_s"] for s in starts)[runs // 2],
                "ready_s": sorted(s["ready_s"] for s in starts)[runs // 2],
                "ready_each_s": [s["ready_s"] for s in starts]}

    def memory(self):
        """VmRSS once ready, 10 s and 30 s later; VmHWM (the peak) at 30 s."""
        out = {"rss_ready_mb": status_mb(self.proc.pid, "VmRSS")}
        time.sleep(10)
        out["rss_10s_mb"] = status_mb(self.proc.pid, "VmRSS")
        time.sleep(20)
        out["rss_30s_mb"] = status_mb(self.proc.pid, "VmRSS")
        out["peak_mb"] = status_mb(self.proc.pid, "VmHWM")
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def reader(port, site):
    results = {}
    arrived = threading.Condition()

    def on_message(c, u, m):
        body = json.loads(m.payload)
        with arrived:
            results[body.get("id")] = (time.perf_counter(), body.get("reason"))
            arrived.notify_all()

    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"scale-reader-{uuid.uuid4().hex[:8]}")
    c.on_connect = lambda c, u, f, rc, p: c.subscribe(f"gatehouse/{site}/readers/{READER}/result", qos=1)
    c.on_subscribe = lambda c, u, mid, rc, p: ready.set()
    c.on_message = on_message
    c.connect("127.0.0.1", port, keepalive=30)
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.loop_start()
    if not ready.wait(10):
        sys.exit("reader: not subscribed within 10 s")
    return c, results, arrived


def swipes(client, results, arrived, site, cards, seconds, tag):
    """One swipe every 100 ms for `seconds`, each waited for; latencies (ms) and reasons."""
    ms, reasons, lost = [], {}, 0
    n = int(seconds * 10)
    start = time.perf_counter()
    for k in range(n):
        due = start + k * 0.1
        time.sleep(max(0.0, due - time.perf_counter()))
        rid = f"{tag}-{k}"
        t = time.perf_counter()
        client.publish(f"gatehouse/{site}/readers/{READER}/swipe",
                       json.dumps({"id": rid, "card": cards[k % len(cards)]}), qos=1)
        with arrived:
            if not arrived.wait_for(lambda: rid in results, 5):
                lost += 1
                continue
            at, reason = results.pop(rid)
        ms.append((at - t) * 1000)
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"ms": ms, "unanswered": lost, "reasons": reasons}


def searcher(web_port, password, queries, stop, out):
    """10 people searches per second over one keep-alive HTTPS connection until `stop`."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", web_port, context=ctx, timeout=10)
    conn.request("POST", "/api/login", json.dumps({"user": "admin", "password": password}),
                 {"content-type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        out["error"] = f"login: {r.status}"
        return
    cookie = "; ".join(v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie")
    headers = {"cookie": cookie, "x-csrf-token": json.loads(body)["csrf"]}
    ms, status, empty = [], {}, 0
    start = time.perf_counter()
    k = 0
    while not stop.is_set():
        due = start + k * 0.1
        time.sleep(max(0.0, due - time.perf_counter()))
        q = urllib.parse.quote(queries[k % len(queries)])
        t = time.perf_counter()
        conn.request("GET", f"/api/people?q={q}", headers=headers)
        r = conn.getresponse()
        found = r.read()
        empty += r.status == 200 and found.strip() == b"[]"
        ms.append((time.perf_counter() - t) * 1000)
        status[r.status] = status.get(r.status, 0) + 1
        k += 1
    out["ms"] = ms
    out["status"] = status
    out["no_hits"] = empty


def search_process(web_port, password, queries, stop, answers):
    """`searcher` in a process of its own; its figures come back through `answers`."""
    out = {}
    try:
        searcher(web_port, password, queries, stop, out)
    except Exception as e:  # reported, not raised: the phase's swipes still count
        out["error"] = repr(e)
    answers.put(out)


def main():
    binary, persons = sys.argv[1], int(sys.argv[2])
    swipe_s = float(sys.argv[3]) if len(sys.argv) > 3 else 30
    starts = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    phases = int(sys.argv[5]) if len(sys.argv) > 5 else 6
    rng = random.Random(14)
    result = {"persons": persons, "households": persons * 2 // 5,
              "load_avg_start": [round(x, 2) for x in os.getloadavg()]}
    with open(CONFIG, "rb") as f:
        site = tomllib.load(f)["site"]["id"]
    work = tempfile.mkdtemp(prefix=f"estate-scale-{persons}-")
    data = os.path.join(work, "data")
    log = os.path.join(work, "gatehouse.log")
    gw = None
    try:
        t = time.monotonic()
        cards, queries = generate(os.path.join(work, "residents.csv"), persons, rng)
        result["generate_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        with open(log, "a") as out:
            rc = subprocess.run([binary, "import", "residents", os.path.join(work, "residents.csv"),
                                 "--config", CONFIG, "--data-dir", data],
                                stdout=out, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            sys.exit(f"import failed ({rc}); see {log}")
        result["import_s"] = round(time.monotonic() - t, 2)
        result["store_mb"] = round(sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data)
                                       for f in fs) / 2**20, 1)
        rng.shuffle(cards)

        password = secrets.token_urlsafe(12)
        env = {**os.environ, "GATEHOUSE_ADMIN_PASSWORD": password, "GATEHOUSE_GUARD_PASSWORD": password}
        gw = Gateway([binary, "demo", "--data-dir", data], env, log)
        # The first start of a data directory makes the console users (password hashing):
        # not timed.
        result["demo_first_start"] = gw.start()
        gw.stop()
        result["demo"] = gw.timed_starts(starts)
        result["demo"].update(gw.memory())

        client, results, arrived = reader(gw.mqtt, site)
        swipes(client, results, arrived, site, cards[::-1], 2, "warm")
        result["load_avg_swipes"] = [round(x, 2) for x in os.getloadavg()]
        sides = {False: {"ms": [], "unanswered": 0, "reasons": {}}, True: {"ms": [], "unanswered": 0, "reasons": {}}}
        searched = {"ms": [], "status": {}, "no_hits": 0}
        result["phases"] = []
        for p in range(phases):
            searching = p % 2 == 1
            # The searcher is a process of its own: as a thread it would share the reader's
            # interpreter lock, and its TLS and JSON work would delay the reader's callbacks,
            # adding to the measured swipes what is the client's, not the gateway's.
            stop, answers, out = mp.Event(), mp.Queue(), {}
            th = None
            if searching:
                th = mp.Process(target=search_process, args=(gw.web, password, queries, stop, answers))
                th.start()
            offset = (p * 300) % len(cards)
            got = swipes(client, results, arrived, site, cards[offset:] + cards[:offset], swipe_s, f"p{p}")
            if th:
                stop.set()
                try:
                    out = answers.get(timeout=30)
                except queue.Empty:
                    out = {"error": "the searcher gave no answer"}
                th.join(30)
                searched["ms"] += out.get("ms", [])
                searched["no_hits"] += out.get("no_hits", 0)
                for k, v in out.get("status", {}).items():
                    searched["status"][k] = searched["status"].get(k, 0) + v
                if "error" in out:
                    searched["error"] = out["error"]
            side = sides[searching]
            side["ms"] += got["ms"]
            side["unanswered"] += got["unanswered"]
            for k, v in got["reasons"].items():
                side["reasons"][k] = side["reasons"].get(k, 0) + v
            result["phases"].append({"searches": searching, "p99": summary(got["ms"]).get("p99"),
                                     "load": round(os.getloadavg()[0], 2)})
        for searching, name in ((False, "swipe_without"), (True, "swipe_with_searches")):
            side = sides[searching]
            result[name] = {**summary(side["ms"]), "unanswered": side["unanswered"], "reasons": side["reasons"]}
        result["searches"] = {**summary(searched.pop("ms")), **searched}
        client.loop_stop()
        client.disconnect()
        a, b = result["swipe_without"].get("p99"), result["swipe_with_searches"].get("p99")
        result["p99_ratio"] = round(b / a, 2) if a and b else None
        result["demo"]["rss_end_mb"] = status_mb(gw.proc.pid, "VmRSS")
        gw.stop()

        # `run` on the same store: the sample configuration, no simulators, so readiness
        # cannot wait for controllers (ready_controllers = 0).
        run_config = os.path.join(work, "estate.toml")
        with open(CONFIG) as src, open(run_config, "w") as dst:
            dst.write(src.read() + "\n[metrics]\nready_controllers = 0\n")
        gw = Gateway([binary, "run", "--config", run_config, "--data-dir", data], env, log)
        result["run"] = gw.timed_starts(starts)
        result["run"].update(gw.memory())
        gw.stop()
        result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    except BaseException:
        print(f"estate_scale: stopped; the data directory and log are kept in {work}", file=sys.stderr)
        raise
    else:
        if os.environ.get("KEEP") != "1":
            subprocess.run(["rm", "-rf", work])
    finally:
        if gw:
            gw.stop()
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
