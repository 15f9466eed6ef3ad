#!/usr/bin/env python3
"""End to end: the highest sustained update rate with every replica keeping up, beside Redis replication, then publish-to-apply latency.

For each number of clients N and each value size, one grid cell runs
replicast and Redis one after the other (the order swapped every cell; only
one system's processes run at a time, so neither takes CPU from the other):

Sustained rate. A writer offers updates at a fixed rate R for one step
(--step-seconds, at most --max-step-updates updates): replicast through the
local store path (`replicast load --rate R` on the master, next to the
server) and, with --paths publish, through Publish (`replicast publish
--file --rate R` from client1's namespace); Redis by SETs on one connection
to the primary, paced the same way (the primary in the server namespace, a
replica per client namespace, the same keys and values; `redis-cli --pipe`
reads the replies; the schedule starts at the first SET the primary
executed, as `load`'s at its first record, so neither writer's process
start counts). A step is SUSTAINED when the last replica applied the
step's last update within --drain-ms of the time the writer's schedule
had it written (the writer's own delay at its end, then the replicas'
drain; a rate over capacity leaves a backlog that grows through the step,
so this bound on the end bounds the lag throughout, and admits rates at
most drain/step above capacity: 12.5 %% with the defaults). The search ramps R from
--start-rate, doubling, to the first step that is not sustained (at most
--max-rate), then bisects between the last sustained and that one
(--bisect steps); after a step that is not, it waits for every replica to
catch up (--settle-seconds) before the next. The cell's figure is the
highest sustained R, with its step's server egress (the server veth's
tx_bytes from the first write until every replica applied the last) per
update.

Latency (replicast). At 10, 50 and 90 %% (--fractions) of the cell's
sustained local rate, a background writer (`replicast load --rate`) runs
while `replicast probe` times probe keys one at a time (--probes,
--probe-interval-ms apart) from just before the write until the last
replica (client N's store) holds them: written into the master store next
to the server (path local: local-write-to-apply) and by Publish over TLS
from client1's namespace (path publish: publish-to-apply), one after the
other, their order swapped per fraction. One clock: everything runs on this
machine. p50, p99 and p999 of the probes, and of the write (or Publish
call) alone (the probe's write_*: the master's commit and fsync, the
writer lock), which the rest of the chain adds to.

Settings that shape latency, in the CSV's header and below: the server's
update detector wakes on the store's write notification and otherwise
polls every --poll-ms (config poll_interval_ms, default here 1, the
server's own default 20); chains are cut from what the log holds when the
detector looks (no bundling wait), at most --chain-updates / --chain-bytes;
pacing caps the stream at --rate-mbps with --burst-bytes of credit and no
chain gap; the master commits with full durability (an fsync per write
transaction), replicas with nosync; an idle client daemon waits on a futex
for its receive thread (at most 50 ms); the tx worker follows --tx-idle.

CPU per update: every step also records the CPU each side spent per update
(its writer: `replicast load` / `publish` or redis-cli, from this process's
children's rusage; the sender: the server or Redis's primary; each replica:
the median daemon or Redis replica, from /proc). On this 2-core lab every
process shares the machine, so the sustained rate is bounded by the sum; on
separate hosts, each replica's rate is bounded by its own figure and the
master's by writer + sender.

Targets (issue 13): replicast's sustained rate at least 2x Redis's at each
N, at N = 4 and 8 a quarter or less of its egress bytes per update;
publish-to-apply p99 under 1 ms at 50 %% of the sustained rate.

CSV (bench/results/e2e.csv): a `step` row per search step, a `rate` row per
(system, path, cell) with the highest sustained rate, a `latency` row per
(cell, fraction, path); `scripts/bench-report` draws rate vs N and latency
percentiles vs load. Needs root, redis-server and redis-tools."""
import base64
import json
import mmap
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import labrun, say  # noqa: E402
from redis_lab import PORT as REDIS_PORT, RedisReplication  # noqa: E402

DB = "e2e"
COLUMNS = ["kind", "system", "path", "clients", "value_bytes", "fraction_pct", "offered_per_s", "achieved_per_s",
           "updates", "seconds", "drain_ms", "late_ms", "sustained", "egress_bytes", "egress_per_update", "probes", "p50_ms",
           "p99_ms", "p999_ms", "max_ms", "write_p50_ms", "write_p99_ms", "writer_cpu_us", "sender_cpu_us",
           "replica_cpu_us", "load_avg", "detail"]
