// decode_packet: link layers, IPv4/IPv6 and TCP/UDP (the contract is in packet.hpp).
// The tunnels it follows are in tunnels.cpp, address text in ip_address.cpp.
#include "parsers/net/packet.hpp"
#include "parsers/net/packet_decode.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "parsers/common/limits.hpp"

namespace wt::parsers {

namespace packet_decode {

// `avail`: the captured IP payload (already clipped to the IP length).
// `declared`: the IP payload length from the IP header.
// `first_fragment`: the datagram continues in later fragments, so a UDP length
// larger than this packet's payload is expected.
static DecodeStatus decode_l4(Ctx& c, std::uint8_t proto, Bytes avail, std::size_t declared, bool first_fragment) noexcept {
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
        return decode_ip_in_ip(c, proto, avail);
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
static DecodeStatus decode_mpls(Ctx& c, Bytes rest) noexcept {
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
static DecodeStatus decode_ppp(Ctx& c, Bytes ppp) noexcept {
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
static DecodeStatus decode_pppoe(Ctx& c, Bytes rest) noexcept {
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
    case kEtherTypeArpFrame:
        out.l4_payload = r.rest(); // the ARP message, for the devices view (parsers/net/neighbours.hpp)
        return finish(out, DecodeStatus::kNotIp);
    default:
        // LLDP, PPPoE discovery, ..., and 802.3 frames, whose "ethertype" is a
        // length below 0x0600 (IEEE 802.3 section 3.2.6).
        return finish(out, DecodeStatus::kNotIp);
    }
}

static DecodeStatus decode_raw(Ctx& c, Bytes frame) noexcept {
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
static DecodeStatus decode_null(Ctx& c, Bytes frame) noexcept {
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
static DecodeStatus decode_chdlc(Ctx& c, Bytes frame) noexcept {
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

} // namespace packet_decode

using namespace packet_decode;

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
    case LinkType::kIeee80211Radiotap: {
        // radiotap.org "Radiotap header": it_version(1) = 0, it_pad(1), it_len(2, little-endian, the
        // whole header), it_present(4)... The 802.11 frame follows; a trailing FCS, when the flags say
        // so, lies past the IP packet's own length and is not read.
        if (frame.size() < kRadiotapMinHeader) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::size_t len = static_cast<std::size_t>(frame[2]) | static_cast<std::size_t>(frame[3]) << 8;
        if (frame[0] != 0) {
            return finish(out, DecodeStatus::kUnsupportedLinkType); // a radiotap version we do not know
        }
        if (len < kRadiotapMinHeader || len > frame.size()) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        return decode_80211(c, frame.subspan(len), false);
    }
    case LinkType::kPpi: {
        // PPI 1.0.10 section 3.1: pph_version(1) = 0, pph_flags(1), pph_len(2, LE), pph_dlt(4, LE).
        if (frame.size() < kPpiHeader) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::size_t len = static_cast<std::size_t>(frame[2]) | static_cast<std::size_t>(frame[3]) << 8;
        const std::uint32_t dlt = static_cast<std::uint32_t>(frame[4]) | static_cast<std::uint32_t>(frame[5]) << 8 |
                                  static_cast<std::uint32_t>(frame[6]) << 16 | static_cast<std::uint32_t>(frame[7]) << 24;
        if (frame[0] != 0 || dlt != static_cast<std::uint32_t>(LinkType::kIeee80211)) {
            return finish(out, DecodeStatus::kUnsupportedLinkType); // only 802.11 is carried in PPI in practice
        }
        if (len < kPpiHeader || len > frame.size()) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        return decode_80211(c, frame.subspan(len), false);
    }
    }
    return finish(out, DecodeStatus::kUnsupportedLinkType);
}

} // namespace wt::parsers
