#!/usr/bin/env python3
"""`replicast bench pace --quick` as an operator runs it: both profiles (net_null,
and net_af_packet on a veth pair of the run's own network namespace, captured
at the far end), the limit and two rates each, progress while it runs, the
table, and a CSV whose rows say what was asked and what was measured."""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
PREFIX = f"rc-pace-test-{os.getpid()}"


class BenchPace(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-pace-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{PREFIX}", ignore_errors=True)

    def test_quick_grid_on_both_profiles(self):
        out = os.path.join(self.dir, "results", "pace.csv")
        env = dict(os.environ, REPLICAST_FILE_PREFIX=PREFIX)
        p = subprocess.run([REPLICAST, "bench", "pace", "--quick", "--no-huge", "--csv", out,
                            "--profile", os.path.join(SOURCE_ROOT, "pmd-config", "null.toml"),
                            "--profile", os.path.join(SOURCE_ROOT, "pmd-config", "lab-af_packet.toml")],
                           capture_output=True, text=True, timeout=150, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Progress: a line per slice, the limit first.
        self.assertIn("pace null unpaced (the limit):", p.stdout)
        self.assertIn("pace lab-af_packet 100 Mbit/s burst 0 us (round 1/1):", p.stdout)
        self.assertIn(f"wrote {out}", p.stdout)
        with open(out) as f:
            rows = list(csv.DictReader(f))
        by = {(r["profile"], int(r["requested_mbps"])): r for r in rows}
        for profile, source in (("null", "tsc"), ("lab-af_packet", "capture")):
            limit = float(by[(profile, 0)]["achieved_mbps"])
            self.assertGreater(limit, 0, profile)
            for rate in (100, 1000):
                if rate > limit and rate != 100:
                    continue
                r = by[(profile, rate)]
                self.assertEqual(r["gap_source"], source)
                self.assertEqual(r["burst_bytes"], "0")
                achieved = float(r["achieved_mbps"])
                # Never above the cap (a slice's edges may add a frame or two);
                # below it by the worker's time off its CPU at most, so not zero.
                self.assertLessEqual(achieved, rate * 1.02, r)
                self.assertGreater(achieved, 0, r)
                self.assertGreater(int(r["gaps"]), 10, r)
                # 1400-byte payloads: 1506 bytes on the wire, 12.048 us at 1 Gbit/s.
                self.assertAlmostEqual(float(r["ideal_gap_ns"]), 1506 * 8 * 1000 / rate, delta=1)
                # Strict pacing: no two frames closer than the rate allows; the
                # median gap is the ideal one (a frame's descheduled slices
                # only lengthen gaps). Capture stamps are taken by the kernel as
                # the frames cross the veth, so allow them their jitter.
                slack = 0.02 if source == "tsc" else 0.25
                self.assertGreater(float(r["gap_p50_ns"]), float(r["ideal_gap_ns"]) * (1 - slack), r)
                self.assertLessEqual(float(r["gap_p50_ns"]), float(r["gap_p99_ns"]))
                self.assertLessEqual(float(r["gap_p99_ns"]), float(r["gap_max_ns"]))
                if source == "capture":
                    self.assertGreater(float(r["capture_coverage"]), 0.5, r)
                    self.assertLessEqual(float(r["capture_mbps"]), rate * 1.05, r)

    def test_bad_options_are_named(self):
        p = subprocess.run([REPLICAST, "bench", "pace", "--rounds", "0"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--rounds", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
