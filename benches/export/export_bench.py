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
Each round runs the same appliance twice, without export and with [clickhouse] pointing at a local
clickhouse-server, taking turns (off, on, off, on, ...), and measures over the same span of each run:

- the worker's packet rate and TSC cycles per packet (ctl stats: rx_packets, busy_cycles),
- flows begun and flow records lost on the way to the stats core (flow_records_dropped),
- with export: rows sent per second (flow rows and interval rows), and whether the export kept up: no
  row dropped, the spool empty, the in-memory queue short.

It prints the medians and the ratio with/without (the packet-rate penalty). The worker runs on CPU 1;
the stats core, the export's thread and clickhouse-server (standing in for a store on another machine)
on CPU 0. A benchmark on a shared VM: figures, not verdicts; it fails only when a run breaks (a daemon
that does not start, an export that sent nothing).

Usage: export_bench.py --wiretally BIN --wt-gen BIN [--cases 1M,sample] [--seconds S] [--rounds N] [--smoke]
                       [--json-out F]
Root (DPDK's runtime directory).
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "app", "live"))
import livelib as L  # noqa: E402
from clickhouse_cluster import ClickHouseServer, server_command  # noqa: E402

SAMPLE = os.path.join(ROOT, "tests", "data", "sample", "capture.pcap")


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
        for r in range(args.rounds):
            for export in (False, True):
                res = run_once(binary, capture, packets, args.seconds, args.warmup, store.url if export else "",
                               f"{case}{r}{'on' if export else 'off'}")
                runs.append(res)
                print(f"  round {r + 1} export {'on ' if export else 'off'}: {res['pps'] / 1e3:8.1f} kpps "
                      f"{res['cycles_per_packet'] or 0:5.0f} cycles/pkt {res['flows_per_min'] / 1e6:5.2f} M flows/min "
                      f"ring drops {res['ring_dropped']}"
                      + (f", {res['rows_per_s'] / 1e3:6.1f} k rows/s ({res['rows_per_s'] * 60 / 1e6:5.2f} M/min), "
                         f"dropped {res['rows_dropped']}, spool {res['spool_rows']}, queued {res['queued']}"
                         if export else ""), flush=True)
                if res["exit"] != 0:
                    print(f"FAIL: the appliance exited {res['exit']}:\n{res['log']}")
                    return 1

        def med(key, export, runs=runs):
            values = [x[key] for x in runs if x["export"] == export and x[key] is not None]
            return statistics.median(values) if values else 0

        off_pps, on_pps = med("pps", False), med("pps", True)
        summary = {
            "rounds": args.rounds, "seconds": args.seconds, "packets_a_lap": packets,
            "pps_off": off_pps, "pps_on": on_pps, "pps_ratio": on_pps / off_pps if off_pps else None,
            "cycles_off": med("cycles_per_packet", False), "cycles_on": med("cycles_per_packet", True),
            "flows_per_min_on": med("flows_per_min", True), "ended_per_min_on": med("ended_per_min", True),
            "rows_per_s": med("rows_per_s", True),
            "rows_dropped": max(x["rows_dropped"] for x in runs if x["export"]),
            "ring_dropped_on": max(x["ring_dropped"] for x in runs if x["export"]),
            "ring_dropped_off": max(x["ring_dropped"] for x in runs if not x["export"]),
            "runs": runs,
        }
        summaries[case] = summary
        print(f"case {case}: medians over {args.rounds} round(s) of {args.seconds:.0f} s:")
        print(f"  packet rate   without export {off_pps / 1e3:8.1f} kpps  with export {on_pps / 1e3:8.1f} kpps  "
              f"ratio {summary['pps_ratio']:.3f} (penalty {100 * (1 - summary['pps_ratio']):.1f} %)")
        print(f"  cycles/packet without export {summary['cycles_off']:8.0f}       with export {summary['cycles_on']:8.0f}")
        print(f"  flows begun with export {summary['flows_per_min_on'] / 1e6:5.2f} M/min, ended "
              f"{summary['ended_per_min_on'] / 1e6:5.2f} M/min; rows sent "
              f"{summary['rows_per_s'] / 1e3:.1f} k/s ({summary['rows_per_s'] * 60 / 1e6:.2f} M/min); rows dropped "
              f"{summary['rows_dropped']}; flow records lost before the stats core: {summary['ring_dropped_on']} with "
              f"export, {summary['ring_dropped_off']} without", flush=True)
    stored = int(store.query("SELECT count() FROM wiretally.flows").strip())
    print(f"flow rows in the store: {stored}")
    summaries["flow_rows_stored"] = stored
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summaries, f, indent=2)
    if stored == 0 or any(s["rows_per_s"] <= 0 for k, s in summaries.items() if isinstance(s, dict)):
        print("FAIL: the export sent nothing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
