#!/usr/bin/env python3
"""Applications read replicas with plain LMDB: this reads a replica with Debian's
python3-lmdb, following store/LAYOUT.md only, and must compute the same record
count, applied LSN and SHA-256 as `replicast checksum` (and as the master)."""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

import lmdb

REPLICAST = sys.argv.pop(1)


def run(*args):
    p = subprocess.run([REPLICAST, *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"replicast {' '.join(args)}: {p.returncode}: {p.stderr}")
    return p.stdout


def read_replica(path, db):
    env = lmdb.open(path, readonly=True, lock=True, max_dbs=256, subdir=True)
    try:
        meta = env.open_db(b"_meta", create=False)
        data = env.open_db(db.encode(), create=False)
        with env.begin() as txn:
            kind = txn.get(b"kind", db=meta)
            applied = txn.get(f"applied/{db}".encode(), db=meta)
            incomplete = txn.get(f"incomplete/{db}".encode(), db=meta)
            h = hashlib.sha256()
            records = 0
            for key, value in txn.cursor(db=data):
                group = struct.unpack(">H", value[:2])[0]
                h.update(struct.pack(">I", len(key)) + key + struct.pack(">H", group))
                h.update(struct.pack(">I", len(value) - 2) + value[2:])
                records += 1
        return kind, struct.unpack(">Q", applied)[0], incomplete, f"db={db} records={records} lsn={struct.unpack('>Q', applied)[0]} sha256={h.hexdigest()}"
    finally:
        env.close()


class PythonReader(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-pyreader-")
        self.master = os.path.join(self.dir, "master")
        self.replica = os.path.join(self.dir, "replica")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_replica_read_with_python_lmdb_matches(self):
        lines = [f'{{"key": "order/{i:05d}", "value": "{{\\"qty\\": {i}}}", "group": {i % 3}}}' for i in range(3000)]
        lines += [f'{{"key": "order/{i:05d}", "op": "del"}}' for i in range(0, 3000, 7)]
        lines.append('{"key": "bin", "value_base64": "AAECAwT/"}')
        src = os.path.join(self.dir, "orders.jsonl")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        run("load", "--store", self.master, "--db", "orders", "--batch", "500", src)
        run("copy", "--from", self.master, "--to", self.replica, "--db", "orders", "--chain", "333")
        kind, applied, incomplete, line = read_replica(self.replica, "orders")
        self.assertEqual(kind, b"replica")
        self.assertIsNone(incomplete)
        self.assertEqual(applied, len(lines))
        self.assertEqual(line, run("checksum", "--store", self.replica, "--db", "orders").strip())
        self.assertEqual(line, run("checksum", "--store", self.master, "--db", "orders").strip())

    def test_group_filtered_replica_matches_filtered_master(self):
        src = os.path.join(self.dir, "t.tsv")
        with open(src, "w") as f:
            f.write("".join(f"k{i}\tv{i}\t{i % 4}\n" for i in range(500)))
        run("load", "--store", self.master, "--db", "t", src)
        run("copy", "--from", self.master, "--to", self.replica, "--db", "t", "--groups", "2")
        _, _, _, line = read_replica(self.replica, "t")
        self.assertEqual(line, run("checksum", "--store", self.master, "--db", "t", "--groups", "2").strip())
        self.assertIn("records=250", line)

    def test_incremental_copy_catches_up(self):
        src = os.path.join(self.dir, "a.tsv")
        with open(src, "w") as f:
            f.write("".join(f"a{i}\t{i}\n" for i in range(100)))
        run("load", "--store", self.master, "--db", "a", src)
        out = run("copy", "--from", self.master, "--to", self.replica, "--db", "a")
        self.assertIn("bootstrapped=100", out)
        run("put", "--store", self.master, "--db", "a", "late", "value")
        out = run("copy", "--from", self.master, "--to", self.replica, "--db", "a")
        self.assertIn("bootstrapped=0 applied=1", out)
        _, applied, _, line = read_replica(self.replica, "a")
        self.assertEqual(applied, 101)
        self.assertEqual(line, run("checksum", "--store", self.master, "--db", "a").strip())


if __name__ == "__main__":
    unittest.main(verbosity=2)
