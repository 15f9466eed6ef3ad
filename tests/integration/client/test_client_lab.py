#!/usr/bin/env python3
"""The replica daemon end to end on the netns lab (scripts/lab, through
scripts/lib/labrun.py): a real `replicast server` (DPDK net_af_packet, its
control plane on mutual TLS) and three `replicast client` daemons in client
namespaces, with nftables loss of 0 %, 2 % and 10 % toward them.

20 000 updates of mixed sizes (1 B .. 64 KiB; puts and deletes) in two
databases and two reader groups (client3 may read group 1 only). client2 is
killed with SIGKILL mid-stream and restarted; client3 starts after the first
half was written, so it bootstraps from a snapshot, then follows the second
half under 10 % loss. At the end every
replica's `replicast checksum` equals the master's for the groups it may
read, and the counters show the mechanisms ran: repairs on the lossy
clients, a snapshot on the late one, a resume from the applied LSN on the
restarted one, and key fetches for the server's rotations (every 3 s) with no
packet failing to open. Midway client1 loses one database in the access list
(SIGHUP): it stops following that one at the next key switch, its replica
readable, while it and the others follow everything else to the end."""
import json
import os
import random
import signal
import sys
import time
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 10_000
LOSS = {1: 0, 2: 2, 3: 10}
GROUPS_OF = {1: None, 2: None, 3: [1]}  # None: every group


