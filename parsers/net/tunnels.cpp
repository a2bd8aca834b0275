// Tunnels: what decode_packet follows to the inner packet: IP in IP, GRE (RFC 2784, 2890; PPTP's version 1, RFC 2637), GTP-U (3GPP TS 29.281),
// VXLAN (RFC 7348), CAPWAP data (RFC 5415) and the IEEE 802.11 data frames CAPWAP and
// LINKTYPE_IEEE802_11 carry. The policy for what a tunnel reports is at decapsulate().
#include "parsers/net/packet_decode.hpp"

#include "parsers/common/limits.hpp"

namespace wt::parsers::packet_decode {

// A recognised tunnel header that overruns its payload; when the capture cut the outer
// packet (snaplen), the outer packet is reported instead.
static DecodeStatus tunnel_malformed(Ctx& c) noexcept {
    return finish(c.out, c.out.capture_truncated ? DecodeStatus::kOk : DecodeStatus::kTunnelMalformed);
}

// Tunnel policy. `inner` decodes what a recognised tunnel carries, one level deeper:
// ports and fragment flags are the inner packet's from then on, ip_bytes / MACs / VLAN
// ids stay the outer ones (decode_ipv4/6 and decode_ethertype look at c.depth). An
// inner error keeps its own status, with `tunneled` set so the counter can be split.
// A tunnel that carries no IP (inner kNotIp) is reported as the outer packet (the
// flow is the tunnel's own UDP / GRE flow). For that, the fields an inner decode can
// change are saved first; not the whole DecodedPacket, whose copy was a third of a
// GTP-U decode (benches/net).
struct OuterFields {
    IpAddress src;
    IpAddress dst;
    Bytes l4_payload;
    std::uint16_t src_port;
    std::uint16_t dst_port;
    std::uint8_t ip_version;
    std::uint8_t l4_proto;
    bool capture_truncated;
};

template <class Inner>
static DecodeStatus decapsulate(Ctx& c, Inner inner) noexcept {
    DecodedPacket& out = c.out;
    if (c.depth >= limits::kMaxIpTunnelDepth) {
        return finish(out, DecodeStatus::kTunnelTooDeep);
    }
    // Inner decodes never touch MACs, VLAN fields, ethertype or ip_bytes (c.depth > 0),
    // nor the TCP fields of a UDP / GRE / IP outer packet.
    const OuterFields outer{out.src,        out.dst,        out.l4_payload, out.src_port,
                            out.dst_port,   out.ip_version, out.l4_proto,   out.capture_truncated};
    const bool fragmented = out.fragmented;
    const bool first_fragment = out.first_fragment;
    ++c.depth;
    out.tunneled = true;
    out.fragmented = false;
    out.first_fragment = false;
    out.src_port = 0;
    out.dst_port = 0;
    const DecodeStatus s = inner();
    --c.depth;
    // A tunnel header the snaplen cut short is not malformed: the outer packet stands.
    if (s == DecodeStatus::kNotIp || (s == DecodeStatus::kTunnelMalformed && outer.capture_truncated)) {
        out.src = outer.src;
        out.dst = outer.dst;
        out.l4_payload = outer.l4_payload;
        out.src_port = outer.src_port;
        out.dst_port = outer.dst_port;
        out.ip_version = outer.ip_version;
        out.l4_proto = outer.l4_proto;
        out.capture_truncated = outer.capture_truncated;
        out.fragmented = fragmented;
        out.first_fragment = first_fragment;
        out.tunneled = c.depth > 0; // still inside an outer tunnel
        return finish(out, DecodeStatus::kOk);
    }
    return s;
}

// An Ethernet frame inside a tunnel (VXLAN, GRE 0x6558, CAPWAP with T=0): MACs not kept.
static DecodeStatus decode_inner_ethernet(Ctx& c, Bytes frame) noexcept {
    if (frame.size() < kEthernetHeaderSize) {
        return finish(c.out, DecodeStatus::kTunnelMalformed);
    }
    return decode_ethertype(c, load_u16(frame.data() + 12), frame.subspan(kEthernetHeaderSize));
}

// An IP packet inside a tunnel that has no payload type (GTP-U): the version nibble decides.
static DecodeStatus decode_inner_ip(Ctx& c, Bytes body) noexcept {
    if (body.empty() || ((body[0] >> 4) != 4 && (body[0] >> 4) != 6)) {
        return finish(c.out, DecodeStatus::kNotIp);
    }
    return (body[0] >> 4) == 4 ? decode_ipv4(c, body) : decode_ipv6(c, body);
}

// IEEE 802.11-2020 section 9.3.2.1 data frames with an RFC 1042 LLC/SNAP header
// (LINKTYPE_IEEE802_11, CAPWAP with the 802.11 binding of RFC 5416 section 3).
// Management, control, null-data, protected (encrypted) and A-MSDU frames are not IP.
// `maybe_swapped`: Cisco access points send the two frame control bytes swapped in
// CAPWAP (Wireshark's "Swap Frame Control" CAPWAP preference, on by default); we swap
// when the first byte is not a data frame control byte and the second one is.
DecodeStatus decode_80211(Ctx& c, Bytes frame, bool maybe_swapped) noexcept {
    DecodedPacket& out = c.out;
    if (frame.size() < kIeee80211Header) {
        return truncated_encap(c);
    }
    const std::uint8_t* p = frame.data();
    // Section 9.2.4.1: protocol version (bits 0-1) 0, type (bits 2-3) 2 = data.
    const auto is_data = [](std::uint8_t fc0) noexcept { return (fc0 & 0x0f) == 0x08; };
    std::uint8_t fc0 = p[0];
    std::uint8_t fc1 = p[1];
    if (maybe_swapped && !is_data(fc0) && is_data(fc1)) {
        std::swap(fc0, fc1);
    }
    if (!is_data(fc0)) {
        return finish(out, DecodeStatus::kNotIp);
    }
    const std::uint8_t subtype = static_cast<std::uint8_t>(fc0 >> 4);
    const bool to_ds = (fc1 & 0x01) != 0;
    const bool from_ds = (fc1 & 0x02) != 0;
    if ((subtype & 0x04) != 0 || (fc1 & 0x40) != 0) {
        return finish(out, DecodeStatus::kNotIp); // (QoS) null data carries nothing; protected is encrypted
    }
    std::size_t hlen = kIeee80211Header + (to_ds && from_ds ? 6 : 0); // address 4 in the WDS case
    const bool qos = (subtype & 0x08) != 0;
    if (qos) {
        hlen += 2;                // QoS control (section 9.2.4.5)
        if ((fc1 & 0x80) != 0) {
            hlen += 4;            // +HTC: the order bit announces an HT control field (section 9.2.4.1.10)
        }
    }
    if (frame.size() < hlen + kLlcSnapSize) {
        return truncated_encap(c);
    }
    if (qos && (p[hlen - ((fc1 & 0x80) != 0 ? 6 : 2)] & 0x80) != 0) {
        return finish(out, DecodeStatus::kNotIp); // A-MSDU present (section 9.2.4.5.9): subframes, not one SNAP packet
    }
    const std::uint8_t* llc = p + hlen;
    // AA AA 03 with OUI 00-00-00 (RFC 1042) or 00-00-F8 (802.1H bridge tunnel).
    if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3] != 0 || llc[4] != 0 ||
        (llc[5] != 0 && llc[5] != 0xf8)) {
        return finish(out, DecodeStatus::kNotIp);
    }
    if (c.depth == 0) {
        // Table 9-30 (address field contents): DA is A1 unless ToDS, then A3; SA is A2,
        // A3 when FromDS only, A4 when both.
        std::memcpy(out.dst_mac.data(), p + (to_ds ? 16 : 4), 6);
        std::memcpy(out.src_mac.data(), p + (from_ds ? (to_ds ? 24 : 16) : 10), 6);
        out.has_mac = true;
    }
    return decode_ethertype(c, load_u16(llc + 6), frame.subspan(hlen + kLlcSnapSize));
}

