"""Shared helpers of the live-appliance tests (tests/app/live/*_test.py): standard library only.

- Report: one PASS/FAIL line per assertion, exit code 0 (all passed) or 1.
- Daemon: `wiretally run --config CFG` in a private temporary directory with a unique EAL file prefix; its
  control socket through `wiretally ctl --socket S CMD --json`; always stopped and cleaned up (the process,
  the temporary directory, /var/run/dpdk/PREFIX), also when the test itself is interrupted.
- pcap reading, writing and a symmetric flow hash (to emulate RSS over net_pcap's per-file RX queues).

Every subprocess runs with a timeout.
"""
import atexit
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import wt_skips  # noqa: E402
from wt_ctl import ctl_answer  # noqa: E402

EXIT_PASS, EXIT_FAIL = 0, 1


def now():
    return time.monotonic()


def require_root(what):
    wt_skips.skip_unless_root(f"{what} needs root (DPDK EAL runtime directory /var/run/dpdk)")


def unique_suffix():
    return f"{os.getpid()}-{random.randrange(16 ** 6):06x}"


# ------------------------------------------------------------------------------------------------ report
class Report:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS: {label}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL: {label}" + (f" -- {detail}" if detail else ""), flush=True)
        return bool(ok)

    def note(self, text):
        for line in str(text).splitlines() or [""]:
            print(f"  {line}", flush=True)

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return EXIT_PASS if self.failed == 0 and self.passed > 0 else EXIT_FAIL


# ------------------------------------------------------------------------------------------------ cleanup
_CLEANUPS = []


def on_cleanup(fn):
    """Registers fn to run at exit (LIFO), also after SIGTERM/SIGINT/SIGHUP (meson's timeout sends SIGTERM)."""
    _CLEANUPS.append(fn)
    return fn


def _run_cleanups():
    while _CLEANUPS:
        fn = _CLEANUPS.pop()
        try:
            fn()
        except Exception as e:  # a cleanup must never hide the others
            print(f"  (cleanup: {e})", file=sys.stderr)


def _on_signal(signum, _frame):
    print(f"  interrupted by signal {signum}: cleaning up", file=sys.stderr, flush=True)
    _run_cleanups()
    sys.exit(EXIT_FAIL)


