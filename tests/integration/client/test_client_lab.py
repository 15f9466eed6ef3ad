#!/usr/bin/env python3
"""The replica daemon end to end on the netns lab (scripts/lab, through
scripts/lib/labrun.py): a real `replicast server` (DPDK net_af_packet, its
control plane on mutual TLS) and three `replicast client` daemons in client
namespaces, with nftables loss of 0 %, 2 % and 10 % toward them.

20 000 updates of mixed sizes (1 B .. 64 KiB; puts and deletes) in two
databases and two reader groups (client3 may read group 1 only). client2 is
killed with SIGKILL mid-stream and restarted; client3 starts after the first
half was written, so it bootstraps from a snapshot, then follows the second
half under 10 % loss. At the end every
replica's `replicast checksum` equals the master's for the groups it may
read, and the counters show the mechanisms ran: repairs on the lossy
clients, a snapshot on the late one, a resume from the applied LSN on the
restarted one, and key fetches for the server's rotations (every 3 s) with no
packet failing to open."""
import os
import random
import signal
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 10_000
LOSS = {1: 0, 2: 2, 3: 10}
GROUPS_OF = {1: None, 2: None, 3: [1]}  # None: every group


class ClientLab(unittest.TestCase):
    def setUp(self):
        self.lab = labrun.Lab(REPLICAST, 3).up()
        self.addCleanup(self.lab.close)
        self.rep = labrun.Replication(self.lab, REPLICAST, DBS, GROUPS_OF)
        self.store = self.rep.store

    def replica(self, n):
        return self.rep.replica(n)

    def start_client(self, n, tag=""):
        return self.rep.start_client(n, tag)

    def stats(self, n):
        return self.rep.stats(n)

    def master_last(self, db):
        return self.rep.master_last(db)

    def caught_up(self, n, want):
        return self.rep.caught_up(n, want)

    def test_three_clients_converge_under_loss_kill_and_late_start(self):
        lab = self.lab
        rng = random.Random(20261202)
        halves = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            halves[db] = labrun.split_file(path, 2)
        self.rep.create_databases()
        for n, pct in LOSS.items():
            if pct:
                lab.loss(n, pct)
        self.rep.start_server()

        c1, c2 = self.start_client(1), self.start_client(2)
        for db in DBS:
            lab.run(None, [REPLICAST, "load", "--store", self.store, "--db", db, halves[db][0]])
        # client2 dies mid-stream, once it has applied something of the first half.
        labrun.wait_until("client2 applying", lambda: (self.stats(2) or {}).get("orders", {}).get("applied_lsn", 0) > 500, 30)
        c2.signal(signal.SIGKILL)
        c2.proc.wait()
        c2 = self.start_client(2, "-restarted")
        c3 = self.start_client(3)  # late: bootstraps from a snapshot, then follows the second half
        labrun.wait_until("client3 bootstrapped", lambda: all(
            (self.stats(3) or {}).get(db, {}).get("repair", {}).get("snapshots", 0) >= 1 for db in DBS), 30)
        for db in DBS:
            lab.run(None, [REPLICAST, "load", "--store", self.store, "--db", db, halves[db][1]])

        want = {db: self.master_last(db) for db in DBS}
        for n in (1, 2, 3):
            labrun.wait_until(f"client{n} caught up with {want}", lambda n=n: self.caught_up(n, want), 60, interval=0.5)
        final = {n: self.stats(n) for n in (1, 2, 3)}
        for n in (1, 2, 3):
            for db in DBS:
                d = final[n][db]
                print(f"client{n} {db}: loss {LOSS[n]} % packets={d['receive']['packets']} "
                      f"chains applied={d['chains']['applied']} dropped={d['chains']['dropped_broken']} "
                      f"gaps={d['repair']['gaps']} recovered={d['repair']['lsns_recovered']} "
                      f"snapshots={d['repair']['snapshots']} resubscribes={d['control']['resubscribes']} "
                      f"unicast={d['control']['unicast_periods']} keys={d['control']['key_fetches']} "
                      f"epoch={d['key_epoch']} unknown_epoch={d['receive']['unknown_epoch']} apply p50/p99 ns="
                      f"{d['apply_latency']['p50_ns']}/{d['apply_latency']['p99_ns']}", file=sys.stderr)

        for n, proc in ((1, c1), (2, c2), (3, c3)):
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        for n in (1, 2, 3):
            for db in DBS:
                master = labrun.checksum(REPLICAST, self.store, db, GROUPS_OF[n])
                replica = labrun.checksum(REPLICAST, self.replica(n), db)
                self.assertEqual(replica, master, f"client{n} {db}")

        for db in DBS:
            s3 = final[3][db]
            self.assertGreaterEqual(s3["repair"]["snapshots"], 1, f"client3 {db} bootstrapped: {s3}")
            self.assertGreater(s3["repair"]["lsns_recovered"], 0, f"client3 {db} repaired its 10 % loss: {s3}")
            self.assertGreater(s3["repair"]["gaps"], 0)
            self.assertGreater(final[2][db]["repair"]["gaps"] + final[2][db]["repair"]["snapshots"], 0)
            for n in (1, 2, 3):
                self.assertEqual(final[n][db]["receive"]["open_failures"], 0)
                self.assertEqual(final[n][db]["receive"]["wrong_source"], 0)
            # Keys rotate every 3 s: each client fetched the announced keys and follows a later epoch.
            for n in (1, 3):
                self.assertGreaterEqual(final[n][db]["control"]["key_fetches"], 1, f"client{n} {db}")
                self.assertGreater(final[n][db]["key_epoch"], 1, f"client{n} {db}")
        self.assertIn("resuming from LSN", c2.output(), "the restarted client2 resumed from its applied LSN")
        dropped = lab.loss_counters()
        self.assertGreater(dropped.get(3, 0), 0, "the hub dropped frames toward client3")


if __name__ == "__main__":
    unittest.main(verbosity=2)
