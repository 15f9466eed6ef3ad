#!/usr/bin/env python3
"""Bounded floods of forged, replayed, wrong-source and malformed packets and
of malformed control requests: nothing applied, everything counted, the
service keeps serving the others.

The server streams two databases (1 500 updates each, paced at 8 Mbit/s) to
clients 1 and 2. From client3's namespace (the attacker's: no daemon
there) while the stream runs:

- data plane, aimed at client1 (raw Ethernet frames to its MAC, for the
  group and port of its `orders` stream, built from packets captured off the
  wire, tests/e2e/forge.py): a broken GCM tag, an epoch nobody has a key for,
  another stream's id, replays of captured packets byte for byte, a
  payload_len shorter than the datagram, datagrams cut short, bad flags,
  random junk, and the server's packets from a spoofed source address.
  Each kind is counted under its own reason in `replicast client-stats`
  (exactly what forge.py says it sent); the spoofed source never gets past
  client1's kernel (the source-specific join: the route lookup drops it), so
  wrong_source stays 0 while its interface counted the frames;
- control plane, at the server's gRPC port: garbage bytes on TCP, TLS
  handshakes without a certificate (tests/e2e/control_junk.py), a
  certificate of another CA, then as an identity with a valid certificate
  (client3: subscriber and publisher of `orders` only) requests that are not
  protobuf, requests over max_message_bytes (tests/e2e/raw_call.cpp),
  Subscribe to a database it lacks, Stats and RotateKey it has no role for.
  The server counts them (Stats: denied, invalid, exhausted) while client2's
  identity keeps getting Keys and Recover answered.

At the end both replicas equal the master, client1 applied exactly what
client2 applied (the same chains, no gap, nothing recovered, nothing
dropped: no forged packet reached a chain), and client2, which saw none of
it, counted no drop at all."""
import json
import os
import random
import subprocess
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
RAW_CALL = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DBS = ["orders", "prices"]
UPDATES_PER_DB = 1_500
PORT = 5000
FLOOD_COUNT = 1_000      # datagrams per forged kind at most
FLOOD_SECONDS = 3        # per kind at most
CONTROL_COUNT = 20       # calls or connections per malformed control kind
MAX_MESSAGE = 1 << 20    # the server's max_message_bytes
DROP_REASONS = ["malformed", "truncated", "bad_length", "wrong_source", "wrong_stream", "replays", "too_old",
                "unknown_epoch", "open_failures", "queue_overflows"]


def proto_string(field, text):
    """A protobuf length-delimited field (one-byte length), as hex."""
    b = text.encode()
    return bytes([field << 3 | 2, len(b)]).hex() + b.hex()


