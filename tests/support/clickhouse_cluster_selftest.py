#!/usr/bin/env python3
"""Self-test of tests/support/clickhouse_cluster.py against the installed clickhouse-server (18.16 on Debian 12).

    python3 tests/support/clickhouse_cluster_selftest.py [--keep]

Starts a 2-server cluster in a temporary folder; a ReplacingMergeTree table on each server and a Distributed
table over both; 100 rows in through HTTP JSONEachRow (insert_distributed_sync=1), spread over both shards;
the same rows again, deduplicated by FINAL; the `writer` user with its password and with a wrong one; kill -9
of one server, its restart on the same ports with its data; stop, and no process left. Then the clean-up of
servers a test leaves behind: at interpreter exit (atexit), and when the test itself is SIGKILLed (PDEATHSIG).
Exit 0 on success, 1 with a `FAIL:` line otherwise (the folder is then kept, and named).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clickhouse_cluster as cc  # noqa: E402

DB = "wt_selftest"
PASSWORD = "s3cret pass'<&>"  # characters that would break a hand-written XML or URL
ROWS = [{"k": i, "v": f"row-{i}"} for i in range(100)]


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print(f"  ok: {what}", flush=True)


def count(server, sql, **kw):
    return int(server.query_value(sql, **kw))


def processes_mentioning(path):
    """pids of live processes whose command line mentions path (the test's temporary folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if path in cmd and "clickhouse" in cmd and state != "Z":
            found.append((int(pid), cmd.strip()))
    return found


def listen_addresses(port):
    """The local addresses of the listening TCP sockets on port (from /proc/net/tcp and tcp6)."""
    out = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, hport = f[1].split(":")
            if f[3] != "0A" or int(hport, 16) != port:  # 0A: LISTEN
                continue
            if v6:
                out.append("v6:" + addr)
            else:
                out.append(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


def wait_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


ORPHAN_CHILD = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import clickhouse_cluster as cc
s = cc.ClickHouseServer(sys.argv[2])
s.start()
print(s.pid, flush=True)
if sys.argv[3] == "exit":
    sys.exit(0)          # no stop(): the atexit hook must kill it
time.sleep(600)          # the parent SIGKILLs us: PDEATHSIG must kill it
"""


def orphan_check(tmp, how):
    """A child Python starts a server and then ends without stop(): by exiting (atexit) or by SIGKILL."""
    wd = os.path.join(tmp, f"orphan-{how}")
    p = subprocess.Popen([sys.executable, "-c", ORPHAN_CHILD, HERE, wd, how], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        check(line.isdigit(), f"[{how}] the child started a server (pid {line or '?'})")
        pid = int(line)
        if how == "kill":
            p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        check(wait_gone(pid), f"[{how}] its server (pid {pid}) died with it")
        check(not processes_mentioning(wd), f"[{how}] no process mentions {wd}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def run(tmp):
    t0 = time.monotonic()
    c = cc.ClickHouseCluster(os.path.join(tmp, "cluster"), 2, writer_password=PASSWORD)
    pids = []
    try:
        print(f"binary: {' '.join(cc.server_command())}")
        took = c.start()
        s1, s2 = c.servers
        pids = [s.pid for s in c.servers]
        print(f"start-up: 2 servers answered /ping after {took:.2f} s "
              f"({', '.join(f'{s.name} {s.url} tcp {s.tcp_port} pid {s.pid}' for s in c.servers)})", flush=True)
        check(s1.version().startswith("18.") or s1.version()[:2].isdigit(), f"version() = {s1.version()}")

        for s in c.servers:
            for port in (s.http_port, s.tcp_port, s.interserver_port):
                addrs = listen_addresses(port)
                if addrs != ["127.0.0.1"]:
                    raise Fail(f"{s.name} port {port} listens on {addrs}, expected only 127.0.0.1")
        print("  ok: every port of both servers listens on 127.0.0.1 only")
        clusters = s1.query(f"SELECT shard_num, host_address, port FROM system.clusters "
                            f"WHERE cluster = '{c.cluster_name}' ORDER BY shard_num FORMAT TSV")
        want = "".join(f"{i + 1}\t127.0.0.1\t{s.tcp_port}\n" for i, s in enumerate(c.servers))
        check(clusters == want, f"system.clusters has {c.cluster_name} with one shard per server")

        c.query_each(f"CREATE DATABASE IF NOT EXISTS {DB}")
        c.query_each(f"CREATE TABLE {DB}.t_local (k UInt64, v String) ENGINE = ReplacingMergeTree() ORDER BY k")
        c.query_each(f"CREATE TABLE {DB}.t AS {DB}.t_local ENGINE = Distributed({c.cluster_name}, {DB}, t_local, k)")

        body = cc.json_each_row(ROWS)
        s1.query(f"INSERT INTO {DB}.t FORMAT JSONEachRow", data=body, settings={"insert_distributed_sync": 1})
        for s in c.servers:
            check(count(s, f"SELECT count() FROM {DB}.t") == 100, f"count() of {DB}.t on {s.name} is 100")
        local = [count(s, f"SELECT count() FROM {DB}.t_local") for s in c.servers]
        check(all(n > 0 for n in local) and sum(local) == 100, f"both shards hold rows: {local}")

        s2.query(f"INSERT INTO {DB}.t FORMAT JSONEachRow", data=body, settings={"insert_distributed_sync": 1})
        plain = count(s1, f"SELECT count() FROM {DB}.t")
        check(100 <= plain <= 200, f"after the same 100 rows again, count() without FINAL is {plain}")
        check(count(s1, f"SELECT count() FROM {DB}.t FINAL") == 100, "count() FROM t FINAL is 100")
        check(s1.query(f"SELECT k, v FROM {DB}.t FINAL ORDER BY k FORMAT TSV")
              == "".join(f"{r['k']}\t{r['v']}\n" for r in ROWS), "t FINAL holds exactly the 100 rows")

        n = count(s1, f"SELECT count() FROM {DB}.t FINAL", user=cc.WRITER_USER, password=PASSWORD)
        check(n == 100, "user writer with its password can query")
        s2.query(f"INSERT INTO {DB}.t FORMAT JSONEachRow", data=ROWS[:1],
                 settings={"insert_distributed_sync": 1}, user=cc.WRITER_USER, password=PASSWORD)
        print("  ok: user writer with its password can insert")
        for user, pw, what in ((cc.WRITER_USER, "wrong", "a wrong password"), (cc.WRITER_USER, None, "no password"),
                               ("nosuchuser", "", "an unknown user")):
            try:
                s1.query("SELECT 1", user=user, password=pw)
            except cc.ClickHouseError as e:
                check(e.status is not None and e.code in (192, 193, 194),
                      f"{user} with {what} is refused: HTTP {e.status}, Code {e.code}: {e.text[:70]}")
            else:
                raise Fail(f"{user} with {what} was let in")
        try:
            s1.query("SELECT nosuchcolumn")
        except cc.ClickHouseError as e:
            check("nosuchcolumn" in e.text and e.code == 47,
                  f"a bad query raises with the server's text (HTTP {e.status}, Code {e.code})")
        else:
            raise Fail("a bad query did not raise")

        before = count(s2, f"SELECT count() FROM {DB}.t_local")
        old_pid = s2.pid
        s2.kill9()
        check(wait_gone(old_pid) and not s2.running(), f"kill9(): {s2.name} (pid {old_pid}) is gone")
        try:
            s1.query(f"SELECT count() FROM {DB}.t")
        except cc.ClickHouseError as e:
            print(f"  ok: with {s2.name} down the Distributed query fails: Code {e.code}")
        else:
            raise Fail(f"the Distributed query succeeded with {s2.name} down")
        ports = (s2.http_port, s2.tcp_port, s2.interserver_port)
        took = s2.restart()
        print(f"restart after kill -9: {took:.2f} s", flush=True)
        check((s2.http_port, s2.tcp_port, s2.interserver_port) == ports and s2.pid != old_pid,
              f"restart(): same ports {ports}, new pid {s2.pid}")
        check(count(s2, f"SELECT count() FROM {DB}.t_local") == before, f"{s2.name} kept its {before} local rows")
        check(count(s1, f"SELECT count() FROM {DB}.t FINAL") == 100, "count() FROM t FINAL is 100 again")

        took = s1.restart()
        check(count(s1, f"SELECT count() FROM {DB}.t FINAL") == 100, f"restart() of a running server ({took:.2f} s)")
        pids += [s.pid for s in c.servers]

        t = time.monotonic()
        c.stop()
        print(f"stop: {time.monotonic() - t:.2f} s", flush=True)
        check(all(not s.running() for s in c.servers), "stop(): no server runs")
        check(all(wait_gone(p, 1) for p in pids), f"none of the pids {sorted(set(pids))} is alive")
        left = processes_mentioning(tmp)
        check(not left, f"no clickhouse process mentions {tmp}" + (f": {left}" if left else ""))

        with cc.ClickHouseCluster(os.path.join(tmp, "ctx"), 2) as c2:
            check(all(s.running() for s in c2.servers),
                  f"context manager started 2 servers ({c2.last_start_seconds:.2f} s)")
            c2.query_each("SELECT 1")
        check(not any(s.running() for s in c2.servers), "context manager stopped them")
    finally:
        c.stop()

    orphan_check(tmp, "exit")
    orphan_check(tmp, "kill")
    left = processes_mentioning(tmp)
    check(not left, f"at the end no clickhouse process mentions {tmp}" + (f": {left}" if left else ""))
    print(f"total: {time.monotonic() - t0:.1f} s")


def main():
    keep = "--keep" in sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="wt-clickhouse-selftest-")
    try:
        run(tmp)
    except (Fail, cc.ClickHouseError, cc.ClickHouseStartError, AssertionError) as e:
        print(f"FAIL: {e}\n(its files are kept in {tmp})", file=sys.stderr, flush=True)
        return 1
    except Exception:
        traceback.print_exc()
        print(f"FAIL: unexpected exception (its files are kept in {tmp})", file=sys.stderr, flush=True)
        return 1
    if keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
