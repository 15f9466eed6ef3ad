#!/usr/bin/env python3
"""The tx worker's packets/s with a Recover in flight against an idle control
plane, in alternating slices of one run (issue 10; bench/RESULTS.md, control
plane).

A `replicast server` on pmd-config/null.toml (net_null: frames are freed, so
the figure is the sender's CPU, not a link) streams database `orders` paced at
--rate-mbps from a backlog loaded while it runs, and serves the control plane
on loopback. Database `recov` holds --updates updates and is a stream that
starts at its log's end (`start = "next"`), so it sends nothing. Each round
has two slices, their order flipped every round: one with `replicast recover
recov --from 1 --to N --to-replica DIR` running (a fresh replica each time),
one as long with the control plane idle. The packets/s of a slice comes from
the server's statistics lines (`lcore 1: packets=...`, every
--stats-interval-ms) whose timestamps fall inside it.

The recover client is pinned to the control core's CPU (CPU 0 with the
default lcores "0,1"), as a client on the same two cores must be somewhere,
and CPU 1 is the tx worker's, which busy-polls (--client-nice lowers it: it
stands in for another host). --threads-nice sets the server's
`[control] threads_nice`.

    bench/control_tx_under_recovery.py build/tools/replicast [--rounds 5] [--updates 1000000] [--json]

Exit status: 0 when the measurement ran (whatever the ratio), 1 when it could
not (the server did not start, a recover failed, the backlog ran out).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] .*lcore (\d+): packets=(\d+)")
STREAM = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] .*stream \d+ \(orders\): multicast_lsn=(\d+) last_lsn=(\d+)")


def load(replicast, store, db, first, count, batch=4096):
    """Loads `count` updates of 100 encoded bytes (12-byte key, 79-byte value) through stdin."""
    p = subprocess.Popen([replicast, "load", "--store", store, "--db", db, "--format", "tsv", "--batch", str(batch), "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    chunk = 65536
    for start in range(first, first + count, chunk):
        n = min(chunk, first + count - start)
        p.stdin.write("".join(f"{db[0]}{i:011d}\t{i:079d}\n" for i in range(start, start + n)).encode())
    p.stdin.close()
    if p.wait(timeout=600) != 0:
        raise RuntimeError(f"replicast load {db}: {p.stderr.read().decode()[-400:]}")


def samples(log_path, lcore):
    """(time, packets) of the tx worker's statistics lines, in order."""
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m and int(m.group(2)) == lcore:
                t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
                out.append((t, int(m.group(3))))
    return out


def backlog(log_path):
    """The orders stream's last multicast_lsn and last_lsn logged."""
    last = (0, 0)
    with open(log_path, errors="replace") as f:
        for line in f:
            m = STREAM.match(line)
            if m:
                last = (int(m.group(2)), int(m.group(3)))
    return last


