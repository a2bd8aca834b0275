#!/usr/bin/env python3
"""Control-socket abuse while traffic flows: the appliance keeps forwarding and keeps answering.

    control_abuse_test.py WIRETALLY [--capture PCAP]

The appliance runs inline between `net_pcap0,rx_pcap=CAPTURE,infinite_rx=1` (the bundled sample, replayed
forever) and its peer `net_null0,no-rx=1` (a sink: every received frame is counted and sent to nowhere). For
each abuse case the worker's receive rate (workers[].rx_packets deltas over 1 s, from `stats` on an already open
control connection) is measured before, during and after, and a real `wiretally ctl stats --json` is timed
during the case:

  a. garbage lines (random bytes, invalid JSON, JSON that is not an object, unknown command, wrong argument
     types, deep nesting): each gets {"ok":false,"error":...} and the connection stays usable;
  b. a 10 MB line without a newline: an error answer, the connection closed, the daemon's RSS grows < 4 MB;
  c. 200 idle connections (max_clients 64): the excess get "too many clients", the admitted ones stay open,
     `ctl` gets a prompt answer, and a real `ctl stats` answers once they are gone;
  d. a client that sends many `services` requests and never reads: cut off (control.slow_closed increases)
     while others are served;
  e. bad configurations: `run --check` with an unknown key exits 78 with FILE:LINE; a port naming a device that
     does not exist makes `run` exit 78 before anything starts, with FILE:LINE and a message naming the port and
     the device.

Asserted for every case: rate during >= 50 % of before (a noisy 2-CPU VM), rate after >= 50 % of before, and
the real `ctl stats` answers within 1 s. A summary table lists what was sent, what came back and the numbers.

Exit: 0 pass, 1 fail, 77 not root.
"""
import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAPTURE = os.path.normpath(os.path.join(HERE, "..", "..", "data", "sample", "capture.pcap"))
MAX_CLIENTS = 64
MAX_REQUEST = 65536
RATE_WINDOW = 1.0
CTL_DEADLINE = 1.0


