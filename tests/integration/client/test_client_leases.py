#!/usr/bin/env python3
"""Subscriptions as leases with the real replica daemon, on the netns lab
(scripts/lib/labrun.py): a `replicast server` with no configured stream
(every stream starts on Subscribe; lease_seconds 3, idle_stop_seconds 2) and
a `replicast client` daemon following one database.

- A live daemon holds its stream: it reports (Keys with its statistics) at
  least every third of the lease, so the stream runs on through more than
  lease + idle time without a stop, Databases counting it as a subscriber,
  and what is written arrives.
- A daemon killed with SIGKILL (no Unsubscribe) stops renewing: its lease
  runs out and the stream stops lease + idle after the kill at the latest
  (and not before the lease it last renewed ran out).
- A restarted daemon subscribes, which starts the stream again; it recovers
  what was written while the stream was stopped, follows what comes after,
  and its replica's checksum equals the master's."""
import json
import os
import random
import re
import signal
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DB = "orders"
LEASE, IDLE = 3, 2  # [streams] lease_seconds, idle_stop_seconds
STOPPED = r"stream \d+ \(orders\): stopped at LSN (\d+)"
IDLE_FOUND = r"stream \d+ \(orders\): no subscriber lease for \d+ ms"


class ClientLeases(unittest.TestCase):
    def setUp(self):
        self.lab = labrun.Lab(REPLICAST, 1).up()
        self.addCleanup(self.lab.close)
        self.rep = labrun.Replication(self.lab, REPLICAST, [DB], {1: None}, server={
            "streams": {"databases": [], "lease_seconds": LEASE, "idle_stop_seconds": IDLE},
            "server": {"stats_interval_ms": 200},
            "keys": {"rotate_seconds": 0},  # a stop waits for an announced key switch: none here
        })

    def databases(self):
        """The server's Databases answer, asked as client1 (no statistics: it holds no lease by asking)."""
        lab, certs = self.lab, self.rep.certs
        p = lab.run("server", [REPLICAST, "databases", "--json", "--server", f"{lab.addr('server')}:{labrun.CONTROL_PORT}",
                               "--cert", f"{certs}/client1.pem", "--key", f"{certs}/client1.key",
                               "--ca", f"{certs}/ca.pem"])
        return {d["name"]: d for d in json.loads(p.stdout)["databases"]}

    def load(self, name, count, rng):
        path = os.path.join(self.lab.dir, f"{name}.jsonl")
        labrun.workload(path, 0, count, rng)
        self.rep.load(DB, path)

    def reports(self):
        return ((self.rep.stats(1) or {}).get(DB) or {}).get("control", {}).get("reports", 0)

    def test_a_live_daemon_holds_its_stream_and_a_killed_one_lets_it_stop(self):
        rng = random.Random(20261202)
        rep = self.rep
        rep.create_databases()
        server = rep.start_server()
        self.assertFalse(self.databases()[DB]["streaming"], "no configured stream: nothing multicast yet")

        # The daemon's Subscribe starts the stream.
        c1 = rep.start_client(1)
        server.wait_for_line(r"stream \d+ db=orders .* started on Subscribe", 30)
        self.load("part1", 2000, rng)
        rep.wait_caught_up([1], 60)
        info = self.databases()[DB]
        self.assertTrue(info["streaming"])
        self.assertEqual(info["subscribers"], 1, "the daemon holds a lease")

        # (2) A live daemon renews its lease (every LEASE/3 s): through more than
        # lease + idle time of reports the stream runs on.
        start = self.reports()
        labrun.wait_until("reports covering lease + idle time", lambda: self.reports() >= start + 3 * (LEASE + IDLE), 40,
                          interval=0.2)
        self.assertIsNone(re.search(STOPPED, server.output()), "a stream whose subscriber renews never stops")
        info = self.databases()[DB]
        self.assertTrue(info["streaming"])
        self.assertEqual(info["subscribers"], 1)
        self.load("part2", 1000, rng)  # and it is still multicast to the daemon
        stats = rep.wait_caught_up([1], 60)[1][DB]
        self.assertGreater(stats["chains"]["applied"], 0)

        # (1) SIGKILL: no Unsubscribe. The lease runs out, then the idle time, then the stream stops.
        c1.signal(signal.SIGKILL)
        c1.proc.wait()
        t_kill = time.monotonic()
        server.wait_for_line(IDLE_FOUND, LEASE + IDLE + 15)
        waited = time.monotonic() - t_kill
        m = server.wait_for_line(STOPPED, 10)
        print(f"found idle {waited:.1f} s after the kill (lease {LEASE} s renewed every {LEASE / 3:.0f} s, idle {IDLE} s), "
              f"stopped {time.monotonic() - t_kill:.1f} s after it", file=sys.stderr)
        # The last renewal was at most LEASE/3 s before the kill: its lease ran at least 2/3 of LEASE past it.
        self.assertGreaterEqual(waited, IDLE + LEASE * 2 / 3 - 0.3, "stopped before the lease ran out and idle passed")
        # The loop looks every 100 ms; the rest is slack for a loaded machine.
        self.assertLessEqual(waited, LEASE + IDLE + 1.5, "the killed daemon's lease held the stream too long")
        stopped_at = int(m.group(1))
        info = self.databases()[DB]
        self.assertFalse(info["streaming"])
        self.assertEqual(info["subscribers"], 0)

        # Written while nobody streams: never multicast, recovered by the next subscriber.
        self.load("part3", 1000, rng)
        self.assertGreater(rep.master_last(DB), stopped_at)

        # A restarted daemon subscribes: the stream starts again and the daemon converges.
        rep.start_client(1, "-restarted")
        labrun.wait_until("the stream started again", lambda: len(re.findall(
            r"stream \d+ db=orders .* started on Subscribe", server.output())) == 2, 30)
        self.load("part4", 1000, rng)  # multicast by the restarted stream
        final = rep.wait_caught_up([1], 60)[1][DB]
        print(labrun.Replication.describe(1, DB, final), file=sys.stderr)
        self.assertEqual(rep.mismatches([1]), [], "the replica equals the master")
        self.assertGreater(final["repair"]["lsns_recovered"], 0, "what was written while stopped came by Recover")
        self.assertGreater(final["chains"]["applied"], 0, "and what came after, by multicast")
        self.assertEqual(self.databases()[DB]["subscribers"], 1)
        self.assertEqual(rep.clients[1].stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
