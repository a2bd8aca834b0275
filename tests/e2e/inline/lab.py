"""The inline test's lab: two network namespaces joined only through a forwarder, real servers and clients.

    ns_client (cli0 10.77.0.2/24 fd77::2/64) <-veth-> wtc-SFX  [forwarder]  wts-SFX <-veth-> ns_server (srv0)

ns_server's srv0 holds 10.77.0.1 (dnsmasq :53, the s_server at the end of the CNAME chain) and one address per
TLS name (10.77.0.11-13, fd77::11), all on the same /24 as the client: the forwarder is a bump in the wire.
Everything here is standard library only and every external command runs with a timeout.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

CLIENT4, CLIENT6 = "10.77.0.2", "fd77::2"
SERVER4, SERVER6 = "10.77.0.1", "fd77::1"  # dnsmasq and edge.cdn.example
CLIENT_MAC, SERVER_MAC = "02:77:00:00:00:02", "02:77:00:00:00:01"
CA_PATH = "pki/ca.pem"


class Name:
    """One TLS name: where DNS sends it, which s_server answers it and how large its body is."""

    def __init__(self, name, service, addr4, addr6, body_size, cname_chain=(), v6_server=False):
        self.name = name
        self.service = service          # the service the test's services file gives it
        self.addr4 = addr4
        self.addr6 = addr6
        self.body_size = body_size
        self.cname_chain = list(cname_chain)  # CNAMEs in answer order, the last one holds the A/AAAA
        self.v6_server = v6_server     # an s_server listens on addr6 too


# www.shop.example -> shop.cdn.example -> edge.cdn.example A 10.77.0.1: the chain ends at the DNS server's address.
NAMES = [
    Name("api.shop.example", "Shop", "10.77.0.11", "fd77::11", 204800, v6_server=True),
    Name("cdn.shop.example", "Shop", "10.77.0.12", "fd77::12", 307200),
    Name("video.stream.example", "Stream", "10.77.0.13", "fd77::13", 256000),
    Name("www.shop.example", "Shop", SERVER4, SERVER6, 153600, cname_chain=["shop.cdn.example", "edge.cdn.example"]),
]
QUIC_NAME = "video.stream.example"
BIG_NAME = "video.stream.example"  # the throughput download is served by the same s_server (/big.bin)
BODY_PATH = "/body.bin"
BIG_PATH = "/big.bin"

REQUIRED = ["ip", "openssl", "dnsmasq", "curl", "dig", "tcpdump", "ss", "ping", "gtlsserver", "gtlsclient"]


def now():
    return time.monotonic()


def log(msg):
    print(f"# {msg}", flush=True)


def run(cmd, timeout=10, check=False, **kw):
    """subprocess.run with a timeout that never raises on timeout: rc 124 and a note in stderr instead."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check, **kw)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(cmd, 124, out, err + f"\n[timeout after {timeout}s]")


def must(cmd, timeout=10, **kw):
    p = run(cmd, timeout=timeout, **kw)
    if p.returncode != 0:
        raise LabError(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}".rstrip())
    return p


class LabError(Exception):
    pass


def missing_programs(names):
    return [n for n in names if shutil.which(n) is None]


# ------------------------------------------------------------------------------------------------ processes
class Procs:
    """Every background process the test starts; stop_all() ends them, by pid, on every exit path."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.items = []  # (name, Popen, log path)
        self.lock = threading.Lock()

    def start(self, name, cmd, cwd=None, env=None):
        path = os.path.join(self.workdir, f"{name}.log")
        with open(path, "ab") as logf:
            p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        with self.lock:
            self.items.append((name, p, path))
        return p, path

    @staticmethod
    def stop(p, sig=signal.SIGTERM, grace=3.0):
        """Signal one process, wait up to grace seconds, then SIGKILL it. Returns its exit code."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
        return p.returncode

    def stop_all(self):
        with self.lock:
            items = list(reversed(self.items))
        for _, p, _ in items:
            self.stop(p, grace=2.0)

    def tail(self, name_or_path, lines=8):
        path = name_or_path if os.path.isabs(name_or_path) else os.path.join(self.workdir, f"{name_or_path}.log")
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


