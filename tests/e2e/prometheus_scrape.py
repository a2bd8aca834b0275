#!/usr/bin/env python3
"""Scrapes a wiretally metrics endpoint with a real Prometheus and checks what it stored.

Usage:
  prometheus_scrape.py HOST:PORT [--expect EXPR ...] [--timeout S] [--metrics-path PATH]
  prometheus_scrape.py --self-test

Starts /usr/bin/prometheus (Debian package `prometheus`) on a free loopback port
with a temporary config (job "wiretally", scrape_interval 1s) and a temporary
TSDB, waits until the target is "up" in /api/v1/targets, then runs each --expect
through /api/v1/query until it returns at least one series with a value, and
prints the series found. An EXPR is any PromQL expression: a metric name
(wiretally_uptime_seconds), a selector (wiretally_service_bytes_total{direction="up"})
or a function of them (sum(rate(wiretally_worker_packets_total[5s]))). Without
--expect it checks wiretally_build_info and wiretally_uptime_seconds.

Prometheus is killed and its directory removed on every exit path: success,
failure, timeout, Ctrl-C and SIGTERM.

--self-test serves a fake wiretally exposition from this process and checks the
harness itself: a passing scrape, a missing metric, a target that is down, an
endpoint that serves garbage, and clean-up after SIGTERM.

Exit: 0 every expectation met, 1 not, 2 usage.
"""
import argparse
import http.server
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_EXPECT = ["wiretally_build_info", "wiretally_uptime_seconds"]
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")


class Failure(Exception):
    """A check that did not pass; the message says why."""


