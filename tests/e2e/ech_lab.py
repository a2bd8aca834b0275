#!/usr/bin/env python3
"""Debian's Chromium sending a GREASE ECH ClientHello and a real ECH ClientHello, recorded in network namespaces.

Two network namespaces joined by a veth with its default offloads (client 10.81.0.2, server side 10.81.0.1 with
more addresses):
- dnsmasq on 10.81.0.1:53 (no DHCP, no upstream, no /etc/hosts; TTL 300; other names REFUSED) answers
    grease-only.example-cars.test  A 10.81.0.10                 (no HTTPS record)
    ech-hidden.example-cars.test   A 10.81.0.20, and HTTPS (type 65): 1 . alpn=h2,http/1.1 ech=<ECHConfigList>
    public.example-cars.test       A 10.81.0.30                 (the ECH public_name)
  The ECHConfigList holds one ECHConfig, version 0xfe0d, config_id 0x42, DHKEM(X25519, HKDF-SHA256) with a real
  X25519 public key made for the run, cipher suite (HKDF-SHA256, AES-128-GCM), maximum_name_length 0,
  public_name public.example-cars.test, no extensions (RFC 9849 section 4, RFC 9460 section 2.2).
- openssl s_server on 443 of each server address (a self-signed certificate for the three names). It has no ECH:
  the handshakes may fail, only the ClientHellos matter.
- the client's resolver is dnsmasq (/etc/netns/CLIENT/resolv.conf; `ip netns exec` mounts it over
  /etc/resolv.conf, with a plain `hosts: files dns` nsswitch.conf and a hosts file of its own beside it, so that
  Chromium's built-in DNS client accepts the system's configuration).
tcpdump records the client's veth into OUT_DIR/ech-chromium.pcap while headless Chromium loads
https://grease-only.example-cars.test/ and then https://ech-hidden.example-cars.test/ (a fresh profile each).
tshark then checks the ClientHellos: to grease-only, SNI grease-only.example-cars.test with a GREASE ECH
extension (0xfe0d, type outer, a random config_id that is not 0x42); for the hidden name, outer SNI
public.example-cars.test and ECH config_id 0x42, whose encrypted inner hello opens with the run's X25519 private
key (HPKE, RFC 9180) to the inner SNI ech-hidden.example-cars.test. The server has no ECH, so Chromium then
retries without ECH (SNI ech-hidden.example-cars.test in the clear, with a GREASE ECH extension).

Usage: ech_lab.py OUT_DIR [--keep-netlog] [--load-seconds S] [--chromium-flags FLAGS]
       ech_lab.py --check PCAP [--config ech-config.json]     (verifies a capture made earlier; no root needed)
Writes OUT_DIR/ech-chromium.pcap, OUT_DIR/ech-config.json (the ECHConfigList, the run's throwaway X25519 key pair,
the HTTPS RDATA and the dnsmasq --dns-rr option) and, with --keep-netlog, Chromium's NetLog of each load
(netlog-grease.json, netlog-hidden.json). Exit 0 when the hellos were seen as described, 1 (with the reason)
when not, 77 when not root or a program is missing (chromium, dnsmasq, tcpdump, tshark, openssl).
WT_ECH_KEEP_WORK=1 keeps the work directory (Chromium's output, profiles, certificate) for a look.

Importable: ech_config_list(), https_rdata() and dns_rr_option() build the records; parse_hellos(),
ech_extension() and inner_server_name() read the hellos back.
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import wt_skips  # noqa: E402
from netns import in_ns, sh, tear_down  # noqa: E402

SFX = f"wtech{os.getpid() % 100000}"
CLIENT, SERVER = f"{SFX}-c", f"{SFX}-s"
CLIENT_IP, SERVER_IP, GREASE_IP, HIDDEN_IP, PUBLIC_IP = (
    "10.81.0.2", "10.81.0.1", "10.81.0.10", "10.81.0.20", "10.81.0.30")
GREASE_NAME, HIDDEN_NAME, PUBLIC_NAME = (
    "grease-only.example-cars.test", "ech-hidden.example-cars.test", "public.example-cars.test")
CONFIG_ID = 0x42
ECH_VERSION = 0xfe0d
KEM_X25519, KDF_HKDF_SHA256, AEAD_AES_128_GCM = 0x0020, 0x0001, 0x0001
HTTPS_RR_TYPE = 65
SVC_ALPN, SVC_ECH = 1, 5
ALPN = (b"h2", b"http/1.1")
ZONE = "example-cars.test"

# Headless Chromium as this machine runs it (root: no sandbox), with a fresh profile per load.
CHROMIUM_BASE_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# What this lab adds (see tests/data/ech/README.md). Chromium 156 sends both hellos with none of
# them (--chromium-flags ''): its built-in DNS client, HTTPS record queries over plain DNS and ECH are on by
# default; the features are named so that a build with other defaults still does it. Accepting the self-signed
# certificate lets Chromium treat the ECH-less server as authenticated for the public name, so after the ECH
# rejection it retries without ECH (a GREASE hello with the hidden name in the clear) and the page loads.
CHROMIUM_EXTRA_FLAGS = [
    "--ignore-certificate-errors",
    "--enable-features=AsyncDns,UseDnsHttpsSvcb,EncryptedClientHello",
]


# ---- the records

def x25519_keypair():
    """(private, public) raw 32-byte X25519 keys: python3-cryptography, else openssl genpkey."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        key = X25519PrivateKey.generate()
        raw = serialization.Encoding.Raw
        return (key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
                key.public_key().public_bytes(raw, serialization.PublicFormat.Raw))
    except ImportError:
        der = subprocess.run(["openssl", "genpkey", "-algorithm", "X25519", "-outform", "DER"], capture_output=True,
                             check=True).stdout
        pub = subprocess.run(["openssl", "pkey", "-inform", "DER", "-pubout", "-outform", "DER"], input=der,
                             capture_output=True, check=True).stdout
        return der[-32:], pub[-32:]  # PKCS#8 and SPKI DER both end with the raw key


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def ech_config_list(public_key, config_id=CONFIG_ID, public_name=PUBLIC_NAME):
    """An ECHConfigList (with its 2-byte length) holding one ECHConfig of version 0xfe0d (RFC 9849 section 4)."""
    name = public_name.encode()
    contents = (u8(config_id) + u16(KEM_X25519) + u16(len(public_key)) + public_key +
                u16(4) + u16(KDF_HKDF_SHA256) + u16(AEAD_AES_128_GCM) +
                u8(0) +                      # maximum_name_length
                u8(len(name)) + name +
                u16(0))                      # extensions
    config = u16(ECH_VERSION) + u16(len(contents)) + contents
    return u16(len(config)) + config