class ClientLab(unittest.TestCase):
    def setUp(self):
        self.lab = labrun.Lab(REPLICAST, 3).up()
        self.addCleanup(self.lab.close)
        self.certs = self.lab.make_certs(["client1", "client2", "client3"])
        self.store = os.path.join(self.lab.dir, "master")

    def client_config(self, n):
        path = os.path.join(self.lab.dir, f"client{n}.toml")
        with open(path, "w") as f:
            f.write(f"""[control]
server = "{self.lab.addr('server')}:{labrun.CONTROL_PORT}"
certificate = "{self.certs}/client{n}.pem"
private_key = "{self.certs}/client{n}.key"
ca = "{self.certs}/ca.pem"
retry_ms = 200

[replica]
store = "{self.replica(n)}"
databases = ["*"]
durability = "nosync"

[receive]
interface = "eth0"
rcvbuf_bytes = 16777216

[policy]
recover_retry_ms = 50

[stats]
socket = "{self.sock(n)}"
log_interval_ms = 2000
""")
        return path

    def replica(self, n):
        return os.path.join(self.lab.dir, f"replica{n}")

    def sock(self, n):
        return os.path.join(self.lab.dir, f"client{n}.sock")

    def start_client(self, n, tag=""):
        return self.lab.start(f"client{n}{tag}", f"client{n}", [REPLICAST, "client", "--config", self.client_config(n)])

    def stats(self, n):
        p = self.lab.run(None, [REPLICAST, "client-stats", "--socket", self.sock(n)], check=False, timeout=10)
        if p.returncode != 0:
            return None
        try:
            return {d["name"]: d for d in json.loads(p.stdout)["databases"]}
        except (json.JSONDecodeError, KeyError):
            return None

    def master_last(self, db):
        line = labrun.checksum(REPLICAST, self.store, db)
        return int(line.split("lsn=")[1].split()[0])

    def caught_up(self, n, want, dbs=DBS):
        s = self.stats(n)
        return s is not None and all(db in s and s[db]["applied_lsn"] >= want[db] for db in dbs)

    def write_acl(self, path, client1_dbs):
        with open(path, "w") as f:
            for n in (1, 2, 3):
                dbs = client1_dbs if n == 1 else ["*"]
                f.write(f'[[identity]]\nname = "client{n}"\nroles = ["subscriber"]\ndatabases = {json.dumps(dbs)}\n')
                if GROUPS_OF[n]:
                    f.write(f"groups = {GROUPS_OF[n]}\n")
                f.write("\n")

    def test_three_clients_converge_under_loss_kill_and_late_start(self):
        lab = self.lab
        rng = random.Random(20261202)
        halves = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            with open(path) as f:
                lines = f.readlines()
            halves[db] = []
            for h, part in enumerate((lines[:len(lines) // 2], lines[len(lines) // 2:])):
                hp = os.path.join(lab.dir, f"{db}.{h}.jsonl")
                with open(hp, "w") as f:
                    f.writelines(part)
                halves[db].append(hp)
            lab.run(None, [REPLICAST, "put", "--store", self.store, "--db", db, f"d{i}/created", "1"])

        acl = os.path.join(lab.dir, "access.toml")
        self.write_acl(acl, client1_dbs=DBS)
        cfg = os.path.join(lab.dir, "server.toml")
        with open(cfg, "w") as f:
            f.write(f"""[server]
store = "{self.store}"
profile = "{labrun.PROFILE}"
[streams]
databases = {json.dumps(DBS)}
group_range = "239.195.0.0/24"
port = 5000
[bundle]
max_updates = 64
max_bytes = 65536
[pacing]
rate_mbps = 400
[keys]
rotate_seconds = 3
[control]
listen = "{lab.addr('server')}:{labrun.CONTROL_PORT}"
certificate = "{self.certs}/server.pem"
private_key = "{self.certs}/server.key"
ca = "{self.certs}/ca.pem"
access_list = "{acl}"
""")
        for n, pct in LOSS.items():
            if pct:
                lab.loss(n, pct)
        env = dict(lab.env, REPLICAST_IFACE="eth0", REPLICAST_SOURCE_IP=lab.addr("server"))
        server = lab.start("server", "server", [REPLICAST, "server", "--config", cfg], env=env)
        server.wait_for_line(r"control service on", 60)

        c1, c2 = self.start_client(1), self.start_client(2)
        for db in DBS:
            lab.run(None, [REPLICAST, "load", "--store", self.store, "--db", db, halves[db][0]])
        # client2 dies mid-stream, once it has applied something of the first half.
        labrun.wait_until("client2 applying", lambda: (self.stats(2) or {}).get("orders", {}).get("applied_lsn", 0) > 500, 30)
        c2.signal(signal.SIGKILL)
        c2.proc.wait()
        c2 = self.start_client(2, "-restarted")
        c3 = self.start_client(3)  # late: bootstraps from a snapshot, then follows the second half
        labrun.wait_until("client3 bootstrapped", lambda: all(
            (self.stats(3) or {}).get(db, {}).get("repair", {}).get("snapshots", 0) >= 1 for db in DBS), 30)
        # client1 loses "prices" (access list reloaded by SIGHUP): the server fails its
        # Keys and rotates that stream's key, so client1 stops following it at the
        # switch, with the replica readable; everyone else misses nothing.
        self.write_acl(acl, client1_dbs=["orders"])
        server.signal(signal.SIGHUP)
        server.wait_for_line(r"access list reloaded", 10)
        # The new key is announced in-band at once; client1's Keys for it is
        # refused. Only then the second half: written earlier, it could all go
        # out under the old key, which client1 still legitimately holds.
        labrun.wait_until("client1 denied prices", lambda: (self.stats(1) or {}).get("prices", {}).get("state") == "denied",
                          30, interval=0.2)
        for db in DBS:
            lab.run(None, [REPLICAST, "load", "--store", self.store, "--db", db, halves[db][1]])

        want = {db: self.master_last(db) for db in DBS}
        for n in (1, 2, 3):
            dbs = ["orders"] if n == 1 else DBS
            labrun.wait_until(f"client{n} caught up with {want}", lambda n=n, dbs=dbs: self.caught_up(n, want, dbs), 60,
                              interval=0.5)
        # Keys rotate every 3 s: a fast run can catch up before the first switch,
        # so wait (bounded) until clients 1 and 3 follow a later epoch on every
        # database they still read, which needs the announced key fetched.
        def rotated():
            for n in (1, 3):
                s = self.stats(n) or {}
                for db in DBS:
                    if n == 1 and db == "prices":
                        continue  # revoked
                    if s.get(db, {}).get("key_epoch", 0) <= 1:
                        return False
            return True

        labrun.wait_until("a key switch followed by clients 1 and 3", rotated, 20, interval=0.2)
        final = {n: self.stats(n) for n in (1, 2, 3)}
        for n in (1, 2, 3):
            for db in DBS:
                d = final[n][db]
                print(f"client{n} {db}: loss {LOSS[n]} % packets={d['receive']['packets']} "
                      f"chains applied={d['chains']['applied']} dropped={d['chains']['dropped_broken']} "
                      f"gaps={d['repair']['gaps']} recovered={d['repair']['lsns_recovered']} "
                      f"snapshots={d['repair']['snapshots']} resubscribes={d['control']['resubscribes']} "
                      f"unicast={d['control']['unicast_periods']} keys={d['control']['key_fetches']} "
                      f"epoch={d['key_epoch']} unknown_epoch={d['receive']['unknown_epoch']} apply p50/p99 ns="
                      f"{d['apply_latency']['p50_ns']}/{d['apply_latency']['p99_ns']}", file=sys.stderr)

        for n, proc in ((1, c1), (2, c2), (3, c3)):
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        for n in (1, 2, 3):
            for db in DBS:
                master = labrun.checksum(REPLICAST, self.store, db, GROUPS_OF[n])
                replica = labrun.checksum(REPLICAST, self.replica(n), db)
                if n == 1 and db == "prices":
                    self.assertTrue(replica.startswith("db=prices records="), f"revoked, still readable: {replica}")
                    self.assertLess(int(replica.split("lsn=")[1].split()[0]), want[db], "and behind: revoked")
                    continue
                self.assertEqual(replica, master, f"client{n} {db}")
        self.assertIn("prices: Keys refused (PERMISSION_DENIED", c1.output())

        for db in DBS:
            s3 = final[3][db]
            self.assertGreaterEqual(s3["repair"]["snapshots"], 1, f"client3 {db} bootstrapped: {s3}")
            self.assertGreater(s3["repair"]["lsns_recovered"], 0, f"client3 {db} repaired its 10 % loss: {s3}")
            self.assertGreater(s3["repair"]["bytes_recovered"], 0, "and counted the bytes it fetched")
            self.assertGreater(s3["repair"]["gaps"], 0)
            self.assertGreater(final[2][db]["repair"]["gaps"] + final[2][db]["repair"]["snapshots"], 0)
            for n in (1, 2, 3):
                self.assertEqual(final[n][db]["receive"]["open_failures"], 0)
                # No max_datagram in the config: the lab veth's MTU (1500) less 28.
                self.assertEqual(final[n][db]["receive"]["slot_bytes"], 1472)
                self.assertEqual(final[n][db]["receive"]["wrong_source"], 0)
            # Keys rotate every 3 s: each client fetched the announced keys and follows a later epoch.
            for n in (1, 3):
                if n == 1 and db == "prices":
                    continue  # revoked
                self.assertGreaterEqual(final[n][db]["control"]["key_fetches"], 1, f"client{n} {db}")
                self.assertGreater(final[n][db]["key_epoch"], 1, f"client{n} {db}")
        self.assertIn("resuming from LSN", c2.output(), "the restarted client2 resumed from its applied LSN")
        dropped = lab.loss_counters()
        self.assertGreater(dropped.get(3, 0), 0, "the hub dropped frames toward client3")


if __name__ == "__main__":
    unittest.main(verbosity=2)
