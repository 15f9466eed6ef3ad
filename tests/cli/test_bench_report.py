#!/usr/bin/env python3
"""`scripts/bench-report`: every CSV kept in bench/results that has a plotter
is drawn (a PNG per figure, exit 0), and one without a plotter is named, not
fatal. Run on the repository's own results, so a change to a benchmark's
columns or to a plotter that breaks a figure RESULTS.md embeds fails here
(a merge once left the bulk plotter returning nothing, unnoticed)."""
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_ROOT = sys.argv.pop(1)
REPORT = os.path.join(SOURCE_ROOT, "scripts", "bench-report")
RESULTS = os.path.join(SOURCE_ROOT, "bench", "results")


class BenchReport(unittest.TestCase):
    def test_every_kept_result_is_drawn(self):
        csvs = sorted(f for f in os.listdir(RESULTS) if f.endswith(".csv"))
        self.assertTrue(csvs, "bench/results holds the CSVs RESULTS.md draws")
        with tempfile.TemporaryDirectory() as out:
            run = subprocess.run([REPORT, "--out", out, *[os.path.join(RESULTS, f) for f in csvs]],
                                 capture_output=True, text=True, timeout=300)
            self.assertEqual(run.returncode, 0, run.stderr[-3000:])
            pngs = set(os.listdir(out))
            skipped = {line.split(":")[0] for line in run.stdout.splitlines() if "no plotter" in line}
            for f in csvs:
                path = os.path.join(RESULTS, f)
                stem = f.removesuffix(".csv")
                if path in skipped:
                    continue
                self.assertTrue(any(p == f"{stem}.png" or p.startswith(f"{stem}-") for p in pngs),
                                f"{f}: no figure drawn ({run.stdout[-2000:]})")
                for p in (p for p in pngs if p.startswith(stem)):
                    self.assertGreater(os.path.getsize(os.path.join(out, p)), 10_000, f"{p} is an empty figure")
            # The figures the issue asks for have plotters: none of these is skipped.
            for name in ("fanout.csv", "e2e.csv", "bulk.csv", "pace.csv", "recovery.csv", "scale.csv"):
                self.assertNotIn(os.path.join(RESULTS, name), skipped)


if __name__ == "__main__":
    unittest.main(verbosity=2)