def https_rdata(ech_list, alpn=ALPN):
    """HTTPS RR RDATA (RFC 9460 section 2.2): SvcPriority 1, TargetName ".", alpn, ech, keys ascending."""
    alpn_value = b"".join(u8(len(a)) + a for a in alpn)
    params = u16(SVC_ALPN) + u16(len(alpn_value)) + alpn_value + u16(SVC_ECH) + u16(len(ech_list)) + ech_list
    return u16(1) + b"\x00" + params


def dns_rr_option(name, rdata, rr_type=HTTPS_RR_TYPE):
    """dnsmasq's --dns-rr=<name>,<RR-number>,<hex data>."""
    return f"--dns-rr={name},{rr_type},{rdata.hex()}"


# ---- reading the capture back

def parse_hellos(pcap, private_key=None, ech_list=None):
    """The ClientHellos in pcap, read with tshark: dicts with frame, time, dst, sni, raw (the handshake message)
    and ech (see ech_extension). With the lab's X25519 private key and ECHConfigList, a real ECH hello also gets
    inner_sni: the server name in its decrypted inner ClientHello."""
    fields = ["frame.number", "frame.time_relative", "ip.dst", "tls.handshake.extensions_server_name"]
    out = sh("tshark", "-r", pcap, "-Y", "tls.handshake.type == 1", "-T", "fields", "-E", "separator=\t",
             *sum((["-e", f] for f in fields), []), timeout=60).stdout
    hellos = []
    for line in out.splitlines():
        cols = line.split("\t") + [""] * len(fields)
        hellos.append({"frame": int(cols[0]), "time": float(cols[1]), "dst": cols[2], "sni": cols[3]})
    # The raw ClientHello (reassembled when it spans TCP segments): tshark 4.0 has no ECH fields of its own.
    doc = json.loads(sh("tshark", "-r", pcap, "-Y", "tls.handshake.type == 1", "-T", "json", "-x",
                        timeout=60).stdout or "[]")
    raw = {}
    for pkt in doc:
        layers = pkt["_source"]["layers"]
        frame = int(_find_key(layers["frame"], "frame.number"))
        found = _find_key(layers, "tls.handshake_raw")
        if found:
            raw[frame] = bytes.fromhex(found[0] if isinstance(found[0], str) else found[0][0])
    for h in hellos:
        h["raw"] = raw.get(h["frame"])
        h["ech"] = ech_extension(h["raw"]) if h["raw"] else None
        if private_key and ech_list and have_cryptography() and h["ech"] and h["ech"]["type"] == "outer" and \
                h["ech"]["config_id"] == CONFIG_ID:
            h["inner_sni"] = inner_server_name(h["raw"], private_key, ech_list)
    return hellos


