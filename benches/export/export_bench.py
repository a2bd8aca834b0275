#!/usr/bin/env python3
"""What exporting to ClickHouse costs the appliance (issue #19).

`wiretally run` in tap mode with one worker reads a capture through net_pcap over and over
(infinite_rx); every lap opens the capture's flows again, so that flows end at the rate they begin.
Two cases:
- 1M: a wt-gen capture (TLS and bulk flows of about 160 packets, imix) whose replay on this machine
  begins about a million flows a minute, the rate the issue asks the export to keep up with;
- sample: the bundled phone-app sample (about 30 packets a flow): several million flows a minute, more
  than the stats core drains from the workers' flow-record rings (the loss is counted, with and without
  export), which shows where the export's own ceiling is.
Each round runs the same appliance three times, taking turns: without export; exporting to a local
clickhouse-server; exporting to a local HTTP server that reads each batch and throws it away ("discard":
the store on another machine, as in a real fleet, where the appliance pays only for its own side). It
measures over the same span of each run:

- the worker's packet rate and TSC cycles per packet (ctl stats: rx_packets, busy_cycles),
- flows begun and flow records lost on the way to the stats core (flow_records_dropped),
- with export: rows sent per second (flow rows and interval rows), and whether the export kept up: no
  row dropped, the spool empty, the in-memory queue short.

It prints the medians and the ratios with/without (the packet-rate penalty). The worker runs on CPU 1;
the stats core, the export's thread, clickhouse-server and the discarding server on CPU 0. On a VM whose two
vCPUs may share a physical core, work on CPU 0 slows CPU 1 too: the clickhouse case includes the store's own
inserting, the discard case only the appliance's. A benchmark on a shared VM: figures, not verdicts; it fails only when a run breaks (a daemon
that does not start, an export that sent nothing).

Usage: export_bench.py --wiretally BIN --wt-gen BIN [--cases 1M,sample] [--seconds S] [--rounds N] [--smoke]
                       [--json-out F]
Root (DPDK's runtime directory).
"""
import argparse
import http.server
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "app", "live"))
import livelib as L  # noqa: E402
from clickhouse_cluster import ClickHouseServer, server_command  # noqa: E402

SAMPLE = os.path.join(ROOT, "tests", "data", "sample", "capture.pcap")


class DiscardStore:
    """An HTTP server that answers like ClickHouse (SELECT version(), INSERT) and keeps nothing: the store on
    another machine. Its thread is pinned to CPU 0 with the rest of the non-worker work."""

    def __init__(self):
        rows = self.rows = [0]

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self._answer(b"18.16.1\n")

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                left = length
                while left > 0:
                    chunk = self.rfile.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    rows[0] += chunk.count(b"\n")
                    left -= len(chunk)
                self._answer(b"")

            def _answer(self, body):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        def serve():
            os.sched_setaffinity(0, {0})  # this thread (and the request threads it starts) on CPU 0
            self.server.serve_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


def worker(stats):
    w = (stats or {}).get("workers") or [{}]
    return w[0]


def sample(daemon):
    s = daemon.stats(timeout=10) or {}
    w = worker(s)
    ch = s.get("clickhouse") or {}
    return {
        "t": time.monotonic(),
        "rx": int(w.get("rx_packets", 0)),
        "busy": int(w.get("busy_cycles", 0)),
        "created": int((s.get("flows") or {}).get("created", 0)),
        "ended": int((s.get("flows") or {}).get("ended", 0)),
        "ring_dropped": int(w.get("flow_records_dropped", 0)),
        "rows_sent": int(ch.get("rows_sent", 0)),
        "rows_dropped": int(ch.get("rows_dropped", 0)),
        "spool_rows": int(ch.get("spool_rows", 0)),
        "queued": int(ch.get("queued_batches", 0)),
    }


