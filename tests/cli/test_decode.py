#!/usr/bin/env python3
"""`replicast decode` end to end: the known-answer vectors as hex and as a pcap
(frames built here with correct checksums), with and without a key log, text
and JSON, and every malformed input: exit codes and reasons."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

REPLICAST = sys.argv.pop(1)
VECTORS = json.load(open(os.environ["REPLICAST_VECTORS"]))


def run(*args, stdin=None):
    p = subprocess.run([REPLICAST, "decode", *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(payload, group=(239, 192, 0, 1), corrupt_udp=False, ip_flags=0x4000):
    src, dst = bytes([10, 77, 0, 1]), bytes(group)
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    c = csum(pseudo + struct.pack("!HHHH", 40000, 5000, udp_len, 0) + payload) or 0xFFFF
    if corrupt_udp:
        c ^= 0x0101
    udp = struct.pack("!HHHH", 40000, 5000, udp_len, c) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 46 << 2, 20 + udp_len, 0, ip_flags, 4, 17, 0, src, dst))
    ip[10:12] = struct.pack("!H", csum(bytes(ip)))
    mac = bytes([0x01, 0x00, 0x5E, group[1] & 0x7F, group[2], group[3]])
    return mac + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + bytes(ip) + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap, Ethernet
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1764000000, i * 1000, len(fr), len(fr)))
            f.write(fr)


class Decode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rc-decode-")
        cls.keys = os.path.join(cls.dir, "keys.log")
        key = VECTORS["cases"][0]["key"]
        with open(cls.keys, "w") as f:
            f.write(f"REPLICAST_KEY 16909060 1 {key}\nREPLICAST_KEY 16909060 7 {key}\n")
        cls.good = [p["datagram"] for c in VECTORS["cases"] for p in c["packets"]]
        cls.bad = [(m["datagram"], m["why"]) for m in VECTORS["malformed"]]

    def hexfile(self, lines):
        path = os.path.join(self.dir, f"in{len(lines)}-{hash(tuple(lines)) & 0xFFFF}.hex")
        with open(path, "w") as f:
            f.write("# vectors\n\n" + "\n".join(lines) + "\n")
        return path

    def test_vectors_open_with_the_key_log(self):
        rc, out, _ = run("--hex", self.hexfile(self.good), "--key-log", self.keys, "--json")
        self.assertEqual(rc, 0, out)
        rows = [json.loads(l) for l in out.splitlines()]
        packets, summary = rows[:-1], rows[-1]["summary"]
        self.assertEqual(len(packets), len(self.good))
        self.assertTrue(all(p["valid"] for p in packets))
        self.assertEqual(summary["good"], len(self.good))
        self.assertEqual(summary["not_opened"], 0)
        hb = [p for p in packets if "heartbeat" in p][0]["heartbeat"]
        self.assertEqual(hb, {"last_lsn": 44, "server_time_ns": 1764000000123456789})
        kc = [p for p in packets if "key_change" in p][0]["key_change"]
        self.assertEqual(kc, {"next_epoch": 8, "first_seq": 5000})
        chains = [p["chain"] for p in packets if "chain" in p]
        self.assertIn({"first_lsn": 42, "update_count": 3, "body_len": 583}, chains)

    def test_a_key_log_with_two_keys_for_one_epoch_opens_with_the_right_one(self):
        # A key log kept across a store made again: another key for the same
        # (stream, epoch) comes later in the file. The tag tells which key sealed.
        key = VECTORS["cases"][0]["key"]
        other = "ff" * 32
        keys = os.path.join(self.dir, "two-keys.log")
        with open(keys, "w") as f:
            f.write(f"REPLICAST_KEY 16909060 1 {key}\nREPLICAST_KEY 16909060 7 {key}\n"
                    f"REPLICAST_KEY 16909060 1 {other}\nREPLICAST_KEY 16909060 7 {other}\n")
        rc, out, _ = run("--hex", self.hexfile(self.good), "--key-log", keys, "--json")
        self.assertEqual(rc, 0, out)
        summary = json.loads(out.splitlines()[-1])["summary"]
        self.assertEqual((summary["good"], summary["forged"], summary["not_opened"]), (len(self.good), 0, 0))

    def test_without_keys_sealed_packets_are_reported_not_opened(self):
        rc, out, _ = run("--hex", self.hexfile(self.good), "--json")
        self.assertEqual(rc, 0)
        summary = json.loads(out.splitlines()[-1])["summary"]
        self.assertEqual(summary["not_opened"], len(self.good) - 1)  # all but the unsealed case

    def test_every_malformed_vector_is_rejected_with_its_reason(self):
        rc, out, _ = run("--hex", self.hexfile([d for d, _ in self.bad]), "--key-log", self.keys, "--json")
        self.assertEqual(rc, 1)
        rows = [json.loads(l) for l in out.splitlines()][:-1]
        self.assertEqual(len(rows), len(self.bad))
        expect = {"bad magic": "bad_magic", "bad version": "bad_version", "bad flags": "bad_flags",
                  "length mismatch": "length_mismatch", "shorter than header": "shorter_than_header"}
        for row, (_, why) in zip(rows, self.bad):
            self.assertFalse(row["valid"], why)
            name = next((v for k, v in expect.items() if why.startswith(k)), None)
            if name:
                self.assertEqual(row["error"], name, why)
            else:
                self.assertIn("tag does not verify", why)
                self.assertEqual(row["open"], "tag does not verify")

    def test_a_one_packet_chain_is_checked_whole(self):
        # An unsealed OIC (tests/unit/wire/chain_test.cpp's golden chain): LSN 9,
        # one put of key "k", empty value; then the same with body_len one too
        # many, and with an unknown op. A one-packet chain carries its whole
        # body, so decode checks it as a receiver would.
        header = "5243" "01" "05" "00000005" "0000000000000001" "00000000" "00" "00" "001a"
        head, body = "0000000000000009" "00000001", "01" "0000" "0001" "00000000" "6b"
        rc, out, _ = run("--hex", "-", stdin=header + head + "0000000a" + body + "\n")
        self.assertEqual(rc, 0, out)
        for record, reason in ((head + "0000000b" + body, "plain chain body is not body_len bytes"),
                               (head + "0000000a" + "07" + body[2:], "unknown update op")):
            rc, out, _ = run("--hex", "-", stdin=header + record + "\n")
            self.assertEqual(rc, 1, out)
            self.assertIn("MALFORMED PAYLOAD: " + reason, out)

    def test_text_output_names_the_reason_and_exits_1(self):
        rc, out, _ = run("--hex", "-", stdin=self.bad[0][0] + "\n")
        self.assertEqual(rc, 1)
        self.assertIn("MALFORMED: bad magic", out)

    def test_pcap_frames_are_checked_and_decoded(self):
        pcap = os.path.join(self.dir, "good.pcap")
        frames = [frame(bytes.fromhex(d)) for d in self.good]
        write_pcap(pcap, frames)
        rc, out, _ = run(pcap, "--key-log", self.keys, "--json")
        self.assertEqual(rc, 0, out)
        rows = [json.loads(l) for l in out.splitlines()][:-1]
        self.assertEqual(len(rows), len(self.good))
        for r in rows:
            self.assertTrue(r["ipv4_checksum_ok"] and r["udp_checksum_ok"] and r["df"])
            self.assertEqual(r["ttl"], 4)
            self.assertEqual(r["dscp"], 46)
            self.assertEqual(r["dst_mac"], "01:00:5e:40:00:01")
        self.assertEqual(rows[1]["timestamp_ns"], 1764000000 * 10**9 + 1000)

    def test_json_lines_parse_whatever_the_packet(self):
        # Good packets, a malformed one, a broken frame (a fragment: we never
        # send one): one JSON object per line, each parsed by python's json,
        # with the fields and types a script relies on.
        pcap = os.path.join(self.dir, "json-mixed.pcap")
        frames = [frame(bytes.fromhex(d)) for d in self.good]
        frames.append(frame(bytes.fromhex(self.bad[0][0])))
        frames.append(frame(bytes.fromhex(self.good[0]), ip_flags=0x2000))
        write_pcap(pcap, frames)
        rc, out, _ = run(pcap, "--key-log", self.keys, "--json")
        self.assertEqual(rc, 1, out)
        rows = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(rows), len(frames) + 1)
        for i, r in enumerate(rows[:-1]):
            self.assertEqual(r["frame"], i + 1)
            self.assertIsInstance(r["valid"], bool)
        for r in rows[:len(self.good)]:
            self.assertTrue(r["valid"], r)
            self.assertIsInstance(r["packet_seq"], int)
            self.assertEqual(r["src"], "10.77.0.1")
        self.assertFalse(rows[-3]["valid"])
        self.assertIsInstance(rows[-3]["reason"], str)
        self.assertEqual({k: rows[-2][k] for k in ("valid", "error")}, {"valid": False, "error": "frame"})
        self.assertIn("fragment", rows[-2]["reason"])
        self.assertEqual(rows[-1]["summary"]["packets"], len(frames))
        self.assertEqual(rows[-1]["summary"]["malformed"], 2)

    def test_pcap_port_filter_and_bad_udp_checksum(self):
        pcap = os.path.join(self.dir, "mixed.pcap")
        write_pcap(pcap, [frame(bytes.fromhex(self.good[0]), corrupt_udp=True)])
        rc, out, _ = run(pcap, "--key-log", self.keys)
        self.assertIn("udp-csum BAD", out)
        rc, out, _ = run(pcap, "--port", "6000", "--json")
        self.assertEqual(json.loads(out.splitlines()[-1])["summary"]["packets"], 0)

    def test_frames_a_snap_length_cut_short_are_skipped_not_malformed(self):
        whole = frame(bytes.fromhex(self.good[0]))
        pcap = os.path.join(self.dir, "snap.pcap")
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 64, 1))  # snap length 64, Ethernet
            f.write(struct.pack("<IIII", 1764000000, 0, 64, len(whole)) + whole[:64])
        rc, out, err = run(pcap, "--json")
        self.assertEqual(rc, 0, out + err)
        summary = json.loads(out.splitlines()[-1])["summary"]
        self.assertEqual((summary["malformed"], summary["skipped_frames"]), (0, 1))
        self.assertIn("1 frames were cut short by the capture's snap length", err)

    def test_unreadable_inputs_exit_2_with_the_reason(self):
        rc, _, err = run(os.path.join(self.dir, "missing.pcap"))
        self.assertEqual(rc, 2)
        self.assertIn("missing.pcap", err)
        truncated = os.path.join(self.dir, "trunc.pcap")
        write_pcap(truncated, [frame(bytes.fromhex(self.good[0]))])
        with open(truncated, "r+b") as f:
            f.truncate(os.path.getsize(truncated) - 10)
        rc, _, err = run(truncated)
        self.assertEqual(rc, 2, err)
        self.assertIn("trunc.pcap", err)
        bad_keys = os.path.join(self.dir, "bad-keys.log")
        with open(bad_keys, "w") as f:
            f.write("REPLICAST_KEY 1 1 zz\n")
        rc, _, err = run("--hex", self.hexfile(self.good), "--key-log", bad_keys)
        self.assertEqual(rc, 2)
        self.assertIn("bad-keys.log:1:", err)
        rc, _, err = run("--hex", "-", stdin="52430\n")
        self.assertEqual(rc, 2)
        self.assertIn("-:1: odd number of hex digits", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