// 3GPP TS 29.281 section 5.1: flags (version 3 bits, PT, spare, E, S, PN), message type,
// length (bytes after the first 8), TEID; when any of E/S/PN is set, sequence number(2),
// N-PDU number(1) and next extension header type(1) follow; section 5.2: extension
// headers are length (in 4-byte units, including itself), contents, next type.
// Not GTP-U (plain UDP): version != 1, PT = 0 (GTP'), any message but G-PDU (echo,
// error indication, end marker), or a length that disagrees with the UDP payload.
static DecodeStatus decode_gtpu(Ctx& c, Bytes payload) noexcept {
    DecodedPacket& out = c.out;
    if (payload.size() < kGtpHeaderSize) {
        return finish(out, DecodeStatus::kOk);
    }
    const std::uint8_t flags = payload[0];
    if ((flags >> 5) != 1 || (flags & 0x10) == 0 || payload[1] != kGtpGpdu) {
        return finish(out, DecodeStatus::kOk);
    }
    std::size_t end = kGtpHeaderSize + load_u16(payload.data() + 2);
    if (end > payload.size()) {
        if (end - payload.size() > c.missing) {
            return finish(out, DecodeStatus::kOk);
        }
        end = payload.size(); // a snaplen cut: the inner IP decoder sees how much is missing
    }
    Bytes body = payload.subspan(kGtpHeaderSize, end - kGtpHeaderSize); // trailing bytes are not GTP's
    if ((flags & 0x07) != 0) {
        if (body.size() < kGtpOptionalSize) {
            return tunnel_malformed(c);
        }
        // Section 5.1: the next extension type is meaningful only when E is set.
        std::uint8_t next = (flags & 0x04) != 0 ? body[3] : 0;
        body = body.subspan(kGtpOptionalSize);
        for (std::size_t n = 0; next != 0; ++n) {
            if (n == limits::kMaxGtpExtensionHeaders || body.empty()) {
                return tunnel_malformed(c);
            }
            const std::size_t elen = std::size_t{body[0]} * 4;
            if (elen == 0 || elen > body.size()) {
                return tunnel_malformed(c); // section 5.2.1: length 0 is invalid
            }
            next = body[elen - 1];
            body = body.subspan(elen);
        }
    }
    return decapsulate(c, [&c, body]() noexcept { return decode_inner_ip(c, body); });
}

