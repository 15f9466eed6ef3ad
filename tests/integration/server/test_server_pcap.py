#!/usr/bin/env python3
"""`replicast server` on pmd-config/pcap.toml: the frames it writes are decoded
with the project's own decoder and checked against the store. Every LSN exactly
once and in order, contiguous packet_seq, valid IPv4 and UDP checksums, the
multicast MAC, DF, TTL and DSCP, every packet opening with the logged key, gaps
that respect the configured pacing; restarts continue the sequence under a new
epoch and never repeat a (key, IV) pair; SIGTERM drains and ends with a final
heartbeat; bad configs are named."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
PROFILE = os.path.join(SOURCE_ROOT, "pmd-config", "pcap.toml")
RUN_TIMEOUT = 120


def run(*args, stdin=None, env=None):
    p = subprocess.run([REPLICAST, *args], input=stdin, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
    if p.returncode != 0:
        raise AssertionError(f"replicast {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def multicast_mac(group):
    a = [int(x) for x in group.split(".")]
    return "01:00:5e:%02x:%02x:%02x" % (a[1] & 0x7F, a[2], a[3])


def wait_for(what, predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def whole_records(path):
    """A copy of the pcap at `path` with only its whole records: a writer
    killed with SIGKILL can leave the last one torn."""
    with open(path, "rb") as f:
        data = f.read()
    end = 24
    while end + 16 <= len(data):
        caplen = int.from_bytes(data[end + 8:end + 12], "little")
        if end + 16 + caplen > len(data):
            break
        end += 16 + caplen
    out = path + ".whole"
    with open(out, "wb") as f:
        f.write(data[:end])
    return out


def telemetry(prefix, command):
    """One request on DPDK's telemetry v2 socket (what dpdk-telemetry.py does)."""
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        s.recv(16384)  # the greeting
        s.send(command.encode())
        # null until the server has registered its commands
        return json.loads(s.recv(1 << 20).decode())[command] or {}


