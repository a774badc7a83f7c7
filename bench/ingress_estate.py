#!/usr/bin/env python3
"""The estate `bench/ingress.sh` runs: the sample estate (config/estate.toml) with

- its 30 Modbus TCP controllers moved to consecutive loopback ports from BASE_PORT, grouped by
  profile so that one `gatehouse sim controller --count N` per profile serves them (the
  demo's in-process simulators, as separate processes: `gatehouse run` has none);
- one MQTT door, `bench-fire-door` (`controller = "mqtt"`, area-a → bldg-1), whose
  controller is the bench client: its `{"fire":true}` input releases every door into bldg-1
  (three unit doors on the simulated ctl-a-01, and itself);
- broker logins (argon2 hashes on stdin, one a line: office, forger, door): `bench-office`
  and `bench-forger` as issuer office-1 (the forger has the login but not the key: its
  envelopes reach the gateway and fail their signature), `bench-door` as the MQTT door. Card
  readers stay anonymous, as on the demo's loopback listener.

Writes OUT and prints one line per simulator process: `PROFILE LISTEN COUNT`.
Usage: ingress_estate.py SRC OUT BASE_PORT < hashes
"""
import re
import sys

SRC, OUT, BASE = sys.argv[1], sys.argv[2], int(sys.argv[3])
office_hash, forger_hash, door_hash = (sys.stdin.read().split() + ["", "", ""])[:3]
if not (office_hash and forger_hash and door_hash):
    sys.exit("ingress_estate.py: three password hashes expected on stdin")
text = open(SRC, encoding="utf-8").read()

# Controller blocks: id, profile, address.
blocks = re.findall(r'\[\[controllers\]\]\nid = "([^"]+)"\nprofile = "([^"]+)"\ntransport = "tcp"\n'
                    r'address = "(127\.0\.0\.1:\d+)"', text)
if len(blocks) != text.count("[[controllers]]"):
    sys.exit("ingress_estate.py: a controller that is not a loopback TCP one; update the script")
profiles = sorted({p for _, p, _ in blocks})
port = BASE
groups = []
new_address = {}
for profile in profiles:
    ids = [c for c, p, _ in blocks if p == profile]
    groups.append((profile, f"127.0.0.1:{port}", len(ids)))
    for c in ids:
        new_address[c] = f"127.0.0.1:{port}"
        port += 1


text = re.sub(r'(\[\[controllers\]\]\nid = "([^"]+)"\nprofile = "[^"]+"\ntransport = "tcp"\naddress = ")'
              r'127\.0\.0\.1:\d+"',
              lambda m: m.group(1) + new_address[m.group(2)] + '"', text)
assert all(a in text for a in new_address.values())

text += f'''
# Added by bench/ingress_estate.py: the MQTT door the bench client plays, and broker logins.
[[doors]]
id = "bench-fire-door"
name = "1号楼消防门"
kind = "pedestrian"
outside = "area-a"
inside = "bldg-1"
controller = "mqtt"
pulse_ms = 3000
held_open_after_s = 30
verify = "card"
readers = []

[[broker.users]]
name = "bench-office"
password_hash = "{office_hash}"
issuer = "office-1"

[[broker.users]]
name = "bench-forger"
password_hash = "{forger_hash}"
issuer = "office-1"

[[broker.users]]
name = "bench-door"
password_hash = "{door_hash}"
door = "bench-fire-door"
'''
open(OUT, "w", encoding="utf-8").write(text)
for profile, listen, count in groups:
    print(profile, listen, count)
