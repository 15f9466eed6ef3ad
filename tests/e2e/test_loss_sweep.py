#!/usr/bin/env python3
"""Loss sweep: one server and five clients on the lab, the hub dropping 0, 1,
5, 10 and 20 % of the frames toward them (data, repairs and control alike).

8 000 updates of mixed sizes in two databases stream at 400 Mbit/s while
keys rotate every 3 s; client3 reads group 1 only. Every replica ends equal
to the master filtered by its groups, and the counters prove the repair path
carried the difference: the hub dropped frames toward each lossy client, and
each of them saw gaps and recovered LSNs, more the more it lost; the lossless
client needed no repair at all."""
import os
import random
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 4_000
LOSS = {1: 0, 2: 1, 3: 5, 4: 10, 5: 20}
GROUPS_OF = {1: None, 2: None, 3: [1], 4: None, 5: None}


class LossSweep(unittest.TestCase):
    def test_five_clients_converge_from_0_to_20_percent_loss(self):
        lab = labrun.Lab(REPLICAST, len(LOSS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, GROUPS_OF)
        rep.create_databases()
        rng = random.Random(1201)
        loads = {}
        for i, db in enumerate(DBS):
            loads[db] = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(loads[db], i, UPDATES_PER_DB, rng)
        for n, pct in LOSS.items():
            if pct:
                lab.loss(n, pct)
        rep.start_server()
        for n in LOSS:
            rep.start_client(n)
        labrun.wait_until("every client following", lambda: all(
            rep.applied(n, db) >= 1 for n in LOSS for db in DBS), 30, interval=0.2)
        for db in DBS:
            rep.load(db, loads[db])
        final = rep.wait_caught_up(list(LOSS), 45)
        for n in LOSS:
            for db in DBS:
                print(f"loss {LOSS[n]:2d} % " + rep.describe(n, db, final[n][db]), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(LOSS)), [])

        dropped = lab.loss_counters()
        print(f"hub drops per client: {dropped}", file=sys.stderr)
        self.assertEqual(dropped.get(1, 0), 0)
        recovered = {n: sum(final[n][db]["repair"]["lsns_recovered"] for db in DBS) for n in LOSS}
        for n, pct in LOSS.items():
            for db in DBS:
                d = final[n][db]
                self.assertEqual(d["receive"]["open_failures"], 0, f"client{n} {db}")
                self.assertEqual(d["receive"]["wrong_source"], 0, f"client{n} {db}")
            if pct == 0:
                continue
            self.assertGreater(dropped.get(n, 0), 0, f"the hub dropped frames toward client{n}")
            if pct >= 5:
                for db in DBS:
                    self.assertGreater(final[n][db]["repair"]["gaps"], 0, f"client{n} {db} saw gaps")
                    self.assertGreater(final[n][db]["repair"]["lsns_recovered"]
                                       + final[n][db]["repair"]["snapshots"], 0, f"client{n} {db} repaired")
        # More loss, more frames dropped and more LSNs repaired (1 % vs 20 %: far apart).
        self.assertLess(dropped[2], dropped[5])
        self.assertLess(recovered[2], recovered[5])
        self.assertEqual(recovered[1], 0, "the lossless client recovered nothing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
