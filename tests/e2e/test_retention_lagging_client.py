#!/usr/bin/env python3
"""Log retention trimming under a lagging client.

The server trims each database's log every 300 ms down to its newest 500
entries. client2 is stopped with SIGSTOP after following the first part;
4 000 more updates per database are written and multicast while it sleeps
(more than its 256 KiB socket buffer holds),
and the log is trimmed past its applied LSN. Woken with SIGCONT, it finds
the LSNs it missed gone: its Recover is refused (OUT_OF_RANGE), it falls
back to a snapshot and converges. client1, never stopped, follows
throughout without any snapshot beyond its first bootstrap."""
import os
import random
import signal
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 5_000
KEEP = 500
CLIENTS = {1: None, 2: [2]}


def oldest_lsn(rep, db):
    """The master log's oldest kept LSN (a trim that keeps everything says it)."""
    p = rep.lab.run(None, [REPLICAST, "trim", "--store", rep.store, "--db", db, "--keep-updates", str(10**12)])
    return int(p.stdout.split("oldest_lsn=")[1].split()[0])


class RetentionLaggingClient(unittest.TestCase):
    def test_lagging_client_falls_back_to_a_snapshot(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, server={
            "retention": {"keep_updates": KEEP, "trim_interval_ms": 300, "trim_max_per_run": 1000},
        }, client={
            # A small socket buffer: what streams while it sleeps overflows it
            # (16 MiB would hold the whole 5 MB and hide the lag).
            2: {"receive": {"rcvbuf_bytes": 262144}},
        })
        rep.create_databases()
        rng = random.Random(1205)
        parts = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            parts[db] = labrun.split_file(path, 5)
        rep.start_server()
        c1, c2 = rep.start_client(1), rep.start_client(2)
        for db in DBS:
            rep.load(db, parts[db][0])
        rep.wait_caught_up([1, 2], 30)

        c2.signal(signal.SIGSTOP)
        stopped_at = {db: rep.master_last(db) for db in DBS}
        for k in range(1, 5):
            for db in DBS:
                rep.load(db, parts[db][k])
        # The server trimmed past what client2 applied (it multicast all of it first).
        labrun.wait_until("the log trimmed past the stopped client", lambda: all(
            oldest_lsn(rep, db) > stopped_at[db] + 1 for db in DBS), 30, interval=0.3)
        oldest = {db: oldest_lsn(rep, db) for db in DBS}
        print(f"client2 stopped at {stopped_at}; the log now starts at {oldest}", file=sys.stderr)
        c2.signal(signal.SIGCONT)

        final = rep.wait_caught_up([1, 2], 40)
        for n in CLIENTS:
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])
        for db in DBS:
            self.assertEqual(final[1][db]["repair"]["snapshots"], 1, f"client1 {db}: only its first bootstrap")
            self.assertEqual(final[2][db]["repair"]["snapshots"], 2, f"client2 {db}: bootstrap, then the fallback")
        self.assertIn("Recover OUT_OF_RANGE: behind the log's retention", c2.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
