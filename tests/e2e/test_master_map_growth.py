#!/usr/bin/env python3
"""Master map growth under load while the server streams.

The master store starts with a 1 MiB LMDB map in every process that writes
it: the server (`[server] initial_map_bytes`, Publish writes in its process)
and each `replicast load` (`--initial-map-bytes`). Some 25 MB of updates are
written in six parts, "orders" by local loads and "prices" by Publish over
the control plane, so the map fills and doubles again and again, in the
loads and in the server, which also adopts the sizes the loads set. Three
clients follow: client2 under 3 % loss (its gaps are recovered by Recover
from the growing log), client3 joins after the second part and bootstraps
from a Snapshot while the later parts grow the map. Every replica ends equal
to the master; the map the store's meta page records (`mdb_stat -e`) is at
least 16 times the first one and the server logged several growths, some of
them after client3's snapshot."""
import json
import os
import random
import re
import subprocess
import sys
import unittest

REPLICAST = sys.argv.pop(1)
SOURCE_ROOT = sys.argv.pop(1)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402

DBS = ["orders", "prices"]
UPDATES_PER_DB = 6_000
PARTS = 6
INITIAL_MAP = 1 << 20
CLIENTS = {1: None, 2: [1], 3: None}
GREW = r"store \S+: map grew from (\d+) to (\d+) bytes"


def meta_map_bytes(store):
    """The map size LMDB's meta page records (it only ever increases), read by LMDB's own mdb_stat."""
    out = subprocess.run(["mdb_stat", "-e", store], capture_output=True, text=True, timeout=30, check=True).stdout
    return int(re.search(r"Map size: (\d+)", out).group(1))


class MasterMapGrowth(unittest.TestCase):
    def test_map_grows_under_load_while_streaming_recover_and_snapshot(self):
        lab = labrun.Lab(REPLICAST, len(CLIENTS)).up()
        self.addCleanup(lab.close)
        rep = labrun.Replication(lab, REPLICAST, DBS, CLIENTS, publisher=True,
                                 server={"server": {"initial_map_bytes": INITIAL_MAP, "stats_interval_ms": 200}})
        small = ["--initial-map-bytes", str(INITIAL_MAP)]

        def load(db, path):
            return lab.run(None, [REPLICAST, "load", "--store", rep.store, "--db", db, *small, path])

        # Created with the small map too (`put` would record 1 GiB in the meta page).
        for i, db in enumerate(DBS):
            first = os.path.join(lab.dir, f"{db}.first.jsonl")
            with open(first, "w") as f:
                f.write(json.dumps({"key": f"d{i}/created", "value": "1"}) + "\n")
            load(db, first)
        self.assertLessEqual(meta_map_bytes(rep.store), 2 * INITIAL_MAP)
        rng = random.Random(1303)
        parts = {}
        for i, db in enumerate(DBS):
            path = os.path.join(lab.dir, f"{db}.jsonl")
            labrun.workload(path, i, UPDATES_PER_DB, rng)
            parts[db] = labrun.split_file(path, PARTS)
        lab.loss(2, 3)
        rep.start_server()
        rep.start_client(1), rep.start_client(2)
        labrun.wait_until("clients following", lambda: all(
            rep.applied(n, db) >= 1 for n in (1, 2) for db in DBS), 30, interval=0.2)

        grew_at_snapshot = None
        for k in range(PARTS):
            load("orders", parts["orders"][k])
            p = rep.publish("prices", parts["prices"][k], "--batch", "500")
            self.assertIn("updates=", p.stdout)
            if k == 1:
                c3 = rep.start_client(3)  # a Snapshot while the next parts grow the map
            if k == 2:
                labrun.wait_until("client3 bootstrapped", lambda: all(
                    re.search(rf"database {db}: snapshot applied", c3.output()) for db in DBS), 30, interval=0.1)
                grew_at_snapshot = len(re.findall(GREW, rep.server.output()))
            self.assertTrue(rep.server.alive(), f"the server runs on through part {k}")

        final = rep.wait_caught_up(list(CLIENTS), 40)
        for n in CLIENTS:
            for db in DBS:
                print(rep.describe(n, db, final[n][db]), file=sys.stderr)
        for n, proc in rep.clients.items():
            self.assertEqual(proc.stop(), 0, f"client{n} exits 0 on SIGTERM:\n{proc.output()[-3000:]}")
        self.assertEqual(rep.mismatches(list(CLIENTS)), [])

        # The map grew: in the meta page, and as the server saw it, several times.
        meta = meta_map_bytes(rep.store)
        grew = [(int(a), int(b)) for a, b in re.findall(GREW, rep.server.output())]
        print(f"map: meta {meta} bytes (first {INITIAL_MAP}); server: {grew}; {grew_at_snapshot} growths "
              f"before client3's snapshot", file=sys.stderr)
        self.assertGreaterEqual(meta, 16 * INITIAL_MAP)
        self.assertGreaterEqual(len(grew), 3, rep.server.output()[-3000:])
        self.assertTrue(all(b > a for a, b in grew))
        self.assertGreater(len(grew), grew_at_snapshot, "the map grew while client3 followed after its snapshot")
        self.assertEqual(rep.server.stop(), 0, rep.server.output()[-3000:])

        for n in CLIENTS:
            for db in DBS:
                d = final[n][db]
                self.assertEqual(d["repair"]["snapshots"], 1, f"client{n} {db}: its bootstrap only")
                self.assertEqual(d["store_errors"], 0)
                self.assertEqual(d["receive"]["open_failures"], 0)
        for db in DBS:
            self.assertGreater(final[2][db]["repair"]["lsns_recovered"], 0, f"client2 {db}: Recover under loss")
            self.assertGreater(final[3][db]["chains"]["applied"], 0, f"client3 {db}: followed after its snapshot")
        self.assertGreater(lab.loss_counters().get(2, 0), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
