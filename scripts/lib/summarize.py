#!/usr/bin/env python3
"""Counts what scripts/test ran: every GoogleTest case (from the XML each test
executable writes), every other meson test, and every fuzz target; prints the
closing line "N passed, N failed" and exits 1 when anything failed."""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET


def gtest_counts(xml_path):
    passed = failed = skipped = 0
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        if case.find("failure") is not None:
            failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(results):
    passed = failed = skipped = 0
    for log in sorted(results.glob("*.json")):
        phase = log.stem
        xml_dir = results / phase
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            ok = entry["result"] in ("OK", "EXPECTEDFAIL")
            exe = pathlib.Path(entry["command"][0]).name if entry.get("command") else ""
            xml = xml_dir / f"{exe}.xml"
            if xml.is_file():
                p, f, s = gtest_counts(xml)
                # a crash after the XML was written still fails the executable
                if not ok and f == 0:
                    f = 1
            elif entry["result"] == "SKIP":
                p, f, s = 0, 0, 1
            else:
                p, f, s = (1, 0, 0) if ok else (0, 1, 0)
            passed, failed, skipped = passed + p, failed + f, skipped + s
    counts = results / "fuzz.counts"
    if counts.is_file():
        ok, bad = (int(x) for x in counts.read_text().split())
        passed, failed = passed + ok, failed + bad
    # Phases scripts/test saw fail: each one that left no failed test behind
    # (a build error, a suite that could not run) counts as one failure.
    phases = results / "phases.failed"
    if phases.is_file():
        with_failed_tests = {log.stem for log in results.glob("*.json")
                             if any(json.loads(line)["result"] not in ("OK", "EXPECTEDFAIL", "SKIP")
                                    for line in log.read_text().splitlines())}
        for name in phases.read_text().split():
            # fuzz:<target> failures are in fuzz.counts already
            if name not in with_failed_tests and not name.startswith("fuzz:"):
                failed += 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