atexit.register(_run_cleanups)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def make_workdir(tag):
    d = tempfile.mkdtemp(prefix=f"wtl-{tag}-")
    on_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def run(cmd, timeout, **kw):
    """subprocess.run with text output and a timeout; a timeout becomes returncode None."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(cmd, None, out, err + f"\n(timed out after {timeout}s)")


# ------------------------------------------------------------------------------------------------ config
def toml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string for the paths used here


def config_text(*, prefix, vdevs, ports, socket, mode="tap", workers=1, snapshot="", telemetry=False,
                memory_mb=384, stats_interval="200ms", max_clients=64, max_request_bytes=65536,
                max_flows=16384, flows_extra=None, http_listen="", extra="", mbufs=0):
    """A `wiretally run` configuration. ports: [(name, device, peer or None)]; http_listen "" turns the HTTP
    listener (dashboard, /api, /metrics) off, "127.0.0.1:0" gives it a free port."""
    lines = [
        "# written by tests/app/live (a temporary test configuration)",
        "[eal]",
        "cores = [0, 1]",
        "hugepages = false",
        f"memory_mb = {memory_mb}",
        "vdevs = [" + ", ".join(toml_str(v) for v in vdevs) + "]",
        f"file_prefix = {toml_str(prefix)}",
        "",
        "[run]",
        f'mode = "{mode}"',
        f"workers = {workers}",
        *([f"mbufs = {mbufs}"] if mbufs else []),
        "",
    ]
    for name, device, peer in ports:
        lines += ["[[port]]", f"name = {toml_str(name)}", f"device = {toml_str(device)}"]
        if peer:
            lines.append(f"peer = {toml_str(peer)}")
        lines.append("")
    lines += [
        "[flows]",
        f"max_flows = {max_flows}",
        *[f'{k} = "{v}"' for k, v in (flows_extra or {}).items()],
        "",
        "[stats]",
        f'interval = "{stats_interval}"',
        "",
        "[control]",
        f"socket = {toml_str(socket)}",
        f"max_clients = {max_clients}",
        f"max_request_bytes = {max_request_bytes}",
        f"telemetry = {'true' if telemetry else 'false'}",
        "",
        "[snapshot]",
        f"file = {toml_str(snapshot)}",
        "resume = false",
        'interval = "0s"',
        "",
        "[http]",
        f"listen = {toml_str(http_listen)}",
        "",
    ]
    return "\n".join(lines) + extra


# ------------------------------------------------------------------------------------------------ daemon
class DaemonError(Exception):
    pass


class Daemon:
    """One `wiretally run` in workdir: config wiretally.toml, socket wt.sock, log run.log."""

    def __init__(self, binary, workdir, prefix, name="wt"):
        self.binary = os.path.abspath(binary)
        self.workdir = workdir
        self.prefix = prefix
        self.config = os.path.join(workdir, f"{name}.toml")
        self.sock = os.path.join(workdir, f"{name}.sock")
        self.snapshot = os.path.join(workdir, f"{name}-snapshot.json")
        self.logpath = os.path.join(workdir, f"{name}.log")
        self.proc = None
        self._log = None
        on_cleanup(self.cleanup)

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def start(self, timeout=30.0):
        """Starts the daemon and waits until `ctl stats` answers; DaemonError (with the log) otherwise."""
        self._log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.binary, "run", "--config", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = now() + timeout
        last = ""
        while now() < deadline:
            if self.proc.poll() is not None:
                raise DaemonError(f"wiretally run exited with {self.proc.returncode}:\n{self.log_tail()}")
            if os.path.exists(self.sock):
                rc, doc, text = self.ctl("stats", timeout=5)
                if rc == 0 and isinstance(doc, dict):
                    return
                last = text
            time.sleep(0.1)
        raise DaemonError(f"wiretally not ready after {timeout:.0f}s (ctl stats: {last.strip()[:200]}):\n"
                          f"{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def ctl(self, *args, json_out=True, timeout=10):
        """`wiretally ctl --socket S ARGS [--json]` -> (rc, parsed JSON or None, stdout+stderr)."""
        cmd = [self.binary, "ctl", "--socket", self.sock, "--timeout", str(max(1, int(timeout) - 1)), *args]
        if json_out:
            cmd.append("--json")
        return ctl_answer(run(cmd, timeout=timeout), json_out)

    def stats(self, timeout=10):
        rc, doc, text = self.ctl("stats", timeout=timeout)
        return doc if rc == 0 and isinstance(doc, dict) else None

    def stop(self, sig=signal.SIGTERM, grace=30.0):
        """Sends sig and waits; SIGKILL after grace. Returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                return None
        return self.proc.returncode

    def log_tail(self, n=20):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, AttributeError, ValueError):
            pass
        return None

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.stop(signal.SIGTERM, grace=15)
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)


def worker_rx(stats):
    return sum(int(w.get("rx_packets", 0)) for w in (stats or {}).get("workers", []) if isinstance(w, dict))


def rx_rate(daemon, seconds=1.0):
    """Packets per second received by the workers over `seconds` (workers[].rx_packets deltas, as published
    each stats interval); None when ctl stats did not answer."""
    a = daemon.stats(timeout=5)
    t0 = now()
    time.sleep(seconds)
    b = daemon.stats(timeout=5)
    t1 = now()
    if a is None or b is None:
        return None
    return (worker_rx(b) - worker_rx(a)) / max(t1 - t0, 1e-3)


def timed_ctl_stats(daemon, timeout=5):
    """(seconds, ok) for one real `wiretally ctl stats --json`."""
    t0 = now()
    rc, doc, _ = daemon.ctl("stats", timeout=timeout)
    return now() - t0, rc == 0 and isinstance(doc, dict)


# ------------------------------------------------------------------------------------------------ pcap
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",  # microseconds
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",  # nanoseconds
}
LINKTYPE_ETHERNET = 1


