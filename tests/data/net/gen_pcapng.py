#!/usr/bin/env python3
"""Derives capture files that editcap/mergecap cannot write, from the recorded pcaps:
  tcp4_be.pcap    tcp4.pcap rewritten big-endian (magic a1b2c3d4 in BE order).
  sections.pcapng hand-built pcapng exercising every block the reader knows:
    section 1 (big-endian): SHB with an option, IDB 0 Ethernet (default tsresol, usec),
      IDB 1 LINUX_SLL2 with if_tsresol=2^-10 and if_tsoffset=1000 s, EPBs from both,
      an unknown block type 0x00000099 (skipped), an SPB (interface 0) and an OPB (type 2).
    section 2: SHB with major version 2 and a section length: skipped whole.
    section 3 (little-endian): SHB, IDB 0 raw IPv4 (LINKTYPE_IPV4 228, tsresol 10^-9), one EPB.
Usage: gen_pcapng.py DIR
"""
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    nano = magic == 0xA1B23C4D
    _, _, _, _, snaplen, link = struct.unpack("<HHiIII", data[4:24])
    off, recs = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, origlen = struct.unpack("<IIII", data[off:off + 16])
        ns = sec * 10**9 + (frac if nano else frac * 1000)
        recs.append((ns, origlen, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return link, snaplen, recs


def swap_pcap(src, dst):
    data = open(src, "rb").read()
    out = bytearray(struct.pack(">IHHiIII", *struct.unpack("<IHHiIII", data[:24])))
    off = 24
    while off + 16 <= len(data):
        hdr = struct.unpack("<IIII", data[off:off + 16])
        out += struct.pack(">IIII", *hdr) + data[off + 16:off + 16 + hdr[2]]
        off += 16 + hdr[2]
    open(dst, "wb").write(out)


class Writer:
    def __init__(self, order):
        self.o = order
        self.buf = bytearray()

    def pad(self, b):
        return b + b"\0" * (-len(b) % 4)

    def opt(self, code, value):
        return struct.pack(self.o + "HH", code, len(value)) + self.pad(value)

    def end_opts(self):
        return struct.pack(self.o + "HH", 0, 0)

    def block(self, btype, body):
        body = self.pad(body)
        total = 12 + len(body)
        self.buf += struct.pack(self.o + "II", btype, total) + body + struct.pack(self.o + "I", total)

    def shb(self, major=1, minor=0, section_len=-1, opts=b""):
        self.block(0x0A0D0D0A, struct.pack(self.o + "IHHq", 0x1A2B3C4D, major, minor, section_len) + opts)

    def idb(self, link, snaplen, opts=b""):
        self.block(1, struct.pack(self.o + "HHI", link, 0, snaplen) + opts)

    def epb(self, iface, ts, origlen, data):
        self.block(6, struct.pack(self.o + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), origlen)
                   + self.pad(data))

    def spb(self, origlen, data):
        self.block(3, struct.pack(self.o + "I", origlen) + self.pad(data))

    def opb(self, iface, ts, origlen, data):
        self.block(2, struct.pack(self.o + "HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), origlen)
                   + self.pad(data))


def main():
    d = sys.argv[1]
    swap_pcap(f"{d}/tcp4.pcap", f"{d}/tcp4_be.pcap")
    eth_link, _, eth = read_pcap(f"{d}/tcp4.pcap")
    sll2_link, _, sll2 = read_pcap(f"{d}/sll2.pcap")
    assert eth_link == 1 and sll2_link == 276

    be = Writer(">")
    be.shb(opts=be.opt(4, b"wiretally gen_pcapng.py") + be.end_opts())
    be.idb(1, 262144)
    be.idb(276, 262144, be.opt(9, bytes([0x80 | 10])) + be.opt(14, struct.pack(">q", 1000)) + be.end_opts())
    ns, orig, data = eth[0]
    be.epb(0, ns // 1000, orig, data)
    ns, orig, data = sll2[0]
    be.epb(1, ((ns - 1000 * 10**9) << 10) // 10**9, orig, data)
    be.block(0x00000099, b"unknown block body")
    ns, orig, data = eth[1]
    be.spb(orig, data)
    ns, orig, data = eth[2]
    be.opb(0, ns // 1000, orig, data)

    skipped = Writer("<")
    skipped.block(1, struct.pack("<HHI", 1, 0, 65535))  # would be an IDB in a v1 section
    le = Writer("<")
    le.shb(major=2, section_len=len(skipped.buf))
    le.buf += skipped.buf
    le.shb()
    le.idb(228, 65535, le.opt(9, bytes([9])) + le.end_opts())
    ns, orig, data = eth[3]
    le.epb(0, ns, orig - 14, data[14:])
    open(f"{d}/sections.pcapng", "wb").write(be.buf + le.buf)


if __name__ == "__main__":
    main()