def run_once(binary, capture, packets, seconds, warmup, export_url, tag):
    work = L.make_workdir(f"xb-{tag}")
    d = L.Daemon(binary, work, f"wtxb{tag}{L.unique_suffix()}")
    extra = '\n[fleet]\nappliance = "bench"\n'
    if export_url:
        extra += (f'\n[clickhouse]\nurl = "{export_url}"\nbatch_rows = 50000\nbatch_interval = "1s"\n'
                  f'interval = "10s"\nspool = "{work}/spool"\nspool_max_mb = 512\n')
    d.write_config(L.config_text(prefix=d.prefix, vdevs=[f"net_pcap0,rx_pcap={capture},infinite_rx=1"],
                                 ports=[("cap", "net_pcap0", None)], socket=d.sock, stats_interval="1s",
                                 max_flows=262144, memory_mb=1024, mbufs=max(8192, packets + 4096),
                                 flows_extra={"closed_linger": "1s", "udp_idle": "5s", "tcp_idle": "10s"},
                                 extra=extra))
    d.start(timeout=60)
    time.sleep(warmup)
    a = sample(d)
    time.sleep(seconds)
    b = sample(d)
    rc = d.stop(grace=60)
    dt = b["t"] - a["t"]
    rx = b["rx"] - a["rx"]
    out = {
        "export": bool(export_url),
        "pps": rx / dt,
        "cycles_per_packet": (b["busy"] - a["busy"]) / rx if rx else None,
        "flows_per_min": (b["created"] - a["created"]) / dt * 60,
        "ended_per_min": (b["ended"] - a["ended"]) / dt * 60,
        "ring_dropped": b["ring_dropped"] - a["ring_dropped"],
        "rows_per_s": (b["rows_sent"] - a["rows_sent"]) / dt,
        "rows_dropped": b["rows_dropped"],
        "spool_rows": b["spool_rows"],
        "queued": b["queued"],
        "exit": rc,
        "log": d.log_tail(3),
    }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wiretally", required=True)
    ap.add_argument("--wt-gen", required=True)
    ap.add_argument("--cases", default="1M,sample")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=15, help="seconds before measuring: flows begin ending")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="the 1M case, one round of 5 s each way")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    L.require_root("the export benchmark")
    if args.smoke:
        args.seconds, args.warmup, args.rounds, args.cases = 5, 3, 1, "1M"
    binary = os.path.abspath(args.wiretally)
    discard = DiscardStore()
    L.on_cleanup(discard.stop)

    work = L.make_workdir("xb-store")
    store = ClickHouseServer(os.path.join(work, "ch"), command=["taskset", "-c", "0"] + server_command())
    L.on_cleanup(store.stop)
    store.start()
    schema = L.run([binary, "schema"], timeout=10).stdout
    for statement in [s for s in schema.split(";\n") if s.strip()]:
        store.query(statement)

    generated = os.path.join(work, "1m.pcap")
    gen = L.run([os.path.abspath(args.wt_gen), "-o", generated, "--flows", "300", "--new-flows-per-s", "12",
                 "--mix", "tls=60,bulk=40", "--size", "imix", "--duration", "40", "--seed", "19", "-q"], timeout=300)
    if gen.returncode != 0:
        print(f"FAIL: wt-gen: {gen.stderr}")
        return 1
    captures = {"1M": generated, "sample": SAMPLE}
    summaries = {}
    for case in args.cases.split(","):
        capture = captures[case]
        packets = len(L.Pcap(capture).records)  # net_pcap's infinite_rx holds the whole capture in mbufs
        runs = []
        print(f"case {case}: {os.path.basename(capture)}, {packets} packets a lap", flush=True)
        modes = {"off": "", "clickhouse": store.url, "discard": discard.url}
        for r in range(args.rounds):
            for mode, url in modes.items():
                res = run_once(binary, capture, packets, args.seconds, args.warmup, url, f"{case}{r}{mode}")
                res["mode"] = mode
                export = bool(url)
                runs.append(res)
                print(f"  round {r + 1} {mode:<10}: {res['pps'] / 1e3:8.1f} kpps "
                      f"{res['cycles_per_packet'] or 0:5.0f} cycles/pkt {res['flows_per_min'] / 1e6:5.2f} M flows/min "
                      f"ring drops {res['ring_dropped']}"
                      + (f", {res['rows_per_s'] / 1e3:6.1f} k rows/s ({res['rows_per_s'] * 60 / 1e6:5.2f} M/min), "
                         f"dropped {res['rows_dropped']}, spool {res['spool_rows']}, queued {res['queued']}"
                         if export else ""), flush=True)
                if res["exit"] != 0:
                    print(f"FAIL: the appliance exited {res['exit']}:\n{res['log']}")
                    return 1

        def med(key, mode, runs=runs):
            values = [x[key] for x in runs if x["mode"] == mode and x[key] is not None]
            return statistics.median(values) if values else 0

        off_pps = med("pps", "off")
        summary = {"rounds": args.rounds, "seconds": args.seconds, "packets_a_lap": packets, "pps_off": off_pps,
                   "cycles_off": med("cycles_per_packet", "off"),
                   "ring_dropped_off": max(x["ring_dropped"] for x in runs if x["mode"] == "off"), "runs": runs}
        print(f"case {case}: medians over {args.rounds} round(s) of {args.seconds:.0f} s; without export "
              f"{off_pps / 1e3:.1f} kpps, {summary['cycles_off']:.0f} cycles/packet, flow records lost before the stats "
              f"core {summary['ring_dropped_off']}")
        for mode in ("clickhouse", "discard"):
            on_pps = med("pps", mode)
            m = {"pps": on_pps, "pps_ratio": on_pps / off_pps if off_pps else None,
                 "cycles": med("cycles_per_packet", mode), "flows_per_min": med("flows_per_min", mode),
                 "ended_per_min": med("ended_per_min", mode), "rows_per_s": med("rows_per_s", mode),
                 "rows_dropped": max(x["rows_dropped"] for x in runs if x["mode"] == mode),
                 "ring_dropped": max(x["ring_dropped"] for x in runs if x["mode"] == mode)}
            summary[mode] = m
            print(f"  export to {mode:<10}: {on_pps / 1e3:8.1f} kpps, ratio {m['pps_ratio']:.3f} (penalty "
                  f"{100 * (1 - m['pps_ratio']):.1f} %), {m['cycles']:.0f} cycles/packet; flows begun "
                  f"{m['flows_per_min'] / 1e6:.2f} M/min, ended {m['ended_per_min'] / 1e6:.2f} M/min; rows sent "
                  f"{m['rows_per_s'] / 1e3:.1f} k/s ({m['rows_per_s'] * 60 / 1e6:.2f} M/min); rows dropped "
                  f"{m['rows_dropped']}; flow records lost before the stats core {m['ring_dropped']}", flush=True)
        summaries[case] = summary
    stored = int(store.query("SELECT count() FROM wiretally.flows").strip())
    print(f"flow rows in the store: {stored}")
    summaries["flow_rows_stored"] = stored
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summaries, f, indent=2)
    print(f"rows the discarding store read: {discard.rows[0]}")
    if stored == 0 or discard.rows[0] == 0 or any(s[m]["rows_per_s"] <= 0 for s in summaries.values()
                                                   if isinstance(s, dict) for m in ("clickhouse", "discard")):
        print("FAIL: the export sent nothing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