# ------------------------------------------------------------------------------------------------ the lab
class Lab:
    def __init__(self, workdir, suffix=None):
        self.workdir = workdir
        self.procs = Procs(workdir)
        self.suffix = suffix or self._free_suffix()
        s = self.suffix
        self.ns_client, self.ns_server = f"wtin-{s}-cli", f"wtin-{s}-srv"
        self.wtc, self.wts = f"wtc-{s}", f"wts-{s}"  # host-side ends: the forwarder's two ports
        self.created_ns = []
        self.created_links = []
        self.netns_etc = f"/etc/netns/{self.ns_client}"
        self.created_etc_netns = False

    # ---- names
    @staticmethod
    def _exists_ns(name):
        return os.path.exists(f"/run/netns/{name}")

    @staticmethod
    def _exists_link(name):
        return os.path.exists(f"/sys/class/net/{name}")

    def _free_suffix(self):
        for _ in range(20):
            s = secrets.token_hex(3)
            if not any(self._exists_ns(f"wtin-{s}-{k}") for k in ("cli", "srv")) and \
                    not any(self._exists_link(f"wt{k}-{s}") for k in "csb"):
                return s
        raise LabError("could not find an unused name suffix")

    def nsx(self, ns, *cmd):
        return ["ip", "netns", "exec", ns, *cmd]

    def cli(self, *cmd):
        return self.nsx(self.ns_client, *cmd)

    def srv(self, *cmd):
        return self.nsx(self.ns_server, *cmd)

    # ---- topology
    def setup_topology(self):
        for ns in (self.ns_client, self.ns_server):
            if self._exists_ns(ns):
                raise LabError(f"namespace {ns} already exists")
        for link in (self.wtc, self.wts):
            if self._exists_link(link):
                raise LabError(f"interface {link} already exists")
        for ns in (self.ns_client, self.ns_server):
            must(["ip", "netns", "add", ns])
            self.created_ns.append(ns)
            must(["ip", "-n", ns, "link", "set", "lo", "up"])
        self.make_links()
        self.configure_hosts()

    def make_links(self):
        """cli0 in ns_client and srv0 in ns_server, joined to the forwarder's ports wtc and wts (veth pairs here;
        tests/box joins them to a VM's NICs through taps instead)."""
        must(["ip", "link", "add", self.wtc, "type", "veth", "peer", "name", "cli0", "address", CLIENT_MAC,
              "netns", self.ns_client])
        self.created_links.append(self.wtc)
        must(["ip", "link", "add", self.wts, "type", "veth", "peer", "name", "srv0", "address", SERVER_MAC,
              "netns", self.ns_server])
        self.created_links.append(self.wts)
        for dev in (self.wtc, self.wts):
            # The host-side ports must stay silent: no IPv6 link-local, MLD or router solicitations of their own.
            self._write_proc(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6", "1")
            must(["ip", "link", "set", dev, "promisc", "on", "up"])

    def configure_hosts(self):
        """The client's and the servers' addresses on cli0 and srv0, and the client's resolver."""
        must(["ip", "-n", self.ns_client, "addr", "add", f"{CLIENT4}/24", "dev", "cli0"])
        must(["ip", "-n", self.ns_client, "addr", "add", f"{CLIENT6}/64", "dev", "cli0", "nodad"])
        must(["ip", "-n", self.ns_server, "addr", "add", f"{SERVER4}/24", "dev", "srv0"])
        must(["ip", "-n", self.ns_server, "addr", "add", f"{SERVER6}/64", "dev", "srv0", "nodad"])
        extra4 = sorted({n.addr4 for n in NAMES} - {SERVER4})
        extra6 = sorted({n.addr6 for n in NAMES} - {SERVER6})
        for a in extra4:
            must(["ip", "-n", self.ns_server, "addr", "add", f"{a}/24", "dev", "srv0"])
        for a in extra6:
            must(["ip", "-n", self.ns_server, "addr", "add", f"{a}/64", "dev", "srv0", "nodad"])
        for ns, dev in ((self.ns_client, "cli0"), (self.ns_server, "srv0")):
            for key in ("accept_ra", "autoconf"):  # no router solicitation noise beyond the essentials
                run(self.nsx(ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.{key}=0"))
            # Offloads stay as a user has them (all on): the appliance must forward what Linux hands it.
            must(["ip", "-n", ns, "link", "set", dev, "up"])

        # The client resolves names with glibc through OUR dnsmasq only (ip netns exec bind-mounts these files).
        if not os.path.isdir("/etc/netns"):
            self.created_etc_netns = True
        os.makedirs(self.netns_etc, exist_ok=True)
        with open(os.path.join(self.netns_etc, "resolv.conf"), "w") as f:
            f.write(f"nameserver {SERVER4}\noptions timeout:2 attempts:2\n")
        with open(os.path.join(self.netns_etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
        with open(os.path.join(self.netns_etc, "nsswitch.conf"), "w") as f:
            f.write("hosts: files dns\n")

    @staticmethod
    def _write_proc(path, value):
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError:
            pass

    # ---- certificates and content
    def make_pki_and_content(self, big_bytes):
        d = os.path.join(self.workdir, "pki")
        os.makedirs(d, exist_ok=True)
        cnf = os.path.join(d, "req.cnf")
        with open(cnf, "w") as f:
            f.write("[req]\ndistinguished_name = dn\n[dn]\n")
        must(["openssl", "req", "-x509", "-config", cnf, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "30",
              "-subj", "/O=wiretally inline/CN=wtinline private CA",
              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        procs = []
        for n in NAMES:
            san = ",".join(f"DNS:{x}" for x in [n.name, *n.cname_chain])
            procs.append((n.name, subprocess.Popen(
                ["openssl", "req", "-x509", "-config", cnf, "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
                 "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/{n.name}.key",
                 "-out", f"{d}/{n.name}.pem", "-days", "30", "-subj", f"/CN={n.name}",
                 "-addext", f"subjectAltName={san}", "-addext", "basicConstraints=CA:FALSE",
                 "-addext", "keyUsage=digitalSignature", "-addext", "extendedKeyUsage=serverAuth"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        for name, p in procs:
            try:
                _, err = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                raise LabError(f"certificate for {name}: openssl timed out")
            if p.returncode != 0:
                raise LabError(f"certificate for {name}: {err.decode(errors='replace')}")
        # Random bodies: no compression anywhere, so byte counts are checkable.
        for n in NAMES:
            www = self.www_dir(n)
            os.makedirs(www, exist_ok=True)
            with open(os.path.join(www, BODY_PATH[1:]), "wb") as f:
                f.write(os.urandom(n.body_size))
        with open(os.path.join(self.www_dir(self.name(BIG_NAME)), BIG_PATH[1:]), "wb") as f:
            chunk = os.urandom(1 << 20)
            left = big_bytes
            while left > 0:  # repeated 1 MiB of random bytes: incompressible at the TLS layer, cheap to make
                f.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)

    def www_dir(self, n):
        return os.path.join(self.workdir, "www", n.name)

    @staticmethod
    def name(text):
        return next(n for n in NAMES if n.name == text)

    # ---- servers
    def start_servers(self):
        d = os.path.join(self.workdir, "pki")
        expect = []  # (proto, "addr:port")
        args = ["--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root",
                "--bind-interfaces", f"--listen-address={SERVER4}", f"--listen-address={SERVER6}",
                "--except-interface=lo", f"--pid-file={self.workdir}/dnsmasq.pid", "--local-ttl=300",
                "--log-queries", "--log-facility=-"]
        for n in NAMES:
            target = n.cname_chain[-1] if n.cname_chain else n.name
            args.append(f"--host-record={target},{n.addr4},{n.addr6}")
            chain = [n.name, *n.cname_chain]
            for a, b in reversed(list(zip(chain, chain[1:]))):
                args.append(f"--cname={a},{b}")
        for dom in sorted({n.name.split(".", 1)[1] for n in NAMES} |
                          {c.split(".", 1)[1] for n in NAMES for c in n.cname_chain}):
            args.append(f"--local=/{dom}/")
        self.procs.start("dnsmasq", self.srv("dnsmasq", *args), cwd=self.workdir)
        expect += [("udp", f"{SERVER4}:53"), ("udp", f"[{SERVER6}]:53")]

        for n in NAMES:
            addrs = [n.addr4] + ([f"[{n.addr6}]"] if n.v6_server else [])
            for i, a in enumerate(addrs):
                self.procs.start(f"s_server-{n.name}-{i}", self.srv(
                    "openssl", "s_server", "-quiet", "-accept", f"{a}:443", "-cert", f"{d}/{n.name}.pem",
                    "-key", f"{d}/{n.name}.key", "-WWW", "-http_server_binmode"), cwd=self.www_dir(n))
                expect.append(("tcp", f"{a}:443"))
        n = self.name(QUIC_NAME)
        # One server per address family: the client connects to whichever
        # address its own lookup of the name returns first.
        for i, a in enumerate([n.addr4, n.addr6]):
            self.procs.start(f"quic-server-{i}", self.srv(
                "gtlsserver", "-q", "--timeout=5s", "-d", self.www_dir(n), a, "443",
                f"{d}/{n.name}.key", f"{d}/{n.name}.pem"), cwd=self.workdir)
        expect.append(("udp", f"{n.addr4}:443"))
        expect.append(("udp", f"[{n.addr6}]:443"))
        deadline = now() + 10
        missing = expect
        while now() < deadline:
            p = run(self.srv("ss", "-Hltun"), timeout=5)
            have = {(ln.split()[0], ln.split()[4]) for ln in p.stdout.splitlines() if len(ln.split()) >= 5}
            missing = [e for e in expect if e not in have]
            if not missing:
                return
            time.sleep(0.1)
        logs = "\n".join(f"--- {name}\n{self.procs.tail(path, 5)}" for name, _, path in self.procs.items)
        raise LabError(f"servers not listening: {missing}\n{logs}")

    # ---- client operations (all in ns_client)
    def reachable(self, targets, timeout=10.0):
        """Pings each target until it answers (ARP/ND and forwarding warm-up). Returns the ones that never did."""
        deadline = now() + timeout
        left = list(targets)
        while left and now() < deadline:
            t = left[0]
            p = run(self.cli("ping", "-c1", "-W1", "-n", t), timeout=3)
            if p.returncode == 0:
                left.pop(0)
            else:
                time.sleep(0.2)
        return left

    def dig(self, name, qtype="A", server=SERVER4):
        """One DNS query from the client. Returns dict(status, cnames, addrs, rc, out)."""
        p = run(self.cli("dig", "+time=2", "+tries=1", "+nocookie", f"@{server}", name, qtype), timeout=6)
        status = re.search(r"status: ([A-Z]+),", p.stdout)
        cnames, addrs, section = [], [], False
        for line in p.stdout.splitlines():
            if line.startswith(";; ANSWER SECTION:"):
                section = True
                continue
            if section and not line.strip():
                section = False
            if section:
                f = line.split()
                if len(f) >= 5 and f[3] == "CNAME":
                    cnames.append(f[4].rstrip("."))
                elif len(f) >= 5 and f[3] in ("A", "AAAA"):
                    addrs.append(f[4])
        return {"status": status.group(1) if status else None, "cnames": cnames, "addrs": addrs,
                "rc": p.returncode, "out": p.stdout + p.stderr}

    def curl(self, name, path, tls, family=4, max_time=20, limit_rate=None, popen=False):
        """HTTPS GET from the client; curl resolves the name itself through glibc and OUR dnsmasq, so the DNS
        query crosses the wire before the connection. Returns a Fetch (or a Popen and its finisher if popen)."""
        cmd = ["curl", "-sS", "-v", "-k", "-o", "/dev/null", f"-{family}", "--connect-timeout", "3",
               "--max-time", str(max_time), "--no-keepalive",
               "-w", "%{http_code}\t%{size_download}\t%{remote_ip}\t%{local_port}\t%{time_total}"]
        if tls == "1.2":
            cmd += ["--tlsv1.2", "--tls-max", "1.2"]
        elif tls == "1.3":
            cmd += ["--tlsv1.3"]
        if limit_rate:
            cmd += ["--limit-rate", str(limit_rate)]
        cmd.append(f"https://{name}{path}")
        start = now()
        if popen:
            p = subprocess.Popen(self.cli(*cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)

            def finish(timeout=max_time + 5):
                try:
                    out, err = p.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                return Fetch.parse(name, path, tls, family, p.returncode, out, err, now() - start)
            return p, finish
        r = run(self.cli(*cmd), timeout=max_time + 5)
        return Fetch.parse(name, path, tls, family, r.returncode, r.stdout, r.stderr, now() - start)

    def quic(self, name, path, expect_bytes):
        """HTTP/3 GET with ngtcp2's gtlsclient: dig first (the query crosses the wire), then connect to the answer
        with the name as SNI. Returns (ok, detail)."""
        d = self.dig(name)
        if not d["addrs"]:
            return False, f"no DNS answer for {name}"
        addr = d["addrs"][-1]
        dl = os.path.join(self.workdir, f"quic-dl-{secrets.token_hex(3)}")
        os.makedirs(dl)
        # gtlsclient sends the host argument as SNI only when it is a name (an address
        # gives its default "localhost"), so it gets the name and resolves it itself,
        # through the namespace's resolv.conf: its own lookup crosses the wire too.
        p = run(self.cli("gtlsclient", "-q", "--timeout=5s", "--exit-on-all-streams-close", f"--download={dl}",
                         name, "443", f"https://{name}{path}"), timeout=15)
        f = os.path.join(dl, os.path.basename(path))
        got = os.path.getsize(f) if os.path.exists(f) else 0
        ok = p.returncode == 0 and got == expect_bytes
        detail = f"{got} bytes (expected {expect_bytes}), rc={p.returncode} via {addr}"
        if not ok:
            detail += " " + (p.stdout + p.stderr).strip().replace("\n", " | ")[-300:]
        return ok, detail

    # ---- capture
    def start_capture(self, ns, iface, path):
        """tcpdump (immediate mode, full frames) on iface in namespace ns; returns a handle for stop_capture."""
        p, logpath = self.procs.start(f"tcpdump-{os.path.basename(path)}",
                                      self.nsx(ns, "tcpdump", "-i", iface, "-n", "-s", "0", "-U", "--immediate-mode",
                                               # 64 MB: the client's veth hands it 64 KB super-frames (GRO)
                                               "-B", "65536", "-Z", "root", "-w", path))
        deadline = now() + 5
        while now() < deadline:
            if "listening on" in self.procs.tail(logpath, 20):
                return p, logpath
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise LabError(f"tcpdump on {iface} did not start: {self.procs.tail(logpath)}")

    def stop_capture(self, cap):
        """Stops tcpdump; returns the packets it lost: dropped by the kernel, or received but never written."""
        p, logpath = cap
        time.sleep(0.5)  # the last FINs/ACKs
        Procs.stop(p, signal.SIGINT, grace=5)
        text = self.procs.tail(logpath, 20)
        counts = {}
        for key in ("captured", "received by filter", "dropped by kernel"):
            m = re.search(rf"^(\d+) packets? {key}", text, re.M)
            counts[key] = int(m.group(1)) if m else None
        if None in counts.values():
            return -1  # tcpdump did not end cleanly
        return counts["dropped by kernel"] + max(0, counts["received by filter"] - counts["captured"])

    # ---- teardown
    def cleanup(self):
        self.procs.stop_all()
        for ns in self.created_ns:
            # Stragglers started inside our own namespaces only (a client whose timeout fired, ...).
            p = run(["ip", "netns", "pids", ns], timeout=5)
            for pid in p.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for ns in self.created_ns:
            run(["ip", "netns", "del", ns], timeout=10)
        for link in self.created_links:  # gone with their namespace peers already, normally
            if self._exists_link(link):
                run(["ip", "link", "del", link], timeout=10)
        shutil.rmtree(self.netns_etc, ignore_errors=True)
        if self.created_etc_netns:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass


class Fetch:
    """The outcome of one curl."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @classmethod
    def parse(cls, name, path, tls, family, rc, out, err, seconds):
        parts = (out or "").strip().split("\t")
        parts += [""] * (5 - len(parts))
        m = re.search(r"SSL connection using (TLSv[0-9.]+) / (\S+)", err or "")
        errlines = [ln for ln in (err or "").splitlines() if ln.startswith("curl:")]
        try:
            size = int(parts[1])
        except ValueError:
            size = -1
        try:
            total = float(parts[4])
        except ValueError:
            total = seconds
        return cls(name=name, path=path, tls=tls, family=family, rc=rc, code=parts[0], size=size,
                   remote_ip=parts[2], local_port=parts[3], seconds=total,
                   version=m.group(1) if m else None, cipher=m.group(2) if m else None,
                   error=" | ".join(errlines) or (f"rc={rc}" if rc else ""))

    @property
    def ok(self):
        return self.rc == 0 and self.code == "200"

    def describe(self):
        return (f"rc={self.rc} http={self.code} {self.size} B {self.version or '?'} {self.cipher or ''} "
                f"via {self.remote_ip or '?'} in {self.seconds:.3f}s {self.error}").rstrip()


# ------------------------------------------------------------------------------------------------ bridge forwarder
class BridgeForwarder:
    """A Linux bridge enslaving the two host-side ports: validates the topology and the traffic today."""

    kind = "bridge"
    is_appliance = False

    def __init__(self, lab):
        self.lab = lab
        self.br = f"wtb-{lab.suffix}"

    def start(self):
        if Lab._exists_link(self.br):
            raise LabError(f"bridge {self.br} already exists")
        # No STP (ports forward at once) and no br_netfilter (a host FORWARD policy must not see our frames).
        p = run(["ip", "link", "add", self.br, "type", "bridge", "stp_state", "0", "forward_delay", "0",
                 "nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0"])
        if p.returncode != 0:
            must(["ip", "link", "add", self.br, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        self.lab.created_links.append(self.br)
        Lab._write_proc(f"/proc/sys/net/ipv6/conf/{self.br}/disable_ipv6", "1")
        for dev in (self.lab.wtc, self.lab.wts):
            must(["ip", "link", "set", dev, "master", self.br])
        must(["ip", "link", "set", self.br, "up"])

    def stop(self):
        if Lab._exists_link(self.br):
            for dev in (self.lab.wtc, self.lab.wts):
                run(["ip", "link", "set", dev, "nomaster"])
            run(["ip", "link", "del", self.br])
        return 0

    def alive(self):
        return Lab._exists_link(self.br)

    def cleanup(self):
        pass


# ------------------------------------------------------------------------------------------------ pcap
def pcap_flows(path, client_ips):
    """Per-flow IP bytes from a tcpdump file (pcap, Ethernet, optional 802.1Q): the IP header's length field
    (IPv4 total length, IPv6 payload length + 40), so padding and truncation don't count. Returns
    {(proto, server, server_port, client, client_port): {"pkts_up","bytes_up","pkts_down","bytes_down"}} and a
    dict of totals (frames, non_ip)."""
    flows, totals = {}, {"frames": 0, "non_ip": 0}
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return flows, totals
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        totals["frames"] += 1
        if len(frame) < 14:
            totals["non_ip"] += 1
            continue
        et, p = struct.unpack("!H", frame[12:14])[0], 14
        while et in (0x8100, 0x88A8) and len(frame) >= p + 4:
            et, p = struct.unpack("!H", frame[p + 2:p + 4])[0], p + 4
        if et == 0x0800 and len(frame) >= p + 20:
            ihl = (frame[p] & 0x0F) * 4
            iplen = struct.unpack("!H", frame[p + 2:p + 4])[0]
            proto = frame[p + 9]
            src, dst = socket.inet_ntop(socket.AF_INET, frame[p + 12:p + 16]), \
                socket.inet_ntop(socket.AF_INET, frame[p + 16:p + 20])
            l4 = p + ihl
        elif et == 0x86DD and len(frame) >= p + 40:
            iplen = struct.unpack("!H", frame[p + 4:p + 6])[0] + 40
            proto = frame[p + 6]
            src, dst = socket.inet_ntop(socket.AF_INET6, frame[p + 8:p + 24]), \
                socket.inet_ntop(socket.AF_INET6, frame[p + 24:p + 40])
            l4 = p + 40  # our traffic has no extension headers
        else:
            totals["non_ip"] += 1
            continue
        sport = dport = 0
        if proto in (6, 17) and len(frame) >= l4 + 4:
            sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        if src in client_ips:
            key, up = (proto, dst, dport, src, sport), True
        elif dst in client_ips:
            key, up = (proto, src, sport, dst, dport), False
        else:
            totals["non_ip"] += 1
            continue
        e = flows.setdefault(key, {"pkts_up": 0, "bytes_up": 0, "pkts_down": 0, "bytes_down": 0})
        d = "up" if up else "down"
        e["pkts_" + d] += 1
        e["bytes_" + d] += iplen
    return flows, totals


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
