#!/usr/bin/env python3
"""Fan-out: server egress bytes per applied update, replicast against Redis replication.

For each number of clients N and each loss rate, the same workload (SETs of
distinct keys, random values of --value-bytes) is replicated to N replicas
by replicast (the master written through the local store path with
`replicast load`, multicast once by `replicast server`, losses repaired over
the control plane) and by Redis (Debian's redis-server: the primary in the
server namespace fed by `redis-cli --pipe` over its loopback, a replica per
client namespace). The two run one after the other in each grid cell, their
order swapped every cell, on one lab per N (scripts/lab; the hub drops the
given share of frames toward every client, data, repairs, TCP and control
alike).

Measured per run, from just before the first write until every replica has
applied the last one: the bytes the server namespace's veth sent (its own
tx_bytes counter: headers, repairs, retransmissions and control traffic
included), per update and in copies of the same system's N = 1, 0 % figure,
and the sustained rate (updates / that time). Completion is checked: each
replicast replica's `replicast checksum` equals the master's; each Redis
replica's replication offset reached the primary's, its key count is the
workload's and its DEBUG DIGEST equals the primary's. A run that does not
complete is reported as such (complete=no), never as a figure.

Targets (issue 13): replicast's egress at N = 32, 0 % loss at most 1.05
copies; at N = 8, 1 % loss at most 1.3 copies (unicast fan-out pays ~N).

CSV: one row per run (bench/results/fanout.csv); `scripts/bench-report`
draws it. Needs root, redis-server and redis-tools."""
import base64
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import labrun, say  # noqa: E402
from redis_lab import RedisReplication  # noqa: E402

DB = "bench"
COLUMNS = ["system", "clients", "loss_pct", "repeat", "updates", "value_bytes", "payload_bytes", "egress_bytes",
           "egress_per_update", "copies", "seconds", "updates_per_s", "complete", "detail"]
SYSTEMS = ("replicast", "replicast-fixed", "redis")
FULL = dict(clients="1,2,4,8,16,32", loss="0,1,5", updates=100_000)
QUICK = dict(clients="1,2", loss="0,5", updates=2_000)


def parse_args():
    p = benchlib.parser("fanout", __doc__)
    p.add_argument("--clients", default=None, help=f"client counts N, comma separated (1..32; default {FULL['clients']})")
    p.add_argument("--loss", default=None, help=f"loss toward every client in %%, comma separated (default {FULL['loss']})")
    p.add_argument("--updates", type=int, default=None, help=f"updates per run (default {FULL['updates']})")
    p.add_argument("--value-bytes", type=int, default=100, help="value size in bytes (default 100; keys are 8 bytes)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each system per grid cell (default 1)")
    p.add_argument("--rate-mbps", type=int, default=400, help="replicast server's pacing cap, Mbit/s (default 400)")
    p.add_argument("--chain-updates", type=int, default=64,
                   help="replicast's updates per chain at most ([bundle] max_updates; default 64): a chain is lost "
                        "whole when one of its packets is, so shorter chains repair less under loss")
    p.add_argument("--chain-bytes", type=int, default=16384,
                   help="replicast's chain size at most ([bundle] max_bytes; default 16384)")
    p.add_argument("--systems", default="replicast,redis",
                   help="which to run, interleaved in each cell (default replicast,redis): replicast (adaptive "
                        "bundling on, [bundle] adaptive = true: the server sizes its chains from the loss its "
                        "receivers report, --chain-updates the ceiling), replicast-fixed (adaptive off: every "
                        "chain up to --chain-updates), redis")
    p.add_argument("--timeout", type=int, default=300, help="seconds a run may take to complete (default 300)")
    a = p.parse_args()
    grid = QUICK if a.quick else FULL
    a.clients = benchlib.int_list(a.clients or grid["clients"])
    a.loss = benchlib.float_list(a.loss or grid["loss"])
    a.updates = a.updates or grid["updates"]
    a.systems = [s for s in a.systems.split(",") if s]
    if any(not 1 <= n <= 32 for n in a.clients):
        p.error("--clients: each N must be 1..32 (scripts/lab's limit)")
    if any(not 0 <= x <= 50 for x in a.loss):
        p.error("--loss: each rate must be 0..50 %")
    if not 1 <= a.value_bytes <= 65536 or a.updates < 1 or a.repeat < 1:
        p.error("--value-bytes must be 1..65536, --updates and --repeat at least 1")
    if not a.systems or any(s not in SYSTEMS for s in a.systems):
        p.error("--systems: any of " + ", ".join(SYSTEMS))
    if a.csv is None:
        a.csv = (os.path.join(tempfile.gettempdir(), f"fanout-quick-{os.getpid()}.csv") if a.quick
                 else os.path.join(benchlib.RESULTS, "fanout.csv"))
    return a


