#!/usr/bin/env python3
"""The server on pmd-config/lab-af_packet.toml in the netns lab (scripts/lab):
DPDK's net_af_packet on the server namespace's veth, kernel UDP sockets joined
with source-specific multicast in the client namespaces. A paced run must reach
a clean client whole (every packet, contiguous packet_seq, only from the
server); a client behind the hub's nftables loss rule must lose packets (and
the rule's counter proves it); a client that joined for another source must
get nothing."""
import atexit
import json
import os
import select
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
LAB = os.path.join(SOURCE_ROOT, "scripts", "lab")
RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ssm_receiver.py")
PROFILE = os.path.join(SOURCE_ROOT, "pmd-config", "lab-af_packet.toml")
PREFIX = f"rl{os.getpid() % 10000}"
NET = f"10.{80 + os.getpid() % 40}.{os.getpid() % 200}"
DPDK_PREFIX = f"{PREFIX}-dpdk"  # this run's EAL runtime files, removed by this run only
ENV = dict(os.environ, REPLICAST_LAB=PREFIX, REPLICAST_LAB_NET=NET, REPLICAST_FILE_PREFIX=DPDK_PREFIX)


def lab(*args):
    p = subprocess.run([LAB, *args], capture_output=True, text=True, timeout=120, env=ENV)
    if p.returncode != 0:
        raise AssertionError(f"scripts/lab {' '.join(args)}: {p.stderr}")
    return p.stdout


def lab_down_quietly():
    subprocess.run([LAB, "down"], capture_output=True, timeout=120, env=ENV)
    shutil.rmtree(f"/var/run/dpdk/{DPDK_PREFIX}", ignore_errors=True)


class LabMulticast(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The lab must go whatever ends this run: a failing `up` (no class
        # teardown then), meson's timeout (SIGTERM), or Ctrl-C. SystemExit
        # unwinds normally, so atexit runs; `down` is idempotent.
        atexit.register(lab_down_quietly)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            lab("up", "3")
        except BaseException:
            lab_down_quietly()
            raise

    @classmethod
    def tearDownClass(cls):
        lab("down")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-lab-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{DPDK_PREFIX}", ignore_errors=True)

    def receiver(self, client, source, groups):
        p = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}-c{client}", "/usr/bin/python3", RECEIVER, source, "5000",
                              *groups], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        self.assertEqual(p.stdout.readline().strip(), "ready", p.stderr.read() if p.poll() is not None else "")
        return p

    def wait_count(self, p, want, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.2)
            if ready:
                line = p.stdout.readline()
                if line.startswith("n ") and int(line.split()[1]) >= want:
                    return

    def summary(self, p):
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        return json.loads(out.strip().splitlines()[-1])

    def test_paced_run_reaches_a_clean_ssm_receiver_whole(self):
        store = os.path.join(self.dir, "master")
        src = os.path.join(self.dir, "in.tsv")
        with open(src, "w") as f:
            f.write("".join(f"k{i:05d}\t{os.urandom(300).hex()}\t{i % 2}\n" for i in range(4000)))
        for db in ("orders", "quotes"):
            subprocess.run([REPLICAST, "load", "--store", store, "--db", db, src], check=True, capture_output=True, timeout=60)
        server_ip = lab("addr", "server").strip()
        config = os.path.join(self.dir, "server.toml")
        with open(config, "w") as f:
            f.write(f"""[server]
store = "{store}"
profile = "{PROFILE}"
[streams]
databases = ["orders", "quotes"]
group_range = "239.193.5.0/24"
port = 5000
[bundle]
max_updates = 32
max_bytes = 16384
[pacing]
rate_mbps = 100
packet_gap_ns = 10000
""")
        groups = ["239.193.5.1", "239.193.5.2"]
        clean = self.receiver(1, server_ip, groups)
        lossy = self.receiver(2, server_ip, groups)
        wrong_source = self.receiver(3, "10.1.2.3", groups)
        lab("loss", "2", "20")
        env = dict(ENV, REPLICAST_IFACE="eth0", REPLICAST_SOURCE_IP=server_ip)
        env.pop("REPLICAST_LAB_NET")
        # The profile's file prefix is fixed; this test's EAL runs alone.
        server = subprocess.run(["ip", "netns", "exec", f"{PREFIX}-srv", REPLICAST, "server", "--config", config, "--once"],
                                capture_output=True, text=True, timeout=300, env=env)
        self.assertEqual(server.returncode, 0, server.stderr)
        sent = int(re.search(r"stopped: \d+ chains, \d+ updates, (\d+) packets", server.stdout + server.stderr).group(1))
        self.assertGreater(sent, 1000)

        # The last frames may still be crossing the bridge: wait (bounded) until
        # the clean receiver reports them all, then collect every summary.
        self.wait_count(clean, sent, seconds=10)
        a, b, c = self.summary(clean), self.summary(lossy), self.summary(wrong_source)

        self.assertEqual(a["count"], sent, "the clean client got every packet")
        self.assertEqual(set(a["sources"]), {server_ip})
        for stream, seqs in a["seqs"].items():
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), f"stream {stream}: contiguous, in order")
        self.assertLess(b["count"], sent * 0.9, "the lossy client lost about a fifth")
        self.assertGreater(b["count"], sent * 0.6)
        status = lab("status")
        dropped = int(re.search(r"counter packets (\d+)", status).group(1))
        # The rule drops every kind of frame toward the client; besides ours a
        # few IGMP reports and ARP frames cross the hub during the run.
        lost = sent - b["count"]
        self.assertGreaterEqual(dropped, lost, "the nftables counter accounts for every lost packet")
        self.assertLessEqual(dropped - lost, 32, "and for little else")
        self.assertEqual(c["count"], 0, "source-specific: nothing from a source the client did not ask for")


if __name__ == "__main__":
    unittest.main(verbosity=2)