// RFC 7348 section 5: flags (I = 0x08 says the VNI is valid), reserved, VNI, reserved;
// then an Ethernet frame. Without the I flag the datagram is plain UDP.
static DecodeStatus decode_vxlan(Ctx& c, Bytes payload) noexcept {
    if (payload.size() < kVxlanHeaderSize || (payload[0] & 0x08) == 0) {
        return finish(c.out, DecodeStatus::kOk);
    }
    const Bytes inner = payload.subspan(kVxlanHeaderSize);
    return decapsulate(c, [&c, inner]() noexcept { return decode_inner_ethernet(c, inner); });
}

// RFC 5415 section 4.1 preamble (version 0, type 0: a CAPWAP header follows; type 1 is
// DTLS, encrypted) and section 4.3 header: HLEN(5, in 4-byte words, whole header) RID(5)
// WBID(5) T F L W M K flags(3), fragment id, fragment offset, optional radio MAC and
// wireless info. T=1: the native frame of the binding (WBID 1 = IEEE 802.11, RFC 5416);
// T=0: an IEEE 802.3 frame. Fragments (F) are not reassembled and keep-alives (K) carry
// no frame: both stay plain UDP, as does an HLEN outside the payload.
static DecodeStatus decode_capwap(Ctx& c, Bytes payload) noexcept {
    DecodedPacket& out = c.out;
    if (payload.size() < kCapwapMinHeader || payload[0] != 0) {
        return finish(out, DecodeStatus::kOk);
    }
    const std::uint32_t w0 = load_u32(payload.data());
    const std::size_t hlen = std::size_t{(w0 >> 19) & 0x1f} * 4;
    const std::uint32_t wbid = (w0 >> 9) & 0x1f;
    const bool native = (w0 & 0x100) != 0;
    const bool fragment = (w0 & 0x80) != 0;
    const bool keep_alive = (w0 & 0x08) != 0;
    if (hlen < kCapwapMinHeader || hlen > payload.size() || fragment || keep_alive || (native && wbid != 1)) {
        return finish(out, DecodeStatus::kOk);
    }
    const Bytes frame = payload.subspan(hlen);
    if (native) {
        return decapsulate(c, [&c, frame]() noexcept { return decode_80211(c, frame, true); });
    }
    return decapsulate(c, [&c, frame]() noexcept { return decode_inner_ethernet(c, frame); });
}


