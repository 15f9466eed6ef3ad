#!/usr/bin/python3
"""Publish-to-apply and local-write-to-apply latency on the lab, interleaved.

  bench/client_latency_lab.py [--rounds N] [--count N] [--interval-ms MS] [--json]

A netns lab (scripts/lib/labrun.py: a `replicast server` on DPDK
net_af_packet in its namespace, one `replicast client` daemon in another,
joined by a bridge), one database. Each round runs, in an order flipped every
round:
  publish: `replicast probe` in the client's namespace: Publish over TLS to
           the server (a durable master write), multicast, applied by the
           daemon (nometasync replica, its default), timed until a read
           transaction on the replica finds the key;
  local:   `replicast probe --local-store MASTER` next to the server: the probe
           written straight into the master store (as `replicast put` or any
           local application writes; the server's update detector finds it),
           timed the same way.
One probe at a time (--interval-ms apart), so this is latency at a modest
rate, not a queue. Prints per-round p50/p99 and the pooled figures.
Root (namespaces); builds and removes its own lab.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
import labrun  # noqa: E402

REPLICAST = os.path.join(labrun.SOURCE_ROOT, "build", "tools", "replicast")


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--count", type=int, default=100, help="probes per run")
    p.add_argument("--interval-ms", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument("--tx-idle", choices=("poll", "pause", "sleep"), default="sleep",
                   help="the server's tx worker idle policy (pmd-config/README.md, 'Idle policy')")
    p.add_argument("--workdir", default=None,
                   help="where the lab keeps its stores (default: a new directory under /tmp); "
                        "/dev/shm takes the disk's fsync out of the path")
    a = p.parse_args()
    os.environ["REPLICAST_TX_IDLE"] = a.tx_idle  # lab-af_packet.toml reads it; start_server checks the server's log

    lab = labrun.Lab(REPLICAST, 1, prefix=f"rl{os.getpid() % 10000}",
                     workdir=a.workdir and tempfile.mkdtemp(prefix="replicast-lat-", dir=a.workdir))
    lab.up()
    db = "lat"
    rep = labrun.Replication(lab, REPLICAST, [db], {1: None},
                             server={"keys": {"rotate_seconds": 3600}},
                             client={1: {"replica": {"durability": "nometasync"}}})
    # A publisher identity too: Replication makes subscribers only.
    rep.certs = lab.make_certs(["client1", "publisher"])
    with open(rep.access_list, "a") as f:
        f.write('[[identity]]\nname = "publisher"\nroles = ["publisher"]\ndatabases = ["*"]\n')
    rep.write_server_config()
    rep.create_databases()
    rep.start_server()
    rep.start_client(1)
    rep.wait_caught_up([1], 60)
    conn = ["--server", f"{lab.addr('server')}:{labrun.CONTROL_PORT}", "--cert", f"{rep.certs}/publisher.pem",
            "--key", f"{rep.certs}/publisher.key", "--ca", f"{rep.certs}/ca.pem"]
    base = [REPLICAST, "probe", "--db", db, "--replica", rep.replica(1), "--count", str(a.count),
            "--interval-ms", str(a.interval_ms), "--json"] + conn

    samples = {"publish": [], "local": []}
    rounds = []
    load = []
    for r in range(a.rounds):
        row = {}
        for kind in (("publish", "local") if r % 2 == 0 else ("local", "publish")):
            load.append(os.getloadavg()[0])
            if kind == "publish":
                out = lab.run("client1", base, timeout=600, check=False)
            else:
                out = lab.run(None, base + ["--local-store", rep.store], timeout=600, check=False)
            if out.returncode != 0:
                sys.exit(f"probe ({kind}) failed: {out.stderr.strip()[-1000:]}")
            res = json.loads(out.stdout)
            samples[kind] += res["samples_ms"]
            row[kind] = {"p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"], "probes": res["probes"],
                         "write_p99_ms": res["write_p99_ms"], "write_max_ms": res["write_max_ms"]}
        rounds.append(row)
        if not a.json:
            print(f"round {r}: " + "  ".join(f"{k} p50 {v['p50_ms']:.3f} ms p99 {v['p99_ms']:.3f} ms "
                                              f"(the write alone: p99 {v['write_p99_ms']:.3f} max {v['write_max_ms']:.3f})"
                                              for k, v in row.items()), flush=True)
    stats = rep.stats(1) or {}
    lost = sum(d.get("repair", {}).get("lsns_recovered", 0) for d in stats.values())
    summary = {k: {"probes": len(v), "p50_ms": quantile(v, 0.5), "p99_ms": quantile(v, 0.99), "max_ms": max(v),
                   "round_p50_ms": sorted(r[k]["p50_ms"] for r in rounds)} for k, v in samples.items()}
    summary["load_average"] = [min(load), max(load)]
    summary["lsns_recovered_by_client"] = lost
    summary["tx_idle"] = rep.tx_idle
    if a.json:
        print(json.dumps({"rounds": rounds, "summary": summary}))
    else:
        for k in ("publish", "local"):
            s = summary[k]
            print(f"{k}: {s['probes']} probes, p50 {s['p50_ms']:.3f} ms, p99 {s['p99_ms']:.3f} ms, max {s['max_ms']:.3f} ms; "
                  f"round p50s {', '.join(f'{x:.3f}' for x in s['round_p50_ms'])}")
        print(f"load average {min(load):.1f}-{max(load):.1f}; LSNs the client recovered: {lost}; "
              f"tx worker idle policy {rep.tx_idle}")
    lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
