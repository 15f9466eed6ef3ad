"""uftp on the lab: Debian's uftp (sender, in the server namespace) and one
uftpd receiver daemon per client namespace, AES-256-GCM, a closed group (the
sender's -H lists exactly the receivers' IDs), RSA keys made once per lab.

Used by bulk.py as the reliable-multicast reference: one file to every
receiver, timed from the sender's start until it exits (it exits once every
receiver confirmed the whole file: "Group complete"), checked with cmp."""
import os
import re
import subprocess

from benchlib import labrun

PORT = 1044  # uftp's default; each namespace has its own


def receiver_id(n):
    """Client n's uftp ID (-U), as the sender's closed group names it (-H)."""
    return f"0x{n:08x}"


class UftpGroup:
    """The receivers of one run (started by start(), ended by stop()) and
    the sender's command. mode: "tfmcc" (its congestion control, RFC 4654),
    or a fixed rate in Kbit/s (-R; -1 = the interface's speed)."""

    def __init__(self, lab, clients, tag, keys, mode, block_bytes, buffer_bytes):
        self.lab = lab
        self.clients = list(clients)
        self.tag = tag
        self.keys = keys
        self.mode = mode
        self.block_bytes = block_bytes
        self.buffer_bytes = buffer_bytes
        self.daemons = {}

    @staticmethod
    def make_keys(directory, clients):
        """RSA-2048 private keys (PEM) for the sender and each receiver."""
        os.makedirs(directory, exist_ok=True)
        for name in ["server", *[f"client{n}" for n in clients]]:
            path = os.path.join(directory, f"{name}.pem")
            if not os.path.exists(path):
                subprocess.run(["openssl", "genrsa", "-traditional", "-out", path, "2048"], check=True,
                               capture_output=True, timeout=120)
        return directory

    def dest(self, n):
        return os.path.join(self.lab.dir, f"uftp-client{n}")

    def start(self):
        for n in self.clients:
            d = self.dest(n)
            subprocess.run(["rm", "-rf", d])
            os.makedirs(d)
            # -d: foreground (ended by PID); -E: encrypted sessions only; -q: no DNS lookup of the sender.
            self.daemons[n] = self.lab.start(f"uftpd{n}{self.tag}", f"client{n}", [
                "uftpd", "-d", "-U", receiver_id(n), "-I", "eth0", "-D", d, "-E", "-q",
                "-k", os.path.join(self.keys, f"client{n}.pem"), "-B", str(self.buffer_bytes)])
        for n in self.clients:
            labrun.wait_until(f"uftpd in client{n} listening on UDP {PORT}", lambda n=n: self.listening(n), 30,
                              interval=0.1)

    def listening(self, n):
        if not self.daemons[n].alive():
            raise RuntimeError(f"uftpd in client{n} exited:\n{self.daemons[n].output()[-2000:]}")
        out = self.lab.run(f"client{n}", ["ss", "-Huln", f"sport = :{PORT}"], check=False).stdout
        return f":{PORT}" in out

    def sender_argv(self, path):
        rate = ["-C", "tfmcc"] if self.mode == "tfmcc" else ["-R", str(self.mode)]
        return ["uftp", "-I", "eth0", "-Y", "aes256-gcm", "-h", "sha256", "-e", "rsa",
                "-k", os.path.join(self.keys, "server.pem"),
                "-H", ",".join(receiver_id(n) for n in self.clients), *rate, "-b", str(self.block_bytes),
                "-B", str(self.buffer_bytes), "-q", path]

    def received_bytes(self, name):
        """{client: bytes of `name` received so far}."""
        out = {}
        for n in self.clients:
            try:
                out[n] = os.path.getsize(os.path.join(self.dest(n), name))
            except OSError:
                out[n] = 0
        return out

    def mismatches(self, path):
        """Clients whose received copy differs from `path` (cmp)."""
        name = os.path.basename(path)
        return [n for n in self.clients
                if subprocess.run(["cmp", "-s", path, os.path.join(self.dest(n), name)]).returncode != 0]

    def stop(self):
        for p in self.daemons.values():
            p.stop(seconds=10)
        for n in self.clients:
            subprocess.run(["rm", "-rf", self.dest(n)])


def sender_summary(log_text):
    """What the sender's log says about repairs: NAKs received and passes made."""
    naks = sum(int(m.group(1)) for m in re.finditer(r"Got (\d+) NAKs", log_text))
    passes = len(re.findall(r"Starting pass", log_text))
    return f"naks={naks} passes={passes}"
