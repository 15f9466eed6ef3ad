#!/usr/bin/env python3
"""scripts/setup on a machine with hugepages reserved but no hugetlbfs mounted
(a fresh Debian 12 without systemd's mount): it mounts one, once, where
dpdk-hugepages.py --setup does; run again, it mounts nothing more.

Runs in a private mount namespace (unshare) that starts with every hugetlbfs
unmounted, so the machine's own mounts are neither needed nor touched; the
reservation, which is not namespaced, is left as it is (the test asks for
exactly what is reserved)."""
import os
import subprocess
import sys
import unittest

SETUP = os.path.abspath(sys.argv.pop(1))


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@unittest.skipUnless(os.geteuid() == 0, "needs root (a mount namespace and mount)")
class SetupMountsHugetlbfs(unittest.TestCase):
    def test_mounts_once_what_it_reserves(self):
        total, page_kb = meminfo("HugePages_Total"), meminfo("Hugepagesize")
        if total == 0:
            self.skipTest("no hugepages reserved here, and this test reserves none")
        script = f"""
set -e
awk '$3 == "hugetlbfs" {{print $2}}' /proc/self/mounts | sort -r | xargs -r -n1 umount
echo "--- before"; awk '$3 == "hugetlbfs"' /proc/self/mounts
echo "--- first"; {SETUP} --huge-only 2>&1
echo "--- second"; {SETUP} --huge-only 2>&1
echo "--- after"; awk '$3 == "hugetlbfs"' /proc/self/mounts
"""
        env = dict(os.environ, REPLICAST_HUGEPAGES_MB=str(total * page_kb // 1024))
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        before = out.split("--- before\n")[1].split("--- first")[0]
        first = out.split("--- first\n")[1].split("--- second")[0]
        second = out.split("--- second\n")[1].split("--- after")[0]
        after = out.split("--- after\n")[1]
        self.assertEqual(before.strip(), "", "the namespace should start with no hugetlbfs")
        self.assertIn("already reserved", first)
        self.assertIn(f"mounted hugetlbfs ({page_kb} kB pages) at /dev/hugepages", first)
        self.assertIn("hugetlbfs already mounted at /dev/hugepages", second)
        mounts = [line.split() for line in after.splitlines() if line.strip()]
        self.assertEqual(len(mounts), 1, after)
        self.assertEqual(mounts[0][1:3], ["/dev/hugepages", "hugetlbfs"])
        self.assertIn(f"pagesize={page_kb // 1024}M", mounts[0][3])


if __name__ == "__main__":
    unittest.main(verbosity=2)
