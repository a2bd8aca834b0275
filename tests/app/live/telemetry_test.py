#!/usr/bin/env python3
"""DPDK telemetry: the standard client reads the appliance's own commands.

    telemetry_test.py WIRETALLY [--capture PCAP] [--client PATH/dpdk-telemetry.py]

With [control] telemetry = true the appliance registers /wiretally/stats, /wiretally/services,
/wiretally/ports and /wiretally/version next to DPDK's own commands (/ethdev/stats,N ...), served on
/var/run/dpdk/PREFIX/dpdk_telemetry.v2 (SOCK_SEQPACKET: the server sends a JSON greeting, then answers each
command string with one JSON message). The test replays the sample capture once in tap mode (short flow
timeouts, so every flow ends and is tallied within seconds), then queries the commands:

  - directly over the socket (the protocol), and
  - through DPDK's own client, dpdk-telemetry.py -f PREFIX (commands on stdin; Debian package dpdk-dev, found
    on PATH or given with --client / $DPDK_TELEMETRY; its absence is a failure);

and checks the values against the capture and against `wiretally ctl ... --json`. A second appliance with
telemetry = false must not create the socket.

Exit: 0 pass, 1 fail, 77 not root.
"""
import argparse
import json
import re
import os
import shutil
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAPTURE = os.path.normpath(os.path.join(HERE, "..", "..", "data", "sample", "capture.pcap"))
SOCKET_NAME = "dpdk_telemetry.v2"


def find_client(explicit):
    for cand in (explicit, os.environ.get("DPDK_TELEMETRY")):
        if cand:
            return cand if os.path.isfile(cand) else None
    return shutil.which("dpdk-telemetry.py")


