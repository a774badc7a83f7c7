#!/usr/bin/env python3
"""The district's JetStream stream GATEHOUSE_EVENTS: create it, read it, show its state.

    stream.py create [--servers URLS] [--replicas 3]
    stream.py dump   [--servers URLS] [--count N] [--timeout S] [--subject FILTER]
    stream.py info   [--servers URLS] [--json]

URLS is a comma-separated list (default: the three nodes of nats-cluster.sh on 14222..14224,
or $NATS_URL). Needs nats-py (pip install nats-py). Exit status 1, with a message on stderr,
on any failure.

dump prints one JSON line per message, {"subject", "seq", "data"} (+ "headers" when the
message has any; "data" is the payload as UTF-8 text, or base64 with "encoding": "base64"
when it is not UTF-8), read through an ephemeral ordered consumer from the first message.
Without --count it stops at the last message the stream held when the consumer started; with
--count N it waits for N messages. --timeout (default 10 s) bounds the whole dump: reaching
it before N messages (or before the end) is a failure. With a node down, creating the
consumer can time out on NATS 2.9.10; dump retries it (3 s each) within --timeout.
"""

import argparse
import asyncio
import base64
import json
import os
import sys
import time

try:
    import nats
    from nats.js import api
    from nats.js.errors import NotFoundError
except ImportError:
    sys.exit("stream.py: nats-py is not installed (pip install nats-py)")

STREAM = "GATEHOUSE_EVENTS"
SUBJECTS = ["gatehouse.*.events.>"]
DEFAULT_SERVERS = "nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"


class Failure(Exception):
    pass


def name(enum_or_str):
    """The server's spelling of an enum field (nats-py gives enums or plain strings)."""
    return getattr(enum_or_str, "value", enum_or_str)


async def connect(servers):
    urls = [s.strip() for s in servers.split(",") if s.strip()]
    if not urls:
        raise Failure("no server given (--servers)")

    async def quiet(_err):  # connection errors are reported once, below
        pass

    try:
        return await nats.connect(
            servers=urls,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=2,
            reconnect_time_wait=0.5,
            error_cb=quiet,
        )
    except Exception as e:  # NoServersError, timeouts, refused connections
        raise Failure(f"cannot connect to any of {', '.join(urls)}: {e or type(e).__name__}")


def wanted_config(replicas):
    return api.StreamConfig(
        name=STREAM,
        subjects=SUBJECTS,
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=120.0,  # seconds: 2 minutes
        discard=api.DiscardPolicy.OLD,
    )


async def cmd_create(nc, args):
    js = nc.jetstream(timeout=10)
    config = wanted_config(args.replicas)
    try:
        await js.stream_info(STREAM)
        exists = True
    except NotFoundError:
        exists = False
    if exists:
        info = await js.update_stream(config=config)
        verb = "updated"
    else:
        info = await js.add_stream(config=config)
        verb = "created"
    c = info.config
    leader = info.cluster.leader if info.cluster else None
    print(
        f"{verb} {STREAM}: subjects {', '.join(c.subjects)}, replicas {c.num_replicas}, "
        f"storage {name(c.storage)}, retention {name(c.retention)}, "
        f"duplicate window {c.duplicate_window:g}s, leader {leader}"
    )


async def ordered_subscribe(nc, subject, deadline):
    # On 2.9.10, with one node of three down, about one consumer creation in three never
    # gets an answer (measured; the R1 consumer seems to be placed on the dead node). Each
    # attempt is independent, so retry with a short timeout until the deadline.
    attempt = 0
    while True:
        attempt += 1
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"could not create the ordered consumer in {attempt - 1} attempt(s) (a node down?)")
        js = nc.jetstream(timeout=min(3.0, left))
        try:
            return await js.subscribe(subject, stream=STREAM, ordered_consumer=True)
        except nats.errors.TimeoutError:
            print(f"stream.py dump: consumer creation attempt {attempt} timed out, retrying",
                  file=sys.stderr)