class Pcap:
    """A classic pcap file: global header, link type, records as (16-byte header, data)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) < 24 or raw[:4] not in PCAP_MAGICS:
            raise ValueError(f"{path}: not a classic pcap file (pcapng is not split by this test)")
        self.path = path
        self.endian = PCAP_MAGICS[raw[:4]]
        self.header = raw[:24]
        self.linktype = struct.unpack(self.endian + "I", raw[20:24])[0] & 0x0FFFFFFF
        self.records = []
        self.truncated_tail = False
        off = 24
        while off + 16 <= len(raw):
            incl = struct.unpack(self.endian + "I", raw[off + 8:off + 12])[0]
            if off + 16 + incl > len(raw):
                self.truncated_tail = True
                break
            self.records.append((raw[off:off + 16], raw[off + 16:off + 16 + incl]))
            off += 16 + incl
        if 24 < len(raw) and off < len(raw) and not self.truncated_tail:
            self.truncated_tail = True

    def write(self, path, records):
        with open(path, "wb") as f:
            f.write(self.header)
            for hdr, data in records:
                f.write(hdr)
                f.write(data)


def _fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


IPV6_EXT_HEADERS = {0, 43, 60, 51, 135, 139, 140}  # hop-by-hop, routing, dest opts, AH, mobility, HIP, shim6


def flow_key(frame):
    """The symmetric flow key of an Ethernet frame: (proto, (ip, port), (ip, port)) with the two endpoints
    sorted, or None for non-IP frames and IP fragments (those all go to queue 0)."""
    off = 12
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    for _ in range(4):  # 802.1Q, 802.1ad, QinQ
        if etype not in (0x8100, 0x88A8, 0x9100) or len(frame) < off + 4:
            break
        etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    if etype == 0x0800:
        if len(frame) < off + 20 or frame[off] >> 4 != 4:
            return None
        ihl = (frame[off] & 0x0F) * 4
        flags_frag = struct.unpack("!H", frame[off + 6:off + 8])[0]
        if flags_frag & 0x3FFF:  # MF set or a non-zero offset: a fragment
            return None
        proto = frame[off + 9]
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        l4 = off + ihl
    elif etype == 0x86DD:
        if len(frame) < off + 40 or frame[off] >> 4 != 6:
            return None
        proto = frame[off + 6]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        l4 = off + 40
        for _ in range(8):
            if proto == 44:  # fragment header
                return None
            if proto not in IPV6_EXT_HEADERS or len(frame) < l4 + 2:
                break
            nxt = frame[l4]
            length = (frame[l4 + 1] + 2) * 4 if proto == 51 else (frame[l4 + 1] + 1) * 8
            proto, l4 = nxt, l4 + length
    else:
        return None
    sport = dport = 0
    if proto in (6, 17) and len(frame) >= l4 + 4:
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
    a, b = (bytes(src), sport), (bytes(dst), dport)
    return (proto,) + tuple(sorted((a, b)))


def symmetric_queue(frame, n):
    key = flow_key(frame)
    if key is None or n <= 1:
        return 0
    proto, (ip_a, port_a), (ip_b, port_b) = key
    material = bytes([proto]) + ip_a + struct.pack("!H", port_a) + ip_b + struct.pack("!H", port_b)
    return _fnv1a(material) % n


def split_pcap(pcap, n, out_prefix):
    """Writes n files OUT_PREFIX-K.pcap by the symmetric flow hash; returns (paths, packets per file)."""
    buckets = [[] for _ in range(n)]
    for hdr, data in pcap.records:
        buckets[symmetric_queue(data, n)].append((hdr, data))
    paths = []
    for k, recs in enumerate(buckets):
        p = f"{out_prefix}-{k}.pcap"
        pcap.write(p, recs)
        paths.append(p)
    return paths, [len(b) for b in buckets]


# ------------------------------------------------------------------------------------------------ raw control
class ControlClient:
    """A raw connection to the control socket: one JSON request line out, one response line in."""

    def __init__(self, path, timeout=5.0):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def send_line(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data + b"\n")

    def read_line(self, timeout=5.0):
        """The next response line (bytes without the newline); b"" at EOF; None on timeout."""
        import socket
        deadline = now() + timeout
        while b"\n" not in self.buf:
            left = deadline - now()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def request(self, obj_or_line, timeout=5.0):
        """Sends one request (a dict is JSON-encoded) and returns the parsed answer, or None."""
        line = json.dumps(obj_or_line) if isinstance(obj_or_line, dict) else obj_or_line
        self.send_line(line)
        raw = self.read_line(timeout)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