class Telemetry:
    """The v2 telemetry protocol: connect, read the greeting, then one command -> one JSON reply."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.greeting = json.loads(self.sock.recv(1 << 16).decode())
        self.max_len = int(self.greeting.get("max_output_len", 16384))

    def query(self, command):
        self.sock.send(command.encode())
        return json.loads(self.sock.recv(max(self.max_len, 1 << 16)).decode())

    def close(self):
        self.sock.close()


def run_client(client, prefix, commands):
    """dpdk-telemetry.py -f PREFIX with the commands on stdin: {command: parsed reply} (one JSON per line)."""
    p = L.run([sys.executable, client, "-f", prefix], timeout=30, input="\n".join(commands) + "\nquit\n")
    replies = {}
    for line in (p.stdout or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and len(doc) == 1:
            replies[next(iter(doc))] = next(iter(doc.values()))
    return p, replies


def tel_key(name):
    """DPDK telemetry dictionary keys may hold only alphanumerics, '_' and '/' (rte_telemetry.h): an appliance
    name such as "Google Maps" or "cap.rx_packets" must be sanitized. Compare names in that form."""
    return re.sub(r"[^A-Za-z0-9_/]", "_", name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    ap.add_argument("--capture", default=DEFAULT_CAPTURE)
    ap.add_argument("--client", default=None, help="dpdk-telemetry.py (default: from PATH)")
    args = ap.parse_args()
    L.require_root("the telemetry test")
    binary = os.path.abspath(args.wiretally)
    capture = os.path.abspath(args.capture)
    rep = L.Report("telemetry_test")
    work = L.make_workdir("tel")
    started = L.now()
    pcap = L.Pcap(capture)
    cap_packets = len(pcap.records)
    cap_bytes = sum(len(data) for _, data in pcap.records)

    prefix = f"wtl-tel-{L.unique_suffix()}"
    d = L.Daemon(binary, work, prefix)
    d.write_config(L.config_text(
        prefix=prefix, mode="tap", workers=1, socket=d.sock, snapshot="", telemetry=True, memory_mb=256,
        vdevs=[f"net_pcap0,rx_pcap={capture}"], ports=[("cap", "net_pcap0", None)],
        flows_extra={"tcp_idle": "2s", "udp_idle": "2s", "closed_linger": "1s"}))
    try:
        d.start()
    except L.DaemonError as e:
        rep.check("appliance with telemetry = true started", False, str(e))
        return rep.finish()
    sock_path = os.path.join("/var/run/dpdk", prefix, SOCKET_NAME)
    rep.check(f"telemetry socket exists: {sock_path}", os.path.exists(sock_path))

    # Every packet in, every flow ended and tallied (the flow timeouts above are short).
    deadline = L.now() + 20
    stats = None
    while L.now() < deadline:
        stats = d.stats(timeout=5)
        if stats and L.worker_rx(stats) == cap_packets and stats["flows"]["active"] == 0:
            break
        time.sleep(0.25)
    rep.check(f"all {cap_packets} packets received and every flow ended (ctl stats)",
              stats is not None and L.worker_rx(stats) == cap_packets and stats["flows"]["active"] == 0,
              json.dumps((stats or {}).get("flows"))[:300])
    time.sleep(0.5)  # one more stats interval: the telemetry view is published by collect()

    rc, svc_doc, text = d.ctl("services", timeout=10)
    rcv, ver_doc, _ = d.ctl("version", timeout=10)
    ctl_services = {}
    for row in (svc_doc or {}).get("services", []):
        name = row.get("service") or "unclassified"
        b = int(row.get("bytes_up", 0)) + int(row.get("bytes_down", 0))
        if int(row.get("connections", 0)):
            ctl_services[name] = b
    rep.check("ctl services --json answers with tallied services", rc == 0 and ctl_services, text[:300])

    # ---- the protocol, directly
    replies = {}
    try:
        t = Telemetry(sock_path)
        g = t.greeting
        rep.check(f"greeting: pid {g.get('pid')} is the daemon ({d.pid}), {g.get('version')}",
                  g.get("pid") == d.pid and "DPDK" in str(g.get("version")), json.dumps(g))
        for cmd in ("/", "/wiretally/stats", "/wiretally/services", "/wiretally/ports", "/wiretally/version",
                    "/ethdev/list", "/ethdev/stats,0", "/wiretally/no-such-command"):
            replies[cmd] = t.query(cmd)
        t.close()
    except (OSError, ValueError) as e:
        rep.check("telemetry socket: connect, greeting, queries", False, f"{type(e).__name__}: {e}")

    def body(cmd):
        doc = replies.get(cmd) or {}
        return doc.get(cmd.split(",")[0])  # "/ethdev/stats,0" answers {"/ethdev/stats": {...}}

    listed = body("/") or []
    want = ["/wiretally/stats", "/wiretally/services", "/wiretally/ports", "/wiretally/version"]
    rep.check("'/' lists the wiretally commands", all(w in listed for w in want),
              f"missing {[w for w in want if w not in listed]}")

    st = body("/wiretally/stats") or {}
    rep.check(f"/wiretally/stats: rx_packets {st.get('rx_packets')} == {cap_packets} (capture), workers 1, "
              f"tx_packets 0 (tap)", st.get("rx_packets") == cap_packets and st.get("workers") == 1 and
              st.get("tx_packets") == 0, json.dumps(st))
    total_bytes = sum(ctl_services.values())
    rep.check(f"/wiretally/stats: flows_tallied {st.get('flows_tallied')} and bytes "
              f"{(st.get('bytes_up') or 0) + (st.get('bytes_down') or 0)} match ctl services "
              f"({(svc_doc or {}).get('total', {}).get('connections')} flows, {total_bytes} bytes)",
              st.get("flows_tallied") == (svc_doc or {}).get("total", {}).get("connections") and
              (st.get("bytes_up") or 0) + (st.get("bytes_down") or 0) == total_bytes, json.dumps(st))
    rep.check("/wiretally/stats: uptime_s >= 0, flows_active 0, classifier_generation 1",
              isinstance(st.get("uptime_s"), int) and st.get("flows_active") == 0 and
              st.get("classifier_generation") == 1, json.dumps(st))

    sv = body("/wiretally/services") or {}
    sv_norm = {tel_key(k): v for k, v in sv.items()}
    missing = {k: v for k, v in ctl_services.items() if sv_norm.get(tel_key(k)) != v}
    rep.check(f"/wiretally/services: bytes per service == ctl services ({len(ctl_services)} services)",
              sv and not missing, f"telemetry {json.dumps(sv)}\n    differs for {missing}")
    rep.check("/wiretally/services: no service beyond ctl's", set(sv_norm) <= {tel_key(k) for k in ctl_services},
              f"extra {set(sv_norm) - {tel_key(k) for k in ctl_services}}")

    po = {tel_key(k): v for k, v in (body("/wiretally/ports") or {}).items()}
    rep.check(f"/wiretally/ports: port 'cap' rx_packets == {cap_packets} (key cap.rx_packets, sanitized)",
              po.get("cap_rx_packets") == cap_packets, json.dumps(body("/wiretally/ports")))

    ve = body("/wiretally/version") or {}
    rep.check(f"/wiretally/version: {ve} == ctl version", ver_doc is not None and
              ve.get("wiretally") == ver_doc.get("wiretally") and ve.get("dpdk") == ver_doc.get("dpdk"),
              f"ctl version: {ver_doc}")

    el = body("/ethdev/list")
    rep.check(f"/ethdev/list: {el} == [0]", el == [0])
    es = body("/ethdev/stats,0") or {}
    rep.check(f"/ethdev/stats,0: ipackets {es.get('ipackets')} == {cap_packets}, ibytes {es.get('ibytes')} == "
              f"{cap_bytes} (frame bytes of the capture)",
              es.get("ipackets") == cap_packets and es.get("ibytes") == cap_bytes, json.dumps(es)[:300])
    rep.check("an unknown command answers null", "/wiretally/no-such-command" in replies and
              body("/wiretally/no-such-command") is None, json.dumps(replies.get("/wiretally/no-such-command")))

    # ---- DPDK's own client
    client = find_client(args.client)
    if rep.check("dpdk-telemetry.py is installed (Debian package dpdk-dev; scripts/setup.sh installs it)",
                 client is not None):
        cmds = ["/wiretally/stats", "/wiretally/services", "/wiretally/version", "/ethdev/stats,0"]
        p, got = run_client(client, prefix, cmds)
        rep.check(f"dpdk-telemetry.py -f {prefix} ({client}) exits 0", p.returncode == 0,
                  ((p.stdout or "") + (p.stderr or ""))[-400:])
        rep.check("dpdk-telemetry.py: /wiretally/stats rx_packets == capture",
                  (got.get("/wiretally/stats") or {}).get("rx_packets") == cap_packets, str(got)[:300])
        rep.check("dpdk-telemetry.py: /wiretally/services == the socket's answer",
                  got.get("/wiretally/services") == sv, str(got.get("/wiretally/services"))[:300])
        rep.check("dpdk-telemetry.py: /wiretally/version == the socket's answer",
                  got.get("/wiretally/version") == ve, str(got.get("/wiretally/version")))
        rep.check("dpdk-telemetry.py: /ethdev/stats,0 ipackets == capture",
                  (got.get("/ethdev/stats") or {}).get("ipackets") == cap_packets, str(got.get("/ethdev/stats")))
        for cmd in cmds:
            rep.note(f"  {cmd}: {json.dumps(got.get(cmd.split(',')[0]))[:150]}")

    rc = d.stop(signal.SIGTERM, grace=30)
    rep.check("SIGTERM -> exit 0", rc == 0, f"rc {rc}; log:\n{d.log_tail(8)}")
    d.cleanup()

    # ---- telemetry = false: no socket
    prefix2 = f"wtl-tel-{L.unique_suffix()}-off"
    d2 = L.Daemon(binary, work, prefix2, name="off")
    d2.write_config(L.config_text(
        prefix=prefix2, mode="tap", workers=1, socket=d2.sock, snapshot="", telemetry=False, memory_mb=256,
        vdevs=[f"net_pcap0,rx_pcap={capture}"], ports=[("cap", "net_pcap0", None)]))
    try:
        d2.start()
        path2 = os.path.join("/var/run/dpdk", prefix2, SOCKET_NAME)
        rep.check("telemetry = false: no telemetry socket", not os.path.exists(path2), path2)
        rc2 = d2.stop(signal.SIGTERM, grace=30)
        rep.check("telemetry = false: SIGTERM -> exit 0", rc2 == 0, d2.log_tail(8))
    except L.DaemonError as e:
        rep.check("appliance with telemetry = false started", False, str(e))
    d2.cleanup()
    print(f"(elapsed {L.now() - started:.1f} s)")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
