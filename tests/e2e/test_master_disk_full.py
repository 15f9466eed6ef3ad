#!/usr/bin/env python3
"""Disk full on the master: its store directory is a 3 MiB tmpfs.

Two clients follow one database while a local `replicast load` (50 updates
per transaction) writes more than the filesystem holds. The load stops with
an error that names the store and says the filesystem is full and that
nothing committed was lost; a Publish over the control plane is refused the
same way (RESOURCE_EXHAUSTED, not retried here), and so is a key rotation:
the store cannot record the new epoch, so the current key keeps sealing (the
server counts the refusal and tries again every second by itself; a restart
must never find an epoch in use that the store does not hold). While the disk
is full a reader holds a snapshot of the master open, so that LMDB cannot reuse
the pages it freed since and every write, however small, needs room (without
it a small write such as the stream state often fits in reused pages). The
server keeps running:
both clients converge to exactly what was committed, a third client started
while the disk is full bootstraps from a snapshot of it, and the master
equals a store rebuilt elsewhere from the lines the load reported committed
(nothing committed lost, nothing of a failed transaction kept). Once the
tmpfs is grown to 64 MiB, the refused rotation goes through without being
asked again, the rest of the load and a Publish go through and every replica
converges again."""
import json
import os
import random
import re
import struct
import subprocess
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders"]
UPDATES = 2_500        # some 3 MB of records; with no page reused (the snapshot held below) about 750 fill 3 MiB
CLIENTS = {1: None, 2: [2], 3: None}


