#!/usr/bin/env python3
"""Chaos relay: client1 sits behind the chaos relay (lab/chaos_relay, a relay
namespace between its hub port and its eth0: scripts/lab up --relay 1), which
reorders, delays, duplicates and corrupts the stream's UDP frames toward it,
seeded; client2 is on the hub as usual.

4 000 updates of mixed sizes in two databases stream while keys rotate every
3 s. Both replicas end equal to the master (`replicast checksum`), so nothing
reordered, replayed or corrupted was applied wrongly, and the counters prove
each fault happened and was handled where it should be: the relay counted
every action; client1 refused replays (the duplicates), counted open failures
or malformed packets (the corruption) and repaired gaps; client2 saw none of
it."""
import json
import os
import random
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
CHAOS_RELAY = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 2_000
STREAM_PORT = 5000  # labrun.Replication's [streams] port: only the stream is touched, never TCP
RELAY_ARGS = ["--seed", "1207", "--udp-port", str(STREAM_PORT),
              "--reorder", "0.04", "--reorder-depth", "3", "--hold-max-ms", "20",
              "--delay", "0.04", "--delay-min-us", "500", "--delay-max-us", "5000",
              "--duplicate", "0.04", "--corrupt", "0.03"]
# Where a flipped byte is counted (one in key_epoch shows as unknown_epoch, but
# so do packets of a rotated key that arrive before its Keys call returns: not
# counted here).
BAD = ("open_failures", "malformed", "wrong_stream")


def total(stats, section, key):
    return sum(d[section][key] for d in stats.values())


class ChaosRelay(unittest.TestCase):
    def test_reordered_delayed_duplicated_corrupted_stream_converges(self):
        lab = labrun.Lab(REPLICAST, 2, relays=[1]).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, {1: None, 2: None})
        rep.create_databases()
        rng = random.Random(1207)
        loads = {}
        for i, db in enumerate(DBS):
            loads[db] = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(loads[db], i, UPDATES_PER_DB, rng)
        stats_file = os.path.join(lab.dir, "relay.json")
        relay = lab.start_relay(1, CHAOS_RELAY, RELAY_ARGS, stats_file)
        rep.start_server()
        for n in (1, 2):
            rep.start_client(n)
        labrun.wait_until("both clients following", lambda: all(
            rep.applied(n, db) >= 1 for n in (1, 2) for db in DBS), 30, interval=0.2)
        for db in DBS:
            rep.load(db, loads[db])
        final = rep.wait_caught_up([1, 2], 45)
        for n in (1, 2):
            for db in DBS:
                d = final[n][db]
                print(rep.describe(n, db, d) + " " + " ".join(f"{k}={d['receive'][k]}" for k in
                                                               ("replays", "too_old", "unknown_epoch") + BAD), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(relay.stop(), 0, f"the relay exits 0 on SIGTERM:\n{relay.output()[-3000:]}")
        with open(stats_file) as f:
            counters = json.load(f)["counters"]
        print(f"relay: {counters}", file=sys.stderr)

        # Nothing wrong applied: both replicas equal the master.
        self.assertEqual(rep.mismatches([1, 2]), [])

        # The relay did each thing, on frames of the stream.
        self.assertGreater(counters["eligible"], 1000)
        for action in ("reordered", "delayed", "duplicated", "corrupted"):
            self.assertGreater(counters[action], 0, f"the relay {action} frames")
        self.assertEqual(counters["sent"] + counters["send_errors"], counters["frames_in"] + counters["duplicated"],
                         "every frame in left (a duplicate twice)")

        # client1 refused the duplicates as replays and counted the corrupted
        # packets, and repaired what corruption took away.
        c1, c2 = final[1], final[2]
        replays = total(c1, "receive", "replays")
        self.assertGreater(replays, 0, "client1 refused duplicates as replays")
        # (a flipped packet_seq may also look like a replay: it is refused before it is opened)
        self.assertLessEqual(replays, counters["duplicated"] + counters["corrupted"], "no replay the relay did not make")
        bad = sum(total(c1, "receive", k) for k in BAD)
        self.assertGreater(total(c1, "receive", "open_failures"), 0, "client1 failed to open corrupted packets")
        self.assertLessEqual(bad, 2 * counters["corrupted"], "no bad packet the relay did not make (a duplicate twice)")
        self.assertGreater(total(c1, "repair", "gaps"), 0, "client1 saw gaps")
        self.assertGreater(total(c1, "repair", "lsns_recovered") + total(c1, "repair", "snapshots"), 0,
                           "client1 repaired them")
        # client2 was not behind the relay: none of it reached it.
        self.assertEqual(total(c2, "receive", "replays"), 0)
        self.assertEqual(sum(total(c2, "receive", k) for k in BAD), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
