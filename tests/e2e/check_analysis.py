#!/usr/bin/env python3
"""End-to-end: record a phone-app session with real clients and servers in
network namespaces (make_capture.sh), analyse it with wiretally, and check the
report against the manifest that tshark confirmed while recording.

Usage: check_analysis.py WIRETALLY [--capture-dir DIR]   (records a fresh capture unless DIR is given)
Needs root for the namespaces when it records.
"""
import argparse
import bisect
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import wt_skips  # noqa: E402

ARGS = None
DATA = {}

# Names of the session and the service the embedded default services file must give them.
EXPECTED_SERVICES = {
    "maps.googleapis.com": "Google Maps",
    "app-measurement.com": "Firebase",
    "firebase-settings.crashlytics.com": "Firebase",
    "courier.push.apple.com": "Apple Push Notifications",
    "graph.facebook.com": "Facebook Graph API",
    "dns.google": "Public DNS resolvers",
}
ETHERNET_HEADER = 14


def setUpModule():
    if ARGS.capture_dir:
        out = ARGS.capture_dir
    else:
        DATA["tmp"] = tempfile.TemporaryDirectory(prefix="wt-e2e-")
        out = DATA["tmp"].name
        subprocess.run([os.path.join(HERE, "make_capture.sh"), out, "--action-interval", "4",
                        "--suffix", f"ci{os.getpid() % 10000}"], check=True, timeout=600)
    DATA["dir"] = out
    with open(os.path.join(out, "manifest.json")) as f:
        DATA["manifest"] = json.load(f)
    DATA["flows_dir"] = tempfile.TemporaryDirectory(prefix="wt-e2e-flows-")
    flows = os.path.join(DATA["flows_dir"].name, "flows.jsonl")
    proc = subprocess.run([ARGS.wiretally, "analyze", os.path.join(out, "capture.pcap"), "--marks",
                           os.path.join(out, "marks.csv"), "--format", "json", "--flows", flows],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"wiretally failed ({proc.returncode}): {proc.stderr}")
    DATA["report"] = json.loads(proc.stdout)
    with open(flows) as f:
        DATA["flows"] = [json.loads(line) for line in f]
    table = subprocess.run([ARGS.wiretally, "analyze", os.path.join(out, "capture.pcap"), "--marks",
                            os.path.join(out, "marks.csv")], capture_output=True, text=True, timeout=120)
    DATA["table"] = table.stdout
    DATA["iana"] = openssl_to_iana()


