"""Running replicast on the netns lab (scripts/lab, DESIGN.md section 7) from
Python: the demo, the client integration tests and the end-to-end suite share
this, so each of them says what it does, not how namespaces, certificates and
processes are set up.

Everything made here is removed by `Lab.close()`: processes started (ended by
PID, SIGTERM then SIGKILL), the lab's namespaces, the DPDK runtime directory
of this lab's prefix, and the working directory unless kept. `close()` is
registered with atexit and on SIGTERM/SIGINT, so a failure, a timeout or
Ctrl-C never leaves a lab behind."""
import atexit
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(SOURCE_ROOT, "scripts", "lab")
MKCERTS = os.path.join(SOURCE_ROOT, "scripts", "mkcerts")
PROFILE = os.path.join(SOURCE_ROOT, "pmd-config", "lab-af_packet.toml")
CONTROL_PORT = 7400


def wait_until(what, predicate, seconds, interval=0.05):
    """Polls `predicate` until it returns a true value (returned), or raises
    TimeoutError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {seconds} s")
        time.sleep(interval)


class Process:
    """A process this run started: its output goes to a log file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env, text=True,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for_line(self, pattern, seconds):
        """The first match of `pattern` in the process's output, waiting for it."""
        rx = re.compile(pattern)

        def look():
            m = rx.search(self.output())
            if m:
                return m
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}) before printing /{pattern}/:\n"
                                   + self.output()[-4000:])
            return None

        return wait_until(f"{self.name} printing /{pattern}/", look, seconds)

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, seconds=30):
        """SIGTERM, then SIGKILL past `seconds`. @return the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Lab:
    """A lab of one server and `clients` client namespaces, with its own name
    prefix and subnet so that it never collides with another lab."""

    def __init__(self, replicast, clients, prefix=None, workdir=None, keep=False):
        self.replicast = replicast
        self.clients = clients
        pid = os.getpid()
        self.prefix = prefix or f"rt{pid % 10000}"
        self.net = f"10.{120 + pid % 40}.{pid % 200}"
        self.dpdk_prefix = f"{self.prefix}-dpdk"
        self.dir = workdir or tempfile.mkdtemp(prefix=f"replicast-{self.prefix}-")
        os.makedirs(self.dir, exist_ok=True)
        self.keep = keep
        self.env = dict(os.environ, REPLICAST_LAB=self.prefix, REPLICAST_LAB_NET=self.net,
                        REPLICAST_FILE_PREFIX=self.dpdk_prefix)
        self.processes = []
        self.closed = False
        atexit.register(self.close)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.close()
        sys.exit(128 + signum)

    # -- the lab itself
    def lab(self, *args, check=True):
        p = subprocess.run([LAB, *args], capture_output=True, text=True, timeout=120, env=self.env)
        if check and p.returncode != 0:
            raise RuntimeError(f"scripts/lab {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def up(self):
        try:
            self.lab("up", str(self.clients))
        except BaseException:
            self.close()
            raise
        return self

    def addr(self, host):
        return self.lab("addr", host).strip()

    def ns(self, host):
        return f"{self.prefix}-srv" if host == "server" else f"{self.prefix}-c{host.removeprefix('client')}"

    def loss(self, client, percent):
        self.lab("loss", str(client), str(percent))

    def loss_counters(self):
        """{client number: packets the hub dropped toward it}."""
        out = subprocess.run(["ip", "netns", "exec", f"{self.prefix}-hub", "nft", "list", "chain", "bridge",
                              "replicast_loss", "forward"], capture_output=True, text=True).stdout
        return {int(m.group(2)): int(m.group(1))
                for m in re.finditer(r"counter packets (\d+) bytes \d+ drop comment \"loss-client(\d+)\"", out)}

    def link_bytes(self, host):
        """Bytes sent by `host`'s lab interface, from its own counters."""
        out = subprocess.run(["ip", "netns", "exec", self.ns(host), "cat", "/sys/class/net/eth0/statistics/tx_bytes"],
                             capture_output=True, text=True).stdout
        return int(out.strip() or 0)

    # -- processes
    def start(self, name, host, argv, env=None):
        """Starts argv in `host`'s namespace (None: this namespace)."""
        full = argv if host is None else ["ip", "netns", "exec", self.ns(host), *argv]
        p = Process(name, full, os.path.join(self.dir, f"{name}.log"), env=env or self.env)
        self.processes.append(p)
        return p

    def run(self, host, argv, timeout=120, check=True, input=None):
        full = argv if host is None else ["ip", "netns", "exec", self.ns(host), *argv]
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, env=self.env, input=input)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])}... exited {p.returncode}: {p.stderr.strip()[-2000:]}")
        return p

    # -- certificates and configuration
    def make_certs(self, clients):
        """A lab CA, the server's certificate (for its lab address) and one per client name."""
        certs = os.path.join(self.dir, "certs")
        args = [MKCERTS, certs, "--server-ip", self.addr("server")]
        for c in clients:
            args += ["--client", c]
        subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)
        return certs

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in reversed(self.processes):
            try:
                p.stop(seconds=10)
            except Exception:
                p.kill()
        self.lab("down", check=False)
        shutil.rmtree(f"/var/run/dpdk/{self.dpdk_prefix}", ignore_errors=True)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def checksum(replicast, store, db, groups=None):
    """`replicast checksum`'s line for a store (groups: a master filtered like a replica)."""
    argv = [replicast, "checksum", "--store", store, "--db", db]
    if groups:
        argv += ["--groups", ",".join(str(g) for g in groups)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return f"error: {p.stderr.strip()}"
    return p.stdout.strip()


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
