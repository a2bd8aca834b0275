"""The live appliance as the inline test's forwarder (`wiretally run --config CFG`), its control socket, and the
appliance-only checks (a)-(f) of the inline test. Standard library only; every command runs with a timeout.

JSON contract of `wiretally ctl --socket SOCK CMD --json` that these checks rely on:
  services -> {"services": [{"service": NAME|null, "connections": N, "pkts_up", "pkts_down", "bytes_up",
                             "bytes_down", "tls_versions": {"TLSv1.2": n, ...}, "alpn": {..}, "ciphers": {..}}],
               "total": {...}}
  domains  -> {"domains": [{"domain", "service", "connections", "bytes_up", "bytes_down", "tls_versions"}]}
  flows    -> {"flows": [{"name", "service", "action", "client", "server", "server_port", "bytes_up",
                          "bytes_down", "tls_version"}]}
  stats    -> {"ports": [{"name", "rx_packets", "tx_packets", "rx_dropped", "tx_dropped"}], "workers": [...]}
  `ctl mark LABEL` (new flows carry that action), `ctl reload` (re-reads the services file); SIGTERM writes the
  snapshot file and exits 0; with resume = true a restart starts from the snapshot's totals.
"""
import json
import os
import shutil
import subprocess
import signal
import sys
import threading
import time

import lab as L

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from wt_ctl import ctl_answer  # noqa: E402
# The scraper another part of the suite provides; WTINLINE_PROMETHEUS_SCRAPE points elsewhere (self-tests).
PROMETHEUS_SCRAPE = os.environ.get("WTINLINE_PROMETHEUS_SCRAPE") or \
    os.path.normpath(os.path.join(HERE, "..", "prometheus_scrape.py"))
SETTLE_TIMEOUT = 8.0  # closed_linger (1 s) + stats interval (200 ms) + slack, polled

SERVICES_TOML = """\
# written by tests/e2e/inline/inline_test.py
[[service]]
name = "Shop"
patterns = ["shop.example", "cdn.example"]

[[service]]
name = "Stream"
patterns = ["stream.example"]
"""
SERVICES_TOML_RELOADED = """\
# written by tests/e2e/inline/inline_test.py (after the reload: cdn.shop.example moved to CDN)
[[service]]
name = "CDN"
patterns = ["=cdn.shop.example"]

[[service]]
name = "Shop"
patterns = ["shop.example", "cdn.example"]

[[service]]
name = "Stream"
patterns = ["stream.example"]
"""


def config_toml(tmp, wtc, wts, suffix, metrics_port, cores):
    return f"""\
# written by tests/e2e/inline/inline_test.py
[eal]
cores = [{", ".join(str(c) for c in cores)}]
hugepages = false
memory_mb = 256
vdevs = ["net_af_packet0,iface={wtc}", "net_af_packet1,iface={wts}"]
file_prefix = "wt-inline-{suffix}"

[run]
mode = "inline"
workers = 1

[[port]]
name = "client"
device = "net_af_packet0"
peer = "server"

[[port]]
name = "server"
device = "net_af_packet1"
peer = "client"

[flows]
closed_linger = "1s"

[services]
file = "{tmp}/services.toml"

[stats]
interval = "200ms"

[control]
socket = "{tmp}/wt.sock"

[snapshot]
file = "{tmp}/snapshot.json"
resume = true

[http]
listen = "127.0.0.1:{metrics_port}"
"""


