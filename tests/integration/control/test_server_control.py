#!/usr/bin/env python3
"""The control plane inside a real `replicast server` (pcap profile: frames to
a capture file), driven with the `replicast` CLI over mutual TLS on loopback,
with certificates from scripts/mkcerts:

- Publish commits through the store's hook: the update is in the log once
  (a retried request id writes nothing) and goes out on the stream;
- RotateKey during the stream: the announced key is handed out by Keys before
  its switch, the capture shows the announcement and the switch exactly at the
  announced packet_seq;
- revocation: after SIGHUP with an access list that no longer names an
  identity, its Keys fail at once and the stream's key changes soon after;
- every packet of the capture opens with a key some identity was given by
  Subscribe or Keys (the capture is decoded with a key log made only from
  those answers, never from the server's key log)."""
import json
import os
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
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

PROFILE = os.path.join(SOURCE_ROOT, "pmd-config", "pcap.toml")
MKCERTS = os.path.join(SOURCE_ROOT, "scripts", "mkcerts")


def run(*args, check=True):
    p = subprocess.run([REPLICAST, *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"replicast {' '.join(args[:2])}: exit {p.returncode}: {p.stderr}")
    return p


ACL_ALL = """
[[identity]]
name = "subscriber"
roles = ["subscriber"]
databases = ["*"]

[[identity]]
name = "reader2"
roles = ["subscriber"]
databases = ["orders"]

[[identity]]
name = "publisher"
roles = ["publisher"]
databases = ["orders"]

[[identity]]
name = "admin"
roles = ["admin"]
databases = ["*"]
"""


class ServerControl(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-control-")
        self.prefix = f"rcc{os.getpid()}"
        self.certs = os.path.join(self.dir, "certs")
        subprocess.run([MKCERTS, self.certs, "--client", "reader2"], check=True, capture_output=True, timeout=120)
        self.store = os.path.join(self.dir, "master")
        for db, n in (("orders", 50), ("quotes", 10)):
            src = os.path.join(self.dir, f"{db}.tsv")
            with open(src, "w") as f:
                f.write("".join(f"{db[0]}{i}\tvalue {i}\n" for i in range(n)))
            run("load", "--store", self.store, "--db", db, src)
        self.acl = os.path.join(self.dir, "access.toml")
        with open(self.acl, "w") as f:
            f.write(ACL_ALL)
        self.capture = os.path.join(self.dir, "cap.pcap")
        config = os.path.join(self.dir, "server.toml")
        with open(config, "w") as f:
            f.write(f"""[server]
store = "{self.store}"
profile = "{PROFILE}"
stats_interval_ms = 200
[streams]
databases = ["orders", "quotes"]
[bundle]
max_updates = 16
[control]
listen = "127.0.0.1:0"
certificate = "{self.certs}/server.pem"
private_key = "{self.certs}/server.key"
ca = "{self.certs}/ca.pem"
access_list = "{self.acl}"
""")
        env = dict(os.environ, REPLICAST_PCAP_OUT=self.capture, REPLICAST_FILE_PREFIX=self.prefix)
        self.server = labrun.Process("server", [REPLICAST, "server", "--config", config, "--no-huge"],
                                     os.path.join(self.dir, "server.log"), env=env)
        self.port = int(self.server.wait_for_line(r"control service on \S+ \(port (\d+)\)", 60).group(1))

    def tearDown(self):
        self.server.kill()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def as_(self, who, *args, check=True):
        return run(*args, "--server", f"127.0.0.1:{self.port}", "--cert", f"{self.certs}/{who}.pem",
                   "--key", f"{self.certs}/{who}.key", "--ca", f"{self.certs}/ca.pem", "--server-name", "localhost",
                   check=check)

    def keys(self, who, db="orders"):
        return json.loads(self.as_(who, "keys", "show", db, "--show-keys", "--json").stdout)

    def test_publish_rotate_and_revoke_on_a_running_server(self):
        given = {}  # (stream_id, epoch) -> key hex, from Subscribe and Keys answers only

        def remember(k):
            for e in k["keys"]:
                given[(k["stream_id"], e["epoch"])] = e["key"]

        sub = json.loads(self.as_("subscriber", "subscribe", "orders", "--show-keys", "--json").stdout)
        self.assertEqual(sub["group"].split(".")[0], "239")
        first = self.keys("reader2")
        remember(first)
        quotes = self.keys("subscriber", "quotes")
        remember(quotes)
        stream = first["stream_id"]
        e1 = first["key_epoch"]

        # Publish, then the same request again: one write, the same first LSN.
        a = json.loads(self.as_("publisher", "publish", "orders", "pub/1", "published", "--request-id", "req-1",
                                "--json").stdout)
        b = json.loads(self.as_("publisher", "publish", "orders", "pub/1", "published", "--request-id", "req-1",
                                "--json").stdout)
        self.assertEqual(a["first_lsn"], 51)
        self.assertEqual(b["first_lsn"], a["first_lsn"])
        self.assertEqual(a["duplicates"], 0)
        self.assertEqual(b["duplicates"], 1)
        log = run("log", "--store", self.store, "--db", "orders").stdout.splitlines()
        self.assertEqual(len(log), 51, "the retried Publish wrote nothing")
        self.assertIn("pub/1", log[-1])
        denied = self.as_("publisher", "publish", "quotes", "x", "y", check=False)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("PERMISSION_DENIED", denied.stderr)

        # RotateKey: Keys hands out the announced key before the switch.
        rot = json.loads(self.as_("admin", "keys", "rotate", "orders", "--json").stdout)
        e2 = rot["next_epoch"]
        self.assertEqual(e2, e1 + 1)
        announced = self.keys("reader2")
        remember(announced)
        self.assertEqual(announced["key_epoch"], e1, "still sealing with the old key during the announcement")
        self.assertIn(e2, [e["epoch"] for e in announced["keys"]])
        labrun.wait_until("the switch to the rotated key", lambda: self.keys("reader2")["key_epoch"] == e2, 10)
        remember(self.keys("subscriber"))

        # Revocation: reader2 leaves the access list; SIGHUP reloads it.
        with open(self.acl, "w") as f:
            f.write(ACL_ALL.replace('name = "reader2"', 'name = "someone-else"'))
        self.server.signal(signal.SIGHUP)

        def refused():
            p = self.as_("reader2", "keys", "show", "orders", check=False)
            return p.returncode != 0 and "PERMISSION_DENIED" in p.stderr

        labrun.wait_until("reader2's Keys refused after SIGHUP", refused, 10)
        self.server.wait_for_line(r"access list reloaded", 10)

        def rotated_again():
            k = self.keys("subscriber")
            remember(k)
            return k["key_epoch"] > e2

        labrun.wait_until("a new key after the revocation", rotated_again, 10)
        e3 = self.keys("subscriber")["key_epoch"]
        self.assertEqual(self.keys("subscriber", "quotes")["key_epoch"], quotes["key_epoch"],
                         "reader2 could not read quotes: its key stays")
        self.as_("publisher", "publish", "orders", "pub/2", "after revocation")
        labrun.wait_until("pub/2 multicast", lambda: re.search(r"stream \d+ \(orders\): multicast_lsn=52 ",
                                                               self.server.output()), 10)

        self.assertEqual(self.server.stop(), 0, self.server.output()[-3000:])

        # Every packet opens with a key handed out over the control plane.
        keylog = os.path.join(self.dir, "given.keys")
        with open(keylog, "w") as f:
            for (sid, epoch), key in sorted(given.items()):
                f.write(f"REPLICAST_KEY {sid} {epoch} {key}\n")
        d = subprocess.run([REPLICAST, "decode", self.capture, "--key-log", keylog, "--json"], capture_output=True,
                           text=True, timeout=120)
        lines = labrun.json_lines(d.stdout)
        summary, frames = lines[-1]["summary"], [x for x in lines[:-1] if x.get("stream_id") == stream]
        self.assertEqual(d.returncode, 0, d.stdout[-2000:])
        self.assertEqual(summary["malformed"] + summary["forged"], 0)
        self.assertEqual(summary["not_opened"], 0, "a packet sealed with a key no identity was given")
        self.assertTrue(all(x["open"] == "opened" for x in frames))

        # Announcements, then the switch exactly at the announced packet_seq.
        for epoch in (e2, e3):
            announced_at = {x["key_change"]["first_seq"] for x in frames
                            if "key_change" in x and x["key_change"]["next_epoch"] == epoch}
            self.assertEqual(len(announced_at), 1, f"epoch {epoch} announced once, with one first_seq")
            first_seq = announced_at.pop()
            self.assertTrue(all(x["key_epoch"] < epoch for x in frames if x["packet_seq"] < first_seq))
            self.assertTrue(all(x["key_epoch"] >= epoch for x in frames if x["packet_seq"] >= first_seq))

        # Both published LSNs went out on the stream, in a chain.
        def carried(lsn):
            return any("chain" in x and x["chain"]["first_lsn"] <= lsn < x["chain"]["first_lsn"] + x["chain"]["update_count"]
                       for x in frames)

        self.assertTrue(carried(51) and carried(52))


if __name__ == "__main__":
    unittest.main(verbosity=2)
