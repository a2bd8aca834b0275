#!/usr/bin/env python3
"""wiretally analyze against ndpiReader and tshark on the same captures: speed and names found.

    compare_peers.py --wiretally build/app/wiretally [--capture FILE ...] [--corpus DIR]
                     [--bytes 300M] [--runs 3] [--corpus-repeat N] [--workers N] [--json-out FILE]
                     [--markdown-out FILE] [--smoke]

Captures: by default a generated one (`wt-gen --bytes SIZE`, found next to the wiretally build
or given with --wt-gen) and the nDPI corpus concatenated into one pcap (`mergecap -a -F pcap`
of its Ethernet captures; files with another link type, or that mergecap rejects, are skipped
and listed). --capture FILE (repeatable) replaces the generated capture; --corpus '' leaves the
corpus out.

Each tool reads each capture once per run, in one process each, in an order that rotates from run
to run (so no tool always goes first or last after another's cache traffic); a warm-up read puts
the file in the page cache first. Reported: the median over --runs of wall time and of user+sys
CPU time (os.wait4 rusage: children only, so our own work is not counted), peak RSS, packets per
second (by wall time, and after subtracting the tool's start-up: the median wall time of the same
command on a capture of the first packet alone), and wiretally's speed-up over each peer. The tools:

    wiretally analyze FILE --format json                      (domains: the report's domain list)
    ndpiReader -i FILE -q -C OUT.csv                          (names: the CSV's server_name_sni)
    tshark -r FILE -n -T fields -e tcp.stream -e udp.stream -e tls.handshake.extensions_server_name
           -e dns.qry.name -e http.host -Y 'tls.handshake.type == 1 or dns or http.request'

tshark dissects every packet (TLS, QUIC with Initial decryption, DNS, HTTP) to apply the filter;
it runs single-threaded like the other two. Names agreement: the sets of server names each tool
found (see norm(); tshark's set keeps the first name of each TCP/UDP conversation, as the other two
name a flow), their Jaccard overlap, and the names only one side found; for a generated capture also
each tool's recall of the names wt-gen put in it (--names-out). Start-up on a 1-packet capture
understates wiretally's fixed cost on a big one: analyze sizes its flow table from the file size.

Exit status: 0, or 1 when a tool failed or (with --check-names, implied by --smoke) wiretally
did not find exactly the names of a generated capture.
"""
import argparse
import csv
import datetime
import json
import os
import re
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
import wt_skips  # noqa: E402

# The nDPI corpus beside the source tree (a checkout next to shared/); meson passes -Dndpi_corpus's choice.
DEFAULT_CORPUS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                               "shared", "corpus", "ndpi", "pcap"))
TSHARK_FILTER = "tls.handshake.type == 1 or dns or http.request"
TSHARK_FIELDS = ["tcp.stream", "udp.stream", "tls.handshake.extensions_server_name", "dns.qry.name", "http.host"]


def parse_size(text):
    units = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
             "kib": 2**10, "mib": 2**20, "gib": 2**30}
    t = text.strip().lower()
    i = len(t)
    while i > 0 and not (t[i - 1].isdigit() or t[i - 1] == "."):
        i -= 1
    if t[i:] not in units:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return int(float(t[:i]) * units[t[i:]])


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def norm(name):
    """Lowercase, no trailing dot, and every byte outside printable ASCII as '?': wiretally writes
    such bytes as dig-style \\DDD, nDPI as '?', tshark as they come. An HTTP Host's ":port" is
    dropped (tshark keeps it, the others do not)."""
    name = re.sub(r"\\\d{3}", "?", name.strip().lower())
    name = re.sub(r"^([^:]*):\d+$", r"\1", name).rstrip(".")
    return "".join(c if "!" <= c <= "~" else "?" for c in name)


# ---- captures -------------------------------------------------------------------------------

