#!/usr/bin/env python3
"""Scale: many `replicast client` daemons on one stream at a modest rate.

One `replicast server` (DPDK net_af_packet, control plane on) multicasts one
database to --clients daemons spread over the lab's client namespaces
(--namespaces; daemon i runs in namespace 1 + i mod K with that namespace's
certificate identity, shared by the daemons there, and its own replica
store and stats socket). The master is written through the local store path
(`replicast load`) at --rate updates/s in slices of a quarter second.

Each repeat measures two phases on the same server, one after the other:
  one    only daemon 0 runs (the others are stopped): the one-copy reference;
  all    every daemon runs (started and caught up before the phase begins).
Per phase, from the first write until every replica has applied the last:
the bytes the server namespace's veth sent (tx_bytes: data, repairs,
heartbeats, control traffic) per update and in copies of the same repeat's
`one` phase; the server process's CPU, its tx worker thread's (DPDK's worker
lcore thread, which polls or sleeps as --tx-idle says) and the rest, the control plane and the
main loop (per-thread counters from /proc/PID/task/*/stat); the daemons' CPU.
Completion is checked: every replica's `replicast checksum` equals the
master's. After the phase, every daemon's resident set (VmRSS, and VmHWM, its
peak) from /proc/PID/status, and its anonymous part (RssAnon: VmRSS also
counts the pages of the replica's LMDB map it touched, which grow with the
replica and are the page cache's, shared). Before the `all` phase, with everything caught
up and no writes, each daemon's CPU over --idle-seconds: its idle cost (the
receive thread blocks in recvmmsg; the processing loop sleeps between passes
with no work).

CSV: one row per phase (bench/results/scale.csv); `scripts/bench-report`
draws RSS and egress. Needs root."""
import base64
import concurrent.futures
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import labrun, say  # noqa: E402

DB = "bench"
COLUMNS = ["phase", "clients", "namespaces", "repeat", "updates", "value_bytes", "rate_per_s", "egress_bytes",
           "egress_per_update", "copies", "seconds", "updates_per_s", "complete", "rss_median_kib", "rss_max_kib",
           "hwm_max_kib", "anon_median_kib", "anon_max_kib", "idle_cpu_pct_median", "idle_cpu_pct_max",
           "idle_cpu_pct_sum", "clients_cpu_s", "server_cpu_s", "tx_worker_cpu_s", "control_cpu_s", "control_cpu_pct",
           "load", "detail"]
FULL = dict(clients=100, namespaces=10, updates=20_000, rate=2_000, repeat=3)
QUICK = dict(clients=10, namespaces=2, updates=1_000, rate=1_000, repeat=1)
SLICE_S = 0.25


def parse_args():
    p = benchlib.parser("scale", __doc__)
    p.add_argument("--clients", type=int, default=None,
                   help=f"daemons in the `all` phase (default {FULL['clients']}; --quick {QUICK['clients']})")
    p.add_argument("--namespaces", type=int, default=None,
                   help=f"client namespaces they are spread over, 1..32 (default {FULL['namespaces']})")
    p.add_argument("--updates", type=int, default=None, help=f"updates per phase (default {FULL['updates']})")
    p.add_argument("--rate", type=int, default=None, help=f"updates/s written to the master (default {FULL['rate']})")
    p.add_argument("--value-bytes", type=int, default=100, help="value size in bytes (default 100; keys are 10 bytes)")
    p.add_argument("--repeat", type=int, default=None, help=f"repeats of the two phases (default {FULL['repeat']})")
    p.add_argument("--idle-seconds", type=float, default=None,
                   help="how long the daemons' idle CPU is sampled before each `all` phase (default 5; --quick 2)")
    p.add_argument("--rate-mbps", type=int, default=400, help="server's pacing cap, Mbit/s (default 400)")
    p.add_argument("--timeout", type=int, default=600, help="seconds a phase may take to converge (default 600)")
    a = p.parse_args()
    grid = QUICK if a.quick else FULL
    for k in ("clients", "namespaces", "updates", "rate", "repeat"):
        if getattr(a, k) is None:
            setattr(a, k, grid[k])
    a.idle_seconds = a.idle_seconds if a.idle_seconds is not None else (2.0 if a.quick else 5.0)
    if not 2 <= a.clients <= 1000:
        p.error("--clients must be 2..1000")
    if not 1 <= a.namespaces <= min(32, a.clients):
        p.error("--namespaces must be 1..32 (scripts/lab's limit) and at most --clients")
    if a.updates < 1 or a.rate < 1 or a.repeat < 1 or a.idle_seconds <= 0 or not 1 <= a.value_bytes <= 65536:
        p.error("--updates, --rate, --repeat, --idle-seconds must be positive, --value-bytes 1..65536")
    if a.csv is None:
        a.csv = (os.path.join(tempfile.gettempdir(), f"scale-quick-{os.getpid()}.csv") if a.quick
                 else os.path.join(benchlib.RESULTS, "scale.csv"))
    return a


