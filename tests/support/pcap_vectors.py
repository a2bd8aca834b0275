"""Helpers shared by the parsers' test-vector generators: read a classic pcap
(Ethernet or Linux cooked, IPv4/IPv6), rebuild a TCP direction in sequence order,
and print bytes as a C++ array.
"""
import os
import struct


def packets(path):
    with open(path, 'rb') as f:
        raw = f.read()
    magic = struct.unpack('<I', raw[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(endian + 'I', raw[20:24])[0]
    assert linktype == 1, f'{path}: linktype {linktype}, expected Ethernet'
    off = 24
    while off + 16 <= len(raw):
        _, _, caplen, _ = struct.unpack(endian + 'IIII', raw[off:off + 16])
        off += 16
        frame = raw[off:off + caplen]
        off += caplen
        if struct.unpack('>H', frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0f) * 4
        total = struct.unpack('>H', ip[2:4])[0]
        proto = ip[9]
        l4 = ip[ihl:total]
        if proto == 17:
            sport, dport = struct.unpack('>HH', l4[:4])
            yield 'udp', sport, dport, 0, l4[8:]
        elif proto == 6:
            sport, dport, seq = struct.unpack('>HHI', l4[:8])
            doff = (l4[12] >> 4) * 4
            yield 'tcp', sport, dport, seq, l4[doff:]


def tcp_stream(segments):
    """Concatenates (seq, payload) in sequence order, dropping retransmitted bytes."""
    out = b''
    base = None
    for seq, data in sorted(segments):
        if not data:
            continue
        if base is None:
            base = seq
        rel = seq - base
        if rel + len(data) > len(out):
            out += data[len(out) - rel:]
    return out


def c_array(name, data, corpus=None, corpus_dir=None):
    """Returns the C++ array; also writes `data` as a fuzz seed for every target of
    `corpus` ({target: predicate(name)}) whose predicate accepts `name`."""
    for target, wanted in (corpus or {}).items():
        if wanted(name):
            d = os.path.join(corpus_dir, target)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, name), 'wb') as f:
                f.write(data)
    body = ',\n'.join('    ' + ', '.join(f'0x{b:02x}' for b in data[i:i + 16]) for i in range(0, len(data), 16))
    return f'inline constexpr std::array<std::uint8_t, {len(data)}> {name}{{\n{body}}};\n'