def count_packets(path):
    """Records in a pcap (read from the record headers), else capinfos' count."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) == 24 and head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                            b"\xa1\xb2\x3c\x4d"):
            endian = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            n = 0
            while True:
                rec = f.read(16)
                if len(rec) < 16:
                    return n
                incl = struct.unpack(endian + "IIII", rec)[2]
                f.seek(incl, os.SEEK_CUR)
                n += 1
    out = subprocess.run(["capinfos", "-c", "-M", "-T", "-r", path], capture_output=True, text=True)
    try:
        return int(out.stdout.split("\t")[-1])
    except ValueError:
        return 0


def link_type(path):
    out = subprocess.run(["capinfos", "-E", "-T", "-r", path], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    fields = out.stdout.strip().split("\t")
    return fields[1] if len(fields) > 1 else None


def build_corpus(corpus_dir, out_path, limit, work, repeat=1):
    """Concatenates the corpus' Ethernet captures; returns (used, skipped) lists of names."""
    used, skipped = [], []
    probe = os.path.join(work, "probe.pcap")
    for name in sorted(os.listdir(corpus_dir)):
        path = os.path.join(corpus_dir, name)
        if not os.path.isfile(path):
            continue
        if limit and len(used) >= limit:
            break
        lt = link_type(path)
        if lt != "ether":
            skipped.append((name, f"link type {lt or 'unreadable'}"))
            continue
        r = subprocess.run(["mergecap", "-F", "pcap", "-w", probe, path], capture_output=True, text=True)
        if r.returncode != 0:
            skipped.append((name, "mergecap: " + (r.stderr.strip().splitlines() or ["failed"])[-1]))
            continue
        used.append(path)
    if os.path.exists(probe):
        os.unlink(probe)
    if not used:
        raise SystemExit(f"compare_peers: no Ethernet capture in {corpus_dir}")
    subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", out_path] + used, check=True)
    if repeat > 1:
        # The same traffic again and again (issue #17's 284 MB capture of real traffic: every Ethernet
        # capture of the corpus, eight times): a size where per-packet work, not start-up, shows.
        once = out_path + ".once"
        os.replace(out_path, once)
        subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", out_path] + [once] * repeat, check=True)
        os.unlink(once)
    return [os.path.basename(p) for p in used], skipped


def generate(wt_gen, out_path, size, seed, names_out):
    # 10k concurrent flows, 2k new flows/s (5 s lifetimes), the default mix and IMIX sizes.
    cmd = [wt_gen, "--flows", "10000", "--new-flows-per-s", "2000", "--bytes", str(size), "--seed", str(seed),
           "--names-out", names_out, "--out", out_path]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"compare_peers: wt-gen failed ({r.returncode}): {r.stderr.strip()}")
    return {"command": " ".join(cmd[:-4] + ["--out", os.path.basename(out_path)]), "seconds": secs,
            "summary": r.stderr.strip()}


# ---- tools ----------------------------------------------------------------------------------

class Tool:
    def __init__(self, name, argv_for, names_from):
        self.name = name
        self.argv_for = argv_for      # (capture, out_dir) -> argv, stdout file or None
        self.names_from = names_from  # (out_dir, stdout file) -> set of names


def wiretally_tool(path, workers=None):
    """wiretally analyze; with workers, --workers N (a tool of its own, named for it)."""
    extra = ["--workers", str(workers)] if workers else []

    def argv(capture, out):
        return [path, "analyze", capture, "--format", "json"] + extra, os.path.join(out, "wiretally.json")

    def names(out, stdout):
        with open(stdout) as f:
            report = json.load(f)
        return {n for n in (norm(d.get("domain") or "") for d in report.get("domains", [])) if n}

    return Tool("wiretally" if not workers else f"wiretally --workers {workers}", argv, names)


def ndpi_tool(path):
    def argv(capture, out):
        return [path, "-i", capture, "-q", "-C", os.path.join(out, "ndpi.csv")], os.path.join(out, "ndpi.txt")

    def names(out, stdout):
        found = set()
        with open(os.path.join(out, "ndpi.csv"), newline="", errors="replace") as f:
            rows = csv.reader(f)
            header = next(rows, [])
            header = [h.lstrip("#") for h in header]
            col = header.index("server_name_sni")
            for row in rows:
                if len(row) > col and norm(row[col]):
                    found.add(norm(row[col]))
        return found

    return Tool("ndpiReader", argv, names)