def free_kib(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize // 1024


def recorded_epoch(store, stream_id):
    """The key epoch the master store holds for a stream (store/LAYOUT.md:
    `stream/<id>` in `_meta`: watermark 8, epoch 4, multicast LSN 8, big-endian)."""
    import lmdb  # python3-lmdb, as the integration tests use
    env = lmdb.open(store, readonly=True, max_dbs=256, subdir=True)
    try:
        with env.begin() as txn:
            value = txn.get(f"stream/{stream_id}".encode(), db=env.open_db(b"_meta", txn=txn, create=False))
        return struct.unpack(">QI", value[:12])[1]
    finally:
        env.close()


class MasterDiskFull(unittest.TestCase):
    def test_master_disk_full_clear_errors_nothing_lost_writes_resume(self):
        started = time.monotonic()

        def phase(what):
            print(f"{time.monotonic() - started:5.1f} s {what}", file=sys.stderr)
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, publisher=True)
        with open(rep.access_list, "a") as f:
            f.write('[[identity]]\nname = "admin"\nroles = ["admin"]\ndatabases = ["*"]\n')
        os.makedirs(rep.store)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", rep.store], check=True, timeout=30)
        self.addCleanup(subprocess.run, ["umount", "-l", rep.store], timeout=30)  # runs before lab.close
        rep.create_databases()
        rng = random.Random(1302)
        load = os.path.join(lab.dir, "orders.jsonl")
        labrun.workload(load, 0, UPDATES, rng)
        published = os.path.join(lab.dir, "published.jsonl")
        labrun.workload(published, 0, 200, rng)
        rep.start_server()
        rep.start_client(1), rep.start_client(2)
        labrun.wait_until("clients following", lambda: all(rep.applied(n, "orders") >= 1 for n in (1, 2)), 30,
                          interval=0.2)

        def admin(*args, check=True):
            return lab.run("server", [REPLICAST, *args, "--server", f"{lab.addr('server')}:{labrun.CONTROL_PORT}",
                                      "--cert", f"{rep.certs}/admin.pem", "--key", f"{rep.certs}/admin.key",
                                      "--ca", f"{rep.certs}/ca.pem", "--json"], check=check, timeout=30)

        def stream():
            return next(x for x in json.loads(admin("stats").stdout)["streams"] if x["database"] == "orders")

        # From here until there is room again, a snapshot of the master stays
        # open: LMDB keeps every page freed from now on for it.
        import lmdb
        held = lmdb.open(rep.store, readonly=True, max_dbs=256, subdir=True)
        self.addCleanup(held.close)
        snapshot = held.begin()
        self.addCleanup(snapshot.abort)

        phase("clients following")
        # The local writer fills the filesystem.
        p = lab.run(None, [REPLICAST, "load", "--store", rep.store, "--db", "orders", "--batch", "50", load], check=False)
        print(f"load: exit {p.returncode}: {p.stderr.strip()[-600:]} (free {free_kib(rep.store)} KiB)", file=sys.stderr)
        self.assertNotEqual(p.returncode, 0, "the load cannot fit")
        self.assertIn(rep.store, p.stderr, "the error names the store")
        self.assertIn("the filesystem holding the store is full", p.stderr)
        self.assertIn("nothing committed was lost", p.stderr)
        committed = int(re.search(r"\((\d+) records were committed before this batch\)", p.stderr).group(1))
        self.assertGreater(committed, 0)
        self.assertLess(committed, UPDATES)
        # The failed batch wrote part of its pages before the filesystem ran
        # out: room in the file that small writes still fit in. The rest of
        # the load one record per transaction fills it, until not even one fits.
        with open(load) as f:
            lines = f.readlines()
        one_by_one = os.path.join(lab.dir, "one_by_one.jsonl")
        with open(one_by_one, "w") as out:
            out.writelines(lines[committed:])
        p = lab.run(None, [REPLICAST, "load", "--store", rep.store, "--db", "orders", "--batch", "1", one_by_one],
                    check=False)
        print(f"load --batch 1: exit {p.returncode}: {p.stderr.strip()[-300:]}", file=sys.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("the filesystem holding the store is full", p.stderr)
        committed += int(re.search(r"\((\d+) records were committed before this batch\)", p.stderr).group(1))
        full_last = rep.master_last("orders")
        self.assertEqual(full_last, 1 + committed, "one LSN per committed update, after the database's first record")

        phase("the disk is full")
        # A Publish through the server is refused with the same cause, nothing written.
        p = rep.publish("orders", published, "--retry-seconds", "0", "--batch", "200", check=False)
        print(f"publish: exit {p.returncode}: {p.stderr.strip()[-600:]}", file=sys.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("RESOURCE_EXHAUSTED", p.stderr)
        self.assertIn(rep.store, p.stderr)
        self.assertIn("the filesystem holding the store is full", p.stderr)
        self.assertEqual(rep.master_last("orders"), full_last, "the refused Publish wrote nothing")

        # A key rotation is refused the same way: the new epoch cannot be
        # recorded, so it is not used; the server counts it and retries. (Once
        # the server's own periodic writes of the stream state are refused: a
        # page or two of room may be left after the last record.)
        rep.server.wait_for_line(r"cannot persist its state: .*the filesystem holding the store is full", 20)
        phase("the server's stream-state writes refused")
        p = admin("keys", "rotate", "orders", check=False)
        print(f"rotate: exit {p.returncode}: {p.stderr.strip()[-600:]}", file=sys.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("UNAVAILABLE", p.stderr)
        self.assertIn("could not be recorded, the current key stays", p.stderr)
        self.assertIn("the filesystem holding the store is full", p.stderr)
        refused = stream()
        stream_id, epoch_full = refused["stream_id"], refused["key_epoch"]
        self.assertGreaterEqual(int(refused["epochs_not_recorded"]), 1)

        # The server keeps serving what was committed: the clients converge
        # to it, and a new one bootstraps from a snapshot of the full store.
        self.assertTrue(rep.server.alive(), "the server keeps running on a full disk")
        rep.start_client(3)
        full = rep.wait_caught_up(list(CLIENTS), 40)
        phase("client3 bootstrapped, all caught up")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])
        self.assertEqual(full[3]["orders"]["repair"]["snapshots"], 1)
        self.assertEqual(full[3]["orders"]["applied_lsn"], full_last)
        for n in CLIENTS:
            print(rep.describe(n, "orders", full[n]["orders"]) + " (disk full)", file=sys.stderr)
            self.assertEqual(full[n]["orders"]["store_errors"], 0)

        # Seconds later the rotation is still refused, tried again every
        # second by the server alone; the epoch in use never passed the one
        # the store records (what a restart starts past).
        labrun.wait_until("the rotation retried", lambda: int(stream()["epochs_not_recorded"]) >= 3, 15, interval=0.5)
        later = stream()
        print(f"disk full: epoch {later['key_epoch']}, rotations not recorded {later['epochs_not_recorded']}",
              file=sys.stderr)
        self.assertEqual(later["key_epoch"], epoch_full, "no new key while the disk is full")
        self.assertLessEqual(later["key_epoch"], recorded_epoch(rep.store, stream_id))
        self.assertTrue(all(full[n]["orders"]["key_epoch"] <= recorded_epoch(rep.store, stream_id) for n in CLIENTS))

        phase("the rotation retried")
        # Nothing committed lost, nothing of a failed transaction kept: the
        # master equals a store built on a roomy disk from the committed lines.
        head = os.path.join(lab.dir, "committed.jsonl")
        with open(load) as f, open(head, "w") as out:
            out.writelines(f.readlines()[:committed])
        reference = os.path.join(lab.dir, "reference")
        lab.run(None, [REPLICAST, "put", "--store", reference, "--db", "orders", "d0/created", "1"])
        lab.run(None, [REPLICAST, "load", "--store", reference, "--db", "orders", head])
        self.assertEqual(labrun.checksum(REPLICAST, rep.store, "orders"), labrun.checksum(REPLICAST, reference, "orders"))

        # Room again: the refused rotation goes through without another
        # request, then the rest of the load and the Publish.
        snapshot.abort()
        held.close()
        subprocess.run(["mount", "-o", "remount,size=64m", rep.store], check=True, timeout=30)
        labrun.wait_until("a new key epoch", lambda: stream()["key_epoch"] > epoch_full, 15, interval=0.5)
        phase("room again: a new key epoch")
        self.assertLessEqual(stream()["key_epoch"], recorded_epoch(rep.store, stream_id))
        rest = os.path.join(lab.dir, "rest.jsonl")
        with open(load) as f, open(rest, "w") as out:
            out.writelines(f.readlines()[committed:])
        rep.load("orders", rest)
        p = rep.publish("orders", published, "--retry-seconds", "0", "--batch", "200")
        self.assertIn("updates=", p.stdout)
        self.assertGreater(rep.master_last("orders"), full_last + UPDATES - committed)
        final = rep.wait_caught_up(list(CLIENTS), 40)
        phase("all caught up again")
        for n in CLIENTS:
            print(rep.describe(n, "orders", final[n]["orders"]), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])
        self.assertTrue(rep.server.alive())
        self.assertEqual(rep.server.stop(), 0, rep.server.output()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
