#!/usr/bin/env python3
"""Generates vectors.hpp from the captures in tests/data/tls/ (made by record.sh).

Usage (from the repository root): python3 tests/parsers/tls/gen_vectors.py
For each capture: the beginning of the client->server and server->client TCP byte
streams (up to the end of the record that completes the first handshake message),
the client's TCP segment sizes, and the expected values taken from tshark's TLS
dissector (an independent parser). The expected JA4 is computed here from tshark's
fields with hashlib, following the FoxIO JA4 spec, as a second implementation.
"""
import glob
import hashlib
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(ROOT, '../../data/tls'))


def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    assert magic == 0xa1b2c3d4, 'little-endian microsecond pcap expected'
    linktype = struct.unpack('<I', data[20:24])[0]
    assert linktype == 1, 'Ethernet expected'
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack('<IIII', data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_segments(path):
    """(src_port, seq, payload) for IPv4/TCP frames with a payload."""
    for frame in read_pcap(path):
        if struct.unpack('>H', frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0xf) * 4
        total = struct.unpack('>H', ip[2:4])[0]
        if ip[9] != 6:
            continue
        tcp = ip[ihl:total]
        sport = struct.unpack('>H', tcp[0:2])[0]
        seq = struct.unpack('>I', tcp[4:8])[0]
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        if payload:
            yield sport, seq, payload


def streams(path):
    """Client and server byte streams (in-order capture assumed; retransmits dropped)."""
    out = {'c': [bytearray(), None, []], 's': [bytearray(), None, []]}
    for sport, seq, payload in tcp_segments(path):
        d = out['s' if sport == 443 else 'c']
        if d[1] is None:
            d[1] = seq
        rel = seq - d[1]
        if rel != len(d[0]):
            assert rel < len(d[0]), 'gap in capture'
            continue
        d[0] += payload
        d[2].append(len(payload))
    return out['c'][0], out['c'][2], out['s'][0]


def first_handshake_prefix(stream):
    """Stream bytes up to the end of the record completing the first handshake message."""
    off, msg = 0, bytearray()
    while off + 5 <= len(stream):
        length = struct.unpack('>H', stream[off + 3:off + 5])[0]
        if stream[off] == 21 and not msg:  # warning alert before the hello (unrecognized_name)
            off += 5 + length
            continue
        assert stream[off] == 22, 'handshake record expected'
        msg += stream[off + 5:off + 5 + length]
        off += 5 + length
        if len(msg) >= 4 and len(msg) >= 4 + int.from_bytes(msg[1:4], 'big'):
            return bytes(stream[:off]), bytes(msg[:4 + int.from_bytes(msg[1:4], 'big')])
    raise ValueError('incomplete handshake message')


FIELDS = ['tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.extension.type',
          'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
          'tls.handshake.extensions.supported_version', 'tls.handshake.sig_hash_alg',
          'tls.handshake.extensions_supported_group']


def tshark_fields(path, htype):
    cmd = ['tshark', '-r', path, '-Y', f'tls.handshake.type=={htype}', '-T', 'fields',
           '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=|']
    for f in FIELDS:
        cmd += ['-e', f]
    line = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    vals = line.split('|')
    return {f: (v.split(',') if v else []) for f, v in zip(FIELDS, vals)}


def grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def ja4(f):
    # Only the client's own fields: tshark aggregates all occurrences in the frame.
    ciphers = [int(x, 0) for x in f['tls.handshake.ciphersuite']]
    exts = [int(x, 0) for x in f['tls.handshake.extension.type']]
    versions = [int(x, 0) for x in f['tls.handshake.extensions.supported_version']]
    sigs = [int(x, 0) for x in f['tls.handshake.sig_hash_alg']]
    alpn = f['tls.handshake.extensions_alpn_str']
    legacy = int(f['tls.handshake.version'][0], 0)
    vs = [v for v in versions if not grease(v)]
    ver = max(vs) if vs else legacy
    code = {0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3'}.get(ver, '00')
    c = sorted(x for x in ciphers if not grease(x))
    e = [x for x in exts if not grease(x)]
    a = 't' + code + ('d' if 0 in e else 'i') + '%02d' % min(len(c), 99) + '%02d' % min(len(e), 99)
    if alpn and alpn[0]:
        s = alpn[0]
        a += (s[0] + s[-1]) if (s[0].isalnum() and s[-1].isalnum()) else (s.encode().hex()[0] + s.encode().hex()[-1])
    else:
        a += '00'
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h(','.join('%04x' % x for x in c)) if c else '0' * 12
    ee = sorted(x for x in e if x not in (0, 0x10))
    cs = ','.join('%04x' % x for x in ee)
    sg = [x for x in sigs if not grease(x)]
    if sg:
        cs += '_' + ','.join('%04x' % x for x in sg)
    cc = h(cs) if ee else '0' * 12
    return f'{a}_{b}_{cc}'


def carray(b):
    rows = []
    for i in range(0, len(b), 16):
        rows.append('    ' + ', '.join('0x%02x' % x for x in b[i:i + 16]) + ',')
    return '\n'.join(rows)


def main():
    out = ['// Generated by tests/parsers/tls/gen_vectors.py from tests/data/tls/*.pcap',
           '// (recorded by tests/data/tls/record.sh). Do not edit by hand.',
           '#pragma once', '', '#include <cstdint>', '#include <span>', '#include <string_view>', '',
           'namespace wt::parsers::test_vectors {', '']
    entries = []
    for path in sorted(glob.glob(os.path.join(DATA, '*.pcap'))):
        name = os.path.basename(path)[:-5]
        client, segs, server = streams(path)
        cprefix, chello = first_handshake_prefix(client)
        sprefix, shello = first_handshake_prefix(server)
        cf = tshark_fields(path, 1)
        sf = tshark_fields(path, 2)
        ident = name.replace('-', '_')
        out.append(f'inline constexpr std::uint8_t k_{ident}_client[] = {{\n{carray(cprefix)}\n}};')
        out.append(f'inline constexpr std::uint8_t k_{ident}_server[] = {{\n{carray(sprefix)}\n}};')
        seg_list = []
        acc = 0
        for s in segs:
            if acc >= len(cprefix):
                break
            seg_list.append(min(s, len(cprefix) - acc))
            acc += s
        out.append(f'inline constexpr std::uint16_t k_{ident}_client_segments[] = {{{", ".join(map(str, seg_list))}}};')
        out.append('')
        sni = cf['tls.handshake.extensions_server_name'][0] if cf['tls.handshake.extensions_server_name'] else ''
        alpn = cf['tls.handshake.extensions_alpn_str']
        sel_ver = sf['tls.handshake.extensions.supported_version']
        entries.append(dict(
            name=name, ident=ident, sni=sni, alpn_first=alpn[0] if alpn else '', alpn_count=len(alpn),
            legacy=int(cf['tls.handshake.version'][0], 0),
            ciphers=len(cf['tls.handshake.ciphersuite']), exts=len(cf['tls.handshake.extension.type']),
            chello_len=len(chello), ja4=ja4(cf),
            s_legacy=int(sf['tls.handshake.version'][0], 0),
            s_version=int(sel_ver[0], 0) if sel_ver else int(sf['tls.handshake.version'][0], 0),
            s_cipher=int(sf['tls.handshake.ciphersuite'][0], 0),
            s_alpn=sf['tls.handshake.extensions_alpn_str'][0] if sf['tls.handshake.extensions_alpn_str'] else '',
            shello_len=len(shello)))
    out.append('struct TlsCapture {')
    out.append('    std::string_view name;')
    out.append('    std::span<const std::uint8_t> client;   // client stream up to the end of the ClientHello')
    out.append('    std::span<const std::uint16_t> client_segments; // TCP payload sizes of that prefix')
    out.append('    std::span<const std::uint8_t> server;   // server stream up to the end of the ServerHello')
    out.append('    std::string_view sni;          // tshark tls.handshake.extensions_server_name')
    out.append('    std::string_view alpn_first;   // first tls.handshake.extensions_alpn_str')
    out.append('    std::uint8_t alpn_count;')
    out.append('    std::uint16_t legacy_version;')
    out.append('    std::uint16_t cipher_count;    // including GREASE')
    out.append('    std::uint16_t extension_count; // including GREASE')
    out.append('    std::uint32_t client_hello_length; // handshake message incl. 4-byte header')
    out.append('    std::string_view ja4;          // computed by gen_vectors.py (hashlib)')
    out.append('    std::uint16_t server_legacy_version;')
    out.append('    std::uint16_t server_selected_version;')
    out.append('    std::uint16_t server_cipher;')
    out.append('    std::string_view server_alpn;')
    out.append('    std::uint32_t server_hello_length;')
    out.append('};')
    out.append('')
    out.append('inline constexpr TlsCapture kCaptures[] = {')
    for e in entries:
        i = e['ident']
        out.append(f'    {{"{e["name"]}", k_{i}_client, k_{i}_client_segments, k_{i}_server, "{e["sni"]}", '
                   f'"{e["alpn_first"]}", {e["alpn_count"]}, 0x{e["legacy"]:04x}, {e["ciphers"]}, {e["exts"]}, '
                   f'{e["chello_len"]}, "{e["ja4"]}", 0x{e["s_legacy"]:04x}, 0x{e["s_version"]:04x}, '
                   f'0x{e["s_cipher"]:04x}, "{e["s_alpn"]}", {e["shello_len"]}}},')
    out.append('};')
    out.append('')
    out.append('} // namespace wt::parsers::test_vectors')
    with open(os.path.join(ROOT, 'vectors.hpp'), 'w') as f:
        f.write('\n'.join(out) + '\n')
    for e in entries:
        sys.stderr.write(f"{e['name']}: sni={e['sni']!r} ja4={e['ja4']} cipher=0x{e['s_cipher']:04x}\n")


if __name__ == '__main__':
    main()
