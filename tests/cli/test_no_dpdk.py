#!/usr/bin/env python3
"""`replicast` runs on replica hosts without DPDK: it links no librte_ library,
and the DPDK commands (`server`, `bench tx`) still work through it, executed by
`replicast-dpdk` beside it with the same arguments. Without that executable
they fail with a message naming it, and `version` reports DPDK's version from
the build instead of asking it."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

REPLICAST = os.path.abspath(sys.argv.pop(1))
REPLICAST_DPDK = os.path.abspath(sys.argv.pop(1))


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def linked(exe):
    p = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=60, check=True)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


class LinkedLibraries(unittest.TestCase):
    def test_replicast_links_no_dpdk(self):
        libs = linked(REPLICAST)
        self.assertEqual([lib for lib in libs if lib.startswith("librte_")], [], libs)
        # Only DPDK's AF_XDP port needs libbpf and libxdp (libnuma, libfdt: DPDK's EAL).
        for gone in ("libbpf.so", "libxdp.so", "libnuma.so"):
            self.assertEqual([lib for lib in libs if lib.startswith(gone)], [], libs)
        # What the replica daemon needs stays: ipsec-mb, ISA-L, LMDB, gRPC, and libpcap for decode.
        for kept in ("libIPSec_MB.so", "libisal.so", "liblmdb.so", "libgrpc++.so", "libpcap.so"):
            self.assertTrue(any(lib.startswith(kept) for lib in libs), f"{kept} not in {libs}")

    def test_the_dpdk_half_does_link_dpdk(self):
        # Guards the check above: ldd's output is read the way it is written.
        self.assertIn("librte_eal.so", " ".join(linked(REPLICAST_DPDK)))


class ThroughTheExec(unittest.TestCase):
    def test_server_help(self):
        p = run(REPLICAST, "server", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        for option in ("--config", "--once", "--no-huge"):
            self.assertIn(option, p.stdout)

    def test_bench_tx_help(self):
        p = run(REPLICAST, "bench", "tx", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        for option in ("--profile", "--crypto-arch", "--json"):
            self.assertIn(option, p.stdout)

    def test_arguments_pass_through_whole(self):
        p = run(REPLICAST, "server", "--config", "/nonexistent/replicast.toml")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--config", p.stderr)
        self.assertIn("/nonexistent/replicast.toml", p.stderr)

    def test_bench_without_a_benchmark_is_a_usage_error(self):
        p = run(REPLICAST, "bench")
        self.assertEqual(p.returncode, 2)
        self.assertIn("subcommand", p.stderr.lower() + p.stdout.lower())

    def test_help_lists_the_dpdk_commands(self):
        p = run(REPLICAST, "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("server", p.stdout)
        self.assertIn("bench", p.stdout)
        p = run(REPLICAST, "bench", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tx", p.stdout)

    def test_version_asks_the_dpdk_half(self):
        p = run(REPLICAST, "version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"DPDK half (server, bench tx): {REPLICAST_DPDK}\n", p.stdout)
        # Its running version, which only the DPDK executable can know.
        self.assertRegex(p.stdout, r"\n  DPDK +\S+ \(running DPDK ")
        self.assertRegex(p.stdout, r"\n  LMDB ")
        self.assertNotIn("another build", p.stdout)

    def test_found_through_a_symlink(self):
        # "Beside it" is beside the real file: /proc/self/exe resolves links.
        with tempfile.TemporaryDirectory() as d:
            link = os.path.join(d, "replicast")
            os.symlink(REPLICAST, link)
            p = run(link, "server", "--help")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("--config", p.stdout)


class WithoutTheDpdkHalf(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-nodpdk-")
        self.alone = os.path.join(self.dir, "replicast")
        shutil.copy2(REPLICAST, self.alone)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_dpdk_commands_name_what_is_missing(self):
        for args in (["server", "--help"], ["bench", "tx", "--json"]):
            p = run(self.alone, *args)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("replicast-dpdk", p.stderr)
            self.assertIn(os.path.join(self.dir, "replicast-dpdk"), p.stderr)
            self.assertIn("not installed", p.stderr)

    def test_other_commands_run(self):
        store = os.path.join(self.dir, "store")
        p = run(self.alone, "put", "--store", store, "--db", "orders", "order/1", "qty=3")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run(self.alone, "get", "--store", store, "--db", "orders", "order/1")
        self.assertEqual((p.returncode, p.stdout), (0, "qty=3"), p.stderr)

    def test_version_reports_dpdk_from_the_build(self):
        p = run(self.alone, "version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("DPDK half (server, bench tx): not installed", p.stdout)
        self.assertRegex(p.stdout, r"\n  DPDK +\d+\.\d+")
        self.assertNotIn("running DPDK", p.stdout)

    def test_version_says_why_a_broken_dpdk_half_does_not_run(self):
        fake = os.path.join(self.dir, "replicast-dpdk")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'librte_eal.so.23: cannot open shared object file' >&2\nexit 127\n")
        os.chmod(fake, 0o755)
        p = run(self.alone, "version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("does not run (exit 127: librte_eal.so.23: cannot open shared object file)", p.stdout)
        self.assertRegex(p.stdout, r"\n  DPDK +\d+\.\d+")

    def test_version_names_a_dpdk_half_of_another_build(self):
        fake = os.path.join(self.dir, "replicast-dpdk")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'replicast-dpdk 9.9.9 (the DPDK half of replicast: server, bench tx)'\n"
                    "echo '  DPDK          99.11.0 (running DPDK 99.11.0)'\n")
        os.chmod(fake, 0o755)
        p = run(self.alone, "version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("-- another build: replicast-dpdk 9.9.9", p.stdout)
        self.assertIn("  DPDK          99.11.0 (running DPDK 99.11.0)\n", p.stdout)

    def test_version_does_not_wait_forever_on_a_hung_dpdk_half(self):
        # It closes its output and hangs: `version` gives up after its 10 s and kills it.
        fake = os.path.join(self.dir, "replicast-dpdk")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nexec >&- 2>&-\nexec sleep 30\n")
        os.chmod(fake, 0o755)
        start = time.monotonic()
        p = run(self.alone, "version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.monotonic() - start, 25)
        self.assertIn("does not run (no answer within 10 s)", p.stdout)
        self.assertRegex(p.stdout, r"\n  DPDK +\d+\.\d+")

    def test_an_unrunnable_dpdk_half_is_named(self):
        fake = os.path.join(self.dir, "replicast-dpdk")
        with open(fake, "w") as f:
            f.write("not a program\n")
        os.chmod(fake, 0o644)
        p = run(self.alone, "server", "--help")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot be run: Permission denied", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
