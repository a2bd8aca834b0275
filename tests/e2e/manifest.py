#!/usr/bin/env python3
"""Build OUT_DIR/manifest.json for make_capture.sh and check the capture against it with tshark.

Inputs: the client log written by make_capture.sh (records.tsv, one tab-separated key=value line per connection
attempt), marks.csv and capture.pcap. Each record is matched to the flow it produced in the capture (TCP/UDP stream
whose server address/port match, started at or after the client was launched; curl's local port when known), and the
manifest gets both what was requested (name, SNI, ALPN, TLS version/cipher, expected body bytes) and what tshark
observed on the wire (packets, Ethernet frame bytes per direction, SNI, offered ALPN, negotiated TLS version and cipher,
DNS answers). Exits 1 when an expectation is not met (wrong/missing SNI, DNS answer missing, etc.).
Usage: manifest.py --records R --marks M --pcap P --out J [--interval S] [--phone ip,ip] [--failures N] [--elapsed S]
Standard library only.
"""
import argparse
import csv
import datetime
import json
import os
import subprocess
import sys

# IANA TLS cipher suite values we request (RFC 8446 B.4, RFC 5289, RFC 7905).
CIPHERS = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
}
VERSIONS = {0x0304: "1.3", 0x0303: "1.2", 0x0302: "1.1", 0x0301: "1.0"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

FIELDS = [
    "frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "tcp.stream", "tcp.srcport", "tcp.dstport", "udp.stream", "udp.srcport", "udp.dstport",
    "tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
    "tls.handshake.ciphersuite", "tls.handshake.extensions.supported_version", "tls.handshake.version",
    "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "dns.cname", "dns.a", "dns.aaaa",
    "http.host", "http.request.uri", "http.response.code", "quic.version", "icmp.type", "icmpv6.type",
]
AGG = "|"


def die(msg):
    print("manifest.py: " + msg, file=sys.stderr)
    sys.exit(2)


def as_int(text):
    try:
        return int(text, 0)
    except ValueError:
        return int(text)


def read_records(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            rec = {}
            for item in line.split("\t"):
                key, _, value = item.partition("=")
                rec[key] = value
            records.append(rec)
    return records


def read_marks(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["timestamp", "label"]:
        die("marks.csv must start with the header 'timestamp,label'")
    return [{"label": r[1], "timestamp": float(r[0])} for r in rows[1:] if r]


def run_tshark(pcap):
    cmd = ["tshark", "-r", pcap, "-n", "-d", "tcp.port==5223,tls", "-T", "fields",
           "-E", "separator=/t", "-E", "aggregator=" + AGG, "-E", "occurrence=a"]
    for field in FIELDS:
        cmd += ["-e", field]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    frames = []
    for line in out.splitlines():
        values = line.split("\t")
        values += [""] * (len(FIELDS) - len(values))
        frames.append(dict(zip(FIELDS, values)))
    return frames


def first(value):
    return value.split(AGG)[0] if value else ""


def multi(value):
    return [v for v in value.split(AGG) if v] if value else []


def build_flows(frames, phone_ips):
    """Groups frames into TCP/UDP streams, oriented phone (client) -> server."""
    flows = {}
    other = {"packets": 0, "bytes": 0}
    capture = {"packets": len(frames), "bytes": 0, "first_ts": None, "last_ts": None}
    for fr in frames:
        ts = float(fr["frame.time_epoch"])
        length = int(fr["frame.len"])
        capture["bytes"] += length
        capture["first_ts"] = ts if capture["first_ts"] is None else min(capture["first_ts"], ts)
        capture["last_ts"] = ts if capture["last_ts"] is None else max(capture["last_ts"], ts)
        src = first(fr["ip.src"]) or first(fr["ipv6.src"])
        dst = first(fr["ip.dst"]) or first(fr["ipv6.dst"])
        icmp = fr["icmp.type"] or fr["icmpv6.type"]
        if fr["tcp.stream"] and not icmp:
            proto, stream = "tcp", first(fr["tcp.stream"])
            sport, dport = first(fr["tcp.srcport"]), first(fr["tcp.dstport"])
        elif fr["udp.stream"] and not icmp:
            proto, stream = "udp", first(fr["udp.stream"])
            sport, dport = first(fr["udp.srcport"]), first(fr["udp.dstport"])
        else:
            other["packets"] += 1
            other["bytes"] += length
            continue
        c2s = src in phone_ips
        key = (proto, int(stream))
        flow = flows.get(key)
        if flow is None:
            client, server = ((src, int(sport)), (dst, int(dport))) if c2s else ((dst, int(dport)), (src, int(sport)))
            flow = flows[key] = {
                "proto": proto, "stream": int(stream), "client_ip": client[0], "client_port": client[1],
                "server_ip": server[0], "server_port": server[1], "first_ts": ts, "last_ts": ts,
                "packets": 0, "bytes": 0, "packets_c2s": 0, "bytes_c2s": 0, "packets_s2c": 0, "bytes_s2c": 0,
                "client_hellos": [], "server_hellos": [], "dns": [], "http_hosts": [], "http_uris": [],
                "http_status": [], "quic_versions": set(), "used": False,
            }
        flow["last_ts"] = ts
        flow["packets"] += 1
        flow["bytes"] += length
        direction = "c2s" if c2s else "s2c"
        flow["packets_" + direction] += 1
        flow["bytes_" + direction] += length
        types = multi(fr["tls.handshake.type"])
        if "1" in types:
            flow["client_hellos"].append({
                "ts": ts,
                "sni": first(fr["tls.handshake.extensions_server_name"]),
                "alpn": multi(fr["tls.handshake.extensions_alpn_str"]),
                "supported_versions": [VERSIONS.get(as_int(v), v) for v in
                                       multi(fr["tls.handshake.extensions.supported_version"])],
            })
        if "2" in types:
            suites = multi(fr["tls.handshake.ciphersuite"])
            sv = multi(fr["tls.handshake.extensions.supported_version"])
            legacy = multi(fr["tls.handshake.version"])
            version = VERSIONS.get(as_int(sv[0])) if sv else (VERSIONS.get(as_int(legacy[0])) if legacy else None)
            alpn = multi(fr["tls.handshake.extensions_alpn_str"])
            suite = as_int(suites[0]) if suites else None
            flow["server_hellos"].append({
                "ts": ts, "version": version,
                "cipher": CIPHERS.get(suite, "0x%04x" % suite) if suite is not None else None,
                "alpn": alpn[0] if alpn else None,
            })
        if fr["dns.qry.name"] and fr["dns.flags.response"]:
            is_resp = first(fr["dns.flags.response"]) in ("1", "True", "true")
            flow["dns"].append({
                "ts": ts, "response": is_resp, "qname": first(fr["dns.qry.name"]),
                "qtype": first(fr["dns.qry.type"]),
                "rcode": RCODES.get(as_int(first(fr["dns.flags.rcode"])), first(fr["dns.flags.rcode"]))
                if fr["dns.flags.rcode"] else None,
                "cnames": multi(fr["dns.cname"]), "addresses": multi(fr["dns.a"]) + multi(fr["dns.aaaa"]),
            })
        flow["http_hosts"] += multi(fr["http.host"])
        flow["http_uris"] += multi(fr["http.request.uri"])
        flow["http_status"] += multi(fr["http.response.code"])
        for v in multi(fr["quic.version"]):
            flow["quic_versions"].add(as_int(v))
    return flows, other, capture


def match_flow(rec, flows):
    proto = rec.get("proto")
    sip, sport = rec.get("server_ip"), int(rec.get("server_port", "0") or 0)
    cport = rec.get("client_port")
    start = float(rec["start"])
    best = None
    for flow in flows.values():
        if flow["used"] or flow["proto"] != proto or flow["server_ip"] != sip or flow["server_port"] != sport:
            continue
        if cport and cport != "0" and flow["client_port"] != int(cport):
            continue
        if flow["first_ts"] < start - 0.05:
            continue
        if best is None or flow["first_ts"] < best["first_ts"]:
            best = flow
    if best is not None:
        best["used"] = True
    return best


def split_list(value):
    return [v for v in value.split(",") if v] if value else []


def check_connection(rec, flow, entry, dns_entries):
    problems = []
    if flow is None:
        return ["no flow in the capture"]
    obs = entry["observed"]
    kind = rec["kind"]
    if kind in ("tls", "quic", "dot"):
        if not flow["client_hellos"]:
            problems.append("no ClientHello seen")
        else:
            ch = flow["client_hellos"][0]
            obs["sni"] = ch["sni"] or None
            obs["alpn_offered"] = ch["alpn"]
            obs["tls_versions_offered"] = ch["supported_versions"]
            want_sni = rec.get("sni", "")
            if (ch["sni"] or "") != want_sni:
                problems.append("SNI %r, expected %r" % (ch["sni"], want_sni))
            want_alpn = split_list(rec.get("alpn_requested", ""))
            if kind != "dot" and ch["alpn"] != want_alpn:
                problems.append("ALPN offered %s, expected %s" % (ch["alpn"], want_alpn))
        if flow["server_hellos"]:
            sh = flow["server_hellos"][0]
            obs["tls_version"] = sh["version"]
            obs["cipher"] = sh["cipher"]
            if sh["alpn"]:
                obs["alpn_selected"] = sh["alpn"]
            want_ver = rec.get("tls_version_requested", "default")
            if want_ver in ("1.2", "1.3") and sh["version"] != want_ver:
                problems.append("TLS %s negotiated, expected %s" % (sh["version"], want_ver))
            want_cipher = rec.get("cipher_requested", "default")
            if want_cipher not in ("", "default") and sh["cipher"] != want_cipher:
                problems.append("cipher %s negotiated, expected %s" % (sh["cipher"], want_cipher))
        else:
            problems.append("no ServerHello seen")
        if kind == "quic":
            obs["quic_versions"] = sorted("0x%08x" % v for v in flow["quic_versions"])
            if 1 not in flow["quic_versions"]:
                problems.append("no QUIC v1 packet")
    if kind == "http":
        obs["http_host"] = flow["http_hosts"][0] if flow["http_hosts"] else None
        obs["http_status"] = int(flow["http_status"][0]) if flow["http_status"] else None
        if rec.get("host_header") not in flow["http_hosts"]:
            problems.append("Host %s not seen (saw %s)" % (rec.get("host_header"), flow["http_hosts"]))
    if kind == "dns":
        resp = [d for d in flow["dns"] if d["response"]]
        if not resp:
            problems.append("no DNS response")
        else:
            d = resp[0]
            obs["dns"] = {"qname": d["qname"], "rcode": d["rcode"], "cnames": d["cnames"], "addresses": d["addresses"],
                          "response_ts": d["ts"]}
            if d["qname"] != rec["name"]:
                problems.append("query name %s" % d["qname"])
            if d["rcode"] != rec.get("rcode"):
                problems.append("rcode %s, dig said %s" % (d["rcode"], rec.get("rcode")))
            for a in split_list(rec.get("answers", "")):
                if a not in d["addresses"]:
                    problems.append("answer %s missing" % a)
            if d["cnames"] != split_list(rec.get("cnames", "")):
                problems.append("CNAME chain %s, dig said %s" % (d["cnames"], rec.get("cnames")))
    if kind in ("tls", "http", "dot"):
        # The phone resolves the name with plain DNS before it connects: the answer must precede the connection.
        asked = [e for e in dns_entries if e["action_index"] == entry["action_index"] and e["name"] == entry["name"]]
        if asked:
            before = [e for e in asked if e["observed"].get("dns")
                      and entry["server"]["ip"] in e["observed"]["dns"]["addresses"]
                      and e["observed"]["dns"]["response_ts"] <= flow["first_ts"]]
            obs["dns_answer_before_connection"] = bool(before)
            if not before:
                problems.append("no DNS answer with %s before the connection" % entry["server"]["ip"])
    return problems


def check_kept_open(entry, flows):
    """A connection kept open across actions: every request answered in full on it, in order, then closed."""
    problems = []
    obs = entry["observed"]
    if not entry["requests"]:
        problems.append("no request on the kept-open connection")
    for r in entry["requests"]:
        if r["http_status"] != 200 or r["response_body_bytes"] != r["expected_body_bytes"]:
            problems.append("request %s in %s: status %s, %s body bytes, expected %d" % (
                r["path"], r["action"], r["http_status"], r["response_body_bytes"], r["expected_body_bytes"]))
        if obs and not (obs["first_ts"] <= r["start"] and r["end"] <= obs["last_ts"] + 0.05):
            problems.append("request %s in %s at %.6f-%.6f outside the flow (%.6f-%.6f)" % (
                r["path"], r["action"], r["start"], r["end"], obs["first_ts"], obs["last_ts"]))
    starts = [r["start"] for r in entry["requests"]]
    if starts != sorted(starts):
        problems.append("requests out of order")
    closed = entry.get("closed")
    if closed is None:
        problems.append("never closed")
    else:
        if closed["rc"] != 0:
            problems.append("client ended with rc=%d" % closed["rc"])
        if entry["requests"] and closed["start"] < entry["requests"][-1]["end"]:
            problems.append("closed before its last request completed")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", required=True)
    ap.add_argument("--marks", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=30.0)
    ap.add_argument("--phone", default="10.77.0.2,fd77::2")
    ap.add_argument("--failures", type=int, default=0)
    ap.add_argument("--elapsed", type=int, default=0)
    args = ap.parse_args()

    phone_ips = set(args.phone.split(","))
    records = read_records(args.records)
    marks = read_marks(args.marks)
    flows, other, capture = build_flows(run_tshark(args.pcap), phone_ips)

    connections, dns_entries, problems_total = [], [], []
    burst_end = {}
    kept_open = {}  # conn_ref -> (record, entry) of a connection kept open across actions
    late = []  # (record, message): requests or closes without their connection
    for rec in records:
        kind = rec["kind"]
        if kind == "action_end":
            burst_end[int(rec["action_index"])] = float(rec["start"])
            continue
        if kind in ("request", "close"):
            # A request on (or the close of) a connection kept open: it belongs to that connection's entry.
            ref = kept_open.get(rec.get("conn_ref"))
            if ref is None:
                late.append("%s %s in %s: no kept-open connection %r" % (kind, rec.get("name"), rec["action"],
                                                                         rec.get("conn_ref")))
                continue
            conn_rec, entry = ref
            item = {"action": rec["action"], "action_index": int(rec["action_index"]),
                    "start": round(float(rec["start"]), 6)}
            if kind == "request":
                item.update({"end": round(float(rec["end"]), 6), "path": rec["path"],
                             "http_status": int(rec["http_status"]) if rec.get("http_status", "").isdigit() else None,
                             "response_body_bytes": int(rec["response_bytes"])
                             if rec.get("response_bytes", "").isdigit() else None,
                             "expected_body_bytes": int(rec["expected_body_bytes"])})
                entry["requests"].append(item)
            else:
                item["rc"] = int(rec.get("rc", "0") or 0)
                entry["closed"] = item
            continue
        flow = match_flow(rec, flows)
        entry = {
            "id": len(connections) + 1,
            "action": rec["action"],
            "action_index": int(rec["action_index"]),
            "start": round(float(rec["start"]), 6),
            "app": rec["app"],
            "proto": rec["proto"],
            "name": rec["name"],
            "client": {"ip": flow["client_ip"] if flow else rec.get("client_ip") or None,
                       "port": flow["client_port"] if flow else None, "program": rec.get("client")},
            "server": {"ip": rec["server_ip"], "port": int(rec["server_port"])},
        }
        if kind in ("tls", "quic", "dot"):
            entry["sni"] = rec.get("sni") or None
            entry["tls_version_requested"] = rec.get("tls_version_requested", "default")
            entry["cipher_requested"] = rec.get("cipher_requested", "default")
            entry["alpn_requested"] = split_list(rec.get("alpn_requested", ""))
        if kind == "quic":
            entry["quic_version"] = 1
        if kind == "dot":
            entry["query"] = {"name": rec["query"], "type": rec["qtype"], "rcode": rec.get("rcode")}
        if kind == "dns":
            entry["query"] = {"name": rec["name"], "type": rec["qtype"], "rcode": rec["rcode"],
                              "cnames": split_list(rec.get("cnames", "")),
                              "answers": split_list(rec.get("answers", ""))}
        if kind == "http":
            entry["host_header"] = rec.get("host_header")
        if rec.get("kept_open") == "1":
            entry["kept_open"] = True
            entry["requests"] = []  # filled by the kind=request records: action, time, path, body bytes
            entry["closed"] = None  # the kind=close record: action and time the client closed it
            kept_open[rec["conn_ref"]] = (rec, entry)
        for key in ("path", "http_status"):
            if rec.get(key):
                entry[key] = int(rec[key]) if key == "http_status" else rec[key]
        if rec.get("response_bytes"):
            entry["response_body_bytes"] = int(rec["response_bytes"])
        if rec.get("expected_body_bytes"):
            entry["expected_body_bytes"] = int(rec["expected_body_bytes"])
        entry["observed"] = {}
        if flow:
            entry["observed"].update({
                "first_ts": round(flow["first_ts"], 6), "last_ts": round(flow["last_ts"], 6),
                "packets": flow["packets"], "frame_bytes": flow["bytes"],
                "packets_c2s": flow["packets_c2s"], "frame_bytes_c2s": flow["bytes_c2s"],
                "packets_s2c": flow["packets_s2c"], "frame_bytes_s2c": flow["bytes_s2c"],
            })
        problems = check_connection(rec, flow, entry, dns_entries)
        if problems:
            entry["problems"] = problems
            problems_total.append("#%d %s %s %s: %s" % (entry["id"], entry["app"], entry["name"], entry["action"],
                                                         "; ".join(problems)))
        connections.append(entry)
        if kind == "dns":
            dns_entries.append(entry)

    for conn_rec, entry in kept_open.values():
        problems = check_kept_open(entry, flows)
        if problems:
            entry.setdefault("problems", []).extend(problems)
            problems_total.append("#%d %s %s %s (kept open): %s" % (entry["id"], entry["app"], entry["name"],
                                                                    entry["action"], "; ".join(problems)))
    problems_total += late

    unmatched = [f for f in flows.values() if not f["used"]]
    names = {}
    for c in connections:
        n = names.setdefault(c["name"], {"connections": 0, "apps": [], "packets": 0, "frame_bytes": 0})
        n["connections"] += 1
        if c["app"] not in n["apps"]:
            n["apps"].append(c["app"])
        n["packets"] += c["observed"].get("packets", 0)
        n["frame_bytes"] += c["observed"].get("frame_bytes", 0)
    snis = sorted({c["observed"]["sni"] for c in connections if c["observed"].get("sni")})
    actions = []
    for i, m in enumerate(marks):
        a = {"index": i, "label": m["label"], "timestamp": m["timestamp"]}
        if i in burst_end:
            a["burst_seconds"] = round(burst_end[i] - m["timestamp"], 3)
        a["connections"] = sum(1 for c in connections if c["action_index"] == i)
        actions.append(a)

    manifest = {
        "format": "wiretally-e2e-manifest/1",
        "generator": "tests/e2e/make_capture.sh",
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "notes": "frame_bytes are Ethernet frame lengths as captured on the phone's interface (no FCS); "
                 "c2s = phone to server. 'observed' comes from tshark on capture.pcap, the rest from the clients.",
        "action_interval_s": args.interval,
        "capture": {"file": os.path.basename(args.pcap), "link_type": "EN10MB", "tap": "phone veth ph0",
                    "packets": capture["packets"], "frame_bytes": capture["bytes"],
                    "first_ts": capture["first_ts"], "last_ts": capture["last_ts"],
                    "tcp_flows": sum(1 for f in flows.values() if f["proto"] == "tcp"),
                    "udp_flows": sum(1 for f in flows.values() if f["proto"] == "udp"),
                    "other_packets": other["packets"], "other_frame_bytes": other["bytes"]},
        "topology": {"phone": sorted(phone_ips), "resolver": {"dns": ["10.77.53.53", "fd77:53::53"],
                                                              "dot": "10.77.53.85:853"},
                     "cloud": "10.77.1.0/24, fd77:1::/64 (servers), router between phone 10.77.0.0/24 and "
                              "resolver 10.77.53.0/24"},
        "actions": actions,
        "connections": connections,
        "names": names,
        "snis": snis,
        "unmatched_flows": [{"proto": f["proto"], "client": "%s:%d" % (f["client_ip"], f["client_port"]),
                             "server": "%s:%d" % (f["server_ip"], f["server_port"]), "packets": f["packets"]}
                            for f in unmatched],
        "client_failures": args.failures,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    # Short summary.
    cap = manifest["capture"]
    print("capture: %d packets, %d bytes, %.1f s, %d TCP + %d UDP flows, %d other packets (ARP/ND/ICMP)" % (
        cap["packets"], cap["frame_bytes"], (cap["last_ts"] or 0) - (cap["first_ts"] or 0), cap["tcp_flows"],
        cap["udp_flows"], cap["other_packets"]))
    for a in actions:
        print("action %-12s at %.3f: %d connections, burst %.2f s" % (
            a["label"], a["timestamp"], a["connections"], a.get("burst_seconds", -1)))
    print("SNIs: " + ", ".join(snis))
    by_app = {}
    for c in connections:
        by_app[c["app"]] = by_app.get(c["app"], 0) + 1
    print("connections by app: " + ", ".join("%s=%d" % kv for kv in sorted(by_app.items())))
    dns_names = sorted({(c["name"], c["query"]["type"], c["query"]["rcode"]) for c in connections if c["app"] == "dns"})
    print("DNS: " + ", ".join("%s/%s/%s" % t for t in dns_names))
    for _, entry in kept_open.values():
        print("kept open: %s %s:%s opened in %s, requests %s, closed in %s" % (
            entry["name"], entry["server"]["ip"], entry["server"]["port"], entry["action"],
            ", ".join("%s %d B" % (r["action"], r["expected_body_bytes"]) for r in entry["requests"]),
            entry["closed"]["action"] if entry.get("closed") else "-"))
    for f in manifest["unmatched_flows"]:
        print("warning: flow not made by a recorded client: %s" % f)
    for a in actions:
        if a.get("burst_seconds", 0) > args.interval:
            print("warning: action %s took %.2f s, longer than the interval" % (a["label"], a["burst_seconds"]))
    if problems_total:
        for p in problems_total:
            print("CHECK FAILED " + p, file=sys.stderr)
        return 1
    print("checks: all %d connections match the capture" % len(connections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
