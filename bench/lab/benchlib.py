"""What every lab benchmark (bench/lab/NAME.py) shares: where the binary and
the lab library are, the common options (--quick, --csv, --keep), progress
lines, and a CSV written row by row (a run cut short keeps what it measured).

The lab itself, its processes and their cleanup on every exit (atexit,
SIGINT, SIGTERM) are scripts/lib/labrun.py's `Lab`."""
import argparse
import csv
import json
import os
import platform
import socket
import subprocess
import sys
import time

BENCH_LAB = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(BENCH_LAB))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "scripts", "lib"))
import labrun  # noqa: E402,F401  (re-exported for the benchmarks)

RESULTS = os.path.join(SOURCE_ROOT, "bench", "results")


def replicast_binary():
    """The binary `replicast bench NAME` was run as (REPLICAST_BIN), else the build tree's."""
    return os.environ.get("REPLICAST_BIN") or os.path.join(SOURCE_ROOT, "build", "tools", "replicast")


def parser(name, doc):
    """An argparse parser with the options every lab benchmark takes."""
    p = argparse.ArgumentParser(prog=f"replicast bench {name}", description=doc.split("\n\n")[0],
                                epilog="\n\n".join(doc.split("\n\n")[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a reduced grid, for the test suite's smoke run (keeps the benchmark from rotting)")
    p.add_argument("--csv", default=None, help=f"where the rows go (default {os.path.relpath(RESULTS, SOURCE_ROOT)}"
                                               f"/{name}.csv; --quick: a temporary file unless given)")
    p.add_argument("--keep", action="store_true", help="keep the lab's working directory (logs, configs) afterwards")
    p.add_argument("--tx-idle", choices=("poll", "pause", "sleep"), default="sleep",
                   help="the server's tx worker idle policy (pmd-config/README.md, 'Idle policy'; default sleep: "
                        "on 2 shared cores a polling worker takes one from the clients)")
    return p


def tx_idle(a):
    """Sets the lab profile's idle policy for every server this run starts
    (lab-af_packet.toml reads REPLICAST_TX_IDLE; the server's log is checked
    against it at start) and returns the words for the report's settings."""
    os.environ["REPLICAST_TX_IDLE"] = a.tx_idle
    return f"tx worker idle policy {a.tx_idle}"


def check_root():
    if os.geteuid() != 0:
        sys.exit("error: lab benchmarks need root (network namespaces, veth, nftables)")


def need(program, package):
    if subprocess.run(["sh", "-c", f"command -v {program}"], capture_output=True).returncode != 0:
        sys.exit(f"error: {program} is missing: apt-get install {package} (scripts/packages.txt lists it)")


_T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - _T0:6.1f}s] {msg}", flush=True)


def machine():
    """One line naming the machine, for the CSV's header comment and RESULTS.md."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.node()} {model} x{os.cpu_count()} Linux {platform.release()}"


class CsvOut:
    """A CSV file with a fixed header, flushed after every row."""

    def __init__(self, path, columns, comment):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.columns = columns
        self.f = open(path, "w", newline="")
        for line in comment:
            self.f.write(f"# {line}\n")
        self.w = csv.DictWriter(self.f, fieldnames=columns)
        self.w.writeheader()
        self.f.flush()

    def row(self, values):
        self.w.writerow({k: values.get(k, "") for k in self.columns})
        self.f.flush()

    def close(self):
        self.f.close()


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def float_list(text):
    return [float(x) for x in text.split(",") if x.strip()]


# -- reading running processes without starting any
def daemon_stats(sock_path):
    """A replica daemon's statistics as {database: its JSON object}, read from
    its stats socket (one JSON document per connection) without starting a
    process: with tens of replicas on a loaded machine, a `replicast
    client-stats` per replica per poll would take seconds and be measured as
    replicast's time. None while it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(sock_path)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return {d["name"]: d for d in json.loads(data)["databases"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def applied_lsn(sock_path, db):
    """A daemon's applied LSN of `db` (0 while it does not answer)."""
    return ((daemon_stats(sock_path) or {}).get(db) or {}).get("applied_lsn", 0)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(path):
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces


def cpu_seconds(pid):
    """User + system CPU of a process (all its threads) so far; 0 once it is gone."""
    try:
        f = _stat_fields(f"/proc/{pid}/stat")
        return (int(f[11]) + int(f[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)
    except (OSError, ValueError, IndexError):
        return 0.0


def thread_cpu_seconds(pid):
    """{(tid, thread name): user + system CPU seconds} of a process's threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            fields = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
            out[(int(tid), name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, ValueError, IndexError):
            continue
    return out


def memory_kib(pid):
    """{"VmRSS": KiB, "VmHWM": KiB, "RssAnon": KiB, "RssFile": KiB} of a
    process: its resident set now and at its peak, and the part of it that is
    its own memory (anonymous) apart from mapped files (an LMDB store's map
    counts as resident as its pages are touched)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return out


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
