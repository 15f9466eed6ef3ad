#!/usr/bin/env python3
"""Adaptive bundling: the server shortens its chains when a receiver reports
loss and lengthens them back when the loss stops ([bundle] adaptive,
engine/server/bundle_controller.hpp).

One server ([bundle] max_updates 64, a 3 s loss window) and two clients on
the lab; 100-byte values written in batches while the test watches the
server's `replicast stats` (an admin identity). With 5 % loss on client2's
hub port, client2's requests report the packet_seq it missed and the
stream's chain size must fall well below 64 (one packet's worth of updates is
the expected choice), with the server's log saying so; with the loss rule
removed it must come back to 64. Every replica ends equal to the master."""
import os
import random
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DB = "orders"
CEILING = 64
BATCH = 8000         # updates per `replicast load` while waiting (~600 packets: the server
                     # weighs a receiver's loss once 1000 packets are in its window)
MAX_BATCHES = 40     # per phase: the load is bounded in count as well as in time


class AdaptiveBundling(unittest.TestCase):
    def test_chains_shorten_under_loss_and_grow_back_after(self):
        started = time.monotonic()

        def phase(what):
            print(f"{time.monotonic() - started:5.1f} s {what}", file=sys.stderr)
        lab = labrun.Lab(REPLICAST, 2).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, [DB], {1: None, 2: None}, server={
            "bundle": {"max_updates": CEILING, "max_bytes": 65536, "adaptive": True, "min_updates": 4,
                       "adaptive_window_ms": 3000},
            "keys": {"rotate_seconds": 0},
        })
        rep.add_admin()
        rep.create_databases()
        rng = random.Random(1301)
        batches = []

        def next_batch():
            path = os.path.join(lab.dir, f"batch{len(batches)}.jsonl")
            labrun.workload(path, 0, BATCH, rng, size=lambda _rng: 100)
            batches.append(path)
            rep.load(DB, path)

        server = rep.start_server()
        for n in (1, 2):
            rep.start_client(n)
        labrun.wait_until("both clients following", lambda: all(rep.applied(n, DB) >= 1 for n in (1, 2)), 30,
                          interval=0.2)
        def stream_stats():
            return rep.stream_stats(DB)

        def chain_updates():
            return int(stream_stats().get("chain_updates", 0))

        def writing_until(what, predicate, seconds):
            """Writes a batch, then looks: bounded by MAX_BATCHES and by `seconds`."""
            count = [0]

            def step():
                if count[0] < MAX_BATCHES:
                    count[0] += 1
                    next_batch()
                return predicate()
            labrun.wait_until(what, step, seconds, interval=0.1)

        self.assertEqual(chain_updates(), CEILING, "no loss reported yet: chains at the configured maximum")
        phase("following; chains at the ceiling")

        lab.loss(2, 5)
        short = []
        writing_until("the server shortened the chains", lambda: (c := chain_updates()) < CEILING and short.append(c)
                      is None, 40)
        s = stream_stats()
        phase(f"under loss: {s.get('chain_updates')} updates per chain, {s.get('lossy_receivers')} lossy "
              f"receiver(s), worst loss {s.get('loss_ppm')} ppm")
        # 100-byte values (about 110 bytes as carried): 12 fill one packet; the
        # choice at 5 % loss is one or two packets, far below 64.
        self.assertLessEqual(short[0], 25)
        self.assertGreaterEqual(int(s.get("lossy_receivers", 0)), 1)
        self.assertGreater(int(s.get("loss_ppm", 0)), 10_000, "client2's ~5 % loss is seen (over 1 %)")
        server.wait_for_line(r"chains of at most \d+ updates \(were 64\)", 10)

        lab.loss(2, 0)
        writing_until("the server lengthened the chains again", lambda: chain_updates() == CEILING, 40)
        phase("loss stopped: chains back at the ceiling")
        self.assertGreaterEqual(int(stream_stats().get("bundle_changes", 0)), 2)

        final = rep.wait_caught_up([1, 2], 45)
        for n in (1, 2):
            print(rep.describe(n, DB, final[n][DB]), file=sys.stderr)
        self.assertGreater(final[2][DB]["receive"]["packets_missed"], 0, "client2 counted the packets it missed")
        # client1 has no loss rule (it may still miss what its receive queue had no room for).
        self.assertLess(final[1][DB]["receive"]["packets_missed"], final[2][DB]["receive"]["packets_missed"])
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches([1, 2]), [])
        phase(f"replicas equal the master after {len(batches)} batches of {BATCH}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
