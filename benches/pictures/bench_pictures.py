#!/usr/bin/env python3
"""Issue #16's speed figures (benches/RESULTS.md): what the pictures cost.

Offline: `analyze --format html` against `--format json` on one generated capture (300 MB by default),
run alternately (json, html, json, html, ...) so that both see the same machine; medians, their ratio, and
the page's size. Live (--live, root): `wiretally run` replays a generated capture of 100k DNS flows from a
net_pcap port (all of them live at once) with its dashboard on a free port; /api/report is asked N times,
--interval s apart (0.5 by default; the page asks every 3), and the answer times (median, p90) are printed with the worker's packet rate before and during.

  bench_pictures.py --wiretally BIN --wt-gen BIN [--capture FILE] [--runs 5] [--live] [--smoke]

--smoke: a 20 MB capture, one run each, no live part: checks the script and prints its figures (meson's
bench suite). Exit 0, or 1 when a run fails.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return elapsed


def offline(args, work):
    capture = args.capture
    if capture is None:
        capture = os.path.join(work, "gen.pcap")
        size = "20M" if args.smoke else "300M"
        subprocess.run([args.wt_gen, "--flows", "10000", "--new-flows-per-s", "2000", "--bytes", size, "--seed", "1",
                        "-q", "-o", capture], check=True)
    page = os.path.join(work, "report.html")
    base = [args.wiretally, "analyze", capture, "--no-ipdb"]
    times = {"json": [], "html": []}
    for _ in range(1 if args.smoke else args.runs):
        times["json"].append(timed(base + ["--format", "json", "-o", os.path.join(work, "report.json")]))
        times["html"].append(timed(base + ["--format", "html", "-o", page]))
    json_s = statistics.median(times["json"])
    html_s = statistics.median(times["html"])
    print(f"capture: {os.path.getsize(capture) / 1e6:.0f} MB ({capture})")
    print(f"analyze --format json: median {json_s:.3f} s of {len(times['json'])} ({', '.join(f'{t:.3f}' for t in times['json'])})")
    print(f"analyze --format html: median {html_s:.3f} s of {len(times['html'])} ({', '.join(f'{t:.3f}' for t in times['html'])})")
    print(f"html / json: {html_s / json_s:.3f}; page: {os.path.getsize(page) / 1e6:.2f} MB")


def live(args, work):
    if os.geteuid() != 0:
        print("live: skipped (not root; the live appliance's figures are taken as root)")
        return
    capture = os.path.join(work, "dns100k.pcap")
    subprocess.run([args.wt_gen, "--flows", "100000", "--new-flows-per-s", "1000000", "--total-flows", "100000",
                    "--mix", "dns=100", "--size", "64", "--seed", "3", "-q", "-o", capture], check=True)
    sock = os.path.join(work, "wt.sock")
    config = os.path.join(work, "wt.toml")
    # The live tests' configuration (tests/app/live/livelib.py), with room for the whole capture in mbufs
    # (net_pcap's infinite_rx keeps it in memory) and the dashboard on a free port.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "app", "live"))
    import livelib
    text = livelib.config_text(prefix=f"wtbenchpic{os.getpid()}",
                               vdevs=[f"net_pcap0,rx_pcap={capture},infinite_rx=1", "net_null0,no-rx=1"],
                               ports=[("in", "net_pcap0", "out"), ("out", "net_null0", "in")], socket=sock,
                               mode="inline", max_flows=262144, memory_mb=4096, stats_interval="1s",
                               http_listen="127.0.0.1:0")
    with open(config, "w") as f:
        f.write(text.replace("workers = 1", "workers = 1\nmbufs = 262143"))
    log_path = os.path.join(work, "run.log")
    with open(log_path, "w") as log:
        daemon = subprocess.Popen([args.wiretally, "run", "--config", config], stdout=log, stderr=log)
    try:
        url = None
        for _ in range(300):
            time.sleep(0.1)
            m = re.search(r"dashboard (http://\S+?/)[,\s]", open(log_path).read())
            if m:
                url = m.group(1)
                break
            if daemon.poll() is not None:
                raise RuntimeError("wiretally run exited: " + open(log_path).read()[-800:])
        if url is None:
            raise RuntimeError("no dashboard address in the log")

        def stats():
            out = subprocess.run([args.wiretally, "ctl", "--socket", sock, "--json", "stats"], capture_output=True,
                                 text=True, check=True).stdout
            d = json.loads(out)
            return d["flows"]["active"], sum(w["pps"] for w in d["workers"]) / 1e6

        for _ in range(60):  # every flow of the capture live
            time.sleep(0.5)
            if stats()[0] >= 100000:
                break
        time.sleep(2)
        # The worker's rate is the last stats interval's: sampled once a second, medians of each phase.
        before_samples = []
        for _ in range(args.requests // 2):
            flows, pps = stats()
            before_samples.append(pps)
            time.sleep(1)
        answers = []
        during_samples = []
        size = 0
        for i in range(args.requests):
            start = time.perf_counter()
            with urllib.request.urlopen(url + "api/report", timeout=30) as r:
                size = len(r.read())
            answers.append((time.perf_counter() - start) * 1000)
            time.sleep(args.interval)
            if i % max(1, round(1 / args.interval)) == 0:
                during_samples.append(stats()[1])
        before = statistics.median(before_samples)
        during = statistics.median(during_samples)
        answers.sort()
        print(f"live: {flows} flows, worker {before:.2f} Mpps before, {during:.2f} Mpps while the dashboard polls "
              f"(medians of {len(before_samples)} and {len(during_samples)} one-second samples)")
        print(f"/api/report: median {statistics.median(answers):.1f} ms, p90 {answers[int(len(answers) * 0.9)]:.1f} ms, "
              f"min {answers[0]:.1f}, max {answers[-1]:.1f} ({len(answers)} requests, {size / 1e6:.2f} MB each)")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wiretally", required=True)
    p.add_argument("--wt-gen", required=True)
    p.add_argument("--capture", help="a capture to time (default: one generated, 300 MB)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.5,
                   help="seconds between /api/report requests (the page asks every 3)")
    p.add_argument("--live", action="store_true")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="wt-bench-pictures-")
    try:
        offline(args, work)
        if args.live and not args.smoke:
            live(args, work)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"bench_pictures: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