class Session:
    def __init__(self, binary, daemon):
        self.binary = binary
        self.d = daemon
        self.monitor = L.ControlClient(daemon.sock, timeout=5)
        self.lock = threading.Lock()

    def stats(self):
        with self.lock:
            try:
                ans = self.monitor.request({"command": "stats"}, timeout=5)
            except OSError:
                ans = None
        if isinstance(ans, dict) and ans.get("ok") and isinstance(ans.get("result"), dict):
            return ans["result"]
        return None

    def worker_cpu_s(self):
        """CPU seconds the worker lcore thread (DPDK names it rte-worker-N / lcore-worker-N) has had."""
        total = 0.0
        try:
            for tid in os.listdir(f"/proc/{self.d.pid}/task"):
                with open(f"/proc/{self.d.pid}/task/{tid}/comm") as f:
                    if "worker" not in f.read():
                        continue
                with open(f"/proc/{self.d.pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None
        return total

    def rate(self, window=RATE_WINDOW, during=None):
        """(Rate, extra): Rate = rx packets/s over `window` s and the worker thread's CPU share in it;
        `during()` runs inside the window (e.g. timed ctl calls) and its result is `extra`."""
        a = self.stats()
        c0 = self.worker_cpu_s()
        t0 = L.now()
        extra = during() if during else None
        left = window - (L.now() - t0)
        if left > 0:
            time.sleep(left)
        b = self.stats()
        c1 = self.worker_cpu_s()
        t1 = L.now()
        if a is None or b is None:
            return None, extra
        share = None if c0 is None or c1 is None else (c1 - c0) / (t1 - t0)
        return Rate((L.worker_rx(b) - L.worker_rx(a)) / (t1 - t0), share), extra

    def control(self, key):
        s = self.stats()
        return None if s is None else int((s.get("control") or {}).get(key, 0))

    def timed_ctl(self, n=3, spacing=0.25):
        """n real `wiretally ctl stats --json` calls: [(seconds, rc, first line of the answer)]."""
        out = []
        for i in range(n):
            t0 = L.now()
            rc, doc, text = self.d.ctl("stats", timeout=5)
            dt = L.now() - t0
            first = "stats JSON" if isinstance(doc, dict) else (text.strip().splitlines() or [""])[0][:90]
            out.append((dt, rc, first))
            if i + 1 < n:
                time.sleep(spacing)
        return out


class Rate:
    """Worker packets/s and the share of a CPU the worker thread got meanwhile (from /proc: on a shared VM the
    scheduler, not the appliance, decides it); pps_per_cpu = pps / share."""

    def __init__(self, pps, share):
        self.pps = pps
        self.share = share

    @property
    def pps_per_cpu(self):
        return self.pps / self.share if self.share and self.share > 0.02 else None

    def __str__(self):
        return fmt_rate(self)


def keeps_up(during, before):
    """during >= 50 % of before, either as is or per CPU second the worker was given (a dip that only follows
    the worker's CPU share is other processes' doing, not the appliance's)."""
    if before is None or during is None or before.pps <= 0:
        return False, "no measurement"
    if during.pps >= 0.5 * before.pps:
        return True, f"{100 * during.pps / before.pps:.0f}%"
    if during.pps_per_cpu and before.pps_per_cpu and during.pps_per_cpu >= 0.5 * before.pps_per_cpu:
        per_cpu = 100 * during.pps_per_cpu / before.pps_per_cpu
        return True, (f"{100 * during.pps / before.pps:.0f}% as is, {per_cpu:.0f}% per worker CPU second: "
                      f"the worker got {100 * during.share:.0f}% of a CPU, before {100 * before.share:.0f}%")
    return False, f"{100 * during.pps / before.pps:.0f}%"


class Case:
    def __init__(self, key, title):
        self.key = key
        self.title = title
        self.sent = ""
        self.answered = ""
        self.before = self.during = self.after = None
        self.ctl = []
        self.first_try = None
        self.stop = threading.Event()
        self.result = {}
        self.error = None


def fmt_rate(r):
    if r is None:
        return "-"
    if isinstance(r, Rate):
        return f"{r.pps / 1e6:.2f}M" + (f"@{100 * r.share:.0f}%" if r.share is not None else "")
    return f"{r / 1e6:.2f}M"


def measure_case(sess, case, abuse, setup=None, teardown=None):
    """One pass: rate before; abuse(case, ctx) in a thread; rate during (with timed real ctl calls); stop;
    rate after."""
    case.stop = threading.Event()
    case.before, _ = sess.rate()
    ctx = setup(case) if setup else None
    t = threading.Thread(target=lambda: _guard(case, abuse, ctx), daemon=True)
    t.start()
    time.sleep(0.2)
    case.during, case.ctl = sess.rate(during=lambda: sess.timed_ctl())
    case.stop.set()
    t.join(timeout=60)
    if t.is_alive():
        case.error = (case.error or "") + " abuse thread did not stop within 60 s"
    if teardown:
        teardown(case, ctx)
    case.after, _ = sess.rate()


def rates_ok(case):
    return keeps_up(case.during, case.before)[0] and keeps_up(case.after, case.before)[0]


def run_case(rep, sess, case, abuse, setup=None, teardown=None, ctl_expect_ok=True):
    """measure_case(), repeated once when the worker's rate dipped: this VM has 2 CPUs shared with other jobs
    (the test itself runs on CPU 0, the stats core's, never on the worker's CPU 1), so one dip may be theirs;
    the appliance failing to keep its data plane apart from its control plane dips twice."""
    measure_case(sess, case, abuse, setup, teardown)
    if not rates_ok(case):
        case.first_try = (case.before, case.during, case.after)
        rep.note(f"rx rate dipped ({fmt_rate(case.before)} -> {fmt_rate(case.during)} -> {fmt_rate(case.after)}): "
                 "repeating the case once")
        measure_case(sess, case, abuse, setup, teardown)
    pre = f"{case.key}: "
    ok, why = keeps_up(case.during, case.before)
    rep.check(pre + f"rx rate during >= 50% of before ({fmt_rate(case.before)} -> {fmt_rate(case.during)}: {why})",
              ok, f"before {fmt_rate(case.before)} during {fmt_rate(case.during)}")
    ok, why = keeps_up(case.after, case.before)
    rep.check(pre + f"rx rate after >= 50% of before ({fmt_rate(case.before)} -> {fmt_rate(case.after)}: {why})",
              ok, f"before {fmt_rate(case.before)} after {fmt_rate(case.after)}")
    worst = max((dt for dt, _, _ in case.ctl), default=None)
    if ctl_expect_ok:
        ok = bool(case.ctl) and all(rc == 0 and dt < CTL_DEADLINE for dt, rc, _ in case.ctl)
        rep.check(pre + f"real `ctl stats` answered within {CTL_DEADLINE:.0f} s during the case "
                  f"(worst {worst if worst is None else f'{worst * 1000:.0f} ms'})", ok, str(case.ctl))
    if case.error:
        rep.check(pre + "abuse client ran without a test error", False, case.error)


def _guard(case, abuse, ctx):
    try:
        abuse(case, ctx)
    except Exception as e:  # report, never hang the harness
        case.error = f"{type(e).__name__}: {e}"


# ------------------------------------------------------------------------------------------------ case a
def garbage_lines():
    rnd = random.Random(20240601)
    rand = bytes(b for b in (rnd.randrange(256) for _ in range(600)) if b not in (0x0A,))
    return [
        ("random bytes", rand[:300]),
        ("random bytes (high)", bytes(rnd.randrange(0x80, 0x100) for _ in range(200))),
        ("NUL bytes", b"\x00" * 16),
        ("spaces", b"   "),
        ("invalid JSON", b'{"command": "stats"'),
        ("invalid JSON 2", b"{command: stats}"),
        ("JSON array", b'["stats"]'),
        ("JSON number", b"42"),
        ("JSON string", b'"stats"'),
        ("JSON null", b"null"),
        ("object without command", b'{"cmd": "stats"}'),
        ("unknown command", b'{"command": "rm -rf /"}'),
        ("command not a string", b'{"command": 5}'),
        ("args not an object", b'{"command": "stats", "args": [1]}'),
        ("top not an integer", b'{"command": "domains", "args": {"top": "ten"}}'),
        ("top negative", b'{"command": "domains", "args": {"top": -1}}'),
        ("top a float", b'{"command": "clients", "args": {"top": 1.5}}'),
        ("service not a string", b'{"command": "flows", "args": {"service": 7}}'),
        ("unknown timeline service", b'{"command": "timeline", "args": {"service": "no such service"}}'),
        ("bad format", b'{"command": "stats", "format": "xml"}'),
        ("empty mark label", b'{"command": "mark", "args": {"label": ""}}'),
        ("invalid UTF-8 in JSON", b'{"command": "\xff\xfe"}'),
        ("deep nesting (20000 levels)", b"[" * 20000 + b"]" * 20000),
        ("huge number", b'{"command": "domains", "args": {"top": 1e400}}'),
    ]


def abuse_garbage(case, _ctx):
    lines = garbage_lines()
    rounds = 0
    first = None
    while not case.stop.is_set() or rounds == 0:
        c = L.ControlClient(case.sock, timeout=5)
        answers = []
        for label, line in lines:
            c.send_line(line)
            raw = c.read_line(5)
            try:
                ans = json.loads(raw) if raw else None
            except ValueError:
                ans = None
            answers.append((label, raw, ans))
        usable = c.request({"command": "version"}, timeout=5)
        c.close()
        rounds += 1
        if first is None:
            first = (answers, usable)
    case.result = {"first": first, "rounds": rounds}


def check_garbage(rep, case):
    answers, usable = case.result.get("first") or ([], None)
    bad = [f"{label}: {raw[:120]!r}" for label, raw, ans in answers
           if not (isinstance(ans, dict) and ans.get("ok") is False and isinstance(ans.get("error"), str)
                   and ans["error"])]
    rep.check(f"a: each of {len(answers)} garbage lines answered {{\"ok\":false,\"error\":...}}",
              answers and not bad, "\n    " + "\n    ".join(bad))
    rep.check("a: the same connection still answers {\"command\":\"version\"} afterwards",
              isinstance(usable, dict) and usable.get("ok") is True, repr(usable)[:200])
    for label, raw, ans in answers:
        if isinstance(ans, dict):
            rep.note(f"  {label:<30} -> {str(ans.get('error'))[:100]}")
    internal = [label for label, _, ans in answers if isinstance(ans, dict) and
                str(ans.get("error", "")).startswith("internal error")]
    if internal:
        rep.note(f"NOTE: answered as an internal error (a client mistake counted as control handler_errors): "
                 f"{', '.join(internal)}")
    case.sent = f"{len(answers)} garbage lines x {case.result.get('rounds')} connections"
    case.answered = (f"{len(answers) - len(bad)}/{len(answers)} ok:false+error; conn usable: "
                     f"{isinstance(usable, dict) and usable.get('ok') is True}")


# ------------------------------------------------------------------------------------------------ case b
def abuse_long_line(case, _ctx):
    blob = b"A" * (10 << 20)
    rounds, outcomes = 0, []
    while not case.stop.is_set() or rounds == 0:
        c = L.ControlClient(case.sock, timeout=10)
        sent_all, err = True, ""
        try:
            c.sock.sendall(blob)
        except (BrokenPipeError, ConnectionResetError) as e:
            sent_all, err = False, type(e).__name__
        except socket.timeout:
            sent_all, err = False, "send timeout"
        answer = c.read_line(5)
        rest = c.read_line(3)  # EOF (b"") when the daemon closed the connection
        outcomes.append({"sent_all": sent_all, "send_error": err, "answer": answer, "closed": rest == b""})
        c.close()
        rounds += 1
    case.result = {"rounds": rounds, "outcomes": outcomes}


def check_long_line(rep, case, rss_before, rss_after):
    outs = case.result.get("outcomes") or []
    good = []
    for o in outs:
        try:
            ans = json.loads(o["answer"]) if o["answer"] else None
        except ValueError:
            ans = None
        good.append(isinstance(ans, dict) and ans.get("ok") is False and "exceeds" in str(ans.get("error")))
    rep.check(f"b: every 10 MB line ({len(outs)} sent) got an error answer",
              outs and all(good), str([o["answer"] for o in outs][:3]))
    rep.check("b: ... and the connection was closed (EOF after the answer)", outs and all(o["closed"] for o in outs),
              str(outs[:3]))
    rep.check("b: ... and the daemon stopped reading early (the 10 MB send failed: connection closed)",
              outs and all(not o["sent_all"] for o in outs), str(outs[:3]))
    growth = None if rss_before is None or rss_after is None else (rss_after - rss_before) / 1024.0
    rep.check(f"b: daemon RSS grew < 4 MB (VmRSS {rss_before} kB -> {rss_after} kB)",
              growth is not None and growth < 4.0, f"growth {growth} MB")
    ans = outs[0]["answer"] if outs else b""
    case.sent = f"{len(outs)} conns x 10 MB line, no newline"
    grew = "?" if growth is None else f"{growth:+.1f}"
    case.answered = f"{(ans or b'').decode(errors='replace')[:60]} + close; RSS {grew} MB"


# ------------------------------------------------------------------------------------------------ case c
def setup_idle(case):
    conns = []
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(case.sock)
        conns.append(s)
    time.sleep(0.8)  # the daemon accepts 16 per listener per poll: let it go through the backlog
    rejected, admitted, other = 0, 0, []
    reject_text = None
    for s in conns:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            admitted += 1
            continue
        except OSError as e:
            other.append(type(e).__name__)
            continue
        if b"too many clients" in data:
            rejected += 1
            reject_text = data.decode(errors="replace").strip()
        else:
            other.append(data[:80])
    case.result.update({"conns": conns, "rejected": rejected, "admitted": admitted, "other": other,
                        "reject_text": reject_text})
    return conns


def abuse_idle(case, conns):
    # The 200 connections just sit there for the whole window.
    while not case.stop.is_set():
        time.sleep(0.05)


def teardown_idle(case, conns):
    for s in conns:
        try:
            s.close()
        except OSError:
            pass
    time.sleep(0.3)


def check_idle(rep, sess, case, rejected_before, rejected_after, open_during):
    r = case.result
    expected_admitted = MAX_CLIENTS - 1  # the monitor connection holds one slot
    rep.check(f"c: 200 connections: {r['admitted']} admitted (expected {expected_admitted}), {r['rejected']} told "
              f"'too many clients' (expected {200 - expected_admitted})",
              r["admitted"] == expected_admitted and r["rejected"] == 200 - expected_admitted and not r["other"],
              f"other: {r['other'][:5]}")
    rep.check(f"c: control.rejected_too_many increased by >= {200 - expected_admitted} "
              f"({rejected_before} -> {rejected_after})",
              rejected_before is not None and rejected_after is not None and
              rejected_after - rejected_before >= 200 - expected_admitted)
    rep.check(f"c: control.open_connections was {MAX_CLIENTS} while the idle clients held their slots",
              open_during == MAX_CLIENTS, f"open_connections {open_during}")
    # During the flood every slot is taken: a new ctl gets the refusal at once (an answer, not a hang).
    prompt = bool(case.ctl) and all(dt < CTL_DEADLINE and rc is not None for dt, rc, _ in case.ctl)
    rep.check(f"c: a new `ctl stats` during the flood is answered within {CTL_DEADLINE:.0f} s "
              f"(rc {[rc for _, rc, _ in case.ctl]}: {case.ctl[0][2] if case.ctl else ''})", prompt, str(case.ctl))
    lat = sess.timed_ctl(n=1)
    rep.check(f"c: after the idle clients left, a real `ctl stats` answers ({lat[0][0] * 1000:.0f} ms)",
              lat[0][1] == 0 and lat[0][0] < CTL_DEADLINE, str(lat))
    case.sent = "200 idle connections (max_clients 64)"
    case.answered = (f"{r['admitted']} admitted, {r['rejected']} x {r['reject_text']!s:.40}; "
                     f"new ctl during: rc {case.ctl[0][1] if case.ctl else '-'}")


# ------------------------------------------------------------------------------------------------ case d
SLOW_READER_LIMIT = 20.0  # seconds one non-reading client may take to be cut off


def peer_closed(s):
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLERR)
    return any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(0))