def log(msg):
    print(f"prometheus_scrape: {msg}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


class Prometheus:
    """One Prometheus process with its own config and TSDB in a temporary directory.

    Use as a context manager: the process group is killed and the directory removed
    on exit, whatever the reason.
    """

    def __init__(self, target, metrics_path="/metrics", binary=PROMETHEUS):
        self.target = target
        self.metrics_path = metrics_path
        self.binary = binary
        self.proc = None
        self.port = None
        self.dir = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="wt-prom-")
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{
                "job_name": "wiretally",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": self.metrics_path,
                "static_configs": [{"targets": [self.target]}],
            }],
        }
        # JSON is YAML: no PyYAML needed.
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            json.dump(config, f, indent=2)
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        if not os.access(self.binary, os.X_OK):
            raise Failure(f"{self.binary} not found: apt-get install prometheus")
        # A port picked free can be taken before Prometheus binds it: retry.
        for _ in range(3):
            self.port = free_port()
            logf = open(os.path.join(self.dir, "prometheus.log"), "ab")
            # setpriv --pdeathsig: Prometheus is killed even when this harness is
            # SIGKILLed (a caller's timeout), where no finally block runs.
            wrap = ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []
            self.proc = subprocess.Popen(
                wrap + [self.binary,
                 f"--config.file={self.dir}/prometheus.yml",
                 f"--storage.tsdb.path={self.dir}/data",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--storage.tsdb.retention.time=1h",
                 f"--web.console.templates={self.dir}",
                 f"--web.console.libraries={self.dir}"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)  # own process group: killed as a whole
            logf.close()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                        if r.status == 200:
                            log(f"prometheus pid {self.proc.pid} on 127.0.0.1:{self.port}, "
                                f"scraping {self.target}{self.metrics_path}, files in {self.dir}")
                            return
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.2)
            self._kill()
            if "address already in use" not in self.log_tail().lower():
                break
        raise Failure(f"prometheus did not become ready:\n{self.log_tail()}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines=15):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def target_state(self):
        """(health, lastError) of the wiretally target, or (None, reason)."""
        try:
            data = http_json(f"{self.url}/api/v1/targets?state=active")
        except (urllib.error.URLError, OSError, ValueError) as e:
            return None, str(e)
        for t in data.get("data", {}).get("activeTargets", []):
            if t.get("scrapePool") == "wiretally":
                return t.get("health"), t.get("lastError", "")
        # Prometheus applies new target sets about 5 s after start.
        return None, "target not listed yet"

    def query(self, expr):
        """Instant query; returns [(labels, value_str)]. Raises Failure on a PromQL error."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            data = http_json(url)
        except urllib.error.HTTPError as e:
            # 400/422 carry the PromQL error in a JSON body.
            try:
                body = json.load(e)
            except ValueError:
                body = {}
            raise Failure(f"query {expr!r} rejected: {body.get('error', e)}") from None
        if data.get("status") != "success":
            raise Failure(f"query {expr!r} failed: {data.get('error')}")
        result = data["data"]
        if result["resultType"] in ("scalar", "string"):
            return [({}, result["result"][1])]
        if result["resultType"] == "matrix":
            return [(s["metric"], s["values"][-1][1]) for s in result["result"] if s["values"]]
        return [(s["metric"], s["value"][1]) for s in result["result"]]

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            self.proc.wait()

    def close(self):
        self._kill()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __exit__(self, *exc):
        self.close()
        return False


def _escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_series(labels, value):
    name = labels.get("__name__", "")
    rest = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}} {value}" if rest or not name else f"{name} {value}"


def run_check(target, expects, timeout, metrics_path="/metrics", on_start=None):
    """Scrape TARGET and check every expectation. Returns (ok, {expr: [series...]}, problems)."""
    deadline = time.monotonic() + timeout
    found, problems = {}, []
    with Prometheus(target, metrics_path) as prom:
        if on_start:
            on_start(prom)
        health, err = None, ""
        while time.monotonic() < deadline:
            health, err = prom.target_state()
            if health == "up":
                break
            time.sleep(0.25)
        if health != "up":
            problems.append(f"target {target}{metrics_path} not up after {timeout:g}s: "
                            f"health={health or 'unknown'}{', ' + err if err else ''}")
            return False, found, problems
        log(f"target {target} is up")
        for expr in expects:
            series, last_err = [], None
            while True:
                try:
                    series = [(l, v) for l, v in prom.query(expr) if _is_value(v)]
                except Failure as e:
                    last_err = str(e)
                    break
                if series or time.monotonic() >= deadline:
                    break
                time.sleep(0.25)
            if last_err:
                problems.append(last_err)
            elif not series:
                problems.append(f"{expr}: no series with a value within {timeout:g}s")
            else:
                found[expr] = [format_series(l, v) for l, v in series]
    return not problems, found, problems


def _is_value(v):
    try:
        return not math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def report(ok, found, problems):
    for expr, series in found.items():
        print(f"PASS  {expr}")
        for s in series[:20]:
            print(f"        {s}")
        if len(series) > 20:
            print(f"        ... {len(series) - 20} more series")
    for p in problems:
        print(f"FAIL  {p}")
    print(f"prometheus_scrape: {'ok' if ok else 'FAILED'}: {len(found)} expectation(s) met, {len(problems)} not")


# ----------------------------------------------------------------- self-test

FAKE_EXPOSITION = """\
# HELP wiretally_build_info Build of the running wiretally.
# TYPE wiretally_build_info gauge
wiretally_build_info{{version="0.0.0-selftest",dpdk="22.11"}} 1
# HELP wiretally_uptime_seconds Seconds since start.
# TYPE wiretally_uptime_seconds gauge
wiretally_uptime_seconds {uptime:.3f}
# HELP wiretally_service_bytes_total IP bytes per service and direction.
# TYPE wiretally_service_bytes_total counter
wiretally_service_bytes_total{{service="Google Maps",direction="up"}} {n}
wiretally_service_bytes_total{{service="Google Maps",direction="down"}} {n10}
wiretally_service_bytes_total{{service="Quote \\"and\\" back\\\\slash",direction="up"}} 7
wiretally_service_bytes_total{{service="Zürich Wetter",direction="down"}} 3
# HELP wiretally_service_flows_total Flows per service.
# TYPE wiretally_service_flows_total counter
wiretally_service_flows_total{{service="Google Maps"}} 2
# HELP wiretally_port_rx_packets_total Packets received per port.
# TYPE wiretally_port_rx_packets_total counter
wiretally_port_rx_packets_total{{port="wan"}} {n}
wiretally_port_rx_packets_total{{port="lan"}} 0
# HELP wiretally_worker_packets_total Packets per worker.
# TYPE wiretally_worker_packets_total counter
wiretally_worker_packets_total{{worker="0"}} {n}
wiretally_worker_packets_total{{worker="1"}} {n}
"""


class _FakeHandler(http.server.BaseHTTPRequestHandler):
    started = time.monotonic()
    requests = 0

    def do_GET(self):
        cls = type(self)
        if self.path == "/metrics":
            cls.requests += 1
            n = cls.requests * 100
            body = FAKE_EXPOSITION.format(uptime=time.monotonic() - cls.started, n=n, n10=n * 10).encode()
            ctype = "text/plain; version=0.0.4; charset=utf-8"
        elif self.path == "/garbage":
            body, ctype = b"this is { not an exposition\n", "text/plain; version=0.0.4"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _gone(pid, path):
    """True when PID has exited (or is a zombie we do not own) and PATH no longer exists."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            alive = f.read().split(")")[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        alive = False
    return not alive and not os.path.exists(path)


