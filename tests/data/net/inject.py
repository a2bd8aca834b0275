#!/usr/bin/env python3
"""Sends hand-built frames on a veth through an AF_PACKET socket so that tcpdump
on the peer records them: VLAN / QinQ tags and IP-in-IP tunnels, which this
kernel cannot make itself (no 8021q / ip6_tunnel modules in the container).
Usage: inject.py IFACE {vlan|qinq|tunnel}
"""
import socket
import struct
import sys

SRC_MAC = bytes.fromhex("027700000001")
DST_MAC = bytes.fromhex("027700000002")


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data)//2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 0x1234) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src: str, dst: str, nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp(sport: int, dport: int, data: bytes, pseudo: bytes) -> bytes:
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = csum(pseudo + struct.pack("!H", 17) + struct.pack("!H", 8 + len(data)) + hdr + data) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + data


def udp4(src, dst, sport, dport, data):
    return ipv4(src, dst, 17, udp(sport, dport, data, socket.inet_aton(src) + socket.inet_aton(dst)))


def udp6(src, dst, sport, dport, data):
    p = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    return ipv6(src, dst, 17, udp(sport, dport, data, p + b"\0"))


def eth(ethertype: int, payload: bytes, tags=()) -> bytes:
    out = DST_MAC + SRC_MAC
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def frames(kind: str):
    if kind == "vlan":
        yield eth(0x0800, udp4("10.77.10.1", "10.77.10.2", 40000, 5353, b"vlan10 payload"), [(0x8100, 10)])
        yield eth(0x86DD, udp6("fd77:10::1", "fd77:10::2", 40001, 5353, b"vlan10 v6"), [(0x8100, 0x2000 | 10)])
    elif kind == "qinq":
        yield eth(0x0800, udp4("10.77.20.1", "10.77.20.2", 40002, 5353, b"qinq 20/30"), [(0x88A8, 20), (0x8100, 30)])
        yield eth(0x0800, udp4("10.77.21.1", "10.77.21.2", 40003, 5353, b"9100 21/31"), [(0x9100, 21), (0x8100, 31)])
    elif kind == "tunnel":
        inner4 = udp4("192.168.7.1", "192.168.7.2", 41000, 53, b"4in6 inner")
        inner6 = udp6("fd99::1", "fd99::2", 41001, 53, b"6in6 inner")
        yield eth(0x86DD, ipv6("fd77::1", "fd77::2", 4, inner4))
        yield eth(0x86DD, ipv6("fd77::1", "fd77::2", 41, inner6))
        yield eth(0x0800, ipv4("10.77.0.1", "10.77.0.2", 4, inner4))
        yield eth(0x0800, ipv4("10.77.0.1", "10.77.0.2", 41, inner6))
    else:
        raise SystemExit(f"unknown kind {kind}")


def main():
    iface, kind = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for f in frames(kind):
        s.send(f)


if __name__ == "__main__":
    main()
