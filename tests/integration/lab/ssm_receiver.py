#!/usr/bin/env python3
"""A kernel receiver of the replicast multicast, as an application host runs
it: a UDP socket joined with source-specific multicast (IP_ADD_SOURCE_MEMBERSHIP)
to each group. Counts every datagram by (stream_id, packet_seq) and source;
prints "ready" once joined, "n COUNT" as datagrams arrive (at most every
100 ms), and a JSON summary when it gets SIGTERM.

usage: ssm_receiver.py SOURCE_IP PORT GROUP [GROUP...]"""
import json
import signal
import socket
import struct
import sys
import time

IP_ADD_SOURCE_MEMBERSHIP = 39  # Linux <netinet/in.h>

source, port, groups = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("", port))
for g in groups:
    # struct ip_mreq_source: multiaddr, interface, sourceaddr
    mreq = socket.inet_aton(g) + socket.inet_aton("0.0.0.0") + socket.inet_aton(source)
    s.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, mreq)

stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
s.settimeout(0.1)
print("ready", flush=True)
seqs = {}
sources = {}
count = 0
reported, last_report = 0, 0.0
while not stop:
    now = time.monotonic()
    if count != reported and now - last_report >= 0.1:
        print(f"n {count}", flush=True)
        reported, last_report = count, now
    try:
        data, (src, _) = s.recvfrom(65536)
    except (socket.timeout, InterruptedError):
        continue
    count += 1
    sources[src] = sources.get(src, 0) + 1
    if len(data) >= 24 and data[:2] == b"RC":
        stream_id, packet_seq = struct.unpack_from("!IQ", data, 4)
        seqs.setdefault(stream_id, []).append(packet_seq)
print(json.dumps({"count": count, "sources": sources, "seqs": {str(k): v for k, v in seqs.items()}}), flush=True)
