#!/usr/bin/env python3
"""`replicast bench NAME` for the lab benchmarks (tools/lab_bench_exec.hpp):
`replicast bench --help` lists each with its knobs, and every option it names
is one the script really takes; `bench NAME` hands its arguments to
bench/lab/NAME.py untouched (its own --help and its own usage errors come
back), with REPLICAST_BIN naming the binary that was run. Needs no root: it
never gets as far as a lab."""
import os
import re
import subprocess
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
LAB_BENCHES = ["fanout", "e2e", "bulk", "scale", "recovery"]


def run(*args):
    return subprocess.run([REPLICAST, *args], capture_output=True, text=True, timeout=60)


class BenchLab(unittest.TestCase):
    def test_bench_help_lists_each_lab_benchmark_and_only_real_knobs(self):
        p = run("bench", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tx", p.stdout)
        for name in LAB_BENCHES:
            self.assertRegex(p.stdout, rf"\n\s+{name}\s")
            paragraph = p.stdout.split(f"\n{name}: ", 1)[1].split("\n\n", 1)[0]
            knobs = set(re.findall(r"(--[a-z][a-z-]+)", paragraph))
            self.assertGreaterEqual(len(knobs), 5, paragraph)
            script_help = subprocess.run([sys.executable, os.path.join(SOURCE_ROOT, "bench", "lab", f"{name}.py"),
                                          "--help"], capture_output=True, text=True, timeout=60).stdout
            for knob in knobs:
                self.assertRegex(script_help, rf"(\n\s+|, ){knob}\b", f"`bench --help` names {knob}, {name}.py lacks it")

    def test_bench_name_runs_the_script_with_its_arguments(self):
        for name in LAB_BENCHES:
            p = run("bench", name, "--help")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(f"usage: replicast bench {name}", p.stdout)
            self.assertIn("--quick", p.stdout)
        # A usage error is the script's own, naming the option: the arguments got there.
        p = run("bench", "fanout", "--clients", "33")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--clients", p.stderr)
        self.assertIn("1..32", p.stderr)

    def test_unknown_benchmark_is_a_usage_error(self):
        # CLI11 takes an unknown name for a stray argument: a usage error, nothing run.
        p = run("bench", "no-such-bench")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("subcommand is required", p.stderr)
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
