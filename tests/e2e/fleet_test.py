#!/usr/bin/env python3
"""A fleet of two appliances into one store (issue #19), with real servers on 127.0.0.1:

- a two-shard cluster of local ClickHouse servers (Debian's clickhouse-server), tables made by `wiretally
  schema --cluster` on each server, rows inserted through the Distributed tables;
- two `wiretally run` instances, sites "hq" and "lab", exporting flows and 2-second interval rows to both
  servers' URLs (a user with a password file). lab reads one capture through net_pcap. hq taps a veth
  (net_af_packet) into which the test plays the sample capture over and over at 400 packets a second until
  the faults are over, so that rows keep coming while the store is down;
- faults while they run: both servers stopped for --outage seconds (30 by default) and started again,
  one server killed with SIGKILL and started again, rows already stored inserted a second time (a batch
  ClickHouse kept although the client saw an error, then sent again);
- then the store must hold every flow and every interval row exactly once: per appliance its flows (as many
  as it counted connections) with their bytes, per appliance and service the connections and bytes of its own
  tally (lab: `ctl services`; hq, whose traffic never stops: the snapshot it writes on the way out, after the
  last rows), and across the fleet their sum;
- Prometheus (--web.enable-remote-write-receiver) and VictoriaMetrics, both fed by both appliances' remote
  write: each holds every appliance's series under its appliance and site labels, and the last value of each
  appliance's per-service bytes is that appliance's own tally;
- a spool too small for an outage: the oldest batches go, counted; once a server answers on the URL, the
  store holds exactly the rows the appliance says it sent, and the rows it says it dropped are the rest.

Usage: fleet_test.py WIRETALLY [--outage SECONDS]. Root (DPDK's runtime directory); exit 0, 1, or 77 (skip).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "app", "live"))
import livelib as L  # noqa: E402
from clickhouse_cluster import ClickHouseCluster, ClickHouseServer, ClickHouseError, free_ports  # noqa: E402

SAMPLE = os.path.join(ROOT, "tests", "data", "sample", "capture.pcap")
ECH = os.path.join(ROOT, "tests", "data", "ech", "ech-chromium.pcap")
PASSWORD = "fleet-s3cret"
UNCLASSIFIED = "(unclassified)"


def wait_for(pred, timeout, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()


def clickhouse_section(urls, *, interval="2s", spool="spool", spool_max_mb=64, batch_interval="1s", remote_write=()):
    rw = f'\n[remote_write]\nurl = {json.dumps(list(remote_write))}\ninterval = "2s"\ntimeout = "2s"\n' if remote_write else ""
    return rw + f"""