FULL = dict(clients="1,4,8", values="100,1024", paths="local,publish", fractions="10,50,90", step_seconds=2.0,
            start_rate=20000, max_rate=4_000_000, bisect=3, probes=1000, max_step_updates=1_000_000)
QUICK = dict(clients="1", values="100", paths="local", fractions="50", step_seconds=0.5, start_rate=2000,
             max_rate=4000, bisect=0, probes=20, max_step_updates=20_000)
KEY_BYTES = 8  # k0000000


def parse_args():
    p = benchlib.parser("e2e", __doc__)
    p.add_argument("--clients", default=None, help=f"client counts N, comma separated (1..32; default {FULL['clients']})")
    p.add_argument("--values", default=None, help=f"value sizes in bytes, comma separated (default {FULL['values']})")
    p.add_argument("--paths", default=None,
                   help=f"replicast's write paths for the rate search: local, publish (default {FULL['paths']}; "
                        "latency always measures both)")
    p.add_argument("--systems", default="replicast,redis", help="which to run (default replicast,redis)")
    p.add_argument("--step-seconds", type=float, default=None,
                   help=f"length of one search step at the offered rate (default {FULL['step_seconds']})")
    p.add_argument("--max-step-updates", type=int, default=None,
                   help=f"updates per step at most (a step at a high rate is shorter; default {FULL['max_step_updates']})")
    p.add_argument("--start-rate", type=int, default=None, help=f"the ramp's first rate, updates/s (default {FULL['start_rate']})")
    p.add_argument("--max-rate", type=int, default=None, help=f"the ramp stops here, updates/s (default {FULL['max_rate']})")
    p.add_argument("--bisect", type=int, default=None, help=f"bisection steps after the ramp (default {FULL['bisect']})")
    p.add_argument("--drain-ms", type=int, default=250,
                   help="sustained: every replica applied a step's last update within this of the time the writer's "
                        "schedule had it written (default 250)")
    p.add_argument("--settle-seconds", type=int, default=90,
                   help="after a step that was not sustained, wait this long at most for the replicas (default 90)")
    p.add_argument("--fractions", default=None,
                   help=f"latency at these %% of the sustained local rate (default {FULL['fractions']})")
    p.add_argument("--probes", type=int, default=None, help=f"probes per latency run (default {FULL['probes']})")
    p.add_argument("--probe-interval-ms", type=int, default=2, help="pause between probes (default 2)")
    p.add_argument("--latency-paths", default="local,publish",
                   help="probe paths: local (written into the master next to the server), publish (Publish from "
                        "client1's namespace); default local,publish")
    p.add_argument("--no-latency", action="store_true", help="the rate search only")
    p.add_argument("--latency-at", type=int, default=None,
                   help="skip the search: latency at --fractions of this rate (updates/s), replicast only")
    p.add_argument("--poll-ms", type=int, default=1,
                   help="the server's update detector's poll interval without a notification (poll_interval_ms; "
                        "default 1, the server's own default is 20)")
    p.add_argument("--rate-mbps", type=int, default=1000, help="replicast's pacing cap, Mbit/s (default 1000)")
    p.add_argument("--burst-bytes", type=int, default=262144,
                   help="replicast's pacing credit after idle (burst_bytes; default 262144)")
    p.add_argument("--chain-gap-ns", type=int, default=0, help="quiet time after each chain (chain_gap_ns; default 0)")
    p.add_argument("--compression", default="isal", choices=("isal", "off"),
                   help="replicast's chain compression ([bundle] compression; default isal: the values are base64 "
                        "text, which deflate shrinks by about a quarter; Redis sends them as they are)")
    p.add_argument("--chain-updates", type=int, default=64, help="replicast's updates per chain at most (default 64)")
    p.add_argument("--chain-bytes", type=int, default=16384, help="replicast's chain size at most (default 16384)")
    p.add_argument("--publish-batch", type=int, default=1000,
                   help="updates per Publish call in the rate search (default 1000, the CLI's own: a call waits for its reply, so "
                        "the batch bounds the rate at batch / round trip, where redis-cli --pipe has no bound)")
    p.add_argument("--workdir", default=None,
                   help="where the lab's stores go (default a temporary directory under $TMPDIR; /dev/shm puts the "
                        "master's fsync on tmpfs)")
    a = p.parse_args()
    grid = QUICK if a.quick else FULL
    a.clients = benchlib.int_list(a.clients or grid["clients"])
    a.values = benchlib.int_list(a.values or grid["values"])
    a.paths = [x for x in (a.paths or grid["paths"]).split(",") if x]
    a.fractions = benchlib.float_list(a.fractions or grid["fractions"])
    a.systems = [s for s in a.systems.split(",") if s]
    a.latency_paths = [x for x in a.latency_paths.split(",") if x]
    if not a.latency_paths or any(x not in ("local", "publish") for x in a.latency_paths):
        p.error("--latency-paths: local and/or publish")
    for k in ("step_seconds", "start_rate", "max_rate", "bisect", "probes", "max_step_updates"):
        if getattr(a, k) is None:
            setattr(a, k, grid[k])
    if any(not 1 <= n <= 32 for n in a.clients):
        p.error("--clients: each N must be 1..32 (scripts/lab's limit)")
    if any(not 1 <= v <= 65536 for v in a.values):
        p.error("--values: each size must be 1..65536")
    if not a.paths or any(x not in ("local", "publish") for x in a.paths):
        p.error("--paths: local and/or publish")
    if not a.systems or any(s not in ("replicast", "redis") for s in a.systems):
        p.error("--systems: replicast and/or redis")
    if any(not 0 < f <= 100 for f in a.fractions):
        p.error("--fractions: each in (0, 100]")
    if a.latency_at is not None:
        if a.latency_at < 1 or a.no_latency:
            p.error("--latency-at: a rate of at least 1, and not with --no-latency")
        a.systems = ["replicast"]
    if a.step_seconds <= 0 or a.start_rate < 1 or a.max_rate < a.start_rate or a.bisect < 0 or a.probes < 1:
        p.error("--step-seconds > 0, --start-rate >= 1, --max-rate >= --start-rate, --bisect >= 0, --probes >= 1")
    if a.csv is None:
        a.csv = (os.path.join(tempfile.gettempdir(), f"e2e-quick-{os.getpid()}.csv") if a.quick
                 else os.path.join(benchlib.RESULTS, "e2e.csv"))
    return a


