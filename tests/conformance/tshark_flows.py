#!/usr/bin/env python3
"""Reference producer of wiretally's --flows JSONL, from tshark.

    tshark_flows.py CAPTURE --flows OUT.jsonl

Used to develop and validate run_corpus.py without wiretally, and to measure how far a different, trusted
decoder (Wireshark 4.0) agrees with nDPI:
    run_corpus.py --binary-cmd "python3 tests/conformance/tshark_flows.py {pcap} --flows {flows}"

Flow key: (ip protocol, unordered endpoint pair, outer vlan) like ndpiReader, no idle timeout.  The IP
header used is the innermost one that is not quoted inside an ICMP error (tunnels are decapsulated by
tshark).  client = sender of a SYN without ACK, else of a TLS ClientHello / QUIC Initial, else of a DNS
query or HTTP request, else of the first packet.  JA4 is computed here from the ClientHello fields (tshark
4.0 has no ja4 field) following the FoxIO JA4 spec.
"""
from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

AGG = '\x1f'
FIELDS = [
    'frame.time_epoch', 'frame.protocols', 'vlan.id',
    'ip.src', 'ip.dst', 'ip.proto', 'ip.len', 'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.plen',
    'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.flags.syn', 'tcp.flags.ack',
    'tls.handshake.type', 'tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.extension.type',
    'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
    'tls.handshake.extensions.supported_version', 'tls.handshake.sig_hash_alg', 'tls.handshake.sig_hash_alg_len',
    'quic.version', 'quic.long.packet_type', 'gquic.version', 'gquic.tag.sni',
    'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'http.host', 'http.request',
]
IDX = {f: i for i, f in enumerate(FIELDS)}
PROTO_NAMES = {1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 50: 'esp', 47: 'gre', 103: 'pim',
               112: 'vrrp', 113: 'pgm', 132: 'sctp'}


def is_grease(v: int) -> bool:
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def tls_version_name(v: int) -> str:
    """nDPI's names (ndpi_ssl_version2str)."""
    names = {0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3',
             0xfb1a: 'TLSv1.3 (Fizz)', 0xfeff: 'DTLSv1.0', 0xfefd: 'DTLSv1.2', 0xfefc: 'DTLSv1.3'}
    if v in names:
        return names[v]
    if is_grease(v):
        return 'GREASE'
    if 0x7f00 <= v <= 0x7fff:
        return 'TLSv1.3 (draft)'
    return 'TLS (%04X)' % v


def quic_version_name(v: int) -> str:
    """nDPI's QUIC version spelling."""
    if v == 0:
        return 'Ver-Negotiation'
    if (v & 0x0f0f0f0f) == 0x0a0a0a0a:
        return 'Ver-Negotiation'
    if v == 1:
        return 'V-1'
    if v == 0x6b3343cf:
        return 'V-2'
    if (v >> 8) == 0xff0000:
        return 'Draft-%d' % (v & 0xff)
    mvfst = {0xfaceb001: 'MVFST-22', 0xfaceb002: 'MVFST-27', 0xfaceb00e: 'MVFST-EXP'}
    if v in mvfst:
        return mvfst[v]
    b = v.to_bytes(4, 'big')
    if b[:1] in (b'Q', b'T') and b[1:].isdigit():
        return b.decode()
    return 'Unknown (%08X)' % v


def cipher_names():
    """IANA cipher suite names from Wireshark's value strings (cached: `tshark -G values` takes seconds)."""
    cache = os.path.join(tempfile.gettempdir(), 'wt_tshark_ciphers.json')
    try:
        with open(cache) as f:
            return {int(k): v for k, v in json.load(f).items()}
    except (OSError, ValueError):
        pass
    out = {}
    try:
        txt = subprocess.run(['tshark', '-G', 'values'], capture_output=True, text=True, check=False).stdout
    except OSError:
        return out
    for ln in txt.splitlines():
        p = ln.split('\t')
        if len(p) == 4 and p[0] == 'V' and p[1] == 'tls.handshake.ciphersuite':
            out[int(p[2])] = p[3]
    if out:
        tmp = cache + '.%d' % os.getpid()
        with open(tmp, 'w') as f:
            json.dump(out, f)
        os.replace(tmp, cache)
    return out