def write_workload(directory, updates, value_bytes):
    """The same SETs twice: JSON lines for `replicast load`, RESP for
    `redis-cli --pipe`. @return (json path, resp path, payload bytes per update)."""
    rng = random.Random(1313)
    jpath, rpath = os.path.join(directory, "workload.jsonl"), os.path.join(directory, "workload.resp")
    with open(jpath, "w") as j, open(rpath, "wb") as r:
        for i in range(updates):
            key = f"k{i:07d}"
            value = rng.randbytes(value_bytes)
            j.write(json.dumps({"key": key, "value_base64": base64.b64encode(value).decode()}) + "\n")
            r.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key.encode(), len(value), value))
    return jpath, rpath, len(key) + value_bytes


class Progress:
    """A progress line every couple of seconds while a run waits for its replicas."""

    def __init__(self, label):
        self.label = label
        self.last = 0.0

    def __call__(self, done, total, unit):
        now = time.monotonic()
        if now - self.last >= 2.0:
            self.last = now
            say(f"  {self.label}: slowest replica at {done}/{total} {unit}")


def applied_lsn(sock_path):
    return benchlib.applied_lsn(sock_path, DB)


def run_replicast(lab, replicast, clients, a, tag, workload_json, adaptive=True):
    rep = labrun.Replication(lab, replicast, [DB], {n: None for n in clients}, server={
        "bundle": {"max_updates": a.chain_updates, "max_bytes": a.chain_bytes, "adaptive": adaptive},
        "pacing": {"rate_mbps": a.rate_mbps},
        "keys": {"rotate_seconds": 60},
        "retention": {"keep_updates": 10_000_000},
    })
    try:
        rep.create_databases()
        rep.start_server(tag)
        for n in clients:
            rep.start_client(n, tag)
        labrun.wait_until("every replicast client following", lambda: all(
            applied_lsn(rep.sock(n)) >= 1 for n in clients), 120, interval=0.2)
        say(f"  replicast: server and {len(clients)} client(s) up and following; loading")
        before = lab.link_bytes("server")
        t0 = time.monotonic()
        out = lab.run(None, [replicast, "load", "--store", rep.store, "--db", DB, workload_json], timeout=a.timeout)
        last = int(out.stdout.split("last_lsn=")[1].split()[0])
        progress = Progress(f"replicast N={len(clients)}")
        waiting = set(clients)

        def slowest():
            # Only the replicas not done yet are asked again, each over its stats socket directly.
            applied = {n: applied_lsn(rep.sock(n)) for n in waiting}
            waiting.difference_update(n for n, lsn in applied.items() if lsn >= last)
            progress(min(applied.values()) - 1, last - 1, "updates")
            return not waiting

        labrun.wait_until(f"every replicast replica at LSN {last}", slowest, a.timeout, interval=0.1)
        seconds = time.monotonic() - t0
        egress = lab.link_bytes("server") - before
        stats = {n: rep.stats(n) or {} for n in clients}
        mismatches = rep.mismatches(clients)
        repair = {k: sum(s.get(DB, {}).get("repair", {}).get(k, 0) for s in stats.values())
                  for k in ("gaps", "lsns_recovered", "snapshots")}
        # The chain sizes adaptive bundling chose during the run, from the server's log.
        sizes = re.findall(r"chains of at most (\d+) updates", rep.server.output())
        detail = (f"gaps={repair['gaps']} recovered={repair['lsns_recovered']} snapshots={repair['snapshots']}"
                  + (f" chain_sizes={'>'.join(sizes[-8:])}" if sizes else "")
                  + (f" MISMATCH={mismatches}" if mismatches else ""))
        return dict(egress_bytes=egress, seconds=seconds, complete="yes" if not mismatches else "no", detail=detail)
    finally:
        for p in [*rep.clients.values(), rep.server]:
            if p is not None:
                p.stop(seconds=10)
        for path in [rep.store, *[rep.replica(n) for n in clients]]:
            subprocess.run(["rm", "-rf", path])


