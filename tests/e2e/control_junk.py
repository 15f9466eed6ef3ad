#!/usr/bin/env python3
"""Malformed connections to the control service for tests/e2e/test_floods.py,
run inside a lab namespace: COUNT connections of plain garbage bytes (no TLS
at all), then COUNT TLS 1.3 handshakes without a client certificate that go
on to speak HTTP/2 as gRPC would. Each connection is read until the server
closes it (5 s at most).

    control_junk.py HOST PORT CA COUNT

Prints one JSON object: per kind how many connections were made, how many
the server closed, and the application bytes any of them got back (over TLS:
HTTP/2 frames, which a refused client must never see)."""
import json
import random
import socket
import ssl
import sys


def drain_plain(s):
    got = 0
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return got, "closed"
            got += len(b)
    except socket.timeout:
        return got, "timeout"
    except OSError as e:
        return got, f"closed ({e.__class__.__name__})"


def main():
    host, port, ca, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    rng = random.Random(77)
    out = {"garbage": {"connections": 0, "closed": 0, "bytes_back": 0},
           "no_certificate": {"connections": 0, "closed": 0, "application_bytes": 0, "reasons": []}}
    for _ in range(count):
        with socket.create_connection((host, port), timeout=5) as s:
            out["garbage"]["connections"] += 1
            s.sendall(rng.randbytes(4096))
            got, how = drain_plain(s)
            # A TLS alert may come back before the close; never anything else.
            out["garbage"]["bytes_back"] += got
            out["garbage"]["closed"] += how != "timeout"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.set_alpn_protocols(["h2"])
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")  # + an empty SETTINGS
    for _ in range(count):
        raw = socket.create_connection((host, port), timeout=5)
        out["no_certificate"]["connections"] += 1
        reason = None
        got = 0
        try:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                # TLS 1.3: the client's side of the handshake ends before the
                # server has judged its (empty) certificate; the refusal comes
                # as an alert on the first read.
                s.sendall(preface)
                while True:
                    b = s.recv(65536)
                    if not b:
                        reason = "closed"
                        break
                    got += len(b)
        except socket.timeout:
            reason = "timeout"
        except (ssl.SSLError, OSError) as e:
            reason = getattr(e, "reason", None) or e.__class__.__name__
        finally:
            raw.close()
        out["no_certificate"]["application_bytes"] += got
        out["no_certificate"]["closed"] += reason != "timeout"
        if reason not in out["no_certificate"]["reasons"]:
            out["no_certificate"]["reasons"].append(reason)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
