#!/usr/bin/env python3
"""Runs every benchmark binary once, briefly, and fails if any benchmark
reported an error.

Benchmarks are measurements, not tests, but each checks its own work (an open
that fails, a chain that does not reassemble, an inflate that does not
round-trip) and reports it with SkipWithError, which Google Benchmark prints
and then exits 0 on. This is what makes such a report fail the suite, and
keeps every benchmark runnable on a clean checkout.

    smoke.py BENCH [BENCH ...]
"""
import json
import os
import subprocess
import sys
import tempfile


def run(binary: str, workdir: str) -> list[str]:
    env = dict(os.environ, REPLICAST_BENCH_DIR=workdir)  # bench_store's stores, removed with workdir
    proc = subprocess.run([os.path.abspath(binary), "--benchmark_min_time=0.01", "--benchmark_format=json"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=300)
    name = os.path.basename(binary)
    if proc.returncode != 0:
        return [f"{name}: exit status {proc.returncode}: {proc.stderr.strip()[-500:]}"]
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        return [f"{name}: output is not Google Benchmark JSON ({e})"]
    benchmarks = report.get("benchmarks", [])
    if not benchmarks:
        return [f"{name}: ran no benchmark"]
    problems = [f"{name}: {b['name']}: {b.get('error_message', 'error')}" for b in benchmarks if b.get("error_occurred")]
    print(f"{name}: {len(benchmarks)} benchmarks, {len(problems)} reported an error")
    return problems


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    with tempfile.TemporaryDirectory(prefix="replicast-bench-smoke-") as workdir:
        for binary in sys.argv[1:]:
            problems += run(binary, workdir)
    for p in problems:
        print("FAIL", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
