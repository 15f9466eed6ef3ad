#!/usr/bin/env python3
"""Recovery: a replica daemon catching up from far behind, and a new replica's Snapshot.

On the lab (scripts/lab: a `replicast server` with the control plane in the
server namespace, one client namespace), a master store holds two databases:

  catch-up  a replica of `bench` is taken at LSN 1 (a daemon ran and
            stopped); then --updates updates of --value-bytes are written to
            the master (`replicast load`; the server multicasts them to
            nobody). Each run restores that replica and starts `replicast
            client` on it: the daemon Subscribes, learns the master's last
            LSN and fetches everything beyond its own by Recover (gRPC over
            mutual TLS, the daemon's own path). Measured: updates / seconds
            until its applied LSN (read from its stats socket every 50 ms,
            kept as a timeline) equals the master's, from the process start
            (TLS, Subscribe included) and from its first applied update.
  snapshot  `snap` holds --snapshot-mb of --snapshot-value-bytes values.
            Each run starts a daemon on an empty replica of it: a new
            replica bootstraps by Snapshot (the master's pages, verified by
            checksum). Measured: the server veth's bytes over the time until
            the replica's applied LSN equals the master's (MB/s on the wire),
            and the replica's data size; also from the first page seen (the
            stats socket answers between pages and Recover batches).

The runs alternate (catch-up, snapshot, catch-up, ...) --repeat times; each
replica's `replicast checksum` must equal the master's, else the run is
reported incomplete, never as a figure.

Target (issue 13): catch-up at least 1 M updates/s for 100-byte updates.
CSV: one row per run (bench/results/recovery.csv); `scripts/bench-report`
draws catch-up over time. Needs root."""
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import labrun, say  # noqa: E402

DB, SNAP = "bench", "snap"
COLUMNS = ["kind", "repeat", "updates", "value_bytes", "wire_bytes", "data_bytes", "seconds", "seconds_applying",
           "updates_per_s", "updates_per_s_applying", "wire_mb_per_s", "wire_mb_per_s_applying", "complete", "load",
           "detail", "timeline"]
FULL = dict(updates=1_000_000, snapshot_mb=300, repeat=3)
QUICK = dict(updates=50_000, snapshot_mb=10, repeat=1)
POLL_S = 0.05


def parse_args():
    p = benchlib.parser("recovery", __doc__)
    p.add_argument("--updates", type=int, default=None,
                   help=f"how far behind the catch-up replica starts, in updates (default {FULL['updates']}; "
                        f"--quick {QUICK['updates']})")
    p.add_argument("--value-bytes", type=int, default=100, help="catch-up value size (default 100; keys 8 bytes)")
    p.add_argument("--snapshot-mb", type=int, default=None,
                   help=f"size of the snapshot database's values in MB (default {FULL['snapshot_mb']}; "
                        f"--quick {QUICK['snapshot_mb']})")
    p.add_argument("--snapshot-value-bytes", type=int, default=4096, help="its value size (default 4096)")
    p.add_argument("--repeat", type=int, default=None, help=f"runs of each (default {FULL['repeat']})")
    p.add_argument("--kinds", default="catchup,snapshot", help="which to run (default catchup,snapshot)")
    p.add_argument("--durability", default="nosync", choices=("nosync", "nometasync", "sync"),
                   help="the replicas' [replica] durability (default nosync, as the lab's other benchmarks)")
    p.add_argument("--timeout", type=int, default=600, help="seconds a run may take (default 600)")
    a = p.parse_args()
    grid = QUICK if a.quick else FULL
    for k in ("updates", "snapshot_mb", "repeat"):
        if getattr(a, k) is None:
            setattr(a, k, grid[k])
    a.kinds = [k for k in a.kinds.split(",") if k]
    if not a.kinds or any(k not in ("catchup", "snapshot") for k in a.kinds):
        p.error("--kinds: catchup and/or snapshot")
    if a.updates < 1 or a.repeat < 1 or a.snapshot_mb < 1:
        p.error("--updates, --repeat and --snapshot-mb must be at least 1")
    if not 1 <= a.value_bytes <= 65536 or not 1 <= a.snapshot_value_bytes <= 65536:
        p.error("--value-bytes and --snapshot-value-bytes must be 1..65536")
    if a.csv is None:
        a.csv = (os.path.join(tempfile.gettempdir(), f"recovery-quick-{os.getpid()}.csv") if a.quick
                 else os.path.join(benchlib.RESULTS, "recovery.csv"))
    return a


def write_jsonl(path, prefix, count, value_bytes, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"key": f"{prefix}{i:08d}",
                                "value_base64": base64.b64encode(rng.randbytes(value_bytes)).decode()}) + "\n")
    return path


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512  # allocated, not the sparse map size
            except OSError:
                pass
    return total