class WiretallyForwarder:
    kind = "wiretally"
    is_appliance = True

    def __init__(self, lab, binary, cores=(0, 1)):
        self.lab = lab
        self.binary = os.path.abspath(binary)
        self.tmp = os.path.join(lab.workdir, "wt")
        os.makedirs(self.tmp, exist_ok=True)
        self.sock = os.path.join(self.tmp, "wt.sock")
        self.snapshot = os.path.join(self.tmp, "snapshot.json")
        self.services_file = os.path.join(self.tmp, "services.toml")
        self.config = os.path.join(self.tmp, "wiretally.toml")
        self.metrics_port = L.free_tcp_port()
        self.cores = list(cores)
        self.proc = None
        self.logpath = None
        self.starts = 0
        self.write_services(SERVICES_TOML)
        with open(self.config, "w") as f:
            f.write(config_toml(self.tmp, lab.wtc, lab.wts, lab.suffix, self.metrics_port, self.cores))

    def write_services(self, text):
        tmp = self.services_file + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.services_file)  # atomic: a reload never reads half a file

    def start(self, timeout=30.0):
        self.starts += 1
        self.proc, self.logpath = self.lab.procs.start(f"wiretally-{self.starts}",
                                                       [self.binary, "run", "--config", self.config])
        deadline = L.now() + timeout
        last = ""
        while L.now() < deadline:
            if self.proc.poll() is not None:
                raise L.LabError(f"wiretally run exited with {self.proc.returncode}:\n"
                                 f"{self.lab.procs.tail(self.logpath, 15)}")
            if os.path.exists(self.sock):
                rc, doc, text = self.ctl("stats")
                if rc == 0 and isinstance(doc, dict):
                    return
                last = text
            time.sleep(0.2)
        raise L.LabError(f"wiretally not ready after {timeout:.0f}s (ctl stats: {last.strip()[:200]}):\n"
                         f"{self.lab.procs.tail(self.logpath, 15)}")

    def stop(self, sig=signal.SIGTERM, grace=20.0):
        if self.proc is None:
            return None
        rc = L.Procs.stop(self.proc, sig, grace)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        """After the last stop: the EAL runtime directory of our own (unique) file prefix."""
        if not self.alive():
            shutil.rmtree(f"/var/run/dpdk/wt-inline-{self.lab.suffix}", ignore_errors=True)

    def ctl(self, *args, json_out=True, timeout=10):
        """Runs `wiretally ctl --socket SOCK ARGS [--json]`: (rc, parsed JSON or None, raw text)."""
        cmd = [self.binary, "ctl", "--socket", self.sock, *args] + (["--json"] if json_out else [])
        return ctl_answer(L.run(cmd, timeout=timeout), json_out)


# ------------------------------------------------------------------------------------------------ helpers
def poll(fn, timeout=SETTLE_TIMEOUT, interval=0.25):
    """Calls fn() -> (ok, value) until ok or timeout; returns the last (ok, value)."""
    deadline = L.now() + timeout
    while True:
        ok, value = fn()
        if ok or L.now() >= deadline:
            return ok, value
        time.sleep(interval)


def by_key(rows, key):
    out = {}
    for r in rows or []:
        if isinstance(r, dict):
            out.setdefault(r.get(key), r)
    return out


def num(row, key):
    v = (row or {}).get(key)
    return v if isinstance(v, (int, float)) else 0


def services_doc(fwd):
    rc, doc, text = fwd.ctl("services")
    if rc != 0 or not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        return None, f"ctl services --json: rc={rc} {text.strip()[:300]}"
    return by_key(doc["services"], "service"), ""


def port_drops(fwd):
    rc, doc, text = fwd.ctl("stats")
    if rc != 0 or not isinstance(doc, dict) or not isinstance(doc.get("ports"), list):
        return None, f"ctl stats --json: rc={rc} {text.strip()[:300]}"
    return sum(num(p, "rx_dropped") + num(p, "tx_dropped") for p in doc["ports"]), doc


def expected_per_service(ctx):
    """What phase 2 made, per service: fetch counts, TLS versions, body bytes, and capture IP-byte bounds."""
    exp = {}
    for f in ctx["fetches"]:
        if not f.ok:
            continue
        n = L.Lab.name(f.name)
        e = exp.setdefault(n.service, {"connections": 0, "TLSv1.2": 0, "TLSv1.3": 0, "quic": 0, "bodies": 0,
                                       "names": set()})
        e["connections"] += 1
        if f.version in ("TLSv1.2", "TLSv1.3"):
            e[f.version] += 1
        e["bodies"] += f.size
        e["names"].add(f.name)
    if ctx.get("quic_ok"):
        n = L.Lab.name(L.QUIC_NAME)
        e = exp.setdefault(n.service, {"connections": 0, "TLSv1.2": 0, "TLSv1.3": 0, "quic": 0, "bodies": 0,
                                       "names": set()})
        e["connections"] += 1
        e["quic"] += 1
        e["bodies"] += n.body_size
        e["names"].add(n.name)
    # Upper bounds: every IP byte the capture saw to/from the service's addresses, plus all DNS.
    for svc, e in exp.items():
        addrs = {a for n in L.NAMES if n.service == svc for a in (n.addr4, n.addr6)}
        up = down = 0
        for (proto, server, sport, _, _), c in ctx["capture"].items():
            if server in addrs or sport == 53:
                up += c["bytes_up"]
                down += c["bytes_down"]
        e["ip_up"], e["ip_down"] = up, down
    return exp