def abuse_slow_reader(case, request):
    """Sends `request` lines in batches and never reads, until the daemon hangs up (cut off) or
    SLOW_READER_LIMIT; keeps opening new such clients until the measurement window is over."""
    batch = (json.dumps(request) + "\n").encode() * 200
    clients, cut, sent_total = 0, 0, 0
    details = []
    while clients == 0 or not case.stop.is_set():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(case.sock)
        clients += 1
        sent, t0, outcome = 0, L.now(), "still open"
        while L.now() - t0 < SLOW_READER_LIMIT:
            try:
                s.sendall(batch)
                sent += 200
            except (BrokenPipeError, ConnectionResetError):
                outcome = "cut off"
                break
            except socket.timeout:
                pass  # the daemon reads no more while earlier lines wait for their answers
            if peer_closed(s):
                outcome = "cut off"
                break
        if outcome == "cut off":
            cut += 1
        details.append((sent, round(L.now() - t0, 1), outcome))
        sent_total += sent
        s.close()
    case.result = {"clients": clients, "cut": cut, "sent": sent_total, "details": details}


def check_slow_reader(rep, case, what, slow_before, slow_after):
    r = case.result
    first = (r.get("details") or [(0, 0, "")])[0]
    rep.check(f"{case.key}: a client sending {what} requests and never reading is cut off within "
              f"{SLOW_READER_LIMIT:.0f} s (first: {first[2]} after {first[1]} s, ~{first[0]} requests sent)",
              r.get("cut", 0) >= 1 and first[2] == "cut off", str(r.get("details")))
    rep.check(f"{case.key}: control.slow_closed increased ({slow_before} -> {slow_after})",
              slow_before is not None and slow_after is not None and slow_after > slow_before)
    case.sent = f"~{r.get('sent')} {what} reqs, never read ({r.get('clients')} conn)"
    case.answered = f"cut off x{r.get('cut')} (first after {first[1]} s), slow_closed {slow_before}->{slow_after}"


