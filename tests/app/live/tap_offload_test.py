#!/usr/bin/env python3
"""Tap mode on a laptop-like set-up: every byte of a download is counted, with the interfaces' default offloads.

    tap_offload_test.py WIRETALLY

Two network namespaces joined by veth pairs and a bridge (the client's and the server's), every veth with the
offloads Linux gives it (checksum, TSO, GSO, GRO: as a user has them). `wiretally run` in tap mode watches the
server's bridge port through net_af_packet, next to a tcpdump on the same port. A client downloads a
1,000,000-byte file over HTTP. The flow's bytes down, in `ctl flows`, must be at least the body and at most the
IP bytes tcpdump saw of that flow (they see the same super-frames: the two must agree exactly), the download
must show in `ctl flows` while it runs, and nothing may be counted as a parse error.

Exit: 0 pass, 1 fail, 77 not root.
"""
import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib as L  # noqa: E402

BODY = 1_000_000
CLIENT, SERVER, PORT = "10.78.0.2", "10.78.0.1", 8080


def ip_bytes_down(pcap_path):
    """IP bytes (each IPv4 header's total length) from the server's port to the client, and the frames."""
    total = frames = 0
    pcap = L.Pcap(pcap_path)
    for _ts, frame in pcap.records:
        if len(frame) < 38 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        src = ".".join(str(b) for b in frame[26:30])
        sport = struct.unpack_from("!H", frame, 14 + (frame[14] & 15) * 4)[0]
        if src == SERVER and sport == PORT:
            total += struct.unpack_from("!H", frame, 16)[0]
            frames += 1
    return total, frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    args = ap.parse_args()
    L.require_root("the tap offload test")
    rep = L.Report("tap_offload_test")
    work = L.make_workdir("tapoff")
    sfx = L.unique_suffix()[-6:]
    nc, ns, br, hc, hs = f"wtto-{sfx}-c", f"wtto-{sfx}-s", f"wtbr{sfx}", f"wthc{sfx}", f"wths{sfx}"

    def sh(*cmd, check=True):
        p = L.run(list(cmd), timeout=20)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
        return p

    def cleanup():
        for n in (nc, ns):
            L.run(["ip", "netns", "del", n], timeout=10)
        L.run(["ip", "link", "del", br], timeout=10)
    L.on_cleanup(cleanup)

    sh("ip", "netns", "add", nc)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", br, "type", "bridge")
    sh("ip", "link", "add", hc, "type", "veth", "peer", "name", "c0", "netns", nc)
    sh("ip", "link", "add", hs, "type", "veth", "peer", "name", "s0", "netns", ns)
    for dev in (hc, hs):
        sh("ip", "link", "set", dev, "master", br)
        sh("ip", "link", "set", dev, "up")
    sh("ip", "link", "set", br, "up")
    for n, dev, addr in ((nc, "c0", CLIENT), (ns, "s0", SERVER)):
        sh("ip", "-n", n, "addr", "add", f"{addr}/24", "dev", dev)
        sh("ip", "-n", n, "link", "set", dev, "up")
        sh("ip", "-n", n, "link", "set", "lo", "up")
    www = os.path.join(work, "www")
    os.makedirs(www)
    with open(os.path.join(www, "body.bin"), "wb") as f:
        f.write(os.urandom(BODY))
    server = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "http.server", str(PORT), "--bind",
                               SERVER, "--directory", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    L.on_cleanup(lambda: server.kill())

    prefix = f"wt-tapoff-{sfx}"
    daemon = L.Daemon(args.wiretally, work, prefix)
    daemon.write_config(L.config_text(prefix=prefix, vdevs=[f"net_af_packet0,iface={hs}"],
                                      ports=[("server-port", "net_af_packet0", None)], socket=daemon.sock,
                                      flows_extra={"closed_linger": "1s"}))
    daemon.start()
    pcap = os.path.join(work, "hs.pcap")
    dump = subprocess.Popen(["tcpdump", "-i", hs, "-n", "-s", "0", "-U", "-B", "65536", "-w", pcap],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    L.on_cleanup(lambda: dump.kill())
    time.sleep(1.0)

    # A download slow enough to be seen while it runs, then the whole of it.
    started = L.now()
    curl = subprocess.Popen(["ip", "netns", "exec", nc, "curl", "-s", "-o", "/dev/null", "--limit-rate", "100K",
                             "-w", "%{size_download}", f"http://{SERVER}:{PORT}/body.bin"], stdout=subprocess.PIPE,
                            text=True)
    seen = None
    deadline = L.now() + 4.0
    while L.now() < deadline and seen is None:
        rc, doc, _ = daemon.ctl("flows")
        for e in (doc or {}).get("flows", []):
            if e.get("state") == "active" and e.get("server_port") == PORT and e.get("bytes_down", 0) > 100_000:
                seen = e
        running = curl.poll() is None
        time.sleep(0.05)
    rep.check(f"the download shows in `ctl flows` as active while it runs ({L.now() - started:.2f} s after it "
              "started)", seen is not None and running, str(seen)[:300])
    got = curl.communicate(timeout=30)[0].strip()
    rep.note(f"curl took {L.now() - started:.1f} s")
    rep.check(f"curl received the whole body ({got} bytes)", got == str(BODY), got)
    time.sleep(2.5)  # closed_linger 1 s, then an interval: the flow ends and is listed as ended
    dump.send_signal(signal.SIGINT)
    dump_err = dump.communicate(timeout=10)[1]
    captured, frames = ip_bytes_down(pcap)
    dropped = [ln for ln in dump_err.splitlines() if "dropped by kernel" in ln]
    rep.check(f"tcpdump lost nothing ({dropped[0].strip() if dropped else 'no statistics'})",
              bool(dropped) and dropped[0].strip().startswith("0 "), dump_err[-300:])

    rc, doc, _ = daemon.ctl("flows")
    flows = [e for e in (doc or {}).get("flows", []) if e.get("server_port") == PORT and e.get("client") == CLIENT]
    down = sum(e.get("bytes_down", 0) for e in flows)
    rep.check(f"the flow's bytes down ({down}) are at least the body ({BODY}) and the IP bytes tcpdump saw "
              f"({captured} in {frames} frames, super-frames among them)",
              len(flows) == 1 and flows[0].get("state") == "ended" and BODY <= down == captured,
              str(flows)[:400])
    stats = daemon.stats()
    errors = (stats or {}).get("parse_errors", {"?": "no stats"})
    rep.check("no parse error (no frame cut and dropped from the tallies)", errors == {}, str(errors))
    rep.note(f"offload: {(stats or {}).get('offload')}")
    daemon.stop()
    shutil.rmtree(work, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
