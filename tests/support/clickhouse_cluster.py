"""Real, local ClickHouse servers for the tests of the ClickHouse export (issue #19): start, query, stop.

Debian 12 ships clickhouse-server 18.16.1 (the binary is /usr/sbin/clickhouse-server; there is no
/usr/bin/clickhouse multi-tool). Each server gets a work directory of its own, holding everything it writes:

    WORKDIR/config.xml, users.xml        written by start() (config.xml again on every start)
    WORKDIR/data/                        <path>: metadata, table parts, preprocessed_configs/, status
    WORKDIR/tmp/, user_files/, format_schemas/
    WORKDIR/log/clickhouse-server.log    level `information` (or what log_level says)
    WORKDIR/log/clickhouse-server.err.log
    WORKDIR/log/stdout.log, stderr.log   the process's own output (start-up failures land here)

It listens only on 127.0.0.1, on ports picked free (bind port 0, close): HTTP, native TCP and interserver.
Users: `default` with no password, and `writer` (when writer_password is given) whose password is stored
as its SHA-256 (password_sha256_hex), both allowed from 127.0.0.1 and ::1 only.

    with ClickHouseCluster(tmpdir, writer_password="s3cret") as c:     # 2 servers, cluster "wt_cluster"
        for s in c.servers:                                            # no ON CLUSTER on 18.16: no ZooKeeper
            s.query("CREATE DATABASE IF NOT EXISTS db")
        c.query_each("CREATE TABLE db.t_local (k UInt64) ENGINE = MergeTree() ORDER BY k")
        c.query_each(f"CREATE TABLE db.t AS db.t_local ENGINE = Distributed({c.cluster_name}, db, t_local, k)")
        c.servers[0].query("INSERT INTO db.t FORMAT JSONEachRow", data=[{"k": 1}],
                           settings={"insert_distributed_sync": 1})

What 18.16 does not have: `--help`/`--version` (version() asks the server), ON CLUSTER without ZooKeeper,
insert_deduplication_token, currentUser()/user(), ILIKE. Its HTTP statuses for errors vary (401 for a bad
user or password, 404 for an unknown column or function, 400 for a syntax error, 500 otherwise): look at
ClickHouseError.code (Code: N of its text) rather than the status. FINAL works through a Distributed table
(each shard applies it to its own rows; rows with the same sharding key are on the same shard). A
Distributed query with a shard down fails (Code 279) unless skip_unavailable_shards=1. timezone() answers
"Etc/UTC" for the configured "UTC". background_pool_size is a setting of the default profile (users.xml).

No server outlives its test: each runs in a session (process group) of its own, with PR_SET_PDEATHSIG
(SIGKILL when the thread that started it dies, so even a SIGKILLed test takes its servers along), and an
atexit hook SIGKILLs the group of every server still running when the interpreter exits. Because
PDEATHSIG follows the *thread* that forked, start servers from a thread that lives as long as they should
(the main thread, normally), or pass die_with_parent=False.
"""
import atexit
import base64
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape as _xml

HOST = "127.0.0.1"
WRITER_USER = "writer"
DEFAULT_CLUSTER = "wt_cluster"
# Where a server binary may be, in the order tried; WT_CLICKHOUSE_SERVER (a path, or "PATH server" for the
# multi-tool) overrides them. Debian 12's package installs only /usr/sbin/clickhouse-server.
_CANDIDATES = (
    ("/usr/bin/clickhouse-server",),
    ("/usr/sbin/clickhouse-server",),
    ("/usr/bin/clickhouse", "server"),
)


class ClickHouseError(RuntimeError):
    """A query the server refused (status: its HTTP status, code: ClickHouse's error code, text: its
    answer), or a server that could not be reached (status None)."""

    def __init__(self, message, status=None, text="", code=None):
        super().__init__(message)
        self.status = status
        self.text = text
        self.code = code