def self_test():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{server.server_address[1]}"
    results = []

    def case(name, fn):
        t0 = time.monotonic()
        try:
            fn()
            results.append((name, True, ""))
            print(f"self-test PASS  {name} ({time.monotonic() - t0:.1f}s)\n", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            results.append((name, False, str(e)))
            print(f"self-test FAIL  {name}: {e}\n", flush=True)

    seen = {}

    def remember(prom):
        seen["pid"], seen["dir"] = prom.proc.pid, prom.dir

    def passing():
        expects = DEFAULT_EXPECT + [
            'wiretally_service_bytes_total{direction="up"}',
            'wiretally_service_bytes_total{service="Quote \\"and\\" back\\\\slash"}',
            'wiretally_service_bytes_total{service="Zürich Wetter"}',
            "wiretally_service_flows_total",
            'wiretally_port_rx_packets_total{port="lan"}',  # a zero is a value
            "sum(rate(wiretally_worker_packets_total[5s]))",  # needs two scrapes
        ]
        ok, found, problems = run_check(target, expects, 30, on_start=remember)
        report(ok, found, problems)
        if not ok:
            raise Failure(f"expected success, got {problems}")
        if len(found['wiretally_service_bytes_total{direction="up"}']) != 2:
            raise Failure("expected 2 series for direction=up")
        if not _gone(seen["pid"], seen["dir"]):
            raise Failure("prometheus or its directory outlived the check")

    def missing_metric():
        ok, found, problems = run_check(target, ["wiretally_uptime_seconds", "wiretally_no_such_metric"], 10,
                                        on_start=remember)
        report(ok, found, problems)
        if ok or "wiretally_uptime_seconds" not in found or not any("wiretally_no_such_metric" in p for p in problems):
            raise Failure("a missing metric must fail and the present one still pass")
        if not _gone(seen["pid"], seen["dir"]):
            raise Failure("prometheus or its directory outlived the failed check")

    def bad_promql():
        ok, _, problems = run_check(target, ["wiretally_uptime_seconds{"], 10, on_start=remember)
        report(ok, {}, problems)
        if ok or "rejected" not in problems[0]:
            raise Failure("invalid PromQL must fail with Prometheus's error")

    def target_down():
        ok, _, problems = run_check(f"127.0.0.1:{free_port()}", DEFAULT_EXPECT, 10, on_start=remember)
        report(ok, {}, problems)
        if ok or "health=down" not in problems[0] or "refused" not in problems[0]:
            raise Failure("a target that refuses connections must fail as 'not up'")
        if not _gone(seen["pid"], seen["dir"]):
            raise Failure("prometheus or its directory outlived the timeout")

    def garbage():
        ok, _, problems = run_check(target, DEFAULT_EXPECT, 10, metrics_path="/garbage", on_start=remember)
        report(ok, {}, problems)
        if ok or "health=down" not in problems[0]:
            raise Failure("an endpoint serving an invalid exposition must fail as 'not up'")

    def sigterm():
        # The harness as a separate process, stopped by SIGTERM while it waits.
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), f"127.0.0.1:{free_port()}",
                              "--timeout", "120"], stdout=subprocess.PIPE, text=True)
        line = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "prometheus pid" not in line:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                break
        if "prometheus pid" not in line:
            p.kill()
            raise Failure(f"the harness did not start prometheus: {line!r}")
        pid = int(line.split("prometheus pid ")[1].split()[0])
        tmpdir = line.rsplit("files in ", 1)[1].strip()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
        p.stdout.close()
        for _ in range(20):
            if _gone(pid, tmpdir):
                break
            time.sleep(0.25)
        else:
            raise Failure(f"after SIGTERM prometheus {pid} or {tmpdir} is still there")
        if rc == 0:
            raise Failure("an interrupted check must not exit 0")

    case("scrape and query a live endpoint", passing)
    case("missing metric fails, present one passes", missing_metric)
    case("invalid PromQL fails", bad_promql)
    case("target down fails at the timeout", target_down)
    case("invalid exposition fails", garbage)
    case("SIGTERM kills prometheus and removes its files", sigterm)
    server.shutdown()
    failed = [r for r in results if not r[1]]
    print(f"self-test: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


# ----------------------------------------------------------------- main

def _raise_exit(signum, _frame):
    # Unwinds through the Prometheus context manager, which kills and cleans up.
    raise SystemExit(128 + signum)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("target", nargs="?", help="HOST:PORT of the metrics endpoint, e.g. 127.0.0.1:9867")
    ap.add_argument("--expect", nargs="+", action="extend", metavar="EXPR",
                    help="PromQL expression that must return a series with a value (repeatable)")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds for Prometheus to start, see the target up and find every series "
                         "(default 20; Prometheus 2.42 scrapes for the first time about 5 s after start)")
    ap.add_argument("--metrics-path", default="/metrics", help="default /metrics")
    ap.add_argument("--self-test", action="store_true", help="check this harness against a built-in fake endpoint")
    args = ap.parse_args(argv)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    if args.self_test:
        return self_test()
    if not args.target or ":" not in args.target:
        ap.error("TARGET must be HOST:PORT")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    try:
        ok, found, problems = run_check(args.target, args.expect or DEFAULT_EXPECT, args.timeout, args.metrics_path)
    except Failure as e:
        ok, found, problems = False, {}, [str(e)]
    report(ok, found, problems)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