# ------------------------------------------------------------------------------------------------ case e
def write_bad_configs(work, prefix):
    """(unknown-key config, its bad line, missing-device configs [(label, path, port name, device)])."""
    unknown = os.path.join(work, "unknown-key.toml")
    text = L.config_text(prefix=prefix + "-x", vdevs=["net_null0"], ports=[("n", "net_null0", None)],
                         socket=os.path.join(work, "x.sock"))
    lines = text.splitlines()
    idx = lines.index("[run]") + 1
    lines.insert(idx, "turbo_mode = true")
    with open(unknown, "w") as f:
        f.write("\n".join(lines) + "\n")
    missing = []
    p1 = os.path.join(work, "missing-vdev.toml")
    with open(p1, "w") as f:
        f.write(L.config_text(prefix=prefix + "-m1", vdevs=[f"net_pcap5,rx_pcap={work}/no-such-file.pcap"],
                              ports=[("mirror5", "net_pcap5", None)], socket=os.path.join(work, "m1.sock"),
                              memory_mb=128))
    missing.append(("vdev whose probe fails (rx_pcap file missing)", p1, "mirror5", "net_pcap5"))
    p2 = os.path.join(work, "missing-pci.toml")
    with open(p2, "w") as f:
        f.write(L.config_text(prefix=prefix + "-m2", vdevs=[], ports=[("wan", "0000:7e:1f.6", None)],
                              socket=os.path.join(work, "m2.sock"), memory_mb=128)
                .replace("vdevs = []", 'vdevs = []\nallow = ["0000:7e:1f.6"]'))
    missing.append(("allowed PCI address with no device", p2, "wan", "0000:7e:1f.6"))
    return unknown, idx + 1, missing


