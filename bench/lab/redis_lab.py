"""Redis replication on the netns lab, the unicast fan-out reference of the
lab benchmarks: Debian's redis-server as one primary in the server namespace
and one replica (`replicaof`) per client namespace, nothing persisted (no RDB
saves, no AOF: replicast's replicas run with durability "nosync" beside it).

Everything is asked over 127.0.0.1 inside each namespace (`ip netns exec ...
redis-cli`), so measuring never adds bytes to the lab's links."""
import os
import shutil
import subprocess

PORT = 6379


def _info(text):
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


class RedisReplication:
    def __init__(self, lab, clients, tag):
        self.lab = lab
        self.clients = list(clients)
        self.tag = tag
        self.dir = os.path.join(lab.dir, f"redis{tag}")
        self.primary = None
        self.replicas = {}

    # -- processes
    def _server_args(self, data_dir):
        os.makedirs(data_dir, exist_ok=True)
        return ["redis-server", "--port", str(PORT), "--save", "", "--appendonly", "no", "--dir", data_dir,
                "--daemonize", "no", "--logfile", "", "--protected-mode", "no",
                # DEBUG DIGEST compares primary and replica contents, from 127.0.0.1 only.
                "--enable-debug-command", "local",
                # A lagging replica is never cut off (it would resync from scratch and skew the bytes).
                "--client-output-buffer-limit", "replica", "0", "0", "0"]

    def start(self):
        srv = self.lab.addr("server")
        self.primary = self.lab.start(f"redis-primary{self.tag}", "server",
                                      self._server_args(os.path.join(self.dir, "primary"))
                                      + ["--bind", "127.0.0.1", srv,
                                         # Every replica's initial sync starts at once (the default waits 5 s).
                                         "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
        self.primary.wait_for_line(r"Ready to accept connections", 30)
        for n in self.clients:
            self.replicas[n] = self.lab.start(f"redis-replica{n}{self.tag}", f"client{n}",
                                              self._server_args(os.path.join(self.dir, f"replica{n}"))
                                              + ["--bind", "127.0.0.1", "--replicaof", srv, str(PORT)])

    def stop(self):
        for p in [*self.replicas.values(), self.primary]:
            if p is not None:
                p.stop(seconds=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- questions
    def cli(self, host, *args, timeout=30):
        p = subprocess.run(["ip", "netns", "exec", self.lab.ns(host), "redis-cli", "-h", "127.0.0.1", "-p", str(PORT),
                            *args], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"redis-cli {' '.join(args)} in {host}: {p.stderr.strip() or p.stdout.strip()}")
        return p.stdout.strip()

    def primary_info(self):
        return _info(self.cli("server", "info", "replication"))

    def all_online(self):
        """Every replica attached and past its initial sync."""
        info = self.primary_info()
        states = [v for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
        return int(info.get("connected_slaves", 0)) == len(self.clients) and all("state=online" in s for s in states)

    def primary_offset(self):
        return int(self.primary_info()["master_repl_offset"])

    def replica_offset(self, n):
        """What replica n has processed of the primary's replication stream."""
        info = _info(self.cli(f"client{n}", "info", "replication"))
        if info.get("master_link_status") != "up":
            return -1
        return int(info.get("master_repl_offset", -1))

    def dbsize(self, host):
        return int(self.cli(host, "dbsize"))

    def digest(self, host):
        return self.cli(host, "debug", "digest")

    # -- the workload
    def load(self, resp_path):
        """Sends a file of RESP commands to the primary (redis-cli --pipe, over
        its loopback); raises unless every command was answered without error."""
        with open(resp_path, "rb") as f:
            p = subprocess.run(["ip", "netns", "exec", self.lab.ns("server"), "redis-cli", "-h", "127.0.0.1", "-p",
                                str(PORT), "--pipe"], stdin=f, capture_output=True, text=True, timeout=600)
        if p.returncode != 0 or "errors: 0," not in p.stdout:
            raise RuntimeError(f"redis-cli --pipe: {p.stdout.strip()[-500:]} {p.stderr.strip()[-500:]}")
