#!/usr/bin/env python3
"""The same capture through 1 and through N live workers gives identical totals.

    multicore_test.py WIRETALLY CAPTURE... [--workers 1,2,4]

Virtual devices have no RSS, so it is emulated: each capture is split into N pcap files by a symmetric flow hash
(the two (ip, port) endpoints sorted before hashing; non-IP frames and IP fragments go to file 0), and one
`net_pcap0` port gets the N files as N `rx_pcap=` RX queues, one per worker ([run] mode = "tap"). N = 1 reads the
whole capture. Once `ctl stats --json` shows every packet received (the workers' rx_packets add up to the
capture's packet count) and the counters have stopped moving, SIGTERM: the daemon ends every flow and writes its
snapshot, whose per-service tallies (connections, pkts_up/down, bytes_up/down, tls_versions) and totals must be
identical for every N. They are also compared with `wiretally analyze CAPTURE --format json`: packets and bytes
must agree; connection counts may legitimately differ (explained in the output) because the live appliance times
packets by their arrival, not by the capture's timestamps.

Exit: 0 pass, 1 fail, 77 skipped (not root, or --corpus absent).
"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib as L  # noqa: E402

FIELDS = ("connections", "pkts_up", "pkts_down", "bytes_up", "bytes_down")
RECEIVE_TIMEOUT = 30.0


def norm_stats(st):
    st = st or {}
    out = {k: int(st.get(k, 0) or 0) for k in FIELDS}
    tv = st.get("tls_versions") or {}
    out["tls_versions"] = {k: int(v) for k, v in tv.items() if v}
    return out


def snapshot_tallies(doc):
    """{service name or None (unclassified): normalized stats} and the normalized total, from a snapshot."""
    rows = {}
    for s in doc.get("services", []):
        st = norm_stats(s.get("stats"))
        if st["connections"] or st["pkts_up"] or st["pkts_down"]:
            rows[s.get("name")] = st
    un = norm_stats(doc.get("unclassified"))
    if un["connections"] or un["pkts_up"] or un["pkts_down"]:
        rows[None] = un
    return rows, norm_stats(doc.get("total"))


def offline_tallies(doc):
    rows = {}
    for s in doc.get("services", []):
        st = norm_stats(s)
        if st["connections"] or st["pkts_up"] or st["pkts_down"]:
            rows[s.get("service")] = st
    return rows, norm_stats(doc.get("total"))


def svc_name(name):
    return "(unclassified)" if name is None else name


def diff_tallies(a, b, fields):
    """Lines describing how tallies a and b ({service: stats}) differ in the given fields."""
    out = []
    for name in sorted(set(a) | set(b), key=lambda n: svc_name(n)):
        ra, rb = a.get(name), b.get(name)
        if ra is None or rb is None:
            out.append(f"{svc_name(name)}: only in {'first' if rb is None else 'second'} "
                       f"({ra if rb is None else rb})")
            continue
        d = [f"{f} {ra[f]} != {rb[f]}" for f in fields if ra[f] != rb[f]]
        if d:
            out.append(f"{svc_name(name)}: " + ", ".join(d))
    return out


def run_live(rep, binary, work, files, n, expect_packets, tag):
    """Runs the appliance over `files` (one RX queue each) with n workers; returns (snapshot doc, info) or
    (None, reason)."""
    prefix = f"wtl-mc-{L.unique_suffix()}-{tag}"
    d = L.Daemon(binary, work, prefix, name=tag)
    vdev = "net_pcap0," + ",".join(f"rx_pcap={f}" for f in files)
    d.write_config(L.config_text(prefix=prefix, vdevs=[vdev], ports=[("cap", "net_pcap0", None)], socket=d.sock,
                                 mode="tap", workers=n, snapshot=d.snapshot, memory_mb=256))
    try:
        d.start()
    except L.DaemonError as e:
        d.cleanup()
        return None, str(e)
    t0 = L.now()
    last, stable, rx = None, 0, 0
    doc = None
    while L.now() - t0 < RECEIVE_TIMEOUT:
        doc = d.stats(timeout=5)
        if doc is not None:
            rx = L.worker_rx(doc)
            sig = (rx, doc.get("flows", {}).get("created"), doc.get("flows", {}).get("active"),
                   tuple(int(w.get("rx_packets", 0)) for w in doc.get("workers", [])))
            if rx >= expect_packets and sig == last:
                stable += 1
                if stable >= 2:
                    break
            else:
                stable = 0
            last = sig
        time.sleep(0.25)
    received_s = L.now() - t0
    port_rx = sum(int(p.get("rx_packets", 0)) for p in (doc or {}).get("ports", []))
    per_worker = [int(w.get("rx_packets", 0)) for w in (doc or {}).get("workers", [])]
    rep.check(f"{tag}: all {expect_packets} packets received by {n} worker(s) (per worker {per_worker}, "
              f"port rx {port_rx}) and quiescent", rx == expect_packets and stable >= 2,
              f"workers' rx_packets {rx} after {received_s:.1f}s; log:\n{d.log_tail(8)}")
    errs = (doc or {}).get("parse_errors") or {}
    counters = (doc or {}).get("counters") or {}
    # `ctl flows --top N`: each worker keeps its N largest flows in progress, so the N largest of all are
    # the head of a listing of every flow, and the counts stand for every flow, not the N listed.
    _, few, _ = d.ctl("flows", "--top", "5")
    _, every, _ = d.ctl("flows", "--top", "100000")
    size = lambda f: f["bytes_up"] + f["bytes_down"]
    few_sizes = [size(f) for f in (few or {}).get("flows", [])]
    every_sizes = [size(f) for f in (every or {}).get("flows", [])]
    active = ((doc or {}).get("flows") or {}).get("active")
    rep.check(f"{tag}: ctl flows --top 5 lists the 5 largest of every flow ({few_sizes}), counting them all "
              f"({(few or {}).get('in_progress')} in progress, {active} active)",
              few is not None and every is not None and few_sizes == sorted(every_sizes, reverse=True)[:5]
              and few["in_progress"] == every["in_progress"] == len([f for f in every["flows"] if f["state"] != "ended"])
              and few["matching"] == every["matching"] == len(every["flows"]),
              f"few {json.dumps({k: v for k, v in (few or {}).items() if k != 'flows'})}, "
              f"every {json.dumps({k: v for k, v in (every or {}).items() if k != 'flows'})}")
    rc = d.stop(signal.SIGTERM, grace=30)
    rep.check(f"{tag}: SIGTERM -> exit 0", rc == 0, f"exit code {rc}; log:\n{d.log_tail(8)}")
    snap = None
    try:
        with open(d.snapshot) as f:
            snap = json.load(f)
    except (OSError, ValueError) as e:
        rep.check(f"{tag}: snapshot written at exit", False, f"{d.snapshot}: {e}; log:\n{d.log_tail(8)}")
    d.cleanup()
    info = {"received_s": received_s, "per_worker": per_worker, "parse_errors": errs,
            "dns_resolutions": counters.get("dns_resolutions")}
    return snap, info


def offline(binary, capture):
    p = L.run([binary, "analyze", capture, "--format", "json"], timeout=60)
    if p.returncode != 0:
        return None, f"analyze exit {p.returncode}: {(p.stderr or '').strip()[:300]}"
    try:
        return json.loads(p.stdout), ""
    except ValueError as e:
        return None, f"analyze output is not JSON: {e}"


def dns_named_flows(binary, work, capture, tag):
    """The capture's flows whose service comes from a DNS answer seen earlier: named only from it
    (name_source "dns"), or classified by its CNAME chain (matched_by, on a connection rather than the DNS
    lookup itself), as (label, service or None, {field: value}) from the offline analysis. Their service
    depends on the order in which packets of different flows are handled, see explain_by_dns_moves()."""
    out = os.path.join(work, f"{tag}-flows.jsonl")
    p = L.run([binary, "analyze", capture, "--format", "json", "--flows", out], timeout=60)
    flows = []
    if p.returncode == 0 and os.path.exists(out):
        with open(out) as f:
            for line in f:
                try:
                    fl = json.loads(line)
                except ValueError:
                    continue
                from_dns = fl.get("name_source") == "dns" or (fl.get("matched_by") and
                                                              fl.get("name_source") != "dns_query")
                if from_dns and fl.get("service"):
                    v = {"connections": 1}
                    v.update({k: int(fl.get(k, 0) or 0) for k in FIELDS[1:]})
                    label = (f"{fl.get('proto')} {fl.get('client')}:{fl.get('client_port')} -> "
                             f"{fl.get('server')}:{fl.get('server_port')} {fl.get('name')}")
                    flows.append((label, fl["service"], v))
    return flows


def explain_by_dns_moves(ref, other, flows):
    """The subset of the DNS-named `flows` whose move from their service to unclassified turns the reference
    tallies `ref` into `other` (fields in FIELDS, exactly), or None when no subset does.

    Why such moves happen live and not offline: a connection without SNI or Host is named from the client's
    earlier DNS answer (and a name no pattern knows is classified by that answer's CNAME chain), looked up in the worker's DNS cache when the flow starts (and again when it ends, for
    an answer dated at or before the flow's first packet). With several workers the answer may be handled by
    another worker and travels as a message; the live clock is each worker's poll time, so when the queues
    replay unpaced (net_pcap reads its files as fast as it can) the connection's worker can see the connection
    before the other worker has even read the answer, and the flow stays unnamed."""
    if len(flows) > 14:
        return None
    names = set(ref) | set(other)
    for mask in range(1 << len(flows)):
        moved = {name: dict(ref.get(name) or {f: 0 for f in FIELDS}) for name in names | {None}}
        subset = []
        for i, (label, svc, v) in enumerate(flows):
            if mask >> i & 1:
                subset.append((label, svc, v))
                moved.setdefault(svc, {f: 0 for f in FIELDS})
                for f in FIELDS:
                    moved[svc][f] -= v[f]
                    moved[None][f] += v[f]
        ok = True
        for name in set(moved) | set(other):
            a = moved.get(name) or {f: 0 for f in FIELDS}
            b = other.get(name) or {f: 0 for f in FIELDS}
            if any(a.get(f, 0) != b.get(f, 0) for f in FIELDS):
                ok = False
                break
        if ok:
            return subset
    return None


def row(base, total, run_name, t, extra):
    pk = "%d/%d" % (t["pkts_up"], t["pkts_down"])
    by = "%d/%d" % (t["bytes_up"], t["bytes_down"])
    return f"{base[:27]:<28}{total:>7}{run_name:>10}{t['connections']:>7}{pk:>16}{by:>22}  {extra}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    ap.add_argument("captures", nargs="+", help="capture files, or with --corpus names under its pcap/")
    ap.add_argument("--corpus", help="the nDPI corpus (pcap/, expected/): CAPTURES name files of it; a documented "
                                     "skip when it is absent")
    ap.add_argument("--workers", default="1,2,4", help="worker counts to compare (the first is the reference)")
    args = ap.parse_args()
    L.require_root("the live multicore test")
    if args.corpus:
        pcap_dir = os.path.join(L.wt_skips.corpus_or_skip(args.corpus), "pcap")
        args.captures = [os.path.join(pcap_dir, name) for name in args.captures]
    binary = os.path.abspath(args.wiretally)
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    rep = L.Report("multicore_test")
    work = L.make_workdir("mc")
    summary = []
    race_notes = []
    started = L.now()

    for ci, capture in enumerate(args.captures):
        base = os.path.basename(capture)
        print(f"== {base}", flush=True)
        try:
            pcap = L.Pcap(capture)
        except (OSError, ValueError) as e:
            rep.check(f"{base}: readable classic pcap", False, str(e))
            continue
        if pcap.linktype != L.LINKTYPE_ETHERNET:
            rep.check(f"{base}: Ethernet link type (needed to split it by flow)", False, f"link type {pcap.linktype}")
            continue
        total = len(pcap.records)
        results = {}
        for n in counts:
            tag = f"c{ci}-w{n}"
            if n == 1:
                files = [os.path.abspath(capture)]
            else:
                files, sizes = L.split_pcap(pcap, n, os.path.join(work, f"c{ci}-split{n}"))
                rep.note(f"split into {n} files by the symmetric flow hash: {sizes} packets")
            snap, info = run_live(rep, binary, work, files, n, total, tag)
            if snap is None:
                if isinstance(info, str):
                    rep.check(f"{tag}: appliance started", False, info)
                continue
            results[n] = (snapshot_tallies(snap), info)

        ref_n = counts[0]
        dns_flows = None
        if ref_n not in results:
            continue
        (ref_rows, ref_total), _ = results[ref_n]
        for n in counts[1:]:
            if n not in results:
                continue
            (rows, tot), _ = results[n]
            diffs = diff_tallies(ref_rows, rows, FIELDS + ("tls_versions",))
            if not diffs:
                rep.check(f"{base}: per-service tallies identical for {ref_n} and {n} workers "
                          f"({len(ref_rows)} services)", True)
            else:
                if dns_flows is None:
                    dns_flows = dns_named_flows(binary, work, capture, f"c{ci}")
                moved = explain_by_dns_moves(ref_rows, rows, dns_flows)
                affected = {svc for _, svc, _ in (moved or [])} | {None}
                tls_ok = moved is not None and all(
                    ref_rows.get(s, {}).get("tls_versions") == rows.get(s, {}).get("tls_versions")
                    for s in set(ref_rows) | set(rows) if s not in affected)
                rep.check(f"{base}: per-service tallies identical for {ref_n} and {n} workers, but for "
                          f"DNS-named flows left unnamed across workers ({len(ref_rows)} services)",
                          moved is not None and tls_ok,
                          "\n    " + "\n    ".join(diffs) +
                          f"\n    ({len(dns_flows)} flow(s) of this capture are named or classified by an earlier DNS "
                          "answer or its CNAME chain; no subset of them explains the difference)")
                if moved:
                    race_notes.append((base, n, moved))
                    rep.note(f"NOTE (cross-worker DNS naming race): with {n} workers {len(moved)} of the "
                             f"{len(dns_flows)} DNS-named flow(s) were tallied unclassified instead of under their "
                             "service:")
                    for label, svc, v in moved:
                        rep.note(f"  {label} (offline/1 worker: {svc}, {v['pkts_up']}/{v['pkts_down']} pkts)")
            tdiff = [f"{f} {ref_total[f]} != {tot[f]}" for f in FIELDS if ref_total[f] != tot[f]]
            if ref_total["tls_versions"] != tot["tls_versions"]:
                tdiff.append(f"tls_versions {ref_total['tls_versions']} != {tot['tls_versions']}")
            rep.check(f"{base}: totals identical for {ref_n} and {n} workers", not tdiff, "; ".join(tdiff))

        # Against the offline analysis of the same file.
        off, err = offline(binary, capture)
        if not rep.check(f"{base}: offline analyze --format json", off is not None, err):
            continue
        off_rows, off_total = offline_tallies(off)
        bdiff = diff_tallies(off_rows, ref_rows, ("pkts_up", "pkts_down", "bytes_up", "bytes_down"))
        rep.check(f"{base}: live ({ref_n} worker) per-service packets and bytes == offline analyze", not bdiff,
                  "\n    " + "\n    ".join(bdiff))
        t_b = [f"{f} offline {off_total[f]} live {ref_total[f]}" for f in ("pkts_up", "pkts_down", "bytes_up",
                                                                            "bytes_down")
               if off_total[f] != ref_total[f]]
        rep.check(f"{base}: live total packets and bytes == offline analyze "
                  f"({off_total['pkts_up'] + off_total['pkts_down']} pkts, "
                  f"{off_total['bytes_up'] + off_total['bytes_down']} IP bytes)", not t_b, "; ".join(t_b))
        cdiff = diff_tallies(off_rows, ref_rows, ("connections",))
        if off_total["connections"] == ref_total["connections"] and not cdiff:
            rep.note(f"connections: live == offline ({off_total['connections']})")
        else:
            span = off.get("input", {})
            span_s = (span.get("last_ts") or 0) - (span.get("first_ts") or 0)
            rep.note(f"connections differ: offline {off_total['connections']}, live {ref_total['connections']} "
                     f"(capture spans {span_s:.0f} s; live replays it in well under a second)")
            for line in cdiff:
                rep.note("  " + line)
            rep.note("  why: offline, flows end by the capture's clock (tcp_idle 10m, udp_idle 3m, closed_linger 30s, "
                     "active_timeout 1m), so a 5-tuple reused after its flow ended, or a flow idle longer than the "
                     "timeout, counts again; live, every packet arrives within the replay, no timeout fires and the "
                     "reuse lands in the same flow.")
        summary.append((base, total, {n: results[n][0][1] for n in results},
                        {n: results[n][1] for n in results}, off_total))

    # Summary table.
    print("\nSUMMARY (live totals from the snapshot at exit; offline from analyze --format json)")
    hdr = f"{'capture':<28}{'pkts':>7}{'run':>10}{'conns':>7}{'pkts up/down':>16}{'bytes up/down':>22}  per-worker rx"
    print(hdr)
    for base, total, tots, infos, off_total in summary:
        for n, t in sorted(tots.items()):
            print(row(base, total, f"{n} wkr", t, str(infos[n]["per_worker"])))
        print(row(base, total, "offline", off_total, ""))
    if race_notes:
        print("\nCross-worker DNS naming race (not a counting error: every packet and byte is tallied, some under "
              "unclassified):")
        for base, n, moved in race_notes:
            print(f"  {base}, {n} workers: {len(moved)} flow(s) unnamed: " +
                  "; ".join(f"{label} ({svc})" for label, svc, _ in moved))
        print("  " + " ".join(explain_by_dns_moves.__doc__.split("\n\n")[1].split()))
    print(f"(elapsed {L.now() - started:.1f} s)")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