def run_redis(lab, clients, a, tag, workload_resp):
    redis = RedisReplication(lab, clients, tag)
    try:
        redis.start()
        labrun.wait_until("every Redis replica online", redis.all_online, 120, interval=0.2)
        say(f"  redis: primary and {len(clients)} replica(s) online; loading")
        before = lab.link_bytes("server")
        t0 = time.monotonic()
        redis.load(workload_resp)
        target = redis.primary_offset()
        progress = Progress(f"redis N={len(clients)}")
        waiting = set(clients)

        def slowest():
            offsets = {n: redis.replica_offset(n) for n in waiting}
            waiting.difference_update(n for n, offset in offsets.items() if offset >= target)
            progress(min(offsets.values()), target, "bytes of replication stream")
            return not waiting

        labrun.wait_until(f"every Redis replica at offset {target}", slowest, a.timeout, interval=0.1)
        seconds = time.monotonic() - t0
        egress = lab.link_bytes("server") - before
        digest = redis.digest("server")
        wrong = [n for n in clients if redis.dbsize(f"client{n}") != a.updates or redis.digest(f"client{n}") != digest]
        detail = f"offset={target}" + (f" WRONG_REPLICAS={wrong}" if wrong else "")
        return dict(egress_bytes=egress, seconds=seconds, complete="yes" if not wrong else "no", detail=detail)
    finally:
        redis.stop()


