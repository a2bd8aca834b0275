#!/usr/bin/env python3
"""SIGTERM while traffic never stops: the appliance drains, writes its snapshot and exits 0 in bounded time.

    sigterm_drain_test.py WIRETALLY [--capture PCAP] [--grace SECONDS]

A busy mirror port never goes quiet. Here `net_pcap0,rx_pcap=CAPTURE,infinite_rx=1` replays the capture forever
(tap mode; and inline towards `net_null0,no-rx=1`; one worker); SIGTERM must end the process with exit 0 within
--grace seconds (default 15) and leave a valid snapshot. While the daemon is still stopping after 2 s, `ctl stats`
is tried too (reported with a failure, to show whether the control socket still answers). A daemon still running
after the grace period is killed and reported. (Written after the drain waited for 2000 empty polls in a row, which
endless traffic never gives: SIGTERM then hung with the control socket dead and no snapshot.)

Exit: 0 pass, 1 fail, 77 not root.
"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAPTURE = os.path.normpath(os.path.join(HERE, "..", "..", "data", "sample", "capture.pcap"))


def one(rep, binary, work, capture, mode, grace):
    tag = mode
    prefix = f"wtl-term-{L.unique_suffix()}-{tag}"
    d = L.Daemon(binary, work, prefix, name=tag)
    vdevs = [f"net_pcap0,rx_pcap={capture},infinite_rx=1"]
    ports = [("mirror", "net_pcap0", None)]
    if mode == "inline":  # forwards to a sink that never receives (net_null with no-rx)
        vdevs.append("net_null0,no-rx=1")
        ports = [("feed", "net_pcap0", "sink"), ("sink", "net_null0", "feed")]
    d.write_config(L.config_text(prefix=prefix, vdevs=vdevs, ports=ports, socket=d.sock, mode=mode,
                                 workers=1, snapshot=d.snapshot, memory_mb=256))
    try:
        d.start()
    except L.DaemonError as e:
        rep.check(f"{tag}: appliance started", False, str(e))
        d.cleanup()
        return
    rate = L.rx_rate(d, 1.0)
    rep.check(f"{tag}: endless traffic flows ({(rate or 0) / 1e6:.2f}M pps, {len(ports)} port(s))",
              rate is not None and rate > 1000)
    t0 = L.now()
    d.proc.send_signal(signal.SIGTERM)
    rc, rc_ctl, ctl_s, text = None, None, 0.0, "(not tried: the daemon had exited)"
    while L.now() - t0 < grace:
        rc = d.proc.poll()
        if rc is not None:
            break
        if rc_ctl is None and L.now() - t0 > 2.0:
            # Still stopping after 2 s: is the control socket still served (or at least refusing)?
            c0 = L.now()
            rc_ctl, _, text = d.ctl("stats", timeout=4)
            ctl_s = L.now() - c0
        time.sleep(0.02)
    took = L.now() - t0
    state = ""
    if rc is None:
        try:
            with open(f"/proc/{d.pid}/status") as f:
                state = next((ln.strip() for ln in f if ln.startswith("State:")), "")
        except OSError:
            pass
    rep.check(f"{tag}: SIGTERM under endless traffic -> exit 0 within {grace:.0f} s "
              f"({'exit ' + str(rc) if rc is not None else 'still running: ' + state} after {took:.1f} s)",
              rc == 0, f"ctl stats while stopping: rc {rc_ctl} after {ctl_s:.1f} s ({text.strip()[:120]}); "
              f"log:\n{d.log_tail(6)}")
    valid = False
    if rc is not None and os.path.exists(d.snapshot):
        try:
            with open(d.snapshot) as f:
                valid = json.load(f).get("format") == "wiretally-snapshot"
        except (OSError, ValueError):
            valid = False
    rep.check(f"{tag}: snapshot written at exit", valid, d.snapshot)
    d.stop(signal.SIGKILL, grace=10)
    d.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    ap.add_argument("--capture", default=DEFAULT_CAPTURE)
    ap.add_argument("--grace", type=float, default=15.0)
    args = ap.parse_args()
    L.require_root("the SIGTERM drain test")
    rep = L.Report("sigterm_drain_test")
    work = L.make_workdir("term")
    started = L.now()
    for mode in ("tap", "inline"):
        one(rep, os.path.abspath(args.wiretally), work, os.path.abspath(args.capture), mode, args.grace)
    print(f"(elapsed {L.now() - started:.1f} s)")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