def _find_key(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                return v
            r = _find_key(v, key)
            if r is not None:
                return r
    elif isinstance(node, list):
        for v in node:
            r = _find_key(v, key)
            if r is not None:
                return r
    return None


def _extensions(hs):
    """(type, offset of the body, body) of each extension of a raw ClientHello handshake message."""
    if len(hs) < 4 or hs[0] != 1:
        return []
    p = 4 + 2 + 32
    p += 1 + hs[p]                                   # legacy_session_id
    p += 2 + struct.unpack_from("!H", hs, p)[0]      # cipher_suites
    p += 1 + hs[p]                                   # legacy_compression_methods
    end = p + 2 + struct.unpack_from("!H", hs, p)[0]
    p += 2
    exts = []
    while p + 4 <= end:
        etype, elen = struct.unpack_from("!HH", hs, p)
        exts.append((etype, p + 4, hs[p + 4:p + 4 + elen]))
        p += 4 + elen
    return exts


def ech_extension(hs):
    """The ECH (0xfe0d) extension of a raw ClientHello, parsed (RFC 9849 section 5): {type: outer, kdf, aead,
    config_id, enc (hex), enc_len, payload_len, payload_offset}, {type: inner}, or None when it has none."""
    for etype, off, body in _extensions(hs):
        if etype != ECH_VERSION:
            continue
        if body[0] == 1:
            return {"type": "inner"}
        kdf, aead, config_id = struct.unpack_from("!HHB", body, 1)
        enc_len = struct.unpack_from("!H", body, 6)[0]
        payload_len = struct.unpack_from("!H", body, 8 + enc_len)[0]
        return {"type": "outer", "kdf": kdf, "aead": aead, "config_id": config_id,
                "enc": body[8:8 + enc_len].hex(), "enc_len": enc_len, "payload_len": payload_len,
                "payload_offset": off + 10 + enc_len}
    return None


# ---- opening a real ECH hello with the lab's key (HPKE base mode, RFC 9180; DHKEM(X25519, HKDF-SHA256),
# HKDF-SHA256, AES-128-GCM): proves the outer hello carries the hidden name, encrypted

def have_cryptography():
    try:
        import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401
        return True
    except ImportError:
        return False


def _hkdf_extract(salt, ikm):
    import hashlib
    import hmac
    return hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()


def _hkdf_expand(prk, info, length):
    import hashlib
    import hmac
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def _labeled_extract(suite, salt, label, ikm):
    return _hkdf_extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite, prk, label, info, length):
    return _hkdf_expand(prk, u16(length) + b"HPKE-v1" + suite + label + info, length)