class ServerCapture(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-server-")
        self.store = os.path.join(self.dir, "master")
        self.keys = os.path.join(self.dir, "keys.log")
        self.prefix = f"rc-test-{os.getpid()}"
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)

    def config(self, name="server.toml", pacing="", extra_streams="", stats_ms=200, keys="", retention="", bundle=""):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(f"""
[server]
store = "{self.store}"
profile = "{PROFILE}"
key_log = "{self.keys}"
stats_interval_ms = {stats_ms}

[streams]
databases = ["orders", "blobs"]
group_range = "239.192.7.0/24"
port = 5123
{extra_streams}

[bundle]
max_updates = 64
max_bytes = 16384
{bundle}

[pacing]
{pacing}

[keys]
{keys}

[retention]
{retention}
""")
        return path

    def env(self, capture):
        e = dict(os.environ)
        e["REPLICAST_PCAP_OUT"] = capture
        e["REPLICAST_FILE_PREFIX"] = self.prefix
        return e

    def serve_once(self, config, capture):
        return subprocess.run([REPLICAST, "server", "--config", config, "--once"], capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, env=self.env(capture))

    def load(self, orders, blobs, start=0):
        rng = random.Random(start)
        lines = []
        for i in range(start, start + orders):
            if i % 11 == 5:
                lines.append(json.dumps({"op": "del", "key": f"order/{i - 1:06d}"}))
            else:
                lines.append(json.dumps({"key": f"order/{i:06d}", "value": f"qty={i} px={i * 7 % 1000}", "group": i % 3}))
        src = os.path.join(self.dir, f"orders-{start}.jsonl")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        run("load", "--store", self.store, "--db", "orders", "--batch", "97", src)
        # Incompressible 3000-byte values: chains of several packets.
        with open(os.path.join(self.dir, f"blobs-{start}.tsv"), "w") as f:
            for i in range(start, start + blobs):
                f.write(f"blob/{i:05d}\t{rng.randbytes(1500).hex()}\t{i % 2}\n")
        run("load", "--store", self.store, "--db", "blobs", "--batch", "50", os.path.join(self.dir, f"blobs-{start}.tsv"))

    def decode(self, capture):
        p = subprocess.run([REPLICAST, "decode", capture, "--key-log", self.keys, "--json"], capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        records = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        summary = [r["summary"] for r in records if "summary" in r]
        frames = [r for r in records if "summary" not in r]
        self.assertEqual(summary[0]["packets"], len(frames))
        self.assertEqual(summary[0]["good"], len(frames))
        return frames

    def keys_logged(self):
        """(stream_id, key_epoch) -> the key's bytes (hex), from the key log
        every run of the server appended to. An epoch logged twice must carry
        the same key: the log is what decode opens packets with."""
        keys = {}
        with open(self.keys) as f:
            for line in f:
                if not line.startswith("REPLICAST_KEY "):
                    continue
                _, stream, epoch, key = line.split()
                self.assertEqual(keys.setdefault((int(stream), int(epoch)), key), key,
                                 f"stream {stream} epoch {epoch} logged with two keys")
        return keys

    def assert_no_key_iv_reuse(self, frames):
        """PROTOCOL.md 1.2: an IV (stream_id, packet_seq) is never used twice
        under one key. Judged by the key's bytes, not its epoch number: a
        restart that bumped the epoch but drew the same key again, or another
        stream's key, would repeat pairs that differ only in the epoch field."""
        keys = self.keys_logged()
        per_stream = {}
        for (stream, _), key in keys.items():
            per_stream.setdefault(stream, set()).add(key)
        # Every epoch of every stream has key bytes of its own.
        self.assertEqual(len(set(keys.values())), len(keys), f"key bytes repeat across epochs or streams: {keys}")
        pairs = []
        for f in frames:
            self.assertIn((f["stream_id"], f["key_epoch"]), keys, f"no logged key for {f}")
            pairs.append((keys[(f["stream_id"], f["key_epoch"])], f["stream_id"], f["packet_seq"]))
        self.assertEqual(len(pairs), len(set(pairs)), "a (key, IV) pair repeated")
        return per_stream

    def check_frames(self, frames):
        for f in frames:
            self.assertTrue(f["valid"], f)
            self.assertEqual(f["open"], "opened", f)
            self.assertTrue(f["ipv4_checksum_ok"] and f["udp_checksum_ok"], f)
            self.assertEqual(f["dst_mac"], multicast_mac(f["dst"]), f)
            self.assertTrue(f["df"], f)
            self.assertEqual((f["ttl"], f["dscp"], f["src"], f["src_port"], f["dst_port"]), (16, 46, "10.77.0.1", 40000, 5123))
            self.assertTrue(f["dst"].startswith("239.192.7."), f)

    def by_stream(self, frames):
        streams = {}
        for f in frames:
            streams.setdefault(f["stream_id"], []).append(f)
        return streams

    def lsns(self, frames):
        """The LSNs the chains of one stream carry, in capture order."""
        out = []
        for f in frames:
            if "chain" in f:
                c = f["chain"]
                out.extend(range(c["first_lsn"], c["first_lsn"] + c["update_count"]))
        return out

    def test_capture_holds_every_lsn_once_in_order_and_well_formed(self):
        self.load(orders=3000, blobs=150)
        capture = os.path.join(self.dir, "cap.pcap")
        gap_ns, chain_gap_ns, rate_mbps = 20_000, 60_000, 200
        p = self.serve_once(self.config(pacing=f"rate_mbps = {rate_mbps}\npacket_gap_ns = {gap_ns}\nchain_gap_ns = {chain_gap_ns}"), capture)
        self.assertEqual(p.returncode, 0, p.stderr)
        # The start says, in our words, what pages DPDK's memory is on.
        self.assertRegex(p.stderr, r"EAL memory: 256 MiB on (\d+ KiB hugepages|ordinary 4 KiB pages, NOT hugepages \()")
        frames = self.decode(capture)
        self.check_frames(frames)
        streams = self.by_stream(frames)
        self.assertEqual(len(streams), 2)
        totals = {}
        for sid, fs in streams.items():
            seqs = [f["packet_seq"] for f in fs]
            self.assertEqual(seqs, list(range(1, len(fs) + 1)), f"stream {sid}: packet_seq not contiguous from 1")
            self.assertEqual(len({f["dst"] for f in fs}), 1, "one group per stream")
            lsns = self.lsns(fs)
            self.assertEqual(lsns, list(range(1, len(lsns) + 1)), f"stream {sid}: LSNs not once and in order")
            self.assertEqual(fs[-1].get("heartbeat", {}).get("last_lsn"), len(lsns), "final heartbeat names the last LSN")
            totals[fs[0]["dst"]] = len(lsns)
            # Pacing: between packets of one chain at least the packet gap, after a
            # chain's last packet at least the chain gap. The pcap PMD stamps a
            # frame inside rte_eth_tx_burst, after sealing and while writing the
            # file, and the pacer decided at the top of the loop turn: single gaps
            # may look shorter by that jitter (100 us absolute: the first packets
            # are cold, and the PMD flushes its file now and then). The median
            # may not (1 %: the PMD converts TSC to time its own way), nor the
            # tenth percentile by more than 10 %.
            data = [f for f in fs if "heartbeat" not in f and "key_change" not in f]
            in_chain, after_chain = [], []
            for a, b in zip(data, data[1:]):
                delta = b["timestamp_ns"] - a["timestamp_ns"]
                last_in_chain = (a["flags"] & 0x04) != 0  # LIC (OIC = FIC | LIC)
                (after_chain if last_in_chain else in_chain).append(delta)
                floor = chain_gap_ns if last_in_chain else gap_ns
                self.assertGreaterEqual(delta, floor - 100_000, f"stream {sid} seq {a['packet_seq']}->{b['packet_seq']}")
            for gaps, floor in ((in_chain, gap_ns), (after_chain, chain_gap_ns)):
                if gaps:
                    gaps.sort()
                    self.assertGreaterEqual(gaps[len(gaps) // 2], floor * 0.99, f"stream {sid}: median gap")
                    self.assertGreaterEqual(gaps[len(gaps) // 10], floor * 0.9, f"stream {sid}: 10th percentile gap")
            # The rate cap holds over the whole run (frame + 24 bytes of preamble, FCS and gap).
            span_s = (fs[-1]["timestamp_ns"] - fs[0]["timestamp_ns"]) / 1e9
            wire_bits = sum((42 + 28 + f["payload_len"] + 16 + 24) * 8 for f in fs[:-1])
            self.assertLessEqual(wire_bits / span_s, rate_mbps * 1e6 * 1.05, f"stream {sid}: rate cap")
        self.assertEqual(sorted(totals.values()), [150, 3000])
        # Both streams share the one tx worker and start with a backlog: they
        # take turns, so the small one is not queued behind all of the big one.
        starts = [f["stream_id"] for f in frames if "chain" in f]
        self.assertEqual(len(set(starts[:4])), 2, f"the first chains all came from one stream: {starts[:8]}")
        self.assertTrue(any(f["flags"] & 0x07 == 0x01 for f in frames), "some chains span several packets (FIC alone)")
        self.assertTrue(any(f["flags"] & 0x07 == 0x02 for f in frames), "some chains have middle packets (MIC)")
        compressed = [f for f in frames if f.get("comp_alg") == 1]
        self.assertTrue(compressed, "the compressible orders went out deflated")

    def test_no_huge_is_said_plainly_with_its_cost(self):
        self.load(orders=20, blobs=0)
        capture = os.path.join(self.dir, "nohuge.pcap")
        p = subprocess.run([REPLICAST, "server", "--config", self.config(), "--once", "--no-huge"],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT, env=self.env(capture))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [line for line in p.stderr.splitlines() if "EAL memory:" in line]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("warn", lines[0].lower())
        self.assertIn(f"256 MiB on ordinary {os.sysconf('SC_PAGESIZE') // 1024} KiB pages, NOT hugepages "
                      "(--no-huge was given)", lines[0])
        self.assertIn("TLB", lines[0])
        self.assertIn("scripts/setup --huge-only", lines[0])
        self.assertEqual(len(self.lsns(self.decode(capture))), 20, "and it still serves")

    def test_compression_on_its_own_lcore_keeps_every_lsn_in_order(self):
        self.load(orders=3000, blobs=60)
        capture = os.path.join(self.dir, "codec.pcap")
        env = self.env(capture)
        env["REPLICAST_LCORES"] = "0@0,1@1,2@0"  # a third lcore for the codec stage, sharing CPU 0 here
        p = subprocess.run([REPLICAST, "server", "--config", self.config(bundle="compression_lcore = 2"), "--once"],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        frames = self.decode(capture)
        self.check_frames(frames)
        totals = []
        # No [pacing]: the tx worker also takes its unpaced path here, which
        # hands whole bursts out without asking the pacer.
        for sid, fs in self.by_stream(frames).items():
            lsns = self.lsns(fs)
            self.assertEqual(lsns, list(range(1, len(lsns) + 1)))
            self.assertEqual([f["packet_seq"] for f in fs], list(range(1, len(fs) + 1)), f"stream {sid}: packet_seq")
            totals.append(len(lsns))
        self.assertEqual(sorted(totals), [60, 3000])
        self.assertTrue(any(f.get("comp_alg") == 1 for f in frames), "the codec lcore deflated the orders")
        # A codec lcore that is a tx lcore is refused, naming the key.
        bad = subprocess.run([REPLICAST, "server", "--config", self.config(name="bad.toml", bundle="compression_lcore = 1"), "--once"],
                             capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("bundle.compression_lcore: lcore 1 must be an EAL lcore", bad.stderr)

    def test_restart_continues_packet_seq_under_a_new_epoch(self):
        self.load(orders=500, blobs=20)
        config = self.config(pacing="rate_mbps = 1000")
        first, second = os.path.join(self.dir, "a.pcap"), os.path.join(self.dir, "b.pcap")
        self.assertEqual(self.serve_once(config, first).returncode, 0)
        self.load(orders=300, blobs=10, start=500)
        p = self.serve_once(config, second)
        self.assertEqual(p.returncode, 0, p.stderr)
        a, b = self.decode(first), self.decode(second)
        self.check_frames(a + b)
        sa, sb = self.by_stream(a), self.by_stream(b)
        for sid in sa:
            self.assertEqual({f["key_epoch"] for f in sa[sid]}, {1})
            self.assertEqual({f["key_epoch"] for f in sb[sid]}, {2})
            self.assertEqual(sb[sid][0]["packet_seq"], sa[sid][-1]["packet_seq"] + 1, "packet_seq continues")
            seqs = [f["packet_seq"] for f in sb[sid]]
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
            la, lb = self.lsns(sa[sid]), self.lsns(sb[sid])
            self.assertEqual(lb, list(range(len(la) + 1, len(la) + len(lb) + 1)), "the second run sends only new LSNs")
        keys = self.assert_no_key_iv_reuse(a + b)
        self.assertEqual({len(k) for k in keys.values()}, {2}, "one key per stream and run")

    def test_sigterm_drains_and_ends_with_a_final_heartbeat(self):
        self.load(orders=2000, blobs=40)
        capture = os.path.join(self.dir, "cap.pcap")
        config = self.config(pacing="rate_mbps = 50", retention="keep_updates = 100\ntrim_interval_ms = 100")
        p = subprocess.Popen([REPLICAST, "server", "--config", config],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(capture))
        self.procs.append(p)

        def caught_up():
            if p.poll() is not None:
                raise AssertionError(f"server exited early: {p.stderr.read()}")
            try:
                streams = telemetry(self.prefix, "/replicast/streams")
            except OSError:
                return False
            return len(streams) == 2 and all(s["multicast_lsn"] == s["last_lsn"] > 0 for s in streams.values()) and \
                any(s["trimmed"] > 0 for s in streams.values()) and streams

        streams = wait_for("the server to multicast the whole log and trim it (telemetry)", caught_up)
        self.assertEqual(sorted(s["updates"] for s in streams.values()), [40, 2000])
        lcores = telemetry(self.prefix, "/replicast/lcores")
        self.assertGreater(sum(c["packets"] for c in lcores.values()), 0)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        # Retention kept the newest 100 entries of orders and dropped the rest, all multicast first.
        log = run("log", "--store", self.store, "--db", "orders").splitlines()
        self.assertEqual((len(log), log[0].split("\t")[0]), (100, "1901"))
        frames = self.decode(capture)
        self.check_frames(frames)
        for sid, fs in self.by_stream(frames).items():
            lsns = self.lsns(fs)
            self.assertEqual(lsns, list(range(1, len(lsns) + 1)))
            self.assertIn("heartbeat", fs[-1])
            self.assertEqual(fs[-1]["heartbeat"]["last_lsn"], len(lsns))

    def test_key_rotation_is_announced_then_switched_at_the_announced_seq(self):
        self.load(orders=200, blobs=5)
        capture = os.path.join(self.dir, "rot.pcap")
        config = self.config(pacing="rate_mbps = 100", keys="rotate_seconds = 3")
        p = subprocess.Popen([REPLICAST, "server", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=self.env(capture))
        self.procs.append(p)

        def switched():
            if p.poll() is not None:
                raise AssertionError(f"server exited early: {p.stderr.read()}")
            try:
                streams = telemetry(self.prefix, "/replicast/streams")
            except OSError:
                return False
            return len(streams) == 2 and all(s["key_switches"] >= 1 for s in streams.values())

        wait_for("both streams to switch keys (3 s schedule + 2 s announcement)", switched, seconds=60)
        run("put", "--store", self.store, "--db", "orders", "after", "the switch")

        def caught_up():
            streams = telemetry(self.prefix, "/replicast/streams")
            return all(s["multicast_lsn"] == s["last_lsn"] for s in streams.values()) and streams["1"]["last_lsn"] == 201

        wait_for("the write after the switch to go out", caught_up)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        frames = self.decode(capture)
        self.check_frames(frames)  # every packet, old epoch and new, opens with the logged keys
        for sid, fs in self.by_stream(frames).items():
            announcements = [f for f in fs if "key_change" in f]
            switches = {}
            for a in announcements:
                switches.setdefault(a["key_change"]["next_epoch"], set()).add(a["key_change"]["first_seq"])
                self.assertEqual(a["key_change"]["next_epoch"], a["key_epoch"] + 1, "announced under the current key")
            self.assertTrue(all(len(seqs) == 1 for seqs in switches.values()), "each switch announced with one first_seq")
            completed = 0
            for epoch, (first_seq,) in switches.items():
                self.assertGreaterEqual(sum(1 for a in announcements if a["key_change"]["next_epoch"] == epoch), 2,
                                        f"stream {sid}: epoch {epoch} announced repeatedly during the 2 s")
                old = [f for f in fs if f["key_epoch"] < epoch]
                new = [f for f in fs if f["key_epoch"] == epoch]
                self.assertLess(max(f["packet_seq"] for f in old), first_seq)
                if new:
                    self.assertEqual(new[0]["packet_seq"], first_seq, "the new epoch starts exactly at the announced seq")
                    completed += 1
            self.assertGreaterEqual(completed, 1, f"stream {sid}: at least one switch completed")
            self.assertEqual([f["packet_seq"] for f in fs], sorted(f["packet_seq"] for f in fs))
        orders = max(self.by_stream(frames).values(), key=lambda fs: len(self.lsns(fs)))
        self.assertEqual(self.lsns(orders), list(range(1, 202)))

    def test_a_killed_server_resumes_past_its_watermark_with_a_new_key(self):
        self.load(orders=3000, blobs=0)
        first, second = os.path.join(self.dir, "a.pcap"), os.path.join(self.dir, "b.pcap")
        # Slow enough to be killed mid-log.
        slow = self.config(name="slow.toml", pacing="rate_mbps = 1\nchain_gap_ns = 2000000")
        p = subprocess.Popen([REPLICAST, "server", "--config", slow], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.env(first))
        self.procs.append(p)

        def some_sent():
            try:
                streams = telemetry(self.prefix, "/replicast/streams")
            except OSError:
                return False
            return any(0 < s["multicast_lsn"] < s["last_lsn"] for s in streams.values())

        wait_for("the server to be part way through the log", some_sent)
        p.kill()
        p.wait()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        r = self.serve_once(self.config(pacing="rate_mbps = 1000"), second)
        self.assertEqual(r.returncode, 0, r.stderr)
        a = self.decode(whole_records(first))
        b = self.decode(second)
        self.check_frames(a + b)
        self.assertGreater(len(self.lsns(a)), 0, "the killed run had multicast some chains")
        # Across the SIGKILL: no (key, IV) pair of the killed run is used again,
        # by key bytes; the restarted run drew a new key for every stream.
        keys = self.assert_no_key_iv_reuse(a + b)
        self.assertEqual({len(k) for k in keys.values()}, {2})
        orders = [fs for fs in self.by_stream(b).values() if len(self.lsns(fs)) > 0][0]
        self.assertEqual({f["key_epoch"] for f in orders}, {2}, "a new epoch after the crash")
        self.assertGreaterEqual(orders[0]["packet_seq"], 1 << 40, "resumed past the persisted watermark")
        lsns = self.lsns(orders)
        self.assertEqual(lsns[-1], 3000)
        self.assertEqual(lsns, list(range(lsns[0], 3001)), "from the last persisted multicast LSN, in order")

    def test_a_log_entry_that_does_not_decode_stops_only_its_stream(self):
        self.load(orders=300, blobs=10)
        # Damage orders' LSN 100 in the log (the store never writes such a
        # value; a disk or a hand edit can): store/LAYOUT.md, _log key = db_id || LSN.
        import lmdb
        import struct
        env = lmdb.open(self.store, max_dbs=256, subdir=True)
        with env.begin(write=True) as txn:
            log = env.open_db(b"_log", txn=txn, create=False)
            key = struct.pack(">IQ", 1, 100)
            self.assertIsNotNone(txn.get(key, db=log))
            txn.put(key, b"\x07garbage", db=log)
        env.close()
        capture = os.path.join(self.dir, "bad.pcap")
        p = self.serve_once(self.config(), capture)
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout + p.stderr
        self.assertIn("log entry 100 does not decode", out)
        frames = self.decode(capture)
        self.check_frames(frames)
        sent = sorted(len(self.lsns(fs)) for fs in self.by_stream(frames).values())
        self.assertEqual(sent[0], 10, "the other stream went out whole")
        self.assertEqual(sent[1], 99, "every entry before the damaged one, and nothing at or past it")

    def test_bring_up_errors_name_the_profile_and_the_reason(self):
        with open(PROFILE) as f:
            good = f.read()
        cases = {
            "no such port": (good.replace('name = "net_pcap0"', 'name = "net_nothing0"'),
                             'port.name: no port "net_nothing0" (ports found: net_pcap0'),
            "worker lcore not in the EAL's": (good.replace("tx_lcores = [1]", "tx_lcores = [5]"),
                                               "workers.tx_lcores: lcore 5 is not in eal.lcores"),
            # Listed, but the EAL makes it the main (control) lcore: found once the EAL is up.
            "worker on the main lcore": (good.replace("tx_lcores = [1]", "tx_lcores = [0]"),
                                         "workers.tx_lcores: lcore 0 is not a worker lcore"),
            "lcores the EAL cannot read": (good.replace('lcores = "${REPLICAST_LCORES:-0,1}"', 'lcores = "0,1x"'),
                                           "eal.lcores: expected ',' or '@' at position 4"),
            "a vdev DPDK does not know": (good.replace("net_pcap0,tx_pcap", "net_bogus0,tx_pcap"), "net_bogus0"),
        }
        for what, (text, expected) in cases.items():
            profile = os.path.join(self.dir, "profile.toml")
            with open(profile, "w") as f:
                f.write(text)
            config = os.path.join(self.dir, "s.toml")
            with open(config, "w") as f:
                f.write(f'[server]\nstore = "{self.store}"\nprofile = "{profile}"\n[streams]\ndatabases = ["a"]\n')
            p = subprocess.run([REPLICAST, "server", "--config", config, "--once"], capture_output=True, text=True,
                               timeout=RUN_TIMEOUT, env=self.env(os.path.join(self.dir, "x.pcap")))
            self.assertEqual(p.returncode, 2, f"{what}: {p.stderr}")
            self.assertIn(profile, p.stderr, what)
            self.assertIn(expected, p.stderr, what)

    def test_bad_configs_fail_naming_file_line_and_key(self):
        cases = {
            "[streams]\ndatabases = [\"a\"]\ngroup_range = \"10.0.0.0/24\"\n": "streams.group_range",
            "[streams]\ndatabases = [\"a\"]\n[pacing]\nrate_mbps = -1\n": "pacing.rate_mbps",
            "[streams]\ndatabases = [\"a\"]\n[bundle]\nmax_updatez = 3\n": "bundle.max_updatez: unknown key",
            "[streams]\ndatabases = []\n": "streams.databases",
        }
        for body, expected in cases.items():
            path = os.path.join(self.dir, "bad.toml")
            with open(path, "w") as f:
                f.write(f'[server]\nstore = "{self.store}"\nprofile = "{PROFILE}"\n' + body)
            p = subprocess.run([REPLICAST, "server", "--config", path], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, body)
            self.assertIn(path + ":", p.stderr)
            self.assertIn(expected, p.stderr)
        path = os.path.join(self.dir, "noprofile.toml")
        with open(path, "w") as f:
            f.write(f'[server]\nstore = "{self.store}"\nprofile = "nowhere.toml"\n[streams]\ndatabases = ["a"]\n')
        p = subprocess.run([REPLICAST, "server", "--config", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("nowhere.toml: cannot read the profile", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