// RFC 2637 section 4.1 (PPTP enhanced GRE, version 1): flags (K always set, S, A),
// protocol 0x880b, payload length, call id, then sequence (S) and acknowledgment (A)
// numbers; the payload is a PPP frame. An ack-only packet has no payload (plain GRE).
static DecodeStatus decode_gre_v1(Ctx& c, std::uint16_t flags, Bytes avail) noexcept {
    DecodedPacket& out = c.out;
    const std::size_t hlen = kGreV1Header + ((flags & 0x1000) != 0 ? 4 : 0) + ((flags & 0x0080) != 0 ? 4 : 0);
    if ((flags & 0x2000) == 0 || (flags & 0xc000) != 0) {
        return finish(out, DecodeStatus::kOk); // section 4.1: C and R are 0, K is 1
    }
    if (hlen > avail.size()) {
        return tunnel_malformed(c);
    }
    const std::size_t len = load_u16(avail.data() + 4);
    const Bytes body = avail.subspan(hlen);
    if (len == 0 || body.empty()) {
        return finish(out, DecodeStatus::kOk);
    }
    const Bytes ppp = body.first(std::min(len, body.size()));
    return decapsulate(c, [&c, ppp]() noexcept { return decode_ppp_link(c, ppp); });
}

// RFC 2784 section 2.1 / RFC 2890 section 2: C(checksum) R(RFC 1701 routing) K(key)
// S(sequence) ... version(3), protocol type; then checksum + reserved1 (C), key (K),
// sequence number (S), 4 bytes each. Version 1 carries PPP (decode_gre_v1). Source
// routing, other versions and payloads other than IPv4, IPv6, MPLS and Ethernet stay
// plain GRE (ports 0).
DecodeStatus decode_gre(Ctx& c, Bytes avail) noexcept {
    DecodedPacket& out = c.out;
    out.l4_payload = avail;
    if (out.fragmented) {
        return finish(out, DecodeStatus::kOk); // a fragmented tunnel is not reassembled
    }
    if (avail.size() < kGreMinHeader) {
        return tunnel_malformed(c);
    }
    const std::uint16_t flags = load_u16(avail.data());
    const std::uint16_t proto = load_u16(avail.data() + 2);
    if ((flags & 0x0007) == 1 && proto == kGrePpp) {
        return decode_gre_v1(c, flags, avail);
    }
    if ((flags & 0x0007) != 0 || (flags & 0x4000) != 0) {
        return finish(out, DecodeStatus::kOk);
    }
    if (proto != kEtherTypeIpv4 && proto != kEtherTypeIpv6 && proto != kEtherTypeTeb && proto != kEtherTypeMpls &&
        proto != kEtherTypeMplsMc) {
        return finish(out, DecodeStatus::kOk);
    }
    const std::size_t hlen = kGreMinHeader + ((flags & 0x8000) != 0 ? 4 : 0) + ((flags & 0x2000) != 0 ? 4 : 0) +
                             ((flags & 0x1000) != 0 ? 4 : 0);
    if (hlen > avail.size()) {
        return tunnel_malformed(c);
    }
    const Bytes body = avail.subspan(hlen);
    if (proto == kEtherTypeTeb) {
        return decapsulate(c, [&c, body]() noexcept { return decode_inner_ethernet(c, body); });
    }
    return decapsulate(c, [&c, proto, body]() noexcept { return decode_ethertype(c, proto, body); });
}

// RFC 2003 (IPv4 in IP) / RFC 2473 (IPv6 in IPv6) / RFC 4213 (6in4): decode the
// inner header; ip_bytes stays the outer one.
DecodeStatus decode_ip_in_ip(Ctx& c, std::uint8_t proto, Bytes avail) noexcept {
    return decapsulate(c, [&c, proto, avail]() noexcept {
        return proto == kIpProtoIpv4 ? decode_ipv4(c, avail) : decode_ipv6(c, avail);
    });
}

// UDP tunnels, recognised by port and then by header (see decode_gtpu / _vxlan / _capwap).
DecodeStatus decode_udp_tunnel(Ctx& c, Bytes payload) noexcept {
    const DecodedPacket& out = c.out;
    if (out.dst_port == kGtpUPort || out.src_port == kGtpUPort) {
        return decode_gtpu(c, payload);
    }
    if (out.dst_port == kVxlanPort) {
        return decode_vxlan(c, payload);
    }
    if (out.dst_port == kCapwapDataPort || out.src_port == kCapwapDataPort) {
        return decode_capwap(c, payload);
    }
    return finish(c.out, DecodeStatus::kOk);
}

} // namespace wt::parsers::packet_decode