def abuse_bad_config(case, ctx):
    binary, unknown, line_no, missing = ctx
    res = {}
    p = L.run([binary, "run", "--check", "--config", unknown], timeout=30)
    res["check"] = (p.returncode, (p.stderr or "").strip())
    res["missing"] = []
    for label, path, port, device in missing:
        t0 = L.now()
        p = L.run([binary, "run", "--config", path], timeout=60)
        res["missing"].append((label, port, device, p.returncode, ((p.stderr or "") + (p.stdout or "")).strip(),
                               L.now() - t0))
    case.result = res
    while not case.stop.is_set():
        time.sleep(0.05)


def check_bad_config(rep, case, unknown, line_no, prefix):
    res = case.result
    rc, err = res.get("check", (None, ""))
    base = os.path.basename(unknown)
    rep.check(f"e: `run --check` with an unknown key exits 78 (got {rc})", rc == 78, err[-300:])
    m = re.search(re.escape(base) + r":(\d+):", err)
    rep.check(f"e: ... and stderr names FILE:LINE ({base}:{line_no})", m is not None and int(m.group(1)) == line_no,
              err[-300:])
    rep.check("e: ... and names the key (run.turbo_mode)", "turbo_mode" in err, err[-300:])
    rep.note(f"  --check: {err.splitlines()[-1] if err else ''}")
    answered = [f"check rc {rc}"]
    for label, port, device, rc2, text, secs in res.get("missing", []):
        rep.check(f"e: {label}: `run` exits 78 before starting (got {rc2}, {secs:.1f} s)", rc2 == 78, text[-400:])
        named = [ln for ln in text.splitlines()
                 if f"'{port}'" in ln and device in ln and re.search(r"\.toml:\d+: ", ln)]
        rep.check(f"e: ... with one line naming FILE:LINE, port '{port}' and device {device}", len(named) == 1,
                  text[-400:])
        rep.note(f"  {label}: {(named or text.splitlines()[-1:] or [''])[0][:200]}")
        answered.append(f"rc {rc2}")
    for sfx in ("-x", "-m1", "-m2"):
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix + sfx), ignore_errors=True)
    case.sent = "unknown key (--check); 2 missing devices (run)"
    case.answered = ", ".join(answered)