def rate(points, t0, t1):
    inside = [p for p in points if t0 <= p[0] <= t1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("replicast")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--updates", type=int, default=1_000_000, help="updates in recov, all recovered each slice")
    ap.add_argument("--backlog", type=int, default=3_000_000, help="orders updates loaded while the server runs")
    ap.add_argument("--rate-mbps", type=int, default=20, help="the orders stream's pacing cap")
    ap.add_argument("--burst-bytes", type=int, default=0, help="[pacing] burst_bytes (0: strict pacing)")
    ap.add_argument("--stats-interval-ms", type=int, default=100)
    ap.add_argument("--threads-nice", type=int, default=None, help="[control] threads_nice for the server")
    ap.add_argument("--client-nice", type=int, default=0, help="run the recover client at this nice value")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    replicast = os.path.abspath(a.replicast)
    work = tempfile.mkdtemp(prefix="rc-tx-recovery-", dir=a.workdir)
    prefix = f"rctxr{os.getpid()}"
    server = None
    try:
        certs = os.path.join(work, "certs")
        subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "mkcerts"), certs], check=True, capture_output=True,
                       timeout=120)
        store = os.path.join(work, "master")
        load(replicast, store, "recov", 0, a.updates)
        load(replicast, store, "orders", 0, 1)
        acl = os.path.join(work, "access.toml")
        with open(acl, "w") as f:
            f.write('[[identity]]\nname = "subscriber"\nroles = ["subscriber"]\ndatabases = ["*"]\n')
        config = os.path.join(work, "server.toml")
        nice = "" if a.threads_nice is None else f"threads_nice = {a.threads_nice}\n"
        with open(config, "w") as f:
            f.write(f"""[server]
store = "{store}"
profile = "{os.path.join(SOURCE_ROOT, 'pmd-config', 'null.toml')}"
stats_interval_ms = {a.stats_interval_ms}
[streams]
databases = ["orders", "recov"]
start = "next"
[bundle]
compression = "off"
[pacing]
rate_mbps = {a.rate_mbps}
burst_bytes = {a.burst_bytes}
[retention]
trim_interval_ms = 0
[control]
listen = "127.0.0.1:0"
certificate = "{certs}/server.pem"
private_key = "{certs}/server.key"
ca = "{certs}/ca.pem"
access_list = "{acl}"
{nice}""")
        log_path = os.path.join(work, "server.log")
        env = dict(os.environ, REPLICAST_FILE_PREFIX=prefix)
        server = labrun.Process("server", [replicast, "server", "--config", config, "--no-huge"], log_path, env=env)
        port = int(server.wait_for_line(r"control service on \S+ \(port (\d+)\)", 60).group(1))
        tls = ["--server", f"127.0.0.1:{port}", "--cert", f"{certs}/subscriber.pem", "--key", f"{certs}/subscriber.key",
               "--ca", f"{certs}/ca.pem", "--server-name", "localhost"]
        # The orders backlog, loaded while the server runs: it is multicast at the paced rate from here on.
        load(replicast, store, "orders", 1, a.backlog)
        time.sleep(1.0)  # settle: the detector has seen the backlog and the pacer runs at its cap

        def recover(replica):
            t0 = time.time()
            p = subprocess.run([*client_prefix, replicast, "recover", "recov", "--from", "1", "--to", str(a.updates),
                                "--to-replica", replica, "--json", *tls], capture_output=True, text=True, timeout=600)
            t1 = time.time()
            shutil.rmtree(replica, ignore_errors=True)
            if p.returncode != 0:
                raise RuntimeError(f"recover: exit {p.returncode}: {p.stderr[-400:]}")
            return t0, t1

        client_prefix = ["taskset", "-c", "0"] + (["nice", "-n", str(a.client_nice)] if a.client_nice else [])
        t0, t1 = recover(os.path.join(work, "replica-warmup"))  # not measured: sets the first idle slice's length
        length = t1 - t0
        slices = []
        for rnd in range(a.rounds):
            order = ("recover", "idle") if rnd % 2 == 0 else ("idle", "recover")
            for kind in order:
                if kind == "recover":
                    t0, t1 = recover(os.path.join(work, f"replica-{rnd}"))
                    length = t1 - t0
                else:
                    t0 = time.time()
                    time.sleep(length)
                    t1 = time.time()
                slices.append({"round": rnd, "kind": kind, "t0": t0, "t1": t1})
            time.sleep(2 * a.stats_interval_ms / 1000)
        time.sleep(2 * a.stats_interval_ms / 1000)
        sent, last = backlog(log_path)
        if sent >= last:
            raise RuntimeError(f"the orders backlog ran out (multicast_lsn {sent} of {last}): raise --backlog")
        points = samples(log_path, 1)
        for s in slices:
            s["packets_per_s"] = rate(points, s["t0"], s["t1"])
            s["seconds"] = s["t1"] - s["t0"]
            if s["kind"] == "recover":
                s["updates_per_s"] = a.updates / s["seconds"]
        ratios = []
        for rnd in range(a.rounds):
            r = {s["kind"]: s["packets_per_s"] for s in slices if s["round"] == rnd}
            if r.get("recover") and r.get("idle"):
                ratios.append(r["recover"] / r["idle"])
        rec = [s["packets_per_s"] for s in slices if s["kind"] == "recover" and s["packets_per_s"]]
        idle = [s["packets_per_s"] for s in slices if s["kind"] == "idle" and s["packets_per_s"]]
        speeds = [s["updates_per_s"] for s in slices if s["kind"] == "recover"]
        result = {
            "rate_mbps": a.rate_mbps, "burst_bytes": a.burst_bytes, "updates": a.updates, "rounds": a.rounds, "threads_nice": a.threads_nice, "client_nice": a.client_nice,
            "recover_pps_median": statistics.median(rec) if rec else None,
            "idle_pps_median": statistics.median(idle) if idle else None,
            "ratio_median": statistics.median(ratios) if ratios else None,
            "ratio_min": min(ratios) if ratios else None, "ratio_max": max(ratios) if ratios else None,
            "recover_updates_per_s_median": statistics.median(speeds),
            "orders_multicast_lsn": sent, "orders_last_lsn": last,
            "slices": [{k: v for k, v in s.items() if k not in ("t0", "t1")} for s in slices],
            # null.toml's worker polls (its default); paced at the cap it is never idle anyway.
            "tx_idle": (re.search(r"idle policy (\w+)", server.output()) or [None, None])[1],
        }
        if a.json:
            print(json.dumps(result, indent=1))
        else:
            for s in result["slices"]:
                print(f"round {s['round']} {s['kind']:8s} {s['seconds']:.2f} s  packets/s {s['packets_per_s']}")
            print(f"recover/idle packets/s: median {result['ratio_median']}, range {result['ratio_min']}..{result['ratio_max']} "
                  f"(tx worker idle policy {result['tx_idle']})")
        return 0
    except (RuntimeError, subprocess.SubprocessError, OSError, AssertionError) as e:
        print(f"control_tx_under_recovery: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
