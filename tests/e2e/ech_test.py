#!/usr/bin/env python3
"""Real ECH told from GREASE, from a real browser, offline and live (issue #14).

tests/e2e/ech_lab.py records Debian's Chromium in network namespaces: a GREASE ECH hello to a name without an HTTPS
record; a real ECH hello (outer SNI public.example-cars.test, config_id 0x42) made from the ECH configuration a
dnsmasq HTTPS record gave it for ech-hidden.example-cars.test; and Chromium's retry without ECH (the hidden name in
the clear, GREASE again) after the ECH-less server rejected it. The lab itself checks the hellos with tshark and
opens the real one's inner hello with the run's private key, so the truth here is independent of wiretally.

Then:
- `wiretally analyze --format json --flows`: the real hellos are `tls.ech: "real"`, named
  ech-hidden.example-cars.test with `name_source: "ech_dns"` (the name no peer recovers), the others `"grease"`;
  the report's totals count them (ech 6, ech_real 2, ech_grease 4), the servers view lists the hidden name under
  its address with the source ech_dns, and the HTTPS answer's flow says it carried an ECH configuration;
- the same capture with its DNS removed: every ECH offer is `"unknown"` (nothing shows which it is);
- `wiretally run` reading the capture through net_pcap: `ctl flows` and `ctl servers` say the same.

Usage: ech_test.py WIRETALLY. Needs root (skips with the documented reason otherwise).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "app", "live"))
import wt_skips  # noqa: E402
import livelib as L  # noqa: E402

WIRETALLY = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
HIDDEN, PUBLIC, GREASE = "ech-hidden.example-cars.test", "public.example-cars.test", "grease-only.example-cars.test"
HIDDEN_IP = "10.81.0.20"


def analyze(capture, work, tag):
    flows_path = os.path.join(work, f"{tag}-flows.jsonl")
    p = subprocess.run([WIRETALLY, "analyze", capture, "--format", "json", "--no-ipdb", "--flows", flows_path],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"analyze {capture} -> {p.returncode}: {p.stderr.strip()}")
    with open(flows_path) as f:
        flows = [json.loads(line) for line in f if line.strip()]
    return json.loads(p.stdout), flows


def tls_flows(flows):
    return [f for f in flows if f.get("app") == "tls" and f.get("tls")]


def without_dns(capture, out):
    subprocess.run(["tshark", "-r", capture, "-Y", "not udp.port == 53 and not tcp.port == 53", "-F", "pcap",
                    "-w", out], check=True, capture_output=True, timeout=60)
    return out


def main():
    wt_skips.skip_unless_root("the ECH test records Chromium in network namespaces (ip netns, tcpdump)")
    rep = L.Report("ech")
    work = tempfile.mkdtemp(prefix="wt-ech-")
    try:
        lab = subprocess.run([sys.executable, os.path.join(HERE, "ech_lab.py"), work], capture_output=True,
                             text=True, timeout=240)
        rep.note(lab.stdout.strip()[-1500:])
        if not rep.check("ech_lab recorded Chromium's GREASE and real ECH hellos (tshark and HPKE say so)",
                         lab.returncode == 0, f"exit {lab.returncode}: {lab.stderr.strip()[-800:]}"):
            return 1
        capture = os.path.join(work, "ech-chromium.pcap")

        report, flows = analyze(capture, work, "full")
        tls = tls_flows(flows)
        real = [f for f in tls if f["sni"] == PUBLIC]
        plain = [f for f in tls if f["sni"] == GREASE]
        retry = [f for f in tls if f["sni"] == HIDDEN]
        rep.check("real ECH hellos (outer SNI = public name) were seen", len(real) >= 1, [f["sni"] for f in tls])
        rep.check("real ECH: tls.ech is 'real' with config_id 0x42",
                  all(f["tls"]["ech"] == "real" and f["tls"]["ech_config_id"] == 0x42 for f in real),
                  [f["tls"] for f in real])
        rep.check("real ECH: named from the HTTPS record (the hidden name, name_source ech_dns)",
                  all(f["name"] == HIDDEN and f["name_source"] == "ech_dns" for f in real),
                  [(f["name"], f["name_source"]) for f in real])
        rep.check("GREASE to a name without an HTTPS record: tls.ech is 'grease'",
                  len(plain) >= 1 and all(f["tls"]["ech"] == "grease" for f in plain), [f["tls"]["ech"] for f in plain])
        rep.check("Chromium's retry without ECH (hidden name in the clear): 'grease'",
                  all(f["tls"]["ech"] == "grease" for f in retry), [f["tls"]["ech"] for f in retry])
        https = [f for f in flows if f.get("app") == "dns" and (f.get("dns") or {}).get("https_ech")]
        rep.check("the HTTPS answer's flow says it carried an ECH configuration",
                  any(f["dns"]["query"] == HIDDEN and f["dns"]["qtype"] == "HTTPS" for f in https),
                  [f.get("dns") for f in https])
        total = report["total"]
        rep.check("report totals: ech = all offers, ech_real and ech_grease as the flows say",
                  total["ech"] == len(tls) and total["ech_real"] == len(real) and
                  total["ech_grease"] == len(plain) + len(retry), {k: total[k] for k in ("ech", "ech_real", "ech_grease")})
        server = next((s for s in report["servers"] if s["address"] == HIDDEN_IP), None)
        names = {n["name"]: n["sources"] for n in (server or {}).get("names", [])}
        rep.check("servers view: the hidden name under its address, learnt from ech_dns",
                  "ech_dns" in names.get(HIDDEN, []), names)

        stripped = without_dns(capture, os.path.join(work, "no-dns.pcap"))
        _, flows_nodns = analyze(stripped, work, "nodns")
        rep.check("without the DNS in view every ECH offer is 'unknown' and named by its SNI",
                  all(f["tls"]["ech"] == "unknown" and f["name"] == f["sni"] for f in tls_flows(flows_nodns)),
                  [(f["sni"], f["tls"]["ech"]) for f in tls_flows(flows_nodns)])

        # Live: the appliance reading the same capture.
        prefix = f"wtech-{L.unique_suffix()}"
        d = L.Daemon(WIRETALLY, work, prefix)
        d.write_config(L.config_text(
            prefix=prefix, mode="tap", workers=1, socket=d.sock, snapshot="", memory_mb=256,
            vdevs=[f"net_pcap0,rx_pcap={capture}"], ports=[("cap", "net_pcap0", None)],
            flows_extra={"tcp_idle": "1s", "udp_idle": "1s", "closed_linger": "1s"}))
        d.start()
        live_real, live_sources, live_flows = [], [], []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rc, doc, _ = d.ctl("flows")
            live_flows = doc.get("flows", []) if rc == 0 and doc else []
            live_real = [f for f in live_flows if f.get("name") == HIDDEN and f.get("name_source") == "ech_dns"]
            rc, doc, _ = d.ctl("servers")
            srv = next((s for s in (doc or {}).get("servers", []) if s.get("address") == HIDDEN_IP), None)
            live_sources = next((n["sources"] for n in (srv or {}).get("names", []) if n["name"] == HIDDEN), [])
            if len(live_real) >= len(real) and "ech_dns" in live_sources:
                break
            time.sleep(0.5)
        rep.check("live ctl flows: the real ECH flows named from the HTTPS record, ech 'real'",
                  len(live_real) == len(real) and all(f.get("ech") == "real" for f in live_real),
                  [(f.get("name"), f.get("name_source"), f.get("ech")) for f in live_flows])
        rep.check("live ctl flows: GREASE offers are 'grease'",
                  sum(1 for f in live_flows if f.get("ech") == "grease") == len(plain) + len(retry),
                  [(f.get("name"), f.get("ech")) for f in live_flows])
        rep.check("live ctl servers: the hidden name learnt from ech_dns", "ech_dns" in live_sources, live_sources)
        d.stop()
    finally:
        if os.environ.get("WT_ECH_KEEP_WORK") != "1":
            shutil.rmtree(work, ignore_errors=True)
    print(f"{rep.passed} passed, {rep.failed} failed", flush=True)
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
