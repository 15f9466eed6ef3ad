#!/usr/bin/env python3
"""The server killed with SIGKILL mid-stream and restarted.

Three clients follow two databases streamed at a paced 20 Mbit/s, so the
first 6 000 updates per database are still on the way when the server dies
by SIGKILL (no drain, no final state written). It restarts on the same
store while the second half is written. The restarted server begins a new
key epoch on every stream (persisted before its first packet), resends
what had not fully left, and every client converges.

Every packet the server sent in both lives is captured on the hub port
toward the server and opened with the server's key log: each one opens with
the key its epoch names, the epochs after the restart are above those
before it, no two epochs of any stream share key bytes, and no (key, IV)
pair appears twice in the capture (the IV is stream_id || packet_seq, so a
restarted sequence under an old key would show here)."""
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 4_000
CLIENTS = {1: None, 2: None, 3: [2]}


def key_log(path):
    """[(stream_id, epoch, key hex)] in the order the server wrote them."""
    out = []
    with open(path) as f:
        for line in f:
            tag, stream, epoch, key = line.split()
            assert tag == "REPLICAST_KEY", line
            out.append((int(stream), int(epoch), key))
    return out


class ServerSigkill(unittest.TestCase):
    def test_sigkill_restart_new_epoch_no_key_iv_reuse_clients_converge(self):
        t0 = time.monotonic()
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        keys = os.path.join(lab.dir, "keys.log")
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, server={
            "server": {"key_log": keys, "stats_interval_ms": 500},
            "pacing": {"rate_mbps": 20},
            "keys": {"rotate_seconds": 3},
        })
        rep.create_databases()
        rng = random.Random(1202)
        halves = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            halves[db] = labrun.split_file(path, 2)

        pcap = os.path.join(lab.dir, "server.pcap")
        dump = lab.start("tcpdump", "hub", ["tcpdump", "-i", f"{lab.prefix}-hs", "-U", "-n", "-B", "16384",
                                            "-w", pcap, "udp", "dst", "port", "5000"])
        dump.wait_for_line(r"listening on", 20)

        first = rep.start_server()
        for n in CLIENTS:
            rep.start_client(n)
        labrun.wait_until("every client following", lambda: all(
            rep.applied(n, db) >= 1 for n in CLIENTS for db in DBS), 30, interval=0.2)
        for db in DBS:
            rep.load(db, halves[db][0])
        want_first = {db: rep.master_last(db) for db in DBS}
        labrun.wait_until("client1 mid-stream", lambda: rep.applied(1, "orders") > 600, 30, interval=0.05)
        first.signal(signal.SIGKILL)
        first.proc.wait()
        at_kill = {n: {db: rep.applied(n, db) for db in DBS} for n in CLIENTS}
        print(f"{time.monotonic() - t0:.1f}s killed at applied {at_kill}, master {want_first}", file=sys.stderr)
        self.assertTrue(any(at_kill[n][db] < want_first[db] for n in CLIENTS for db in DBS),
                        "the server died with updates still on the way")
        epochs_before = {(s, e) for s, e, _ in key_log(keys)}

        for db in DBS:
            rep.load(db, halves[db][1])  # written while the server is down
        rep.start_server("-restarted")
        restarted = time.monotonic()
        print(f"{restarted - t0:.1f}s restarted", file=sys.stderr)
        final = rep.wait_caught_up(list(CLIENTS), 45)
        caught_up = time.monotonic() - restarted
        print(f"{time.monotonic() - t0:.1f}s caught up, {caught_up:.1f} s after the restart", file=sys.stderr)
        for n in CLIENTS:
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        self.assertEqual(rep.server.stop(), 0, rep.server.output()[-3000:])
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        dump.stop()
        print(f"{time.monotonic() - t0:.1f}s stopped", file=sys.stderr)
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])

        # A new epoch on every stream, above every epoch of the first life; the
        # clients follow it; no two epochs share key bytes.
        log = key_log(keys)
        max_before = {}
        for s, e in epochs_before:
            max_before[s] = max(max_before.get(s, 0), e)
        after = [(s, e) for s, e, _ in log if (s, e) not in epochs_before]
        self.assertEqual(len(max_before), len(DBS), log)
        for s in max_before:
            self.assertTrue(any(s2 == s and e > max_before[s] for s2, e in after), f"stream {s}: no new epoch: {log}")
        self.assertEqual(len({k for _, _, k in log}), len(log), f"key bytes reused across epochs: {log}")
        self.assertEqual(len({(s, e) for s, e, _ in log}), len(log), f"an epoch was keyed twice: {log}")
        for n in CLIENTS:
            for db in DBS:
                d = final[n][db]
                self.assertGreater(d["key_epoch"], max_before[d["stream_id"]], f"client{n} {db} follows a new epoch")
                self.assertEqual(d["receive"]["open_failures"], 0, f"client{n} {db}")

        # The capture: every packet opens with its epoch's key from the log, and
        # no (key, IV) pair repeats.
        p = subprocess.run([REPLICAST, "decode", "--json", "--key-log", keys, "--port", "5000", pcap],
                           capture_output=True, text=True, timeout=120)
        lines = labrun.json_lines(p.stdout)
        summary = lines[-1]["summary"]
        packets = lines[:-1]
        print(f"{time.monotonic() - t0:.1f}s capture: {summary}", file=sys.stderr)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertGreater(summary["packets"], 2 * UPDATES_PER_DB // 64)
        self.assertEqual(summary["good"], summary["packets"])
        self.assertEqual(summary["not_opened"], 0)
        keyof = {(s, e): k for s, e, k in log}
        seen = set()
        epochs_on_wire = set()
        for pkt in packets:
            self.assertEqual(pkt["open"], "opened", pkt)
            epochs_on_wire.add((pkt["stream_id"], pkt["key_epoch"]))
            pair = (keyof[(pkt["stream_id"], pkt["key_epoch"])], pkt["stream_id"], pkt["packet_seq"])
            self.assertNotIn(pair, seen, f"(key, IV) reused: {pkt}")
            seen.add(pair)
        self.assertTrue(epochs_on_wire & epochs_before, "the capture holds the first life's packets")
        self.assertTrue(epochs_on_wire - epochs_before, "the capture holds the second life's packets")


if __name__ == "__main__":
    unittest.main(verbosity=2)
