#!/usr/bin/env python3
"""The spare x86 box, emulated: deploy/README.md's guide followed word for word inside a QEMU VM with emulated
PCI NICs, then DNS, TLS and QUIC from a client namespace through the box's two data NICs to a server namespace.

    ns client: cli0 (tap) == virtio-net 00:04.0 (2 queue pairs, RSS)  [wiretally in the VM]
                             virtio-net 00:05.0 (2 queue pairs, RSS) == srv0 (tap) :ns server
                             e1000e     00:06.0 (one queue)          == srv1 (tap) :ns server (phase e1000e)
    management: virtio-net 00:03.0 on QEMU's user network; the test logs in over SSH like a user

The VM is Debian 12 made by tests/box/make-box.sh (cached in build/box), booted under software emulation
(TCG) with a copy-on-write overlay: every run starts from a fresh box. wiretally reaches it as a bundle
(deploy/bundle.sh), copied in with scp. Inside, only the guide's commands run; each one and what it printed
goes to the transcript (WORK/transcript.txt, kept in build/box/last-run/).

    tests/box/box_test.py --wiretally build/app/wiretally [--smoke] [--iommu] [--keep]

--smoke: the guide, both data NICs bound, the unit started inline with two workers, one DNS query and one
TLS 1.3 fetch through the box, ctl services and stats, /metrics and telemetry. Without it (the full run):
also every name over TLS 1.2 and 1.3, IPv6, QUIC, CNAMEs, the RSS spread over both workers (24 connections to one address: some on each worker, each seen both ways), a restart and an upgrade that
resumes the tallies, and the e1000e NIC as the server side with one worker.
--iommu: the box has an emulated Intel IOMMU (q35 with intel-iommu, intel_iommu=on iommu=pt), so check-box.sh
finds IOMMU groups and the NICs go to vfio-pci, as on real hardware; without it (Debian's kernel has no vfio
no-IOMMU mode) they go to uio_pci_generic. The transcript is kept in build/box/last-run-vfio/ then.
Exit 0 all passed, 1 a check failed, 77 not root.
"""
import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e", "inline"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import appliance as A  # noqa: E402
import inline_test as T  # noqa: E402
import lab as L  # noqa: E402
from wt_ctl import ctl_answer  # noqa: E402

MGMT_PCI, CLIENT_PCI, SERVER_PCI, E1000E_PCI = "0000:00:03.0", "0000:00:04.0", "0000:00:05.0", "0000:00:06.0"
BOX_CPUS, BOX_MEMORY_MB = 3, 3072
HUGEPAGES_MB, EAL_MEMORY_MB = 1024, 768
CONFIG = "/etc/wiretally/wiretally.toml"
SERVICES = "/etc/wiretally/services.toml"
BOOT_TIMEOUT = 300  # seconds to SSH after QEMU starts; about 40 under TCG here


class BoxError(Exception):
    pass