def is_tx_worker(thread_name):
    """DPDK names its worker lcore threads (rte-worker-N, lcore-worker-N or
    dpdk-worker<N> by version); the server runs its tx worker on one."""
    return "worker" in thread_name and not thread_name.startswith("grpc")


class Fleet:
    """The daemons: daemon i is `d{i:03d}` in namespace 1 + i mod K."""

    def __init__(self, rep, count, namespaces):
        self.rep = rep
        self.names = [f"d{i:03d}" for i in range(count)]
        self.ns = {d: 1 + i % namespaces for i, d in enumerate(self.names)}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)

    def start(self, names):
        for d in names:
            self.rep.start_client(self.ns[d], daemon=d)

    def stop(self, names):
        """SIGTERM to all of them at once, then each is waited for (SIGKILL past 20 s)."""
        procs = [self.rep.clients.pop(d) for d in names if d in self.rep.clients]
        for p in procs:
            p.signal(signal.SIGTERM)
        for p in procs:
            p.stop(seconds=20)

    def pid(self, d):
        return self.rep.clients[d].pid

    def applied(self, d):
        return benchlib.applied_lsn(self.rep.sock(d), DB)

    def wait_at(self, names, lsn, seconds, label):
        """Every daemon in `names` has applied `lsn` (each asked again only while behind)."""
        waiting = set(names)
        last_say = [0.0]

        def done():
            for d in list(waiting):
                if not self.rep.clients[d].alive():
                    raise RuntimeError(f"daemon {d} exited:\n{self.rep.clients[d].output()[-2000:]}")
            # Asked side by side: a daemon still starting (TLS, Subscribe, its
            # bootstrap) answers late, and 100 of them asked in turn took minutes.
            ask = sorted(waiting)
            applied = dict(zip(ask, self.pool.map(self.applied, ask)))
            waiting.difference_update(d for d, x in applied.items() if x >= lsn)
            now = time.monotonic()
            if waiting and now - last_say[0] >= 2.0:
                last_say[0] = now
                say(f"  {label}: {len(names) - len(waiting)}/{len(names)} daemons at LSN {lsn}, "
                    f"slowest at {min(applied.values())}")
            return not waiting

        labrun.wait_until(f"{label}: every daemon at LSN {lsn}", done, seconds, interval=0.2)

    def mismatches(self, names):
        """Daemons whose replica's checksum differs from the master's."""
        master = labrun.checksum(self.rep.replicast, self.rep.store, DB)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            lines = dict(zip(names, pool.map(lambda d: labrun.checksum(self.rep.replicast, self.rep.replica(d), DB),
                                             names)))
        return {d: line for d, line in lines.items() if line != master}

    def repairs(self, names):
        total = {"gaps": 0, "lsns_recovered": 0, "snapshots": 0}
        for stats in self.pool.map(lambda d: benchlib.daemon_stats(self.rep.sock(d)), names):
            s = (stats or {}).get(DB, {})
            for k in total:
                total[k] += s.get("repair", {}).get(k, 0)
        return total