# ------------------------------------------------------------------------------------------------ checks
def check_stats(rep, lab, fwd, ctx):
    """(a0) ctl stats: both ports present, traffic both ways, each port's tx close to its peer's rx."""
    rc, doc, text = fwd.ctl("stats")
    if not rep.check("appliance stats: ctl stats --json answers", rc == 0 and isinstance(doc, dict)
                     and isinstance(doc.get("ports"), list), text.strip()[:300]):
        return
    ports = by_key(doc["ports"], "name")
    have = rep.check("appliance stats: ports 'client' and 'server' listed", {"client", "server"} <= set(ports),
                     f"ports: {sorted(str(k) for k in ports)}")
    if not have:
        return
    c, s = ports["client"], ports["server"]
    rep.check("appliance stats: packets received and sent on both ports",
              all(num(p, k) > 0 for p in (c, s) for k in ("rx_packets", "tx_packets")),
              f"client {c} server {s}")
    # Forwarded packets: what one port received, its peer sent (modulo drops and the last few in flight).
    ok = all(num(b, "tx_packets") + num(b, "tx_dropped") >= 0.95 * num(a, "rx_packets") - 5
             for a, b in ((c, s), (s, c)))
    rep.check("appliance stats: every received packet forwarded to the peer port", ok, f"client {c} server {s}")
    rep.check("appliance stats: workers listed", isinstance(doc.get("workers"), list) and len(doc["workers"]) >= 1,
              f"workers: {doc.get('workers')!r:.200}")
    # The veths keep their default offloads: the appliance finished what the senders left to them.
    off = doc.get("offload") or {}
    rep.check("appliance stats: partial checksums completed and super-frames cut to the MTU in software, none "
              f"dropped ({off})", num(off, "checksums_completed") > 0 and num(off, "super_frames_cut") > 0 and
              num(off, "segments_sent") > num(off, "super_frames_cut") and num(off, "unsplittable_dropped") == 0 and
              num(off, "segment_pool_empty") == 0, str(off))


def show_tables(fwd, commands):
    """Prints what a person sees (`wiretally ctl COMMAND`, tables) into the test log."""
    for command in commands:
        rc, _, text = fwd.ctl(command, json_out=False)
        print(f"# $ wiretally ctl {command}   (exit {rc})", flush=True)
        for line in text.rstrip().splitlines():
            print(f"#   {line}", flush=True)


def check_services(rep, lab, fwd, ctx):
    """(a) per-service connections, TLS versions and bytes against what phase 2 fetched and captured."""
    exp = expected_per_service(ctx)

    def settled():
        svcs, err = services_doc(fwd)
        if svcs is None:
            return False, (None, err)
        ok = all(num(svcs.get(name), "connections") >= e["connections"] and
                 num(svcs.get(name), "bytes_down") >= e["bodies"] for name, e in exp.items())
        return ok, (svcs, "")

    _, (svcs, err) = poll(settled)
    if not rep.check("services: ctl services --json answers", svcs is not None, err):
        return
    for name, e in sorted(exp.items()):
        row = svcs.get(name)
        if not rep.check(f"services: {name} listed", row is not None,
                         f"services listed: {sorted(str(k) for k in svcs)}"):
            continue
        rep.check(f"services: {name} connections >= {e['connections']} fetches", num(row, "connections") >=
                  e["connections"], f"connections={row.get('connections')}")
        tv = row.get("tls_versions") if isinstance(row.get("tls_versions"), dict) else {}
        rep.check(f"services: {name} TLSv1.2 count == {e['TLSv1.2']}", tv.get("TLSv1.2", 0) == e["TLSv1.2"],
                  f"tls_versions={tv}")
        lo, hi = e["TLSv1.3"], e["TLSv1.3"] + e["quic"]  # QUIC's handshake is TLS 1.3: counted or not
        rep.check(f"services: {name} TLSv1.3 count in [{lo}, {hi}]", lo <= tv.get("TLSv1.3", 0) <= hi,
                  f"tls_versions={tv}")
        bd = num(row, "bytes_down")
        rep.check(f"services: {name} bytes_down in [bodies {e['bodies']}, captured IP bytes {e['ip_down']}]",
                  e["bodies"] <= bd <= e["ip_down"], f"bytes_down={bd}")
        bu = num(row, "bytes_up")
        rep.check(f"services: {name} bytes_up in [1, captured IP bytes {e['ip_up']}]", 0 < bu <= e["ip_up"],
                  f"bytes_up={bu}")