def hpke_open(private_key, enc, info, aad, ciphertext):
    """Single-shot HPKE open, base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives import serialization
    sk = X25519PrivateKey.from_private_bytes(private_key)
    pk_r = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    dh = sk.exchange(X25519PublicKey.from_public_bytes(enc))
    kem_suite = b"KEM" + u16(KEM_X25519)
    eae_prk = _labeled_extract(kem_suite, b"", b"eae_prk", dh)
    shared = _labeled_expand(kem_suite, eae_prk, b"shared_secret", enc + pk_r, 32)
    suite = b"HPKE" + u16(KEM_X25519) + u16(KDF_HKDF_SHA256) + u16(AEAD_AES_128_GCM)
    context = (b"\x00" + _labeled_extract(suite, b"", b"psk_id_hash", b"") +
               _labeled_extract(suite, b"", b"info_hash", info))
    secret = _labeled_extract(suite, shared, b"secret", b"")
    key = _labeled_expand(suite, secret, b"key", context, 16)
    nonce = _labeled_expand(suite, secret, b"base_nonce", context, 12)
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


def inner_server_name(hs, private_key, ech_list):
    """The SNI of the inner ClientHello of a real ECH outer hello (raw handshake message), decrypted with the
    lab's key; None when it does not open (then the hello was not made from this ECHConfig)."""
    ech = ech_extension(hs)
    start, n = ech["payload_offset"], ech["payload_len"]
    ciphertext = hs[start:start + n]
    aad = hs[4:start] + b"\0" * n + hs[start + n:]   # ClientHelloOuterAAD: no handshake header, payload zeroed
    config = ech_list[2:]                              # the one ECHConfig, as it is in the list
    try:
        inner = hpke_open(private_key, bytes.fromhex(ech["enc"]), b"tls ech\x00" + config, aad, ciphertext)
    except Exception:  # noqa: BLE001 (InvalidTag: not ours)
        return None
    # EncodedClientHelloInner: a ClientHello without its handshake header (then padding).
    for etype, _, body in _extensions(b"\x01" + len(inner).to_bytes(3, "big") + inner):
        if etype == 0:  # server_name: list length, type 0 (host_name), name length, name
            return body[5:5 + struct.unpack_from("!H", body, 3)[0]].decode(errors="replace")
    return ""


def https_ech_config_lists(pcap):
    """(frame, ECHConfigList bytes) of each HTTPS record's ech SvcParam in the capture's DNS responses."""
    out = sh("tshark", "-r", pcap, "-Y", f"dns.flags.response == 1 and dns.resp.type == {HTTPS_RR_TYPE}",
             "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number",
             "-e", "dns.svcb.svcparam.echconfig", timeout=60).stdout
    found = []
    for line in out.splitlines():
        frame, _, values = line.partition("\t")
        found += [(int(frame), bytes.fromhex(v.replace(":", ""))) for v in values.split("|") if v]
    return found


def dns_frames(pcap):
    """DNS frames: (frame, transport, 'query'/'response', name, qtype, answers types)."""
    out = sh("tshark", "-r", pcap, "-Y", "dns", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
             "-E", "aggregator=|", "-e", "frame.number", "-e", "udp.srcport", "-e", "dns.flags.response",
             "-e", "dns.qry.name", "-e", "dns.qry.type", "-e", "dns.resp.type", timeout=60).stdout
    rows = []
    for line in out.splitlines():
        c = line.split("\t") + [""] * 6
        rows.append({"frame": int(c[0]), "transport": "udp" if c[1] else "tcp",
                     "response": c[2] in ("1", "True", "true"), "name": c[3],
                     "qtype": int(c[4]) if c[4] else None, "answers": [int(t) for t in c[5].split("|") if t]})
    return rows


# ---- the lab