class Workload:
    """Distinct keys per phase, written to the master in slices of SLICE_S at a fixed rate."""

    def __init__(self, directory, a):
        self.dir = directory
        self.a = a
        self.rng = random.Random(1307)
        self.phase = 0

    def slices(self):
        self.phase += 1
        per_slice = max(1, round(self.a.rate * SLICE_S))
        paths = []
        for start in range(0, self.a.updates, per_slice):
            path = os.path.join(self.dir, f"phase{self.phase}-{start}.jsonl")
            with open(path, "w") as f:
                for i in range(start, min(start + per_slice, self.a.updates)):
                    value = self.rng.randbytes(self.a.value_bytes)
                    f.write(json.dumps({"key": f"p{self.phase:03d}k{i:06d}",
                                        "value_base64": base64.b64encode(value).decode()}) + "\n")
            paths.append(path)
        return paths

    def write(self, rep, paths):
        """Loads each slice at its time. @return the master's last LSN."""
        t0 = time.monotonic()
        last = 0
        for i, path in enumerate(paths):
            delay = t0 + i * SLICE_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the writer, not waiting for a condition
            out = rep.load(DB, path)
            last = int(out.stdout.split("last_lsn=")[1].split()[0])
        return last


def idle_cpu(fleet, names, seconds):
    """Each daemon's CPU share (%) over `seconds` with nothing to do."""
    before = {d: benchlib.cpu_seconds(fleet.pid(d)) for d in names}
    time.sleep(seconds)  # the measurement window itself
    return {d: 100.0 * (benchlib.cpu_seconds(fleet.pid(d)) - before[d]) / seconds for d in names}


def server_cpu(pid):
    """(whole process, tx worker threads) CPU seconds so far, and the thread names seen."""
    threads = benchlib.thread_cpu_seconds(pid)
    total = benchlib.cpu_seconds(pid)
    tx = sum(v for (_, name), v in threads.items() if is_tx_worker(name))
    return total, tx, sorted({name for _, name in threads})


def run_phase(fleet, names, workload, a):
    rep = fleet.rep
    paths = workload.slices()
    repairs0 = fleet.repairs(names)  # the daemons' counters are since their start: the phase's share is the difference
    before_bytes = rep.lab.link_bytes("server")
    s_total0, s_tx0, _ = server_cpu(rep.server.pid)
    c0 = {d: benchlib.cpu_seconds(fleet.pid(d)) for d in names}
    t0 = time.monotonic()
    last = workload.write(rep, paths)
    fleet.wait_at(names, last, a.timeout, f"{len(names)} daemon(s)")
    seconds = time.monotonic() - t0
    egress = rep.lab.link_bytes("server") - before_bytes
    s_total1, s_tx1, thread_names = server_cpu(rep.server.pid)
    clients_cpu = sum(benchlib.cpu_seconds(fleet.pid(d)) - c0[d] for d in names)
    mem = [benchlib.memory_kib(fleet.pid(d)) for d in names]
    rss = [m.get("VmRSS", 0) for m in mem]
    hwm = [m.get("VmHWM", 0) for m in mem]
    anon = [m.get("RssAnon", 0) for m in mem]
    repairs = {k: v - repairs0[k] for k, v in fleet.repairs(names).items()}
    bad = fleet.mismatches(names)
    # Tick-granular counters read at slightly different instants: a busy tx worker can show a
    # few ticks more than the whole process; the control plane's share is never below zero.
    control = max(0.0, (s_total1 - s_total0) - (s_tx1 - s_tx0))
    detail = (f"gaps={repairs['gaps']} recovered={repairs['lsns_recovered']} snapshots={repairs['snapshots']} "
              f"last_lsn={last}" + (f" MISMATCH={sorted(bad)[:10]}" if bad else ""))
    return dict(updates=a.updates, egress_bytes=egress, egress_per_update=egress / a.updates, seconds=seconds,
                complete="no" if bad else "yes", rss=rss, hwm=hwm, anon=anon, clients_cpu_s=clients_cpu,
                server_cpu_s=s_total1 - s_total0, tx_worker_cpu_s=s_tx1 - s_tx0, control_cpu_s=control,
                detail=detail, thread_names=thread_names)


