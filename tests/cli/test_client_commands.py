#!/usr/bin/env python3
"""`replicast client` and `replicast client-stats` as an operator drives them,
without a lab: a bad config is named FILE:LINE: KEY and exits 2; a daemon
whose server is unreachable keeps running, says so, answers client-stats with
the database's state, and exits 0 on SIGTERM; client-stats without a daemon
exits 2 naming the socket. (The daemon against a real server: tests/integration/client.)"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)


def wait_until(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


class ClientCommands(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-cli-client-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.certs = os.path.join(self.dir, "certs")
        subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "mkcerts"), self.certs], check=True, capture_output=True,
                       timeout=120)
        self.sock = os.path.join(self.dir, "stats.sock")

    def config(self, extra_receive=""):
        path = os.path.join(self.dir, "client.toml")
        with open(path, "w") as f:
            f.write(f"""[control]
server = "127.0.0.1:1"
certificate = "{self.certs}/subscriber.pem"
private_key = "{self.certs}/subscriber.key"
ca = "{self.certs}/ca.pem"
deadline_ms = 500
retry_ms = 100

[replica]
store = "replica"
databases = ["orders"]

[receive]
interface = "lo"
{extra_receive}
[stats]
socket = "{self.sock}"
log_interval_ms = 0
""")
        return path

    def test_a_bad_config_is_named_and_exits_2(self):
        path = self.config(extra_receive="batch = 0\n")
        p = subprocess.run([REPLICAST, "client", "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        with open(path) as f:
            line = 1 + f.read().split("\n").index("batch = 0")
        self.assertIn(f"{path}:{line}: receive.batch", p.stderr)
        self.assertIn("receive.batch", p.stderr)
        self.assertIn("1..1024", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "replica")), "nothing created for a bad config")

    def test_unreachable_server_keeps_running_answers_stats_and_stops_cleanly(self):
        proc = subprocess.Popen([REPLICAST, "client", "--config", self.config()], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            def stats():
                p = subprocess.run([REPLICAST, "client-stats", "--socket", self.sock], capture_output=True, text=True,
                                   timeout=10)
                return json.loads(p.stdout) if p.returncode == 0 else None

            doc = wait_until("client-stats answering", stats, 20)
            self.assertEqual([d["name"] for d in doc["databases"]], ["orders"])
            db = wait_until("the database marked failed",
                            lambda: next((d for d in (stats() or {"databases": []})["databases"]
                                          if d["state"] == "failed"), None), 20)
            self.assertEqual(db["applied_lsn"], 0)
            self.assertEqual(proc.poll(), None, "the daemon keeps trying")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("cannot follow: UNAVAILABLE", err)
        self.assertLessEqual(err.count("cannot follow"), 3, "retries every 100 ms, but the line is rate-limited")
        self.assertFalse(os.path.exists(self.sock), "the stats socket is removed on exit")

    def test_client_stats_without_a_daemon_names_the_socket(self):
        p = subprocess.run([REPLICAST, "client-stats", "--socket", self.sock], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(self.sock, p.stderr)
        self.assertIn("connect", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