def wait_quiet(lab, seconds):
    """Until the server's veth has sent nothing new for a second (the backlog
    multicast is over), so that no run's figures include it."""
    last = [lab.link_bytes("server"), time.monotonic()]

    def quiet():
        now_bytes = lab.link_bytes("server")
        if now_bytes - last[0] > 20_000:  # more than heartbeats and key traffic
            last[:] = [now_bytes, time.monotonic()]
        return time.monotonic() - last[1] >= 1.0

    labrun.wait_until("the server's backlog multicast", quiet, seconds, interval=0.2)


def run_daemon(rep, name, database, target, a, label):
    """Starts a daemon following `database` on replica `name` and polls it
    until its applied LSN reaches `target`. @return the measurements."""
    rep.client_overrides[1] = {"replica": {"databases": [database], "durability": a.durability},
                               "stats": {"log_interval_ms": 10_000}}
    sock = rep.sock(name)
    start_lsn = 0
    before = rep.lab.link_bytes("server")
    t0 = time.monotonic()
    proc = rep.start_client(1, daemon=name)
    timeline = []
    first_move = None
    last_say = t0
    deadline = t0 + a.timeout
    while True:
        s = (benchlib.daemon_stats(sock) or {}).get(database)
        now = time.monotonic()
        if s is not None:
            lsn = s.get("applied_lsn", 0)
            records = s.get("repair", {}).get("snapshot_records", 0)
            if not timeline:
                start_lsn = lsn
            timeline.append((now - t0, lsn, records))
            if first_move is None and (lsn > start_lsn or records > 0):
                first_move = now
            if lsn >= target:
                break
            if now - last_say >= 2.0:
                last_say = now
                say(f"  {label}: applied LSN {lsn}/{target}" + (f", snapshot records {records}" if records else ""))
        if not proc.alive():
            raise RuntimeError(f"{label}: the daemon exited:\n{proc.output()[-2000:]}")
        if now >= deadline:
            raise TimeoutError(f"{label}: not at LSN {target} within {a.timeout} s (at {timeline[-1:]})")
        time.sleep(POLL_S)  # the sampling period of the timeline
    t_end = time.monotonic()
    wire = rep.lab.link_bytes("server") - before
    stats = (benchlib.daemon_stats(sock) or {}).get(database, {})
    proc.stop(seconds=30)
    rep.clients.pop(name, None)
    return dict(seconds=t_end - t0, seconds_applying=t_end - (first_move or t0), wire_bytes=wire,
                start_lsn=start_lsn, timeline=timeline, repair=stats.get("repair", {}))