def main():
    a = parse_args()
    benchlib.check_root()
    replicast = benchlib.replicast_binary()
    if not os.path.exists(replicast):
        sys.exit(f"error: {replicast} is missing: build it (ninja -C build)")
    command = "replicast bench scale " + " ".join(sys.argv[1:])
    settings = (f"{a.clients} daemons over {a.namespaces} namespaces; {a.updates} updates of {a.value_bytes} B per "
                f"phase at {a.rate}/s; pacing {a.rate_mbps} Mbit/s; daemon idle: "
                f"futex wait (rx::Wakeup, 50 ms cap) and the receive thread in a blocking recvmmsg" + "; " + benchlib.tx_idle(a))
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine(), settings,
                                           time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())])
    say(f"scale: {a.clients} daemons over {a.namespaces} namespaces, {a.updates} updates of {a.value_bytes} B "
        f"per phase at {a.rate}/s, {a.repeat} repeat(s); load {benchlib.load_average()}; CSV {a.csv}")
    work = tempfile.mkdtemp(prefix="replicast-scale-")
    rows = []
    try:
        lab = labrun.Lab(replicast, a.namespaces, keep=a.keep).up()
        say(f"lab {lab.prefix} up: server and {a.namespaces} client namespaces")
        try:
            rep = labrun.Replication(lab, replicast, [DB], {n: None for n in range(1, a.namespaces + 1)}, server={
                "pacing": {"rate_mbps": a.rate_mbps},
                "keys": {"rotate_seconds": 60},
                "retention": {"keep_updates": 10_000_000},
            }, client={n: {"stats": {"log_interval_ms": 10_000}} for n in range(1, a.namespaces + 1)})
            rep.create_databases()
            rep.start_server()
            say(f"server up (pid {rep.server.pid})")
            fleet = Fleet(rep, a.clients, a.namespaces)
            workload = Workload(work, a)
            ref, others = fleet.names[0], fleet.names[1:]
            fleet.start([ref])
            fleet.wait_at([ref], 1, 120, "reference daemon")
            for r in range(a.repeat):
                for phase, names in (("one", [ref]), ("all", fleet.names)):
                    idle = {}
                    if phase == "all":
                        t = time.monotonic()
                        fleet.start(others)
                        master_last = rep.master_last(DB)
                        fleet.wait_at(names, master_last, a.timeout, f"starting {len(others)} daemons")
                        say(f"  {len(names)} daemons up and at LSN {master_last} after {time.monotonic() - t:.1f} s; "
                            f"sampling their idle CPU for {a.idle_seconds:g} s")
                        idle = idle_cpu(fleet, names, a.idle_seconds)
                    say(f"repeat {r + 1}/{a.repeat}, phase {phase}: {len(names)} daemon(s), {a.updates} updates at "
                        f"{a.rate}/s; load {benchlib.load_average()}")
                    res = run_phase(fleet, names, workload, a)
                    if phase == "all" and r == 0:
                        say(f"  server threads: {', '.join(res['thread_names'])}")
                    ref_row = next((x for x in rows if x["repeat"] == r and x["phase"] == "one"), None)
                    copies = (res["egress_per_update"] / float(ref_row["egress_per_update"])
                              if ref_row and phase == "all" else 1.0 if phase == "one" else None)
                    row = dict(phase=phase, clients=len(names), namespaces=a.namespaces if phase == "all" else 1,
                               repeat=r, updates=a.updates, value_bytes=a.value_bytes, rate_per_s=a.rate,
                               egress_bytes=res["egress_bytes"], egress_per_update=f"{res['egress_per_update']:.1f}",
                               copies=f"{copies:.3f}" if copies is not None else "",
                               seconds=f"{res['seconds']:.3f}", updates_per_s=f"{a.updates / res['seconds']:.0f}",
                               complete=res["complete"], rss_median_kib=int(statistics.median(res["rss"])),
                               rss_max_kib=max(res["rss"]), hwm_max_kib=max(res["hwm"]),
                               anon_median_kib=int(statistics.median(res["anon"])), anon_max_kib=max(res["anon"]),
                               idle_cpu_pct_median=f"{statistics.median(idle.values()):.2f}" if idle else "",
                               idle_cpu_pct_max=f"{max(idle.values()):.2f}" if idle else "",
                               idle_cpu_pct_sum=f"{sum(idle.values()):.1f}" if idle else "",
                               clients_cpu_s=f"{res['clients_cpu_s']:.2f}", server_cpu_s=f"{res['server_cpu_s']:.2f}",
                               tx_worker_cpu_s=f"{res['tx_worker_cpu_s']:.2f}",
                               control_cpu_s=f"{res['control_cpu_s']:.2f}",
                               control_cpu_pct=f"{100 * res['control_cpu_s'] / res['seconds']:.1f}",
                               load=benchlib.load_average(), detail=res["detail"])
                    out.row(row)
                    rows.append(row)
                    say(f"  {phase}: {row['egress_per_update']} B/update"
                        f"{' = ' + row['copies'] + ' copies' if row['copies'] else ''}, {row['seconds']} s, "
                        f"RSS median {row['rss_median_kib']} KiB max {row['rss_max_kib']} KiB (anonymous "
                        f"{row['anon_median_kib']}, {row['anon_max_kib']}), server CPU "
                        f"{row['server_cpu_s']} s (tx worker {row['tx_worker_cpu_s']}, rest {row['control_cpu_s']}), "
                        f"daemons {row['clients_cpu_s']} CPU-s"
                        + (f", idle CPU per daemon median {row['idle_cpu_pct_median']} % max "
                           f"{row['idle_cpu_pct_max']} % (sum {row['idle_cpu_pct_sum']} %)" if idle else "")
                        + f", complete={row['complete']} ({row['detail']})")
                    if phase == "all" and r + 1 < a.repeat:
                        fleet.stop(others)
        finally:
            lab.close()
    finally:
        out.close()
        subprocess.run(["rm", "-rf", work])
    return summary(rows, a)


