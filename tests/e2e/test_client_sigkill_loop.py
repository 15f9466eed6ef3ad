#!/usr/bin/env python3
"""Clients killed with SIGKILL in a loop while the stream runs.

Three clients follow two databases written in seven parts and streamed at a paced 10 Mbit/s under 2 %
loss toward client2. After each part, once the client next in turn applied some of it, client2
or client3 is killed with SIGKILL, six kills in all, each restarted at
once on its replica. A killed daemon leaves a replica that LMDB kept
consistent (one transaction per chain); the restarted one resumes from its
applied LSN (no snapshot) and recovers what streamed past it while it was
down. client1 is never killed. Every replica ends equal to the master."""
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
UPDATES_PER_DB = 4_000
CLIENTS = {1: None, 2: None, 3: [1]}
KILLS = 6


class ClientSigkillLoop(unittest.TestCase):
    def test_clients_killed_in_a_loop_converge(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, server={"pacing": {"rate_mbps": 10}})
        rep.create_databases()
        rng = random.Random(1203)
        loads = {}
        for i, db in enumerate(DBS):
            loads[db] = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(loads[db], i, UPDATES_PER_DB, rng)
        lab.loss(2, 2)
        rep.start_server()
        for n in CLIENTS:
            rep.start_client(n)
        labrun.wait_until("every client following", lambda: all(
            rep.applied(n, db) >= 1 for n in CLIENTS for db in DBS), 30, interval=0.2)
        parts = {db: labrun.split_file(loads[db], KILLS + 1) for db in DBS}

        lives = {2: 0, 3: 0}
        applied_at_kill = []
        for k in range(KILLS):
            n = 2 + k % 2
            before = rep.master_last("orders")
            for db in DBS:
                rep.load(db, parts[db][k])
            # Killed once it applied something of this part: mid-stream, work in hand.
            labrun.wait_until(f"client{n} applying part {k} (life {lives[n]})",
                              lambda n=n, before=before: rep.applied(n, "orders") > before, 20, interval=0.02)
            applied_at_kill.append((n, rep.applied(n, "orders"), rep.master_last("orders")))
            rep.clients[n].signal(signal.SIGKILL)
            rep.clients[n].proc.wait()
            lives[n] += 1
            rep.start_client(n, f"-life{lives[n]}")
        for db in DBS:
            rep.load(db, parts[db][KILLS])
        print(f"kills (client, orders applied, master): {applied_at_kill}", file=sys.stderr)
        self.assertTrue(any(lsn < last for _, lsn, last in applied_at_kill), "some kills landed mid-stream")

        final = rep.wait_caught_up(list(CLIENTS), 40)
        for n in CLIENTS:
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])

        # Every restarted life resumed from its replica's applied LSN: no snapshot.
        restarted = [p for p in lab.processes if "-life" in p.name]
        self.assertEqual(len(restarted), KILLS)
        for p in restarted:
            self.assertIn("resuming from LSN", p.output(), p.name)
            self.assertNotIn("snapshot bootstrap", p.output(), p.name)
        for n in (2, 3):
            for db in DBS:
                self.assertEqual(final[n][db]["repair"]["snapshots"], 0, f"client{n} {db}: the last life resumed")
                self.assertEqual(final[n][db]["receive"]["open_failures"], 0)
        self.assertGreater(lab.loss_counters().get(2, 0), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