# -- the workload: the same keys and values for both systems
class Workload:
    """`count` SETs of key k%07d and a printable value of `value_bytes` (no
    tab, so `replicast load` takes it as TSV; the same bytes go to Redis):
    a TSV file (records i.. are its lines) and a RESP file of fixed-length
    commands, mapped, so a step's first n commands are one slice."""

    def __init__(self, directory, count, value_bytes):
        self.count, self.value_bytes = count, value_bytes
        self.tsv = os.path.join(directory, f"w{value_bytes}.tsv")
        self.resp = os.path.join(directory, f"w{value_bytes}.resp")
        pool = base64.b64encode(random.Random(1313).randbytes(3 * (value_bytes + 65536) // 4 + 3))
        span = len(pool) - value_bytes
        with open(self.tsv, "wb") as t, open(self.resp, "wb") as r:
            for start in range(0, count, 10000):
                lines, cmds = [], []
                for i in range(start, min(count, start + 10000)):
                    key = b"k%07d" % i
                    off = (i * 7919) % span
                    value = pool[off:off + value_bytes]
                    lines.append(key + b"\t" + value + b"\n")
                    cmds.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
                t.write(b"".join(lines))
                r.write(b"".join(cmds))
        self.cmd_bytes = len(cmds[0])
        self.resp_file = open(self.resp, "rb")
        self.resp_map = mmap.mmap(self.resp_file.fileno(), 0, access=mmap.ACCESS_READ)

    def close(self):
        self.resp_map.close()
        self.resp_file.close()
        for path in (self.tsv, self.resp):
            os.unlink(path)


def cyclic_head(path, count):
    """A shell pipeline that prints the first `count` lines of `path` read
    again and again (a background writer outlasting the file)."""
    return f"while cat '{path}'; do :; done | head -n {count}"


# -- one step of each system
def children_cpu():
    """CPU seconds of this process's waited-for children (and theirs): a writer run with lab.run."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def poll_until(what, done, seconds, interval=0.01):
    """Polls done() until true; the time it took (s), or None past `seconds`."""
    t0 = time.monotonic()
    while True:
        if done():
            return time.monotonic() - t0
        if time.monotonic() - t0 >= seconds:
            return None
        time.sleep(interval)


class ReplicastCell:
    """replicast on the lab for one cell: the master, `replicast server`, a
    daemon per client, a publisher identity."""

    def __init__(self, lab, replicast, clients, a, tag):
        self.lab, self.replicast, self.clients, self.a, self.tag = lab, replicast, clients, a, tag
        self.rep = labrun.Replication(lab, replicast, [DB], {n: None for n in clients}, publisher=True, server={
            "server": {"poll_interval_ms": a.poll_ms},
            "bundle": {"max_updates": a.chain_updates, "max_bytes": a.chain_bytes, "compression": a.compression},
            "pacing": {"rate_mbps": a.rate_mbps, "burst_bytes": a.burst_bytes, "chain_gap_ns": a.chain_gap_ns},
            "keys": {"rotate_seconds": 3600},
            # The benchmark trims between steps (trim_logs), never during one.
            "retention": {"keep_updates": 100_000, "trim_interval_ms": 0},
        })
        self.last = 0

    def start(self):
        rep = self.rep
        rep.create_databases()
        rep.start_server(self.tag)
        for n in self.clients:
            rep.start_client(n, self.tag)
        labrun.wait_until("every replicast client following", lambda: all(
            benchlib.applied_lsn(rep.sock(n), DB) >= 1 for n in self.clients), 120, interval=0.2)
        self.last = self.rep.master_last(DB)

    def stop(self):
        for p in [*self.rep.clients.values(), self.rep.server]:
            if p is not None:
                p.stop(seconds=10)
        for path in [self.rep.store, *[self.rep.replica(n) for n in self.clients]]:
            subprocess.run(["rm", "-rf", path])

    def all_applied(self, lsn):
        waiting = set(self.clients)

        def done():
            waiting.difference_update([n for n in waiting if benchlib.applied_lsn(self.rep.sock(n), DB) >= lsn])
            return not waiting
        return done

    def publish_args(self, client=1):
        certs = self.rep.certs
        return ["--server", f"{self.lab.addr('server')}:{labrun.CONTROL_PORT}", "--cert", f"{certs}/publisher.pem",
                "--key", f"{certs}/publisher.key", "--ca", f"{certs}/ca.pem"]

    def writer(self, path, work, rate, count):
        """The argv (and namespace) of a writer of `count` records at `rate`."""
        if path == "local":
            return None, ["sh", "-c", f"{cyclic_head(work.tsv, count)} | '{self.replicast}' load --store "
                                      f"'{self.rep.store}' --db {DB} --rate {rate} --batch 4096 -"]
        return "client1", ["sh", "-c", f"{cyclic_head(work.tsv, count)} | '{self.replicast}' publish {DB} --file - "
                                       f"--rate {rate} --batch {self.a.publish_batch} --retry-seconds 5 "
                           + " ".join(self.publish_args())]

    def pids(self):
        """(the sender, the receivers): the server, the client daemons."""
        return self.rep.server.pid, [self.rep.clients[n].pid for n in self.clients]

    def step(self, path, work, rate, count):
        before = self.lab.link_bytes("server")
        host, argv = self.writer(path, work, rate, count)
        cpu0 = children_cpu()
        out = self.lab.run(host, argv, timeout=max(120, 10 * count / rate)).stdout
        t_end = time.monotonic()
        writer_cpu = children_cpu() - cpu0
        fields = dict(x.split("=", 1) for x in out.split() if "=" in x)
        seconds = float(fields["seconds"])
        if path == "local":
            last = int(fields["last_lsn"])
        else:
            last = int(fields["first_lsn"]) + int(fields["updates"]) - 1
        drain = poll_until("replicas", self.all_applied(last), self.a.drain_ms / 1000)
        settled = drain is not None or poll_until("replicas", self.all_applied(last), self.a.settle_seconds, 0.1) is not None
        egress = self.lab.link_bytes("server") - before
        if drain is None:
            drain = time.monotonic() - t_end
        self.last = last
        self.trim()
        return dict(seconds=seconds, drain=drain, egress=egress, settled=settled, writer_cpu=writer_cpu)

    def trim(self):
        self.lab.run(None, [self.replicast, "trim", "--store", self.rep.store, "--db", DB, "--keep-updates", "100000"],
                     timeout=300)

    def repair_detail(self):
        stats = {n: self.rep.stats(n) or {} for n in self.clients}
        d = {k: sum(s.get(DB, {}).get("repair", {}).get(k, 0) for s in stats.values())
             for k in ("gaps", "lsns_recovered", "snapshots")}
        overflows = sum(s.get(DB, {}).get("receive", {}).get("queue_overflows", 0) for s in stats.values())
        return f"gaps={d['gaps']} recovered={d['lsns_recovered']} snapshots={d['snapshots']} overflows={overflows}"

    def probe(self, path, probes, interval_ms):
        """`replicast probe` against the last client's replica; its JSON."""
        n = self.clients[-1]
        base = [self.replicast, "probe", "--db", DB, "--replica", self.rep.replica(n), "--count", str(probes),
                "--interval-ms", str(interval_ms), "--timeout-ms", "10000", "--json", *self.publish_args()]
        if path == "local":
            out = self.lab.run(None, base + ["--local-store", self.rep.store], timeout=600, check=False)
        else:
            out = self.lab.run("client1", base, timeout=600, check=False)
        if out.returncode != 0 and not out.stdout.strip():
            raise RuntimeError(f"probe ({path}): {out.stderr.strip()[-1000:]}")
        return json.loads(out.stdout)


class RedisCell:
    """Redis replication for one cell, and a paced writer on one connection to the primary."""

    def __init__(self, lab, clients, a, tag):
        self.lab, self.clients, self.a = lab, clients, a
        self.redis = RedisReplication(lab, clients, tag)

    def start(self):
        self.redis.start()
        labrun.wait_until("every Redis replica online", self.redis.all_online, 120, interval=0.2)

    def stop(self):
        self.redis.stop()

    def pids(self):
        """(the sender, the receivers): the primary, the replicas."""
        return self.redis.primary.pid, [self.redis.replicas[n].pid for n in self.clients]

    def all_applied(self, target):
        waiting = set(self.clients)

        def done():
            waiting.difference_update([n for n in waiting if self.redis.replica_offset(n) >= target])
            return not waiting
        return done

    def step(self, path, work, rate, count):
        # redis-cli --pipe reads the replies (in C); this process only feeds
        # its stdin on the schedule, slices of the mapped RESP file.
        before = self.lab.link_bytes("server")
        cpu0 = children_cpu()
        cli = subprocess.Popen(["ip", "netns", "exec", self.lab.ns("server"), "redis-cli", "-h", "127.0.0.1", "-p",
                                str(REDIS_PORT), "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        size = work.cmd_bytes
        try:
            # The schedule starts at the first SET the primary has executed
            # (as `replicast load`'s seconds start at its first record), so
            # redis-cli's own start is not counted as Redis's time.
            calls = self.set_calls()
            cli.stdin.write(work.resp_map[0:size])
            cli.stdin.flush()
            labrun.wait_until("redis-cli's first SET", lambda: self.set_calls() > calls, 30, interval=0.001)
            t0 = time.monotonic()
            sent = 1
            while sent < count:
                due = min(count, int((time.monotonic() - t0) * rate) + 1)
                if due > sent:
                    cli.stdin.write(work.resp_map[sent * size:due * size])
                    cli.stdin.flush()
                    sent = due
                else:
                    time.sleep(max(0.0, t0 + sent / rate - time.monotonic()))
            cli.stdin.close()
            text = cli.stdout.read().decode(errors="replace")
            cli.wait(timeout=self.a.settle_seconds + 60)
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
        t_end = time.monotonic()
        writer_cpu = children_cpu() - cpu0
        if cli.returncode != 0 or "errors: 0," not in text or f"replies: {count}" not in text:
            raise RuntimeError(f"redis-cli --pipe: {text.strip()[-300:]}")
        target = self.redis.primary_offset()
        drain = poll_until("replicas", self.all_applied(target), self.a.drain_ms / 1000)
        settled = drain is not None or poll_until("replicas", self.all_applied(target), self.a.settle_seconds,
                                                   0.1) is not None
        egress = self.lab.link_bytes("server") - before
        if drain is None:
            drain = time.monotonic() - t_end
        return dict(seconds=t_end - t0, drain=drain, egress=egress, settled=settled, writer_cpu=writer_cpu)

    def set_calls(self):
        """SETs the primary has executed (INFO commandstats)."""
        for line in self.redis.cli("server", "info", "commandstats").splitlines():
            if line.startswith("cmdstat_set:"):
                return int(line.split("calls=")[1].split(",")[0])
        return 0

    def repair_detail(self):
        return f"offset={self.redis.primary_offset()}"

    def mismatches(self):
        """Replicas whose key count or DEBUG DIGEST differs from the primary's."""
        digest, keys = self.redis.digest("server"), self.redis.dbsize("server")
        return [n for n in self.clients if self.redis.dbsize(f"client{n}") != keys
                or self.redis.digest(f"client{n}") != digest]


# -- the search
def search(cell, system, path, work, n, a, out, rows):
    """Ramp then bisect; the highest sustained rate's step (or None)."""
    steps = []

    def step(rate):
        count = max(1, min(a.max_step_updates, work.count, int(rate * a.step_seconds)))
        sender, receivers = cell.pids()
        s0, r0 = benchlib.cpu_seconds(sender), [benchlib.cpu_seconds(p) for p in receivers]
        try:
            r = cell.step(path, work, rate, count)
        except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
            say(f"    {system}/{path} {rate}/s: FAILED: {str(e)[:500]}")
            r = dict(seconds=0, drain=0, egress=0, settled=False, error=str(e).splitlines()[0][:200] if str(e) else "")
        achieved = count / r["seconds"] if r["seconds"] else 0
        # CPU per update over the step (its writer, its drain): the work each
        # side does, whatever share of the 2 cores it got (see RESULTS.md).
        sender_us = (benchlib.cpu_seconds(sender) - s0) * 1e6 / count
        replica_us = statistics.median(benchlib.cpu_seconds(p) - c for p, c in zip(receivers, r0)) * 1e6 / count
        writer_us = r.get("writer_cpu", 0) * 1e6 / count
        # How late the last replica applied the step's last update against the
        # writer's schedule: the writer's own delay at its end, then the drain.
        late = max(0.0, r["seconds"] - (count - 1) / rate) + r["drain"]
        ok = bool(r["seconds"]) and late <= a.drain_ms / 1000 and r["settled"]
        row = dict(kind="step", system=system, path=path, clients=n, value_bytes=work.value_bytes,
                   offered_per_s=rate, achieved_per_s=f"{achieved:.0f}", updates=count, seconds=f"{r['seconds']:.3f}",
                   drain_ms=f"{r['drain'] * 1000:.0f}", late_ms=f"{late * 1000:.0f}", sustained="yes" if ok else "no", egress_bytes=r["egress"],
                   egress_per_update=f"{r['egress'] / count:.1f}", writer_cpu_us=f"{writer_us:.2f}",
                   sender_cpu_us=f"{sender_us:.2f}", replica_cpu_us=f"{replica_us:.2f}",
                   load_avg=f"{os.getloadavg()[0]:.1f}",
                   detail=r.get("error") or ("" if r["settled"] else "replicas did not catch up within --settle-seconds"))
        out.row(row)
        say(f"    {system}/{path} N={n} {work.value_bytes} B: offered {rate}/s, writer {achieved:.0f}/s, "
            f"last replica {r['drain'] * 1000:.0f} ms after it, {late * 1000:.0f} ms after schedule, "
            f"{r['egress'] / count:.1f} B/update; CPU us/update writer {writer_us:.2f} sender {sender_us:.2f} "
            f"replica {replica_us:.2f}: {'sustained' if ok else 'NOT sustained'}")
        steps.append((rate, ok, row))
        if not r["settled"]:
            raise RuntimeError(f"{system}: the replicas did not catch up within {a.settle_seconds} s")
        return ok

    lo, hi, rate = None, None, a.start_rate
    while rate <= a.max_rate:
        if step(rate):
            lo = rate
            rate *= 2
        else:
            hi = rate
            break
    for _ in range(a.bisect if hi is not None else 0):
        mid = (lo + hi) // 2 if lo is not None else hi // 2
        if mid < 1 or mid in (lo, hi):
            break
        if step(mid):
            lo = mid
        else:
            hi = mid
    best = next((row for rate, ok, row in steps if ok and rate == lo), None)
    res = dict(kind="rate", system=system, path=path, clients=n, value_bytes=work.value_bytes,
               offered_per_s=lo or 0, achieved_per_s=best["achieved_per_s"] if best else "",
               egress_bytes=best["egress_bytes"] if best else "", egress_per_update=best["egress_per_update"] if best else "",
               drain_ms=best["drain_ms"] if best else "", late_ms=best["late_ms"] if best else "", sustained="yes" if best else "no",
               **{k: best[k] if best else "" for k in ("writer_cpu_us", "sender_cpu_us", "replica_cpu_us")},
               load_avg=f"{os.getloadavg()[0]:.1f}",
               detail=f"steps={len(steps)} first_unsustained={hi} " + cell.repair_detail())
    out.row(res)
    rows.append(res)
    say(f"  {system}/{path} N={n} {work.value_bytes} B: highest sustained rate {lo or 0} updates/s "
        f"(first not sustained: {hi}; {len(steps)} steps)")
    return lo


def stop_group_on_stop(p):
    """A shell pipeline started by Lab.start leads its own process group
    (a new session): stopping it, now or at the lab's close, ends the whole
    group, not only the shell (its `cat` loop and writer would run on)."""

    def stop(seconds=10):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        return labrun.Process.stop(p, seconds)
    p.stop = stop


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def latency(cell, work, n, rate, a, out, rows, flip):
    """Probes of both paths at each fraction of the sustained rate, under a background writer."""
    for i, fraction in enumerate(a.fractions):
        bg_rate = max(1, int(rate * fraction / 100))
        order = a.latency_paths if (i + flip) % 2 == 0 else list(reversed(a.latency_paths))
        for path in order:
            # Bounded even if left behind: at most 10 minutes at its rate.
            host, argv = cell.writer("local", work, bg_rate, bg_rate * 600)
            bg = cell.lab.start(f"writer-{path}-{fraction:g}{cell.tag}", host, argv)
            stop_group_on_stop(bg)
            detail = ""
            try:
                time.sleep(0.3)  # the writer is at its rate before the first probe
                res = cell.probe(path, a.probes, a.probe_interval_ms)
                if not bg.alive():
                    detail = "the background writer ended before the probes: " + bg.output()[-200:]
            finally:
                bg.stop(seconds=10)
            cell.trim()
            s = res.get("samples_ms", [])
            row = dict(kind="latency", system="replicast", path=path, clients=n, value_bytes=work.value_bytes,
                       fraction_pct=f"{fraction:g}", offered_per_s=bg_rate, probes=len(s),
                       p50_ms=f"{quantile(s, 0.5):.3f}", p99_ms=f"{quantile(s, 0.99):.3f}",
                       p999_ms=f"{quantile(s, 0.999):.3f}", max_ms=f"{max(s) if s else float('nan'):.3f}",
                       write_p50_ms=f"{res['write_p50_ms']:.3f}" if "write_p50_ms" in res else "",
                       write_p99_ms=f"{res['write_p99_ms']:.3f}" if "write_p99_ms" in res else "",
                       load_avg=f"{os.getloadavg()[0]:.1f}",
                       detail=(detail or "") + (f" timed_out={res.get('timed_out')}" if res.get("timed_out") else ""))
            out.row(row)
            rows.append(row)
            say(f"    latency {path} N={n} {work.value_bytes} B at {fraction:g} % ({bg_rate}/s): "
                f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, p999 {row['p999_ms']} ms ({len(s)} probes; "
                f"the write alone p50 {row['write_p50_ms'] or '-'} p99 {row['write_p99_ms'] or '-'} ms)")


def run_cell(lab, replicast, n, work, a, out, rows, cell_no):
    clients = list(range(1, n + 1))
    order = a.systems if cell_no % 2 == 0 else list(reversed(a.systems))
    for system in order:
        tag = f"-{system}-{work.value_bytes}"
        say(f"N={n} {work.value_bytes} B: {system}")
        cell = ReplicastCell(lab, replicast, clients, a, tag) if system == "replicast" else RedisCell(lab, clients, a, tag)
        try:
            cell.start()
            say(f"  {system}: up, {n} replica(s) following")
            if system == "redis":
                search(cell, "redis", "-", work, n, a, out, rows)
                wrong = cell.mismatches()
                if wrong:
                    raise RuntimeError(f"Redis replicas differ from the primary: {wrong}")
                continue
            local_rate = a.latency_at
            for path in a.paths if a.latency_at is None else []:
                got = search(cell, "replicast", path, work, n, a, out, rows)
                if path == "local":
                    local_rate = got
            if not a.no_latency and local_rate:
                latency(cell, work, n, local_rate, a, out, rows, cell_no % 2)
            mism = cell.rep.mismatches(clients)
            if mism:
                raise RuntimeError(f"replicas differ from the master: {mism}")
        except (TimeoutError, RuntimeError, subprocess.TimeoutExpired) as e:
            say(f"  {system}: FAILED: {str(e)[:1000]}")
            row = dict(kind="rate", system=system, path="-", clients=n, value_bytes=work.value_bytes,
                       sustained="no", detail="FAILED: " + (str(e).splitlines()[0][:200] if str(e) else type(e).__name__))
            out.row(row)
            rows.append(row)
        finally:
            cell.stop()


def main():
    a = parse_args()
    benchlib.check_root()
    replicast = benchlib.replicast_binary()
    if "replicast" in a.systems and not os.path.exists(replicast):
        sys.exit(f"error: {replicast} is missing: build it (ninja -C build)")
    if "redis" in a.systems:
        benchlib.need("redis-server", "redis-server")
        benchlib.need("redis-cli", "redis-tools")
    command = "replicast bench e2e " + " ".join(sys.argv[1:])
    settings = (f"step {a.step_seconds} s (<= {a.max_step_updates} updates), sustained: "
                f"the last replica applied the last update within {a.drain_ms} ms of its schedule; ramp from {a.start_rate}/s doubling, {a.bisect} bisections; "
                f"replicast: poll_interval_ms {a.poll_ms}, compression {a.compression}, chains <= {a.chain_updates} updates / {a.chain_bytes} B, "
                f"pacing {a.rate_mbps} Mbit/s burst {a.burst_bytes} B chain gap {a.chain_gap_ns} ns, master durability "
                f"full, replicas nosync; probes {a.probes} every "
                f"{a.probe_interval_ms} ms" + "; " + benchlib.tx_idle(a))
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine(), settings,
                                           time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                                           f"load average at start {os.getloadavg()[0]:.2f}"])
    say(f"e2e: N = {a.clients}, values {a.values} B, paths {a.paths}, systems {a.systems}; CSV {a.csv}")
    say(f"  {settings}")
    work_dir = tempfile.mkdtemp(prefix="replicast-e2e-")
    rows = []
    cell_no = 0
    try:
        for n in a.clients:
            lab_dir = tempfile.mkdtemp(prefix="replicast-e2e-lab-", dir=a.workdir) if a.workdir else None
            lab = labrun.Lab(replicast, n, workdir=lab_dir, keep=a.keep).up()
            say(f"lab {lab.prefix} up: server and {n} client namespaces")
            try:
                for v in a.values:
                    # A step's updates are bounded in count and, for large values, to 256 MiB of them.
                    count = max(1000, min(a.max_step_updates, int(a.max_rate * a.step_seconds),
                                          (256 << 20) // (v + KEY_BYTES)))
                    say(f"workload: {count} SETs of {v} B")
                    work = Workload(work_dir, count, v)
                    try:
                        run_cell(lab, replicast, n, work, a, out, rows, cell_no)
                    finally:
                        work.close()
                    cell_no += 1
            finally:
                lab.close()
                if lab_dir:
                    subprocess.run(["rm", "-rf", lab_dir])
    finally:
        out.close()
        subprocess.run(["rm", "-rf", work_dir])
    return summary(rows, a)


def summary(rows, a):
    say("summary: highest sustained rate (updates/s) and egress bytes per update at that rate")
    rate = {(r["system"], r["path"], int(r["clients"]), int(r["value_bytes"])): r for r in rows if r["kind"] == "rate"}
    failed = [r for r in rows if r["kind"] == "rate" and r["detail"].startswith("FAILED")]
    for v in a.values:
        for n in a.clients:
            red = rate.get(("redis", "-", n, v))
            for path in a.paths:
                ours = rate.get(("replicast", path, n, v))
                if not ours:
                    continue
                line = f"  N={n} {v} B {path}: replicast {ours['offered_per_s']}/s {ours['egress_per_update']} B/upd"
                if red and red["offered_per_s"] and ours["offered_per_s"]:
                    ratio = float(ours["offered_per_s"]) / float(red["offered_per_s"])
                    line += (f"; redis {red['offered_per_s']}/s {red['egress_per_update']} B/upd; rate x{ratio:.2f} "
                             f"(target >= 2: {'met' if ratio >= 2 else 'MISSED'})")
                    if n >= 4 and ours["egress_per_update"] and red["egress_per_update"]:
                        e = float(ours["egress_per_update"]) / float(red["egress_per_update"])
                        line += f", egress x{e:.3f} (target <= 0.25: {'met' if e <= 0.25 else 'MISSED'})"
                print(line)
                if red and ours["sender_cpu_us"] and red["sender_cpu_us"]:
                    print(f"      CPU us per update at that rate (writer + sender = the master side; each replica): "
                          f"replicast {float(ours['writer_cpu_us']) + float(ours['sender_cpu_us']):.2f} "
                          f"({ours['writer_cpu_us']} + {ours['sender_cpu_us']}), replica {ours['replica_cpu_us']}; "
                          f"redis {float(red['writer_cpu_us']) + float(red['sender_cpu_us']):.2f} "
                          f"({red['writer_cpu_us']} + {red['sender_cpu_us']}), replica {red['replica_cpu_us']}")
    for r in rows:
        if r["kind"] == "latency":
            print(f"  latency N={r['clients']} {r['value_bytes']} B {r['path']} at {r['fraction_pct']} %: "
                  f"p50 {r['p50_ms']} p99 {r['p99_ms']} p999 {r['p999_ms']} ms"
                  + (" (target p99 < 1 ms: " + ("met" if float(r["p99_ms"]) < 1 else "MISSED") + ")"
                     if r["fraction_pct"] == "50" else ""))
    for r in failed:
        print(f"  FAILED: {r['system']} N={r['clients']} {r['value_bytes']} B: {r['detail']}")
    say(f"rows written to {a.csv}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
