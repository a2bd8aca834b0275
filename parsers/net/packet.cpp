#include "parsers/net/packet.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "parsers/common/limits.hpp"

namespace wt::parsers {

namespace {

// IEEE 802 ethertypes (IPv4, IPv6 and the VLAN tags are in packet.hpp).
constexpr std::uint16_t kEtherTypeMpls = 0x8847;    // RFC 3032 section 5: MPLS unicast
constexpr std::uint16_t kEtherTypeMplsMc = 0x8848;  // MPLS multicast (RFC 5332)
constexpr std::uint16_t kEtherTypePppoeSession = 0x8864; // RFC 2516 section 4 (0x8863 discovery is not IP)
constexpr std::uint16_t kEtherTypeTeb = 0x6558;     // transparent Ethernet bridging (GRE, RFC 1701)

constexpr std::size_t kEthernetHeaderSize = 14;
constexpr std::size_t kSllHeaderSize = 16;  // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
constexpr std::size_t kSll2HeaderSize = 20; // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
constexpr std::uint16_t kArphrdEther = 1;
constexpr std::size_t kNullHeaderSize = 4;

constexpr std::size_t kIpv4MinHeader = 20; // RFC 791 section 3.1
constexpr std::size_t kIpv6HeaderSize = 40; // RFC 8200 section 3
constexpr std::size_t kTcpMinHeader = 20;   // RFC 9293 section 3.1
constexpr std::size_t kUdpHeaderSize = 8;   // RFC 768

// PPP protocol numbers (RFC 1661 section 2; IPv6: RFC 5072 section 3; MPLS: RFC 3032 section 4.3).
constexpr std::uint16_t kPppIpv4 = 0x0021;
constexpr std::uint16_t kPppIpv6 = 0x0057;
constexpr std::uint16_t kPppMpls = 0x0281;
constexpr std::size_t kPppoeHeaderSize = 6;    // RFC 2516 section 4: ver/type, code, session, length
constexpr std::size_t kCHdlcHeaderSize = 4;    // address, control, protocol (an ethertype)
constexpr std::size_t kMplsEntrySize = 4;      // RFC 3032 section 2.1

constexpr std::uint8_t kIpProtoGre = 47;
constexpr std::size_t kGreMinHeader = 4;       // RFC 2784 section 2.1: flags/version, protocol type
constexpr std::size_t kGreV1Header = 8;        // RFC 2637 section 4.1: + payload length, call id
constexpr std::uint16_t kGrePpp = 0x880b;      // RFC 2637 section 4.1

// UDP tunnels, by IANA port.
constexpr std::uint16_t kGtpUPort = 2152;      // 3GPP TS 29.281 section 4.4.2
constexpr std::uint16_t kVxlanPort = 4789;     // RFC 7348 section 5
constexpr std::uint16_t kCapwapDataPort = 5247; // RFC 5415 section 3.1
constexpr std::size_t kGtpHeaderSize = 8;      // TS 29.281 section 5.1: flags, type, length, TEID
constexpr std::size_t kGtpOptionalSize = 4;    // sequence number, N-PDU number, next extension type
constexpr std::uint8_t kGtpGpdu = 255;         // TS 29.281 section 6.1: G-PDU carries a T-PDU
constexpr std::size_t kVxlanHeaderSize = 8;    // RFC 7348 section 5
constexpr std::size_t kCapwapMinHeader = 8;    // RFC 5415 section 4.3: HLEN >= 2 words
constexpr std::size_t kIeee80211Header = 24;   // IEEE 802.11-2020 section 9.3.2.1: FC .. sequence control
constexpr std::size_t kLlcSnapSize = 8;        // RFC 1042: AA AA 03, OUI, ethertype

// RFC 8200 section 4 extension headers we step over; everything else ends the chain.
constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6Ah = 51; // RFC 4302 section 2.2: length in 4-byte units minus 2
constexpr std::uint8_t kIpv6DestOpts = 60;

struct Ctx {
    DecodedPacket& out;
    std::size_t missing = 0; // bytes the capture cut off the end of the frame
    std::size_t depth = 0;   // IP-in-IP nesting of the header being decoded
};

// Written in place: returning an IpAddress by value stalled on store forwarding.
void set_ipv4(IpAddress& a, const std::uint8_t* p) noexcept {
    a.bytes = {};
    std::memcpy(a.bytes.data(), p, 4);
    a.version = 4;
}
void set_ipv6(IpAddress& a, const std::uint8_t* p) noexcept {
    std::memcpy(a.bytes.data(), p, 16);
    a.version = 6;
}

// Field by field: `out = DecodedPacket{}` compiles to `rep stos`, whose start-up
// cost was a third of a TCP decode (perf on benches/net); these become a few stores.
void reset(DecodedPacket& out) noexcept {
    out.status = DecodeStatus::kOk;
    out.has_mac = false;
    out.fragmented = false;
    out.first_fragment = false;
    out.capture_truncated = false;
    out.tunneled = false;
    out.vlan_depth = 0;
    out.ip_version = 0;
    out.l4_proto = 0;
    out.tcp_flags = 0;
    out.outer_vlan = 0;
    out.inner_vlan = 0;
    out.ethertype = 0;
    out.src_port = 0;
    out.dst_port = 0;
    out.tcp_window = 0;
    out.ip_bytes = 0;
    out.tcp_seq = 0;
    out.tcp_ack = 0;
    out.src_mac = {};
    out.dst_mac = {};
    out.src = IpAddress{};
    out.dst = IpAddress{};
    out.l4_payload = {};
}

DecodeStatus finish(DecodedPacket& out, DecodeStatus s) noexcept {
    out.status = s;
    return s;
}

DecodeStatus decode_ipv4(Ctx& c, Bytes data) noexcept;
DecodeStatus decode_ipv6(Ctx& c, Bytes data) noexcept;
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t ethertype, Bytes rest) noexcept;

// A short link-level encapsulation header (VLAN, MPLS, PPPoE, inner Ethernet): a link
// error on the captured frame, a tunnel error inside a tunnel.
DecodeStatus truncated_encap(Ctx& c) noexcept {
    return finish(c.out, c.depth == 0 ? DecodeStatus::kTruncatedLink : DecodeStatus::kTunnelMalformed);
}

// A recognised tunnel header that overruns its payload; when the capture cut the outer
// packet (snaplen), the outer packet is reported instead.
DecodeStatus tunnel_malformed(Ctx& c) noexcept {
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
DecodeStatus decapsulate(Ctx& c, Inner inner) noexcept {
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
DecodeStatus decode_inner_ethernet(Ctx& c, Bytes frame) noexcept {
    if (frame.size() < kEthernetHeaderSize) {
        return finish(c.out, DecodeStatus::kTunnelMalformed);
    }
    return decode_ethertype(c, load_u16(frame.data() + 12), frame.subspan(kEthernetHeaderSize));
}

// An IP packet inside a tunnel that has no payload type (GTP-U): the version nibble decides.
DecodeStatus decode_inner_ip(Ctx& c, Bytes body) noexcept {
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
DecodeStatus decode_gtpu(Ctx& c, Bytes payload) noexcept {
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
DecodeStatus decode_vxlan(Ctx& c, Bytes payload) noexcept {
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
DecodeStatus decode_capwap(Ctx& c, Bytes payload) noexcept {
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

DecodeStatus decode_ppp_link(Ctx& c, Bytes frame) noexcept;

// RFC 2637 section 4.1 (PPTP enhanced GRE, version 1): flags (K always set, S, A),
// protocol 0x880b, payload length, call id, then sequence (S) and acknowledgment (A)
// numbers; the payload is a PPP frame. An ack-only packet has no payload (plain GRE).
DecodeStatus decode_gre_v1(Ctx& c, std::uint16_t flags, Bytes avail) noexcept {
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

// `avail`: the captured IP payload (already clipped to the IP length).
// `declared`: the IP payload length from the IP header.
// `first_fragment`: the datagram continues in later fragments, so a UDP length
// larger than this packet's payload is expected.
DecodeStatus decode_l4(Ctx& c, std::uint8_t proto, Bytes avail, std::size_t declared, bool first_fragment) noexcept {
    DecodedPacket& out = c.out;
    out.l4_proto = proto;
    switch (proto) {
    case kIpProtoTcp: {
        // RFC 9293 section 3.1: ports(4) seq(4) ack(4) data offset/flags(2) window(2) ...
        if (declared < kTcpMinHeader || avail.size() < kTcpMinHeader) {
            return finish(out, DecodeStatus::kTcpTruncated);
        }
        const std::uint8_t* p = avail.data();
        const std::size_t hlen = std::size_t{static_cast<std::uint8_t>(p[12] >> 4)} * 4;
        if (hlen < kTcpMinHeader || hlen > declared) {
            return finish(out, DecodeStatus::kTcpBadDataOffset);
        }
        if (hlen > avail.size()) {
            return finish(out, DecodeStatus::kTcpTruncated);
        }
        out.src_port = load_u16(p);
        out.dst_port = load_u16(p + 2);
        out.tcp_seq = load_u32(p + 4);
        out.tcp_ack = load_u32(p + 8);
        out.tcp_flags = p[13];
        out.tcp_window = load_u16(p + 14);
        out.l4_payload = avail.subspan(hlen); // options skipped
        return finish(out, DecodeStatus::kOk);
    }
    case kIpProtoUdp: {
        // RFC 768. Length policy (Suricata drops unless length == IP payload; nDPI
        // trusts the IP length): a length below 8 is malformed; a length above the IP
        // payload is malformed except in a first fragment; a length below the IP
        // payload is accepted and the payload clipped to it (the rest is padding).
        if (declared < kUdpHeaderSize || avail.size() < kUdpHeaderSize) {
            return finish(out, DecodeStatus::kUdpTruncated);
        }
        const std::uint8_t* p = avail.data();
        const std::size_t ulen = load_u16(p + 4);
        if (ulen < kUdpHeaderSize || (ulen > declared && !first_fragment)) {
            return finish(out, DecodeStatus::kUdpBadLength);
        }
        out.src_port = load_u16(p);
        out.dst_port = load_u16(p + 2);
        const Bytes body = avail.subspan(kUdpHeaderSize);
        out.l4_payload = body.first(std::min(ulen - kUdpHeaderSize, body.size()));
        if (out.fragmented) {
            return finish(out, DecodeStatus::kOk); // a fragmented tunnel is not reassembled
        }
        return decode_udp_tunnel(c, out.l4_payload);
    }
    case kIpProtoIpv4:
    case kIpProtoIpv6: {
        // RFC 2003 (IPv4 in IP) / RFC 2473 (IPv6 in IPv6) / RFC 4213 (6in4): decode the
        // inner header; ip_bytes stays the outer one.
        return decapsulate(c, [&c, proto, avail]() noexcept {
            return proto == kIpProtoIpv4 ? decode_ipv4(c, avail) : decode_ipv6(c, avail);
        });
    }
    case kIpProtoGre:
        return decode_gre(c, avail);
    default:
        // ICMP, ICMPv6, GRE, SCTP, ESP, no-next-header, ...: ports stay 0.
        out.l4_payload = avail;
        return finish(out, DecodeStatus::kOk);
    }
}

// Checks in Suricata's DecodeIPV4Packet order (RFC 791 section 3.1).
DecodeStatus decode_ipv4(Ctx& c, Bytes data) noexcept {
    DecodedPacket& out = c.out;
    if (data.size() < kIpv4MinHeader) {
        return finish(out, DecodeStatus::kIpv4TooShort);
    }
    const std::uint8_t* p = data.data();
    if ((p[0] >> 4) != 4) {
        return finish(out, DecodeStatus::kIpv4BadVersion);
    }
    const std::size_t hlen = std::size_t{static_cast<std::uint8_t>(p[0] & 0x0f)} * 4;
    if (hlen < kIpv4MinHeader) {
        return finish(out, DecodeStatus::kIpv4BadHeaderLength);
    }
    if (hlen > data.size()) {
        return finish(out, DecodeStatus::kIpv4Truncated);
    }
    std::size_t total = load_u16(p + 2);
    if (total == 0) {
        // Captured on the sending host with TCP segmentation offload: the kernel hands
        // the NIC one large segment with total length 0 (Wireshark: "assumed TSO").
        // Take the captured length; on the wire these become several packets.
        total = data.size();
    }
    if (total < hlen) {
        return finish(out, DecodeStatus::kIpv4BadTotalLength);
    }
    if (total > data.size()) {
        // Shorter than the header says: a snaplen cut (decode what we have) or a lie.
        if (total - data.size() > c.missing) {
            return finish(out, DecodeStatus::kIpv4Truncated);
        }
        out.capture_truncated = true;
    }
    out.ip_version = 4;
    set_ipv4(out.src, p + 12);
    set_ipv4(out.dst, p + 16);
    if (c.depth == 0) {
        out.ip_bytes = static_cast<std::uint32_t>(total);
    }
    // Child span from the total length: strips Ethernet padding (Suricata, VPP ip4-input).
    const Bytes payload = data.first(std::min(total, data.size())).subspan(hlen); // options skipped
    const std::uint8_t proto = p[9];
    const std::uint16_t frag = load_u16(p + 6);
    const bool more_fragments = (frag & 0x2000) != 0;
    const std::size_t offset = std::size_t{static_cast<std::uint16_t>(frag & 0x1fff)} * 8;
    if (more_fragments || offset != 0) {
        out.fragmented = true;
        out.first_fragment = offset == 0;
        if (offset != 0 || proto == kIpProtoIpv4 || proto == kIpProtoIpv6) {
            // Later fragments carry no L4 header; a fragmented tunnel is not reassembled.
            out.l4_proto = proto;
            out.l4_payload = payload;
            return finish(out, DecodeStatus::kOk);
        }
    }
    return decode_l4(c, proto, payload, total - hlen, out.first_fragment);
}

// RFC 8200 sections 3 and 4.
DecodeStatus decode_ipv6(Ctx& c, Bytes data) noexcept {
    DecodedPacket& out = c.out;
    if (data.size() < kIpv6HeaderSize) {
        return finish(out, DecodeStatus::kIpv6Truncated);
    }
    const std::uint8_t* p = data.data();
    if ((p[0] >> 4) != 6) {
        return finish(out, DecodeStatus::kIpv6BadVersion);
    }
    const std::size_t plen = load_u16(p + 4);
    const std::size_t have = data.size() - kIpv6HeaderSize;
    if (plen > have) {
        if (plen - have > c.missing) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        out.capture_truncated = true;
    }
    out.ip_version = 6;
    set_ipv6(out.src, p + 8);
    set_ipv6(out.dst, p + 24);
    if (c.depth == 0) {
        out.ip_bytes = static_cast<std::uint32_t>(kIpv6HeaderSize + plen);
    }
    Bytes avail = data.subspan(kIpv6HeaderSize, std::min(plen, have));
    std::size_t declared = plen;
    std::uint8_t nh = p[6];
    for (std::size_t n = 0; n <= limits::kMaxIpv6ExtensionHeaders; ++n) {
        if (nh != kIpv6HopByHop && nh != kIpv6Routing && nh != kIpv6Fragment && nh != kIpv6Ah && nh != kIpv6DestOpts) {
            return decode_l4(c, nh, avail, declared, out.first_fragment);
        }
        if (n == limits::kMaxIpv6ExtensionHeaders) {
            break;
        }
        // Section 4.3: hop-by-hop options only immediately after the IPv6 header.
        if (nh == kIpv6HopByHop && n != 0) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (declared < 2) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (avail.size() < 2) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        std::size_t len = 0;
        if (nh == kIpv6Fragment) {
            len = 8; // section 4.5: fixed size
        } else if (nh == kIpv6Ah) {
            len = (std::size_t{avail[1]} + 2) * 4;
        } else {
            len = (std::size_t{avail[1]} + 1) * 8; // sections 4.3, 4.4, 4.6
        }
        if (len > declared) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (len > avail.size()) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        const std::uint8_t next = avail[0];
        if (nh == kIpv6Fragment) {
            const std::uint16_t off_flags = load_u16(avail.data() + 2);
            const std::size_t offset = off_flags & 0xfff8; // 13-bit offset in 8-octet units, already scaled
            out.fragmented = true;
            out.first_fragment = offset == 0;
            if (offset != 0 || next == kIpProtoIpv4 || next == kIpProtoIpv6) {
                out.l4_proto = next;
                out.l4_payload = avail.subspan(len);
                return finish(out, DecodeStatus::kOk);
            }
        }
        avail = avail.subspan(len);
        declared -= len;
        nh = next;
    }
    return finish(out, DecodeStatus::kIpv6TooManyExtensions);
}

// RFC 3032 section 2.1: label(20) TC(3) S(1) TTL(8) per entry, S marking the bottom.
// MPLS has no payload type; like routers (RFC 4928 section 2) we look at the first
// nibble: 4 / 6 is IP, 0 is a pseudowire control word (RFC 4385), not followed. MPLS
// is not a tunnel here: there is one IP header, so `tunneled` stays false.
DecodeStatus decode_mpls(Ctx& c, Bytes rest) noexcept {
    for (std::size_t n = 0; n < limits::kMaxMplsLabels; ++n) {
        if (rest.size() < kMplsEntrySize) {
            return truncated_encap(c);
        }
        const bool bottom = (rest[2] & 0x01) != 0;
        rest = rest.subspan(kMplsEntrySize);
        if (bottom) {
            if (rest.empty()) {
                return truncated_encap(c);
            }
            switch (rest[0] >> 4) {
            case 4:
                return decode_ipv4(c, rest);
            case 6:
                return decode_ipv6(c, rest);
            default:
                return finish(c.out, DecodeStatus::kNotIp);
            }
        }
    }
    return finish(c.out, DecodeStatus::kMplsTooDeep);
}

// RFC 1661 section 2: the protocol field is 2 bytes, or 1 when Protocol-Field-Compression
// is negotiated (section 6.5: valid protocol numbers have an odd low byte and an even
// high byte, so an odd first byte is a compressed field).
DecodeStatus decode_ppp(Ctx& c, Bytes ppp) noexcept {
    if (ppp.empty()) {
        return truncated_encap(c);
    }
    std::uint16_t proto = ppp[0];
    std::size_t n = 1;
    if ((ppp[0] & 0x01) == 0) {
        if (ppp.size() < 2) {
            return truncated_encap(c);
        }
        proto = load_u16(ppp.data());
        n = 2;
    }
    const Bytes body = ppp.subspan(n);
    switch (proto) {
    case kPppIpv4:
        return decode_ipv4(c, body);
    case kPppIpv6:
        return decode_ipv6(c, body);
    case kPppMpls:
        return decode_mpls(c, body);
    default:
        return finish(c.out, DecodeStatus::kNotIp); // LCP, IPCP, CHAP, ...
    }
}

// RFC 2516 section 4: ver(4) = 1, type(4) = 1, code 0 (session data), session id,
// length (of the PPP frame), then PPP. Like IPv4, bytes past `length` are padding.
DecodeStatus decode_pppoe(Ctx& c, Bytes rest) noexcept {
    if (rest.size() < kPppoeHeaderSize) {
        return truncated_encap(c);
    }
    if (rest[0] != 0x11 || rest[1] != 0) {
        return finish(c.out, DecodeStatus::kNotIp);
    }
    const std::size_t len = load_u16(rest.data() + 4);
    const Bytes ppp = rest.subspan(kPppoeHeaderSize);
    return decode_ppp(c, ppp.first(std::min(len, ppp.size())));
}

// Ethertype dispatch after the link header, through any VLAN tags (IEEE 802.1Q
// section 9.6: TPID(2) TCI(2), VLAN id in the low 12 bits of the TCI).
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t ethertype, Bytes rest) noexcept {
    DecodedPacket& out = c.out;
    ByteReader r(rest);
    for (std::size_t depth = 0; depth <= limits::kMaxVlanDepth; ++depth) {
        if (ethertype != kEtherTypeVlan && ethertype != kEtherTypeQinQ && ethertype != kEtherTypeQinQOld) {
            break;
        }
        if (depth == limits::kMaxVlanDepth) {
            return finish(out, DecodeStatus::kVlanTooDeep);
        }
        std::uint16_t tci = 0;
        std::uint16_t next = 0;
        if (!r.read_u16(tci) || !r.read_u16(next)) {
            return truncated_encap(c);
        }
        if (c.depth == 0) {
            // The VLAN fields describe the captured link; tags inside a tunnel are skipped.
            if (depth == 0) {
                out.outer_vlan = tci & 0x0fff;
            }
            out.inner_vlan = tci & 0x0fff;
            out.vlan_depth = static_cast<std::uint8_t>(depth + 1);
        }
        ethertype = next;
    }
    if (c.depth == 0) {
        out.ethertype = ethertype;
    }
    switch (ethertype) {
    case kEtherTypeIpv4:
        return decode_ipv4(c, r.rest());
    case kEtherTypeIpv6:
        return decode_ipv6(c, r.rest());
    case kEtherTypeMpls:
    case kEtherTypeMplsMc:
        return decode_mpls(c, r.rest());
    case kEtherTypePppoeSession:
        return decode_pppoe(c, r.rest());
    default:
        // ARP, LLDP, PPPoE discovery, ..., and 802.3 frames, whose "ethertype" is a
        // length below 0x0600 (IEEE 802.3 section 3.2.6).
        return finish(out, DecodeStatus::kNotIp);
    }
}

DecodeStatus decode_raw(Ctx& c, Bytes frame) noexcept {
    if (frame.empty()) {
        return finish(c.out, DecodeStatus::kTruncatedLink);
    }
    switch (frame[0] >> 4) {
    case 4:
        return decode_ipv4(c, frame);
    case 6:
        return decode_ipv6(c, frame);
    default:
        return finish(c.out, DecodeStatus::kIpBadVersion);
    }
}

// BSD loopback: a 4-byte address family in the writer's byte order (DLT_NULL) or
// network order (DLT_LOOP); accept both. AF_INET is 2 everywhere; AF_INET6 is 24
// (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 23 (Windows/Npcap), 10 (Linux).
DecodeStatus decode_null(Ctx& c, Bytes frame) noexcept {
    if (frame.size() < kNullHeaderSize) {
        return finish(c.out, DecodeStatus::kTruncatedLink);
    }
    const std::uint32_t be = load_u32(frame.data());
    const std::uint32_t le = (be >> 24) | ((be >> 8) & 0xff00) | ((be << 8) & 0xff0000) | (be << 24);
    const std::uint32_t af = std::min(be, le); // the family is small: the other order is >= 2^24
    const Bytes ip = frame.subspan(kNullHeaderSize);
    switch (af) {
    case 2:
        return decode_ipv4(c, ip);
    case 10:
    case 23:
    case 24:
    case 28:
    case 30:
        return decode_ipv6(c, ip);
    default:
        return finish(c.out, DecodeStatus::kNotIp);
    }
}

// LINKTYPE_C_HDLC: address (0x0f unicast, 0x8f broadcast), control 0, then an
// ethertype (0x8035 is SLARP, 0x2000 CDP: not IP).
DecodeStatus decode_chdlc(Ctx& c, Bytes frame) noexcept {
    if (frame.size() < kCHdlcHeaderSize) {
        return truncated_encap(c);
    }
    return decode_ethertype(c, load_u16(frame.data() + 2), frame.subspan(kCHdlcHeaderSize));
}

// LINKTYPE_PPP / LINKTYPE_PPP_HDLC / PPTP payloads: RFC 1662 section 3.1 address 0xff
// and control 0x03, absent when Address-and-Control-Field-Compression is negotiated
// (RFC 1661 section 6.6). A first byte 0x0f / 0x8f is Cisco PPP with HDLC framing
// (RFC 1547 section 4.3.1), i.e. C-HDLC: Cisco routers' captures use link type 9 for
// it too (Wireshark decodes it the same way); no PPP protocol number is 0x0f or 0x8f.
DecodeStatus decode_ppp_link(Ctx& c, Bytes frame) noexcept {
    if (!frame.empty() && (frame[0] == 0x0f || frame[0] == 0x8f)) {
        return decode_chdlc(c, frame);
    }
    if (frame.size() >= 2 && frame[0] == 0xff && frame[1] == 0x03) {
        frame = frame.subspan(2);
    }
    return decode_ppp(c, frame);
}

} // namespace

std::string_view to_string(DecodeStatus s) noexcept {
    switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kNotIp: return "not_ip";
    case DecodeStatus::kUnsupportedLinkType: return "unsupported_link_type";
    case DecodeStatus::kTruncatedLink: return "truncated_link";
    case DecodeStatus::kVlanTooDeep: return "vlan_too_deep";
    case DecodeStatus::kIpBadVersion: return "ip_bad_version";
    case DecodeStatus::kIpv4TooShort: return "ipv4_too_short";
    case DecodeStatus::kIpv4BadVersion: return "ipv4_bad_version";
    case DecodeStatus::kIpv4BadHeaderLength: return "ipv4_bad_header_length";
    case DecodeStatus::kIpv4Truncated: return "ipv4_truncated";
    case DecodeStatus::kIpv4BadTotalLength: return "ipv4_bad_total_length";
    case DecodeStatus::kIpv6Truncated: return "ipv6_truncated";
    case DecodeStatus::kIpv6BadVersion: return "ipv6_bad_version";
    case DecodeStatus::kIpv6TooManyExtensions: return "ipv6_too_many_extensions";
    case DecodeStatus::kIpv6BadExtension: return "ipv6_bad_extension";
    case DecodeStatus::kTcpTruncated: return "tcp_truncated";
    case DecodeStatus::kTcpBadDataOffset: return "tcp_bad_data_offset";
    case DecodeStatus::kUdpTruncated: return "udp_truncated";
    case DecodeStatus::kUdpBadLength: return "udp_bad_length";
    case DecodeStatus::kTunnelTooDeep: return "tunnel_too_deep";
    case DecodeStatus::kTunnelMalformed: return "tunnel_malformed";
    case DecodeStatus::kMplsTooDeep: return "mpls_too_deep";
    case DecodeStatus::kCount: break;
    }
    return "unknown";
}

namespace {

// The common case on a tap or an inline port: untagged Ethernet, IPv4 without
// options or fragmentation, TCP or UDP (not a tunnel port), everything inside the
// captured bytes. Decoded in one pass with the same checks and the same result as
// the general decoder below (tests/parsers/net and the fuzz target compare the two
// on every vector, truncation, corruption and corpus record); anything else,
// including any check that fails, goes the general way.
bool decode_plain_ipv4(Bytes frame, DecodedPacket& out) noexcept {
    constexpr std::size_t kIp = kEthernetHeaderSize;
    constexpr std::size_t kL4 = kIp + kIpv4MinHeader;
    if (frame.size() < kL4 + kUdpHeaderSize) {
        return false;
    }
    const std::uint8_t* p = frame.data();
    const std::uint8_t proto = p[kIp + 9];
    if (load_u16(p + 12) != kEtherTypeIpv4 || p[kIp] != 0x45 || (proto != kIpProtoTcp && proto != kIpProtoUdp) ||
        (load_u16(p + kIp + 6) & 0x3fff) != 0) {
        return false;
    }
    const std::size_t total = load_u16(p + kIp + 2);
    if (total > frame.size() - kIp) {
        return false;
    }
    const std::size_t declared = total < kIpv4MinHeader ? 0 : total - kIpv4MinHeader;
    const std::uint16_t src_port = load_u16(p + kL4);
    const std::uint16_t dst_port = load_u16(p + kL4 + 2);
    std::size_t payload_at = 0;
    std::size_t payload_len = 0;
    if (proto == kIpProtoTcp) {
        // declared >= 20 and total within the frame: the whole TCP header is captured.
        if (declared < kTcpMinHeader) {
            return false;
        }
        const std::size_t hlen = std::size_t{static_cast<std::uint8_t>(p[kL4 + 12] >> 4)} * 4;
        if (hlen < kTcpMinHeader || hlen > declared) {
            return false;
        }
        payload_at = kL4 + hlen;
        payload_len = declared - hlen;
    } else {
        // RFC 768; a tunnel's UDP ports take the general way (decode_udp_tunnel).
        const std::size_t ulen = load_u16(p + kL4 + 4);
        if (declared < kUdpHeaderSize || ulen < kUdpHeaderSize || ulen > declared || dst_port == kGtpUPort ||
            src_port == kGtpUPort || dst_port == kVxlanPort || dst_port == kCapwapDataPort ||
            src_port == kCapwapDataPort) {
            return false;
        }
        payload_at = kL4 + kUdpHeaderSize;
        payload_len = ulen - kUdpHeaderSize;
    }
    reset(out);
    std::memcpy(out.dst_mac.data(), p, 6);
    std::memcpy(out.src_mac.data(), p + 6, 6);
    out.has_mac = true;
    out.ethertype = kEtherTypeIpv4;
    out.ip_version = 4;
    set_ipv4(out.src, p + kIp + 12);
    set_ipv4(out.dst, p + kIp + 16);
    out.ip_bytes = static_cast<std::uint32_t>(total);
    out.l4_proto = proto;
    out.src_port = src_port;
    out.dst_port = dst_port;
    if (proto == kIpProtoTcp) {
        out.tcp_seq = load_u32(p + kL4 + 4);
        out.tcp_ack = load_u32(p + kL4 + 8);
        out.tcp_flags = p[kL4 + 13];
        out.tcp_window = load_u16(p + kL4 + 14);
    }
    // Clipped to the IP (UDP) length: Ethernet padding is not payload.
    out.l4_payload = frame.subspan(payload_at, payload_len);
    out.status = DecodeStatus::kOk;
    return true;
}

} // namespace

DecodeStatus decode_packet(LinkType link, Bytes frame, DecodedPacket& out, std::uint32_t wire_len) noexcept {
    if (link == LinkType::kEthernet && decode_plain_ipv4(frame, out)) {
        return DecodeStatus::kOk;
    }
    return decode_packet_general(link, frame, out, wire_len);
}

DecodeStatus decode_packet_general(LinkType link, Bytes frame, DecodedPacket& out, std::uint32_t wire_len) noexcept {
    reset(out);
    Ctx c{out};
    c.missing = wire_len > frame.size() ? wire_len - frame.size() : 0;
    switch (link) {
    case LinkType::kEthernet: {
        if (frame.size() < kEthernetHeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        std::memcpy(out.dst_mac.data(), frame.data(), 6);
        std::memcpy(out.src_mac.data(), frame.data() + 6, 6);
        out.has_mac = true;
        return decode_ethertype(c, load_u16(frame.data() + 12), frame.subspan(kEthernetHeaderSize));
    }
    case LinkType::kLinuxSll: {
        // packet_type(2) arphrd(2) addr_len(2) addr(8) protocol(2)
        if (frame.size() < kSllHeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::uint8_t* p = frame.data();
        if (load_u16(p + 2) == kArphrdEther && load_u16(p + 4) == 6) {
            std::memcpy(out.src_mac.data(), p + 6, 6);
            out.has_mac = true;
        }
        return decode_ethertype(c, load_u16(p + 14), frame.subspan(kSllHeaderSize));
    }
    case LinkType::kLinuxSll2: {
        // protocol(2) reserved(2) ifindex(4) arphrd(2) packet_type(1) addr_len(1) addr(8)
        if (frame.size() < kSll2HeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::uint8_t* p = frame.data();
        if (load_u16(p + 8) == kArphrdEther && p[11] == 6) {
            std::memcpy(out.src_mac.data(), p + 12, 6);
            out.has_mac = true;
        }
        return decode_ethertype(c, load_u16(p), frame.subspan(kSll2HeaderSize));
    }
    case LinkType::kRaw:
        return decode_raw(c, frame);
    case LinkType::kIpv4:
        return decode_ipv4(c, frame);
    case LinkType::kIpv6:
        return decode_ipv6(c, frame);
    case LinkType::kNull:
    case LinkType::kLoop:
        return decode_null(c, frame);
    case LinkType::kPpp:
    case LinkType::kPppHdlc:
        return decode_ppp_link(c, frame);
    case LinkType::kCHdlc:
        return decode_chdlc(c, frame);
    case LinkType::kIeee80211:
        return decode_80211(c, frame, false);
    }
    return finish(out, DecodeStatus::kUnsupportedLinkType);
}

IpAddress make_ipv4(const std::uint8_t* p) noexcept {
    IpAddress a;
    set_ipv4(a, p);
    return a;
}

IpAddress make_ipv6(const std::uint8_t* p) noexcept {
    IpAddress a;
    set_ipv6(a, p);
    return a;
}

namespace {

class TextOut {
public:
    TextOut(char* buf, std::size_t cap) noexcept : _buf(buf), _cap(cap) {}
    void put(char ch) noexcept {
        if (_len + 1 < _cap) {
            _buf[_len] = ch;
        }
        ++_len;
    }
    void dec(unsigned v) noexcept {
        char tmp[3];
        std::size_t n = 0;
        do {
            tmp[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0 && n < sizeof(tmp));
        while (n > 0) {
            put(tmp[--n]);
        }
    }
    void hex(unsigned v) noexcept {
        static constexpr char kDigits[] = "0123456789abcdef";
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned d = (v >> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                put(kDigits[d]);
                started = true;
            }
        }
    }
    void dotted(const std::uint8_t* p) noexcept {
        for (int i = 0; i < 4; ++i) {
            if (i != 0) {
                put('.');
            }
            dec(p[i]);
        }
    }
    std::size_t finish() noexcept {
        if (_cap > 0) {
            _buf[std::min(_len, _cap - 1)] = '\0';
        }
        return std::min(_len, _cap > 0 ? _cap - 1 : 0);
    }

private:
    char* _buf;
    std::size_t _cap;
    std::size_t _len = 0;
};

} // namespace

std::size_t format_ip(const IpAddress& a, char* buf, std::size_t cap) noexcept {
    TextOut t(buf, cap);
    if (a.version == 4) {
        t.dotted(a.bytes.data());
        return t.finish();
    }
    if (a.version != 6) {
        t.put('-');
        return t.finish();
    }
    const std::uint8_t* b = a.bytes.data();
    // RFC 5952 section 5: IPv4-mapped addresses in mixed notation.
    static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
        for (const char ch : std::string_view("::ffff:")) {
            t.put(ch);
        }
        t.dotted(b + 12);
        return t.finish();
    }
    std::array<unsigned, 8> g{};
    for (std::size_t i = 0; i < 8; ++i) {
        g[i] = load_u16(b + 2 * i);
    }
    // Section 4.2: "::" replaces the longest run (>= 2) of zero groups, the first on a tie.
    std::size_t best = 8;
    std::size_t best_len = 1;
    for (std::size_t i = 0; i < 8;) {
        if (g[i] != 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < 8 && g[j] == 0) {
            ++j;
        }
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (std::size_t i = 0; i < 8; ++i) {
        if (i == best) {
            t.put(':');
            t.put(':');
            i += best_len - 1;
            continue;
        }
        if (i != 0 && i != best + best_len) {
            t.put(':');
        }
        t.hex(g[i]); // section 4.3: lowercase, no leading zeros
    }
    return t.finish();
}

IpString to_string(const IpAddress& a) noexcept {
    char buf[IpString::capacity() + 1];
    const std::size_t n = format_ip(a, buf, sizeof(buf));
    IpString s;
    s.assign(std::string_view(buf, n));
    return s;
}

} // namespace wt::parsers