def check_domains(rep, lab, fwd, ctx):
    """(b) every fetched name is a domain row with the right service and its CNAME chain; the chain's names map
    to Shop."""
    rc, doc, text = fwd.ctl("domains")
    if not rep.check("domains: ctl domains --json answers", rc == 0 and isinstance(doc, dict) and
                     isinstance(doc.get("domains"), list), text.strip()[:300]):
        return
    rows = by_key(doc["domains"], "domain")
    fetched = {}
    for f in ctx["fetches"]:
        if f.ok:
            fetched[f.name] = fetched.get(f.name, 0) + 1
    if ctx.get("quic_ok"):
        fetched[L.QUIC_NAME] = fetched.get(L.QUIC_NAME, 0) + 1
    for name, count in sorted(fetched.items()):
        n = L.Lab.name(name)
        row = rows.get(name)
        rep.check(f"domains: {name} -> {n.service}, connections >= {count}",
                  row is not None and row.get("service") == n.service and num(row, "connections") >= count,
                  f"row={row}" if row else f"not listed; domains: {sorted(str(k) for k in rows)}")
    for n in L.NAMES:
        if n.cname_chain and n.name in fetched:
            row = rows.get(n.name) or {}
            rep.check(f"domains: {n.name} shows its CNAME chain {' -> '.join(n.cname_chain)} (dnsmasq's answer)",
                      row.get("cnames") == list(n.cname_chain), f"cnames={row.get('cnames')}")
        for cname in n.cname_chain:
            row = rows.get(cname)
            if row is None:
                rep.note(f"domains: CNAME {cname} has no row of its own (connections are named by SNI)")
                continue
            rep.check(f"domains: CNAME chain name {cname} -> {n.service}", row.get("service") == n.service,
                      f"row={row}")


def check_servers(rep, lab, fwd, ctx):
    """(b2) ctl servers: every fetched name is listed under its server address, with the way it was learnt;
    the servers' flows add up to the services' (every flow has a server); the table form lists them too."""
    rc, doc, text = fwd.ctl("servers", "--top", "1000")
    if not rep.check("servers: ctl servers --json answers", rc == 0 and isinstance(doc, dict) and
                     isinstance(doc.get("servers"), list), text.strip()[:300]):
        return
    names_at = {}
    for row in doc["servers"]:
        if isinstance(row, dict):
            names_at[row.get("address")] = {n.get("name"): n for n in row.get("names", []) if isinstance(n, dict)}
        rep.check(f"servers: {row.get('address')} hosting is null or named, never \"\"",
                  all(row.get(k) is None or row.get(k) != "" for k in ("asn", "as_org", "country")), f"row={row}")
    fetched = sorted({f.name for f in ctx["fetches"] if f.ok} | ({L.QUIC_NAME} if ctx.get("quic_ok") else set()))
    for name in fetched:
        n = L.Lab.name(name)
        where = [a for a in (n.addr4, n.addr6) if name in names_at.get(a, {})]
        rep.check(f"servers: {name} listed under its address ({n.addr4} or {n.addr6})", bool(where),
                  f"names by address: { {a: sorted(v) for a, v in names_at.items()} }")
        for a in where:
            sources = names_at[a][name].get("sources", [])
            rep.check(f"servers: {name} at {a} learnt from sni, quic_sni or dns",
                      bool(set(sources) & {"sni", "quic_sni", "dns"}), f"sources={sources}")
    rc, _, table = fwd.ctl("servers", json_out=False)
    rep.check("servers: ctl servers prints the table", rc == 0 and "SERVER" in table and "ORGANISATION" in table,
              table.strip()[:300])
    # Issue #15: the phone's IPv4 and IPv6 addresses are one device in ctl devices (one MAC).
    rc, doc, text = fwd.ctl("devices")
    devices = doc.get("devices") if isinstance(doc, dict) else None
    mine = [d for d in devices or [] if L.CLIENT4 in d.get("addresses", [])]
    rep.check("devices: ctl devices --json: the phone's addresses under one MAC, with its flows and services",
              len(mine) == 1 and mine[0].get("mac") and L.CLIENT6 in mine[0].get("addresses", []) and
              mine[0].get("flows", 0) > 0 and "Shop" in mine[0].get("services", []), text.strip()[:400])
    if mine:
        mac = mine[0]["mac"]
        rc, doc, text = fwd.ctl("devices", "--device", mac.upper())
        one = doc.get("device") if isinstance(doc, dict) else None
        rep.check("devices: ctl devices --device MAC (any case) --json: that device with the domains it talked to",
                  rc == 0 and isinstance(one, dict) and one.get("mac") == mac and
                  "api.shop.example" in (one.get("domains") or []), text.strip()[:400])
        rc, _, table = fwd.ctl("devices", "--device", mac, json_out=False)
        rep.check("devices: ctl devices --device MAC prints that device and its domains",
                  rc == 0 and mac in table and "domains: " in table and "api.shop.example" in table,
                  table.strip()[:400])
    learnt = [d for d in devices or [] if "arp" in d.get("learned_from", []) or "nd" in d.get("learned_from", [])]
    rep.check("devices: ARP and Neighbour Discovery seen on the wire add addresses to the devices (learned_from)",
              len(learnt) > 0, text.strip()[:400])
    rc, _, text = fwd.ctl("devices", "--device", "not-a-mac", json_out=False)
    rep.check("devices: --device with a malformed MAC is an error that says so",
              rc != 0 and "is not a MAC address" in text, text.strip()[:300])
    rc, _, text = fwd.ctl("devices", "--device", "0e:00:00:00:00:99", json_out=False)
    rep.check("devices: --device with an unknown MAC is an error that says so",
              rc != 0 and "no device with MAC 0e:00:00:00:00:99" in text, text.strip()[:300])
    # The lab's phone uses plain DNS (dnsmasq) only: the encrypted DNS view must say so, live as offline.
    rc, doc, text = fwd.ctl("dns")
    edns = doc.get("encrypted_dns") if isinstance(doc, dict) else None
    rep.check("dns: ctl dns --json: no DoT, DoH or DoQ, the plain lookups counted",
              isinstance(edns, dict) and edns["dot"]["attempts"] == 0 and edns["doh"]["flows"] == 0 and
              edns["doq"]["flows"] == 0 and edns["plain_dns"] > 0, text.strip()[:300])
    rc, _, table = fwd.ctl("dns", json_out=False)
    rep.check("dns: ctl dns prints the sentences", rc == 0 and "Encrypted DNS" in table and "No encrypted DNS seen" in table,
              table.strip()[:300])