def main():
    a = parse_args()
    benchlib.check_root()
    replicast = benchlib.replicast_binary()
    if any(s.startswith("replicast") for s in a.systems) and not os.path.exists(replicast):
        sys.exit(f"error: {replicast} is missing: build it (ninja -C build)")
    if "redis" in a.systems:
        benchlib.need("redis-server", "redis-server")
        benchlib.need("redis-cli", "redis-tools")
    command = "replicast bench fanout " + " ".join(sys.argv[1:])
    settings = (f"replicast chains <= {a.chain_updates} updates / {a.chain_bytes} B (replicast: adaptive, "
                f"replicast-fixed: not), pacing {a.rate_mbps} Mbit/s; "
                f"{a.updates} updates of {a.value_bytes} B per run" + "; " + benchlib.tx_idle(a))
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine(), settings,
                                           time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())])
    say(f"fanout: N = {a.clients}, loss = {a.loss} %, {a.updates} updates of {a.value_bytes} B, "
        f"{a.repeat} run(s) of {' and '.join(a.systems)} per cell; CSV {a.csv}")
    work = tempfile.mkdtemp(prefix="replicast-fanout-")
    rows = []
    one_copy = {}  # system -> egress per update at N = 1, 0 % loss (the first such run)
    cell = 0
    try:
        workload_json, workload_resp, payload = write_workload(work, a.updates, a.value_bytes)
        for n in a.clients:
            clients = list(range(1, n + 1))
            lab = labrun.Lab(replicast, n, keep=a.keep).up()
            say(f"lab {lab.prefix} up: server and {n} client namespaces")
            try:
                for loss in a.loss:
                    for c in clients:
                        lab.loss(c, f"{loss:g}")
                    for r in range(a.repeat):
                        order = a.systems if cell % 2 == 0 else list(reversed(a.systems))
                        cell += 1
                        for system in order:
                            tag = f"-{system}-{loss:g}-{r}"
                            say(f"N={n} loss={loss:g} % run {r + 1}/{a.repeat}: {system}")
                            try:
                                if system.startswith("replicast"):
                                    res = run_replicast(lab, replicast, clients, a, tag, workload_json,
                                                        adaptive=system == "replicast")
                                else:
                                    res = run_redis(lab, clients, a, tag, workload_resp)
                            except (TimeoutError, RuntimeError, subprocess.TimeoutExpired) as e:
                                # One cell that fails is reported and the grid goes on.
                                say(f"  {system}: FAILED: {str(e)[:1000]}")
                                res = dict(egress_bytes=0, seconds=0, complete="no",
                                           detail=str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
                            per_update = res["egress_bytes"] / a.updates
                            if n == 1 and loss == 0 and res["complete"] == "yes":
                                one_copy.setdefault(system, per_update)
                            row = dict(system=system, clients=n, loss_pct=f"{loss:g}", repeat=r, updates=a.updates,
                                       value_bytes=a.value_bytes, payload_bytes=payload,
                                       egress_bytes=res["egress_bytes"], egress_per_update=f"{per_update:.1f}",
                                       copies=f"{per_update / one_copy[system]:.3f}" if system in one_copy else "",
                                       seconds=f"{res['seconds']:.3f}",
                                       updates_per_s=f"{a.updates / res['seconds']:.0f}" if res["seconds"] else "",
                                       complete=res["complete"], detail=res["detail"])
                            out.row(row)
                            rows.append(row)
                            say(f"  {system}: {per_update:.1f} B/update"
                                f"{' = ' + row['copies'] + ' copies' if row['copies'] else ''}, "
                                f"{row['updates_per_s']} updates/s, complete={res['complete']} ({res['detail']})")
            finally:
                lab.close()
    finally:
        out.close()
        subprocess.run(["rm", "-rf", work])
    return summary(rows, a)


def summary(rows, a):
    """The table per (N, loss) and the issue's targets; exit 1 when a run did not complete."""
    say("summary: median egress per update (copies of N = 1, 0 %) and updates/s per cell")
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    print(f"  {'N':>3} {'loss':>5}  " + "   ".join(f"{s + ' B/upd':>21} {'copies':>7} {'upd/s':>8}" for s in systems))
    cells = sorted({(int(r["clients"]), float(r["loss_pct"])) for r in rows})

    def med(system, n, loss, col):
        v = [float(r[col]) for r in rows if r["system"] == system and int(r["clients"]) == n
             and float(r["loss_pct"]) == loss and r[col] != "" and r["complete"] == "yes"]
        return statistics.median(v) if v else None

    def fmt(x, spec):
        return format(x, spec) if x is not None else "-"

    for n, loss in cells:
        print(f"  {n:>3} {loss:>4g}%  "
              + "   ".join(f"{fmt(med(s, n, loss, 'egress_per_update'), '>21.1f')} "
                           f"{fmt(med(s, n, loss, 'copies'), '>7.3f')} {fmt(med(s, n, loss, 'updates_per_s'), '>8.0f')}"
                           for s in systems))
    for n, loss, limit in ((32, 0.0, 1.05), (8, 1.0, 1.3)):
        for s in systems:
            got = med(s, n, loss, "copies") if s.startswith("replicast") else None
            if got is not None:
                print(f"  target N={n} loss={loss:g} %: {s} {got:.3f} copies, at most {limit}: "
                      f"{'met' if got <= limit else 'MISSED'}")
    incomplete = [r for r in rows if r["complete"] != "yes"]
    for r in incomplete:
        print(f"  INCOMPLETE: {r['system']} N={r['clients']} loss={r['loss_pct']} %: {r['detail']}")
    say(f"rows written to {a.csv}")
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