def sigalgs_of_ext13(exts, sig_lens, sig_values):
    """tshark lists the algorithms of signature_algorithms (13), signature_algorithms_cert (50) and
    delegated_credentials (34) in one field; split them by extension order and the per-list lengths."""
    pos = 0
    li = 0
    for e in exts:
        if e in (13, 34, 50) and li < len(sig_lens):
            n = sig_lens[li] // 2
            li += 1
            if e == 13:
                return sig_values[pos:pos + n]
            pos += n
    return []


def ja4_ndpi_style(ja4_spec: str, sni: str, alpns) -> str:
    """JA4 as nDPI 4.x prints it (for analysis only): SNI char 'i' only when the SNI is an IP literal,
    else 'd'; ALPN = the first two characters of the first ALPN value."""
    a, b, c = ja4_spec.split('_')
    try:
        ipaddress.ip_address(sni or '')
        ch = 'i'
    except ValueError:
        ch = 'd'
    al = (alpns[0][:2] if alpns and alpns[0] else '00').ljust(2, '0')
    return f'{a[:3]}{ch}{a[4:8]}{al}_{b}_{c}'


def ival(s: str) -> int:
    return int(s, 16) if s.startswith('0x') else int(s)


def ja4(transport: str, ciphers, exts, sni: bool, alpns, sup_versions, legacy_version, sigalgs) -> str:
    """FoxIO JA4 (a_b_c)."""
    vers = [v for v in sup_versions if not is_grease(v)]
    ver = max(vers) if vers else legacy_version
    vmap = {0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0200: 's2',
            0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3'}
    c = [x for x in ciphers if not is_grease(x)]
    e = [x for x in exts if not is_grease(x)]
    if alpns and alpns[0]:
        a0 = alpns[0]
        alpn = a0[0] + a0[-1]
        if not (a0[0].isascii() and a0[0].isalnum() and a0[-1].isascii() and a0[-1].isalnum()):
            h = a0.encode().hex()
            alpn = h[0] + h[-1]
    else:
        alpn = '00'
    a = '%s%s%s%02d%02d%s' % (transport, vmap.get(ver, '00'), 'd' if sni else 'i', min(len(c), 99),
                              min(len(e), 99), alpn)
    cs = ','.join('%04x' % x for x in sorted(c))
    b = hashlib.sha256(cs.encode()).hexdigest()[:12] if c else '000000000000'
    es = ','.join('%04x' % x for x in sorted(x for x in e if x not in (0x0000, 0x0010)))
    sa = ','.join('%04x' % x for x in sigalgs)
    cstr = es + ('_' + sa if sa else '')
    cc = hashlib.sha256(cstr.encode()).hexdigest()[:12] if e else '000000000000'
    return f'{a}_{b}_{cc}'


def strip_port(host: str) -> str:
    """Host header value without ':port' (RFC 9110 section 7.2 uri-host [ ":" port ])."""
    if host.startswith('['):
        return host[1:host.index(']')] if ']' in host else host
    if host.count(':') == 1:
        return host.split(':')[0]
    return host


class Flow:
    def __init__(self, proto, src, dst, vlan, ts):
        self.proto, self.vlan = proto, vlan
        self.client, self.server = src, dst
        self.client_rank = 0  # evidence strength for the client choice
        self.ts_first = self.ts_last = ts
        self.pkts = {src: 0, dst: 0}
        self.bytes = {src: 0, dst: 0}
        self.app = ''
        self.sni = self.quic_sni = self.http_host = self.dns_query = None
        self.tls = {}
        self.quic_version = None
        self.dns = {}

    def set_client(self, ep, rank):
        if rank > self.client_rank:
            self.client_rank = rank
            other = self.server if ep == self.client else self.client
            self.client, self.server = ep, other

    def to_json(self):
        name, src = '', ''
        for v, s in ((self.sni, 'sni'), (self.quic_sni, 'quic_sni'), (self.http_host, 'http_host'),
                     (self.dns_query, 'dns_query')):
            if v:
                name, src = v, s
                break
        o = {'ts_first': self.ts_first, 'ts_last': self.ts_last, 'proto': self.proto,
             'client': self.client[0], 'client_port': self.client[1],
             'server': self.server[0], 'server_port': self.server[1], 'vlan': self.vlan,
             'pkts_up': self.pkts[self.client], 'pkts_down': self.pkts[self.server],
             'bytes_up': self.bytes[self.client], 'bytes_down': self.bytes[self.server],
             }
        if self.client == self.server:  # same endpoint both ways (e.g. ICMP to itself): one direction
            o['pkts_down'] = o['bytes_down'] = 0
        o.update({
             'app': self.app, 'sni': self.sni or self.quic_sni or '', 'name': name, 'name_source': src})
        if self.tls:
            o['tls'] = self.tls
        if self.quic_version:
            o['quic'] = {'version': self.quic_version}
        if self.dns:
            o['dns'] = self.dns
        if self.http_host:
            o['http'] = {'host': self.http_host}
        return o


def l3_index(protocols: str):
    """Which IP header to use: the innermost one not inside an ICMP error.  Returns (family, k, l4name)
    where k is the index among that family's occurrences."""
    layers = protocols.split(':')
    cut = len(layers)
    for i, l in enumerate(layers):
        if l in ('icmp', 'icmpv6'):
            cut = i + 1
            break
    fam, k, l4 = None, -1, ''
    n4 = n6 = 0
    for i in range(cut):
        l = layers[i]
        if l == 'ip':
            fam, k = 'ip', n4
            n4 += 1
            l4 = layers[i + 1] if i + 1 < len(layers) else ''
        elif l == 'ipv6':
            fam, k = 'ipv6', n6
            n6 += 1
            j = i + 1
            while j < len(layers) and layers[j].startswith('ipv6.'):
                j += 1
            l4 = layers[j] if j < len(layers) else ''
    return fam, k, l4


def pick(vals, k):
    return vals[k] if 0 <= k < len(vals) else ''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('capture')
    ap.add_argument('--flows', required=True)
    args = ap.parse_args()

    cmd = ['tshark', '-n', '-r', args.capture, '-o', 'tcp.desegment_tcp_streams:TRUE',
           '-o', 'tcp.try_heuristic_first:TRUE', '-T', 'fields',
           '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=' + AGG, '-E', 'quote=n']
    for f in FIELDS:
        cmd += ['-e', f]
    p = subprocess.run(cmd, capture_output=True, check=False)
    if p.returncode != 0 and not p.stdout:
        msg = p.stderr.decode('utf-8', 'replace').strip().splitlines()
        print((msg[-1] if msg else 'tshark failed'), file=sys.stderr)
        return 2
    ciphers_by_id = cipher_names()
    flows = {}
    order = []
    for line in p.stdout.decode('utf-8', 'replace').splitlines():
        col = line.split('\t')
        if len(col) < len(FIELDS):
            col += [''] * (len(FIELDS) - len(col))
        v = {f: (col[i].split(AGG) if col[i] else []) for f, i in IDX.items()}
        fam, k, l4 = l3_index(pick(v['frame.protocols'], 0))
        if fam is None:
            continue
        try:
            ts = float(v['frame.time_epoch'][0])
        except (IndexError, ValueError):
            continue
        if fam == 'ip':
            src, dst = pick(v['ip.src'], k), pick(v['ip.dst'], k)
            try:
                pnum = int(pick(v['ip.proto'], k))
                iplen = int(pick(v['ip.len'], k) or 0)
            except ValueError:
                continue
        else:
            src, dst = pick(v['ipv6.src'], k), pick(v['ipv6.dst'], k)
            try:
                pnum = int(pick(v['ipv6.nxt'], k))
                iplen = int(pick(v['ipv6.plen'], k) or 0) + 40
            except ValueError:
                pnum, iplen = -1, 0
            if l4 in ('tcp', 'udp', 'icmpv6'):
                pnum = {'tcp': 6, 'udp': 17, 'icmpv6': 58}[l4]
        if not src or not dst:
            continue
        src, dst = ipaddress.ip_address(src).compressed, ipaddress.ip_address(dst).compressed
        proto = PROTO_NAMES.get(pnum, str(pnum))
        sport = dport = 0
        if proto == 'tcp' and v['tcp.srcport']:
            sport, dport = int(v['tcp.srcport'][0]), int(v['tcp.dstport'][0])
        elif proto == 'udp' and v['udp.srcport']:
            sport, dport = int(v['udp.srcport'][0]), int(v['udp.dstport'][0])
        vlan = int(v['vlan.id'][0]) if v['vlan.id'] else 0
        a, b = (src, sport), (dst, dport)
        key = (proto, frozenset((a, b)), vlan)
        fl = flows.get(key)
        if fl is None:
            fl = flows[key] = Flow(proto, a, b, vlan, ts)
            order.append(key)
        fl.ts_last = max(fl.ts_last, ts)
        fl.ts_first = min(fl.ts_first, ts)
        fl.pkts[a] += 1
        fl.bytes[a] += iplen

        if proto == 'tcp' and v['tcp.flags.syn'][:1] in (['1'], ['True']) and \
                v['tcp.flags.ack'][:1] in (['0'], ['False']):
            fl.set_client(a, 4)
        inner = proto in ('tcp', 'udp')
        if not inner:
            continue
        htypes = [int(x) for x in v['tls.handshake.type'] if x.isdigit()]
        is_quic = bool(v['quic.version']) or bool(v['gquic.version'])
        if 1 in htypes and 'ja4' not in fl.tls:
            fl.set_client(a, 3)
            fl.app = 'quic' if is_quic else 'tls'
            sni = v['tls.handshake.extensions_server_name'][:1]
            if sni:
                if is_quic:
                    fl.quic_sni = sni[0]
                else:
                    fl.sni = sni[0]
            alpn = v['tls.handshake.extensions_alpn_str']
            sup = [ival(x) for x in v['tls.handshake.extensions.supported_version']]
            exts = [ival(x) for x in v['tls.handshake.extension.type']]
            ciphers = [ival(x) for x in v['tls.handshake.ciphersuite']]
            sig = sigalgs_of_ext13(exts, [ival(x) for x in v['tls.handshake.sig_hash_alg_len']],
                                   [ival(x) for x in v['tls.handshake.sig_hash_alg']])
            legacy = ival(v['tls.handshake.version'][0]) if v['tls.handshake.version'] else 0
            fl.tls['alpn'] = alpn
            if sup:
                fl.tls['supported_versions'] = [tls_version_name(x) for x in sup]
            fl.tls['ech'] = 0xfe0d in exts
            fl.tls['ja4'] = ja4('q' if is_quic else 't', ciphers, exts, 0 in exts, alpn, sup, legacy, sig)
            fl.tls['x_ja4_ndpi'] = ja4_ndpi_style(fl.tls['ja4'], sni[0] if sni else '', alpn)
            fl.tls['x_ch_version'] = tls_version_name(legacy)
        if 2 in htypes and 'cipher' not in fl.tls and 'ja4' in fl.tls:
            # ServerHello: in the frame it is the only message carrying these fields singly
            cs = v['tls.handshake.ciphersuite'][:1]
            if cs:
                fl.tls['cipher'] = ciphers_by_id.get(ival(cs[0]), 'TLS_%04X' % ival(cs[0]))
            sv = v['tls.handshake.extensions.supported_version'][:1]
            hv = v['tls.handshake.version'][:1]
            ver = ival(sv[0]) if sv else (ival(hv[0]) if hv else 0)
            if ver:
                fl.tls['version'] = tls_version_name(ver)
                fl.tls['x_sh_version'] = tls_version_name(ival(hv[0])) if hv else ''
        if is_quic:
            if fl.quic_version is None:
                if v['quic.version']:
                    qv = ival(v['quic.version'][0])
                    if qv != 0 or fl.client_rank == 0:
                        fl.quic_version = quic_version_name(qv)
                elif v['gquic.version']:
                    fl.quic_version = v['gquic.version'][0]
            if v['gquic.tag.sni'] and not fl.quic_sni:
                fl.quic_sni = v['gquic.tag.sni'][0]
                fl.app = 'quic'
            if v['quic.long.packet_type'][:1] == ['0']:
                fl.set_client(a, 3)
            if not fl.app:
                fl.app = 'quic'
        if v['dns.qry.name']:
            if v['dns.flags.response'][:1] in (['0'], ['False']):
                fl.set_client(a, 2)
            if 'rcode' not in fl.dns:
                # nDPI keeps overwriting the name until the first response; do the same
                fl.dns_query = v['dns.qry.name'][0]
                fl.app = fl.app or 'dns'
                fl.dns = {'query': fl.dns_query,
                          'qtype': int(v['dns.qry.type'][0]) if v['dns.qry.type'] else 0}
                if v['dns.flags.response'][:1] in (['1'], ['True']) and v['dns.flags.rcode']:
                    fl.dns['rcode'] = int(v['dns.flags.rcode'][0])
        if v['http.host'] and v['http.request'] and fl.http_host is None:
            fl.set_client(a, 2)
            fl.http_host = strip_port(v['http.host'][0])
            fl.app = fl.app or 'http'
        fl.set_client(fl.client, 1)  # first packet's sender, weakest evidence

    with open(args.flows, 'w', encoding='utf-8') as out:
        for key in order:
            out.write(json.dumps(flows[key].to_json(), sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
