#!/usr/bin/env python3
"""Forged data-plane traffic for tests/e2e/test_floods.py, run inside a lab
namespace (the attacker's): it captures real packets of one stream from the
wire (the lab's bridge floods multicast to every port), then sends bounded
floods of packets built from them, each kind wrong in one way
(PROTOCOL.md 1.1, 1.2), as raw Ethernet frames (AF_PACKET) addressed to one
victim's MAC, so that only that host's kernel sees them.

    forge.py IFACE VICTIM_MAC SERVER_IP PORT STREAM_ID FAKE_SOURCE COUNT SECONDS

Prints one JSON object: the group and the packets captured, then per kind the
datagrams sent (COUNT each at most, SECONDS per kind at most), so that the
test compares the victim's counters with what was really sent. Deterministic
(seeded); no sleeps."""
import json
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
HEADER = 24
TAG = 16


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def frame(dst_mac, src_mac, src_ip, dst_ip, dport, payload, ident):
    """Ethernet + IPv4 (DF, TTL 1, a correct header checksum) + UDP (checksum 0:
    none, which IPv4 allows) around `payload`."""
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xffff, 0x4000, 1, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + udp


def capture(sock, server_ip, port, stream_id, want, seconds):
    """Up to `want` replicast datagrams of `stream_id` from the server: [(group, payload)]."""
    out = []
    deadline = time.monotonic() + seconds
    src = socket.inet_aton(server_ip)
    while len(out) < want and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65535)
        except socket.timeout:
            break
        if len(data) < 14 + 20 + 8 + HEADER or data[12:14] != b"\x08\x00":
            continue
        ip = data[14:]
        ihl = (ip[0] & 0x0f) * 4
        if ip[9] != 17 or ip[12:16] != src:
            continue
        udp = ip[ihl:]
        dport, length = struct.unpack("!HH", udp[2:6])
        if dport != port:
            continue
        payload = bytes(udp[8:length])
        if payload[:2] != b"RC" or struct.unpack("!I", payload[4:8])[0] != stream_id:
            continue
        if struct.unpack("!I", payload[16:20])[0] == 0:
            continue  # unsealed: not this test's stream
        out.append((socket.inet_ntoa(ip[16:20]), payload))
    return out


def with_fields(p, seq=None, epoch=None, stream=None, flags=None, length=None):
    b = bytearray(p)
    if flags is not None:
        b[3] = flags
    if stream is not None:
        b[4:8] = struct.pack("!I", stream)
    if seq is not None:
        b[8:16] = struct.pack("!Q", seq)
    if epoch is not None:
        b[16:20] = struct.pack("!I", epoch)
    if length is not None:
        b[22:24] = struct.pack("!H", length)
    return bytes(b)


def kinds(captured, rng):
    """{kind: a function i -> (payload, source override or None)}."""
    real = [p for _, p in captured]
    top_seq = max(struct.unpack("!Q", p[8:16])[0] for p in real)

    def pick(i):
        return real[i % len(real)]

    def bad_tag(i):
        # A fresh packet_seq (far past the stream) under the current epoch, its tag broken.
        p = bytearray(with_fields(pick(i), seq=top_seq + 1_000_000 + i))
        p[-1] ^= 0x5a
        return bytes(p), None

    def unknown_epoch(i):
        epoch = struct.unpack("!I", pick(i)[16:20])[0]
        return with_fields(pick(i), seq=top_seq + 2_000_000 + i, epoch=epoch + 1000 + i), None

    def wrong_stream(i):
        sid = struct.unpack("!I", pick(i)[4:8])[0]
        return with_fields(pick(i), seq=top_seq + 3_000_000 + i, stream=sid ^ 0x40000000), None

    def replay(i):
        return pick(i), None  # byte for byte: a packet_seq the victim already accepted

    def bad_length(i):
        # payload_len claims fewer bytes than the datagram carries.
        p = pick(i)
        n = struct.unpack("!H", p[22:24])[0]
        return with_fields(p, seq=top_seq + 4_000_000 + i, length=max(0, n - 1 - i % 16)) if n else p + b"\0", None

    def truncated(i):
        p = pick(i)
        return p[:rng.randrange(1, len(p))], None  # the tail lost (some shorter than a header)

    def bad_flags(i):
        return with_fields(pick(i), seq=top_seq + 5_000_000 + i, flags=(0x03, 0x06, 0x30, 0x80)[i % 4]), None

    def junk(i):
        n = rng.randrange(HEADER, 1200)
        b = bytearray(rng.randbytes(n))
        if b[0] == 0x52:
            b[0] = 0x00  # never the magic by chance
        return bytes(b), None

    def wrong_source(i):
        return with_fields(pick(i), seq=top_seq + 6_000_000 + i), "fake"

    return {"bad_tag": bad_tag, "unknown_epoch": unknown_epoch, "wrong_stream": wrong_stream, "replay": replay,
            "bad_length": bad_length, "truncated": truncated, "bad_flags": bad_flags, "junk": junk,
            "wrong_source": wrong_source}


def main():
    iface, victim_mac, server_ip, port, stream_id, fake_source, count, seconds = sys.argv[1:9]
    port, stream_id, count, seconds = int(port), int(stream_id), int(count), float(seconds)
    rng = random.Random(4242)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    captured = capture(sock, server_ip, port, stream_id, 64, 20)
    if not captured:
        print(json.dumps({"error": f"no packet of stream {stream_id} seen on {iface} within 20 s"}))
        return 1
    group = captured[0][0]
    own_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    dst, src = mac_bytes(victim_mac), mac_bytes(own_mac)
    sent = {}
    ident = 0
    for kind, make in kinds(captured, rng).items():
        n = 0
        deadline = time.monotonic() + seconds
        while n < count and time.monotonic() < deadline:
            payload, source = make(n)
            ident += 1
            sock.send(frame(dst, src, fake_source if source else server_ip, group, port, payload, ident))
            n += 1
        sent[kind] = n
    print(json.dumps({"group": group, "captured": len(captured), "sent": sent}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