async def cmd_dump(nc, args):
    js = nc.jetstream(timeout=10)
    deadline = time.monotonic() + args.timeout
    info = await js.stream_info(STREAM)
    if args.count is None and info.state.messages == 0:
        return
    sub = await ordered_subscribe(nc, args.subject, deadline)
    got = 0
    try:
        while args.count is None or got < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError
            msg = await sub.next_msg(timeout=left)
            meta = msg.metadata
            line = {"subject": msg.subject, "seq": meta.sequence.stream}
            try:
                line["data"] = msg.data.decode("utf-8")
            except UnicodeDecodeError:
                line["data"] = base64.b64encode(msg.data).decode("ascii")
                line["encoding"] = "base64"
            if msg.headers:
                line["headers"] = msg.headers
            print(json.dumps(line, ensure_ascii=False), flush=True)
            got += 1
            if args.count is None and meta.num_pending == 0:
                break
    except (asyncio.TimeoutError, nats.errors.TimeoutError):
        want = f"{args.count}" if args.count is not None else "the end of the stream"
        raise Failure(f"timed out after {args.timeout:g}s with {got} message(s), waiting for {want}")
    finally:
        try:
            await sub.unsubscribe()
        except Exception:
            pass


async def cmd_info(nc, args):
    js = nc.jetstream(timeout=10)
    info = await js.stream_info(STREAM)
    s, c, cl = info.state, info.config, info.cluster
    replicas = []
    if cl:
        if cl.leader:
            replicas.append({"name": cl.leader, "leader": True, "current": True})
        for p in cl.replicas or []:
            replicas.append(
                {"name": p.name, "leader": False, "current": bool(p.current),
                 "offline": bool(p.offline), "lag": p.lag or 0}
            )
    out = {
        "stream": STREAM,
        "subjects": c.subjects,
        "num_replicas": c.num_replicas,
        "messages": s.messages,
        "bytes": s.bytes,
        "first_seq": s.first_seq,
        "last_seq": s.last_seq,
        "consumers": s.consumer_count,
        "cluster": cl.name if cl else None,
        "leader": cl.leader if cl else None,
        "replicas": replicas,
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"stream     {STREAM} ({', '.join(c.subjects)}), R{c.num_replicas}, {name(c.storage)} storage")
    print(f"messages   {s.messages} ({s.bytes} bytes), first seq {s.first_seq}, last seq {s.last_seq}")
    print(f"cluster    {out['cluster']}, leader {out['leader'] or '(none)'}")
    for r in replicas:
        if r["leader"]:
            print(f"replica    {r['name']} leader")
        else:
            state = "offline" if r["offline"] else ("current" if r["current"] else "behind")
            print(f"replica    {r['name']} {state}, lag {r['lag']}")


async def run(args):
    nc = await connect(args.servers)
    try:
        await {"create": cmd_create, "dump": cmd_dump, "info": cmd_info}[args.command](nc, args)
    except NotFoundError:
        raise Failure(f"stream {STREAM} does not exist (run: stream.py create)")
    except nats.errors.TimeoutError:
        raise Failure("JetStream did not answer in time (no stream leader or no JetStream quorum?)")
    except nats.js.errors.APIError as e:
        raise Failure(f"JetStream refused: {e.description or e} (code {e.err_code})")
    except (Failure, KeyboardInterrupt):
        raise
    except Exception as e:
        raise Failure(f"{type(e).__name__}: {e}")
    finally:
        try:
            await asyncio.wait_for(nc.close(), 5)
        except Exception:
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    servers = os.environ.get("NATS_URL", DEFAULT_SERVERS)
    for name in ("create", "dump", "info"):
        sp = sub.add_parser(name)
        sp.add_argument("--servers", default=servers, help="comma-separated NATS URLs")
        if name == "create":
            sp.add_argument("--replicas", type=int, default=3)
        if name == "dump":
            sp.add_argument("--count", type=int, help="wait for exactly N messages")
            sp.add_argument("--timeout", type=float, default=10.0, help="seconds for the whole dump")
            sp.add_argument("--subject", default=SUBJECTS[0], help="filter subject")
        if name == "info":
            sp.add_argument("--json", action="store_true")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except Failure as e:
        print(f"stream.py {args.command}: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