class ClickHouseStartError(RuntimeError):
    """A server that did not answer /ping in time or exited while starting; the message carries the tails
    of its logs."""


class PortInUse(ClickHouseStartError):
    """A start that failed because one of its ports was taken meanwhile (the picked-free-port race)."""


def server_command():
    """The argv prefix that runs a ClickHouse server here; ClickHouseStartError when none is installed.
    (18.16 has no --version, so a candidate is judged by being an executable file.)"""
    env = os.environ.get("WT_CLICKHOUSE_SERVER")
    cands = [tuple(env.split())] if env else []
    cands += list(_CANDIDATES)
    found = shutil.which("clickhouse-server")
    if found:
        cands.append((found,))
    for c in cands:
        if os.path.isfile(c[0]) and os.access(c[0], os.X_OK):
            return list(c)
    raise ClickHouseStartError("no ClickHouse server binary (tried %s): apt-get install clickhouse-server"
                               % ", ".join(" ".join(c) for c in cands))


def free_ports(n):
    """n distinct TCP ports of 127.0.0.1 that were free a moment ago (all bound at once, then closed)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def json_each_row(rows):
    """Rows (dicts) as a JSONEachRow body."""
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)


# ---- every server still running, SIGKILLed (its whole group) when the interpreter exits
_live = set()
_live_lock = threading.Lock()


def _kill_group(proc):
    """SIGKILL to the process group of proc, unless proc was reaped already (then its id may be reused)."""
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _kill_all_at_exit():
    with _live_lock:
        procs = list(_live)
        _live.clear()
    for p in procs:
        _kill_group(p)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _preexec_die_with_parent(parent_pid):
    def f():
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:          # the parent died before prctl took effect
            os._exit(1)
    return f


def _tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ClickHouseServer:
    """One clickhouse-server process with its own work directory and ports (see the module's doc).

    workdir: created if missing; reused as is by restart() (and by a new object on the same folder).
    writer_password: None, or the password of a user `writer` besides `default`.
    http_port / tcp_port / interserver_port: None picks a free one (and start() picks again, up to 3 times,
    when one was taken meanwhile); given ports are kept as they are.
    clusters: {name: [(host, tcp_port), ...]} written as <remote_servers>, one shard of one replica each.
    log_level: `information`, `warning`, `debug`, `trace`.  extra_config: raw XML put inside <yandex>.
    """

    def __init__(self, workdir, writer_password=None, *, http_port=None, tcp_port=None, interserver_port=None,
                 clusters=None, log_level="information", timezone="UTC", extra_config="", name=None,
                 die_with_parent=True, command=None):
        self.workdir = os.path.abspath(workdir)
        self.writer_password = writer_password
        self.name = name or os.path.basename(self.workdir.rstrip("/"))
        self.clusters = dict(clusters or {})
        self.log_level = log_level
        self.timezone = timezone
        self.extra_config = extra_config
        self.die_with_parent = die_with_parent
        self.command = list(command) if command else None
        self._auto_ports = http_port is None and tcp_port is None and interserver_port is None
        picked = free_ports(3)
        self.http_port = http_port or picked[0]
        self.tcp_port = tcp_port or picked[1]
        self.interserver_port = interserver_port or picked[2]
        self.proc = None
        self.started_once = False
        self.last_start_seconds = None
        os.makedirs(self.workdir, exist_ok=True)

    # ---- where things are
    @property
    def url(self):
        return f"http://{HOST}:{self.http_port}"

    @property
    def host(self):
        return HOST

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def config_path(self):
        return os.path.join(self.workdir, "config.xml")

    @property
    def users_path(self):
        return os.path.join(self.workdir, "users.xml")

    @property
    def data_path(self):
        return os.path.join(self.workdir, "data")

    @property
    def log_path(self):
        return os.path.join(self.workdir, "log", "clickhouse-server.log")

    @property
    def err_log_path(self):
        return os.path.join(self.workdir, "log", "clickhouse-server.err.log")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        """The last lines of its error log, its stderr and its stdout (what start() failures show)."""
        parts = []
        for p in (self.err_log_path, os.path.join(self.workdir, "log", "stderr.log"),
                  os.path.join(self.workdir, "log", "stdout.log")):
            t = _tail(p, lines)
            if t.strip():
                parts.append(f"--- {p}\n{t}")
        return "\n".join(parts) or "(its logs are empty)"

    # ---- configuration
    def write_config(self):
        w = self.workdir
        for d in ("data", "tmp", "user_files", "format_schemas", "log"):
            os.makedirs(os.path.join(w, d), exist_ok=True)
        remote = ""
        for cname, replicas in self.clusters.items():
            shards = "".join(
                f"<shard><replica><host>{_xml(h)}</host><port>{int(p)}</port></replica></shard>"
                for h, p in replicas)
            remote += f"<{cname}>{shards}</{cname}>"
        config = f"""<?xml version="1.0"?>
<!-- written by tests/support/clickhouse_cluster.py -->
<yandex>
    <logger>
        <level>{_xml(self.log_level)}</level>
        <log>{_xml(self.log_path)}</log>
        <errorlog>{_xml(self.err_log_path)}</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <display_name>{_xml(self.name)}</display_name>
    <listen_host>{HOST}</listen_host>
    <http_port>{self.http_port}</http_port>
    <tcp_port>{self.tcp_port}</tcp_port>
    <interserver_http_port>{self.interserver_port}</interserver_http_port>
    <interserver_http_host>{HOST}</interserver_http_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>32</max_concurrent_queries>
    <mark_cache_size>5368709</mark_cache_size>
    <uncompressed_cache_size>8388608</uncompressed_cache_size>
    <path>{_xml(w)}/data/</path>
    <tmp_path>{_xml(w)}/tmp/</tmp_path>
    <user_files_path>{_xml(w)}/user_files/</user_files_path>
    <format_schema_path>{_xml(w)}/format_schemas/</format_schema_path>
    <users_config>{_xml(self.users_path)}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>{_xml(self.timezone)}</timezone>
    <mlock_executable>false</mlock_executable>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
    <remote_servers>{remote}</remote_servers>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <flush_interval_milliseconds>1000</flush_interval_milliseconds>
    </query_log>
    {self.extra_config}
</yandex>
"""
        writer = ""
        if self.writer_password is not None:
            digest = hashlib.sha256(self.writer_password.encode("utf-8")).hexdigest()
            writer = f"""
        <{WRITER_USER}>
            <password_sha256_hex>{digest}</password_sha256_hex>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </{WRITER_USER}>"""
        users = f"""<?xml version="1.0"?>
<!-- written by tests/support/clickhouse_cluster.py -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>1000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>in_order</load_balancing>
            <background_pool_size>4</background_pool_size>
            <background_schedule_pool_size>4</background_schedule_pool_size>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>{writer}
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""
        for path, text in ((self.config_path, config), (self.users_path, users)):
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)

    # ---- life cycle
    def spawn(self):
        """Writes the configuration and starts the process, without waiting for it (start() waits)."""
        if self.running():
            raise RuntimeError(f"{self.name}: already running (pid {self.proc.pid})")
        self.write_config()
        cmd = (self.command or server_command()) + [f"--config-file={self.config_path}"]
        logdir = os.path.join(self.workdir, "log")
        out = open(os.path.join(logdir, "stdout.log"), "ab")
        err = open(os.path.join(logdir, "stderr.log"), "ab")
        try:
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,
                preexec_fn=_preexec_die_with_parent(os.getpid()) if self.die_with_parent else None)
        finally:
            out.close()
            err.close()
        with _live_lock:
            _live.add(self.proc)
        self._spawned_at = time.monotonic()

    def wait_ready(self, timeout=20):
        """Waits until GET /ping answers "Ok."; on failure kills the process and raises ClickHouseStartError
        (PortInUse when a port was taken) with the tails of its logs. Returns the seconds since spawn()."""
        deadline = self._spawned_at + timeout
        while True:
            if self.proc.poll() is not None:
                self._forget()
                self._start_failed(f"exited with status {self.proc.returncode} while starting")
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    if r.status == 200 and r.read().strip() == b"Ok.":
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.kill9()
                self._start_failed(f"did not answer {self.url}/ping within {timeout} s")
            time.sleep(0.05)
        self.started_once = True
        self.last_start_seconds = time.monotonic() - self._spawned_at
        return self.last_start_seconds

    def _start_failed(self, what):
        tail = self.log_tail()
        cls = PortInUse if "Address already in use" in tail else ClickHouseStartError
        raise cls(f"ClickHouse {self.name} ({self.workdir}, http {self.http_port}, tcp {self.tcp_port}, "
                  f"interserver {self.interserver_port}) {what}:\n{tail}")

    def start(self, timeout=20):
        """Starts the server and waits for /ping; returns the seconds it took. Raises ClickHouseStartError
        with the tail of its logs when it does not come up. Ports it picked itself are picked again (up to
        3 tries) if one was taken before the first successful start."""
        for attempt in range(3):
            self.spawn()
            try:
                return self.wait_ready(timeout)
            except PortInUse:
                if not self._auto_ports or self.started_once or attempt == 2:
                    raise
                self.http_port, self.tcp_port, self.interserver_port = free_ports(3)

    def stop(self, timeout=15):
        """SIGTERM to its process group, waits up to timeout s, then SIGKILL. Returns the exit status (None
        when it was not running)."""
        self.terminate()
        return self.wait_stopped(timeout)

    def terminate(self):
        """Sends SIGTERM without waiting (stop() = terminate() + wait_stopped())."""
        if self.running():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def wait_stopped(self, timeout=15):
        """Waits for the process to exit (SIGKILL to its group after timeout s), then SIGKILLs whatever
        else is left in its group and reaps it. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            deadline = time.monotonic() + timeout
            while not self._exited_unreaped():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            # The leader is a zombie (or still running), so its group id is still ours to signal.
            _kill_group(self.proc)
            self.proc.wait(timeout=10)
        self._forget()
        return self.proc.returncode

    def _exited_unreaped(self):
        try:
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def kill9(self):
        """SIGKILL to its process group (a crash, for fault tests); waits for it to be gone."""
        if self.proc is None:
            return None
        _kill_group(self.proc)
        self.proc.wait(timeout=10)
        self._forget()
        return self.proc.returncode

    def restart(self, timeout=20):
        """Stops it if it runs, then starts it again on the same ports and data folder."""
        if self.running():
            self.stop()
        self.spawn()
        return self.wait_ready(timeout)

    def _forget(self):
        with _live_lock:
            _live.discard(self.proc)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- queries
    def query(self, sql, data=None, settings=None, *, user=None, password=None, database=None, timeout=30):
        """POSTs sql to the HTTP interface and returns the answer's text. Without data the SQL is the body;
        with data (str, bytes, or a list of dicts sent as JSONEachRow) the SQL goes in ?query= and data is
        the body. settings: {name: value} as URL parameters (True/False as 1/0). user/password: HTTP basic
        auth (default: user `default`, no password). Raises ClickHouseError with the server's text when
        the status is not 200, or when the server cannot be reached (status None)."""
        params = {}
        if database:
            params["database"] = database
        for k, v in (settings or {}).items():
            params[k] = int(v) if isinstance(v, bool) else v
        if data is None:
            body = sql.encode("utf-8")
        else:
            params["query"] = sql
            if isinstance(data, (list, tuple)):
                data = json_each_row(data)
            body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        url = self.url + "/" + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, data=body, method="POST")
        if user is not None or password is not None:
            cred = f"{user or 'default'}:{password or ''}".encode("utf-8")
            req.add_header("Authorization", "Basic " + base64.b64encode(cred).decode("ascii"))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace").strip()
            code = None
            if text.startswith("Code: "):
                try:
                    code = int(text[6:text.index(",")])
                except ValueError:
                    pass
            raise ClickHouseError(f"{self.name}: HTTP {e.code}: {text}\n  query: {sql[:500]}",
                                  status=e.code, text=text, code=code) from None
        except (OSError, urllib.error.URLError) as e:
            raise ClickHouseError(f"{self.name}: cannot reach {self.url}: {e}\n  query: {sql[:500]}") from None

    def query_value(self, sql, **kw):
        """The answer of a one-value query, stripped (e.g. "100" for SELECT count() ...)."""
        return self.query(sql, **kw).strip()

    def version(self):
        return self.query_value("SELECT version()")

    def __repr__(self):
        state = f"pid {self.proc.pid}" if self.running() else "stopped"
        return f"<ClickHouseServer {self.name} {self.url} tcp {self.tcp_port} {state}>"


class ClickHouseCluster:
    """n servers (in WORKDIR/ch1, ch2, ...) sharing one <remote_servers> entry, cluster_name, with one shard
    per server (one replica: 127.0.0.1 and its TCP port), so Distributed(cluster_name, db, local, key) on any
    of them spreads over all. Further keyword arguments go to each ClickHouseServer. The context-manager
    form starts it and stops it."""

    def __init__(self, workdir, n=2, *, cluster_name=DEFAULT_CLUSTER, writer_password=None, **server_kw):
        self.workdir = os.path.abspath(workdir)
        self.cluster_name = cluster_name
        self.servers = []
        ports = free_ports(3 * n)
        for i in range(n):
            self.servers.append(ClickHouseServer(
                os.path.join(self.workdir, f"ch{i + 1}"), writer_password, name=f"ch{i + 1}",
                http_port=ports[3 * i], tcp_port=ports[3 * i + 1], interserver_port=ports[3 * i + 2],
                **server_kw))
        self._set_clusters()
        self.last_start_seconds = None

    def _set_clusters(self):
        replicas = [(HOST, s.tcp_port) for s in self.servers]
        for s in self.servers:
            s.clusters[self.cluster_name] = replicas

    @property
    def urls(self):
        return [s.url for s in self.servers]

    def start(self, timeout=20):
        """Starts every server (all spawned first, then waited for) and returns the seconds until all
        answer /ping. Raises ClickHouseStartError (after stopping the others) when one does not come up;
        if a picked port was taken meanwhile, all ports are picked again (up to 3 tries, first start only)."""
        t0 = time.monotonic()
        for attempt in range(3):
            try:
                for s in self.servers:
                    if not s.running():
                        s.spawn()
                for s in self.servers:
                    s.wait_ready(timeout)
                break
            except PortInUse:
                self.stop()
                if attempt == 2 or any(s.started_once for s in self.servers):
                    raise
                ports = free_ports(3 * len(self.servers))
                for i, s in enumerate(self.servers):
                    s.http_port, s.tcp_port, s.interserver_port = ports[3 * i:3 * i + 3]
                self._set_clusters()
            except BaseException:
                self.stop()
                raise
        self.last_start_seconds = time.monotonic() - t0
        return self.last_start_seconds

    def stop(self, timeout=15):
        """SIGTERM to all, then waits for each (SIGKILL after timeout s)."""
        for s in self.servers:
            s.terminate()
        for s in self.servers:
            s.wait_stopped(timeout)

    def query_each(self, sql, **kw):
        """Runs sql on every server (what ON CLUSTER would do; 18.16 needs ZooKeeper for that); returns
        the answers in server order."""
        return [s.query(sql, **kw) for s in self.servers]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return f"<ClickHouseCluster {self.cluster_name} {self.servers}>"