class Floods(unittest.TestCase):
    def test_forged_traffic_is_counted_never_applied_and_others_are_served(self):
        started = time.monotonic()

        def phase(what):
            print(f"{time.monotonic() - started:5.1f} s {what}", file=sys.stderr)
        lab = labrun.Lab(REPLICAST, 3).up()
        self.addCleanup(lab.close)
        # Client 3's certificate is the attacker's identity; its namespace runs no daemon.
        rep = labrun.Replication(lab, REPLICAST, DBS, {1: None, 2: None, 3: None}, server={
            "pacing": {"rate_mbps": 8}, "keys": {"rotate_seconds": 0},
            "control": {"max_message_bytes": MAX_MESSAGE}})
        with open(rep.access_list, "w") as f:
            f.write('[[identity]]\nname = "client1"\nroles = ["subscriber"]\ndatabases = ["*"]\n\n'
                    '[[identity]]\nname = "client2"\nroles = ["subscriber"]\ndatabases = ["*"]\n\n'
                    '[[identity]]\nname = "client3"\nroles = ["subscriber", "publisher"]\ndatabases = ["orders"]\n\n'
                    '[[identity]]\nname = "admin"\nroles = ["admin"]\ndatabases = ["*"]\n')
        rep.create_databases()
        rng = random.Random(1213)
        loads = {}
        for i, db in enumerate(DBS):
            loads[db] = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(loads[db], i, UPDATES_PER_DB, rng)
        server = rep.start_server()
        for n in (1, 2):
            rep.start_client(n)
        labrun.wait_until("clients 1 and 2 following", lambda: all(
            rep.applied(n, db) >= 1 for n in (1, 2) for db in DBS), 30, interval=0.2)
        phase("following")
        server_ip = lab.addr("server")
        target = f"{server_ip}:{labrun.CONTROL_PORT}"
        certs = rep.certs

        def cli(who, host, *args, check=True):
            return lab.run(host, [REPLICAST, *args, "--server", target, "--cert", f"{certs}/{who}.pem",
                                  "--key", f"{certs}/{who}.key", "--ca", f"{certs}/ca.pem", "--json"], check=check,
                           timeout=60)

        def raw(who, method, body, count):
            p = lab.run("client3", [RAW_CALL, target, server_ip, f"{certs}/{who}.pem", f"{certs}/{who}.key",
                                    f"{certs}/ca.pem", f"/replicast.v1.Replicast/{method}", body, str(count)], timeout=60)
            return [d["code"] for d in labrun.json_lines(p.stdout)]

        def server_counters():
            return {k: int(v) for k, v in json.loads(cli("admin", "client3", "stats").stdout)["control"].items()}

        before = {n: rep.stats(n) for n in (1, 2)}
        control_before = server_counters()
        c1_ns = lab.ns("client1")
        victim_mac = lab.run("client1", ["cat", "/sys/class/net/eth0/address"]).stdout.strip()
        rx_frames_before = int(lab.run("client1", ["cat", "/sys/class/net/eth0/statistics/rx_packets"]).stdout)

        # The genuine stream runs through everything below.
        load_procs = [lab.start(f"load-{db}", None, [REPLICAST, "load", "--store", rep.store, "--db", db,
                                                     "--batch", "64", loads[db]]) for db in DBS]
        forge = lab.start("forge", "client3", [
            sys.executable, os.path.join(HERE, "forge.py"), "eth0", victim_mac, server_ip, str(PORT),
            str(before[1]["orders"]["stream_id"]), lab.addr("client3"), str(FLOOD_COUNT), str(FLOOD_SECONDS)])

        phase("stream and forger started")
        # -- control plane floods, while the forger runs
        junk = json.loads(lab.run("client3", [sys.executable, os.path.join(HERE, "control_junk.py"), server_ip,
                                              str(labrun.CONTROL_PORT), f"{certs}/ca.pem",
                                              str(CONTROL_COUNT)], timeout=120).stdout)
        phase("junk connections refused")
        rogue = cli("rogue", "client3", "databases", check=False)
        answers = {
            "not protobuf": raw("client3", "Keys", "hex:ffffffffff0a", CONTROL_COUNT),
            "not protobuf (a string that is not UTF-8)": raw("client3", "Subscribe", "hex:0a02fffe", CONTROL_COUNT),
            "over max_message_bytes": raw("client3", "Publish", f"size:{MAX_MESSAGE + 4096}", CONTROL_COUNT),
            "a database it lacks": raw("client3", "Subscribe", "hex:" + proto_string(1, "prices"), CONTROL_COUNT),
            "Stats without the admin role": raw("client3", "Stats", "hex:", CONTROL_COUNT),
            "RotateKey without the admin role": raw("client3", "RotateKey", "hex:" + proto_string(1, "orders"),
                                                    CONTROL_COUNT),
        }
        phase("bad requests answered")
        # Meanwhile another identity is served as ever.
        served = []
        for _ in range(3):
            keys = json.loads(cli("client2", "client2", "keys", "show", "orders").stdout.splitlines()[0])
            rec = labrun.json_lines(cli("client2", "client2", "recover", "orders", "--from", "1", "--to", "20").stdout)
            served.append((keys, rec[-1]))
        control_after = server_counters()

        phase("control floods done")
        labrun.wait_until("the forger done", lambda: not forge.alive(), 60, interval=0.1)
        self.assertEqual(forge.proc.returncode, 0, forge.output())
        report = json.loads(forge.output().strip().splitlines()[-1])
        sent = report["sent"]
        print(f"forged: {report}", file=sys.stderr)
        for proc in load_procs:
            labrun.wait_until(f"{proc.name} done", lambda proc=proc: not proc.alive(), 60, interval=0.2)
            self.assertEqual(proc.proc.returncode, 0, proc.output())

        # -- counted under its reason, exactly what was sent
        want = {"open_failures": sent["bad_tag"], "unknown_epoch": sent["unknown_epoch"],
                "wrong_stream": sent["wrong_stream"], "bad_length": sent["bad_length"],
                "truncated": sent["truncated"], "malformed": sent["bad_flags"] + sent["junk"]}

        def delta(n, db):
            s = rep.stats(n)
            return {r: s[db]["receive"][r] - before[n][db]["receive"][r] for r in DROP_REASONS}

        def counted():
            d = delta(1, "orders")
            return all(d[r] >= v for r, v in want.items()) and d["replays"] + d["too_old"] >= sent["replay"]

        labrun.wait_until(f"client1 counting every forged datagram (wants {want}, replay {sent['replay']})",
                          counted, 20, interval=0.2)
        phase("every forged datagram counted")
        final = rep.wait_caught_up([1, 2], 40)
        phase("caught up")
        d1 = delta(1, "orders")
        print(f"client1 orders drops: {d1}", file=sys.stderr)
        for r, v in want.items():
            self.assertEqual(d1[r], v, f"client1 {r}")
        self.assertEqual(d1["replays"] + d1["too_old"], sent["replay"], "every replayed packet_seq refused")
        self.assertGreater(d1["replays"], 0, "recent packet_seqs replayed are counted as replays")
        self.assertEqual(d1["queue_overflows"], 0)
        # The spoofed source: the kernel drops it (source-specific join), the frames did arrive.
        self.assertEqual(d1["wrong_source"], 0, "the kernel keeps other sources out of the socket")
        rx_frames = int(lab.run("client1", ["cat", "/sys/class/net/eth0/statistics/rx_packets"]).stdout)
        self.assertGreaterEqual(rx_frames - rx_frames_before, sum(sent.values()), f"{c1_ns} eth0 received the flood")
        # A flood of unknown epochs asks for keys at most once per keys interval (100 ms), not per packet.
        fetches = final[1]["orders"]["control"]["key_fetches"] - before[1]["orders"]["control"]["key_fetches"]
        self.assertLessEqual(fetches, 5 + 10 * (FLOOD_SECONDS + 2), "Keys per forged epoch")
        for n, db in ((1, "prices"), (2, "orders"), (2, "prices")):
            self.assertEqual(delta(n, db), {r: 0 for r in DROP_REASONS}, f"client{n} {db} saw no forged packet")

        # -- nothing forged applied: the same chains as the untouched client, the replicas equal the master
        for n in (1, 2):
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        for db in DBS:
            c1, c2 = final[1][db], final[2][db]
            self.assertEqual(c1["applied_lsn"], rep.master_last(db))
            self.assertEqual(c1["applied_lsn"], c2["applied_lsn"])
            for section, key in (("chains", "applied"), ("chains", "updates_applied"), ("chains", "dropped_broken"),
                                 ("repair", "gaps"), ("repair", "lsns_recovered")):
                self.assertEqual(c1[section][key], c2[section][key], f"{db} {section}.{key}: client1 vs client2")
            self.assertEqual(c1["chains"]["dropped_broken"], 0, db)
            self.assertEqual(c1["repair"]["gaps"], 0, f"{db}: no forged packet broke a chain")
        for n in (1, 2):
            self.assertTrue(rep.clients[n].alive(), f"client{n} still running")
            self.assertEqual(rep.clients[n].stop(), 0, rep.clients[n].output()[-3000:])
        self.assertEqual(rep.mismatches([1, 2]), [])

        # -- the control plane: refused, counted, the others served
        print(f"control junk: {junk}", file=sys.stderr)
        for kind in ("garbage", "no_certificate"):
            self.assertEqual(junk[kind]["connections"], CONTROL_COUNT)
            self.assertEqual(junk[kind]["closed"], CONTROL_COUNT, f"{kind}: the server closed every connection")
        self.assertEqual(junk["no_certificate"]["application_bytes"], 0, "no HTTP/2 byte for a client without certificate")
        self.assertEqual(rogue.returncode, 1)
        self.assertIn("UNAVAILABLE", rogue.stderr)
        codes = {"not protobuf": 3, "not protobuf (a string that is not UTF-8)": 3, "over max_message_bytes": 8,
                 "a database it lacks": 7, "Stats without the admin role": 7, "RotateKey without the admin role": 7}
        for what, got in answers.items():
            self.assertEqual(got, [codes[what]] * CONTROL_COUNT, what)
        k = {key: control_after[key] - control_before[key] for key in control_before}
        print(f"server control counters: {k}", file=sys.stderr)
        self.assertEqual(k["invalid"], 2 * CONTROL_COUNT)
        self.assertEqual(k["denied"], 3 * CONTROL_COUNT)
        self.assertEqual(k["exhausted"], CONTROL_COUNT, "over-size requests counted")
        self.assertEqual(k["oversize"], CONTROL_COUNT)
        self.assertEqual(k["publishes"], 0)
        self.assertEqual(len(served), 3)
        for keys, rec in served:
            self.assertEqual(keys["db"], "orders")
            self.assertEqual(int(rec["lsns"]), 20)
        self.assertTrue(server.alive())
        self.assertEqual(server.stop(), 0, server.output()[-3000:])
        phase("done")


if __name__ == "__main__":
    unittest.main(verbosity=2)
