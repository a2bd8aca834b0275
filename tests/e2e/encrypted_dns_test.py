#!/usr/bin/env python3
"""A phone whose DNS over TLS is blocked, as an analyst meets it, recorded and analysed.

Two network namespaces joined by a veth (phone 10.79.0.2, resolver side 10.79.0.1 with more addresses):
- plain DNS: dnsmasq on 10.79.0.1:53 answers the resolver's own name and the app's API host;
- DNS over TLS to 10.79.0.85 is refused: nftables rejects TCP 853 with a TCP reset (a firewall's answer);
- DNS over TLS to 10.79.0.86 is unanswered: nftables drops it;
- DNS over QUIC (kdig +quic, UDP 853) to 10.79.0.85: nothing answers;
- then the phone falls back to plain DNS for the API host, and opens TLS to it (openssl s_client with SNI);
- one more TLS connection whose name no DNS answer gave (SNI only).
tcpdump records the phone's interface (the veth keeps its default offloads), and `wiretally analyze`
must tell it: encrypted_dns.dot {attempts 2, refused 1, unanswered 1, answered 0}, DoQ 1, the fallback
lookups, the flow named from SNI only, and the servers view listing each address.

Usage: encrypted_dns_test.py WIRETALLY. Needs root (skips with the documented reason otherwise).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import wt_skips  # noqa: E402
from netns import in_ns, sh, tear_down  # noqa: E402

WIRETALLY = sys.argv[1] if len(sys.argv) > 1 else None
SFX = f"wtedns{os.getpid() % 100000}"
PHONE, RES = f"{SFX}-p", f"{SFX}-r"
PHONE_IP, RES_IP, REFUSE_IP, DROP_IP, API_IP, SNI_ONLY_IP = (
    "10.79.0.2", "10.79.0.1", "10.79.0.85", "10.79.0.86", "10.79.0.20", "10.79.0.30")
RESOLVER_NAME, API_NAME, SNI_ONLY_NAME = "dns.resolver.example", "api.example-cars.com", "telemetry.example-cars.com"

results = []


def check(what, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"), flush=True)


def main():
    wt_skips.skip_unless_root("the encrypted DNS test creates network namespaces, nftables rules and runs tcpdump")
    work = tempfile.mkdtemp(prefix="wt-edns-")
    procs = []
    try:
        for ns in (PHONE, RES):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"{SFX}p", "type", "veth", "peer", "name", f"{SFX}r")
        sh("ip", "link", "set", f"{SFX}p", "netns", PHONE)
        sh("ip", "link", "set", f"{SFX}r", "netns", RES)
        in_ns(PHONE, "ip", "addr", "add", f"{PHONE_IP}/24", "dev", f"{SFX}p")
        for ip in (RES_IP, REFUSE_IP, DROP_IP, API_IP, SNI_ONLY_IP):
            in_ns(RES, "ip", "addr", "add", f"{ip}/24" if ip == RES_IP else f"{ip}/32", "dev", f"{SFX}r")
        for ns, dev in ((PHONE, f"{SFX}p"), (RES, f"{SFX}r")):
            in_ns(ns, "ip", "link", "set", "lo", "up")
            in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(PHONE, "ip", "route", "add", "default", "via", RES_IP)
        # The firewall: DoT to one resolver address refused with a reset, to another dropped (RFC 7858's port).
        rules = os.path.join(work, "rules.nft")
        with open(rules, "w") as f:
            f.write(f"""table inet wt {{
  chain input {{
    type filter hook input priority 0; policy accept;
    ip daddr {REFUSE_IP} tcp dport 853 reject with tcp reset
    ip daddr {DROP_IP} tcp dport 853 drop
  }}
}}
""")
        in_ns(RES, "nft", "-f", rules)
        # Plain DNS, and TLS servers for the API host and the SNI-only host.
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", RES, "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", f"--listen-address={RES_IP}",
             "--bind-interfaces", f"--address=/{RESOLVER_NAME}/{REFUSE_IP}", f"--address=/{API_NAME}/{API_IP}",
             "--pid-file=" + os.path.join(work, "dnsmasq.pid")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
           "2", "-subj", f"/CN={API_NAME}", "-keyout", os.path.join(work, "key.pem"), "-out",
           os.path.join(work, "cert.pem"))
        for ip in (API_IP, SNI_ONLY_IP):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", RES, "openssl", "s_server", "-quiet", "-accept", f"{ip}:443", "-cert",
                 os.path.join(work, "cert.pem"), "-key", os.path.join(work, "key.pem"), "-www"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)

        pcap = os.path.join(work, "phone.pcap")
        tcpdump = subprocess.Popen(["ip", "netns", "exec", PHONE, "tcpdump", "-i", f"{SFX}p", "-w", pcap, "-U",
                                    "-s", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        # The phone: learns its resolver's address, tries DoT (refused, then dropped), DoQ, falls back.
        in_ns(PHONE, "dig", f"@{RES_IP}", RESOLVER_NAME, "+tries=1", "+time=2")
        for ip in (REFUSE_IP, DROP_IP):
            in_ns(PHONE, "kdig", f"@{ip}", "-p", "853", "+tls", "+timeout=2", "+retry=0", API_NAME, check_rc=False,
                  timeout=15)
        in_ns(PHONE, "kdig", f"@{REFUSE_IP}", "-p", "853", "+quic", "+timeout=1", "+retry=0", API_NAME,
              check_rc=False, timeout=15)
        answer = in_ns(PHONE, "dig", f"@{RES_IP}", API_NAME, "+short", "+tries=1", "+time=2").stdout.strip()
        check("dnsmasq answers the fallback lookup", answer == API_IP, answer)
        for ip, name in ((API_IP, API_NAME), (SNI_ONLY_IP, SNI_ONLY_NAME)):
            in_ns(PHONE, "openssl", "s_client", "-connect", f"{ip}:443", "-servername", name, input="GET / HTTP/1.0\r\n\r\n",
                  check_rc=False, timeout=15)
        time.sleep(1.0)
        tcpdump.send_signal(signal.SIGINT)
        tcpdump.wait(timeout=10)

        proc = sh(WIRETALLY, "analyze", pcap, "--format", "json", "--no-ipdb", check_rc=False, timeout=120)
        check("analyze exits 0", proc.returncode == 0, proc.stderr)
        report = json.loads(proc.stdout)
        edns = report["encrypted_dns"]
        dot = edns["dot"]
        check("DoT: two attempts, one refused by the reset, one unanswered, none answered",
              (dot["attempts"], dot["refused"], dot["unanswered"], dot["answered"]) == (2, 1, 1, 0), dot)
        by_address = {s["address"]: s for s in dot["servers"]}
        check("DoT: per server fate", by_address.get(REFUSE_IP, {}).get("refused") == 1 and
              by_address.get(DROP_IP, {}).get("unanswered") == 1, dot["servers"])
        check("DoT: the refused resolver is named from the phone's plain lookup of it",
              by_address.get(REFUSE_IP, {}).get("names") == [RESOLVER_NAME], by_address.get(REFUSE_IP))
        check("DoQ: the UDP 853 attempt", edns["doq"]["flows"] == 1 and
              [s["address"] for s in edns["doq"]["servers"]] == [REFUSE_IP], edns["doq"])
        check("plain DNS after the failed DoT attempts", edns["plain_dns_servers_after_failed_dot"] == [RES_IP], edns)
        check("one TLS flow named only from its SNI", edns["sni_without_dns"] == 1, edns)
        summary = " ".join(edns["summary"])
        check("the summary says it in words", "refused" in summary and "plain DNS" in summary, summary)
        flows_dot = [s for s in report["servers"] if s["address"] in (REFUSE_IP, DROP_IP)]
        check("servers view lists both resolver addresses", len(flows_dot) == 2, report["servers"])
        api = next((s for s in report["servers"] if s["address"] == API_IP), None)
        check("servers view: the API host named by SNI", api is not None and
              [(n["name"], n["sources"]) for n in api["names"]] == [(API_NAME, ["sni"])], api)
        table = sh(WIRETALLY, "analyze", pcap, "--no-ipdb", timeout=120).stdout
        check("table: Encrypted DNS section", "Encrypted DNS\n  DNS over TLS was tried 2 times" in table,
              table[table.find("Encrypted DNS"):][:400])
        print(table[table.find("Encrypted DNS"):table.find("Encrypted DNS") + 700], flush=True)
    finally:
        tear_down(procs, (PHONE, RES))
        subprocess.run(["rm", "-rf", work])
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed", flush=True)
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
