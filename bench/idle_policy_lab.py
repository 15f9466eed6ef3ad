#!/usr/bin/python3
"""The tx worker's idle policies side by side on the lab: what an idle server
costs the machine, and what each policy costs a write on its way to a replica.

  bench/idle_policy_lab.py [--rounds N] [--policies poll,pause,sleep] [--count N] [--csv PATH]

Each round brings up a netns lab per policy, in an order rotated every round
(this VM drifts by tens of percent from one minute to the next; the ratios
between policies within a round hold): a `replicast server` on net_af_packet
(pmd-config/lab-af_packet.toml, workers.idle from REPLICAST_TX_IDLE) and one
`replicast client` daemon, one database. Then:
  idle:    the server's and the daemon's CPU over --idle-seconds with nothing
           written (heartbeats only): a polling tx worker holds a core;
  latency: --count local writes to the master, one at a time, each timed until
           a read transaction on the replica finds it (`replicast probe
           --local-store`): the wake-up a sleeping worker adds;
  load:    --load-updates puts of 100 B written at once (`replicast load`),
           timed until the daemon applied the last: throughput when the server
           and the client share the machine's 2 cores.
Prints per round and per policy, then the median over rounds with min-max.
Root (namespaces); builds and removes its own labs.
"""
import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "lib"))
sys.path.insert(0, os.path.join(HERE, "lab"))
import benchlib  # noqa: E402
import labrun  # noqa: E402

REPLICAST = os.path.join(labrun.SOURCE_ROOT, "build", "tools", "replicast")
DB = "idle"
COLUMNS = ["round", "policy", "server_idle_cpu_pct", "client_idle_cpu_pct", "write_to_apply_p50_ms",
           "write_to_apply_p99_ms", "load_updates", "load_seconds", "load_updates_per_s", "last_lsn", "load"]


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def one(policy, a, work):
    os.environ["REPLICAST_TX_IDLE"] = policy  # lab-af_packet.toml; start_server checks the server's log line
    lab = labrun.Lab(REPLICAST, 1, prefix=f"ri{os.getpid() % 10000}").up()
    try:
        rep = labrun.Replication(lab, REPLICAST, [DB], {1: None}, server={"keys": {"rotate_seconds": 3600}},
                                 client={1: {"replica": {"durability": "nometasync"}}})
        rep.create_databases()
        rep.start_server()
        rep.start_client(1)
        rep.wait_caught_up([1], 60)
        time.sleep(0.5)  # settle: the start's work is done before the idle window opens

        server, client = rep.server.pid, rep.clients[1].pid
        s0, c0, t0 = benchlib.cpu_seconds(server), benchlib.cpu_seconds(client), time.monotonic()
        time.sleep(a.idle_seconds)  # the measurement window itself
        dt = time.monotonic() - t0
        server_idle = 100 * (benchlib.cpu_seconds(server) - s0) / dt
        client_idle = 100 * (benchlib.cpu_seconds(client) - c0) / dt

        out = lab.run(None, [REPLICAST, "probe", "--db", DB, "--replica", rep.replica(1), "--count", str(a.count),
                             "--interval-ms", str(a.interval_ms), "--json", "--local-store", rep.store,
                             # (the probe's control connection, unused by a local write)
                             "--server", f"{lab.addr('server')}:{labrun.CONTROL_PORT}", "--cert",
                             f"{rep.certs}/client1.pem", "--key", f"{rep.certs}/client1.key", "--ca",
                             f"{rep.certs}/ca.pem"], timeout=600)
        probe = json.loads(out.stdout)

        path = os.path.join(work, f"load-{policy}.jsonl")
        with open(path, "w") as f:
            for i in range(a.load_updates):
                f.write(json.dumps({"key": f"load/{i:07d}", "value_base64": base64.b64encode(bytes(100)).decode()}) + "\n")
        t0 = time.monotonic()
        last = int(rep.load(DB, path).stdout.split("last_lsn=")[1].split()[0])
        rep.wait_caught_up([1], 120)
        load_s = time.monotonic() - t0
        return dict(policy=policy, server_idle_cpu_pct=f"{server_idle:.1f}", client_idle_cpu_pct=f"{client_idle:.1f}",
                    write_to_apply_p50_ms=f"{probe['p50_ms']:.3f}", write_to_apply_p99_ms=f"{probe['p99_ms']:.3f}",
                    load_updates=a.load_updates, load_seconds=f"{load_s:.3f}",
                    load_updates_per_s=f"{a.load_updates / load_s:.0f}", last_lsn=last,
                    load=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        lab.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--policies", default="poll,pause,sleep")
    p.add_argument("--idle-seconds", type=float, default=3.0)
    p.add_argument("--count", type=int, default=200, help="probes per run")
    p.add_argument("--interval-ms", type=int, default=5)
    p.add_argument("--load-updates", type=int, default=100_000)
    p.add_argument("--csv", default=os.path.join(labrun.SOURCE_ROOT, "bench", "results", "idle-policy.csv"))
    a = p.parse_args()
    benchlib.check_root()
    policies = [x for x in a.policies.split(",") if x]
    command = "bench/idle_policy_lab.py " + " ".join(sys.argv[1:])
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine()])
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for r in range(a.rounds):
            order = policies[r % len(policies):] + policies[:r % len(policies)]
            for policy in order:
                row = dict(one(policy, a, work), round=r)
                out.row(row)
                rows.append(row)
                benchlib.say(f"round {r} {policy:5s}: idle CPU server {row['server_idle_cpu_pct']} % client "
                             f"{row['client_idle_cpu_pct']} %; write-to-apply p50 {row['write_to_apply_p50_ms']} ms "
                             f"p99 {row['write_to_apply_p99_ms']} ms; load {row['load_updates_per_s']} updates/s")
    out.close()
    print("median over rounds (min - max):")
    for policy in policies:
        mine = [r for r in rows if r["policy"] == policy]

        def col(k):
            v = [float(r[k]) for r in mine]
            return f"{statistics.median(v):.2f} ({min(v):.2f} - {max(v):.2f})"
        print(f"  {policy:5s} idle CPU server {col('server_idle_cpu_pct')} %, client {col('client_idle_cpu_pct')} %; "
              f"write-to-apply p50 {col('write_to_apply_p50_ms')} ms, p99 {col('write_to_apply_p99_ms')} ms; "
              f"load {col('load_updates_per_s')} updates/s")
    print(f"rows: {a.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
