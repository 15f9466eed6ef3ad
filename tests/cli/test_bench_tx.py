#!/usr/bin/env python3
"""`replicast bench tx` as an operator runs it, briefly, on pmd-config/null.toml
without hugepages: it reports a sender that sent, the references it ran, who
computed the checksums and which ipsec-mb path sealed; a narrower path is
taken when asked (and then every sealer reports it), and bad options are named."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
PROFILE = os.path.join(SOURCE_ROOT, "pmd-config", "null.toml")
PREFIX = f"rc-bench-test-{os.getpid()}"


def cpu_has(flag):
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return flag in line.split()
    return False


def bench(*extra):
    env = dict(os.environ, REPLICAST_FILE_PREFIX=PREFIX)
    return subprocess.run([REPLICAST, "bench", "tx", "--profile", PROFILE, "--no-huge", "--no-kernel", "--json",
                           "--payload", "1400", "--seconds", "0.4", "--compare-seconds", "0.2", "--slice-ms", "100", *extra],
                          capture_output=True, text=True, timeout=120, env=env)


class BenchTx(unittest.TestCase):
    def tearDown(self):
        shutil.rmtree(f"/var/run/dpdk/{PREFIX}", ignore_errors=True)

    def result(self, *extra):
        p = bench(*extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
        self.assertEqual(len(lines), 1, p.stdout)
        return json.loads(lines[0])

    def test_reports_a_sender_that_sent_and_its_references(self):
        r = self.result()
        self.assertGreater(r["packets"], 1000)
        self.assertGreater(r["packets_per_s"], 0)
        self.assertGreater(r["seal_only_packets_per_s"], 0)
        self.assertGreater(r["seal_records_packets_per_s"], 0)
        # 1400-byte payloads: 42 + 8 + 24 + 1400 + 16 bytes a frame.
        self.assertAlmostEqual(r["gbit_per_s"] * 1e9 / 8 / r["packets_per_s"], 42 + 24 + 1400 + 16, delta=1)
        self.assertTrue(r["checksums"].startswith("software ("), r["checksums"])
        self.assertTrue(r["crypto"] and r["crypto"] != "unknown", r["crypto"])
        # --no-huge: said plainly, with the page size the EAL's memory really has.
        self.assertIs(r["hugepages"], False)
        self.assertEqual(r["page_kib"], os.sysconf("SC_PAGESIZE") // 1024)
        self.assertIn("NOT hugepages (--no-huge was given)", r["memory"])
        # Interleaved: every round has a slice of ours and of each reference
        # (none of the kernel's: --no-kernel), and each figure is the median
        # of the rounds', recomputed here from the slices the JSON lists.
        slices = r["slices"]
        self.assertEqual(len(slices), r["rounds"])
        self.assertGreaterEqual(r["rounds"], 3)
        self.assertTrue(all(x["ours"] > 0 and x["seal_only"] > 0 and x["seal_records"] > 0 and x["kernel"] == 0
                            for x in slices), slices)
        self.assertAlmostEqual(r["packets_per_s"], statistics.median(x["ours"] for x in slices), delta=0.5)
        ratios = [x["ours"] / x["seal_only"] for x in slices]
        self.assertAlmostEqual(r["vs_seal_only"]["median"], statistics.median(ratios), delta=1e-9)
        self.assertEqual((r["vs_seal_only"]["min"], r["vs_seal_only"]["max"]), (min(ratios), max(ratios)))
        self.assertLessEqual(r["vs_seal_only"]["p25"], r["vs_seal_only"]["median"])
        self.assertLessEqual(r["vs_seal_only"]["median"], r["vs_seal_only"]["p75"])
        self.assertAlmostEqual(r["vs_seal_records"]["median"],
                               statistics.median(x["ours"] / x["seal_records"] for x in slices), delta=1e-9)
        self.assertNotIn("vs_kernel", r)
        # The sender's own cost per packet beyond the seal: the median of the rounds'.
        self.assertAlmostEqual(r["beyond_seal_ns"],
                               statistics.median(1e9 / x["ours"] - 1e9 / x["seal_only"] for x in slices), delta=1e-6)
        self.assertEqual(r["beyond_seal"]["median"], r["beyond_seal_ns"])
        # The same per CPU second of the core (the lcore threads' own CPU time).
        for x in slices:
            self.assertGreater(x["cpu"]["ours"], 0)
            self.assertGreater(x["cpu"]["seal_only"], 0)
            # A thread gets at most the wall time of its slice (a little slack for the clocks' reads).
            self.assertGreaterEqual(x["cpu"]["ours"], x["ours"] * 0.98)
        self.assertAlmostEqual(r["cpu_vs_seal_only"]["median"],
                               statistics.median(x["cpu"]["ours"] / x["cpu"]["seal_only"] for x in slices), delta=1e-9)
        self.assertAlmostEqual(r["cpu_beyond_seal_ns"],
                               statistics.median(1e9 / x["cpu"]["ours"] - 1e9 / x["cpu"]["seal_only"] for x in slices),
                               delta=1e-6)

    def test_checksums_left_to_the_port_when_asked(self):
        self.assertEqual(self.result("--assume-offload")["checksums"], "offloaded (assumed)")

    def test_a_narrower_crypto_path_when_asked(self):
        # ipsec-mb's AVX2 path also needs AES-NI, PCLMULQDQ and BMI2.
        if not all(cpu_has(f) for f in ("avx2", "aes", "pclmulqdq", "bmi2")):
            p = bench("--crypto-arch", "avx2")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("cannot run the avx2 code path", p.stderr)
            return
        r = self.result("--crypto-arch", "avx2")
        self.assertEqual(r["crypto"], "AVX2")
        self.assertGreater(r["packets"], 1000)

    def test_bad_options_are_named(self):
        p = bench("--crypto-arch", "avx3")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--crypto-arch", p.stderr)
        self.assertIn("'avx3' is not one of", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