class Box:
    """The VM: QEMU under TCG with a management NIC (user networking, SSH forwarded to 127.0.0.1) and three data
    NICs, each a tap on this host that the lab moves into its namespaces."""

    def __init__(self, boxdir, workdir, suffix, iommu=False):
        self.boxdir, self.workdir = boxdir, workdir
        self.iommu = iommu
        self.taps = [f"wtb{suffix}{k}" for k in ("c", "s", "e")]
        self.ssh_port = L.free_tcp_port()
        self.proc = None
        self.console = os.path.join(workdir, "console.log")
        self.transcript = open(os.path.join(workdir, "transcript.txt"), "w")
        self.control_path = os.path.join(workdir, "ssh-ctl")
        self.bundle_dir = None  # where the bundle is unpacked in the box, once it is

    def start(self):
        overlay = os.path.join(self.workdir, "box.qcow2")
        L.must(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                os.path.join(self.boxdir, "box.img"), overlay], timeout=30)
        c, s, e = self.taps
        # With --iommu: a q35 machine with an emulated Intel IOMMU (VT-d), the kernel told to use it, and the
        # virtio NICs' DMA through it (iommu_platform); the e1000e's always goes through it.
        machine = ["-machine", "q35,kernel-irqchip=split", "-device", "intel-iommu,intremap=on,caching-mode=on"] \
            if self.iommu else ["-machine", "pc"]
        # (VIRTIO_F_IOMMU_PLATFORM exists only for modern, non-transitional virtio devices.)
        through_iommu = ",disable-legacy=on,iommu_platform=on,ats=on" if self.iommu else ""
        append = "root=LABEL=boxroot rw console=ttyS0 panic=-1 net.ifnames=1" + \
            (" intel_iommu=on iommu=pt" if self.iommu else "")
        cmd = ["qemu-system-x86_64", *machine, "-accel", "tcg,thread=multi", "-cpu", "max",
               "-smp", str(BOX_CPUS), "-m", str(BOX_MEMORY_MB), "-nodefaults", "-display", "none", "-no-reboot",
               "-serial", f"file:{self.console}",
               "-kernel", os.path.join(self.boxdir, "vmlinuz"), "-initrd", os.path.join(self.boxdir, "initrd.img"),
               "-append", append,
               "-drive", f"file={overlay},format=qcow2,if=none,id=disk",
               "-device", "virtio-blk-pci,drive=disk,addr=0x7",
               "-netdev", f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
               "-device", "virtio-net-pci,netdev=mgmt,mac=52:54:00:77:00:10,addr=0x3",
               # Two queue pairs and RSS (QEMU computes the Toeplitz hash with the key the driver gives it).
               "-netdev", f"tap,id=dc,ifname={c},script=no,downscript=no,queues=2",
               "-device", f"virtio-net-pci,netdev=dc,mq=on,vectors=6,rss=on,mac=52:54:00:77:00:20,addr=0x4{through_iommu}",
               "-netdev", f"tap,id=ds,ifname={s},script=no,downscript=no,queues=2",
               "-device", f"virtio-net-pci,netdev=ds,mq=on,vectors=6,rss=on,mac=52:54:00:77:00:21,addr=0x5{through_iommu}",
               "-netdev", f"tap,id=de,ifname={e},script=no,downscript=no",
               "-device", "e1000e,netdev=de,mac=52:54:00:77:00:22,addr=0x6"]
        self.log_line("host", " ".join(shlex.quote(x) for x in cmd))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(os.path.join(self.workdir, "qemu.log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = L.now() + 20
        while not all(os.path.exists(f"/sys/class/net/{t}") for t in self.taps):
            if self.proc.poll() is not None or L.now() > deadline:
                raise BoxError(f"qemu did not start: {self.tail(os.path.join(self.workdir, 'qemu.log'))}")
            time.sleep(0.1)
        time.sleep(0.5)
        if self.proc.poll() is not None:  # taps are made before the devices: a device error comes after them
            raise BoxError(f"qemu stopped: {self.tail(os.path.join(self.workdir, 'qemu.log'))}")

    def wait_ssh(self):
        t0 = L.now()
        while L.now() - t0 < BOOT_TIMEOUT:
            if self.proc.poll() is not None:
                raise BoxError(f"the VM stopped (qemu exit {self.proc.returncode}): {self.tail(self.console)}")
            p = self.ssh("true", timeout=20, record=False)
            if p.returncode == 0:
                return L.now() - t0
            time.sleep(2)
        raise BoxError(f"no SSH after {BOOT_TIMEOUT} s; console: {self.tail(self.console)}")

    def ssh_options(self):
        """What ssh and scp share: the box's key, no host-key prompts, one master connection for every command."""
        return ["-i", os.path.join(self.boxdir, "id_ed25519"),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ControlMaster=auto",
                "-o", f"ControlPath={self.control_path}", "-o", "ControlPersist=600"]

    def ssh(self, command, timeout=120, record=True):
        """Runs COMMAND in the box's login shell (as root), returns the CompletedProcess."""
        try:
            p = subprocess.run(["ssh", "-p", str(self.ssh_port), *self.ssh_options(), "root@127.0.0.1", command],
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            p = subprocess.CompletedProcess(e.cmd, 124, (e.stdout or b"").decode(errors="replace")
                                            if isinstance(e.stdout, bytes) else (e.stdout or ""),
                                            f"timed out after {timeout} s")
        if record:
            self.log_line("box", command, p)
        return p

    def scp(self, local, remote):
        cmd = ["scp", "-q", "-P", str(self.ssh_port), *self.ssh_options(), local, f"root@127.0.0.1:{remote}"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.log_line("host", f"scp {os.path.basename(local)} box:{remote}", p)
        return p

    def log_line(self, where, command, p=None):
        prompt = "box# " if where == "box" else "host$ "
        self.transcript.write(f"{prompt}{command}\n")
        if p is not None:
            out = (p.stdout or "") + (p.stderr or "")
            if out:
                self.transcript.write(out if out.endswith("\n") else out + "\n")
            self.transcript.write(f"[exit {p.returncode}]\n")
        self.transcript.flush()

    @staticmethod
    def tail(path, lines=15):
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.ssh("systemctl poweroff", timeout=20, record=False)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        subprocess.run(["ssh", "-o", f"ControlPath={self.control_path}", "-O", "exit", "x"], capture_output=True)
        self.transcript.close()


class BoxLab(L.Lab):
    """The inline test's lab with the box's taps as the client's and the servers' interfaces."""

    def __init__(self, workdir, box, suffix):
        super().__init__(workdir, suffix)
        self.box = box

    def make_links(self):
        c, s, e = self.box.taps
        for tap, ns, name, mac in ((c, self.ns_client, "cli0", L.CLIENT_MAC), (s, self.ns_server, "srv0", L.SERVER_MAC),
                                   (e, self.ns_server, "srv1", L.SERVER_MAC)):
            L.must(["ip", "link", "set", tap, "netns", ns, "name", name, "address", mac])
        L.run(self.srv("sysctl", "-qw", "net.ipv6.conf.srv1.disable_ipv6=1"))

    def move_servers_to(self, new_dev, old_dev):
        """Every server address from OLD_DEV to NEW_DEV (the server side's cable moved to the other NIC)."""
        p = L.must(self.srv("ip", "-o", "addr", "show", "dev", old_dev, "scope", "global"))
        addrs = [ln.split()[3] for ln in p.stdout.splitlines() if len(ln.split()) > 3]
        L.must(self.srv("ip", "link", "set", old_dev, "down"))
        L.run(self.srv("sysctl", "-qw", f"net.ipv6.conf.{new_dev}.disable_ipv6=0"))
        for key in ("accept_ra", "autoconf"):
            L.run(self.srv("sysctl", "-qw", f"net.ipv6.conf.{new_dev}.{key}=0"))
        for a in addrs:
            L.must(self.srv("ip", "addr", "add", a, "dev", new_dev, *(["nodad"] if ":" in a else [])))
        L.must(self.srv("ip", "link", "set", new_dev, "up"))
        return addrs


class BoxAppliance:
    """The appliance in the box, through `wiretally ctl` over SSH: the interface the inline test's checks use."""
    kind = "wiretally in the box"
    is_appliance = True

    def __init__(self, box):
        self.box = box

    def ctl(self, *args, json_out=True, timeout=30):
        command = "wiretally ctl " + " ".join(shlex.quote(a) for a in args) + (" --json" if json_out else "")
        return ctl_answer(self.box.ssh(command, timeout=timeout, record=not json_out), json_out)


# ------------------------------------------------------------------------------------------------ the guide
GUIDE = os.path.join(ROOT, "deploy", "README.md")


def command_shape(command):
    """A command as words, with each run of PCI addresses and each size after --mb as one placeholder: the
    guide's example addresses and sizes stand for the box's."""
    words = []
    for w in re.sub(r"\s+#.*$", "", command).split():
        if re.fullmatch(r"(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", w):
            if words[-1:] != ["<PCI>"]:
                words.append("<PCI>")
        elif words[-1:] == ["--mb"] and w.isdigit():
            words.append("<MB>")
        else:
            words.append(w)
    return words


def documented(command):
    """COMMAND is a line of the guide's shell blocks."""
    shape = command_shape(command)
    with open(GUIDE) as f:
        return any(command_shape(line) == shape for line in f)


def guide(rep, box, what, command, expect_rc=0, timeout=120, must_print=(), fatal=True, in_guide=True):
    """One command of deploy/README.md run in the box; passes when it exits EXPECT_RC and prints MUST_PRINT.
    A failed step stops the test unless FATAL is false: the steps after it build on it. IN_GUIDE: the command
    must be the guide's own (the guide's steps are the test's steps)."""
    if in_guide:
        bare = re.sub(r"^cd \S+ && ", "", command)  # the folder the guide's commands run in
        rep.check(f"guide: `{bare}` is in deploy/README.md", documented(bare))
    p = box.ssh(command, timeout=timeout)
    out = p.stdout + p.stderr
    missing = [m for m in must_print if not re.search(m, out)]
    ok = p.returncode == expect_rc and not missing
    rep.check(f"guide: {what}: `{command}` exits {expect_rc}" + (f", prints {list(must_print)}" if must_print else ""),
              ok, f"exit {p.returncode}; missing {missing}; output: {out.strip()[-600:]}")
    if not ok and fatal:
        raise T.Abort()
    return p


def config_edits(cores, workers, client_dev, server_dev):
    """Step 8's edits of the inline-2port sample, as sed: the box's PCI addresses, CPUs, memory and the rest."""
    return [
        f's/^cores = \\[0, 1, 2, 3\\]/cores = [{", ".join(map(str, cores))}]/',
        f's/^memory_mb = 1024 /memory_mb = {EAL_MEMORY_MB} /',
        f's/^allow = \\[.*\\]  #/allow = ["{client_dev}", "{server_dev}"]  #/',
        f's/^workers = 0 /workers = {workers} /',
        's/^poll_sleep_us = 0 /poll_sleep_us = 50 /',
        f'0,/^device = ".*"/s//device = "{client_dev}"/',
        f'0,/^device = "0000:03:00.1"/s//device = "{server_dev}"/',
        's/^max_flows = 262144 /max_flows = 65536 /',
        f's|^file = ""  |file = "{SERVICES}"  |',
    ]


def sed_command(edits, path):
    return "sudo sed -i " + " ".join(f"-e {shlex.quote(e)}" for e in edits) + f" {path}"


def install_and_bind(rep, box, bundle):
    rep.phase("the guide, steps 4-8, in the box")
    name = os.path.basename(bundle)
    top = L.must(["tar", "tzf", bundle], timeout=30).stdout.split("/")[0]
    box.bundle_dir = f"/root/{top}"
    if not rep.check("guide: the bundle copied to the box (scp)", box.scp(bundle, "/root/").returncode == 0):
        raise T.Abort()
    guide(rep, box, "unpack the bundle", f"tar xzf {name} && cd {top}")
    p = box.ssh(f"ls {top}")
    rep.check("box: the bundle holds the binary, the kit and the package list",
              all(x in p.stdout.split() for x in ("bin", "deploy", "ipdb", "runtime-packages.txt")), p.stdout)
    cd = f"cd {box.bundle_dir} && "
    guide(rep, box, "runtime libraries", cd + "sudo apt-get install -y $(cat runtime-packages.txt)", timeout=300,
          must_print=("already the newest version",))
    guide(rep, box, "install", cd + "sudo deploy/install.sh --config deploy/configs/inline-2port.toml",
          must_print=("install: done", "does not pass yet"))
    # The first check: no hugepages, NICs not bound, and (without --iommu) no IOMMU. It must say so and give
    # the fix for each.
    iommu_line = (r"PASS\s+iommu\s+\d+ IOMMU groups",) if box.iommu else \
        (r"FAIL\s+iommu .*this is a VM", r"fix: .*--driver uio_pci_generic")
    p = guide(rep, box, "check the box (before)", cd + "sudo deploy/check-box.sh", expect_rc=1,
              must_print=iommu_line + (r"FAIL\s+hugepages", rf"{MGMT_PCI} .*management interface",
                                       rf"WARN\s+nic\s+{CLIENT_PCI} .*net_virtio",
                                       rf"WARN\s+nic\s+{E1000E_PCI} .*net_e1000_em"))
    rep.transcripts["check-box (before)"] = p.stdout
    if not box.iommu:
        # Debian 12's kernel has no vfio no-IOMMU mode: --noiommu must say so and point at uio_pci_generic.
        guide(rep, box, "no-IOMMU mode is refused by Debian's kernel", cd + "sudo deploy/check-box.sh --noiommu",
              expect_rc=1, must_print=("built without vfio's no-IOMMU mode", "--driver uio_pci_generic"))
    guide(rep, box, "hugepages", cd + f"sudo deploy/hugepages.sh --mb {HUGEPAGES_MB}")
    guide(rep, box, "find the PCI addresses", "dpdk-devbind.py --status-dev net",
          must_print=(CLIENT_PCI, SERVER_PCI, E1000E_PCI))
    guide(rep, box, "the management NIC is refused", cd + f"sudo deploy/check-box.sh --bind {MGMT_PCI}", expect_rc=1,
          must_print=("refused: management interface",))
    if box.iommu:
        guide(rep, box, "bind the data NICs", cd + f"sudo deploy/check-box.sh --bind {CLIENT_PCI} {SERVER_PCI} {E1000E_PCI}",
              must_print=(f"{CLIENT_PCI} bound to vfio-pci", f"{SERVER_PCI} bound to vfio-pci",
                          f"{E1000E_PCI} bound to vfio-pci"))
    else:
        guide(rep, box, "bind the data NICs",
              cd + f"sudo deploy/check-box.sh --bind {CLIENT_PCI} {SERVER_PCI} {E1000E_PCI} --driver uio_pci_generic",
              must_print=(f"{CLIENT_PCI} bound to uio_pci_generic", f"{SERVER_PCI} bound to uio_pci_generic",
                          f"{E1000E_PCI} bound to uio_pci_generic", "ProtectKernelTunables=no"))
    p = box.ssh("ip -br link")
    rep.check("box: the management NIC is still up with its address after the binding",
              box.ssh("ip -4 -o addr show scope global").stdout.count("10.0.2.15") == 1, p.stdout)


def configure_and_start(rep, box, workers, server_dev, first):
    cores = list(range(workers + 1))
    edits = config_edits(cores, workers, CLIENT_PCI, server_dev)
    if first:
        guide(rep, box, "a services file", f"printf %s {shlex.quote(A.SERVICES_TOML)} | sudo tee {SERVICES} >/dev/null",
              in_guide=False)
        guide(rep, box, "configure (step 8: the edits a user makes in an editor)", sed_command(edits, CONFIG),
              in_guide=False)
    else:
        # Another NIC and worker count: start again from the sample, as the guide's step 8 does.
        guide(rep, box, "configure again", "sudo cp /usr/local/share/wiretally/configs/inline-2port.toml "
              f"{CONFIG} && " + sed_command(edits, CONFIG), in_guide=False)
    p = box.ssh(f"grep -nE '^(cores|memory_mb|allow|workers|poll_sleep_us|device|max_flows|file) ' {CONFIG}")
    want = [f'allow = ["{CLIENT_PCI}", "{server_dev}"]', f'device = "{CLIENT_PCI}"', f'device = "{server_dev}"',
            f"workers = {workers}", "poll_sleep_us = 50", f'file = "{SERVICES}"']
    rep.check("guide: the config holds every edit", all(w in p.stdout for w in want), p.stdout)
    guide(rep, box, "check the config", f"sudo wiretally run --check --config {CONFIG}")
    p = guide(rep, box, "check the box against the config", f"cd {box.bundle_dir} && sudo deploy/check-box.sh --config {CONFIG}",
              must_print=("no FAIL",), timeout=180)
    if first:
        rep.transcripts["check-box --config (after)"] = p.stdout
    verb = "enable --now" if first else "restart"
    guide(rep, box, "start the unit (step 9)", f"sudo systemctl {verb} wiretally")
    t0 = L.now()
    ready = False
    while L.now() - t0 < 180:
        p = box.ssh("wiretally ctl stats --json", timeout=30, record=False)
        if p.returncode == 0:
            ready = True
            break
        if box.ssh("systemctl is-failed -q wiretally", record=False).returncode == 0:
            break
        time.sleep(2)
    rep.check(f"unit: wiretally.service active and answering ctl in {L.now() - t0:.0f} s", ready,
              box.ssh("systemctl --no-pager status wiretally; journalctl -u wiretally -n 30 --no-pager").stdout[-2500:])
    if not ready:
        raise T.Abort()


def stats_doc(fwd):
    rc, doc, text = fwd.ctl("stats")
    return doc if rc == 0 and isinstance(doc, dict) else None


def check_rss(rep, fwd, ctx):
    """Both workers took flows from the NICs' RSS, and each flow's two directions met on one worker: a split
    flow would be created twice (once per worker), each half with one direction's bytes only."""
    doc = stats_doc(fwd) or {}
    ports = A.by_key(doc.get("ports"), "device")
    rep.check("ports: both data NICs on DPDK's virtio driver, frames both ways, none missed",
              all((ports.get(d) or {}).get("driver") == "net_virtio" and A.num(ports.get(d), "rx_packets") > 0 and
                  A.num(ports.get(d), "tx_packets") > 0 and A.num(ports.get(d), "rx_dropped") == 0
                  for d in (CLIENT_PCI, SERVER_PCI)), str(doc.get("ports")))
    workers = doc.get("workers") or []
    spread = {w.get("worker"): (A.num(w, "flows_created"), A.num(w, "rx_packets")) for w in workers}
    ctx["spread"] = spread
    rep.note(f"per-worker flows created, packets received: {spread}")
    rep.check("rss: two workers, each created flows and received packets",
              len(spread) == 2 and all(c > 0 and r > 0 for c, r in spread.values()), str(spread))
    rc, fl, text = fwd.ctl("flows", "--top", "1000")
    rows = [f for f in (fl or {}).get("flows", []) if isinstance(f, dict)]
    tcp = [f for f in rows if f.get("server_port") == 443 and f.get("proto") == "tcp"]
    one_way = [f for f in tcp if (A.num(f, "bytes_up") > 0) != (A.num(f, "bytes_down") > 0)]
    fetched = sum(1 for f in ctx["fetches"] if f.ok)
    rep.check(f"rss: every TLS flow seen both ways by one worker ({len(tcp)} flows on :443, none one-way)",
              len(tcp) >= fetched and not one_way, f"one-way: {one_way[:3]}; {len(tcp)} flows, {fetched} fetches")
    total = A.num(doc.get("flows") or {}, "created")
    rep.check(f"rss: flows created ({total}) not doubled: at most the fetches, DNS and QUIC exchanges plus slack",
              total <= 3 * fetched + 40, f"created {total}, fetches {fetched}")


def check_rss_ports(rep, lab, fwd, ctx, connections=24):
    """CONNECTIONS TLS connections to one server address that differ only in the client's port (no DNS: curl
    --resolve): RSS over the 4-tuple must give each worker some (an address-only hash would put all on one;
    with a port hash the chance of that is 2^-23), and every one must be seen both ways by its worker."""
    n = L.Lab.name("api.shop.example")
    created = lambda doc: {w.get("worker"): A.num(w, "flows_created") for w in (doc or {}).get("workers") or []}
    before = created(stats_doc(fwd))
    ok_fetches = 0
    for _ in range(connections):
        p = L.run(lab.cli("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "--no-keepalive",
                          "--resolve", f"{n.name}:443:{n.addr4}", f"https://{n.name}{L.BODY_PATH}"), timeout=30)
        ok_fetches += p.stdout.strip() == "200"
    rep.check(f"rss: {connections} TLS fetches of {n.name} from {n.addr4} through the box", ok_fetches == connections,
              f"{ok_fetches} answered 200")

    def settled():
        after = created(stats_doc(fwd))
        delta = {w: after.get(w, 0) - before.get(w, 0) for w in after}
        return sum(delta.values()) >= connections, delta
    _, delta = A.poll(settled, timeout=15)
    ctx["spread_ports"] = delta
    rep.note(f"per-worker flows created by {connections} connections to one address: {delta}")
    rep.check(f"rss: the {connections} connections spread over both workers by port ({delta}), none created twice",
              len(delta) == 2 and all(v > 0 for v in delta.values()) and connections <= sum(delta.values()) <= connections + 4,
              str(delta))
    rc, fl, _ = fwd.ctl("flows", "--top", "1000")
    mine = [f for f in (fl or {}).get("flows", []) if isinstance(f, dict) and f.get("server") == n.addr4
            and f.get("server_port") == 443 and f.get("proto") == "tcp"]
    one_way = [f for f in mine if not (A.num(f, "bytes_up") > 0 and A.num(f, "bytes_down") > 0)]
    rep.check(f"rss: each of them seen both ways by one worker ({len(mine)} flows to {n.addr4}:443, none one-way)",
              len(mine) >= connections and not one_way, f"one-way: {one_way[:3]}")


def check_metrics_and_telemetry(rep, box):
    p = guide(rep, box, "metrics (step 10)",
              "curl -s http://127.0.0.1:9867/metrics | grep -E '^wiretally_(uptime|port_rx)'",
              must_print=(r"wiretally_uptime_seconds", r'wiretally_port_rx_packets_total\{port="wan"\} [1-9]'))
    p = guide(rep, box, "DPDK telemetry", "echo /ethdev/list | sudo dpdk-telemetry.py -f wiretally",
              must_print=(r'"/ethdev/list": \[\s*0,\s*1',))
    p = guide(rep, box, "wiretally's telemetry", "echo /wiretally/stats | sudo dpdk-telemetry.py -f wiretally",
              in_guide=False,
              must_print=(r'"uptime_s"',))


def tallies_survive(rep, box, fwd, label, claim, what, command, **guide_args):
    """Runs the guide's COMMAND (a restart of the service, one way or another), then waits for the service to
    answer again and checks that Shop's bytes carried over."""
    before, _ = A.services_doc(fwd)
    guide(rep, box, what, command, **guide_args)

    def answering():
        services, _ = A.services_doc(fwd)
        return services is not None, services
    ok, after = A.poll(answering, timeout=180, interval=2)
    shop_b, shop_a = A.num((before or {}).get("Shop"), "bytes_down"), A.num((after or {}).get("Shop"), "bytes_down")
    rep.check(f"{label}: {claim} (Shop bytes_down {shop_b} -> {shop_a})",
              ok and shop_b > 0 and shop_a >= shop_b, f"before {shop_b} after {shop_a}")


def resume_after_restart(rep, box, fwd):
    uptime_before = A.num(stats_doc(fwd), "uptime_s")
    tallies_survive(rep, box, fwd, "restart", "the tallies resume from the snapshot", "restart (step 12)",
                    "sudo systemctl restart wiretally")
    p = box.ssh("systemctl show -p ActiveState wiretally")
    uptime_after = A.num(stats_doc(fwd), "uptime_s")
    rep.check(f"restart: the unit is active again, a new process (uptime {uptime_before} s -> {uptime_after} s)",
              "ActiveState=active" in p.stdout and uptime_after < uptime_before, p.stdout)


def upgrade_in_place(rep, box, fwd):
    """Step 12's upgrade while the service runs: install.sh checks the installed config with the new binary
    beside the running instance (which holds the socket, the HTTP address and the hugepages), then restarts it;
    the tallies carry over."""
    tallies_survive(rep, box, fwd, "upgrade", "the service is back with its tallies", "upgrade while running (step 12)",
                    f"cd {box.bundle_dir} && sudo deploy/install.sh --start",
                    must_print=("passes the new binary's check", "install: done"), timeout=240)


def phase_traffic(rep, lab, fwd, ctx, smoke):
    pcap = os.path.join(lab.workdir, "client.pcap")
    cap = lab.start_capture(lab.ns_client, "cli0", pcap)
    targets = [L.SERVER4] if smoke else [L.SERVER4, L.SERVER6] + [n.addr4 for n in L.NAMES if n.addr4 != L.SERVER4]
    left = lab.reachable(targets, timeout=60)
    if not rep.check(f"through the box: the client reaches {len(targets)} server addresses", not left,
                     f"unreachable: {left}"):
        lab.stop_capture(cap)
        raise T.Abort()
    if smoke:
        n = L.NAMES[0]
        d = lab.dig(n.name, "A")
        rep.check(f"dns A {n.name} through the box", d["status"] == "NOERROR" and d["addrs"] == [n.addr4], str(d))
        f = lab.curl(n.name, L.BODY_PATH, "1.3", max_time=60)
        ctx["fetches"].append(f)
        rep.check(f"tls1.3 {n.name}: {n.body_size} bytes through the box", f.ok and f.size == n.body_size,
                  f.describe())
    else:
        T.phase_clients(rep, lab, fwd, ctx)
    dropped = lab.stop_capture(cap)
    T.phase_capture_check(rep, lab, ctx, pcap, dropped)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wiretally", required=True, help="the wiretally binary to bundle")
    ap.add_argument("--smoke", action="store_true", help="the short form (see --help's text)")
    ap.add_argument("--iommu", action="store_true",
                    help="give the box an emulated Intel IOMMU (q35, intel-iommu): the NICs go to vfio-pci")
    ap.add_argument("--box-dir", default=os.path.join(ROOT, "build", "box"), help="make-box.sh's cache")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: the box test needs root (taps, namespaces, debootstrap)")
        return 77
    missing = L.missing_programs(L.REQUIRED + ["qemu-system-x86_64", "qemu-img", "debootstrap", "ssh", "scp"])
    if missing:
        print(f"FAIL: missing programs (scripts/setup.sh installs them): {', '.join(missing)}")
        return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, T.on_signal)
    t_start = L.now()
    workdir = tempfile.mkdtemp(prefix="wt-box-")
    rep = T.Report()
    rep.transcripts = {}
    suffix = secrets.token_hex(3)
    args.box_dir = os.path.abspath(args.box_dir)
    box = Box(args.box_dir, workdir, suffix, iommu=args.iommu)
    lab = BoxLab(workdir, box, suffix)
    fwd = BoxAppliance(box)
    ctx = {"fetches": [], "quic_ok": False, "capture": {}}
    timings = {}
    try:
        rep.phase("the box: bundle, image, boot")
        t0 = L.now()
        version = L.must([args.wiretally, "--version"]).stdout.split()[0]
        bundle = os.path.join(workdir, "bundle", f"wiretally-{version}-bundle.tar.gz")  # bundle.sh's own name
        p = L.run(["bash", os.path.join(ROOT, "deploy", "bundle.sh"), "--binary", args.wiretally, "-o", bundle], timeout=120)
        if not rep.check("bundle: deploy/bundle.sh packs the binary, the kit and the IP data", p.returncode == 0,
                         p.stdout + p.stderr):
            raise T.Abort()
        rep.note(p.stdout.strip())
        packages = L.run(["tar", "xzf", bundle, "-O", "--wildcards", "*/runtime-packages.txt"], timeout=30).stdout.split()
        p = L.run(["bash", os.path.join(HERE, "make-box.sh"), "--packages", " ".join(packages), args.box_dir],
                  timeout=1200)
        rep.note(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "")
        if not rep.check("image: tests/box/make-box.sh made or found the box", p.returncode == 0, p.stdout + p.stderr):
            raise T.Abort()
        timings["bundle and image"] = L.now() - t0
        box.start()
        lab.setup_topology()
        lab.make_pki_and_content(1000 * 1000)
        lab.start_servers()
        boot = box.wait_ssh()
        timings["boot to SSH"] = boot
        rep.check(f"boot: the box answers SSH on its management NIC ({boot:.0f} s under TCG)", True)

        t0 = L.now()
        install_and_bind(rep, box, bundle)
        configure_and_start(rep, box, workers=2, server_dev=SERVER_PCI, first=True)
        timings["guide steps 4-9"] = L.now() - t0

        rep.phase("traffic through the emulated NICs (virtio-net, two workers)")
        t0 = L.now()
        phase_traffic(rep, lab, fwd, ctx, args.smoke)
        timings["traffic"] = L.now() - t0
        t0 = L.now()
        rep.phase("the appliance's answers (in the box)")
        A.check_services(rep, lab, fwd, ctx)
        if not args.smoke:
            A.check_domains(rep, lab, fwd, ctx)
            A.check_servers(rep, lab, fwd, ctx)
            check_rss(rep, fwd, ctx)
            check_rss_ports(rep, lab, fwd, ctx)
        for command in ("services", "stats"):
            p = box.ssh(f"wiretally ctl {command}")
            rep.transcripts[f"ctl {command}"] = p.stdout
        check_metrics_and_telemetry(rep, box)
        if not args.smoke:
            resume_after_restart(rep, box, fwd)
            upgrade_in_place(rep, box, fwd)

            rep.phase("the e1000e NIC as the server side (one worker: the 82574 has one queue in DPDK)")
            lab.move_servers_to("srv1", "srv0")
            configure_and_start(rep, box, workers=1, server_dev=E1000E_PCI, first=False)
            before, _ = A.services_doc(fwd)
            left = lab.reachable([L.SERVER4], timeout=60)
            n = L.Lab.name("video.stream.example")
            d = lab.dig(n.name, "A")
            f = lab.curl(n.name, L.BODY_PATH, "1.2", max_time=60)
            rep.check(f"e1000e: DNS and a TLS 1.2 fetch of {n.name} through virtio -> wiretally -> e1000e",
                      not left and d["addrs"] == [n.addr4] and f.ok and f.size == n.body_size,
                      f"unreachable {left}; dig {d['addrs']}; {f.describe()}")
            ok, after = A.poll(lambda: ((lambda s: (A.num((s[0] or {}).get("Stream"), "bytes_down") >=
                                                    A.num((before or {}).get("Stream"), "bytes_down") + n.body_size,
                                                    s[0]))(A.services_doc(fwd))), timeout=30, interval=1)
            rep.check("e1000e: ctl services counts the fetch under Stream", ok,
                      f"before {(before or {}).get('Stream')} after {(after or {}).get('Stream')}")
            p = box.ssh("wiretally ctl stats")
            rep.transcripts["ctl stats (e1000e)"] = p.stdout
            ports = A.by_key((stats_doc(fwd) or {}).get("ports"), "device")
            e = ports.get(E1000E_PCI) or {}
            rep.check("e1000e: the server port is the 82574L on DPDK's e1000 driver, frames received and sent",
                      e.get("driver") == "net_e1000_em" and A.num(e, "rx_packets") > 0 and A.num(e, "tx_packets") > 0
                      and A.num(e, "rx_dropped") == 0, str(e))
        timings["checks"] = L.now() - t0
    except T.Abort:
        pass
    except (L.LabError, BoxError) as e:
        rep.check("box: the test ran to its end", False, str(e))
    finally:
        try:
            if box.proc is not None and box.proc.poll() is None:
                j = box.ssh("journalctl -u wiretally --no-pager -n 200", record=False)
                with open(os.path.join(workdir, "journal.txt"), "w") as f:
                    f.write(j.stdout)
        finally:
            box.stop()
            lab.cleanup()
        keep = os.path.join(args.box_dir, "last-run-vfio" if args.iommu else "last-run")
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep, exist_ok=True)
        for name in ("transcript.txt", "console.log", "journal.txt", "qemu.log"):
            if os.path.exists(os.path.join(workdir, name)):
                shutil.copy(os.path.join(workdir, name), keep)
        with open(os.path.join(keep, "outputs.json"), "w") as f:
            json.dump({"transcripts": rep.transcripts, "timings_s": timings, "spread": ctx.get("spread"),
                       "spread_ports": ctx.get("spread_ports")},
                      f, indent=2, default=str)
        for title, text in rep.transcripts.items():
            print(f"# ---- {title}")
            for line in (text or "").rstrip().splitlines():
                print(f"#   {line}")
        print("# timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) +
              f", whole run {L.now() - t_start:.0f} s; transcript: {keep}/transcript.txt")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    rep.summary()
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
