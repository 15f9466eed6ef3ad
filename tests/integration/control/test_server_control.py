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
  those answers, never from the server's key log);
- a stream started by Subscribe (a database not in streams.databases): it
  runs at once (Databases says so, its heartbeats and chains are in the
  capture), stops idle_stop_seconds after its last subscriber left (no packet
  of it in the capture from then on, Databases says not streaming, Keys
  refused), and a Subscribe starts it again: same stream_id, the next key
  epoch, packet_seq continuing exactly where it stopped;
- subscriptions are leases: one nobody renews (the CLI sends no statistics)
  runs out, Stats shows its holder until then, and the stream stops
  lease_seconds + idle_stop_seconds after the Subscribe;
- Subscribe's errors as the caller sees them: every streams.max_streams slot
  taken (RESOURCE_EXHAUSTED, naming the limit; it starts once a slot is
  free), and a loop that cannot start the stream in time (held on the
  store's write lock by another process: UNAVAILABLE after 5 s; the start
  still happens, and a retry gets the stream)."""
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
databases = ["orders", "events"]

[[identity]]
name = "admin"
roles = ["admin"]
databases = ["*"]
"""


# Per test: [streams] keys over the defaults below.
STREAMS = {
    "test_a_lease_nobody_renews_runs_out_and_the_stream_stops": {"lease_seconds": 3},
    "test_subscribe_past_max_streams_is_resource_exhausted": {"max_streams": 3},
}


