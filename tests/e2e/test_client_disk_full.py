#!/usr/bin/env python3
"""Disk full on a client: its replica directory is a 1 MiB tmpfs.

Two clients follow one database while 3 000 updates of mixed sizes (some
3.5 MB of values) are written. client2's replica fills its filesystem: the
apply fails with an error that says the filesystem is full and that nothing
committed was lost, the failure is counted (store_errors), the replica stays
readable, consistent at its applied LSN, and the daemon keeps running.
Once the tmpfs is grown to 64 MiB (space freed), client2 catches up by
Recover and ends equal to the master, like client1 which never lacked room."""
import os
import random
import subprocess
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders"]
UPDATES = 3_000
CLIENTS = {1: None, 2: None}


class ClientDiskFull(unittest.TestCase):
    def test_client_disk_full_clear_error_consistent_replica_catches_up(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, client={2: {"policy": {"recover_retry_ms": 200}}})
        small = rep.replica(2)
        os.makedirs(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], check=True, timeout=30)
        self.addCleanup(subprocess.run, ["umount", "-l", small], timeout=30)  # runs before lab.close
        rep.create_databases()
        load = os.path.join(lab.dir, "orders.jsonl")
        labrun.workload(load, 0, UPDATES, random.Random(1207))
        rep.start_server()
        c1, c2 = rep.start_client(1), rep.start_client(2)
        labrun.wait_until("both clients following", lambda: all(
            rep.applied(n, "orders") >= 1 for n in CLIENTS), 30, interval=0.2)
        rep.load("orders", load)
        last = rep.master_last("orders")
        rep.wait_caught_up([1], 40)
        labrun.wait_until("client2 failing to apply", lambda: (rep.stats(2) or {}).get("orders", {}).get(
            "store_errors", 0) > 0, 30, interval=0.2)
        full = rep.stats(2)["orders"]
        print(f"disk full: {rep.describe(2, 'orders', full)} store_errors={full['store_errors']}", file=sys.stderr)
        self.assertTrue(c2.alive(), "the daemon keeps running on a full disk")
        self.assertLess(full["applied_lsn"], last)
        self.assertIn("the filesystem holding the store is full", c2.output())
        self.assertIn("nothing committed was lost", c2.output())
        # The replica stays readable (LMDB: the failed chain's transaction was
        # aborted whole) while the daemon holds it; its final equality with the
        # master below shows nothing half-applied survived.
        line = labrun.checksum(REPLICAST, small, "orders")
        self.assertRegex(line, r"^db=orders records=\d+ lsn=\d+ sha256=")

        subprocess.run(["mount", "-o", "remount,size=64m", small], check=True, timeout=30)
        final = rep.wait_caught_up(list(CLIENTS), 40)
        print(rep.describe(2, "orders", final[2]["orders"]), file=sys.stderr)
        for n, proc in ((1, c1), (2, c2)):
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])
        self.assertGreater(final[2]["orders"]["store_errors"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
