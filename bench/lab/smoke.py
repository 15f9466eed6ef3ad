#!/usr/bin/env python3
"""The lab benchmarks' smoke run (meson test bench-lab-*, suite e2e): each
`replicast bench NAME --quick` once, so that none rots. It asserts the run
completed and measured something real, never a speed:

fanout: every cell of the quick grid has a complete run of both systems;
every run's egress per update is at least the payload (the veth counter was
read around the run); at N = 2 without loss Redis sends about two copies and
replicast about one (unicast fan-out against one multicast).

e2e: both systems found a sustained rate (at least the ramp's first step)
on the quick grid; every sustained step's egress was counted (the veth
counter read around it, Redis at least its payload per update); the latency
rows of both paths hold every probe, timed above zero.

bulk: both systems complete both cells of the quick grid (replicast's
replicas equal the master by checksum, uftp's files equal the sent one by
cmp); every run's egress is at least its payload and, without loss, under
1.2x of it (one copy); at 5 % loss each system really repaired (replicast
recovered LSNs, uftp received NAKs), so the loss was injected.


scale: 10 daemons in 2 namespaces converge (checksums), the server still
sends about one copy per update, each daemon's RSS was read, the server's
CPU split into its tx worker and the rest, and an idle daemon costs under
1.5 % of a core (it slept 1 ms per idle pass before rx::Wakeup: 2.5-3 %).

recovery: a daemon 50 000 updates behind caught up and a new replica
bootstrapped by Snapshot (both checksums equal the master's), each with
a rate and a timeline from the stats socket.

One test per meson test (bench/meson.build names it), so each has its
own time bound."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

REPLICAST = sys.argv.pop(1)


def rows_of(path):
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


class LabBenchSmoke(unittest.TestCase):
    def test_fanout_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "fanout.csv")
            p = subprocess.run([REPLICAST, "bench", "fanout", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=280)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        cells = {(r["system"], r["clients"], r["loss_pct"]) for r in rows}
        self.assertEqual(cells, {(s, n, l) for s in ("replicast", "redis") for n in ("1", "2") for l in ("0", "5")})
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreaterEqual(float(r["egress_per_update"]), float(r["payload_bytes"]), r)
        at2 = {r["system"]: float(r["copies"]) for r in rows if r["clients"] == "2" and r["loss_pct"] == "0"}
        self.assertGreater(at2["redis"], 1.8, "Redis sends a copy per replica")
        self.assertLess(at2["replicast"], 1.1, "replicast sends one copy to both")

    def test_e2e_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "e2e.csv")
            p = subprocess.run([REPLICAST, "bench", "e2e", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=200)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        rate = {(r["system"], r["path"]): r for r in rows if r["kind"] == "rate"}
        self.assertEqual(set(rate), {("replicast", "local"), ("redis", "-")})
        for r in rate.values():
            self.assertEqual(r["sustained"], "yes", r)
            self.assertGreaterEqual(int(r["offered_per_s"]), 2000, r)
        steps = [r for r in rows if r["kind"] == "step" and r["sustained"] == "yes"]
        self.assertTrue(steps)
        for r in steps:
            self.assertGreater(int(r["egress_bytes"]), 0, r)
            if r["system"] == "redis":
                self.assertGreaterEqual(float(r["egress_per_update"]), 108, r)
        lat = {r["path"]: r for r in rows if r["kind"] == "latency"}
        self.assertEqual(set(lat), {"local", "publish"})
        for r in lat.values():
            self.assertEqual(int(r["probes"]), 20, r)
            self.assertGreater(float(r["p50_ms"]), 0, r)
            self.assertLessEqual(float(r["p50_ms"]), float(r["p99_ms"]), r)

    def test_bulk_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "bulk.csv")
            p = subprocess.run([REPLICAST, "bench", "bulk", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=220)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        cells = {(r["system"], r["clients"], r["loss_pct"]) for r in rows}
        self.assertEqual(cells, {(s, "1", l) for s in ("replicast", "uftp") for l in ("0", "5")})
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreater(float(r["goodput_mb_s"]), 0, r)
            self.assertGreaterEqual(float(r["egress_per_payload"]), 1.0, r)
            if r["loss_pct"] == "0":
                self.assertLess(float(r["egress_per_payload"]), 1.2, r)
            else:
                detail = dict(kv.split("=", 1) for kv in r["detail"].split() if "=" in kv)
                repaired = int(detail["recovered"]) if r["system"] == "replicast" else int(detail["naks"])
                self.assertGreater(repaired, 0, r)

    def test_scale_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "scale.csv")
            p = subprocess.run([REPLICAST, "bench", "scale", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=170)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        self.assertEqual([(r["phase"], r["clients"]) for r in rows], [("one", "1"), ("all", "10")])
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreaterEqual(float(r["egress_per_update"]), 100, r)  # at least the payload went out
            self.assertGreater(int(r["rss_median_kib"]), 1000, r)
            self.assertGreater(float(r["server_cpu_s"]), 0, r)
            # The process and its threads are read from /proc at slightly different instants, in
            # 10 ms ticks: the tx worker's share may show a few ticks over the whole.
            self.assertGreaterEqual(float(r["server_cpu_s"]) + 0.05, float(r["tx_worker_cpu_s"]), r)
        everyone = rows[1]
        self.assertLess(float(everyone["copies"]), 1.5, "ten daemons on one stream cost about one copy")
        self.assertLess(float(everyone["idle_cpu_pct_median"]), 1.5, "an idle daemon must not poll")

    def test_recovery_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "recovery.csv")
            p = subprocess.run([REPLICAST, "bench", "recovery", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=170)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        self.assertEqual([r["kind"] for r in rows], ["catchup", "snapshot"])
        catchup, snapshot = rows
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreater(float(r["updates_per_s"]), 0, r)
            self.assertGreater(len(r["timeline"].split()), 1, r)
        self.assertEqual(int(catchup["updates"]), 50_000)
        self.assertIn("recovered=50000", catchup["detail"], "the whole gap came by Recover")
        self.assertIn("snapshots=1", snapshot["detail"], "a new replica bootstraps by Snapshot")
        self.assertGreater(int(snapshot["wire_bytes"]), 10_000_000, "the snapshot's 10 MB crossed the server's veth")


if __name__ == "__main__":
    unittest.main(verbosity=2)