def openssl_to_iana():
    """OpenSSL cipher names (what the manifest records for TLS 1.2) to IANA names (what we report)."""
    out = subprocess.run(["openssl", "ciphers", "-stdname", "ALL:@SECLEVEL=0"], capture_output=True, text=True,
                         check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "-":
            table[parts[2]] = parts[0]
    return table


def tearDownModule():
    for key in ("tmp", "flows_dir"):
        if key in DATA:
            DATA[key].cleanup()


def flow_for(conn):
    """Our flow for a manifest connection: same proto, client port, server address and port."""
    for fl in DATA["flows"]:
        if (fl["proto"] == conn["proto"] and fl["client_port"] == conn["client"]["port"]
                and fl["server"] == conn["server"]["ip"] and fl["server_port"] == conn["server"]["port"]):
            return fl
    return None


def read_marks(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows and rows[0] == ["timestamp", "label"], "marks.csv must start with 'timestamp,label'"
    return [(float(r[0]), r[1]) for r in rows[1:] if r]


def tshark_split_by_action(conn, marks):
    """tshark's per-packet view of one TCP connection split by the marks, with the report's rule: a packet
    with TCP payload passes in the action under way at its time (the last mark at or before it) and the
    connection is in that action from then on; a packet without payload (SYN, bare ACK, FIN) stays with the
    action already under way for the connection; the connection's first stretch begins with its first payload
    packet (its handshake goes with that packet's action). Returns ({label: [bytes_up, bytes_down]}, order of
    the labels as the connection entered them). Bytes are IP bytes: ip.len, or 40 + ipv6.plen."""
    cip, cport = conn["client"]["ip"], conn["client"]["port"]
    sip, sport = conn["server"]["ip"], conn["server"]["port"]
    fam = "ipv6" if ":" in sip else "ip"
    flt = (f"{fam}.addr=={cip} && {fam}.addr=={sip} && tcp.port=={cport} && tcp.port=={sport} "
           f"&& !icmp && !icmpv6")
    out = subprocess.run(["tshark", "-r", os.path.join(DATA["dir"], "capture.pcap"), "-n", "-Y", flt, "-T",
                          "fields", "-E", "separator=/t", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src",
                          "-e", "ip.len", "-e", "ipv6.plen", "-e", "tcp.len", "-e", "tcp.stream"],
                         capture_output=True, text=True, check=True).stdout
    times = [t for t, _ in marks]
    split, order, pending, cur, streams = {}, [], [0, 0], None, set()
    for line in out.splitlines():
        ts, src4, src6, len4, plen6, tcp_len, stream = line.split("\t")
        streams.add(stream)
        up = (src4 or src6) == cip
        size = int(len4) if len4 else 40 + int(plen6)
        if int(tcp_len) > 0:
            i = bisect.bisect_right(times, float(ts)) - 1
            assert i >= 0, "payload before the first mark"
            if marks[i][1] != cur:
                cur = marks[i][1]
                order.append(cur)
                split.setdefault(cur, [0, 0])
                split[cur][0] += pending[0]
                split[cur][1] += pending[1]
                pending = [0, 0]
        if cur is None:
            pending[0 if up else 1] += size
        else:
            split[cur][0 if up else 1] += size
    assert len(streams) == 1, f"the 5-tuple is {len(streams)} TCP streams in the capture"
    assert pending == [0, 0], "packets after the last payload without any payload before"
    return split, order


class Session(unittest.TestCase):
    def test_kept_open_connection_splits_across_actions_by_packet_time(self):
        kept = [c for c in DATA["manifest"]["connections"] if c.get("kept_open")]
        self.assertEqual(len(kept), 1, "the session has one kept-open API connection")
        conn = kept[0]
        marks = read_marks(os.path.join(DATA["dir"], "marks.csv"))
        labels = [label for _, label in marks]
        # The manifest: opened in the first action, one request in each action (App launch, Climate, Location),
        # each answered in full, closed after the last one.
        self.assertEqual(conn["action"], labels[0])
        self.assertEqual([r["action"] for r in conn["requests"]], labels)
        for r in conn["requests"]:
            self.assertEqual(r["response_body_bytes"], r["expected_body_bytes"])
        self.assertEqual(conn["closed"]["action"], labels[-1])
        self.assertEqual(conn["observed"]["tls_version"], "1.3")

        split, order = tshark_split_by_action(conn, marks)
        self.assertEqual(order, labels, "tshark: the connection carries payload in each action, in turn")
        lookups = {}
        for c in DATA["manifest"]["connections"]:
            if c["app"] == "dns" and c["name"] == conn["name"]:
                lookups[c["action"]] = lookups.get(c["action"], 0) + 1
        rows = {}
        for block in DATA["report"]["actions"]:
            for row in block["domains"]:
                if row["name"] == conn["name"]:
                    self.assertNotIn(block["action"], rows, "one row per action and name")
                    rows[block["action"]] = row
        self.assertEqual(sorted(rows), sorted(labels))
        for label in labels:
            row = rows[label]
            with self.subTest(action=label):
                if label == conn["action"]:
                    self.assertEqual((row["connections_new"], row["connections_reused"]), (1, 0))
                    self.assertIsNone(row["reused_from"])
                else:
                    self.assertEqual((row["connections_new"], row["connections_reused"]), (0, 1))
                    self.assertEqual(row["reused_from"], conn["action"])
                self.assertEqual(row["dns_lookups"], lookups.get(label, 0))
                self.assertEqual([row["bytes_up"], row["bytes_down"]], split[label])
                self.assertIsNone(row["server"])
                self.assertEqual(row["tls_versions"], {"TLSv1.3": 1})
                self.assertEqual(row["ciphers"], {DATA["iana"].get(conn["observed"]["cipher"],
                                                                   conn["observed"]["cipher"]): 1})
        # The three stretches are the whole flow.
        fl = flow_for(conn)
        self.assertEqual([fl["bytes_up"], fl["bytes_down"]],
                         [sum(v[0] for v in split.values()), sum(v[1] for v in split.values())])

    def test_every_connection_is_a_flow_with_its_name_app_and_action(self):
        for conn in DATA["manifest"]["connections"]:
            with self.subTest(id=conn["id"], name=conn["name"], app=conn["app"]):
                fl = flow_for(conn)
                self.assertIsNotNone(fl, "no flow for this connection")
                self.assertEqual(fl["client"], conn["client"]["ip"])
                self.assertEqual(fl["app"], conn["app"])
                if conn["app"] == "tls" and not conn.get("sni"):
                    self.assertEqual(fl["name"], "")  # an IP literal without SNI and without DNS
                else:
                    self.assertEqual(fl["name"], conn["name"])
                self.assertEqual(fl["action"], conn["action"])

    def test_packet_and_byte_counts_are_exact(self):
        for conn in DATA["manifest"]["connections"]:
            obs = conn["observed"]
            with self.subTest(id=conn["id"], name=conn["name"]):
                fl = flow_for(conn)
                self.assertIsNotNone(fl)
                self.assertEqual(fl["pkts_up"], obs["packets_c2s"])
                self.assertEqual(fl["pkts_down"], obs["packets_s2c"])
                # Frames on a veth carry no VLAN tag and no padding-inflated IP length:
                # IP bytes = frame bytes - 14 per packet.
                self.assertEqual(fl["bytes_up"], obs["frame_bytes_c2s"] - ETHERNET_HEADER * obs["packets_c2s"])
                self.assertEqual(fl["bytes_down"], obs["frame_bytes_s2c"] - ETHERNET_HEADER * obs["packets_s2c"])

    def test_tls_and_quic_details(self):
        names = {"1.3": "TLSv1.3", "1.2": "TLSv1.2"}
        for conn in DATA["manifest"]["connections"]:
            if conn["app"] not in ("tls", "dot", "quic"):
                continue
            obs = conn["observed"]
            with self.subTest(id=conn["id"], name=conn["name"]):
                fl = flow_for(conn)
                self.assertIn("tls", fl)
                self.assertEqual(fl["sni"], obs.get("sni") or "")
                self.assertEqual(fl["tls"]["alpn"], obs.get("alpn_offered", []))
                if conn["app"] == "quic":
                    self.assertEqual(fl["quic"]["version"], "V-1")
                    self.assertTrue(fl["tls"]["ja4"].startswith("q13"), fl["tls"]["ja4"])
                else:
                    self.assertEqual(fl["tls"]["version"], names[obs["tls_version"]])
                    self.assertEqual(fl["tls"]["cipher"], DATA["iana"].get(obs["cipher"], obs["cipher"]))
                    self.assertTrue(fl["tls"]["ja4"].startswith("t1"), fl["tls"]["ja4"])

    def test_dns_answers_and_cname_chains(self):
        for conn in DATA["manifest"]["connections"]:
            if conn["app"] != "dns":
                continue
            obs = conn["observed"]["dns"]
            with self.subTest(id=conn["id"], name=conn["name"]):
                fl = flow_for(conn)
                self.assertEqual(fl["dns"]["query"], obs["qname"])
                self.assertEqual(fl["dns"]["rcode"], obs["rcode"])
                self.assertEqual(fl["dns"]["cnames"], obs["cnames"])
                self.assertEqual(sorted(fl["dns"]["answers"]), sorted(obs["addresses"]))

    def test_services_from_the_default_set(self):
        by_domain = {d["domain"]: d for d in DATA["report"]["domains"]}
        for name, service in EXPECTED_SERVICES.items():
            with self.subTest(name=name):
                self.assertIn(name, by_domain)
                self.assertEqual(by_domain[name]["service"], service)
        services = {s["service"]: s for s in DATA["report"]["services"]}
        maps = services["Google Maps"]
        self.assertGreaterEqual(maps["quic"], 1)
        self.assertEqual(maps["tls_versions"].get("TLSv1.3", 0) + maps["tls_versions"].get("none", 0) >= 1, True)

    def test_service_totals_equal_the_sum_of_their_flows(self):
        totals = {}
        for fl in DATA["flows"]:
            t = totals.setdefault(fl["service"] or None, [0, 0, 0])
            t[0] += 1
            t[1] += fl["bytes_up"]
            t[2] += fl["bytes_down"]
        for s in DATA["report"]["services"]:
            with self.subTest(service=s["service"]):
                self.assertEqual([s["connections"], s["bytes_up"], s["bytes_down"]], totals[s["service"]])

    def test_action_table_lists_each_actions_domains(self):
        expected = {}
        for conn in DATA["manifest"]["connections"]:
            if conn["app"] == "tls" and not conn.get("sni"):
                continue
            expected.setdefault(conn["action"], set()).add(conn["name"])
        # A name is listed in the action its connection opened in (new) or its DNS lookup was made in; it
        # may show again in later actions whose bytes it carried (reused), which the manifest does not say.
        got = {}
        for block in DATA["report"]["actions"]:
            for row in block["domains"]:
                if (row["connections_new"] > 0 or row["dns_lookups"] > 0) and row["name"] is not None:
                    got.setdefault(block["action"], set()).add(row["name"])
        self.assertEqual(set(got), set(expected))
        for action, names in expected.items():
            with self.subTest(action=action):
                self.assertEqual(got[action], names)
        for action in expected:
            self.assertIn(action, DATA["table"])

    def test_flags_dot_quic_cleartext_and_no_sni(self):
        total = DATA["report"]["total"]
        apps = [c["app"] for c in DATA["manifest"]["connections"]]
        for app in ("dot", "quic", "http"):  # a session without them would check nothing here
            self.assertGreater(apps.count(app), 0, app)
        self.assertEqual(total["dot"], apps.count("dot"))
        self.assertEqual(total["quic"], apps.count("quic"))
        self.assertEqual(total["cleartext_http"], apps.count("http"))
        no_sni = [c for c in DATA["manifest"]["connections"] if c["app"] == "tls" and not c.get("sni")]
        self.assertEqual(total["tls_without_sni"], len(no_sni))
        self.assertEqual(DATA["report"]["counters"]["decode_errors"], 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("wiretally")
    parser.add_argument("--capture-dir")
    ARGS, rest = parser.parse_known_args()
    if not ARGS.capture_dir:
        wt_skips.skip_unless_root("recording a session needs network namespaces and tcpdump")
    unittest.main(argv=[sys.argv[0], "-v", *rest])