def main():
    a = parse_args()
    benchlib.check_root()
    replicast = benchlib.replicast_binary()
    if not os.path.exists(replicast):
        sys.exit(f"error: {replicast} is missing: build it (ninja -C build)")
    command = "replicast bench recovery " + " ".join(sys.argv[1:])
    snap_count = max(1, a.snapshot_mb * 1_000_000 // a.snapshot_value_bytes)
    settings = (f"catch-up {a.updates} updates of {a.value_bytes} B behind; snapshot {snap_count} records of "
                f"{a.snapshot_value_bytes} B; replicas {a.durability}; daemon idle: "
                f"futex wait (rx::Wakeup, 50 ms cap)" + "; " + benchlib.tx_idle(a))
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine(), settings,
                                           time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())])
    say(f"recovery: {', '.join(a.kinds)}; {settings}; {a.repeat} run(s) each; load {benchlib.load_average()}; "
        f"CSV {a.csv}")
    work = tempfile.mkdtemp(prefix="replicast-recovery-")
    rows = []
    try:
        lab = labrun.Lab(replicast, 1, keep=a.keep).up()
        say(f"lab {lab.prefix} up: server and 1 client namespace")
        try:
            rep = labrun.Replication(lab, replicast, [DB, SNAP], {1: None}, server={
                "keys": {"rotate_seconds": 600},
                "retention": {"keep_updates": 100_000_000},
            })
            rep.create_databases()
            rep.start_server()
            base = "base"
            if "catchup" in a.kinds:
                # The replica the catch-up runs start from: at the master's LSN 1.
                run_daemon(rep, base, DB, 1, a, "taking the replica at LSN 1")
                say(f"writing {a.updates} updates of {a.value_bytes} B to the master")
                rep.load(DB, write_jsonl(os.path.join(work, "catchup.jsonl"), "k", a.updates, a.value_bytes, 1))
            if "snapshot" in a.kinds:
                say(f"writing {snap_count} records of {a.snapshot_value_bytes} B to the snapshot database")
                rep.load(SNAP, write_jsonl(os.path.join(work, "snap.jsonl"), "s", snap_count,
                                           a.snapshot_value_bytes, 2))
            subprocess.run(["rm", "-f", os.path.join(work, "catchup.jsonl"), os.path.join(work, "snap.jsonl")])
            wait_quiet(lab, 600)
            targets = {db: rep.master_last(db) for db in (DB, SNAP)}
            masters = {db: labrun.checksum(replicast, rep.store, db) for db in (DB, SNAP)}
            say(f"master: {DB} at LSN {targets[DB]}, {SNAP} at LSN {targets[SNAP]}; load {benchlib.load_average()}")
            for r in range(a.repeat):
                for kind in a.kinds:
                    name = f"{kind}{r}"
                    db = DB if kind == "catchup" else SNAP
                    subprocess.run(["rm", "-rf", rep.replica(name)])
                    if kind == "catchup":
                        subprocess.run(["cp", "-a", rep.replica(base), rep.replica(name)], check=True)
                    say(f"run {r + 1}/{a.repeat}: {kind}; load {benchlib.load_average()}")
                    try:
                        res = run_daemon(rep, name, db, targets[db], a, kind)
                        line = labrun.checksum(replicast, rep.replica(name), db)
                        complete = "yes" if line == masters[db] else "no"
                        rp = res["repair"]
                        detail = (f"recoveries={rp.get('recoveries', 0)} recovered={rp.get('lsns_recovered', 0)} "
                                  f"snapshots={rp.get('snapshots', 0)} snapshot_records={rp.get('snapshot_records', 0)}"
                                  + ("" if complete == "yes" else f" MISMATCH replica={line} master={masters[db]}"))
                    except (TimeoutError, RuntimeError, subprocess.TimeoutExpired) as e:
                        say(f"  {kind}: FAILED: {str(e)[:1000]}")
                        res, complete, detail = None, "no", str(e).splitlines()[0][:200]
                    row = dict(kind=kind, repeat=r, value_bytes=a.value_bytes if kind == "catchup"
                               else a.snapshot_value_bytes, complete=complete, load=benchlib.load_average(),
                               detail=detail)
                    if res is not None:
                        count = targets[db] - res["start_lsn"] if kind == "catchup" else snap_count
                        data = dir_bytes(rep.replica(name))
                        row.update(updates=count, wire_bytes=res["wire_bytes"], data_bytes=data,
                                   seconds=f"{res['seconds']:.3f}", seconds_applying=f"{res['seconds_applying']:.3f}",
                                   updates_per_s=f"{count / res['seconds']:.0f}",
                                   updates_per_s_applying=f"{count / res['seconds_applying']:.0f}",
                                   wire_mb_per_s=f"{res['wire_bytes'] / 1e6 / res['seconds']:.1f}",
                                   wire_mb_per_s_applying=f"{res['wire_bytes'] / 1e6 / res['seconds_applying']:.1f}",
                                   timeline=" ".join(f"{t:.2f}:{lsn}:{rec}" for t, lsn, rec in res["timeline"]))
                        say(f"  {kind}: {count} {'updates' if kind == 'catchup' else 'records'} in "
                            f"{row['seconds']} s ({row['seconds_applying']} s from the first applied): "
                            f"{row['updates_per_s']}/s ({row['updates_per_s_applying']}/s), "
                            f"{row['wire_mb_per_s']} MB/s on the wire ({row['wire_mb_per_s_applying']}), "
                            f"replica {data / 1e6:.0f} MB, "
                            f"complete={complete} ({detail})")
                    out.row(row)
                    rows.append(row)
                    subprocess.run(["rm", "-rf", rep.replica(name)])
        finally:
            lab.close()
    finally:
        out.close()
        subprocess.run(["rm", "-rf", work])
    return summary(rows, a)


def summary(rows, a):
    say("summary (median over runs, min - max)")

    def col(kind, name):
        return [float(r[name]) for r in rows if r["kind"] == kind and r["complete"] == "yes" and r.get(name, "") != ""]

    def fmt(values, spec):
        if not values:
            return "-"
        return f"{statistics.median(values):{spec}} ({min(values):{spec}} - {max(values):{spec}})"

    if "catchup" in a.kinds:
        got = col("catchup", "updates_per_s")
        print(f"  catch-up: {fmt(got, '.0f')} updates/s from the daemon's start, "
              f"{fmt(col('catchup', 'updates_per_s_applying'), '.0f')} from its first applied update")
        if got:
            print(f"  target: at least 1000000 updates/s: {'met' if statistics.median(got) >= 1e6 else 'MISSED'}")
    if "snapshot" in a.kinds:
        print(f"  snapshot: {fmt(col('snapshot', 'wire_mb_per_s'), '.1f')} MB/s on the wire from the daemon's start, "
              f"{fmt(col('snapshot', 'wire_mb_per_s_applying'), '.1f')} from its first page; "
              f"{fmt(col('snapshot', 'updates_per_s'), '.0f')} records/s")
    incomplete = [r for r in rows if r["complete"] != "yes"]
    for r in incomplete:
        print(f"  INCOMPLETE: {r['kind']} run {r['repeat']}: {r['detail']}")
    say(f"rows written to {a.csv}")
    return 1 if incomplete or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
