#!/usr/bin/env python3
"""wt-gen's capture through `wiretally analyze`: every name the generator put in the capture
is in the report's domain list and nothing else is, nothing is dropped as malformed, and the
packet count matches.

usage: analyze_test.py WT_GEN WIRETALLY
"""
import json
import os
import subprocess
import sys
import tempfile


def main():
    wt_gen, wiretally = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "gen.pcap")
        names_file = os.path.join(tmp, "names.txt")
        # 1000 flows of every kind, 300 at once, a few of them over IPv6.
        subprocess.run([wt_gen, "--total-flows", "1000", "--flows", "300", "--new-flows-per-s", "200",
                        "--name-count", "400", "--ipv6", "15", "--seed", "7", "--size", "imix",
                        "--names-out", names_file, "--out", pcap, "--quiet"], check=True)
        expected = {n.strip() for n in open(names_file) if n.strip()}
        out = subprocess.run([wiretally, "analyze", pcap, "--format", "json"], check=True,
                             capture_output=True, text=True).stdout
        report = json.loads(out)
        found = {d["domain"] for d in report["domains"] if d["domain"]}
        failures = []
        if found != expected:
            failures.append(f"domains differ: missing {sorted(expected - found)[:10]} "
                            f"({len(expected - found)}), unexpected {sorted(found - expected)[:10]} "
                            f"({len(found - expected)})")
        if report["drops"]:
            failures.append(f"drops: {report['drops']}")
        records = report["input"]["records"]
        packets = report["counters"].get("packets")
        if packets != records:
            failures.append(f"{records} records but {packets} packets")
        total = report["total"]
        for key in ("tls", "quic", "dns"):
            if not total.get(key):
                failures.append(f"no {key} connections in the total: {total}")
        if failures:
            print("\n".join(failures))
            sys.exit(1)
        print(f"ok: {len(found)} names, {records} packets, {total['connections']} connections")


if __name__ == "__main__":
    main()
