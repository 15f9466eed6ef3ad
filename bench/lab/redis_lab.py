"""Redis replication on the netns lab, the unicast fan-out reference of the
lab benchmarks: Debian's redis-server as one primary in the server namespace
and one replica (`replicaof`) per client namespace, nothing persisted (no RDB
saves, no AOF: replicast's replicas run with durability "nosync" beside it).

Everything is asked over 127.0.0.1 inside each namespace, so measuring never
adds bytes to the lab's links: over one connection per server kept open for
the run (opened from a thread that entered the namespace: a network
namespace is per thread), because with 32 replicas on a loaded 2-core machine
an `ip netns exec redis-cli` per replica per poll takes seconds and would be
measured as Redis's time."""
import ctypes
import os
import shutil
import socket
import subprocess
import threading

PORT = 6379
CLONE_NEWNET = 0x40000000


def connect_in_netns(ns, port, timeout=30):
    """A TCP connection to 127.0.0.1:port inside network namespace `ns`."""
    result = {}

    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {ns}")
            finally:
                os.close(fd)
            result["sock"] = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError as e:
            result["error"] = e

    t = threading.Thread(target=run)  # it ends in the namespace; its socket stays there
    t.start()
    t.join()
    if "error" in result:
        raise RuntimeError(f"redis in {ns}: {result['error']}")
    return result["sock"]


class Resp:
    """A minimal RESP2 client: commands out, replies (simple, error, integer,
    bulk, array) in."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(f"redis: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode(errors="replace")
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError(f"redis: unexpected reply {line[:80]!r}")

    def __call__(self, *args):
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        self.sock.sendall(out)
        return self._reply()

    def close(self):
        self.sock.close()


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
        self.conns = {}  # host -> Resp

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
        for c in self.conns.values():
            c.close()
        self.conns.clear()
        for p in [*self.replicas.values(), self.primary]:
            if p is not None:
                p.stop(seconds=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- questions
    def cli(self, host, *args):
        """One command to the Redis server of `host` (server, clientN); its reply."""
        if host not in self.conns:
            self.conns[host] = Resp(connect_in_netns(self.lab.ns(host), PORT))
        return self.conns[host](*args)

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
