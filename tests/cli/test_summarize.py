#!/usr/bin/env python3
"""scripts/lib/summarize.py, the closing line of scripts/test: what it counts,
and that a phase which failed without leaving a failed test behind (a build
that broke, a suite that could not run) still makes the line say so."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SUMMARIZE = sys.argv.pop(1)


def summarize(results):
    p = subprocess.run([sys.executable, SUMMARIZE, results], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip()


class Summary(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rc-summary-")
        self.results = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.results, name), "w") as f:
            f.write(text)

    def suite(self, name, *results):
        """A meson test log (one JSON object per test) as scripts/test keeps it."""
        self.write(name, "".join(json.dumps({"result": r, "command": [f"/x/t{i}"]}) + "\n" for i, r in enumerate(results)))

    def test_counts_tests_and_fuzz_targets(self):
        self.suite("unit.json", "OK", "OK", "FAIL", "SKIP")
        self.write("fuzz.counts", "3 0\n")
        self.assertEqual(summarize(self.results), (1, "5 passed, 1 failed, 1 skipped"))

    def test_a_failed_phase_without_test_results_is_a_failure(self):
        self.suite("unit.json", "OK")
        self.write("phases.failed", "asan-build\n")
        self.assertEqual(summarize(self.results), (1, "1 passed, 1 failed"))

    def test_a_failed_suite_is_not_counted_twice(self):
        self.suite("unit.json", "FAIL")
        self.write("phases.failed", "unit\nfuzz:fuzz_packet\n")
        self.write("fuzz.counts", "0 1\n")
        self.assertEqual(summarize(self.results), (1, "0 passed, 2 failed"))

    def test_all_green(self):
        self.suite("unit.json", "OK")
        self.write("phases.failed", "\n")
        self.assertEqual(summarize(self.results), (0, "1 passed, 0 failed"))


if __name__ == "__main__":
    unittest.main()
