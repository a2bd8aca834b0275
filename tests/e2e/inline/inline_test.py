#!/usr/bin/env python3
"""End-to-end test of wiretally in INLINE mode: a client namespace and a server namespace joined only through a
forwarder, real servers (openssl s_server, dnsmasq, ngtcp2) and real clients (dig, curl, gtlsclient).

  inline_test.py --forwarder bridge                          # a Linux bridge: validates the lab and the traffic
  inline_test.py --forwarder wiretally --wiretally PATH      # the live appliance (`wiretally run --config CFG`)

Phases: 1 servers, 2 DNS + TLS 1.2/1.3 (+ IPv6, QUIC) fetches through the forwarder, 3 a 50 MB TLS download
(prints THROUGHPUT <MB/s>), 4 appliance-only checks over its control socket (wiretally forwarder only).
One PASS/FAIL line per assertion, then a summary. Exit 0 when nothing failed, 1 otherwise (a required program
missing too), 77 (skip) when not root. Needs root. Standard library only. See README.md beside this file.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))

import appliance as A  # noqa: E402
import lab as L  # noqa: E402
import wt_skips  # noqa: E402



class Abort(Exception):
    """A failure already reported that leaves nothing else to test."""


class Report:
    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []
        self.t0 = time.monotonic()

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    @staticmethod
    def note(text):
        L.log(text)

    @staticmethod
    def phase(title):
        print(f"== {title}", flush=True)

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed "
              f"({time.monotonic() - self.t0:.1f} s)", flush=True)
        for f in self.failures:
            print(f"  failed: {f}", flush=True)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: cleanup runs


# ------------------------------------------------------------------------------------------------ phases
def phase_servers(rep, lab, args):
    rep.phase("phase 1: servers in the server namespace")
    lab.setup_topology()
    lab.make_pki_and_content(args.throughput_mb * 1000 * 1000)
    lab.start_servers()
    n_tls = sum(1 + (1 if n.v6_server else 0) for n in L.NAMES)
    rep.check(f"servers: dnsmasq :53, {n_tls} openssl s_server :443 for {len(L.NAMES)} names, "
              "ngtcp2 gtlsserver udp :443", True)


def baseline_through_bridge(rep, lab):
    """Before the appliance starts: the same lab through a Linux bridge. Tells lab problems from appliance ones
    (a QUIC failure says which of the two it is)."""
    rep.phase("baseline: the lab through a Linux bridge (the appliance is not running yet)")
    br = L.BridgeForwarder(lab)
    br.start()
    try:
        left = lab.reachable([L.SERVER4])
        f = lab.curl("api.shop.example", L.BODY_PATH, "1.3")
        rep.check("baseline: TLS fetch through the bridge", not left and f.ok, f.describe())
        quic_ok, detail = lab.quic(L.QUIC_NAME, L.BODY_PATH, L.Lab.name(L.QUIC_NAME).body_size)
        rep.note(f"baseline QUIC through the bridge: {'works' if quic_ok else 'fails'} ({detail})")
        return quic_ok
    finally:
        br.stop()
        time.sleep(0.2)


def phase_clients(rep, lab, fwd, ctx):
    rep.phase("phase 2: DNS and fetches from the client namespace through the forwarder")
    for n in L.NAMES:
        d = lab.dig(n.name, "A")
        rep.check(f"dns A {n.name} -> {' -> '.join(n.cname_chain + [n.addr4])}",
                  d["status"] == "NOERROR" and d["cnames"] == n.cname_chain and d["addrs"] == [n.addr4],
                  f"status={d['status']} cnames={d['cnames']} addrs={d['addrs']} rc={d['rc']}")
        server = L.SERVER6 if n.v6_server else L.SERVER4  # one AAAA query over IPv6 transport
        d = lab.dig(n.name, "AAAA", server)
        rep.check(f"dns AAAA {n.name} @{server} -> {n.addr6}",
                  d["status"] == "NOERROR" and d["cnames"] == n.cname_chain and d["addrs"] == [n.addr6],
                  f"status={d['status']} cnames={d['cnames']} addrs={d['addrs']} rc={d['rc']}")
    d = lab.dig("missing.shop.example", "A")
    rep.check("dns A missing.shop.example -> NXDOMAIN", d["status"] == "NXDOMAIN", f"status={d['status']}")

    for n in L.NAMES:
        for tls in ("1.2", "1.3"):
            f = lab.curl(n.name, L.BODY_PATH, tls)
            ctx["fetches"].append(f)
            rep.check(f"tls{tls} {n.name}: {n.body_size} bytes over TLSv{tls} from {n.addr4} (resolved by DNS)",
                      f.ok and f.size == n.body_size and f.version == f"TLSv{tls}" and f.remote_ip == n.addr4,
                      f.describe())
    for n in L.NAMES:
        if n.v6_server:
            f = lab.curl(n.name, L.BODY_PATH, "1.3", family=6)
            ctx["fetches"].append(f)
            rep.check(f"tls1.3 over IPv6 {n.name}: {n.body_size} bytes from {n.addr6} (AAAA from DNS)",
                      f.ok and f.size == n.body_size and f.version == "TLSv1.3" and f.remote_ip == n.addr6,
                      f.describe())

    n = L.Lab.name(L.QUIC_NAME)
    ok, detail = lab.quic(n.name, L.BODY_PATH, n.body_size)
    ctx["quic_ok"] = ok
    if not ok and fwd.is_appliance:
        detail += (" (QUIC works through a Linux bridge: the appliance's fault)" if ctx.get("quic_baseline")
                   else " (fails through a Linux bridge too: the lab's fault)")
    rep.check(f"quic {n.name}: {n.body_size} bytes over HTTP/3", ok, detail)


def phase_capture_check(rep, lab, ctx, pcap, dropped):
    """The tcpdump on the client's veth: every fetch is one TCP flow whose IP bytes down cover its body.
    (Validates the capture-based bounds the appliance's byte counts are checked against.)"""
    rep.check("capture: tcpdump on the client veth lost nothing", dropped == 0,
              f"{dropped} lost" if dropped > 0 else "tcpdump printed no statistics")
    try:
        flows, totals = L.pcap_flows(pcap, {L.CLIENT4, L.CLIENT6})
    except (OSError, ValueError) as e:
        rep.check("capture: readable", False, str(e))
        ctx["capture"] = {}
        return
    ctx["capture"] = flows
    bad = []
    for f in ctx["fetches"]:
        if not f.ok:
            continue
        key = (6, f.remote_ip, 443, L.CLIENT6 if f.family == 6 else L.CLIENT4, int(f.local_port or 0))
        c = flows.get(key)
        if c is None or c["bytes_down"] < f.size:
            bad.append(f"{f.name} tls{f.tls} port {f.local_port}: {c}")
    dns = sum(1 for k in flows if k[0] == 17 and k[2] == 53)
    rep.check(f"capture: every fetch is a TCP flow whose IP bytes down >= its body ({totals['frames']} frames, "
              f"{len(flows)} flows, {dns} DNS)", not bad, "; ".join(bad[:4]))


def phase_throughput(rep, lab, args):
    rep.phase(f"phase 3: throughput, {args.throughput_mb} MB over TLS 1.3")
    size = args.throughput_mb * 1000 * 1000
    f = lab.curl(L.BIG_NAME, L.BIG_PATH, "1.3", max_time=args.throughput_timeout)
    ok = f.ok and f.size == size
    mbps = size / f.seconds / 1e6 if ok and f.seconds > 0 else 0.0
    print(f"THROUGHPUT {mbps:.1f}", flush=True)
    L.log(f"{f.size} bytes in {f.seconds:.3f} s ({mbps:.1f} MB/s, MB = 10^6 bytes)")
    rep.check(f"throughput: {size} bytes over TLS 1.3 completed", ok, f.describe())


# ------------------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forwarder", choices=("bridge", "wiretally"), default="bridge")
    ap.add_argument("--wiretally", help="the wiretally binary (with --forwarder wiretally)")
    ap.add_argument("--cores", default="0,1", help="EAL cores for wiretally (default 0,1)")
    ap.add_argument("--suffix", help="name suffix (default: random 6 hex digits)")
    ap.add_argument("--throughput-mb", type=int, default=50)
    ap.add_argument("--throughput-timeout", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.suffix and not (args.suffix.isalnum() and len(args.suffix) <= 6):
        ap.error("--suffix: 1-6 alphanumerics (interface names are limited to 15 characters)")

    wt_skips.skip_unless_root("the inline test creates network namespaces and veths, and runs tcpdump")
    missing = L.missing_programs(L.REQUIRED)
    if args.forwarder == "wiretally":
        if not args.wiretally:
            ap.error("--forwarder wiretally needs --wiretally PATH")
        if not (os.path.isfile(args.wiretally) and os.access(args.wiretally, os.X_OK)):
            missing.append(f"wiretally binary {args.wiretally}")
    if missing:
        print(f"FAIL: missing required programs (scripts/setup.sh installs them): {', '.join(missing)}")
        return 1

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    workdir = tempfile.mkdtemp(prefix="wt-inline-")
    rep = Report()
    lab = L.Lab(workdir, args.suffix)
    fwd = None
    interrupted = None
    L.log(f"forwarder {args.forwarder}, namespaces {lab.ns_client} {lab.ns_server}, ports {lab.wtc} {lab.wts}, "
          f"work {workdir}")
    try:
        phase_servers(rep, lab, args)
        ctx = {"fetches": [], "quic_ok": False, "capture": {}}
        if args.forwarder == "wiretally":
            ctx["quic_baseline"] = baseline_through_bridge(rep, lab)
            fwd = A.WiretallyForwarder(lab, args.wiretally, [int(c) for c in args.cores.split(",")])
        else:
            fwd = L.BridgeForwarder(lab)
        rep.phase(f"forwarder: {fwd.kind}")
        try:
            fwd.start()
        except L.LabError as e:
            rep.check(f"forwarder: {fwd.kind} starts", False, str(e))
            raise Abort() from e
        rep.check(f"forwarder: {fwd.kind} starts", True)
        pcap = os.path.join(workdir, "phase2.pcap")
        # The client's own veth, not the host-side port: DPDK's net_af_packet transmits with PACKET_QDISC_BYPASS
        # (its default), which packet taps on that port never see, so a tcpdump on wtc-* would miss every frame
        # the appliance sends to the client. cli0 sees both directions exactly as the client does.
        cap = lab.start_capture(lab.ns_client, "cli0", pcap)
        targets = [L.SERVER4, L.SERVER6] + [n.addr4 for n in L.NAMES if n.addr4 != L.SERVER4] + \
            [n.addr6 for n in L.NAMES if n.v6_server]
        left = lab.reachable(targets)
        if not rep.check(f"forwarder: the client reaches {len(targets)} server addresses (IPv4 and IPv6) "
                         f"through {fwd.kind}", not left, f"unreachable: {left}"):
            raise Abort()  # no forwarding: nothing else can pass

        phase_clients(rep, lab, fwd, ctx)
        dropped = lab.stop_capture(cap)
        phase_capture_check(rep, lab, ctx, pcap, dropped)

        if fwd.is_appliance:
            rep.phase("phase 4a: appliance counters after phase 2")
            A.check_stats(rep, lab, fwd, ctx)
            A.check_services(rep, lab, fwd, ctx)
            A.check_domains(rep, lab, fwd, ctx)
            A.check_servers(rep, lab, fwd, ctx)
            A.show_tables(fwd, ("services", "stats", "servers"))

        phase_throughput(rep, lab, args)

        if fwd.is_appliance:
            rep.phase("phase 4b: appliance control: mark, reload, metrics, snapshot and resume")
            A.check_mark(rep, lab, fwd, ctx)
            A.check_live_views(rep, lab, fwd, ctx)
            A.check_socat(rep, lab, fwd, ctx)
            A.check_reload(rep, lab, fwd, ctx)
            A.check_reload_rereads_the_configuration(rep, lab, fwd, ctx)
            A.check_prometheus(rep, lab, fwd, ctx)
            A.check_snapshot_resume(rep, lab, fwd, ctx)
        else:
            rep.note("appliance-only checks (services, domains, mark, reload, metrics, snapshot) need "
                     "--forwarder wiretally")
        rep.check(f"forwarder: {fwd.kind} still running at the end", fwd.alive())
    except Abort:
        pass
    except L.LabError as e:
        rep.check("lab", False, str(e))
    except SystemExit as e:
        interrupted = e.code
        rep.check("interrupted", False, f"signal, exit {e.code}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if fwd is not None:
            was_alive = fwd.alive()
            rc = fwd.stop()
            if fwd.is_appliance and was_alive and rc not in (0, None):
                L.log(f"wiretally exited with {rc} at cleanup; log tail:\n{lab.procs.tail(fwd.logpath, 10)}")
            fwd.cleanup()
        lab.cleanup()
        rep.summary()
        if rep.failed and not args.keep:
            big = os.path.join(lab.www_dir(L.Lab.name(L.BIG_NAME)), L.BIG_PATH[1:])
            if os.path.exists(big):
                os.unlink(big)  # the logs and the capture are what matter
            L.log(f"work directory kept (failures): {workdir}")
        elif args.keep:
            L.log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        return interrupted
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
