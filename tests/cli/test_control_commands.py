#!/usr/bin/env python3
"""The control-plane commands (databases, subscribe, recover, snapshot, publish,
stats, keys rotate) against a real control server with real TLS on loopback:
certificates from scripts/mkcerts, the server from tests/unit/control
(control_test_server: the real ControlServer over a real master store, with a
test backend standing in for engine/server's, which is not on this branch)."""
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
SERVER = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)

ACCESS = """
[[identity]]
name = "subscriber"
roles = ["subscriber"]
databases = ["orders"]
groups = [2]

[[identity]]
name = "publisher"
roles = ["publisher"]
databases = ["*"]

[[identity]]
name = "admin"
roles = ["admin"]
databases = ["*"]
"""


def run(*args, stdin=None):
    p = subprocess.run([REPLICAST, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class ControlCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rc-cli-control-")
        cls.certs = os.path.join(cls.dir, "certs")
        subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "mkcerts"), cls.certs], check=True,
                       capture_output=True, timeout=60)
        cls.master = os.path.join(cls.dir, "master")
        cls.access = os.path.join(cls.dir, "access.toml")
        with open(cls.access, "w") as f:
            f.write(ACCESS)
        data = "".join(f"k{i}\tvalue-{i}\t{[0, 2, 7][i % 3]}\n" for i in range(30))
        rc, _, err = run("load", "--store", cls.master, "--db", "orders", "-", stdin=data)
        assert rc == 0, err
        cls.server = subprocess.Popen([SERVER, "--store", cls.master, "--certs", cls.certs, "--access", cls.access,
                                       "--stream", "orders"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline()
        assert line.startswith("port="), f"control_test_server said {line!r}: {cls.server.stderr.read()}"
        cls.port = int(line.strip().split("=")[1])

    @classmethod
    def tearDownClass(cls):
        cls.server.send_signal(signal.SIGTERM)
        try:
            cls.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def conn(self, who):
        return ["--server", f"127.0.0.1:{self.port}", "--cert", f"{self.certs}/{who}.pem",
                "--key", f"{self.certs}/{who}.key", "--ca", f"{self.certs}/ca.pem", "--server-name", "localhost"]

    def ok(self, cmd, who, *args, stdin=None):
        rc, out, err = run(*cmd.split(), *self.conn(who), *args, stdin=stdin)
        if rc != 0:
            raise AssertionError(f"replicast {cmd} as {who} exited {rc}: {err}")
        return out

    def checksum(self, store, *args):
        rc, out, err = run("checksum", "--store", store, "--db", "orders", *args)
        self.assertEqual(rc, 0, err)
        return out.strip()

    def test_databases(self):
        j = json.loads(self.ok("databases", "subscriber", "--json"))
        self.assertEqual([d["name"] for d in j["databases"]], ["orders"])
        self.assertTrue(j["databases"][0]["streaming"])
        self.assertGreaterEqual(int(j["databases"][0]["last_lsn"]), 30)
        self.assertIn("db=orders streaming=yes", self.ok("databases", "subscriber"))

    def test_subscribe_hides_keys_unless_asked(self):
        out = self.ok("subscribe", "subscriber", "orders")
        self.assertIn("db=orders stream_id=", out)
        self.assertNotIn("key=", out)
        j = json.loads(self.ok("subscribe", "subscriber", "orders", "--json", "--show-keys"))
        self.assertEqual(len(j["keys"][0]["key"]), 64)
        self.assertEqual(j["reader_groups"], [2])

    def test_publish_with_a_request_id_writes_once(self):
        first = json.loads(self.ok("publish", "publisher", "orders", "pk", "pv", "--request-id", "cli-1", "--json"))
        again = json.loads(self.ok("publish", "publisher", "orders", "pk", "pv", "--request-id", "cli-1", "--json"))
        self.assertEqual(first["duplicates"], 0)
        self.assertEqual(again["duplicates"], 1)
        self.assertEqual(again["first_lsn"], first["first_lsn"])
        rc, out, _ = run("log", "--store", self.master, "--db", "orders", "--from", str(first["first_lsn"]))
        self.assertEqual(rc, 0)
        self.assertEqual(len([l for l in out.splitlines() if "\tpk\t" in l]), 1, out)

    def test_publish_a_file_in_batches(self):
        path = os.path.join(self.dir, "in.jsonl")
        with open(path, "w") as f:
            for i in range(25):
                f.write(json.dumps({"key": f"f{i}", "value": f"v{i}", "group": 2}) + "\n")
        j = json.loads(self.ok("publish", "publisher", "orders", "--file", path, "--batch", "10", "--json"))
        self.assertEqual(j["updates"], 25)
        self.assertEqual(j["calls"], 3)
        # --rate: the last call goes when its last update is due (24 / 100 s after the first).
        t0 = time.monotonic()
        j = json.loads(self.ok("publish", "publisher", "orders", "--file", path, "--batch", "10", "--rate", "100",
                               "--json"))
        self.assertEqual(j["updates"], 25)
        self.assertGreaterEqual(j["seconds"], 0.23)
        self.assertGreaterEqual(time.monotonic() - t0, 0.23)
        bad = os.path.join(self.dir, "bad.tsv")
        with open(bad, "w") as f:
            f.write("a\tb\nonly-a-key-and-a-bad-group\tv\tnotanumber\n")
        rc, _, err = run("publish", *self.conn("publisher"), "orders", "--file", bad)
        self.assertEqual(rc, 2)
        self.assertIn(f"{bad}:2:", err)

    def test_recover_prints_and_applies_to_a_replica(self):
        out = self.ok("recover", "subscriber", "orders", "--from", "1", "--to", "9")
        batches = [l for l in out.splitlines() if l.startswith("batch ")]
        self.assertIn("batch first_lsn=1 ", batches[0])
        self.assertIn("recovered batches=", out)
        self.assertIn("lsns=9 placeholders=0 last_lsn=9", out)  # unreadable updates come as key-only deletes
        replica = os.path.join(self.dir, "replica-recover")
        self.ok("recover", "subscriber", "orders", "--from", "1", "--to-replica", replica)
        # Nothing writes while this test runs (the tests run one after another): the replica
        # holds exactly what the master holds in the groups the subscriber reads.
        self.assertEqual(self.checksum(replica), self.checksum(self.master, "--groups", "2"))
        rc, dump, _ = run("dump", "--store", replica, "--db", "orders")
        self.assertEqual(rc, 0)
        groups = {l.split("\t")[1] for l in dump.splitlines()}
        self.assertEqual(groups, {"0", "2"})

    def test_snapshot_builds_a_verified_replica(self):
        replica = os.path.join(self.dir, "replica-snap")
        out = self.ok("snapshot", "subscriber", "orders", "--to", replica)
        self.assertIn("verified", out)
        j = json.loads(self.ok("snapshot", "subscriber", "orders", "--to", replica, "--json"))
        self.assertTrue(j["verified"])
        self.assertEqual(self.checksum(replica).split(" sha256=")[1], j["sha256"])

    def test_admin_calls(self):
        out = self.ok("stats", "admin")
        self.assertIn("control calls=", out)
        j = json.loads(self.ok("stats", "admin", "--json"))
        self.assertIn("control", j)
        j = json.loads(self.ok("keys rotate", "admin", "orders", "--json"))
        self.assertGreaterEqual(j["next_epoch"], 2)
        rc, _, err = run("stats", *self.conn("subscriber"))
        self.assertEqual(rc, 1)
        self.assertIn("PERMISSION_DENIED", err)

    def test_refusals(self):
        for who in ("rogue", "expired"):
            rc, _, err = run("databases", *self.conn(who))
            self.assertEqual(rc, 1, who)
            self.assertIn("UNAVAILABLE", err)
        rc, _, err = run("databases", "--server", f"127.0.0.1:{self.port}", "--cert", "/nonexistent.pem",
                         "--key", f"{self.certs}/admin.key", "--ca", f"{self.certs}/ca.pem")
        self.assertEqual(rc, 2)
        self.assertIn("/nonexistent.pem", err)
        rc, _, err = run("publish", *self.conn("subscriber"), "orders", "k", "v")
        self.assertEqual(rc, 1)
        self.assertIn("PERMISSION_DENIED", err)

    def test_z_sighup_revokes(self):  # runs last: it changes the access list
        self.ok("databases", "subscriber")
        with open(self.access, "w") as f:
            f.write(ACCESS.replace('name = "subscriber"', 'name = "someone-else"'))
        self.server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rc, _, err = run("databases", *self.conn("subscriber"))
            if rc == 1 and "PERMISSION_DENIED" in err:
                break
            time.sleep(0.05)
        self.assertEqual(rc, 1, err)
        self.assertIn("PERMISSION_DENIED", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
