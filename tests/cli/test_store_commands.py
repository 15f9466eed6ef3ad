#!/usr/bin/env python3
"""The data commands as an operator drives them: put/get/del/dump/log/checksum/
load/copy on real stores, and every bad input: a clear message naming what was
wrong and where, a non-zero exit, and nothing committed that should not be."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPLICAST = sys.argv.pop(1)


def run(*args, stdin=None):
    p = subprocess.run([REPLICAST, *args], input=stdin, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def ok(*args, stdin=None):
    rc, out, err = run(*args, stdin=stdin)
    if rc != 0:
        raise AssertionError(f"replicast {' '.join(args)} exited {rc}: {err}")
    return out


class StoreCommands(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rc-cli-store-")
        self.m = os.path.join(self.dir, "master")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_put_get_del_and_log(self):
        ok("put", "--store", self.m, "--db", "t", "--group", "5", "k", "v1")
        ok("put", "--store", self.m, "--db", "t", "k", "v2")
        self.assertEqual(ok("get", "--store", self.m, "--db", "t", "k"), "v2")
        ok("del", "--store", self.m, "--db", "t", "k")
        rc, _, err = run("get", "--store", self.m, "--db", "t", "k")
        self.assertEqual(rc, 1)
        self.assertIn('no key "k"', err)
        log = ok("log", "--store", self.m, "--db", "t", "--from", "1").splitlines()
        self.assertEqual([line.split("\t")[:3] for line in log], [["1", "put", "5"], ["2", "put", "0"], ["3", "del", "0"]])
        self.assertEqual(len(ok("log", "--store", self.m, "--db", "t", "--from", "2", "--to", "2").splitlines()), 1)

    def test_load_reads_files_and_pipes_line_by_line(self):
        # A file whose last line has no newline, lines longer than any stdio
        # buffer, and the same records through a pipe: the same store.
        big = "v" * (3 << 20)
        path = os.path.join(self.dir, "records.tsv")
        with open(path, "w") as f:
            f.write("".join(f"k{i}\tv{i}\n" for i in range(5000)) + f"huge\t{big}\nlast\tend")
        self.assertIn("loaded=5002", ok("load", "--store", self.m, "--db", "file", path))
        with open(path) as f:
            self.assertIn("loaded=5002", ok("load", "--store", self.m, "--db", "pipe", "-", stdin=f.read()))
        self.assertEqual(ok("get", "--store", self.m, "--db", "file", "last"), "end")
        self.assertEqual(len(ok("get", "--store", self.m, "--db", "pipe", "huge")), len(big))
        sums = [ok("checksum", "--store", self.m, "--db", d).split() for d in ("file", "pipe")]
        self.assertEqual([f for f in sums[0] if f.startswith(("records=", "sha256="))],
                         [f for f in sums[1] if f.startswith(("records=", "sha256="))])
        missing = os.path.join(self.dir, "absent.tsv")
        rc, _, err = run("load", "--store", self.m, "--db", "t", missing)
        self.assertEqual(rc, 2)
        self.assertIn(f"cannot open {missing}: No such file or directory", err)

    def test_trim_keeps_the_newest_entries_and_all_data(self):
        ok("load", "--store", self.m, "--db", "t", "-", stdin="".join(f"k{i}\tv\n" for i in range(100)))
        self.assertEqual(ok("trim", "--store", self.m, "--db", "t", "--keep-updates", "30").strip(),
                         "removed=70 oldest_lsn=71 last_lsn=100")
        self.assertEqual(ok("log", "--store", self.m, "--db", "t").splitlines()[0].split("\t")[0], "71")
        self.assertIn("records=100", ok("checksum", "--store", self.m, "--db", "t"))
        rc, _, err = run("trim", "--store", self.m, "--db", "t")
        self.assertEqual(rc, 2)
        self.assertIn("--keep-updates", err)

    def set_multicast_lsn(self, db, lsn):
        """What a server stores as it streams `db`: stream/<id> (store/LAYOUT.md)."""
        import lmdb  # python3-lmdb, as the reader test uses
        env = lmdb.open(self.m, max_dbs=256, subdir=True)
        try:
            meta = env.open_db(b"_meta", create=False)
            with env.begin(write=True, db=meta) as txn:
                db_id = int.from_bytes(txn.get(b"db/" + db.encode()), "big")
                value = (1 << 40).to_bytes(8, "big") + (3).to_bytes(4, "big") + lsn.to_bytes(8, "big")
                txn.put(b"stream/%d" % db_id, value)
        finally:
            env.close()

    def test_trim_keeps_what_a_server_has_not_multicast(self):
        ok("load", "--store", self.m, "--db", "t", "-", stdin="".join(f"k{i}\tv\n" for i in range(100)))
        self.set_multicast_lsn("t", 40)
        rc, out, err = run("trim", "--store", self.m, "--db", "t", "--keep-updates", "10")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "removed=40 oldest_lsn=41 last_lsn=100")
        self.assertIn("kept LSN 41 and later: not multicast yet", err)
        self.assertEqual(ok("trim", "--store", self.m, "--db", "t", "--keep-updates", "10", "--force").strip(),
                         "removed=50 oldest_lsn=91 last_lsn=100")

    def test_copy_bootstraps_again_a_replica_ahead_of_a_restored_master(self):
        ok("load", "--store", self.m, "--db", "t", "-", stdin="".join(f"k{i}\told\n" for i in range(5)))
        backup = os.path.join(self.dir, "backup")
        shutil.copytree(self.m, backup)
        ok("load", "--store", self.m, "--db", "t", "-", stdin="".join(f"k{i}\tnewer\n" for i in range(5, 10)))
        r = os.path.join(self.dir, "replica")
        ok("copy", "--from", self.m, "--to", r, "--db", "t")  # the replica has applied LSN 10
        shutil.rmtree(self.m)
        shutil.copytree(backup, self.m)  # same identity, LSNs 6.. to be written again, differently
        ok("load", "--store", self.m, "--db", "t", "-", stdin="".join(f"x{i}\tother\n" for i in range(3)))
        out = ok("copy", "--from", self.m, "--to", r, "--db", "t")
        self.assertRegex(out, r"bootstrapped=8 ")
        sums = [ok("checksum", "--store", s, "--db", "t").split() for s in (self.m, r)]
        self.assertEqual([f for f in sums[0] if f.startswith(("records=", "sha256="))],
                         [f for f in sums[1] if f.startswith(("records=", "sha256="))])

    def test_value_from_file_is_byte_exact(self):
        blob = os.path.join(self.dir, "blob")
        with open(blob, "wb") as f:
            f.write(bytes(range(256)) * 40)
        ok("put", "--store", self.m, "--db", "b", "--file", blob, "blob")
        p = subprocess.run([REPLICAST, "get", "--store", self.m, "--db", "b", "blob"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, bytes(range(256)) * 40)

    def test_load_stops_at_the_bad_line_and_names_it(self):
        src = self.file("x.tsv", "a\t1\nb\t2\nbad line\nc\t3\n")
        rc, _, err = run("load", "--store", self.m, "--db", "t", src)
        self.assertNotEqual(rc, 0)
        self.assertIn("x.tsv:3:", err)
        self.assertIn("no tab", err)
        self.assertIn("records=2 lsn=2", ok("checksum", "--store", self.m, "--db", "t"))

    def test_load_json_errors_name_line_and_field(self):
        src = self.file("x.jsonl", '{"key":"a","value":"1"}\n{"key":"b","op":"drop"}\n')
        rc, _, err = run("load", "--store", self.m, "--db", "j", "--batch", "1", src)
        self.assertNotEqual(rc, 0)
        self.assertIn("x.jsonl:2:", err)
        self.assertIn('op "drop" is not put or del', err)
        src = self.file("g.jsonl", '{"key":"a","value":"1","group":70000}\n')
        rc, _, err = run("load", "--store", self.m, "--db", "g", src)
        self.assertNotEqual(rc, 0)
        self.assertIn("group 70000 is over 65535", err)

    def test_load_from_stdin_and_batches_agree(self):
        text = "".join(f"k{i:04d}\tv{i}\n" for i in range(1000))
        ok("load", "--store", self.m, "--db", "one", "--batch", "1", "-", stdin=text)
        ok("load", "--store", self.m, "--db", "big", "--batch", "4096", "-", stdin=text)
        one = ok("checksum", "--store", self.m, "--db", "one").split(" ", 1)[1]
        big = ok("checksum", "--store", self.m, "--db", "big").split(" ", 1)[1]
        self.assertEqual(one, big)
        self.assertIn("records=1000 lsn=1000", one)

    def test_load_rate_holds_the_schedule(self):
        # 300 records at 2000/s: the last is due 299 / 2000 s after the first;
        # every record is loaded, in transactions of what was due.
        text = "".join(f"r{i:04d}\tv{i}\n" for i in range(300))
        out = ok("load", "--store", self.m, "--db", "paced", "--rate", "2000", "-", stdin=text)
        fields = dict(x.split("=") for x in out.split())
        self.assertEqual(fields["loaded"], "300")
        self.assertGreaterEqual(float(fields["seconds"]), 0.14)
        self.assertIn("records=300 lsn=300", ok("checksum", "--store", self.m, "--db", "paced"))

    def test_format_is_guessed_past_comments_and_blank_lines(self):
        src = self.file("c.jsonl", '# exported orders\n\n{"key":"a","value":"1"}\n{"key":"b","value":"2"}\n')
        ok("load", "--store", self.m, "--db", "c", src)
        self.assertIn("records=2", ok("checksum", "--store", self.m, "--db", "c"))

    def test_replica_refuses_writes_and_master_refuses_copy_target(self):
        ok("put", "--store", self.m, "--db", "t", "a", "1")
        r = os.path.join(self.dir, "replica")
        ok("copy", "--from", self.m, "--to", r, "--db", "t")
        rc, _, err = run("put", "--store", r, "--db", "t", "k", "v")
        self.assertNotEqual(rc, 0)
        self.assertIn("replica store, not a master", err)
        rc, _, err = run("copy", "--from", r, "--to", self.m, "--db", "t")
        self.assertNotEqual(rc, 0)

    def test_bad_store_and_database_are_named(self):
        rc, _, err = run("put", "--store", "/proc/no/such", "--db", "t", "a", "b")
        self.assertNotEqual(rc, 0)
        self.assertIn("/proc/no/such", err)
        ok("put", "--store", self.m, "--db", "t", "a", "1")
        rc, _, err = run("get", "--store", self.m, "--db", "missing", "a")
        self.assertNotEqual(rc, 0)
        self.assertIn("database missing", err)
        rc, _, err = run("put", "--store", self.m, "--db", "t", "k" * 600, "v")
        self.assertNotEqual(rc, 0)
        self.assertIn("records=1", ok("checksum", "--store", self.m, "--db", "t"))

    def test_not_a_store_is_refused_without_damage(self):
        bogus = os.path.join(self.dir, "bogus")
        os.mkdir(bogus)
        with open(os.path.join(bogus, "data.mdb"), "wb") as f:
            f.write(b"this is not an LMDB file" * 100)
        rc, _, err = run("checksum", "--store", bogus, "--db", "t")
        self.assertNotEqual(rc, 0)
        self.assertIn(bogus, err)
        with open(os.path.join(bogus, "data.mdb"), "rb") as f:
            self.assertEqual(f.read(), b"this is not an LMDB file" * 100)


if __name__ == "__main__":
    unittest.main(verbosity=2)
