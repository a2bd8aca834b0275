#!/usr/bin/env python3
"""Checks decode_packet's inner 5-tuples against tshark's on capture files.

Usage: compare_tshark.py BUILD_DIR FILE...   (BUILD_DIR holds tests/parsers/net/net_decode_dump)

For every frame tshark dissects, the innermost IPv4/IPv6 header is the last "ip"/"ipv6"
in frame.protocols and its addresses are the last ip.src/ipv6.src values (tshark lists
every layer); ports likewise from the last tcp/udp. Frames carrying ICMP errors (which
quote an IP header) and frames decode_packet drops are listed separately, not compared.
Prints a summary per file and exits 1 on any mismatch."""
import subprocess
import sys

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def tshark(path):
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rows[int(cols[0])] = dict(zip(FIELDS, cols))
    return rows


def last(v):
    return v.split(",")[-1] if v else ""


def expected(row):
    protos = row["frame.protocols"].split(":")
    ips = [p for p in protos if p in ("ip", "ipv6")]
    if not ips:
        return None
    if ips[-1] == "ip":
        src, dst = last(row["ip.src"]), last(row["ip.dst"])
    else:
        src, dst = last(row["ipv6.src"]), last(row["ipv6.dst"])
    l4 = [p for p in protos if p in ("tcp", "udp")]
    sport = dport = ""
    # Only when the L4 header follows the innermost IP header.
    def last_index(name):
        return len(protos) - 1 - protos[::-1].index(name)
    if l4 and last_index(l4[-1]) > last_index(ips[-1]):
        sport, dport = last(row[l4[-1] + ".srcport"]), last(row[l4[-1] + ".dstport"])
    return src, dst, sport, dport


def main():
    build, files = sys.argv[1], sys.argv[2:]
    bad = 0
    for path in files:
        ts = tshark(path)
        dump = subprocess.run([build + "/tests/parsers/net/net_decode_dump", path], capture_output=True, text=True,
                              check=True).stdout
        compared = tunneled = dropped = skipped = mismatched = 0
        statuses = {}
        for line in dump.splitlines():
            n, status, src, dst, sport, dport, proto, tun = line.split("\t")
            row = ts.get(int(n))
            if status != "ok":
                statuses[status] = statuses.get(status, 0) + 1
                dropped += 1
                continue
            if row is None or "icmp" in row["frame.protocols"].split(":") or \
                    "icmpv6" in row["frame.protocols"].split(":"):
                skipped += 1
                continue
            exp = expected(row)
            if exp is None:
                skipped += 1
                continue
            got = (src, dst, sport if proto in ("6", "17") else "", dport if proto in ("6", "17") else "")
            if exp[2] == "" and got[2] == "0":
                got = (src, dst, "", "")
            compared += 1
            tunneled += tun == "1"
            if got != exp:
                mismatched += 1
                if mismatched <= 5:
                    print(f"  {path}#{n}: decoded {got} tshark {exp} ({row['frame.protocols']})")
        bad += mismatched
        print(f"{path.split('/')[-1]}: {compared} compared ({tunneled} tunneled), {mismatched} mismatched, "
              f"{skipped} skipped, {dropped} not decoded {statuses}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
