#!/usr/bin/env python3
"""Adaptive rate: the server lowers a stream's pacing cap while a receiver
reports that it cannot keep up, and raises it back to the configured cap
once none does ([pacing] adaptive, engine/server/rate_controller.hpp).

One server (rate_mbps 2000, adaptive) and two clients on the lab; client2
has a receive queue of 256 packets and a socket buffer of 256 KiB, so 8 KiB
values written as fast as the store takes them overrun it (its socket drops
datagrams or its queue overflows, or they fill past half). Its reports
(ReceiveStats 17, 18, sent at once on overrun) must bring the stream's cap
down, seen in the server's `replicast stats` (an admin identity) and log;
once the writes stop the cap must climb back to 2000 Mbit/s. Every replica
ends equal to the master, whatever was lost on the way (repaired by LSN)."""
import os
import random
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DB = "ticks"
CEILING_MBPS = 2000
BATCH = 2000        # 8 KiB values per `replicast load`: 16 MB, about 11 000 packets
MAX_BATCHES = 20    # bounded in count as well as in time


class AdaptiveRate(unittest.TestCase):
    def test_an_overrun_receiver_slows_the_stream_and_the_cap_comes_back(self):
        started = time.monotonic()

        def phase(what):
            print(f"{time.monotonic() - started:5.1f} s {what}", file=sys.stderr)
        lab = labrun.Lab(REPLICAST, 2).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, [DB], {1: None, 2: None}, server={
            "bundle": {"max_updates": 8, "max_bytes": 65536, "adaptive": False},
            "pacing": {"rate_mbps": CEILING_MBPS, "burst_bytes": 1_000_000, "adaptive": True, "min_rate_mbps": 50},
            "keys": {"rotate_seconds": 0},
        }, client={2: {"receive": {"interface": "eth0", "queue_slots": 256, "rcvbuf_bytes": 256 * 1024,
                                   "max_datagram": 1500}}})
        rep.add_admin()
        rep.create_databases()
        rng = random.Random(1777)
        batches = []

        def next_batch():
            path = os.path.join(lab.dir, f"batch{len(batches)}.jsonl")
            labrun.workload(path, 0, BATCH, rng, size=lambda _rng: 8192)
            batches.append(path)
            rep.load(DB, path)

        server = rep.start_server()
        for n in (1, 2):
            rep.start_client(n)
        labrun.wait_until("both clients following", lambda: all(rep.applied(n, DB) >= 1 for n in (1, 2)), 30,
                          interval=0.2)
        def stream_stats():
            return rep.stream_stats(DB)

        def rate_mbps():
            return int(stream_stats().get("rate_bps", 0)) // 1_000_000

        self.assertEqual(rate_mbps(), CEILING_MBPS, "no report of overrun yet: the configured cap")
        phase("following; the stream at its configured cap")

        lowest = [CEILING_MBPS]
        count = [0]

        def slowed():
            if count[0] < MAX_BATCHES:
                count[0] += 1
                next_batch()
            lowest[0] = min(lowest[0], rate_mbps())
            return lowest[0] < CEILING_MBPS
        labrun.wait_until("the server lowered the stream's cap", slowed, 90, interval=0.1)
        s = stream_stats()
        phase(f"after {count[0]} batch(es): the cap fell to {lowest[0]} Mbit/s; {s.get('overrun_reports')} report(s) "
              f"of overrun, {s.get('rate_changes')} change(s)")
        self.assertGreaterEqual(int(s.get("overrun_reports", 0)), 1)
        self.assertGreaterEqual(int(s.get("rate_changes", 0)), 1)
        server.wait_for_line(r"pacing at [\d.]+ Mbit/s \(was [\d.]+\): \d+ report\(s\) of a receiver overrun", 10)

        final = rep.wait_caught_up([1, 2], 90)
        phase("both replicas caught up; waiting for the cap to come back")
        labrun.wait_until("the cap back at rate_mbps", lambda: rate_mbps() == CEILING_MBPS, 30, interval=0.2)
        phase("the cap is back at the configured rate")
        # The reports behind the fall were client2's: its buffers are the small ones.
        c2 = final[2][DB]["receive"]
        print(rep.describe(2, DB, final[2][DB]), file=sys.stderr)
        print(f"client2: socket_drops {c2['socket_drops']}, queue_overflows {c2['queue_overflows']}", file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches([1, 2]), [])
        phase(f"replicas equal the master after {len(batches)} batch(es) of {BATCH}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