def tshark_tool(path):
    def argv(capture, out):
        cmd = [path, "-r", capture, "-n", "-T", "fields", "-E", "separator=\t", "-E", "aggregator=\x1f"]
        for f in TSHARK_FIELDS:
            cmd += ["-e", f]
        return cmd + ["-Y", TSHARK_FILTER], os.path.join(out, "tshark.tsv")

    def names(out, stdout):
        # The first name of each TCP or UDP conversation, as wiretally and nDPI name a flow (a
        # DNS tunnel's thousands of queries on one 5-tuple are one name); all_names counts them all.
        first = {}
        every = set()
        with open(stdout, errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 5:
                    continue
                key = ("t", fields[0]) if fields[0] else ("u", fields[1])
                for field in fields[2:]:
                    for value in field.split("\x1f"):
                        n = norm(value)
                        if n:
                            every.add(n)
                            first.setdefault(key, n)
        tshark_all_names[stdout] = len(every)
        return set(first.values())

    return Tool("tshark", argv, names)


tshark_all_names = {}  # tshark output file -> every distinct name in it (not only the first per flow)


def run_once(tool, capture, out_dir):
    argv, stdout_path = tool.argv_for(capture, out_dir)
    with open(stdout_path, "wb") as out, open(os.path.join(out_dir, tool.name + ".stderr"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime,
            "maxrss_mb": usage.ru_maxrss / 1024.0, "rc": proc.returncode, "argv": argv, "stdout": stdout_path}


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


# ---- report ---------------------------------------------------------------------------------

def fmt_rate(x):
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def examples(only, n=6, width=40):
    cut = [e if len(e) <= width else e[:width - 3] + "..." for e in only["examples"][:n]]
    return ", ".join(f"`{e}`" for e in cut) or "-"


def markdown(result):
    lines = []
    for cap in result["captures"]:
        lines.append(f"### {cap['label']}")
        lines.append("")
        lines.append(f"{cap['packets']:,} packets, {cap['bytes'] / 1e6:.1f} MB; median of {result['runs']} "
                     f"run(s).")
        lines.append("")
        lines.append("| tool | wall | user+sys CPU | start-up (1-packet capture) | packets/s | packets/s after "
                     "start-up | peak RSS | wiretally faster (wall / CPU) | names | Jaccard vs wiretally |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        wt = cap["tools"].get("wiretally")
        for name, t in cap["tools"].items():
            if t.get("failed"):
                lines.append(f"| {name} | failed: {t['failed']} | | | | | | | | |")
                continue
            ratio = "-"
            if wt and not wt.get("failed") and name != "wiretally":
                ratio = f"{t['wall'] / wt['wall']:.1f}x / {t['cpu'] / wt['cpu']:.1f}x"
            jac = "-" if name == "wiretally" else f"{cap['names']['jaccard'].get('wiretally~' + name, 0):.3f}"
            net = t["wall"] - t["startup_wall"]
            after = fmt_rate(cap["packets"] / net) if net > 0 else "-"
            lines.append(f"| {name} | {t['wall']:.2f} s | {t['cpu']:.2f} s | {t['startup_wall']:.2f} s "
                         f"| {fmt_rate(cap['packets'] / t['wall'])} | {after} | {t['maxrss_mb']:.0f} MB | {ratio} "
                         f"| {t['names']:,} | {jac} |")
        lines.append("")
        n = cap["names"]
        if n.get("truth") is not None:
            lines.append("Recall of the names wt-gen put in the capture (" + f"{n['truth']:,}): " +
                         ", ".join(f"{k} {v:.3f}" for k, v in n["recall"].items()) + ".")
            lines.append("")
        for pair, j in n["jaccard"].items():
            a, b = pair.split("~")
            only_a, only_b = n["only"][pair]
            if not only_a["count"] and not only_b["count"]:
                lines.append(f"- {a} and {b}: the same {n['found'][a]:,} names.")
                continue
            lines.append(f"- {a} vs {b}: Jaccard {j:.3f}; only {a}: {only_a['count']:,} "
                         f"(e.g. {examples(only_a)}); only {b}: {only_b['count']:,} (e.g. {examples(only_b)})")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wiretally", required=True, help="the wiretally binary")
    ap.add_argument("--wt-gen", help="the wt-gen binary (default: benches/generator/wt-gen in wiretally's build)")
    ap.add_argument("--capture", action="append", default=[], help="a capture to compare on (repeatable); "
                    "replaces the generated one")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="directory of captures to concatenate into one "
                    "('' to leave out; default %(default)s)")
    ap.add_argument("--corpus-repeat", type=int, default=1, help="the concatenated corpus this many times over "
                    "(issue #17: 8 makes the 284 MB capture of real traffic)")
    ap.add_argument("--workers", type=int, action="append", default=[],
                    help="also run `wiretally analyze --workers N` as a tool of its own (repeatable)")
    ap.add_argument("--bytes", type=parse_size, default=None, help="size of the generated capture (default 300M)")
    ap.add_argument("--runs", type=int, default=None, help="runs per tool and capture; the median is reported "
                    "(default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ndpi-reader", default="ndpiReader")
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--no-tshark", action="store_true", help="leave tshark out (it is by far the slowest)")
    ap.add_argument("--workdir", help="keep captures and tool outputs here (default: a temporary directory)")
    ap.add_argument("--json-out", help="write the results as JSON")
    ap.add_argument("--markdown-out", help="write the Markdown tables to this file too")
    ap.add_argument("--check-names", action="store_true", help="fail unless wiretally finds exactly the names "
                    "of the generated capture")
    ap.add_argument("--smoke", action="store_true", help="CI: a 2 MB capture, 10 corpus files, one run, "
                    "--check-names")
    args = ap.parse_args()

    size = args.bytes or (2 * 10**6 if args.smoke else 300 * 10**6)
    runs = args.runs or (1 if args.smoke else 3)
    corpus_limit = 10 if args.smoke else 0
    check_names = args.check_names or args.smoke
    wiretally = os.path.abspath(args.wiretally)
    if not os.access(wiretally, os.X_OK):
        raise SystemExit(f"compare_peers: {wiretally}: not an executable")
    tools = [wiretally_tool(wiretally)] + [wiretally_tool(wiretally, w) for w in args.workers]
    for name, path, make in (("ndpiReader", args.ndpi_reader, ndpi_tool), ("tshark", args.tshark, tshark_tool)):
        if name == "tshark" and args.no_tshark:
            continue
        found = shutil.which(path)
        if not found:
            raise SystemExit(f"compare_peers: {path} not found (apt-get install "
                             f"{'libndpi-bin' if name == 'ndpiReader' else 'tshark'})")
        tools.append(make(found))
    for prog in ("mergecap", "editcap", "capinfos"):
        if not shutil.which(prog):
            raise SystemExit(f"compare_peers: {prog} not found (apt-get install wireshark-common)")

    tmp = None
    if args.workdir:
        work = os.path.abspath(args.workdir)
        os.makedirs(work, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="compare-peers-")
        work = tmp.name

    captures = []  # (label, path, truth names or None, extra info)
    if args.capture:
        for c in args.capture:
            captures.append((os.path.basename(c), os.path.abspath(c), None, {}))
    else:
        wt_gen = args.wt_gen or os.path.join(os.path.dirname(os.path.dirname(wiretally)), "benches", "generator",
                                             "wt-gen")
        if not os.access(wt_gen, os.X_OK):
            raise SystemExit(f"compare_peers: {wt_gen}: not an executable (give --wt-gen)")
        path = os.path.join(work, "generated.pcap")
        names_path = os.path.join(work, "generated.names")
        log(f"compare_peers: generating {size / 1e6:.0f} MB with wt-gen")
        info = generate(wt_gen, path, size, args.seed, names_path)
        with open(names_path) as f:
            truth = {norm(n) for n in f if n.strip()}
        captures.append((f"wt-gen, {size / 1e6:.0f} MB", path, truth, {"generator": info}))
    if args.corpus and not os.path.isdir(args.corpus):
        # The generated capture is still compared; the corpus part is the documented skip.
        print(f"SKIP corpus comparison: {wt_skips.corpus_absent_reason(args.corpus)}", flush=True)
        args.corpus = ""
    if args.corpus:
        path = os.path.join(work, "corpus.pcap")
        log(f"compare_peers: concatenating {args.corpus}")
        used, skipped = build_corpus(args.corpus, path, corpus_limit, work, args.corpus_repeat)
        times = f", {args.corpus_repeat} times" if args.corpus_repeat > 1 else ""
        captures.append((f"nDPI corpus, {len(used)} Ethernet captures concatenated{times}", path, None,
                         {"corpus": {"dir": args.corpus, "used": len(used), "skipped": skipped,
                                     "repeat": args.corpus_repeat}}))

    peer_paths = {"ndpiReader": shutil.which(args.ndpi_reader), "tshark": shutil.which(args.tshark)}
    result = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "cpu": cpu_model(),
                    "load_before": os.getloadavg()},
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "runs": runs,
        "tools": {t.name: tool_version(t.name.split()[0], peer_paths.get(t.name, wiretally)) for t in tools},
        "captures": [],
    }
    failed = False
    for label, path, truth, extra in captures:
        packets = count_packets(path)
        cap = {"label": label, "file": path, "bytes": os.path.getsize(path), "packets": packets, "tools": {},
               **extra}
        log(f"compare_peers: {label}: {packets:,} packets; {runs} run(s) of {', '.join(t.name for t in tools)}")
        warm(path)
        # The fixed cost of each tool (process and library start, EAL, database builds, output):
        # the same run on a capture of the first packet only.
        first = os.path.join(work, f"first-{len(result['captures'])}.pcap")
        if subprocess.run(["editcap", "-F", "pcap", "-r", path, first, "1"], capture_output=True).returncode != 0:
            subprocess.run(["editcap", "-r", path, first, "1"], check=True, capture_output=True)
        samples = {t.name: [] for t in tools}
        startup = {t.name: [] for t in tools}
        out_dirs = {}
        for r in range(runs):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            for t in order:
                out_dir = os.path.join(work, f"out-{len(result['captures'])}-{t.name}")
                first_dir = out_dir + "-first"
                os.makedirs(out_dir, exist_ok=True)
                os.makedirs(first_dir, exist_ok=True)
                out_dirs[t.name] = out_dir
                startup[t.name].append(run_once(t, first, first_dir))
                s = run_once(t, path, out_dir)
                log(f"  run {r + 1} {t.name}: {s['wall']:.2f} s wall, {s['cpu']:.2f} s CPU, rc {s['rc']}; "
                    f"1-packet capture {startup[t.name][-1]['wall']:.2f} s")
                samples[t.name].append(s)
        names = {}
        for t in tools:
            ss = samples[t.name]
            bad = [s for s in ss if s["rc"] != 0]
            if bad:
                with open(os.path.join(out_dirs[t.name], t.name + ".stderr"), errors="replace") as f:
                    why = f.read().strip().splitlines()[-1:] or [""]
                cap["tools"][t.name] = {"failed": f"exit {bad[0]['rc']} {why[0]}", "argv": bad[0]["argv"]}
                failed = True
                continue
            try:
                names[t.name] = t.names_from(out_dirs[t.name], ss[-1]["stdout"])
            except (OSError, ValueError, KeyError) as e:
                cap["tools"][t.name] = {"failed": f"cannot read its output: {e}"}
                failed = True
                continue
            cap["tools"][t.name] = {
                "wall": statistics.median(s["wall"] for s in ss),
                "cpu": statistics.median(s["cpu"] for s in ss),
                "user": statistics.median(s["user"] for s in ss),
                "sys": statistics.median(s["sys"] for s in ss),
                "maxrss_mb": max(s["maxrss_mb"] for s in ss),
                "startup_wall": statistics.median(s["wall"] for s in startup[t.name]),
                "startup_cpu": statistics.median(s["cpu"] for s in startup[t.name]),
                "walls": [round(s["wall"], 3) for s in ss],
                "cpus": [round(s["cpu"], 3) for s in ss],
                "names": len(names[t.name]),
                "argv": [os.path.basename(a) if a == path else a for a in ss[-1]["argv"]],
            }
            if ss[-1]["stdout"] in tshark_all_names:
                cap["tools"][t.name]["all_names"] = tshark_all_names[ss[-1]["stdout"]]
        cap["names"] = compare_names(names, truth)
        if check_names and truth is not None:
            got = names.get("wiretally", set())
            if got != truth:
                log(f"compare_peers: wiretally's names differ from the generated ones: missing "
                    f"{sorted(truth - got)[:5]}, extra {sorted(got - truth)[:5]}")
                failed = True
        result["captures"].append(cap)

    md = markdown(result)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(md + "\n")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=2, default=list)
            f.write("\n")
    if tmp:
        tmp.cleanup()
    print(md, flush=True)
    return 1 if failed else 0


def compare_names(names, truth):
    out = {"found": {k: len(v) for k, v in names.items()}, "jaccard": {}, "only": {}}
    keys = list(names)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            pair = f"{a}~{b}"
            out["jaccard"][pair] = jaccard(names[a], names[b])
            only_a, only_b = sorted(names[a] - names[b]), sorted(names[b] - names[a])
            out["only"][pair] = ({"count": len(only_a), "examples": only_a[:8]},
                                 {"count": len(only_b), "examples": only_b[:8]})
    if truth is not None:
        out["truth"] = len(truth)
        out["recall"] = {k: len(v & truth) / len(truth) if truth else 1.0 for k, v in names.items()}
        out["not_generated"] = {k: sorted(v - truth)[:8] for k, v in names.items()}
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def tool_version(name, path):
    try:
        if name == "wiretally":
            r = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30)
            return r.stdout.strip()
        if name == "ndpiReader":
            r = subprocess.run([path, "-h"], capture_output=True, text=True, timeout=30)
            return next((l.strip() for l in (r.stdout + r.stderr).splitlines() if "nDPI" in l), "")
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        return r.stdout.splitlines()[0].strip() if r.stdout else ""
    except (OSError, subprocess.SubprocessError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
