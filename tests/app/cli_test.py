#!/usr/bin/env python3
"""Black-box tests of `wiretally analyze`: outputs, exit codes and bad input.

Usage: cli_test.py WIRETALLY SAMPLE_PCAP CSV_TO_MMDB
Every case runs the real binary (EAL with --no-huge, no NIC, no root needed). The default IP data
directory is pointed at an empty one, so reports do not depend on what the machine has installed;
the hosting cases build their own MaxMind DB files with CSV_TO_MMDB.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

BIN = None
SAMPLE = None
CSV_TO_MMDB = None
NO_IPDB_DIR = tempfile.mkdtemp(prefix="wt-no-ipdb-")

FLOW_KEYS = {"ts_first", "ts_last", "proto", "client", "client_port", "server", "server_port", "vlan",
             "pkts_up", "pkts_down", "bytes_up", "bytes_down", "app", "sni", "name", "name_source",
             "service", "action"}


def run(*args, timeout=60, ipdb_dir=None):
    env = dict(os.environ, WIRETALLY_IPDB_DIR=ipdb_dir or NO_IPDB_DIR)
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


def build_mmdb(directory, name, kind, rows):
    path = os.path.join(directory, name)
    with open(path + ".csv", "w") as f:
        f.write(rows)
    subprocess.run(["perl", CSV_TO_MMDB, "--type", kind, "--epoch", "1781654400", "--out", path, path + ".csv"],
                   check=True, capture_output=True)
    return path


def pcap_header(linktype=1, snaplen=65535):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(data, ts=1700000000, orig=None):
    return struct.pack("<IIII", ts, 0, len(data), orig if orig is not None else len(data)) + data


def udp_dns_query_frame():
    # Ethernet + IPv4 + UDP + DNS query for example.com A: a minimal valid packet.
    dns = bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")
    udp = struct.pack("!HHHH", 40000, 53, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 53])) + udp
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_one_line_error(self, proc, path, code, fragment):
        self.assertEqual(proc.returncode, code, proc.stderr)
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn(path, lines[0])
        self.assertIn(fragment, lines[0].lower())

    def test_missing_file(self):
        path = os.path.join(self.dir, "nope.pcap")
        self.assert_one_line_error(run("analyze", path), path, 66, "no such file")

    def test_empty_file(self):
        path = self.write("empty.pcap", b"")
        self.assert_one_line_error(run("analyze", path), path, 65, "empty")

    def test_directory(self):
        self.assert_one_line_error(run("analyze", self.dir), self.dir, 66, "directory")

    def test_not_a_capture(self):
        path = self.write("notes.txt", b"hello, this is not a capture file at all\n" * 10)
        self.assert_one_line_error(run("analyze", path), path, 65, "not a pcap")

    def test_truncated_file_header(self):
        path = self.write("short.pcap", pcap_header()[:10])
        self.assert_one_line_error(run("analyze", path), path, 65, "truncated")

    def test_truncated_last_record_is_counted_and_the_rest_analysed(self):
        frame = udp_dns_query_frame()
        data = pcap_header() + pcap_record(frame) + pcap_record(frame, ts=1700000001)[:-5]
        path = self.write("cut.pcap", data)
        proc = run("analyze", path, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertEqual(report["input"]["records"], 1)
        self.assertEqual(report["input"]["truncated_records"], 1)
        self.assertEqual(report["drops"].get("capture_truncated_records"), 1)
        self.assertEqual(report["total"]["connections"], 1)

    def test_frames_beyond_the_mbuf_room_are_clipped_and_counted(self):
        # 65535 - 128 (headroom) bytes fit; one more is clipped. The clipped part is
        # Ethernet padding here, so the packet itself is still analysed.
        frame = udp_dns_query_frame()
        fits = frame + b"\0" * (65407 - len(frame))
        clipped = frame + b"\0" * (65408 - len(frame))
        huge = frame + b"\0" * (200000 - len(frame))
        data = (pcap_header(snaplen=262144) + pcap_record(fits) + pcap_record(clipped, ts=1700000001)
                + pcap_record(huge, ts=1700000002))
        path = self.write("jumbo.pcap", data)
        proc = run("analyze", path, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertEqual(report["input"]["records"], 3)
        self.assertEqual(report["drops"].get("capture_oversized_frames_clipped"), 2, report["drops"])
        self.assertEqual(report["counters"]["packets"], 3)
        self.assertEqual(report["counters"]["decode_errors"], 0)
        self.assertEqual(report["total"]["pkts_up"], 3)

    def test_corrupt_record_mid_file(self):
        frame = udp_dns_query_frame()
        bad = struct.pack("<IIII", 1700000001, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"\0" * 64
        path = self.write("corrupt.pcap", pcap_header() + pcap_record(frame) + bad + pcap_record(frame))
        proc = run("analyze", path, "--format", "json")
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn(path, proc.stderr)
        report = json.loads(proc.stdout)  # the part before the damage is still reported
        self.assertEqual(report["input"]["records"], 1)
        self.assertIsNotNone(report["input"]["stopped_early"])

    def test_malformed_packets_are_counted_by_reason(self):
        good = udp_dns_query_frame()
        short_ip = good[:14] + bytes([0x45]) + good[15:20]            # IPv4 cut inside its header
        bad_ihl = good[:14] + bytes([0x43]) + good[15:]               # IHL 3 < 5
        data = pcap_header() + pcap_record(good) + pcap_record(short_ip) + pcap_record(bad_ihl)
        path = self.write("malformed.pcap", data)
        proc = run("analyze", path, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertEqual(report["counters"]["decode_errors"], 2)
        self.assertEqual(sum(report["drops"].values()), 2, report["drops"])

    # Issue #15: the captures people have. gzip (several members too) and zstd read directly, told by
    # their magic bytes; standard input as "-"; truncated or corrupt compressed data and a link type
    # the decoder does not know are one-line errors (65).
    def analyze_json(self, *args, stdin=None):
        env = dict(os.environ, WIRETALLY_IPDB_DIR=NO_IPDB_DIR)
        proc = subprocess.run([BIN, "analyze", *args, "--format", "json"], input=stdin, capture_output=True,
                              timeout=60, env=env)
        return proc

    def test_compressed_captures_and_stdin(self):
        with open(SAMPLE, "rb") as f:
            raw = f.read()
        plain = json.loads(run("analyze", SAMPLE, "--format", "json").stdout)
        half = len(raw) // 2
        gz = self.write("sample.cap", gzip.compress(raw[:half]) + gzip.compress(raw[half:]))  # two members
        zst_path = os.path.join(self.dir, "sample.pcap.zst")
        subprocess.run(["zstd", "-q", "-f", SAMPLE, "-o", zst_path], check=True, timeout=60)
        for path, kind in ((gz, "gzip"), (zst_path, "zstd")):
            proc = self.analyze_json(path)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            report = json.loads(proc.stdout)
            self.assertEqual(report["input"]["format"], f"pcap ({kind})")
            for key in ("total", "services", "domains", "servers"):
                self.assertEqual(report[key], plain[key], (kind, key))
        piped = self.analyze_json("-", stdin=gzip.compress(raw))
        self.assertEqual(piped.returncode, 0, piped.stderr)
        report = json.loads(piped.stdout)
        self.assertEqual(report["input"]["file"], "standard input")
        self.assertEqual(report["total"], plain["total"])
        raw_stdin = self.analyze_json("-", stdin=raw)
        self.assertEqual(json.loads(raw_stdin.stdout)["total"], plain["total"])

    def test_monitor_mode_802_11_behind_radiotap_and_ppi(self):
        # The bundled sample's Ethernet frames rewritten as a monitor-mode capture would hold them: an 802.11
        # data frame (ToDS, SA in address 2, DA in address 3) with LLC/SNAP, behind a radiotap header (with
        # an FCS flagged and appended) or a PPI header. The analysis must be the Ethernet one.
        with open(SAMPLE, "rb") as f:
            raw = f.read()
        header, body = raw[:24], raw[24:]
        little = header[:4] == bytes.fromhex("d4c3b2a1")
        endian = "<" if little else ">"
        frames = []
        while len(body) >= 16:
            ts_s, ts_us, caplen, origlen = struct.unpack(endian + "IIII", body[:16])
            frames.append((ts_s, ts_us, body[16:16 + caplen]))
            body = body[16 + caplen:]
        def wlan(eth):
            dst, src, ethertype, payload = eth[:6], eth[6:12], eth[12:14], eth[14:]
            return (b"\x08\x01" + b"\0\0" + b"\x02\0\0\0\0\x01" + src + dst + b"\0\0" +
                    b"\xaa\xaa\x03\0\0\0" + ethertype + payload)
        radiotap = b"\0\0\x0c\0\x02\0\0\0\x10\0\0\0"
        ppi = b"\0\0\x08\0" + struct.pack("<I", 105)
        for link, wrap, name in ((127, lambda e: radiotap + wlan(e) + b"\xde\xad\xbe\xef", "radiotap"),
                                 (192, lambda e: ppi + wlan(e), "ppi")):
            out = pcap_header(linktype=link, snaplen=262144)
            for ts_s, ts_us, eth in frames:
                frame = wrap(eth)
                out += struct.pack("<IIII", ts_s, ts_us, len(frame), len(frame)) + frame
            path = self.write(f"{name}.pcap", out)
            proc = self.analyze_json(path)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            report = json.loads(proc.stdout)
            plain = json.loads(run("analyze", SAMPLE, "--format", "json").stdout)
            for key in ("services", "domains", "servers"):
                self.assertEqual(report[key], plain[key], (name, key))

    def test_broken_compressed_captures_are_one_line_errors(self):
        with open(SAMPLE, "rb") as f:
            packed = gzip.compress(f.read())
        cut = self.write("cut.pcap.gz", packed[: len(packed) // 2])
        self.assert_one_line_error(run("analyze", cut), cut, 65, "truncated")
        bad = bytearray(packed)
        bad[200:260] = b"\xff" * 60
        corrupt = self.write("corrupt.pcap.gz", bytes(bad))
        self.assert_one_line_error(run("analyze", corrupt), corrupt, 65, "corrupt gzip data")
        zst = self.write("bad.pcap.zst", b"\x28\xb5\x2f\xfd" + b"\x00" * 40)
        self.assert_one_line_error(run("analyze", zst), zst, 65, "zstd")
        empty = self.analyze_json("-", stdin=b"")
        self.assertEqual(empty.returncode, 65, empty.stderr)
        self.assertIn(b"standard input: empty input", empty.stderr)

    def test_unsupported_link_type_is_an_error_naming_it(self):
        frame = udp_dns_query_frame()
        only = self.write("dvb.pcap", pcap_header(linktype=147) + pcap_record(frame) + pcap_record(frame))
        self.assert_one_line_error(run("analyze", only), only, 65, "link type 147 is not supported")
        # In a pcapng with another interface that decodes, it is a counted drop and the rest is analysed.
        shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
        def idb(link):
            return struct.pack("<IIHHI", 1, 20, link, 0, 65535) + struct.pack("<I", 20)
        def epb(iface, data):
            pad = (4 - len(data) % 4) % 4
            total = 32 + len(data) + pad
            return (struct.pack("<IIIIIII", 6, total, iface, 0, 0, len(data), len(data)) + data + b"\0" * pad +
                    struct.pack("<I", total))
        mixed = self.write("mixed.pcapng", shb + idb(1) + idb(147) + epb(0, frame) + epb(1, frame))
        proc = self.analyze_json(mixed)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertEqual(report["counters"]["ip_packets"], 1)
        self.assertEqual(sum(report["drops"].values()), 1, report["drops"])

    def test_pcapng_packet_comments_are_the_actions(self):
        # Wireshark's way to mark an action: a packet comment (editcap -a FRAME:TEXT). Used when no marks
        # are given, or with --marks pcapng; the report says where the actions came from.
        first_after_30s = subprocess.run(["tshark", "-r", SAMPLE, "-Y", "frame.time_relative >= 30", "-T", "fields",
                                          "-e", "frame.number"], capture_output=True, text=True,
                                         timeout=60).stdout.split()[0]
        marked = os.path.join(self.dir, "marked.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", "-a", "1:App launch", "-a", f"{first_after_30s}:Climate", SAMPLE,
                        marked], check=True, capture_output=True, timeout=60)
        for extra in ([], ["--marks", "pcapng"]):
            proc = self.analyze_json(marked, *extra)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            report = json.loads(proc.stdout)
            self.assertEqual(report["input"]["marks"], "2 pcapng packet comments")
            self.assertEqual(sorted({a["action"] for a in report["actions"]}), ["App launch", "Climate"])
        # The same times from a marks file give the same actions.
        with_csv = json.loads(self.analyze_json(marked, "--marks", os.path.join(os.path.dirname(SAMPLE),
                                                                                 "marks.csv")).stdout)
        self.assertEqual(with_csv["input"]["marks"].endswith("marks.csv"), True)
        table = run("analyze", marked).stdout
        self.assertIn("actions from 2 pcapng packet comments", table)
        self.assert_one_line_error(run("analyze", SAMPLE, "--marks", "pcapng"), SAMPLE, 78, "has no packet comments")
        # A pcapng without comments is found so once it was read (comments are learnt with the capture).
        plain = os.path.join(self.dir, "plain.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", SAMPLE, plain], check=True, capture_output=True, timeout=60)
        refused = run("analyze", plain, "--marks", "pcapng")
        self.assert_one_line_error(refused, plain, 78, "has no packet comments")
        self.assertEqual(refused.stdout, "", "a refused run prints no report")
        self.assertIsNone(json.loads(run("analyze", plain, "--format", "json").stdout)["input"]["marks"])
        self.assertIsNone(json.loads(run("analyze", SAMPLE, "--format", "json").stdout)["input"]["marks"])

    def test_bad_services_file_names_file_and_line(self):
        path = self.write("services.toml", b'[[service]]\nname = "x"\npatterns = ["ok.example", "bad domain!"]\n')
        proc = run("analyze", SAMPLE, "--services", path)
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertRegex(proc.stderr, r"services\.toml:\d+:")

    def test_bad_marks_file_names_file_and_line(self):
        path = self.write("marks.csv", b"1700000000,ok\nyesterday,bad\n")
        proc = run("analyze", SAMPLE, "--marks", path)
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertIn(path + ":2:", proc.stderr)

    def test_bad_ipdb_file_names_the_file(self):
        missing = os.path.join(self.dir, "missing.mmdb")
        self.assert_one_line_error(run("analyze", SAMPLE, "--ipdb", missing), missing, 78,
                                   "no such file or directory")
        text = self.write("text.mmdb", b"not a database\n")
        self.assert_one_line_error(run("analyze", SAMPLE, "--ipdb", text), text, 78, "not a maxmind db file")
        # A broken manifest in the default directory is a configuration error too.
        with open(os.path.join(self.dir, "datasets.json"), "w") as f:
            f.write("[{")
        proc = run("analyze", SAMPLE, ipdb_dir=self.dir)
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertIn("datasets.json: not a JSON array of data sets", proc.stderr)

    def test_usage_errors(self):
        self.assertEqual(run("analyze").returncode, 64)
        self.assertEqual(run("analyze", SAMPLE, "--format", "xml").returncode, 64)
        self.assertEqual(run("analyze", SAMPLE, "--marks", "a", "--marks-every", "30s:A").returncode, 64)
        # The 62.5 s sample has three 30 s intervals: two labels are refused with both counts, three are fine.
        short = run("analyze", SAMPLE, "--marks-every", "30s:Launch,Climate")
        self.assertEqual(short.returncode, 78, short.stderr)
        self.assertIn("2 labels cover 60 s, but the capture lasts 62.5 s: 3 intervals of 30 s", short.stderr)
        self.assertEqual(short.stdout, "", "a refused run prints no report")
        with tempfile.TemporaryDirectory() as tmp:
            flows = os.path.join(tmp, "flows.jsonl")
            refused = run("analyze", SAMPLE, "--marks-every", "30s:Launch,Climate", "--flows", flows)
            self.assertEqual(refused.returncode, 78, refused.stderr)
            self.assertFalse(os.path.exists(flows), "a refused run leaves no flows file")
        self.assertEqual(run("analyze", SAMPLE, "--marks-every", "30s:Launch,Climate,Map").returncode, 0)
        self.assertEqual(run("frobnicate").returncode, 64)


class FleetCommands(unittest.TestCase):
    """wiretally schema and query (issue #19) on the command line; the real store: tests/e2e/fleet_test.py."""

    def test_schema_prints_both_tables_for_one_server(self):
        proc = run("schema")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("CREATE DATABASE IF NOT EXISTS `wiretally`;", proc.stdout)
        self.assertIn("CREATE TABLE IF NOT EXISTS `wiretally`.`flows`\n", proc.stdout)
        self.assertIn("CREATE TABLE IF NOT EXISTS `wiretally`.`intervals`\n", proc.stdout)
        self.assertNotIn("Distributed", proc.stdout)

    def test_schema_for_a_cluster_has_local_and_distributed_tables(self):
        proc = run("schema", "--cluster", "fleet", "--database", "net")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("`net`.`flows_local`", proc.stdout)
        self.assertIn("ENGINE = Distributed(fleet, net, intervals_local, cityHash64(appliance, batch_id));", proc.stdout)

    def test_schema_refuses_a_database_name_sql_would_misread(self):
        proc = run("schema", "--database", "net; DROP TABLE x")
        self.assertEqual(proc.returncode, 64, proc.stderr)
        self.assertIn("letters, digits and '_' only", proc.stderr)

    def test_query_needs_a_store(self):
        proc = run("query", "services")
        self.assertEqual(proc.returncode, 64, proc.stderr)
        self.assertIn("--clickhouse", proc.stderr)

    def test_query_refuses_https_and_unknown_views(self):
        proc = run("query", "--clickhouse", "https://ch:8443", "services")
        self.assertEqual(proc.returncode, 64, proc.stderr)
        self.assertIn("https is not supported", proc.stderr)
        self.assertEqual(run("query", "--clickhouse", "http://127.0.0.1:1", "flows").returncode, 64)
        self.assertEqual(run("query", "--clickhouse", "http://127.0.0.1:1", "--since", "soon", "services").returncode, 64)

    def test_query_against_nothing_exits_69_with_the_reason(self):
        proc = run("query", "--clickhouse", "http://127.0.0.1:1", "services")
        self.assertEqual(proc.returncode, 69, proc.stderr)
        self.assertIn("http://127.0.0.1:1", proc.stderr)

    def test_query_password_file_missing_exits_66(self):
        proc = run("query", "--clickhouse", "http://127.0.0.1:1", "--password-file", "/nonexistent/pass", "services")
        self.assertEqual(proc.returncode, 66, proc.stderr)
        self.assertIn("/nonexistent/pass", proc.stderr)

    def test_analyze_export_to_nothing_still_prints_the_report_and_exits_69(self):
        proc = run("analyze", SAMPLE, "--export", "http://127.0.0.1:1", timeout=120)
        self.assertEqual(proc.returncode, 69, proc.stderr)
        self.assertIn("SERVICE", proc.stdout)
        self.assertIn("not stored in http://127.0.0.1:1", proc.stderr)


class Outputs(unittest.TestCase):
    def test_help_is_complete(self):
        proc = run("analyze", "--help")
        self.assertEqual(proc.returncode, 0)
        for opt in ("--services", "--marks", "--marks-every", "--format", "--flows", "--top", "--workers",
                    "--max-flows"):
            self.assertIn(opt, proc.stdout)
        self.assertIn("Exit codes", run("--help").stdout)

    def test_table_fits_100_columns(self):
        # A long path must not widen the table either.
        with tempfile.TemporaryDirectory() as d:
            deep = os.path.join(d, "a-rather-long-directory-name-for-captures" * 2, "and-a-long-file-name-too.pcap")
            os.makedirs(os.path.dirname(deep))
            with open(SAMPLE, "rb") as src, open(deep, "wb") as dst:
                dst.write(src.read())
            proc = run("analyze", deep)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            for line in proc.stdout.splitlines():
                self.assertLessEqual(len(line), 100, line)
        proc = run("analyze", SAMPLE)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("SERVICE", proc.stdout)
        for line in proc.stdout.splitlines():
            self.assertLessEqual(len(line), 100, line)

    def test_json_is_one_document(self):
        proc = run("analyze", SAMPLE, "--format", "json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        for key in ("input", "total", "services", "domains", "clients", "actions", "counters", "drops"):
            self.assertIn(key, report)
        self.assertGreater(report["total"]["connections"], 0)

    def test_csv_is_one_table(self):
        proc = run("analyze", SAMPLE, "--format", "csv")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = proc.stdout.strip().splitlines()
        self.assertTrue(rows[0].startswith("service,connections"))
        width = rows[0].count(",")
        self.assertGreater(len(rows), 1)
        for r in rows[1:]:
            self.assertEqual(r.count(","), width, r)

    def test_flows_jsonl_has_the_documented_keys(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "flows.jsonl")
            proc = run("analyze", SAMPLE, "--flows", out, "--format", "json")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            report = json.loads(proc.stdout)
            with open(out) as f:
                flows = [json.loads(l) for l in f]
            self.assertEqual(len(flows), report["total"]["connections"])
            for fl in flows:
                self.assertTrue(FLOW_KEYS <= fl.keys(), FLOW_KEYS - fl.keys())
            self.assertEqual(sum(f["bytes_up"] + f["bytes_down"] for f in flows),
                             report["total"]["bytes_up"] + report["total"]["bytes_down"])

    def test_any_worker_count_gives_the_same_report(self):
        # Per-core tables merged at the end must not depend on how flows were spread;
        # DNS names cross workers as messages (a DNS flow and its connection differ in hash).
        captures = [SAMPLE]
        corpus = os.path.join(os.path.dirname(BIN), "..", "..", "..", "shared", "corpus", "ndpi", "pcap")
        for name in ("dns_dot.pcap", "youtube_quic.pcap", "tls_ech.pcapng", "android.pcap"):
            path = os.path.join(corpus, name)
            if os.path.exists(path):
                captures.append(path)
        keys = ("total", "services", "domains", "clients", "actions", "drops", "servers", "devices")
        for capture in captures:
            with self.subTest(capture=os.path.basename(capture)):
                one = json.loads(run("analyze", capture, "--format", "json").stdout)
                four = json.loads(run("analyze", capture, "--format", "json", "--workers", "4").stdout)
                self.assertEqual(four["workers"], 4)
                for key in keys:
                    self.assertEqual(one[key], four[key], key)
                self.assertEqual(one["counters"]["dns_resolutions"], four["counters"]["dns_resolutions"])
        # The action table too: a flow's stretches and its DNS lookup are tallied on whichever worker has them.
        marks = os.path.join(os.path.dirname(SAMPLE), "marks.csv")
        one = json.loads(run("analyze", SAMPLE, "--marks", marks, "--format", "json").stdout)
        four = json.loads(run("analyze", SAMPLE, "--marks", marks, "--format", "json", "--workers", "4").stdout)
        self.assertEqual([a["action"] for a in one["actions"]], ["App launch", "Climate", "Location"])
        self.assertEqual(one["actions"], four["actions"])

    def test_servers_name_their_hosting_from_the_ip_data(self):
        with tempfile.TemporaryDirectory() as d:
            asn = build_mmdb(d, "asn.mmdb", "asn", '10.77.1.0,10.77.1.63,64512,"Sample Cloud, Inc."\n')
            country = build_mmdb(d, "country.mmdb", "country", "10.77.0.0,10.77.255.255,SE\n")
            proc = run("analyze", SAMPLE, "--format", "json", "--ipdb", asn, "--ipdb", country)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            report = json.loads(proc.stdout)
            self.assertEqual([s["file"] for s in report["ipdb"]], [asn, country])
            self.assertEqual(report["ipdb"][0]["date"], "2026-06-17")
            self.assertIsNone(report["ipdb"][0]["licence"])
            servers = {s["address"]: s for s in report["servers"]}
            maps = servers["10.77.1.20"]
            self.assertEqual((maps["asn"], maps["as_org"], maps["country"], maps["scope"]),
                             (64512, "Sample Cloud, Inc.", "SE", "private"))
            self.assertEqual([(n["name"], n["sources"]) for n in maps["names"]],
                             [("maps.googleapis.com", ["sni", "quic_sni"])])
            web = servers["10.77.1.80"]
            self.assertEqual((web["asn"], web["as_org"], web["country"]), (None, None, "SE"),
                             "10.77.1.80 is past the AS range but inside the country one")
            self.assertEqual(sorted(n["name"] for n in web["names"]),
                             ["connectivitycheck.gstatic.com", "radar.weather-app.example"])
            self.assertEqual(sum(s["flows"] for s in report["servers"]), report["total"]["connections"])
            self.assertEqual(sum(s["bytes_up"] + s["bytes_down"] for s in report["servers"]),
                             report["total"]["bytes_up"] + report["total"]["bytes_down"])
            table = run("analyze", SAMPLE, "--ipdb", asn, "--ipdb", country).stdout
            self.assertRegex(table, r"\n10\.77\.1\.20 +2 +\S+ kB +\S+ kB +64512  SE  Sample Cloud, Inc\.\n"
                                    r" +maps\.googleapis\.com \(sni, quic_sni\)\n")
            self.assertIn("hosting: wiretally-ASN of 2026-06-17", table)
            # Without IP data the servers keep their names; hosting is null, never "".
            bare = json.loads(run("analyze", SAMPLE, "--format", "json", "--no-ipdb").stdout)
            self.assertEqual(bare["ipdb"], [])
            self.assertTrue(all(s["asn"] is None and s["as_org"] is None and s["country"] is None
                                for s in bare["servers"]))
            self.assertIn("hosting: no IP data", run("analyze", SAMPLE).stdout)

    def test_a_name_no_pattern_knows_is_tallied_as_the_cdn_hosting_it(self):
        # Issue #14: 10.77.1.80 (radar.weather-app.example, no pattern; connectivitycheck.gstatic.com,
        # a pattern) sits in AS20940, which the default services list under Akamai.
        with tempfile.TemporaryDirectory() as d:
            asn = build_mmdb(d, "asn.mmdb", "asn", '10.77.1.64,10.77.1.127,20940,"Akamai International B.V."\n')
            report = json.loads(run("analyze", SAMPLE, "--format", "json", "--ipdb", asn).stdout)
            domains = {x["domain"]: x for x in report["domains"]}
            radar = domains["radar.weather-app.example"]
            self.assertEqual((radar["service"], radar["inferred_asn"], radar["matched_by"]), ("Akamai", 20940, None))
            check = domains["connectivitycheck.gstatic.com"]
            self.assertEqual((check["service"], check["inferred_asn"]), ("Connectivity Check", None),
                             "a pattern beats the hosting")
            self.assertIsNone(domains["maps.googleapis.com"]["inferred_asn"])
            server = {s["address"]: s for s in report["servers"]}["10.77.1.80"]
            self.assertEqual({n["name"]: n["service"] for n in server["names"]},
                             {"radar.weather-app.example": "Akamai", "connectivitycheck.gstatic.com": "Connectivity Check"})
            self.assertIn("Akamai", server["services"])
            # Its DNS lookup went to the resolver, which no listed AS hosts: only the connection is inferred.
            self.assertEqual(radar["dns"], 1)
            table = run("analyze", SAMPLE, "--ipdb", asn).stdout
            self.assertRegex(table, r"\nradar\.weather-app\.example +Akamai \* ")
            self.assertIn("* no pattern names the domain: the service was inferred from the AS", table)
            # A services file without asns infers nothing; one that lists the AS under its own service does.
            def write(name, data):
                path = os.path.join(d, name)
                with open(path, "wb") as f:
                    f.write(data)
                return path
            plain = write("plain.toml", b'[[service]]\nname = "Maps"\npatterns = ["maps.googleapis.com"]\n')
            bare = json.loads(run("analyze", SAMPLE, "--format", "json", "--ipdb", asn, "--services", plain).stdout)
            self.assertIsNone({x["domain"]: x for x in bare["domains"]}["radar.weather-app.example"]["service"])
            own = write("own.toml", b'include = ["default"]\n[[service]]\nname = "Edge"\n'
                                         b'patterns = ["edge.example"]\nasns = [64999]\n')
            asn2 = build_mmdb(d, "asn2.mmdb", "asn", '10.77.1.64,10.77.1.127,64999,"Edge Co"\n')
            mine = json.loads(run("analyze", SAMPLE, "--format", "json", "--ipdb", asn2, "--services", own).stdout)
            self.assertEqual({x["domain"]: x for x in mine["domains"]}["radar.weather-app.example"]["service"], "Edge")
        # Without IP data nothing is inferred.
        none = json.loads(run("analyze", SAMPLE, "--format", "json").stdout)
        self.assertTrue(all(x["inferred_asn"] is None for x in none["domains"]))

    def test_devices_group_a_phones_addresses_by_mac(self):
        # Issue #15: the sample's phone has an IPv4, a ULA and a link-local IPv6 address behind one
        # locally administered (randomised) MAC: one device, not three clients. The lab's router, which
        # sent the phone one ICMPv6 message from its own MAC, is a device of its own, with the addresses
        # its ARP and Neighbour Discovery messages vouched for (it is the client of none of the flows).
        report = json.loads(run("analyze", SAMPLE, "--format", "json").stdout)
        by_mac = {d["mac"]: d for d in report["devices"]}
        self.assertEqual(sorted(by_mac), ["02:77:00:00:00:01", "02:77:00:00:00:02"], report["devices"])
        d = by_mac["02:77:00:00:00:02"]
        self.assertEqual(report["devices"][0], d, "largest first")
        self.assertTrue(d["randomized"])
        self.assertIsNone(d["vendor"])
        self.assertEqual(d["addresses"], ["10.77.0.2", "fd77::2", "fe80::77:ff:fe00:2"])
        router = by_mac["02:77:00:00:00:01"]
        self.assertEqual(router["addresses"], ["10.77.0.1", "fd77::1", "fe80::77:ff:fe00:1"])
        self.assertEqual(router["learned_from"], ["flows", "arp", "nd"])
        self.assertEqual(d["learned_from"], ["flows", "arp", "nd"])
        self.assertIsNone(d["host_name"], "the lab's phone does not use DHCP")
        self.assertEqual(d["flows"] + router["flows"], report["total"]["connections"])
        self.assertEqual((d["bytes_up"] + router["bytes_up"], d["bytes_down"] + router["bytes_down"]),
                         (report["total"]["bytes_up"], report["total"]["bytes_down"]))
        self.assertIn("Google Maps", d["services"])
        self.assertNotIn(None, d["services"])
        self.assertIn("maps.googleapis.com", d["domains"])
        self.assertIn("events.weather-app.example", d["domains"])
        self.assertEqual(d["domains"], sorted(set(d["domains"])))
        self.assertEqual(router["domains"], [])
        table = run("analyze", SAMPLE).stdout
        self.assertRegex(table, r"\nDEVICE +VENDOR +FLOWS +BYTES UP +BYTES DOWN\n02:77:00:00:00:02 +\(randomised address\)")
        self.assertIn("    addresses: 10.77.0.2, fd77::2, fe80::77:ff:fe00:2\n", table)
        self.assertRegex(table, r"\nflows %d  devices 2 \(6 addresses\)  bytes up " % report["total"]["connections"])

    def test_devices_take_dhcp_host_names_and_arp_nd_addresses(self):
        # An Android phone's real DHCP request (nDPI corpus, alexa-app.pcapng): the device gets its host
        # name, vendor class and leased address, and its IPv6 link-local address from Neighbour Discovery.
        corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "corpus", "ndpi",
                              "pcap", "alexa-app.pcapng")
        if not os.path.exists(corpus):
            self.skipTest("no nDPI corpus beside the source tree")
        report = json.loads(run("analyze", corpus, "--format", "json").stdout)
        phone = next(d for d in report["devices"] if d["mac"] == "78:f8:82:d3:fb:c2")
        self.assertEqual(phone["host_name"], "android-1c1335ec95a27318")
        self.assertEqual(phone["dhcp_vendor_class"], "dhcpcd-5.5.6")
        self.assertIn("172.16.42.216", phone["addresses"])
        self.assertIn("fe80::7af8:82ff:fed3:fbc2", phone["addresses"])
        self.assertEqual(phone["learned_from"], ["flows", "dhcp", "arp", "nd"])
        self.assertNotIn("0.0.0.0", phone["addresses"], "a DHCP client's 0.0.0.0 is no address of its own")
        self.assertGreater(report["counters"]["neighbour_hints"], 0)
        table = run("analyze", corpus).stdout
        self.assertIn("    DHCP: android-1c1335ec95a27318, vendor class dhcpcd-5.5.6\n", table)

    def test_unwritable_flows_file(self):
        proc = run("analyze", SAMPLE, "--flows", "/nonexistent-dir/flows.jsonl")
        self.assertEqual(proc.returncode, 73)


class Pictures(unittest.TestCase):
    """Issue #16: --format html and png, --timeline: what a user gets wrong gets a clear error and no file."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_html_to_a_file_or_to_stdout_is_the_same_page(self):
        out = os.path.join(self.tmp.name, "r.html")
        proc = run("analyze", SAMPLE, "--format", "html", "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "", "the page goes to the file, nothing to stdout")
        with open(out) as f:
            page = f.read()
        self.assertTrue(page.startswith("<!doctype html>"))
        proc = run("analyze", SAMPLE, "--format", "html")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, page)

    def test_timeline_in_json_is_null_unless_asked_for(self):
        plain = json.loads(run("analyze", SAMPLE, "--format", "json").stdout)
        self.assertIsNone(plain["timeline"])
        self.assertIsNone(plain["flow_lanes"])
        with_timeline = json.loads(run("analyze", SAMPLE, "--format", "json", "--timeline").stdout)
        t = with_timeline["timeline"]
        self.assertEqual(t["interval_s"], 1.0)
        total = sum(sum(s["bytes_up"]) + sum(s["bytes_down"]) for s in t["services"])
        self.assertEqual(total, plain["total"]["bytes_up"] + plain["total"]["bytes_down"])
        self.assertEqual(with_timeline["flow_lanes"]["total"], len(with_timeline["flow_lanes"]["flows"]))
        for key in ("services", "domains", "servers", "total", "actions", "devices"):
            self.assertEqual(with_timeline[key], plain[key], key)

    def test_png_needs_a_file(self):
        proc = run("analyze", SAMPLE, "--format", "png")
        self.assertEqual(proc.returncode, 64)
        self.assertIn("--format png needs -o", proc.stderr)

    def test_unwritable_report_file(self):
        proc = run("analyze", SAMPLE, "--format", "html", "-o", "/nonexistent-dir/r.html")
        self.assertEqual(proc.returncode, 73)
        self.assertIn("/nonexistent-dir/r.html: cannot create", proc.stderr)

    def test_a_full_disk_is_a_write_failure_not_a_crash(self):
        # /dev/full: every write fails with ENOSPC, as on a full disk; each format and each command says so.
        for args in (["analyze", SAMPLE], ["analyze", SAMPLE, "--format", "csv"], ["analyze", SAMPLE, "--format", "json"],
                     ["diff", SAMPLE, SAMPLE]):
            with open("/dev/full", "w") as full:
                proc = subprocess.run([BIN, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
                                      env=dict(os.environ, WIRETALLY_IPDB_DIR=NO_IPDB_DIR))
            self.assertEqual(proc.returncode, 73, args)
            self.assertIn("standard output: write failed", proc.stderr, args)
        proc = run("analyze", SAMPLE, "--format", "html", "-o", "/dev/full")
        self.assertEqual(proc.returncode, 73)
        self.assertIn("/dev/full: write failed", proc.stderr)

    def test_a_browser_that_fails_is_named_and_leaves_no_file(self):
        png = os.path.join(self.tmp.name, "t.png")
        env_browser = os.path.join(self.tmp.name, "broken-browser")
        with open(env_browser, "w") as f:
            f.write("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
        os.chmod(env_browser, 0o755)
        env = dict(os.environ, WIRETALLY_IPDB_DIR=NO_IPDB_DIR, WIRETALLY_CHROMIUM=env_browser)
        proc = subprocess.run([BIN, "analyze", SAMPLE, "--format", "png", "-o", png], capture_output=True, text=True,
                              timeout=60, env=env)
        self.assertEqual(proc.returncode, 73)
        self.assertIn("drew no PNG (exit status 3): cannot open display", proc.stderr)
        self.assertEqual(os.listdir(self.tmp.name), ["broken-browser"], "neither the PNG nor the page is left")


class Diff(unittest.TestCase):
    """Issue #16: `wiretally diff A B` on two sessions that differ in known ways: the bundled sample, and the
    same capture without the kept-open events.weather-app.example connection and its lookups (tshark)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.without = os.path.join(cls.tmp.name, "without-events.pcap")
        subprocess.run(["tshark", "-r", SAMPLE, "-Y", '!(ip.addr==10.77.1.70) && !(dns.qry.name contains "events")',
                        "-w", cls.without], check=True, capture_output=True, timeout=60)
        marks = os.path.join(os.path.dirname(SAMPLE), "marks.csv")
        cls.reports = {}
        for name, capture in (("with", SAMPLE), ("without", cls.without)):
            proc = run("analyze", capture, "--marks", marks, "--format", "json")
            assert proc.returncode == 0, proc.stderr
            cls.reports[name] = os.path.join(cls.tmp.name, name + ".json")
            with open(cls.reports[name], "w") as f:
                f.write(proc.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def diff_json(self, a, b, *extra):
        proc = run("diff", a, b, "--format", "json", *extra)
        return proc, (json.loads(proc.stdout) if proc.stdout.strip() else None)

    def test_captures_name_what_only_one_side_has(self):
        proc, d = self.diff_json(self.without, SAMPLE)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(d["new_domains"], ["events.weather-app.example"])
        rows = {r["name"]: r for r in d["domains"]}
        events = rows["events.weather-app.example"]
        self.assertEqual(events["change"], "only_b")
        self.assertIsNone(events["a"])
        self.assertEqual(events["b"]["tls_version"], "TLSv1.3")
        self.assertEqual(d["domains"][0]["name"], "events.weather-app.example", "new names first")
        same = rows["tiles.maps.example"]
        self.assertEqual(same["change"], "same")
        self.assertEqual(same["a"], same["b"])
        self.assertIsNone(d["actions"], "captures without marks have no actions to compare")
        # The other way round the name is gone, and nothing is new.
        proc, back = self.diff_json(SAMPLE, self.without, "--fail-on-new")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(back["new_domains"], [])
        self.assertEqual({r["name"]: r["change"] for r in back["domains"]}["events.weather-app.example"], "only_a")

    def test_fail_on_new_exits_1_naming_the_new_domains(self):
        proc = run("diff", self.without, SAMPLE, "--fail-on-new")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("B talks to 1 domain A did not: events.weather-app.example", proc.stderr)
        self.assertIn("+ events.weather-app.example", proc.stdout)
        self.assertIn("DOMAINS: 1 only in B (+), 0 only in A (-)", proc.stdout)

    def test_saved_reports_with_the_same_actions_compare_per_action(self):
        proc, d = self.diff_json(self.reports["without"], self.reports["with"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([a["action"] for a in d["actions"]], ["App launch", "Climate", "Location"])
        for block in d["actions"]:
            rows = {r["name"]: r for r in block["domains"]}
            with self.subTest(action=block["action"]):
                self.assertEqual(rows["events.weather-app.example"]["change"], "only_b")
        launch = {r["name"]: r for r in d["actions"][0]["domains"]}
        self.assertEqual(launch["events.weather-app.example"]["b"]["connections"], 1)
        table = run("diff", self.reports["without"], self.reports["with"]).stdout
        self.assertIn("ACTION Climate: 1 only in B (+)", table)

    def test_a_changed_cipher_and_ech_are_changes(self):
        with open(self.reports["with"]) as f:
            doc = json.load(f)
        row = next(r for r in doc["domains"] if r["domain"] == "api.weather-app.example")
        row["ciphers"] = {"TLS_CHACHA20_POLY1305_SHA256": row["connections"]}
        row["ech"] = 1
        changed = os.path.join(self.tmp.name, "changed.json")
        with open(changed, "w") as f:
            json.dump(doc, f)
        proc, d = self.diff_json(self.reports["with"], changed)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = {r["name"]: r for r in d["domains"]}["api.weather-app.example"]
        self.assertEqual(r["change"], "changed")
        self.assertEqual((r["a"]["cipher"], r["b"]["cipher"]), ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"))
        self.assertEqual((r["a"]["ech"], r["b"]["ech"]), (0, 1))
        table = run("diff", self.reports["with"], changed).stdout
        self.assertRegex(table, r"~ api\.weather-app\.example .*TLS_AES_256_GCM_SHA384 -> TLS_CHACHA20_POLY1305_SHA256, "
                                r"ECH 0 -> 1")

    def test_bad_inputs_are_errors_with_their_reason(self):
        text = os.path.join(self.tmp.name, "notes.txt")
        with open(text, "w") as f:
            f.write("not a capture\n")
        proc = run("diff", text, SAMPLE)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn(text, proc.stderr)
        missing = os.path.join(self.tmp.name, "missing.pcap")
        proc = run("diff", missing, SAMPLE)
        self.assertEqual(proc.returncode, 66, proc.stderr)
        self.assertIn("missing.pcap: cannot open", proc.stderr)
        not_report = os.path.join(self.tmp.name, "other.json")
        with open(not_report, "w") as f:
            f.write('{"hello": 1}')
        proc = run("diff", not_report, SAMPLE)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn('A: "services" is missing or not an array: not a wiretally report', proc.stderr)
        with open(self.reports["with"]) as f:
            damaged = json.load(f)
        damaged["domains"][1]["bytes_up"] = "lots"
        damaged_path = os.path.join(self.tmp.name, "damaged.json")
        with open(damaged_path, "w") as f:
            json.dump(damaged, f)
        proc = run("diff", SAMPLE, damaged_path)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn('B: domains[1]: "bytes_up" is not a count', proc.stderr)
        self.assertEqual(run("diff", SAMPLE).returncode, 64)


if __name__ == "__main__":
    BIN, SAMPLE, CSV_TO_MMDB = sys.argv[1], sys.argv[2], sys.argv[3]
    unittest.main(argv=[sys.argv[0], "-v"])