class ServerControl(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-control-")
        self.prefix = f"rcc{os.getpid()}"
        self.certs = os.path.join(self.dir, "certs")
        subprocess.run([MKCERTS, self.certs, "--client", "reader2"], check=True, capture_output=True, timeout=120)
        self.store = os.path.join(self.dir, "master")
        for db, n in (("orders", 50), ("quotes", 10), ("events", 5), ("extra", 3)):
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
idle_stop_seconds = 2
{"".join(f"{k} = {v}{chr(10)}" for k, v in STREAMS.get(self._testMethodName, {}).items())}[bundle]
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

    def databases(self):
        return {d["name"]: d for d in json.loads(self.as_("subscriber", "databases", "--json").stdout)["databases"]}

    def test_subscribe_starts_a_stream_and_idle_stops_it(self):
        idle = 2  # streams.idle_stop_seconds above
        self.assertFalse(self.databases()["events"]["streaming"], "not in streams.databases: not multicast until asked")
        self.assertIn("events", self.as_("subscriber", "keys", "show", "events", check=False).stderr)

        # Subscribe starts it: a group of its own, a key, and Databases says streaming.
        t_start1 = time.time_ns()
        sub1 = json.loads(self.as_("subscriber", "subscribe", "events", "--show-keys", "--json").stdout)
        stream, e1 = sub1["stream_id"], sub1["key_epoch"]
        self.assertEqual(sub1["group"], "239.192.0.3", "the first group after the two configured streams'")
        self.assertGreater(e1, 0)
        given = {(stream, k["epoch"]): k["key"] for k in sub1["keys"]}
        self.assertIn((stream, e1), given)
        info = self.databases()["events"]
        self.assertTrue(info["streaming"])
        self.assertEqual(info["stream_id"], stream)
        self.server.wait_for_line(r"stream \d+ db=events .* started on Subscribe", 10)
        self.as_("publisher", "publish", "events", "ev/6", "while subscribed")
        labrun.wait_until("LSN 6 multicast", lambda: re.search(r"stream \d+ \(events\): multicast_lsn=6 ",
                                                                self.server.output()), 10)

        # The last subscriber leaves: idle_stop_seconds later the stream stops.
        t_unsub = time.time_ns()
        self.as_("subscriber", "unsubscribe", str(stream))
        self.server.wait_for_line(r"stream \d+ \(events\): stopped at LSN 6", idle + 10)
        t_stopped = time.time_ns()
        self.assertGreaterEqual(t_stopped - t_unsub, idle * 1_000_000_000, "stopped before idle_stop_seconds passed")
        self.assertFalse(self.databases()["events"]["streaming"])
        denied = self.as_("subscriber", "keys", "show", "events", check=False)
        self.assertNotEqual(denied.returncode, 0, "no keys for a stopped stream")
        self.as_("publisher", "publish", "events", "ev/7", "while stopped")  # LSN 7: recovered, never multicast
        self.assertTrue(self.databases()["orders"]["streaming"], "a configured stream is always on")
        # A stretch with the stream stopped: 10 heartbeat intervals, none of it may be in the capture.
        time.sleep(1.0)
        t_restart = time.time_ns()

        # Subscribe again: it starts again, same stream_id, the next epoch.
        sub2 = json.loads(self.as_("subscriber", "subscribe", "events", "--show-keys", "--json").stdout)
        self.assertEqual(sub2["stream_id"], stream)
        self.assertEqual(sub2["key_epoch"], e1 + 1, "a new key epoch at every start")
        self.assertEqual(sub2["last_lsn"], "7")
        given.update({(stream, k["epoch"]): k["key"] for k in sub2["keys"]})
        self.assertTrue(self.databases()["events"]["streaming"])
        self.as_("publisher", "publish", "events", "ev/8", "after the restart")
        labrun.wait_until("LSN 8 multicast", lambda: re.search(r"stream \d+ \(events\): multicast_lsn=8 ",
                                                                self.server.output()), 10)
        self.assertEqual(self.server.stop(), 0, self.server.output()[-3000:])

        keylog = os.path.join(self.dir, "given.keys")
        with open(keylog, "w") as f:
            for (sid, epoch), key in sorted(given.items()):
                f.write(f"REPLICAST_KEY {sid} {epoch} {key}\n")
        d = subprocess.run([REPLICAST, "decode", self.capture, "--key-log", keylog, "--json"], capture_output=True,
                           text=True, timeout=120)
        lines = labrun.json_lines(d.stdout)
        frames = [x for x in lines[:-1] if x.get("stream_id") == stream]
        self.assertTrue(frames)
        self.assertTrue(all(x["open"] == "opened" for x in frames), "every packet opens with a key Subscribe gave")
        first = [x for x in frames if x["key_epoch"] == e1]
        second = [x for x in frames if x["key_epoch"] == e1 + 1]
        self.assertEqual(len(first) + len(second), len(frames))
        # Heartbeats in both runs, none while stopped (server_time_ns is the server's CLOCK_REALTIME).
        beats = [x["heartbeat"]["server_time_ns"] for x in frames if "heartbeat" in x]
        self.assertTrue(any(t_start1 <= t < t_unsub for t in beats))
        self.assertTrue(any(t >= t_restart for t in beats))
        self.assertFalse([t for t in beats if t_stopped <= t < t_restart], "packets of a stopped stream")
        # packet_seq goes on exactly where the first run ended (its final heartbeat).
        self.assertEqual(min(x["packet_seq"] for x in second), max(x["packet_seq"] for x in first) + 1)

        def carried(lsn):
            return any("chain" in x and x["chain"]["first_lsn"] <= lsn < x["chain"]["first_lsn"] + x["chain"]["update_count"]
                       for x in frames)

        self.assertTrue(carried(6) and carried(8))
        self.assertFalse(carried(7), "written while stopped: the restart begins with the next write")
        self.assertFalse(carried(5), "started by Subscribe: from the next write, not the log's start")


    def stats(self):
        return json.loads(self.as_("admin", "stats", "--json").stdout)

    def test_a_lease_nobody_renews_runs_out_and_the_stream_stops(self):
        lease, idle = 3, 2  # streams.lease_seconds (STREAMS) and idle_stop_seconds
        t_sub = time.monotonic()
        sub = json.loads(self.as_("subscriber", "subscribe", "events", "--json").stdout)
        self.assertEqual(sub["lease_ms"], lease * 1000, "the Subscription names the lease")
        stream = sub["stream_id"]
        row = next(r for r in self.stats()["streams"] if r["stream_id"] == stream)
        self.assertEqual(row["subscribers"], 1)
        self.assertEqual([x["identity"] for x in row["leases"]], ["subscriber"])
        self.assertLessEqual(int(row["leases"][0]["expires_in_ms"]), lease * 1000)
        self.assertEqual(self.databases()["events"]["subscribers"], 1)
        # Calls without ReceiveStats (the CLI's) renew nothing: it runs out, and nobody holds the stream.
        self.as_("subscriber", "keys", "show", "events")
        labrun.wait_until("the lease ran out", lambda: next(
            r for r in self.stats()["streams"] if r["stream_id"] == stream)["subscribers"] == 0, lease + 5)
        self.assertGreaterEqual(time.monotonic() - t_sub, lease - 0.2, "no lease lapses before its length")
        self.assertTrue(self.databases()["events"]["streaming"], "still idle_stop_seconds to go")
        self.server.wait_for_line(r"stream \d+ \(events\): no subscriber lease for \d+ ms", idle + 10)
        self.server.wait_for_line(r"stream \d+ \(events\): stopped at LSN", 10)
        self.assertGreaterEqual(time.monotonic() - t_sub, lease + idle - 0.2,
                                "stopped lease_seconds + idle_stop_seconds after the Subscribe, not before")
        info = self.databases()["events"]
        self.assertFalse(info["streaming"])
        self.assertEqual(info["subscribers"], 0)
        # A Subscribe takes a lease again and starts the stream.
        sub2 = json.loads(self.as_("subscriber", "subscribe", "events", "--json").stdout)
        self.assertEqual(sub2["stream_id"], stream)
        self.assertEqual(self.databases()["events"]["subscribers"], 1)

    def test_subscribe_past_max_streams_is_resource_exhausted(self):
        # streams.max_streams = 3 (STREAMS): orders and quotes are configured, events takes the third slot.
        self.as_("subscriber", "subscribe", "events")
        p = self.as_("subscriber", "subscribe", "extra", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("RESOURCE_EXHAUSTED", p.stderr)
        self.assertIn('database "extra" is not multicast: database extra: 3 streams run already (streams.max_streams)',
                      p.stderr)
        dbs = self.databases()
        self.assertFalse(dbs["extra"]["streaming"], "a refused Subscribe starts nothing")
        self.assertEqual(dbs["extra"]["subscribers"], 0, "and holds no lease")
        self.assertTrue(dbs["events"]["streaming"])
        self.assertIn("exhausted=", self.as_("admin", "stats").stdout)
        self.assertGreaterEqual(int(self.stats()["control"]["exhausted"]), 1, "counted as RESOURCE_EXHAUSTED")
        # Once events stops (its subscriber left), its slot and group are free: extra starts there.
        self.as_("subscriber", "unsubscribe", str(self.databases()["events"]["stream_id"]))
        self.server.wait_for_line(r"stream \d+ \(events\): stopped at LSN", 15)
        sub = json.loads(self.as_("subscriber", "subscribe", "extra", "--json").stdout)
        self.assertEqual(sub["group"], "239.192.0.3", "the group events had")
        self.assertTrue(self.databases()["extra"]["streaming"])

    def test_subscribe_times_out_while_the_loop_is_held(self):
        # The server's loop writes the stream's state to the master store when
        # it starts a stream (and persists every stream's state every
        # stats_interval_ms): another process holding the store's LMDB write
        # lock holds the loop, as a long `replicast load` transaction would.
        import lmdb  # Debian's python3-lmdb, the same liblmdb (and lock format) as the server's
        env = lmdb.open(self.store, map_size=1 << 30, max_dbs=0, lock=True)
        txn = env.begin(write=True)
        try:
            t0 = time.monotonic()
            p = self.as_("subscriber", "subscribe", "events", check=False)
            waited = time.monotonic() - t0
        finally:
            txn.abort()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("UNAVAILABLE", p.stderr)
        self.assertIn("the server did not start the stream of events within 5000 ms; try again", p.stderr)
        self.assertGreaterEqual(waited, 5.0, "it waited for the loop, bounded by the command timeout")
        self.assertLess(waited, 9.0, "and no longer (the CLI's own deadline is 10 s)")
        # The command stayed queued: once the lock is free the loop starts the stream, and a retry gets it.
        self.server.wait_for_line(r"stream \d+ db=events .* started on Subscribe", 15)
        sub = json.loads(self.as_("subscriber", "subscribe", "events", "--json").stdout)
        self.assertEqual(sub["group"], "239.192.0.3")
        self.assertTrue(self.databases()["events"]["streaming"])
        env.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