[clickhouse]
url = {json.dumps(urls)}
user = "writer"
password_file = "clickhouse.pass"
batch_interval = "{batch_interval}"
interval = "{interval}"
timeout = "2s"
spool = "{spool}"
spool_max_mb = {spool_max_mb}
"""


class Appliance:
    """One `wiretally run` exporting to ClickHouse."""

    def __init__(self, binary, tag, site, capture, urls, *, infinite=False, snapshot=False, iface=None, **clickhouse):
        self.name = f"box-{tag}"
        self.site = site
        self.workdir = L.make_workdir(f"fleet-{tag}")
        with open(os.path.join(self.workdir, "clickhouse.pass"), "w") as f:
            f.write(PASSWORD + "\n")
        self.daemon = L.Daemon(binary, self.workdir, f"wtfleet{tag}{L.unique_suffix()}")
        vdev = f"net_pcap0,rx_pcap={capture}" + (",infinite_rx=1" if infinite else "")
        if iface:
            vdev = f"net_af_packet0,iface={iface}"
        extra = f'\n[fleet]\nappliance = "{self.name}"\nsite = "{site}"\n' + clickhouse_section(urls, **clickhouse)
        self.daemon.write_config(L.config_text(prefix=self.daemon.prefix, vdevs=[vdev],
                                               ports=[("cap", vdev.split(",")[0], None)],
                                               socket=self.daemon.sock, memory_mb=512,
                                               snapshot=self.daemon.snapshot if snapshot else "", extra=extra))

    def start(self):
        self.daemon.start()

    def export(self):
        doc = self.daemon.stats(timeout=5)
        return (doc or {}).get("clickhouse") or {}

    def services(self):
        rc, doc, text = self.daemon.ctl("services")
        if rc != 0 or not isinstance(doc, dict):
            raise RuntimeError(f"ctl services: rc={rc} {text[:300]}")
        return {(r["service"] if r.get("service") else UNCLASSIFIED): r for r in doc.get("services", [])}

    def settled(self, seconds=1.5):
        """Waits until the capture is read (worker packets stop growing); returns the packets."""
        last = -1
        while True:
            rx = L.worker_rx(self.daemon.stats(timeout=5))
            if rx == last and rx > 0:
                return rx
            last = rx
            time.sleep(seconds)


class MetricsStore:
    """Prometheus with its remote-write receiver, or VictoriaMetrics, on a free loopback port with its own data folder."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.dir = os.path.join(workdir, kind)
        os.makedirs(self.dir)
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.write_url = f"{self.url}/api/v1/write"
        if kind == "prometheus":
            with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
                f.write("global:\n  scrape_interval: 1h\n")
            self.cmd = ["prometheus", f"--config.file={self.dir}/prometheus.yml", f"--storage.tsdb.path={self.dir}/data",
                        f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver"]
            self.ready_path = "/-/ready"
        else:
            self.cmd = ["victoria-metrics", f"-storageDataPath={self.dir}/data", f"-httpListenAddr=127.0.0.1:{self.port}",
                        "-search.latencyOffset=0s", "-retentionPeriod=1"]
            self.ready_path = "/health"
        self.proc = None
        L.on_cleanup(self.stop)

    def start(self, timeout=30):
        self.log = open(os.path.join(self.dir, "log"), "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ok = wait_for(lambda: self._get(self.ready_path) is not None, timeout)
        if not ok:
            raise RuntimeError(f"{self.kind} did not start: {self.cmd}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def _get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.read().decode()
        except OSError:
            return None

    def query(self, promql):
        """An instant query: {frozenset(labels.items()): value}."""
        if self.kind == "victoria-metrics":
            self._get("/internal/force_flush")
        text = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        if text is None:
            return None
        doc = json.loads(text)
        return {frozenset(r["metric"].items()): float(r["value"][1]) for r in doc.get("data", {}).get("result", [])}


class Player:
    """Plays a capture's frames into one end of a veth pair, over and over, at `pps`, until stopped."""

    def __init__(self, capture, pps=400):
        self.frames = [data for _, data in L.Pcap(capture).records]
        suffix = L.unique_suffix().split("-")[-1]
        self.near, self.far = f"wtfp{suffix}", f"wtft{suffix}"
        for cmd in (["ip", "link", "add", self.near, "type", "veth", "peer", "name", self.far],
                    ["ip", "link", "set", self.near, "mtu", "65535"], ["ip", "link", "set", self.far, "mtu", "65535"],
                    ["ip", "link", "set", self.near, "up"], ["ip", "link", "set", self.far, "up"]):
            r = L.run(cmd, timeout=10)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
        L.on_cleanup(lambda: L.run(["ip", "link", "del", self.near], timeout=10))
        self.pps = pps
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((self.near, 0))
        gap = 1.0 / self.pps
        next_at = time.monotonic()
        while not self._stop.is_set():
            for frame in self.frames:
                if self._stop.is_set():
                    break
                try:
                    sock.send(frame)
                    self.sent += 1
                except OSError:
                    pass
                next_at += gap
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        sock.close()


def snapshot_services(path):
    """The tally a stopped appliance wrote: {service: (connections, bytes up, bytes down)} as in ctl_services."""
    with open(path) as f:
        doc = json.load(f)
    out = {}
    rows = [(s["name"], s["stats"]) for s in doc.get("services", [])] + [(UNCLASSIFIED, doc.get("unclassified", {}))]
    for name, stats in rows:
        if stats.get("connections", 0) or stats.get("pkts_up", 0) or stats.get("pkts_down", 0):
            out[name] = (int(stats.get("connections", 0)), int(stats.get("bytes_up", 0)), int(stats.get("bytes_down", 0)))
    return out


def parse_rows(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def store_flows(server):
    return {r["appliance"]: r for r in parse_rows(server.query(
        "SELECT appliance, any(site) AS site, count() AS flows, sum(bytes_up) AS up, sum(bytes_down) AS down "
        "FROM wiretally.flows FINAL GROUP BY appliance FORMAT JSONEachRow"))}


def store_services(server, appliance=None):
    where = f"AND appliance = '{appliance}'" if appliance else ""
    rows = parse_rows(server.query(
        "SELECT ifNull(service, '(unclassified)') AS service, sum(connections) AS connections, sum(bytes_up) AS up, "
        f"sum(bytes_down) AS down FROM wiretally.intervals FINAL WHERE kind = 'service' {where} "
        "GROUP BY service FORMAT JSONEachRow"))
    return {r["service"]: (int(r["connections"]), int(r["up"]), int(r["down"])) for r in rows}


def ctl_services(services):
    return {name: (int(r.get("connections", 0)), int(r.get("bytes_up", 0)), int(r.get("bytes_down", 0)))
            for name, r in services.items()}


def store_named_bytes(server):
    """Bytes per domain name in the interval rows (FINAL), both appliances together."""
    rows = parse_rows(server.query("SELECT name, sum(bytes_up) + sum(bytes_down) AS b FROM wiretally.intervals FINAL "
                                   "WHERE kind = 'domain' GROUP BY name FORMAT JSONEachRow"))
    return {r["name"]: int(r["b"]) for r in rows}


def duplicates(server, table):
    """Rows of `table` (FINAL) minus distinct keys: 0 when every (appliance, batch_id, row) is there once."""
    return int(server.query(f"SELECT count() - uniqExact(appliance, batch_id, row) FROM wiretally.{table} FINAL").strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiretally")
    ap.add_argument("--outage", type=float, default=30.0, help="seconds both ClickHouse servers stay stopped")
    args = ap.parse_args()
    L.require_root("the fleet test")
    binary = os.path.abspath(args.wiretally)
    rep = L.Report("fleet")
    work = L.make_workdir("fleet-store")

    # ---- the store: two shards, tables on each server ------------------------------------------------
    cluster = ClickHouseCluster(os.path.join(work, "ch"), writer_password=PASSWORD)
    L.on_cleanup(cluster.stop)
    cluster.start()
    ch1, ch2 = cluster.servers
    rep.note(f"ClickHouse {ch1.version()} x2: {cluster.urls}")
    schema = L.run([binary, "schema", "--cluster", cluster.cluster_name], timeout=10)
    rep.check("wiretally schema --cluster exits 0", schema.returncode == 0, schema.stderr)
    for statement in [s for s in schema.stdout.split(";\n") if s.strip()]:
        cluster.query_each(statement)
    tables = set(ch1.query("SHOW TABLES FROM wiretally").split())
    rep.check("schema: local and Distributed tables on each server",
              tables == {"flows", "flows_local", "intervals", "intervals_local"}, str(tables))

    # ---- the metrics stores ------------------------------------------------------------------------------
    stores = [MetricsStore("prometheus", work), MetricsStore("victoria-metrics", work)]
    for store in stores:
        store.start()
    writes = [store.write_url for store in stores]

    # ---- two sites ---------------------------------------------------------------------------------------
    player = Player(SAMPLE)
    hq = Appliance(binary, "hq", "hq", SAMPLE, cluster.urls, snapshot=True, iface=player.far, remote_write=writes)
    lab = Appliance(binary, "lab", "lab", ECH, list(reversed(cluster.urls)), remote_write=writes)
    for box in (hq, lab):
        box.start()
    player.start()
    rep.note(f"{lab.name}: {lab.settled()} packets read")
    sent = wait_for(lambda: all(b.export().get("batches_sent", 0) >= 2 for b in (hq, lab)), 20)
    rep.check("both appliances send batches (flows and interval rows)", sent,
              json.dumps([hq.export(), lab.export()])[:400])
    rep.check("ctl stats: the server's version is known", hq.export().get("server_version") == ch1.version(),
              str(hq.export().get("server_version")))

    # ---- fault 1: the store down for --outage seconds ----------------------------------------------------
    before = {b.name: b.export() for b in (hq, lab)}
    for server in cluster.servers:
        server.stop()
    t0 = time.monotonic()
    spooled = wait_for(lambda: hq.export().get("batches_spooled", 0) > before[hq.name].get("batches_spooled", 0),
                       args.outage + 5)
    during = hq.export()
    rep.check("store down: interval rows go to the spool", spooled, json.dumps(during)[:400])
    rep.check("store down: ctl stats names the error", bool(during.get("last_error")), str(during.get("last_error")))
    time.sleep(max(0.0, args.outage - (time.monotonic() - t0)))
    for server in cluster.servers:
        server.restart()
    rep.note(f"both servers were down {time.monotonic() - t0:.1f} s")
    replayed = wait_for(lambda: hq.export().get("batches_replayed", 0) > 0 and
                        all(b.export().get("spool_batches", 1) == 0 for b in (hq, lab)), 60)
    after = hq.export()
    rep.check("store back: the spool is replayed and empty", replayed, json.dumps(after)[:400])
    rep.check("store back: nothing dropped", all(b.export().get("rows_dropped", 1) == 0 for b in (hq, lab)))

    # ---- fault 2: one server killed -9 while batches flow --------------------------------------------------
    count_before = hq.export().get("batches_sent", 0)
    ch1.kill9()
    wait_for(lambda: hq.export().get("batches_sent", 0) + hq.export().get("batches_spooled", 0) > count_before + 1, 15)
    ch1.restart()
    recovered = wait_for(lambda: all(b.export().get("spool_batches", 1) == 0 for b in (hq, lab)), 60)
    rep.check("kill -9 of one server: the appliances carry on (fail over or spool, then replay)", recovered,
              json.dumps([hq.export(), lab.export()])[:400])

    player.stop()
    rep.note(f"played {player.sent} frames into hq's port")
    hq.settled()

    # ---- the appliances' own tallies, then stop (the last flows and interval are exported on the way out) ----
    own = {lab.name: ctl_services(lab.services())}
    for b in (hq, lab):
        rc = b.daemon.stop()
        rep.check(f"{b.name}: SIGTERM exits 0", rc == 0, b.daemon.log_tail())
        tail = b.daemon.log_tail(5)
        rep.check(f"{b.name}: says what it sent and that the spool is empty", "0 in the spool" in tail, tail)
    own[hq.name] = snapshot_services(hq.daemon.snapshot)
    created = {name: sum(c for c, _, _ in table.values()) for name, table in own.items()}

    # ---- a batch ClickHouse kept although the client saw an error, sent again ----
    again = ch2.query("SELECT * FROM wiretally.flows WHERE appliance = 'box-hq' AND batch_id = "
                      "(SELECT min(batch_id) FROM wiretally.flows WHERE appliance = 'box-hq') FORMAT JSONEachRow")
    ch2.query("INSERT INTO wiretally.flows FORMAT JSONEachRow", data=again, user="writer", password=PASSWORD,
              settings={"insert_distributed_sync": 1})
    rep.note(f"inserted {len(again.splitlines())} stored flow rows again")

    # ---- the store: every flow once, the tallies of each appliance, and their sum ----
    def store_matches():
        flows = store_flows(ch1)
        return all(b.name in flows and int(flows[b.name]["flows"]) == created[b.name] for b in (hq, lab))

    wait_for(store_matches, 30)  # Distributed inserts reach the other shard asynchronously
    flows = store_flows(ch1)
    for b in (hq, lab):
        row = flows.get(b.name, {})
        rep.check(f"{b.name}: the store holds each of its {created[b.name]} flows once",
                  int(row.get("flows", -1)) == created[b.name], json.dumps(row))
        rep.check(f"{b.name}: flows carry the site", row.get("site") == b.site, json.dumps(row))
        total = sum(up + down for _, up, down in own[b.name].values())
        rep.check(f"{b.name}: the flows' bytes are the appliance's bytes ({total})",
                  int(row.get("up", 0)) + int(row.get("down", 0)) == total, json.dumps(row))
    # The copies are stored (until a background merge of the ReplacingMergeTree folds them); FINAL reads one.
    raw = int(ch1.query("SELECT count() FROM wiretally.flows").strip())
    rep.note(f"flows stored: {raw} rows without FINAL, {sum(created.values())} flows")
    rep.check("the batch sent twice is read once (FINAL): no (appliance, batch, row) twice", duplicates(ch1, "flows") == 0)
    rep.check("interval rows: no (appliance, batch, row) twice", duplicates(ch1, "intervals") == 0)
    facts = parse_rows(ch1.query(
        "SELECT appliance, countIf(ja4 IS NOT NULL) AS ja4, countIf(length(dns_answers) > 0) AS answered, "
        "countIf(dns_qtype IS NOT NULL) AS questions, countIf(sni IS NOT NULL) AS sni FROM wiretally.flows FINAL "
        "GROUP BY appliance FORMAT JSONEachRow"))
    for row in facts:
        rep.check(f"{row['appliance']}: flow rows carry the flow JSON's facts (JA4, SNI, DNS questions and answers)",
                  all(int(row[k]) > 0 for k in ("ja4", "answered", "questions", "sni")), json.dumps(row))
    for b in (hq, lab):
        stored = store_services(ch1, b.name)
        rep.check(f"{b.name}: per service, the interval rows add up to its own ctl services", stored == own[b.name],
                  f"store {stored} ctl {own[b.name]}")
    fleet = store_services(ch2)
    expected = {}
    for table in own.values():
        for service, (c, up, down) in table.items():
            e = expected.get(service, (0, 0, 0))
            expected[service] = (e[0] + c, e[1] + up, e[2] + down)
    rep.check("across the fleet: the sum of both appliances' tallies", fleet == expected,
              f"store {fleet} expected {expected}")

    # ---- wiretally query: the same tables across the fleet ----
    pass_file = os.path.join(work, "query.pass")
    with open(pass_file, "w") as f:
        f.write(PASSWORD + "\n")

    def query(*args):
        r = L.run([binary, "query", "--clickhouse", ch2.url, "--user", "writer", "--password-file", pass_file, *args],
                  timeout=60)
        return r.returncode, r.stdout, r.stderr

    def query_services(*args):
        rc, out, err = query("services", "--json", *args)
        if rc != 0:
            return {"error": err.strip()}
        doc = json.loads(out)
        return {(s.get("service") or UNCLASSIFIED): (s["connections"], s["bytes_up"], s["bytes_down"])
                for s in doc["services"]}

    got = query_services()
    rep.check("query services --json: every appliance's tallies summed", got == expected, f"got {got} want {expected}")
    got = query_services("--site", "lab")
    rep.check("query services --site lab: lab's own ctl services", got == own[lab.name], f"got {got}")
    got = query_services("--appliance", "box-hq")
    rep.check("query services --appliance box-hq: hq's own tally", got == own[hq.name], f"got {got}")
    rc, out, err = query("services")
    rep.check("query services (table): the ctl table with both appliances in its header",
              rc == 0 and "fleet: 2 appliances (box-hq, box-lab), sites hq, lab\n" in out and "SERVICE" in out, out[:600] + err)
    rep.note(out)
    for view in ("domains", "servers", "clients", "devices", "actions"):
        rc, out, err = query(view, "--json")
        doc = json.loads(out) if rc == 0 else {}
        rows = doc.get(view) or []
        rep.check(f"query {view} --json: rows from both appliances", rc == 0 and (rows or view == "actions"),
                  err.strip()[:300])
    rc, out, err = query("domains", "--json")
    domains = {d["domain"]: d for d in json.loads(out)["domains"]} if rc == 0 else {}
    named = store_named_bytes(ch1)
    rep.check("query domains: each name's bytes are the store's (both appliances)",
              {n: d["bytes_up"] + d["bytes_down"] for n, d in domains.items()} == named, f"{len(domains)} vs {len(named)}")
    rc, out, err = query("devices", "--json", "--site", "hq")
    devices = {d.get("mac"): d for d in (json.loads(out).get("devices", []) if rc == 0 else [])}
    offline = L.run([binary, "analyze", SAMPLE, "--format", "json"], timeout=120)
    phone = {d.get("mac"): d for d in json.loads(offline.stdout)["devices"]}.get("02:77:00:00:00:02", {})
    got = devices.get("02:77:00:00:00:02", {})
    rep.check("query devices: the phone at hq with the services the sample's own report gives it",
              phone.get("services") and set(got.get("services", [])) == set(phone["services"]) and got.get("randomized"),
              f"got {got.get('services')} want {phone.get('services')}")
    rc, out, err = query("servers")
    rep.check("query servers (table) exits 0", rc == 0, err)
    rep.note("\n".join(out.splitlines()[:12]))
    rc, out, err = L.run([binary, "query", "--clickhouse", "http://127.0.0.1:1", "services"], timeout=30).returncode, "", ""
    rep.check("query against a store that does not answer exits 69", rc == 69, str(rc))

    # ---- the README's SQL for the common questions runs on the store ----
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    block = readme.split("SQL for the common questions", 1)[-1].split("```sql", 1)[-1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";\n") if s.strip() and not s.strip().startswith("```")]
    rep.check("README: the SQL for the common questions is there", len(statements) >= 6, str(len(statements)))
    for statement in statements:
        title = statement.splitlines()[0].lstrip("- ")
        try:
            answer = ch1.query(statement.rstrip(";") + " FORMAT JSONEachRow")
            rep.check(f"README SQL runs: {title}", True)
            rep.note(f"{len(answer.splitlines())} row(s)")
        except ClickHouseError as e:
            rep.check(f"README SQL runs: {title}", False, str(e)[:300])

    # ---- remote write: every appliance's series, and their last values are its tallies ----
    for store in stores:
        for b in (hq, lab):
            want = {(name if name != UNCLASSIFIED else "unclassified"): down for name, (_, _, down) in own[b.name].items()}

            def last_values(store=store, b=b):
                got = store.query(f'wiretally_service_bytes_total{{appliance="{b.name}",direction="down"}}') or {}
                return {dict(k).get("service"): int(v) for k, v in got.items()}

            got = wait_for(lambda: last_values() == want and last_values(), 20, step=0.5) or last_values()
            rep.check(f"{store.kind}: {b.name}'s service bytes by remote write are its tallies", got == want,
                      f"got {got} want {want}")
        sites = store.query('count by (appliance, site) (wiretally_uptime_seconds)') or {}
        rep.check(f"{store.kind}: series carry appliance and site labels",
                  {(dict(k).get("appliance"), dict(k).get("site")) for k in sites} == {("box-hq", "hq"), ("box-lab", "lab")},
                  str(sites))

    # ---- analyze --export: a capture file into the same store ----
    analysed = L.run([binary, "analyze", ECH, "--format", "json", "--export", ch1.url, "--export-user", "writer",
                      "--export-password-file", pass_file, "--appliance", "box-field", "--site", "field"], timeout=120)
    rep.check("analyze --export exits 0 and says what it stored", analysed.returncode == 0 and
              "rows stored in" in analysed.stderr, analysed.stderr[-500:])
    offline = {}
    if analysed.returncode == 0:
        doc = json.loads(analysed.stdout)
        for row in doc["services"]:
            offline[row.get("service") or UNCLASSIFIED] = (row["connections"], row["bytes_up"], row["bytes_down"])
    got = wait_for(lambda: query_services("--appliance", "box-field", "--since", "1000000h") == offline and offline, 30) \
        or query_services("--appliance", "box-field", "--since", "1000000h")
    rep.check("analyze --export: query gives the offline report's services", got == offline, f"got {got} want {offline}")
    wait_for(lambda: int(store_flows(ch2).get("box-field", {}).get("flows", 0)) == sum(c for c, _, _ in offline.values()), 30)
    field = store_flows(ch2).get("box-field", {})
    rep.check("analyze --export: one flow row per connection, with the site",
              int(field.get("flows", -1)) == sum(c for c, _, _ in offline.values()) and field.get("site") == "field",
              json.dumps(field))
    refused = L.run([binary, "analyze", ECH, "--export", "http://127.0.0.1:1", "-o", os.path.join(work, "r.txt")],
                    timeout=120)
    rep.check("analyze --export to a store that does not answer: the report, then exit 69",
              refused.returncode == 69 and "not stored" in refused.stderr and os.path.getsize(os.path.join(work, "r.txt")) > 0,
              f"rc={refused.returncode} {refused.stderr[-300:]}")

    # ---- a spool too small for an outage ----
    port = free_ports(1)[0]
    late_url = f"http://127.0.0.1:{port}"
    small = Appliance(binary, "small", "edge", SAMPLE, [late_url], infinite=True, interval="1s", spool_max_mb=1,
                      batch_interval="500ms")
    small.start()
    dropped = wait_for(lambda: small.export().get("rows_dropped", 0) > 0, 90, step=1)
    mid = small.export()
    rep.check("spool full: the oldest batches are dropped and counted", dropped, json.dumps(mid)[:400])
    rep.check("spool full: the spool stays within its bound", int(mid.get("spool_bytes", 1 << 30)) <= 1 << 20,
              str(mid.get("spool_bytes")))
    late = ClickHouseServer(os.path.join(work, "late"), writer_password=PASSWORD, http_port=port)
    L.on_cleanup(late.stop)
    late.start()
    for statement in [s for s in L.run([binary, "schema"], timeout=10).stdout.split(";\n") if s.strip()]:
        late.query(statement)
    drained = wait_for(lambda: small.export().get("spool_batches", 1) == 0 and small.export().get("rows_replayed", 0) > 0,
                       60, step=0.5)
    rep.check("spool full: replayed once a server answers", drained, json.dumps(small.export())[:400])
    rc = small.daemon.stop()
    rep.check("spool full: SIGTERM exits 0", rc == 0, small.daemon.log_tail())
    final = {}
    log = small.daemon.log_tail(3)
    for line in log.splitlines():
        if "clickhouse:" in line:
            final["line"] = line.strip()
    # After the stop, the counters are those of the log line: N rows sent, 0 in the spool, M dropped.
    words = final.get("line", "").split()
    try:
        rows_sent = int(words[words.index("rows") - 1])
        rows_dropped = int(words[words.index("dropped") - 1].rstrip(","))
    except (ValueError, IndexError):
        rows_sent, rows_dropped = -1, -1
    stored = int(late.query("SELECT count() FROM wiretally.flows FINAL").strip()) + \
        int(late.query("SELECT count() FROM wiretally.intervals FINAL").strip())
    rep.check(f"spool full: the store holds exactly the rows sent ({rows_sent}); {rows_dropped} counted as dropped",
              stored == rows_sent and rows_dropped > 0, f"stored {stored}; {final.get('line')}")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