def run_chromium(url, work, tag, netlog, timeout, extra_flags):
    profile = tempfile.mkdtemp(prefix=f"chromium-{tag}-", dir=work)
    cmd = ["ip", "netns", "exec", CLIENT, "chromium", *CHROMIUM_BASE_FLAGS, *extra_flags,
           f"--user-data-dir={profile}"]
    if netlog:
        cmd += [f"--log-net-log={netlog}", "--net-log-capture-mode=Everything"]
    cmd += ["--dump-dom", url]
    log = open(os.path.join(work, f"chromium-{tag}.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()
    return proc.returncode


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--check", metavar="PCAP", help="only verify a capture made earlier (no root needed)")
    ap.add_argument("--config", metavar="JSON", help="with --check: the run's ech-config.json, to open the inner hello")
    ap.add_argument("--private-key", metavar="HEX", help="with --check: the run's X25519 private key (32 bytes)")
    ap.add_argument("--keep-netlog", action="store_true", help="keep Chromium's NetLog of each load in OUT_DIR")
    ap.add_argument("--load-seconds", type=float, default=15.0, help="how long each Chromium load may take")
    ap.add_argument("--chromium-flags", default=None,
                    help="replaces the lab's extra Chromium flags (space-separated; '' for none): "
                    + " ".join(CHROMIUM_EXTRA_FLAGS))
    args = ap.parse_args(argv)
    if args.check:
        return check_only(args.check, args.config, args.private_key)
    if not args.out_dir:
        ap.error("OUT_DIR is needed (or --check PCAP)")

    wt_skips.skip_unless_root("the ECH lab creates network namespaces and runs tcpdump")
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"  # dnsmasq, ip
    missing = [p for p in ("chromium", "dnsmasq", "tcpdump", "tshark", "openssl", "ip") if not shutil.which(p)]
    if missing:
        wt_skips.skip(f"missing program(s): {', '.join(missing)} (scripts/setup.sh installs them)")

    extra_flags = CHROMIUM_EXTRA_FLAGS if args.chromium_flags is None else args.chromium_flags.split()
    os.makedirs(args.out_dir, exist_ok=True)
    out_dir = os.path.abspath(args.out_dir)
    pcap = os.path.join(out_dir, "ech-chromium.pcap")
    work = tempfile.mkdtemp(prefix="wt-ech-")
    etc_netns = os.path.join("/etc/netns", CLIENT)
    made_etc_netns = not os.path.isdir("/etc/netns")
    procs = []
    failures = []
    try:
        private_key, public_key = x25519_keypair()
        ech_list = ech_config_list(public_key)
        rdata = https_rdata(ech_list)
        rr_option = dns_rr_option(HIDDEN_NAME, rdata)
        with open(os.path.join(out_dir, "ech-config.json"), "w") as f:
            json.dump({"config_id": CONFIG_ID, "public_name": PUBLIC_NAME, "ech_config_list": ech_list.hex(),
                       "x25519_public": public_key.hex(), "x25519_private": private_key.hex(),
                       "https_rdata": rdata.hex(), "dnsmasq_dns_rr": rr_option}, f, indent=2)
            f.write("\n")
        print(f"ECHConfigList ({len(ech_list)} bytes): {ech_list.hex()}", flush=True)
        print(f"dnsmasq {rr_option}", flush=True)

        for ns in (CLIENT, SERVER):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"{SFX}c", "type", "veth", "peer", "name", f"{SFX}s")
        sh("ip", "link", "set", f"{SFX}c", "netns", CLIENT)
        sh("ip", "link", "set", f"{SFX}s", "netns", SERVER)
        in_ns(CLIENT, "ip", "addr", "add", f"{CLIENT_IP}/24", "dev", f"{SFX}c")
        for ip in (SERVER_IP, GREASE_IP, HIDDEN_IP, PUBLIC_IP):
            in_ns(SERVER, "ip", "addr", "add", f"{ip}/24" if ip == SERVER_IP else f"{ip}/32", "dev", f"{SFX}s")
        for ns, dev in ((CLIENT, f"{SFX}c"), (SERVER, f"{SFX}s")):
            in_ns(ns, "ip", "link", "set", "lo", "up")
            in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(CLIENT, "ip", "route", "add", "default", "via", SERVER_IP)

        # The client's resolver configuration, mounted over /etc by `ip netns exec`.
        os.makedirs(etc_netns, exist_ok=True)
        with open(os.path.join(etc_netns, "resolv.conf"), "w") as f:
            f.write(f"nameserver {SERVER_IP}\n")
        with open(os.path.join(etc_netns, "nsswitch.conf"), "w") as f:
            f.write("hosts: files dns\n")
        with open(os.path.join(etc_netns, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")

        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", SERVER, "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--port=53",
             f"--listen-address={SERVER_IP}", "--bind-interfaces", "--log-queries", "--local-ttl=300",
             f"--local=/{ZONE}/",
             f"--host-record={GREASE_NAME},{GREASE_IP}", f"--host-record={HIDDEN_NAME},{HIDDEN_IP}",
             f"--host-record={PUBLIC_NAME},{PUBLIC_IP}", rr_option,
             "--pid-file=" + os.path.join(work, "dnsmasq.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-days", "2", "-subj", f"/CN={PUBLIC_NAME}",
           "-addext", f"subjectAltName=DNS:{PUBLIC_NAME},DNS:{HIDDEN_NAME},DNS:{GREASE_NAME}",
           "-keyout", key, "-out", cert)
        for ip in (GREASE_IP, HIDDEN_IP, PUBLIC_IP):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", SERVER, "openssl", "s_server", "-quiet", "-accept", f"{ip}:443",
                 "-cert", cert, "-key", key, "-www"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        answer = in_ns(CLIENT, "dig", f"@{SERVER_IP}", HIDDEN_NAME, "HTTPS", "+short", "+tries=1", "+time=2",
                       check_rc=False).stdout.strip() if shutil.which("dig") else "(dig absent)"
        print(f"dig {HIDDEN_NAME} HTTPS: {answer}", flush=True)

        tcpdump = subprocess.Popen(["ip", "netns", "exec", CLIENT, "tcpdump", "-i", f"{SFX}c", "-w", pcap, "-U",
                                    "-s", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(tcpdump)
        time.sleep(1.0)
        for tag, url in (("grease", f"https://{GREASE_NAME}/"), ("hidden", f"https://{HIDDEN_NAME}/")):
            netlog = os.path.join(out_dir, f"netlog-{tag}.json") if args.keep_netlog else None
            rc = run_chromium(url, work, tag, netlog, args.load_seconds, extra_flags)
            print(f"chromium {url}: exit {rc}", flush=True)
        time.sleep(1.0)
        tcpdump.send_signal(signal.SIGINT)
        tcpdump.wait(timeout=10)

        failures = verify(pcap, private_key, ech_list)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        failures = [f"the lab did not run: {e}"]
    finally:
        tear_down(procs, (CLIENT, SERVER))
        shutil.rmtree(etc_netns, ignore_errors=True)
        if made_etc_netns:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass
        if os.environ.get("WT_ECH_KEEP_WORK"):
            print(f"work dir kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        for f in failures:
            print(f"FAIL {f}", flush=True)
        return 1
    print(f"OK: {pcap}", flush=True)
    return 0


def describe(hello):
    """What a ClientHello's ECH extension says, in words."""
    e = hello["ech"]
    if e is None:
        return "no ECH extension"
    if e["type"] == "inner":
        return "ECH type inner in the clear"
    real = e["config_id"] == CONFIG_ID and hello["sni"] == PUBLIC_NAME
    text = (f"{'real' if real else 'GREASE'} ECH: outer, config_id 0x{e['config_id']:02x}, kdf 0x{e['kdf']:04x} "
            f"aead 0x{e['aead']:04x}, enc {e['enc_len']} bytes, payload {e['payload_len']} bytes")
    if "inner_sni" in hello:
        text += (f"; inner SNI {hello['inner_sni']}" if hello["inner_sni"] is not None
                 else "; does not open with the lab's key")
    return text


def verify(pcap, private_key=None, ech_list=None):
    """Prints what the capture holds and returns the list of failures (empty when it is as wanted). With the lab's
    key and ECHConfigList, a real ECH hello must also open to the hidden name."""
    failures = []
    dns = dns_frames(pcap)
    print("DNS (example-cars.test):", flush=True)
    for d in dns:
        if d["name"].endswith(ZONE):
            print(f"  frame {d['frame']:>3} {d['transport']} {'response' if d['response'] else 'query   '} "
                  f"{d['name']} type {d['qtype']}" + (f", answer types {d['answers']}" if d["response"] else ""),
                  flush=True)
    others = sorted({d["name"] for d in dns if not d["name"].endswith(ZONE)})
    if others:
        print(f"  (and Chromium's own lookups, unanswered: {', '.join(others)})", flush=True)
    if not any(d["response"] and d["name"] == HIDDEN_NAME and HTTPS_RR_TYPE in d["answers"] for d in dns):
        failures.append(f"no DNS response carrying the HTTPS record of {HIDDEN_NAME}")
    served = https_ech_config_lists(pcap)
    for frame, value in served:
        print(f"  frame {frame:>3} HTTPS record's ech SvcParam (ECHConfigList): {value.hex()}", flush=True)
    if ech_list and not any(value == ech_list for _, value in served):
        failures.append(f"no HTTPS record in the capture carries the lab's ECHConfigList {ech_list.hex()}")
    if ech_list is None and served:
        ech_list = served[0][1]
    hellos = parse_hellos(pcap, private_key, ech_list)
    print("ClientHellos:", flush=True)
    for h in hellos:
        print(f"  frame {h['frame']:>3} t={h['time']:.3f} -> {h['dst']} SNI {h['sni'] or '-'}: {describe(h)}",
              flush=True)
    grease = [h for h in hellos if h["sni"] == GREASE_NAME]
    if not grease:
        failures.append(f"no ClientHello with SNI {GREASE_NAME}")
    elif not any(h["ech"] and h["ech"]["type"] == "outer" and h["ech"]["config_id"] != CONFIG_ID for h in grease):
        failures.append(f"the ClientHellos to {GREASE_NAME} have no GREASE ECH extension: "
                        f"{[describe(h) for h in grease]}")
    real = [h for h in hellos if h["dst"] == HIDDEN_IP and h["sni"] == PUBLIC_NAME and h["ech"] and
            h["ech"]["type"] == "outer" and h["ech"]["config_id"] == CONFIG_ID]
    if not real:
        seen = [(h["frame"], h["sni"], describe(h)) for h in hellos if h["dst"] == HIDDEN_IP]
        failures.append(f"no ClientHello to {HIDDEN_IP} with outer SNI {PUBLIC_NAME} and ECH config_id "
                        f"0x{CONFIG_ID:02x}; to that address: {seen}")
    elif private_key and have_cryptography() and not any(h.get("inner_sni") == HIDDEN_NAME for h in real):
        failures.append(f"no real ECH hello opens to the inner SNI {HIDDEN_NAME}: "
                        f"{[(h['frame'], h.get('inner_sni')) for h in real]}")
    if any(h["ech"] and h["ech"]["type"] == "inner" for h in hellos):
        failures.append("an ECH inner hello was sent in the clear")
    return failures


def check_only(pcap, config_path, private_key_hex):
    """--check: verifies a capture made earlier (e.g. tests/data/ech/ech-chromium.pcap). The ECHConfigList comes
    from the run's ech-config.json, else from the capture's HTTPS record; the private key (to open the inner
    hello) from ech-config.json or --private-key."""
    private_key = bytes.fromhex(private_key_hex) if private_key_hex else None
    ech_list = None
    if config_path:
        with open(config_path) as f:
            cfg = json.load(f)
        private_key, ech_list = bytes.fromhex(cfg["x25519_private"]), bytes.fromhex(cfg["ech_config_list"])
    failures = verify(pcap, private_key, ech_list)
    for f in failures:
        print(f"FAIL {f}", flush=True)
    if not failures:
        print(f"OK: {pcap}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