def summary(rows, a):
    say("summary (median over repeats, min - max)")

    def col(phase, name):
        return [float(r[name]) for r in rows if r["phase"] == phase and r[name] != ""]

    def fmt(values, spec):
        if not values:
            return "-"
        return f"{statistics.median(values):{spec}} ({min(values):{spec}} - {max(values):{spec}})"

    for phase in ("one", "all"):
        print(f"  {phase:>3}: egress/update {fmt(col(phase, 'egress_per_update'), '.1f')} B, copies "
              f"{fmt(col(phase, 'copies'), '.3f')}, RSS median {fmt(col(phase, 'rss_median_kib'), '.0f')} KiB, "
              f"max {fmt(col(phase, 'rss_max_kib'), '.0f')} KiB (anonymous median "
              f"{fmt(col(phase, 'anon_median_kib'), '.0f')} KiB), server control-plane CPU "
              f"{fmt(col(phase, 'control_cpu_pct'), '.1f')} % of a core, tx worker "
              f"{fmt(col(phase, 'tx_worker_cpu_s'), '.1f')} s")
    print(f"  idle CPU per daemon: median {fmt(col('all', 'idle_cpu_pct_median'), '.2f')} %, max "
          f"{fmt(col('all', 'idle_cpu_pct_max'), '.2f')} %, all daemons {fmt(col('all', 'idle_cpu_pct_sum'), '.1f')} %")
    incomplete = [r for r in rows if r["complete"] != "yes"]
    for r in incomplete:
        print(f"  INCOMPLETE: phase {r['phase']} repeat {r['repeat']}: {r['detail']}")
    say(f"rows written to {a.csv}")
    return 1 if incomplete or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