# ------------------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    ap.add_argument("--capture", default=DEFAULT_CAPTURE)
    args = ap.parse_args()
    L.require_root("the control abuse test")
    binary = os.path.abspath(args.wiretally)
    rep = L.Report("control_abuse_test")
    work = L.make_workdir("abuse")
    prefix = f"wtl-ab-{L.unique_suffix()}"
    d = L.Daemon(binary, work, prefix)
    d.write_config(L.config_text(
        prefix=prefix, mode="inline", workers=1, socket=d.sock, snapshot="", stats_interval="100ms",
        vdevs=[f"net_pcap0,rx_pcap={os.path.abspath(args.capture)},infinite_rx=1", "net_null0,no-rx=1"],
        ports=[("feed", "net_pcap0", "sink"), ("sink", "net_null0", "feed")],
        max_clients=MAX_CLIENTS, max_request_bytes=MAX_REQUEST, memory_mb=256))
    started = L.now()
    try:
        d.start()
    except L.DaemonError as e:
        rep.check("appliance started (inline, net_pcap infinite_rx -> net_null)", False, str(e))
        return rep.finish()
    sess = Session(binary, d)
    # The abusing clients (and every ctl this test runs) stay on CPU 0, the stats core's: the worker's CPU 1 is
    # left to the data plane, as isolcpus would on the appliance.
    try:
        os.sched_setaffinity(0, {0})
    except OSError as e:
        rep.note(f"(could not pin the test to CPU 0: {e})")
    time.sleep(0.5)
    warm, _ = sess.rate()
    s = sess.stats() or {}
    ports = {p.get("name"): p for p in s.get("ports", [])}
    rep.check(f"traffic flows: worker rx {fmt_rate(warm)} pps, sink port tx_packets "
              f"{(ports.get('sink') or {}).get('tx_packets')}",
              warm and warm.pps > 1000 and int((ports.get("sink") or {}).get("tx_packets", 0)) > 0, json.dumps(s)[:400])
    cases = []

    def new_case(key, title):
        c = Case(key, title)
        c.sock = d.sock
        cases.append(c)
        print(f"== {key}. {title}", flush=True)
        return c

    # a. garbage
    c = new_case("a", "garbage lines")
    run_case(rep, sess, c, abuse_garbage)
    check_garbage(rep, c)

    # b. 10 MB line
    c = new_case("b", "10 MB line without newline")
    rss_before = d.rss_kb()
    run_case(rep, sess, c, abuse_long_line)
    time.sleep(0.3)
    rss_after = d.rss_kb()
    check_long_line(rep, c, rss_before, rss_after)

    # c. 200 idle connections
    c = new_case("c", "200 idle connections")
    rejected_before = sess.control("rejected_too_many")
    open_during = {}

    def idle_setup(case):
        conns = setup_idle(case)
        open_during["n"] = sess.control("open_connections")
        return conns

    run_case(rep, sess, c, abuse_idle, setup=idle_setup, teardown=teardown_idle, ctl_expect_ok=False)
    rejected_after = sess.control("rejected_too_many")
    check_idle(rep, sess, c, rejected_before, rejected_after, open_during.get("n"))

    # d. slow readers: a cheap request first (the mechanism), then `services`
    for key, what, request in (("d1", "`help`", {"command": "help", "format": "table"}),
                               ("d2", "`services`", {"command": "services"})):
        c = new_case(key, f"client that sends {what} requests and never reads")
        slow_before = sess.control("slow_closed")
        run_case(rep, sess, c, lambda case, _ctx, r=request: abuse_slow_reader(case, r))
        time.sleep(0.3)
        slow_after = sess.control("slow_closed")
        check_slow_reader(rep, c, what, slow_before, slow_after)

    # e. bad configurations
    c = new_case("e", "bad configurations")
    unknown, line_no, missing = write_bad_configs(work, prefix)
    run_case(rep, sess, c, lambda case, _ctx: abuse_bad_config(case, (binary, unknown, line_no, missing)))
    check_bad_config(rep, c, unknown, line_no, prefix)

    rep.check("the appliance is still running after every case", d.alive(), d.log_tail(10))
    sess.monitor.close()
    # SIGTERM under endless traffic does not return (see sigterm_drain_test.py): kill after a short grace.
    d.stop(signal.SIGTERM, grace=3)
    d.cleanup()

    print("\nSUMMARY (rx = worker packets/s over 1 s @ the share of a CPU the worker thread got; ctl = wall time "
          "of a real `wiretally ctl stats --json`, ms (exit code))")
    print(f"{'case':<5}{'sent':<48}{'answer':<62}{'rx before':>13}{'during':>13}{'after':>13}  ctl ms (rc)")
    for c in cases:
        lat = " ".join(f"{dt * 1000:.0f}({rc})" for dt, rc, _ in c.ctl)
        if c.first_try:
            lat += "  [1st try rx " + "/".join(fmt_rate(r) for r in c.first_try) + "]"
        print(f"{c.key:<5}{c.sent[:47]:<48}{c.answered[:61]:<62}{fmt_rate(c.before):>13}{fmt_rate(c.during):>13}"
              f"{fmt_rate(c.after):>13}  {lat}")
    print(f"(elapsed {L.now() - started:.1f} s)")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
