#!/usr/bin/env python3
"""The lab benchmarks' smoke run (meson test bench-lab-*, suite e2e): each
`replicast bench NAME --quick` once, so that none rots. It asserts the run
completed and measured something real, never a speed:

fanout: every cell of the quick grid has a complete run of both systems;
every run's egress per update is at least the payload (the veth counter was
read around the run); at N = 2 without loss Redis sends about two copies and
replicast about one (unicast fan-out against one multicast).

bulk: both systems complete both cells of the quick grid (replicast's
replicas equal the master by checksum, uftp's files equal the sent one by
cmp); every run's egress is at least its payload and, without loss, under
1.2x of it (one copy); at 5 % loss each system really repaired (replicast
recovered LSNs, uftp received NAKs), so the loss was injected."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

REPLICAST = sys.argv.pop(1)


def rows_of(path):
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


class LabBenchSmoke(unittest.TestCase):
    def test_fanout_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "fanout.csv")
            p = subprocess.run([REPLICAST, "bench", "fanout", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=280)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        cells = {(r["system"], r["clients"], r["loss_pct"]) for r in rows}
        self.assertEqual(cells, {(s, n, l) for s in ("replicast", "redis") for n in ("1", "2") for l in ("0", "5")})
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreaterEqual(float(r["egress_per_update"]), float(r["payload_bytes"]), r)
        at2 = {r["system"]: float(r["copies"]) for r in rows if r["clients"] == "2" and r["loss_pct"] == "0"}
        self.assertGreater(at2["redis"], 1.8, "Redis sends a copy per replica")
        self.assertLess(at2["replicast"], 1.1, "replicast sends one copy to both")

    def test_bulk_quick(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "bulk.csv")
            p = subprocess.run([REPLICAST, "bench", "bulk", "--quick", "--csv", out], capture_output=True,
                               text=True, timeout=220)
            print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
            self.assertEqual(p.returncode, 0)
            rows = rows_of(out)
        cells = {(r["system"], r["clients"], r["loss_pct"]) for r in rows}
        self.assertEqual(cells, {(s, "1", l) for s in ("replicast", "uftp") for l in ("0", "5")})
        for r in rows:
            self.assertEqual(r["complete"], "yes", r)
            self.assertGreater(float(r["goodput_mb_s"]), 0, r)
            self.assertGreaterEqual(float(r["egress_per_payload"]), 1.0, r)
            if r["loss_pct"] == "0":
                self.assertLess(float(r["egress_per_payload"]), 1.2, r)
            else:
                detail = dict(kv.split("=", 1) for kv in r["detail"].split() if "=" in kv)
                repaired = int(detail["recovered"]) if r["system"] == "replicast" else int(detail["naks"])
                self.assertGreater(repaired, 0, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
