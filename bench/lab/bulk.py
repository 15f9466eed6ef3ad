#!/usr/bin/env python3
"""Bulk: goodput of 256 MiB of 64 KiB updates to N clients, replicast against uftp.

For each number of clients N and each loss rate, the same bytes go to every
client namespace twice: as --megabytes of updates of --value-bytes values
by replicast (written into the master with `replicast load`, multicast once
by `replicast server`, sealed AES-256-GCM, losses repaired over the control
plane), and as one file of the same bytes by uftp (Debian's uftp: the sender
in the server namespace, a uftpd per client namespace, AES-256-GCM, a closed
group of exactly those receivers; its own NAK-driven repair). The two run one
after the other in each grid cell, their order swapped every cell, on one lab
per N (scripts/lab; the hub drops the given share of frames toward every
client, data, repairs and control alike).

Measured per run: goodput, the payload bytes (the values; replicast's 8-byte
keys are not counted) over the time from just before the first write (the
`replicast load` into the master; uftp's start, which includes its
announce, registration and key exchange) until the last receiver has
everything (replicast: every replica applied the last LSN; uftp: the sender
exits after every receiver confirmed the file); and egress / payload, the
bytes the server namespace's veth sent in that time (its own tx_bytes:
headers, repairs, control traffic included) over the payload. Completion is
checked for each: every replicast replica's `replicast checksum` equals the
master's; every uftp receiver's file is the sent file (cmp). A run that
does not complete is reported as such (complete=no), never as a figure.

The values are text (base64 of random bytes, so that `replicast load` takes
them as TSV, its fast path: JSON lines of 64 KiB base64 values parse at a few
MB/s), so replicast's compression is off by default (--compression): deflate
would shrink them by a quarter, which uftp does not do. The master, the
replicas and the uftp receivers' files live on tmpfs (--workdir, default
/dev/shm): the comparison is of the two protocols and their processes, not of
this shared VM's disk.

replicast's settings for 64 KiB values (--help shows each): one update per
chain (a chain is lost whole when one of its packets is, so the loss unit is
one value, about 47 packets, not a bundle of them), a pacing cap with burst
credit (--rate-mbps, --burst-bytes) that adapts to the clients (--adaptive-rate:
the cap falls while a client reports overrun), the tx worker's idle policy
(--tx-idle, default sleep: a worker pacing a chain polls whatever it is).

Target (issue 13): replicast's goodput at least 2x uftp's in every (N,
loss) cell, with egress / payload no higher than uftp's.

CSV: one row per run (bench/results/bulk.csv); `scripts/bench-report`
draws it. Needs root, uftp (Debian's uftp package) and openssl."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import labrun, say  # noqa: E402
from fanout import Progress, applied_lsn  # noqa: E402
from uftp_lab import UftpGroup, sender_summary  # noqa: E402

DB = "bench"
COLUMNS = ["system", "clients", "loss_pct", "repeat", "payload_bytes", "value_bytes", "updates", "egress_bytes",
           "egress_per_payload", "seconds", "goodput_mb_s", "load_avg", "complete", "detail"]
FULL = dict(clients="1,4,8", loss="0,1,5", megabytes=256)
QUICK = dict(clients="1", loss="0,5", megabytes=8)


def parse_args():
    p = benchlib.parser("bulk", __doc__)
    p.add_argument("--clients", default=None, help=f"client counts N, comma separated (1..32; default {FULL['clients']})")
    p.add_argument("--loss", default=None, help=f"loss toward every client in %%, comma separated (default {FULL['loss']})")
    p.add_argument("--megabytes", type=int, default=None,
                   help=f"payload per run in MiB (default {FULL['megabytes']}; --quick {QUICK['megabytes']})")
    p.add_argument("--value-bytes", type=int, default=65536, help="bytes per update's value (default 65536)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each system per grid cell (default 1)")
    p.add_argument("--rate-mbps", type=int, default=2000,
                   help="replicast server's pacing cap, Mbit/s (default 2000: what the clients here keep up with)")
    p.add_argument("--adaptive-rate", choices=("on", "off"), default="on",
                   help="replicast's [pacing] adaptive: the server lowers the cap while a client reports that its "
                        "socket or queue overflows or is half full, and raises it back when none does (default on)")
    p.add_argument("--burst-bytes", type=int, default=2_000_000,
                   help="replicast's pacing credit ([pacing] burst_bytes; default 2000000: a descheduled tx worker "
                        "catches up instead of losing its share, 0 = strict)")
    p.add_argument("--chain-updates", type=int, default=1,
                   help="replicast's updates per chain at most ([bundle] max_updates; default 1: the loss unit is "
                        "one value)")
    p.add_argument("--queue-slots", type=int, default=65536,
                   help="each replicast client's receive queue in packets ([receive] queue_slots; default 65536, "
                        "about 90 MB: a 64 KiB value is 47 packets, and an apply thread off its CPU for tens of ms "
                        "must not overflow it)")
    p.add_argument("--max-datagram", type=int, default=1500,
                   help="each replicast client's receive slot size ([receive] max_datagram; default 1500, the lab's "
                        "MTU: a queue slot per packet, so a 9216-byte slot touches a new page for every packet)")
    p.add_argument("--prefault", choices=("on", "off"), default="on",
                   help="each replicast client's [receive] prefault_queue: the receive queue's pages are touched at "
                        "start, not by the first lap of packets (default on)")
    p.add_argument("--rcvbuf-mb", type=int, default=64,
                   help="each replicast client's socket receive buffer, MiB ([receive] rcvbuf_bytes; default 64)")
    p.add_argument("--compression", choices=("off", "isal"), default="off",
                   help="replicast's chain compression (default off: uftp sends the bytes as they are)")
    p.add_argument("--load-batch", type=int, default=16, help="records per `replicast load` transaction (default 16)")
    p.add_argument("--uftp-rate", default="tfmcc",
                   help="uftp's rate: tfmcc (its congestion control, the default), or a fixed Kbit/s for -R "
                        "(-1: the interface's speed)")
    p.add_argument("--uftp-block", type=int, default=1300, help="uftp's block size, -b (default 1300, its own)")
    p.add_argument("--systems", default="replicast,uftp", help="which to run (default replicast,uftp)")
    p.add_argument("--workdir", default="/dev/shm",
                   help="where the lab's stores and files go (default /dev/shm, tmpfs: memory, not disk)")
    p.add_argument("--timeout", type=int, default=300, help="seconds a run may take to complete (default 300)")
    a = p.parse_args()
    grid = QUICK if a.quick else FULL
    a.clients = benchlib.int_list(a.clients or grid["clients"])
    a.loss = benchlib.float_list(a.loss or grid["loss"])
    a.megabytes = a.megabytes or grid["megabytes"]
    a.systems = [s for s in a.systems.split(",") if s]
    if any(not 1 <= n <= 32 for n in a.clients):
        p.error("--clients: each N must be 1..32 (scripts/lab's limit)")
    if any(not 0 <= x <= 50 for x in a.loss):
        p.error("--loss: each rate must be 0..50 %")
    if not 1024 <= a.value_bytes <= 1 << 20 or a.value_bytes % 4:
        p.error("--value-bytes must be 1024..1048576 and a multiple of 4 (base64 text)")
    if a.megabytes < 1 or a.repeat < 1 or a.load_batch < 1:
        p.error("--megabytes, --repeat and --load-batch must be at least 1")
    if a.uftp_rate != "tfmcc" and not a.uftp_rate.lstrip("-").isdigit():
        p.error("--uftp-rate: tfmcc or a rate in Kbit/s (-1: the interface's speed)")
    if not a.systems or any(s not in ("replicast", "uftp") for s in a.systems):
        p.error("--systems: replicast and/or uftp")
    if not os.path.isdir(a.workdir):
        p.error(f"--workdir {a.workdir}: not a directory")
    if a.csv is None:
        a.csv = (os.path.join(tempfile.gettempdir(), f"bulk-quick-{os.getpid()}.csv") if a.quick
                 else os.path.join(benchlib.RESULTS, "bulk.csv"))
    return a


def write_workload(directory, megabytes, value_bytes):
    """The same bytes twice: a TSV of updates for `replicast load` (key,
    value) and the file uftp sends (the values one after another).
    @return (tsv path, file path, payload bytes, updates)."""
    import base64
    import random
    rng = random.Random(1313)
    updates = max(1, megabytes * (1 << 20) // value_bytes)
    tsv, blob = os.path.join(directory, "workload.tsv"), os.path.join(directory, "payload.bin")
    with open(tsv, "wb") as t, open(blob, "wb") as b:
        for i in range(updates):
            value = base64.b64encode(rng.randbytes(value_bytes * 3 // 4))
            b.write(value)
            t.write(b"k%07d\t%s\n" % (i, value))
    return tsv, blob, updates * value_bytes, updates


def rcvbuf_errors(lab, clients):
    """Datagrams the client namespaces' kernels dropped for a full socket
    receive buffer (/proc/net/snmp Udp RcvbufErrors, per namespace): the
    receiver was off its CPU longer than its buffer lasts."""
    total = 0
    for n in clients:
        lines = [line.split() for line in lab.run(f"client{n}", ["cat", "/proc/net/snmp"]).stdout.splitlines()
                 if line.startswith("Udp:")]
        if len(lines) >= 2 and "RcvbufErrors" in lines[0]:
            total += int(lines[1][lines[0].index("RcvbufErrors")])
    return total


def load_avg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def run_replicast(lab, replicast, clients, a, tag, tsv):
    rep = labrun.Replication(lab, replicast, [DB], {n: None for n in clients}, server={
        "bundle": {"max_updates": a.chain_updates, "max_bytes": a.value_bytes,
                   "compression": a.compression},
        "pacing": {"rate_mbps": a.rate_mbps, "burst_bytes": a.burst_bytes, "adaptive": a.adaptive_rate == "on"},
        "keys": {"rotate_seconds": 60},
        "retention": {"keep_updates": 10_000_000},
    }, client={n: {"receive": {"interface": "eth0", "rcvbuf_bytes": a.rcvbuf_mb << 20,
                                           "queue_slots": a.queue_slots, "max_datagram": a.max_datagram,
                                           "prefault_queue": a.prefault == "on"}}
             for n in clients})
    try:
        rep.create_databases()
        rep.start_server(tag)
        for n in clients:
            rep.start_client(n, tag)
        labrun.wait_until("every replicast client following", lambda: all(
            applied_lsn(rep.sock(n)) >= 1 for n in clients), 120, interval=0.2)
        say(f"  replicast: server and {len(clients)} client(s) up and following; loading")
        before, drops_before = lab.link_bytes("server"), rcvbuf_errors(lab, clients)
        t0 = time.monotonic()
        out = lab.run(None, [replicast, "load", "--store", rep.store, "--db", DB, "--format", "tsv",
                             "--batch", str(a.load_batch), tsv], timeout=a.timeout)
        last = int(out.stdout.split("last_lsn=")[1].split()[0])
        say(f"  replicast: loaded in {time.monotonic() - t0:.1f} s; waiting for the replicas")
        progress = Progress(f"replicast N={len(clients)}")
        waiting = set(clients)

        def slowest():
            applied = {n: applied_lsn(rep.sock(n)) for n in waiting}
            waiting.difference_update(n for n, lsn in applied.items() if lsn >= last)
            progress(min(applied.values()) - 1, last - 1, "updates")
            return not waiting

        labrun.wait_until(f"every replicast replica at LSN {last}", slowest, a.timeout, interval=0.05)
        seconds = time.monotonic() - t0
        egress = lab.link_bytes("server") - before
        drops = rcvbuf_errors(lab, clients) - drops_before
        stats = {n: rep.stats(n) or {} for n in clients}
        mismatches = rep.mismatches(clients)

        def total(group, key):
            return sum(s.get(DB, {}).get(group, {}).get(key, 0) for s in stats.values())

        detail = (f"gaps={total('repair', 'gaps')} recovered={total('repair', 'lsns_recovered')} "
                  f"snapshots={total('repair', 'snapshots')} dropped={total('chains', 'dropped_broken')} "
                  f"overflows={total('receive', 'queue_overflows')} "
                  f"resubscribes={total('control', 'resubscribes')} "
                  f"unicast_periods={total('control', 'unicast_periods')} rcvbuf_drops={drops}"
                  + (f" MISMATCH={mismatches}" if mismatches else ""))
        return dict(egress_bytes=egress, seconds=seconds, complete="yes" if not mismatches else "no", detail=detail)
    finally:
        for p in [*rep.clients.values(), rep.server]:
            if p is not None:
                p.stop(seconds=10)
        for path in [rep.store, *[rep.replica(n) for n in clients]]:
            subprocess.run(["rm", "-rf", path])


def run_uftp(lab, clients, a, tag, blob, keys):
    group = UftpGroup(lab, clients, tag, keys, a.uftp_rate, a.uftp_block, 16 << 20)
    sender = None
    try:
        group.start()
        say(f"  uftp: {len(clients)} uftpd receiver(s) listening; sending")
        name, size = os.path.basename(blob), os.path.getsize(blob)
        before, drops_before = lab.link_bytes("server"), rcvbuf_errors(lab, clients)
        t0 = time.monotonic()
        sender = lab.start(f"uftp{tag}", "server", group.sender_argv(blob))
        progress = Progress(f"uftp N={len(clients)}")

        def done():
            if sender.alive():
                progress(min(group.received_bytes(name).values()) >> 20, size >> 20, "MiB written")
                return False
            return True

        labrun.wait_until("the uftp sender finishing", done, a.timeout, interval=0.05)
        seconds = time.monotonic() - t0
        egress = lab.link_bytes("server") - before
        drops = rcvbuf_errors(lab, clients) - drops_before
        code = sender.stop()
        wrong = group.mismatches(blob)
        detail = (sender_summary(sender.output()) + f" rcvbuf_drops={drops} exit={code}"
                  + (f" WRONG_RECEIVERS={wrong}" if wrong else ""))
        return dict(egress_bytes=egress, seconds=seconds, complete="yes" if not wrong and code == 0 else "no",
                    detail=detail)
    finally:
        if sender is not None:
            sender.stop(seconds=10)  # a run past --timeout: the next one must not share the lab with it
        group.stop()


def main():
    a = parse_args()
    benchlib.check_root()
    replicast = benchlib.replicast_binary()
    if "replicast" in a.systems and not os.path.exists(replicast):
        sys.exit(f"error: {replicast} is missing: build it (ninja -C build)")
    if "uftp" in a.systems:
        benchlib.need("uftp", "uftp")
        benchlib.need("uftpd", "uftp")
        benchlib.need("openssl", "openssl")
    command = "replicast bench bulk " + " ".join(sys.argv[1:])
    settings = (f"{a.megabytes} MiB of {a.value_bytes} B values per run; replicast chains <= {a.chain_updates} "
                f"update(s), compression {a.compression}, pacing {a.rate_mbps} Mbit/s with {a.burst_bytes} B credit, "
                f"adaptive rate {a.adaptive_rate}, "
                f"uftp AES-256-GCM closed group, "
                f"{'tfmcc' if a.uftp_rate == 'tfmcc' else '-R ' + a.uftp_rate}, blocks of {a.uftp_block} B; "
                f"stores and files in {a.workdir}" + "; " + benchlib.tx_idle(a))
    out = benchlib.CsvOut(a.csv, COLUMNS, [command, benchlib.machine(), settings,
                                           time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())])
    say(f"bulk: N = {a.clients}, loss = {a.loss} %, {a.megabytes} MiB of {a.value_bytes} B values, "
        f"{a.repeat} run(s) of {' and '.join(a.systems)} per cell; CSV {a.csv}")
    say(f"  {settings}")
    work = tempfile.mkdtemp(prefix="replicast-bulk-", dir=a.workdir)
    rows = []
    cell = 0
    try:
        tsv, blob, payload, updates = write_workload(work, a.megabytes, a.value_bytes)
        for n in a.clients:
            clients = list(range(1, n + 1))
            lab = labrun.Lab(replicast, n, keep=a.keep,
                             workdir=tempfile.mkdtemp(prefix="replicast-bulk-lab-", dir=a.workdir)).up()
            say(f"lab {lab.prefix} up: server and {n} client namespaces")
            try:
                keys = UftpGroup.make_keys(os.path.join(lab.dir, "uftp-keys"), clients) \
                    if "uftp" in a.systems else None
                for loss in a.loss:
                    for c in clients:
                        lab.loss(c, f"{loss:g}")
                    for r in range(a.repeat):
                        order = a.systems if cell % 2 == 0 else list(reversed(a.systems))
                        cell += 1
                        for system in order:
                            tag = f"-{system}-{loss:g}-{r}"
                            load = load_avg()
                            say(f"N={n} loss={loss:g} % run {r + 1}/{a.repeat}: {system} (load {load})")
                            try:
                                if system == "replicast":
                                    res = run_replicast(lab, replicast, clients, a, tag, tsv)
                                else:
                                    res = run_uftp(lab, clients, a, tag, blob, keys)
                            except (TimeoutError, RuntimeError, subprocess.TimeoutExpired) as e:
                                # One cell that fails is reported and the grid goes on.
                                say(f"  {system}: FAILED: {str(e)[:1000]}")
                                res = dict(egress_bytes=0, seconds=0, complete="no",
                                           detail=str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
                            secs = res["seconds"]
                            row = dict(system=system, clients=n, loss_pct=f"{loss:g}", repeat=r,
                                       payload_bytes=payload, value_bytes=a.value_bytes, updates=updates,
                                       egress_bytes=res["egress_bytes"],
                                       egress_per_payload=f"{res['egress_bytes'] / payload:.4f}",
                                       seconds=f"{secs:.3f}", goodput_mb_s=f"{payload / secs / 1e6:.2f}" if secs else "",
                                       load_avg=load, complete=res["complete"], detail=res["detail"])
                            out.row(row)
                            rows.append(row)
                            say(f"  {system}: {row['goodput_mb_s'] or '-'} MB/s in {secs:.1f} s, egress "
                                f"{row['egress_per_payload']} x payload, complete={res['complete']} ({res['detail']})")
            finally:
                lab.close()
    finally:
        out.close()
        subprocess.run(["rm", "-rf", work])
    return summary(rows, a)


def summary(rows, a):
    """The table per (N, loss) against the target; exit 1 when a run did not complete."""
    say("summary: median goodput (MB/s) and egress / payload per cell, min-max over repeats")
    print(f"  {'N':>3} {'loss':>5}  {'replicast MB/s':>20} {'egress':>7}   {'uftp MB/s':>20} {'egress':>7}   "
          f"{'ratio':>6}  target (>= 2x, egress <= uftp's)")
    cells = sorted({(int(r["clients"]), float(r["loss_pct"])) for r in rows})

    def vals(system, n, loss, col):
        return [float(r[col]) for r in rows if r["system"] == system and int(r["clients"]) == n
                and float(r["loss_pct"]) == loss and r[col] != "" and r["complete"] == "yes"]

    def cell_text(system, n, loss):
        g, e = vals(system, n, loss, "goodput_mb_s"), vals(system, n, loss, "egress_per_payload")
        if not g:
            return f"{'-':>20} {'-':>7}", None, None
        spread = f" ({min(g):.1f}-{max(g):.1f})" if len(g) > 1 else ""
        return f"{statistics.median(g):>8.1f}{spread:>12} {statistics.median(e):>7.3f}", statistics.median(g), \
            statistics.median(e)

    for n, loss in cells:
        ours, og, oe = cell_text("replicast", n, loss)
        theirs, ug, ue = cell_text("uftp", n, loss)
        ratio = f"{og / ug:>6.2f}" if og and ug else f"{'-':>6}"
        verdict = ""
        if og and ug:
            verdict = ("met" if og >= 2 * ug and oe <= ue else
                       "MISSED: " + ", ".join(x for x in (f"goodput {og / ug:.2f}x" if og < 2 * ug else "",
                                                          f"egress {oe / ue:.2f}x uftp's" if oe > ue else "") if x))
        print(f"  {n:>3} {loss:>4g}%  {ours}   {theirs}   {ratio}  {verdict}")
    incomplete = [r for r in rows if r["complete"] != "yes"]
    for r in incomplete:
        print(f"  INCOMPLETE: {r['system']} N={r['clients']} loss={r['loss_pct']} %: {r['detail']}")
    say(f"rows written to {a.csv}")
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
