#!/usr/bin/env python3
"""Late joiners under a running stream.

A writer commits a database in steady chunks (100 updates every ~0.1 s,
fed to one `replicast load`) while the server multicasts them. No
client runs at first: three clients start one after another, each once the
master has moved 1 000 LSNs past where it was when the one before it
followed by multicast (the first at LSN 1 000). Each new replica bootstraps from a snapshot taken mid-stream
(its LSN past the threshold), then follows the multicast: it applies multicast
chains, and they bring LSNs past the snapshot that Recover did not, so the
late joiner is not carried by unicast repair alone (on a loaded VM a joiner
may still recover much of what streamed while it bootstrapped). The writer stops once the
last joiner follows (bounded by its chunks anyway); every replica ends equal
to the master, one of them filtered by reader group."""
import os
import random
import re
import subprocess
import sys
import threading
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders"]
CHUNKS = 600             # at most 60 000 updates per database (~60 s): the test stops it far sooner
CHUNK_UPDATES = 100
CLIENTS = {1: None, 2: [1], 3: None}
JOIN_AFTER = 1_000       # LSNs the master moves on between one joiner following and the next starting
FOLLOWING_CHAINS = 20    # multicast chains a joiner applies before the next one starts


class Writer(threading.Thread):
    """Feeds one `replicast load --batch 100 -` per database, a chunk of lines
    each every ~0.1 s (one transaction per chunk), until told to stop or out
    of lines; then closes their input so that they commit and exit."""

    def __init__(self, rep, paths):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.written = 0
        self.error = None
        self.lines = {}
        for db, path in paths.items():
            with open(path) as f:
                self.lines[db] = f.readlines()
        self.loads = {db: subprocess.Popen(
            [REPLICAST, "load", "--store", rep.store, "--db", db, "--batch", str(CHUNK_UPDATES), "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for db in paths}

    def run(self):
        try:
            for k in range(CHUNKS):
                if self.stop.is_set():
                    break
                for db, p in self.loads.items():
                    p.stdin.writelines(self.lines[db][k * CHUNK_UPDATES:(k + 1) * CHUNK_UPDATES])
                    p.stdin.flush()
                self.written = k + 1
                self.stop.wait(0.1)  # pacing of the load, not a synchronisation
        except Exception as e:  # reported by the test
            self.error = e

    def finish(self):
        """Stops the feed; every load commits what it read and exits. {db: its exit, stdout, stderr}."""
        self.stop.set()
        self.join(30)
        out = {}
        for db, p in self.loads.items():
            stdout, stderr = p.communicate(timeout=60)
            out[db] = (p.returncode, stdout, stderr)
        return out

    def kill(self):
        self.stop.set()
        for p in self.loads.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def snapshot_lsn(proc, db):
    m = re.search(rf"database {db}: snapshot applied: \d+ records at LSN (\d+)", proc.output())
    return int(m.group(1)) if m else None


class LateJoiners(unittest.TestCase):
    def test_late_joiners_bootstrap_mid_stream_then_follow_by_multicast(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS)
        rep.create_databases()
        rng = random.Random(1301)
        paths = {}
        for i, db in enumerate(DBS):
            paths[db] = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(paths[db], i, CHUNKS * CHUNK_UPDATES, rng)
        rep.start_server()
        writer = Writer(rep, paths)
        self.addCleanup(writer.kill)
        writer.start()

        joined = {}
        at = JOIN_AFTER
        for n in CLIENTS:
            labrun.wait_until(f"the master past LSN {at} before client{n} joins (writer: {writer.error})",
                              lambda at=at: writer.error is None and rep.master_last("orders") >= at, 30, interval=0.1)
            joined[n] = {db: rep.master_last(db) for db in DBS}
            proc = rep.start_client(n)
            labrun.wait_until(f"client{n} bootstrapped every database (writer at chunk {writer.written})", lambda proc=proc: all(
                snapshot_lsn(proc, db) is not None for db in DBS), 30, interval=0.1)
            # It follows by multicast before the next one starts.
            labrun.wait_until(f"client{n} applying multicast chains (writer at chunk {writer.written}, stats {rep.stats(n)})", lambda n=n: all(
                (rep.stats(n) or {}).get(db, {}).get("chains", {}).get("applied", 0) >= FOLLOWING_CHAINS
                for db in DBS), 30, interval=0.1)
            self.assertIsNone(writer.error)
            self.assertFalse(writer.stop.is_set())
            at = rep.master_last("orders") + JOIN_AFTER
        written_when_last_followed = writer.written
        for db, (code, stdout, stderr) in writer.finish().items():
            self.assertEqual(code, 0, f"load {db}: {stderr[-2000:]}")
            self.assertIn(f"loaded={writer.written * CHUNK_UPDATES} ", stdout)
        self.assertIsNone(writer.error)
        self.assertLess(written_when_last_followed, CHUNKS, "the stream was still being written when the last joined")

        final = rep.wait_caught_up(list(CLIENTS), 40)
        for n in CLIENTS:
            for db in DBS:
                print(rep.describe(n, db, final[n][db]) + f" snapshot_lsn={snapshot_lsn(rep.clients[n], db)}"
                      f" joined_at={joined[n][db]}", file=sys.stderr)
        print(f"writer: {writer.written} chunks of {CHUNK_UPDATES} updates per database", file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])
        for n in CLIENTS:
            for db in DBS:
                d = final[n][db]
                snap = snapshot_lsn(rep.clients[n], db)
                self.assertEqual(d["repair"]["snapshots"], 1, f"client{n} {db}: one bootstrap")
                # Bootstrapped mid-stream: the snapshot holds what the master had when it joined, or more.
                self.assertGreaterEqual(snap, joined[n][db], f"client{n} {db}")
                self.assertGreater(d["repair"]["snapshot_records"], 0)
                after = d["applied_lsn"] - snap
                self.assertGreater(after, 0, f"client{n} {db}: the stream went on after its snapshot")
                self.assertGreaterEqual(d["chains"]["applied"], FOLLOWING_CHAINS, f"client{n} {db}")
                # Followed by multicast, not only carried by Recover: multicast
                # chains brought LSNs past the snapshot that Recover did not.
                self.assertGreaterEqual(after - d["repair"]["lsns_recovered"], FOLLOWING_CHAINS,
                                        f"client{n} {db}: {d['repair']}")
                self.assertEqual(d["receive"]["open_failures"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