def check_mark(rep, lab, fwd, ctx):
    """(c) ctl mark Checkout, then a fetch: its flow carries action Checkout in ctl flows --json."""
    rc, _, text = fwd.ctl("mark", "Checkout", json_out=False)
    if not rep.check("mark: ctl mark Checkout", rc == 0, text.strip()[:300]):
        return
    # Issue #15: the mark shows in ctl actions at once, before any flow carries it.
    rc, doc, text = fwd.ctl("actions")
    rep.check("mark: ctl actions --json names Checkout as the action under way at once",
              rc == 0 and isinstance(doc, dict) and doc.get("current") == "Checkout" and
              "Checkout" in (doc.get("labels") or []), text.strip()[:300])
    rc, _, table = fwd.ctl("actions", json_out=False)
    rep.check("mark: ctl actions prints the action under way", rc == 0 and "action under way: Checkout" in table,
              table.strip()[:300])
    n = L.Lab.name("api.shop.example")
    # Rate-limited so that the flow is still open (not yet lingered out) while we look at ctl flows.
    p, finish = lab.curl(n.name, L.BODY_PATH, "1.3", limit_rate=n.body_size // 2, popen=True)
    seen, last = None, ""
    deadline = L.now() + 12
    done_at = None
    while L.now() < deadline:
        rc, doc, text = fwd.ctl("flows")
        if rc == 0 and isinstance(doc, dict) and isinstance(doc.get("flows"), list):
            for fl in doc["flows"]:
                if isinstance(fl, dict) and fl.get("name") == n.name and fl.get("server") == n.addr4:
                    last = fl
                    if fl.get("action") == "Checkout":
                        seen = fl
            # A flow in progress is listed from its first packet; its TLS fields come with the
            # handshake: wait for them (or for the fetch to end) before checking them.
            if seen and seen.get("tls_version"):
                break
        else:
            last = text.strip()[:300]
        if p.poll() is not None:
            done_at = done_at or L.now()
            if L.now() - done_at > 1.5:
                break
        time.sleep(0.2)
    fetch = finish()
    rep.check("mark: fetch after the mark succeeded", fetch.ok and fetch.size == n.body_size, fetch.describe())
    rep.check("mark: its flow carries action 'Checkout' in ctl flows --json", seen is not None,
              f"last matching flow / answer: {last}")
    if seen:
        rep.check("mark: the flow's fields (service Shop, client, server_port 443, TLSv1.3)",
                  seen.get("service") == "Shop" and seen.get("client") == L.CLIENT4 and
                  seen.get("server_port") == 443 and seen.get("tls_version") == "TLSv1.3", f"flow={seen}")
    # Once tallied (a stats interval later), ctl actions has the row Checkout / api.shop.example.
    row, doc = None, None
    deadline = L.now() + 8
    while L.now() < deadline and row is None:
        rc, doc, _ = fwd.ctl("actions", "--top", "1000")
        actions = doc.get("actions", []) if rc == 0 and isinstance(doc, dict) else []
        block = next((a for a in actions if isinstance(a, dict) and a.get("action") == "Checkout"), None)
        row = next((d for d in (block or {}).get("domains", []) if d.get("name") == n.name), None)
        time.sleep(0.3)
    rep.check("mark: ctl actions --json has the row Checkout / api.shop.example, new, with its bytes and TLS 1.3",
              row is not None and row.get("connections_new", 0) >= 1 and row.get("bytes_down", 0) >= n.body_size
              and (row.get("tls_versions") or {}).get("TLSv1.3", 0) >= 1,
              f"row={row} answer={str(doc)[:300]}")
    rc, _, table = fwd.ctl("actions", json_out=False)
    rep.check("mark: ctl actions prints the analyst's table with the Checkout block and its name",
              rc == 0 and "NEW REUSED" in table and "NOTES" in table and
              any(line.startswith("Checkout") for line in table.splitlines()) and n.name in table,
              table.strip()[:600])


def check_reload(rep, lab, fwd, ctx):
    """(d) move cdn.shop.example to a new service CDN and reload while a fetch loop runs: no failed fetch, new
    fetches counted under CDN, no port drop increase."""
    drops_before, doc = port_drops(fwd)
    if not rep.check("reload: ctl stats --json before", drops_before is not None, str(doc)):
        return
    stop = threading.Event()
    results = []

    def loop():
        while not stop.is_set():
            results.append(lab.curl("api.shop.example", L.BODY_PATH, "1.3", max_time=10))

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        time.sleep(1.0)
        fwd.write_services(SERVICES_TOML_RELOADED)
        rc, _, text = fwd.ctl("reload", json_out=False)
        rep.check("reload: ctl reload", rc == 0, text.strip()[:300])
        time.sleep(0.5)
        n = L.Lab.name("cdn.shop.example")
        cdn = [lab.curl(n.name, L.BODY_PATH, tls) for tls in ("1.3", "1.2", "1.3")]
        rep.check("reload: fetches of cdn.shop.example after the reload succeeded",
                  all(f.ok and f.size == n.body_size for f in cdn), "; ".join(f.describe() for f in cdn))
        time.sleep(1.0)
    finally:
        stop.set()
        t.join(timeout=40)
    failed = [f for f in results if not (f.ok and f.size == L.Lab.name("api.shop.example").body_size)]
    rep.check(f"reload: no fetch failed in the background loop during the reload ({len(results)} fetches)",
              len(results) >= 2 and not failed, "; ".join(f.describe() for f in failed[:3]) or
              f"only {len(results)} fetches")

    ok, (svcs, err) = poll(lambda: (lambda s: (s[0] is not None and num(s[0].get("CDN"), "connections") >= 3, s))(
        services_doc(fwd)))
    rep.check("reload: the new fetches count under service CDN (connections >= 3)", ok,
              err or f"CDN row: {(svcs or {}).get('CDN')}")
    if ok:
        rep.check("reload: CDN bytes_down >= 3 bodies", num(svcs["CDN"], "bytes_down") >= 3 * n.body_size,
                  f"CDN row: {svcs['CDN']}")
    drops_after, doc = port_drops(fwd)
    rep.check("reload: no port drop increase", drops_after is not None and drops_after <= drops_before,
              f"drops before={drops_before} after={drops_after}")


def check_reload_rereads_the_configuration(rep, lab, fwd, ctx):
    """(d2) reload reads the configuration again: a [services] file changed in it is loaded and named; two
    reloads 100 ms apart both get an answer; a broken services file is refused with FILE:LINE and the
    services stay; SIGHUP reloads too."""
    moved = os.path.join(fwd.tmp, "services-moved.toml")
    with open(moved, "w") as f:
        f.write(SERVICES_TOML_RELOADED.replace('name = "Stream"', 'name = "Video"'))
    with open(fwd.config) as f:
        original = f.read()
    with open(fwd.config, "w") as f:
        f.write(original.replace(f'file = "{fwd.services_file}"', f'file = "{moved}"'))
    rc, doc, text = fwd.ctl("reload")
    message = (doc or {}).get("message", "")
    rep.check(f"reload: the configuration's new [services] file is loaded and named ({message[:120]})",
              rc == 0 and moved in message and "changed" in message, text.strip()[:300])
    # Workers take the new classifier with their next stats interval: fetch once every worker has it.
    generation = (doc or {}).get("generation")
    adopted, _ = poll(lambda: (lambda st: (st is not None and all(
        w.get("classifier_generation") == generation for w in st.get("workers", [])), None))(fwd.ctl("stats")[1]))
    rep.check(f"reload: every worker runs generation {generation} within the settle time", adopted)
    f = lab.curl("video.stream.example", L.BODY_PATH, "1.3")
    ok, (svcs, err) = poll(lambda: (lambda s: (s[0] is not None and num(s[0].get("Video"), "connections") >= 1, s))(
        services_doc(fwd)))
    rep.check("reload: a fetch after it counts under the new file's service Video", f.ok and ok,
              f"{f.describe()}; services {sorted(str(k) for k in (svcs or {}))}")

    # Two reloads 100 ms apart: the second is taken while the first is handed over; both answer.
    first = subprocess.Popen([fwd.binary, "ctl", "--socket", fwd.sock, "reload", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(0.1)
    second = subprocess.Popen([fwd.binary, "ctl", "--socket", fwd.sock, "reload", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    answers = []
    for p in (first, second):
        out, errtext = p.communicate(timeout=20)
        answers.append((p.returncode, out.strip(), errtext.strip()))
    rep.check("reload: two reloads 100 ms apart are both answered (exit 0, a message each)",
              all(rc == 0 and '"message"' in out for rc, out, _ in answers), str(answers)[:400])

    broken = os.path.join(fwd.tmp, "services-broken.toml")
    with open(broken, "w") as f:
        f.write('[[service]]\nname = "Broken"\npatterns = ["/unclosed(/"]\n')
    with open(fwd.config, "w") as f:
        f.write(original.replace(f'file = "{fwd.services_file}"', f'file = "{broken}"'))
    rc, _, text = fwd.ctl("reload", json_out=False)
    rep.check("reload: a broken services file is refused with its FILE:LINE, exit 1",
              rc == 1 and f"{broken}:3" in text, text.strip()[:300])
    svcs, _ = services_doc(fwd)
    rep.check("reload: ... and the services stay (Video still there)", svcs is not None and "Video" in svcs,
              str(sorted(str(k) for k in (svcs or {}))))

    # Back to the first file, through SIGHUP: the daemon says so in its log.
    with open(fwd.config, "w") as f:
        f.write(original)
    fwd.proc.send_signal(signal.SIGHUP)
    ok, _ = poll(lambda: (f"SIGHUP: reloaded {fwd.services_file}" in lab.procs.tail(fwd.logpath, 40), None))
    rep.check("reload: SIGHUP reloads the configuration's services file too", ok, lab.procs.tail(fwd.logpath, 5))


def check_live_views(rep, lab, fwd, ctx):
    """(g) a download in progress is visible while it runs: in `ctl flows` (state active, its name, bytes) and in
    `ctl domains` (its bytes grow), within two stats intervals (200 ms each) of its bytes passing."""
    n = L.Lab.name(L.BIG_NAME)
    proc, finish = lab.curl(n.name, L.BIG_PATH, "1.3", max_time=10, limit_rate="400K", popen=True)
    started = L.now()
    seen_at = None
    flow = None
    try:
        deadline = started + 5.0
        while L.now() < deadline and seen_at is None:
            rc, doc, _ = fwd.ctl("flows", "--top", "50")
            for e in (doc or {}).get("flows", []):
                # The rate-limited TCP download (an earlier QUIC flow to the same name may linger, idle).
                if (e.get("state") == "active" and e.get("name") == n.name and e.get("proto") == "tcp" and
                        e.get("bytes_down", 0) > 100_000 and e.get("idle_s", 9) < 1):
                    seen_at, flow = L.now(), e
                    break
            time.sleep(0.05)
        rep.check(f"live: the download shows in `ctl flows` as active with its name and bytes while it runs "
                  f"({(seen_at - started) if seen_at else -1:.2f} s after it started)",
                  seen_at is not None and proc.poll() is None, str(flow)[:300])
        if seen_at is not None:
            rep.check("live: ... under its service Stream, with TLS 1.3", flow.get("service") == "Stream" and
                      flow.get("tls_version") == "TLSv1.3", str(flow)[:300])
            rc, _, table = fwd.ctl("flows", "--top", "5", json_out=False)
            print("# ctl flows while the download runs:", flush=True)
            for line in table.rstrip().splitlines():
                print(f"#   {line}", flush=True)

        def domain_bytes():
            rc, doc, _ = fwd.ctl("domains", "--top", "50")
            rows = {d.get("domain"): d for d in (doc or {}).get("domains", [])}
            return num(rows.get(n.name), "bytes_down")

        b0 = domain_bytes()
        time.sleep(1.0)
        b1 = domain_bytes()
        # 400 kB/s for 1 s, less the two intervals the last bytes may still be on their way.
        rep.check(f"live: `ctl domains` counts the download while it runs ({b0} -> {b1} bytes down in 1 s)",
                  proc.poll() is None and b1 - b0 >= 150_000, f"{b0} -> {b1}")
    finally:
        proc.kill()
        finish(timeout=5)


def check_socat(rep, lab, fwd, ctx):
    """The README's socat line, as written there (socket path aside)."""
    p = L.run(["sh", "-c", f"echo '{{\"command\":\"services\",\"format\":\"json\"}}' | socat - "
                           f"UNIX-CONNECT:{fwd.sock}"], timeout=10)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    rep.check("control: the README's socat line answers {\"ok\":true,...} with the services",
              p.returncode == 0 and isinstance(doc, dict) and doc.get("ok") is True and "services" in doc["result"],
              (p.stdout + p.stderr)[:300])


def check_prometheus(rep, lab, fwd, ctx):
    """(e) the metrics endpoint, through tests/e2e/prometheus_scrape.py (a real Prometheus server)."""
    if not rep.check(f"prometheus: the scraper {PROMETHEUS_SCRAPE} exists", os.path.exists(PROMETHEUS_SCRAPE)):
        return
    p = L.run([sys.executable, PROMETHEUS_SCRAPE, f"127.0.0.1:{fwd.metrics_port}", "--expect",
               "wiretally_service_bytes_total"], timeout=30)
    rep.check(f"prometheus: scrape 127.0.0.1:{fwd.metrics_port} has wiretally_service_bytes_total",
              p.returncode == 0, (p.stdout + p.stderr).strip()[-400:])


def check_snapshot_resume(rep, lab, fwd, ctx):
    """(f) SIGTERM: exit 0 and a JSON snapshot; restart with resume = true: the totals carry on."""
    before, err = services_doc(fwd)
    if not rep.check("snapshot: services before SIGTERM", before is not None, err):
        return
    rc = fwd.stop(signal.SIGTERM, grace=20)
    rep.check("snapshot: SIGTERM -> exit code 0", rc == 0, f"exit code {rc}; log:\n{lab.procs.tail(fwd.logpath, 10)}")
    valid, detail = False, "missing"
    if os.path.exists(fwd.snapshot):
        try:
            with open(fwd.snapshot) as f:
                json.load(f)
            valid, detail = True, f"{os.path.getsize(fwd.snapshot)} bytes"
        except ValueError as e:
            detail = f"invalid JSON: {e}"
    rep.check("snapshot: file written and valid JSON", valid, f"{fwd.snapshot}: {detail}")
    try:
        fwd.start()
    except L.LabError as e:
        rep.check("snapshot: restart with resume = true", False, str(e))
        return
    rep.check("snapshot: restart with resume = true", True)
    if lab.reachable([L.SERVER4, L.Lab.name("video.stream.example").addr4]):
        rep.check("snapshot: forwarding again after the restart", False, "ping failed")
        return
    after, err = services_doc(fwd)
    if not rep.check("snapshot: services right after the restart", after is not None, err):
        return
    for name in ("Shop", "Stream"):
        b, a = before.get(name), after.get(name)
        rep.check(f"snapshot: {name} totals resumed (connections, bytes_down >= before)",
                  b is not None and a is not None and num(a, "connections") >= num(b, "connections") and
                  num(a, "bytes_down") >= num(b, "bytes_down"), f"before={b} after={a}")
    n = L.Lab.name("video.stream.example")
    f = lab.curl(n.name, L.BODY_PATH, "1.3")
    rep.check("snapshot: a fetch after the restart", f.ok and f.size == n.body_size, f.describe())
    base = after.get("Stream") or {}
    ok, (svcs, err) = poll(lambda: (lambda s: (
        s[0] is not None and num(s[0].get("Stream"), "connections") > num(base, "connections") and
        num(s[0].get("Stream"), "bytes_down") >= num(base, "bytes_down") + n.body_size, s))(services_doc(fwd)))
    rep.check("snapshot: the fetch adds to the resumed Stream totals", ok,
              err or f"after restart={base} now={(svcs or {}).get('Stream')}")
