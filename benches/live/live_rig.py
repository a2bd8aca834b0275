#!/usr/bin/env python3
"""The live rig (issue #17): `wiretally run` inline between two DPDK ports, with no NIC.

    wt-traffic (source) --memif--> wiretally run (inline) --memif--> wt-traffic (sink)

wt-traffic loads a generated capture into mbufs and sends it lap after lap out of one memif port
and counts what comes back on the other, in one polling loop (benches/live/wt_traffic.cpp). The
device under test joins both memif sockets as a client and forwards between them. The same rig with
`dpdk-testpmd --forward-mode=io` in wiretally's place is the ceiling of this machine: the ratio
wiretally / testpmd is measured in one run, the two taking turns in the same conditions.

Per case (traffic x concurrent flows x device) it prints the zero-loss packet rate (wt-traffic
--lossless: a burst the device does not take is offered again, so the rate is the device's), the
cycles per packet of each wiretally worker (its busy TSC cycles over the packets it received), and
the drops at each stage: refused by the device (never with --lossless), dropped by the device on its
way out (wiretally tx_dropped, testpmd TX-dropped), and received by the sink.

Truth: a lossless single lap of the app-traffic capture through wiretally must leave exactly the
bytes and packets per service that `wiretally analyze` finds in the same capture (what the source
sent); --laps N must leave N times as much. A mismatch fails the run (exit 1).

Usage:
    benches/live/live_rig.py [--smoke] [--seconds S] [--cases 64:1000,imix:1000,app:1000,udp64:1000000]
                             [--workers 1,2] [--rounds N] [--json-out FILE] [--keep]
Needs root only for nothing: memif sockets live in a temporary directory.
"""

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The traffic kinds. 64 and imix: TLS/QUIC/HTTP flows whose data packets have those sizes (the
# handshakes keep theirs); app: the generator's default mix (tls, quic, dns, http, bulk) in IMIX.
# udp64: one 64-byte UDP datagram a flow per lap (client 10.x.y.z:port -> 198.18.0.1:443, a QUIC
# short-header first byte and random bytes, which name nothing and take no detail record): from the
# second lap on, every flow is established, as in pipeline_bench's established cases. Written here, not
# by wt-gen, whose flows open with handshakes.
# dns: DNS exchanges alone (a query and its answer, 73-89 B frames): the way to a million flows
# established, since the capture holds two frames a flow and, UDP flows idling out only after 180 s,
# every flow of the first lap is still in the table when the next lap's packets find it. (The
# app mix at a million flows is a 3 GB capture of 24 M frames per lap whose flows all close within
# it: it would measure churn, not a million flows established, and pipeline_bench has that case.)
TRAFFIC = {
    "64": ["--mix", "tls=40,quic=20,http=5", "--size", "64"],
    "imix": ["--mix", "tls=40,quic=20,http=5", "--size", "imix"],
    "app": ["--mix", "tls=40,quic=20,dns=20,http=5,bulk=15", "--size", "imix"],
    "dns": ["--mix", "dns=100", "--size", "64"],
    "udp64": None,
}


def write_udp64(path, flows):
    """flows 64-byte frames (60 without the FCS), one UDP flow each, in a pcap."""
    import random
    import struct
    rng = random.Random(17)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(flows):
        src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
        sport = 1024 + (i >> 24)
        payload = bytes([0x40 | rng.randrange(64)]) + rng.randbytes(17)
        udp = struct.pack("!HHHH", sport, 443, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, src,
                         bytes([198, 18, 0, 1]))
        csum = sum(struct.unpack("!10H", ip))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = (csum & 0xFFFF) + (csum >> 16)
        ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
        ethernet = bytes.fromhex("020000000002" "020000000001" "0800")  # destination, source, IPv4
        frame = ethernet + ip + udp
        out.append(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_dir_tool(name, rel):
    path = os.path.join(ROOT, "build", rel)
    return path if os.path.exists(path) else shutil.which(name)


def generate(wt_gen, workdir, traffic, flows, smoke):
    """A capture of `flows` concurrent flows: they all start within the first second and live ~5 s.
    Laps repeat the same tuples, so from the second lap on the flows are established."""
    path = os.path.join(workdir, f"{traffic}-{flows}.pcap")
    if os.path.exists(path):
        return path
    if TRAFFIC[traffic] is None:
        write_udp64(path, flows)
        return path
    duration = "2" if smoke else "6"
    args = [wt_gen, "--flows", str(flows), "--new-flows-per-s", str(flows), "--total-flows", str(flows),
            "--duration", duration, "--seed", "17", "--quiet", "-o", path] + TRAFFIC[traffic]
    if flows >= 100000:
        args += ["--clients", str(flows // 16)]
    subprocess.run(args, check=True)
    return path


class Device:
    """A device under test between the two memif sockets."""

    def __init__(self, kind, workdir, to_sock, from_sock, workers=1, wiretally=None, max_flows=65536):
        self.kind = kind
        self.workdir = workdir
        self.to_sock = to_sock
        self.from_sock = from_sock
        self.workers = workers
        self.wiretally = wiretally
        self.max_flows = max_flows
        self.proc = None
        self.log_path = os.path.join(workdir, f"{kind}-w{workers}.log")
        self.socket = os.path.join(workdir, "wt.sock")

    def config(self):
        memory = 1024  # EAL memory holds the mbufs; the flow tables and pools are the process's own
        # The stats core on CPU 0 (beside the traffic tool, which polls there), the workers on CPU 1: on a
        # machine of two CPUs, two workers share it (the figures then say what sharing costs).
        cores = [0] + list(range(1, min(self.workers, os.cpu_count() - 1) + 1))
        return "\n".join([
            "# live_rig.py: wiretally inline between two memif ports",
            "[eal]",
            f"cores = {cores}",
            "hugepages = false",
            f"memory_mb = {memory}",
            "vdevs = [" + ", ".join(json.dumps(v) for v in [
                f"net_memif0,role=client,id=0,socket-abstract=no,socket={self.to_sock}",
                f"net_memif1,role=client,id=0,socket-abstract=no,socket={self.from_sock}"]) + "]",
            f'file_prefix = "wt-rig-{os.getpid()}"',
            "",
            "[run]",
            'mode = "inline"',
            f"workers = {self.workers}",
            "mbufs = 65535",
            "",
            "[[port]]", 'name = "in"', 'device = "net_memif0"', 'peer = "out"', "",
            "[[port]]", 'name = "out"', 'device = "net_memif1"', 'peer = "in"', "",
            "[flows]",
            f"max_flows = {self.max_flows}",
            "",
            "[stats]",
            'interval = "1s"',
            "",
            "[control]",
            f"socket = {json.dumps(self.socket)}",
            "",
            "[snapshot]",
            'file = ""',
            "",
            "[http]",
            'listen = ""',
            "",
        ])

    def start(self):
        logf = open(self.log_path, "w")
        if self.kind == "testpmd":
            # One forwarding core (lcore 1); the traffic tool polls on lcore 0.
            args = ["dpdk-testpmd", "-l", "0,1", "--no-huge", "--no-pci", "-m", "1024",
                    f"--file-prefix=wt-rig-pmd-{os.getpid()}",
                    f"--vdev=net_memif0,role=client,id=0,socket-abstract=no,socket={self.to_sock}",
                    f"--vdev=net_memif1,role=client,id=0,socket-abstract=no,socket={self.from_sock}",
                    "--", "--total-num-mbufs=16384", "--forward-mode=io", "--auto-start", "--nb-cores=1"]
        else:
            cfg = os.path.join(self.workdir, "wiretally.toml")
            with open(cfg, "w") as f:
                f.write(self.config())
            args = [self.wiretally, "run", "--config", cfg]
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        if self.kind != "testpmd":
            deadline = time.time() + 60
            while not os.path.exists(self.socket):
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"wiretally run did not start: see {self.log_path}")
                time.sleep(0.1)

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "\n".join(f.read().strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def ctl(self, *what):
        out = subprocess.run([self.wiretally, "ctl", "--socket", self.socket, "--json", *what],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            # ctl's own reason (its exit code alone said too little when this failed once in CI) and the daemon's
            raise RuntimeError(f"wiretally ctl {' '.join(what)} exited {out.returncode}: {out.stderr.strip()}\n"
                               f"daemon log (last lines):\n{self.log_tail()}")
        return json.loads(out.stdout)

    def stop(self):
        """Stops the device; for testpmd, returns its forwarding totals from the exit summary."""
        if self.proc is None:
            return {}
        if self.kind == "testpmd":
            self.proc.send_signal(signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self.kind != "testpmd":
            return {}
        totals = {}
        with open(self.log_path, errors="replace") as f:
            text = f.read()
        # The accumulated forward statistics of all ports, printed at exit.
        tail = text[text.rfind("Accumulated forward statistics for all ports"):]
        for line in tail.splitlines():
            parts = line.replace(":", " ").split()
            for key in ("RX-packets", "RX-dropped", "TX-packets", "TX-dropped"):
                if key in parts:
                    totals[key] = int(parts[parts.index(key) + 1])
        return totals


def run_traffic(tool, pcap, to_sock, from_sock, seconds=None, laps=None):
    args = [tool, "--pcap", pcap, "--to", to_sock, "--from", from_sock, "--lossless", "--lcore", "0"]
    args += ["--seconds", str(seconds)] if seconds else ["--laps", str(laps)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


def start_traffic(args, workdir, pcap, to_sock, from_sock, extra):
    """wt-traffic, lossless on CPU 0, once it is ready for the device under test to connect (a memif
    client turned away by a server not yet started does not try again)."""
    ready = os.path.join(workdir, "traffic.ready")
    for path in (to_sock, from_sock, ready):
        if os.path.exists(path):
            os.unlink(path)
    tool = subprocess.Popen([args.wt_traffic, "--pcap", pcap, "--to", to_sock, "--from", from_sock,
                             "--lossless", "--lcore", "0", "--ready-file", ready, "--hold"] + extra,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(ready):
        if tool.poll() is not None or time.time() > deadline:
            tool.kill()
            raise RuntimeError("wt-traffic did not get ready: " + tool.stderr.read())
        time.sleep(0.05)
    return tool


def traffic_summary(tool, timeout):
    """wt-traffic's JSON summary, printed once it has sent and drained; it then holds its ports (--hold) until
    release_traffic: the device is queried and stopped while its peer is still there."""
    deadline = time.time() + timeout
    fd = tool.stdout.fileno()  # read unbuffered: select() cannot see what a buffered reader already holds
    data = b""
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
            try:
                return json.loads(data.decode())
            except ValueError:
                continue
        elif tool.poll() is not None:
            break
    tool.kill()
    _, err = tool.communicate()
    raise RuntimeError(f"wt-traffic gave no summary (exit {tool.returncode}); its last lines:\n"
                       + "\n".join(err.strip().splitlines()[-5:]))


def release_traffic(tool, timeout=60):
    """Lets wt-traffic go (closes its stdin): returns its exit code and its stderr (the progress lines)."""
    if tool.stdin is not None:
        tool.stdin.close()
        tool.stdin = None
    _, err = tool.communicate(timeout=timeout)
    return tool.returncode, err


def worker_figures(stats_before, stats_after):
    """Per worker: packets received and busy cycles per packet between two `ctl stats`."""
    rows = []
    before = {w["worker"]: w for w in stats_before["workers"]}
    for w in stats_after["workers"]:
        b = before.get(w["worker"], {})
        pkts = w["rx_packets"] - b.get("rx_packets", 0)
        cycles = w["busy_cycles"] - b.get("busy_cycles", 0)
        rows.append({"worker": w["worker"], "packets": pkts,
                     "cycles_per_packet": cycles / pkts if pkts else None,
                     "tx_dropped": w["tx_dropped"] - b.get("tx_dropped", 0)})
    return rows


def median(values):
    v = sorted(x for x in values if x is not None)
    return v[len(v) // 2] if v else None


def measure(args, workdir, traffic, flows, pcap):
    """One case: testpmd and wiretally (at each worker count) take turns on the same capture, round
    after round; each device's figure is its median over the rounds (this VM's neighbours come and go,
    and taking turns gives each device the same share of them)."""
    devices = [("testpmd", 1)] + [("wiretally", w) for w in args.workers]
    rounds = {d: [] for d in devices}
    for r in range(args.rounds):
        for kind, workers in devices:
            rounds[(kind, workers)].append(measure_one(args, workdir, traffic, flows, pcap, kind, workers))
    results = []
    for (kind, workers), rows in rounds.items():
        row = dict(rows[0])
        row["rounds"] = [x["pps"] for x in rows]
        row["pps"] = median(row["rounds"])
        for key in ("sent", "received", "refused", "device_tx_dropped", "lost_on_the_way_out"):
            row[key] = sum(x.get(key) or 0 for x in rows)
        if kind == "wiretally":
            row["workers_detail"] = [
                {"worker": w["worker"], "cycles_per_packet": median(x["workers_detail"][i]["cycles_per_packet"]
                                                                    for x in rows if i < len(x["workers_detail"])),
                 "packets": sum(x["workers_detail"][i]["packets"] for x in rows if i < len(x["workers_detail"]))}
                for i, w in enumerate(rows[0]["workers_detail"])]
        results.append(row)
        log(f"  {traffic:>4} {flows:>8} flows  {kind:9} w{workers}: median {row['pps'] / 1e6:7.3f} Mpps of "
            + ", ".join(f"{x / 1e6:.3f}" for x in row["rounds"])
            + (f"; cycles/pkt per worker " + ", ".join(f"{w['cycles_per_packet']:.0f}" for w in row["workers_detail"]
                                                      if w["cycles_per_packet"]) if kind == "wiretally" else ""))
    ceiling = results[0]["pps"]
    for r in results[1:]:
        r["ratio_to_testpmd"] = r["pps"] / ceiling if ceiling else None
    return results


def measure_one(args, workdir, traffic, flows, pcap, kind, workers):
    to_sock = os.path.join(workdir, "to.sock")
    from_sock = os.path.join(workdir, "from.sock")
    # A million flows take a few seconds to create (the first lap): the measurement starts after it.
    warmup = args.warmup + (6.0 if flows >= 100000 else 0.0)
    dev = Device(kind, workdir, to_sock, from_sock, workers, args.wiretally,
                 max_flows=max(65536, flows * 2 // workers))
    # wt-traffic creates the sockets (server); the device connects once they exist.
    tool = start_traffic(args, workdir, pcap, to_sock, from_sock,
                         ["--seconds", str(args.seconds + warmup + 3), "--queues", str(workers), "--progress", "0.5"])
    dev.start()
    row = {"traffic": traffic, "flows": flows, "device": kind, "workers": workers}
    try:
        if kind == "wiretally":
            # Established flows: the figures cover the laps after the warm-up.
            # The workers publish their counters once per stats interval (1 s): the window spans
            # whole intervals, and its rate is the packets the workers received over its length.
            time.sleep(warmup + 1.0)
            s0 = dev.ctl("stats")
            time.sleep(args.seconds)
            s1 = dev.ctl("stats")
            row["workers_detail"] = worker_figures(s0, s1)
            row["flows_active"] = s1["flows"]["active"]
            row["flows_evicted"] = s1["flows"].get("evicted")
        sent = traffic_summary(tool, timeout=args.seconds + warmup + 120)
        if kind == "wiretally":
            s2 = dev.ctl("stats")
            row["device_tx_dropped"] = s2.get("tx_dropped", 0)
        totals = dev.stop()
        rc, err = release_traffic(tool)
        if rc != 0:
            raise RuntimeError(f"wt-traffic exited {rc} ({kind} w{workers}); its last lines:\n"
                               + "\n".join(err.strip().splitlines()[-5:]) + f"\n{kind}'s last lines:\n"
                               + dev.log_tail())
        # The rate over the measured window (after the warm-up), for every device alike.
        marks = [json.loads(line) for line in err.splitlines() if line.startswith('{"seconds"')]
        start = next((m["seconds"] for m in marks if m["seconds"] >= warmup and m["laps"] >= 1), None)
        window = [m for m in marks if start is not None and start <= m["seconds"] <= start + args.seconds + 0.25]
        if len(window) < 2:
            raise RuntimeError("wt-traffic reported too little progress after its first lap to measure a rate")
        row["pps"] = (window[-1]["sent"] - window[0]["sent"]) / (window[-1]["seconds"] - window[0]["seconds"])
    finally:
        if dev.proc is not None:  # an exception before the stop above
            totals = dev.stop()
        if tool.poll() is None:
            release_traffic(tool)
    row["sent_pps"] = sent["send_pps"]
    row["sent"] = sent["sent_packets"]
    row["received"] = sent["received_packets"]
    row["refused"] = sent["refused"]
    if kind == "testpmd":
        row["device_tx_dropped"] = totals.get("TX-dropped")
    row["lost_on_the_way_out"] = sent["sent_packets"] - sent["received_packets"]
    return row


def services_of(report_services):
    return {s["service"]: (s["bytes_up"], s["bytes_down"], s["pkts_up"], s["pkts_down"]) for s in report_services}


def truth(args, workdir, pcap, laps):
    """A lossless `laps` of the capture through wiretally: its services equal laps x analyze's."""
    expected = json.loads(subprocess.run([args.wiretally, "analyze", pcap, "--format", "json"], check=True,
                                         capture_output=True, text=True).stdout)
    want = {k: tuple(laps * x for x in v) for k, v in services_of(expected["services"]).items()}
    to_sock = os.path.join(workdir, "to.sock")
    from_sock = os.path.join(workdir, "from.sock")
    dev = Device("wiretally", workdir, to_sock, from_sock, 1, args.wiretally)
    tool = start_traffic(args, workdir, pcap, to_sock, from_sock, ["--laps", str(laps)])
    dev.start()
    try:
        sent = traffic_summary(tool, timeout=300)
        # A flow still being named is tallied after its grace (3 s); the stats interval is 1 s.
        time.sleep(5.0)
        got = services_of(dev.ctl("services")["services"])
        stats = dev.ctl("stats")
        dev.stop()
        rc, err = release_traffic(tool)
        if rc != 0:
            raise RuntimeError(f"wt-traffic exited {rc}: {err.strip()}")
    finally:
        dev.stop()
        if tool.poll() is None:
            release_traffic(tool)
    mismatches = []
    for name in sorted(set(want) | set(got), key=lambda n: (n is None, n or "")):
        if want.get(name, (0, 0, 0, 0)) != got.get(name, (0, 0, 0, 0)):
            mismatches.append({"service": name, "source": want.get(name), "wiretally": got.get(name)})
    # The workers' count: memif's port counters start again at zero when its peer goes.
    rx = sum(w["rx_packets"] for w in stats["workers"])
    return {"laps": laps, "sent_packets": sent["sent_packets"], "received_back": sent["received_packets"],
            "wiretally_rx": rx, "services": len(want), "mismatches": mismatches}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wiretally", default=build_dir_tool("wiretally", "app/wiretally"))
    ap.add_argument("--wt-traffic", default=build_dir_tool("wt-traffic", "benches/live/wt-traffic"))
    ap.add_argument("--wt-gen", default=build_dir_tool("wt-gen", "benches/generator/wt-gen"))
    ap.add_argument("--smoke", action="store_true", help="the CI form: 1k flows, app traffic, 1 worker, the truth check")
    ap.add_argument("--seconds", type=float, default=6.0, help="measured seconds per case")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds before the measurement (first laps)")
    ap.add_argument("--cases", default="64:1000,imix:1000,app:1000,udp64:1000,udp64:1000000",
                    help="TRAFFIC:FLOWS,... (traffic: " + ", ".join(TRAFFIC) + ")")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--truth-laps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="turns each device takes per case (median)")
    ap.add_argument("--json-out")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (captures, logs)")
    args = ap.parse_args()
    for tool in ("wiretally", "wt_traffic", "wt_gen"):
        if not getattr(args, tool):
            ap.error(f"--{tool.replace('_', '-')} not found: build first (ninja -C build)")
    if not shutil.which("dpdk-testpmd"):
        ap.error("dpdk-testpmd not found: apt-get install dpdk (scripts/setup.sh installs it)")
    if args.smoke:
        args.cases, args.workers, args.seconds, args.warmup, args.rounds = "app:1000", "1", 3.0, 1.0, 1
    args.workers = [int(w) for w in args.workers.split(",")]
    workdir = tempfile.mkdtemp(prefix="wt-live-rig-")
    report = {"machine": {"cpus": os.cpu_count()}, "cases": [], "truth": []}
    failed = False
    try:
        app = generate(args.wt_gen, workdir, "app", 1000, args.smoke)
        for laps in ([1] if args.smoke else [1, args.truth_laps]):
            t = truth(args, workdir, app, laps)
            report["truth"].append(t)
            ok = not t["mismatches"] and t["wiretally_rx"] == t["sent_packets"]
            failed |= not ok
            log(f"truth, {laps} lap(s): sent {t['sent_packets']}, wiretally received {t['wiretally_rx']}, "
                f"{t['services']} services, {len(t['mismatches'])} differ from the source" + ("" if ok else "  FAIL"))
            for m in t["mismatches"][:10]:
                log(f"    {m['service']}: source {m['source']} wiretally {m['wiretally']}")
        for case in args.cases.split(","):
            traffic, flows = case.split(":")
            if traffic not in TRAFFIC:
                ap.error(f"--cases: unknown traffic {traffic!r} (known: {', '.join(TRAFFIC)})")
            pcap = generate(args.wt_gen, workdir, traffic, int(flows), args.smoke)
            report["cases"] += measure(args, workdir, traffic, int(flows), pcap)
    finally:
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(report, f, indent=1)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
