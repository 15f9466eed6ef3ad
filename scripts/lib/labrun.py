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
import base64
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

    def __init__(self, replicast, clients, prefix=None, workdir=None, keep=False, relays=()):
        self.replicast = replicast
        self.clients = clients
        self.relays = list(relays)  # clients with a relay namespace on their path (scripts/lab up --relay)
        pid = os.getpid()
        self.prefix = prefix or f"rt{pid % 10000}"
        self.net = f"10.{120 + pid % 40}.{pid % 200}"
        self.dpdk_prefix = f"{self.prefix}-dpdk"
        self.dir = workdir or tempfile.mkdtemp(prefix=f"replicast-{self.prefix}-")
        os.makedirs(self.dir, exist_ok=True)
        # REPLICAST_KEEP_LAB=1 keeps the working directory (logs, stores, captures) to look at.
        self.keep = keep or os.environ.get("REPLICAST_KEEP_LAB") == "1"
        if self.keep:
            print(f"lab {self.prefix}: keeping {self.dir}", file=sys.stderr)
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
        # A few ip/nft commands per client: `up 32` took 70 s at load 25 on 2
        # cores and over 120 s at load 40, so the bound grows with the clients.
        timeout = 120 + 10 * self.clients
        p = subprocess.run([LAB, *args], capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise RuntimeError(f"scripts/lab {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def up(self):
        try:
            self.lab("up", str(self.clients), *[a for n in self.relays for a in ("--relay", str(n))])
        except BaseException:
            self.close()
            raise
        return self

    def addr(self, host):
        return self.lab("addr", host).strip()

    def ns(self, host):
        if host in ("server", "hub"):
            return f"{self.prefix}-{'srv' if host == 'server' else 'hub'}"
        if host.startswith("relay"):
            return f"{self.prefix}-r{host.removeprefix('relay')}"
        return f"{self.prefix}-c{host.removeprefix('client')}"

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

    def start_relay(self, client, exe, args, stats_file):
        """Starts the chaos relay (lab/chaos_relay) in the relay namespace
        before `client`, bridging its uplink and downlink with `args` (knobs,
        seed), and waits until it relays. Its counters go to `stats_file`."""
        p = self.start(f"relay{client}", f"relay{client}",
                       [exe, "--upstream", "uplink", "--downstream", "downlink", "--stats-file", stats_file,
                        "--stats-interval-ms", "200", *args])
        p.wait_for_line(r"relaying uplink -> downlink", 30)
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
        try:
            self.lab("down", check=False)
        except subprocess.TimeoutExpired:
            # The rest of the cleanup still runs; say what is left and how to remove it.
            print(f"lab {self.prefix}: `scripts/lab down` timed out; remove what is left with "
                  f"REPLICAST_LAB={self.prefix} scripts/lab down", file=sys.stderr)
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


# -- workloads, configurations and statistics shared by the demo-like tests
def value_size(rng):
    """A mixed value size: mostly small, some pages, a few up to 64 KiB."""
    r = rng.random()
    if r < 0.80:
        return rng.randint(1, 200)
    if r < 0.98:
        return rng.randint(200, 4096)
    return rng.randint(4096, 65536)


def workload(path, db_index, count, rng, size=value_size):
    """JSON lines for `replicast load`/`publish --file`: puts of mixed sizes in
    groups 1 and 2, and deletes (8 %). Keys are `d<db_index>/k<N>`."""
    written = []
    with open(path, "w") as f:
        for _ in range(count):
            if written and rng.random() < 0.08:
                f.write(json.dumps({"key": written.pop(rng.randrange(len(written))), "op": "del"}) + "\n")
                continue
            k = rng.randrange(count)
            key = f"d{db_index}/k{k:06d}"
            value = rng.randbytes(size(rng))
            # Keys move between groups: a group-1 replica must drop a key rewritten
            # into group 2, from the multicast or from Recover (which sends another
            # group's update as a delete of its key).
            f.write(json.dumps({"key": key, "value_base64": base64.b64encode(value).decode(),
                                "group": rng.choice((1, 2))}) + "\n")
            written.append(key)


def split_file(path, parts):
    """Splits a file of lines into `parts` files of about equal line counts; their paths."""
    with open(path) as f:
        lines = f.readlines()
    out = []
    for i in range(parts):
        p = f"{path}.{i}"
        with open(p, "w") as f:
            f.writelines(lines[i * len(lines) // parts:(i + 1) * len(lines) // parts])
        out.append(p)
    return out


def toml_tables(tables):
    """{table: {key: value}} as TOML (values through json.dumps: strings,
    integers, booleans and lists of them are the same in both)."""
    text = []
    for table, keys in tables.items():
        text.append(f"[{table}]")
        text += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
        text.append("")
    return "\n".join(text)


def merged(base, overrides):
    out = {t: dict(keys) for t, keys in base.items()}
    for t, keys in (overrides or {}).items():
        out.setdefault(t, {}).update(keys)
    return out


def write_access_list(path, identities, publishers=()):
    """identities: {name: groups (a list) or None for every group}, all
    subscribers of every database; publishers: names that may Publish to
    every database."""
    with open(path, "w") as f:
        for name, groups in identities.items():
            f.write(f'[[identity]]\nname = "{name}"\nroles = ["subscriber"]\ndatabases = ["*"]\n')
            if groups:
                f.write(f"groups = {list(groups)}\n")
            f.write("\n")
        for name in publishers:
            f.write(f'[[identity]]\nname = "{name}"\nroles = ["publisher"]\ndatabases = ["*"]\n\n')
    return path


def client_stats(replicast, sock):
    """A running daemon's statistics as {database: its JSON object}, or None
    when it does not answer (not up yet, stopped, killed)."""
    p = subprocess.run([replicast, "client-stats", "--socket", sock], capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        return None
    try:
        return {d["name"]: d for d in json.loads(p.stdout)["databases"]}
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


class Replication:
    """One master store multicast by a `replicast server` (control plane on)
    to `replicast client` daemons on a Lab: the configs, the certificates, the
    processes, their statistics and the final comparison with the master.

    groups_of: {client number: reader groups, or None for every group}.
    server/client overrides: {table: {key: value}} merged over the defaults.
    publisher: also an identity "publisher" that may Publish (`publish`)."""

    def __init__(self, lab, replicast, dbs, groups_of, server=None, client=None, publisher=False):
        self.lab = lab
        self.replicast = replicast
        self.dbs = list(dbs)
        self.groups_of = dict(groups_of)
        self.server_overrides = server or {}
        self.client_overrides = client or {}
        publishers = ["publisher"] if publisher else []
        self.certs = lab.make_certs([f"client{n}" for n in self.groups_of] + publishers)
        self.store = os.path.join(lab.dir, "master")
        self.access_list = write_access_list(os.path.join(lab.dir, "access.toml"),
                                             {f"client{n}": g for n, g in self.groups_of.items()}, publishers)
        self.server_config = os.path.join(lab.dir, "server.toml")
        self.write_server_config()
        self.server = None
        self.clients = {}

    # -- the master
    def create_databases(self):
        """Each database gets one record, so the server can stream it from the start."""
        for i, db in enumerate(self.dbs):
            self.lab.run(None, [self.replicast, "put", "--store", self.store, "--db", db, f"d{i}/created", "1"])

    def load(self, db, path):
        return self.lab.run(None, [self.replicast, "load", "--store", self.store, "--db", db, path])

    def publish(self, db, path, *args, check=True):
        """`replicast publish --file` as the publisher, from the server's
        namespace through the control plane (Replication(publisher=True))."""
        return self.lab.run("server", [
            self.replicast, "publish", db, "--file", path, "--server", f"{self.lab.addr('server')}:{CONTROL_PORT}",
            "--cert", f"{self.certs}/publisher.pem", "--key", f"{self.certs}/publisher.key",
            "--ca", f"{self.certs}/ca.pem", *args], check=check)

    def master_last(self, db):
        line = checksum(self.replicast, self.store, db)
        return int(line.split("lsn=")[1].split()[0])

    # -- the server
    def write_server_config(self, access_list=None):
        lab, certs = self.lab, self.certs
        tables = merged({
            "server": {"store": self.store, "profile": PROFILE},
            "streams": {"databases": self.dbs, "group_range": "239.195.0.0/24", "port": 5000},
            "bundle": {"max_updates": 64, "max_bytes": 65536},
            "pacing": {"rate_mbps": 400},
            "keys": {"rotate_seconds": 3},
            "control": {"listen": f"{lab.addr('server')}:{CONTROL_PORT}", "certificate": f"{certs}/server.pem",
                        "private_key": f"{certs}/server.key", "ca": f"{certs}/ca.pem",
                        "access_list": access_list or self.access_list},
        }, self.server_overrides)
        with open(self.server_config, "w") as f:
            f.write(toml_tables(tables))

    def start_server(self, tag=""):
        env = dict(self.lab.env, REPLICAST_IFACE="eth0", REPLICAST_SOURCE_IP=self.lab.addr("server"))
        self.server = self.lab.start(f"server{tag}", "server", [self.replicast, "server", "--config", self.server_config],
                                     env=env)
        self.server.wait_for_line(r"control service on", 60)
        # What the tx worker does when idle (pmd-config/README.md): benchmarks
        # report it, so make sure the server runs the one they asked for.
        m = re.search(r"idle policy (\w+)", self.server.output())
        self.tx_idle = m.group(1) if m else None
        wanted = env.get("REPLICAST_TX_IDLE")
        if wanted and self.tx_idle != wanted:
            raise RuntimeError(f"the server's tx worker runs idle policy {self.tx_idle}, not {wanted} (REPLICAST_TX_IDLE)")
        return self.server

    # -- the clients
    def replica(self, n):
        return os.path.join(self.lab.dir, f"replica{n}")

    def sock(self, n):
        return os.path.join(self.lab.dir, f"client{n}.sock")

    def client_config(self, n, daemon=None):
        """The config of a daemon in client n's namespace with client n's
        identity; `daemon` names its own files (replica, stats socket,
        config) when several run there (default: n)."""
        daemon = n if daemon is None else daemon
        path = os.path.join(self.lab.dir, f"client{daemon}.toml")
        certs = self.certs
        tables = merged({
            "control": {"server": f"{self.lab.addr('server')}:{CONTROL_PORT}", "certificate": f"{certs}/client{n}.pem",
                        "private_key": f"{certs}/client{n}.key", "ca": f"{certs}/ca.pem", "retry_ms": 200},
            "replica": {"store": self.replica(daemon), "databases": ["*"], "durability": "nosync"},
            "receive": {"interface": "eth0", "rcvbuf_bytes": 16777216},
            "policy": {"recover_retry_ms": 50},
            "stats": {"socket": self.sock(daemon), "log_interval_ms": 2000},
        }, self.client_overrides.get(n, {}))
        with open(path, "w") as f:
            f.write(toml_tables(tables))
        return path

    def start_client(self, n, tag="", daemon=None):
        """A daemon in client n's namespace (see client_config for `daemon`)."""
        daemon = n if daemon is None else daemon
        p = self.lab.start(f"client{daemon}{tag}", f"client{n}",
                           [self.replicast, "client", "--config", self.client_config(n, daemon)])
        self.clients[daemon] = p
        return p

    def stats(self, n):
        return client_stats(self.replicast, self.sock(n))

    def add_admin(self):
        """An `admin` identity in the access list (write it before the server starts)."""
        with open(self.access_list, "a") as f:
            f.write('[[identity]]\nname = "admin"\nroles = ["admin"]\ndatabases = ["*"]\n')

    def stream_stats(self, db, client=1):
        """The server's `replicast stats` row for `db`, asked as admin from client `client`'s namespace."""
        out = self.lab.run(f"client{client}", [
            self.replicast, "stats", "--server", f"{self.lab.addr('server')}:{CONTROL_PORT}",
            "--cert", f"{self.certs}/admin.pem", "--key", f"{self.certs}/admin.key", "--ca", f"{self.certs}/ca.pem",
            "--json"], timeout=30)
        return next(s for s in json.loads(out.stdout)["streams"] if s["database"] == db)

    def applied(self, n, db):
        return ((self.stats(n) or {}).get(db) or {}).get("applied_lsn", 0)

    def caught_up(self, n, want):
        s = self.stats(n)
        return s is not None and all(db in s and s[db]["applied_lsn"] >= want[db] for db in self.dbs)

    def wait_caught_up(self, clients, seconds):
        """Every client has applied the master's last LSN of every database; their final stats."""
        want = {db: self.master_last(db) for db in self.dbs}
        deadline = time.monotonic() + seconds
        for n in clients:
            left = max(1.0, deadline - time.monotonic())
            wait_until(f"client{n} caught up with {want} (has {self.stats(n)})",
                       lambda n=n: self.caught_up(n, want), left, interval=0.3)
        return {n: self.stats(n) for n in clients}

    def mismatches(self, clients):
        """[(client, db, replica line, master line)] for every replica that
        differs from the master filtered by the client's groups."""
        out = []
        for n in clients:
            for db in self.dbs:
                master = checksum(self.replicast, self.store, db, self.groups_of[n])
                replica = checksum(self.replicast, self.replica(n), db)
                if replica != master:
                    out.append((n, db, replica, master))
        return out

    @staticmethod
    def describe(n, db, d):
        """One line of the counters that matter, for the test's output."""
        return (f"client{n} {db}: packets={d['receive']['packets']} applied={d['chains']['applied']} "
                f"dropped={d['chains']['dropped_broken']} gaps={d['repair']['gaps']} "
                f"recovered={d['repair']['lsns_recovered']} snapshots={d['repair']['snapshots']} "
                f"keys={d['control']['key_fetches']} epoch={d['key_epoch']} lsn={d['applied_lsn']}")
