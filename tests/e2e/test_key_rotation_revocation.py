#!/usr/bin/env python3
"""Key rotation under load with zero lost LSNs, and a revoked identity.

Keys rotate every 3 s while 2 000 updates per database stream at a paced
5 Mbit/s (some 4 s per stream, per half) to three lossless clients: clients 1 and 2
follow every rotation in-band (KEYCHANGE, then Keys) without losing a single
LSN: no gap, nothing recovered, no packet that failed to open, a key epoch
advanced past the rotations. Then client3 is removed from the access list
and the server reloads it (SIGHUP): at the next rotation client3 can no
longer fetch the keys, is refused (PERMISSION_DENIED), stops following (its replica stays readable,
equal to the master of then) and, with nothing left to follow, exits 1,
while clients 1 and 2 follow the second half to the end."""
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
CLIENTS = {1: None, 2: [1], 3: None}


class KeyRotationRevocation(unittest.TestCase):
    def test_rotation_loses_nothing_and_revocation_cuts_one_identity(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, server={
            "pacing": {"rate_mbps": 5}, "keys": {"rotate_seconds": 3}})
        rep.create_databases()
        rng = random.Random(1208)
        halves = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            halves[db] = labrun.split_file(path, 2)
        server = rep.start_server()
        for n in CLIENTS:
            rep.start_client(n)
        labrun.wait_until("every client following", lambda: all(
            rep.applied(n, db) >= 1 for n in CLIENTS for db in DBS), 30, interval=0.2)
        start_epoch = {db: rep.stats(1)[db]["key_epoch"] for db in DBS}
        for db in DBS:
            rep.load(db, halves[db][0])
        first = rep.wait_caught_up(list(CLIENTS), 40)

        # Revoke client3 and reload the access list.
        labrun.write_access_list(rep.access_list, {f"client{n}": g for n, g in CLIENTS.items() if n != 3})
        server.signal(signal.SIGHUP)
        # Refused on every database it followed, the daemon says so and exits 1.
        c3 = rep.clients[3]
        labrun.wait_until("client3 refused and gone", lambda: not c3.alive(), 20, interval=0.2)
        self.assertEqual(c3.proc.returncode, 1, c3.output()[-3000:])
        master_then = {db: labrun.checksum(REPLICAST, rep.store, db) for db in DBS}
        for db in DBS:
            rep.load(db, halves[db][1])
        final = rep.wait_caught_up([1, 2], 40)
        for n in (1, 2):
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        for n, proc in ((1, rep.clients[1]), (2, rep.clients[2])):
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches([1, 2]), [])

        for db in DBS:
            for n in (1, 2):
                d = final[n][db]
                self.assertGreaterEqual(d["key_epoch"], start_epoch[db] + 2, f"client{n} {db} followed the rotations")
                self.assertGreaterEqual(d["control"]["key_fetches"], 2, f"client{n} {db}")
                self.assertEqual(d["repair"]["gaps"], 0, f"client{n} {db}: no LSN lost to a rotation")
                self.assertEqual(d["repair"]["lsns_recovered"], 0, f"client{n} {db}")
                self.assertEqual(d["chains"]["dropped_broken"], 0, f"client{n} {db}")
                self.assertEqual(d["receive"]["open_failures"], 0, f"client{n} {db}")
            # Before the revocation client3 had everything; after it, nothing
            # more: its replica stays readable, equal to the master of then.
            self.assertEqual(first[3][db]["applied_lsn"], first[1][db]["applied_lsn"])
            self.assertEqual(labrun.checksum(REPLICAST, rep.replica(3), db), master_then[db], f"client3 {db}")
            self.assertNotEqual(master_then[db], labrun.checksum(REPLICAST, rep.store, db))
            self.assertRegex(c3.output(), f"database {db}: Keys refused \\(PERMISSION_DENIED")
        self.assertIn("no database left to follow", c3.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
