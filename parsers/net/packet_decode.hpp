// What the packet decoder (packet.cpp) and the tunnel decoders (tunnels.cpp) share: the
// header constants, the decode context and the entry points each calls in the other.
// Not a public interface: include packet.hpp.
#pragma once

#include "parsers/net/packet.hpp"

#include <cstring>

namespace wt::parsers::packet_decode {


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
constexpr std::size_t kRadiotapMinHeader = 8;  // version, pad, length, one present word
constexpr std::size_t kPpiHeader = 8;          // PPI 1.0.10 section 3.1: version, flags, length, DLT
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
inline void set_ipv4(IpAddress& a, const std::uint8_t* p) noexcept {
    a.bytes = {};
    std::memcpy(a.bytes.data(), p, 4);
    a.version = 4;
}
inline void set_ipv6(IpAddress& a, const std::uint8_t* p) noexcept {
    std::memcpy(a.bytes.data(), p, 16);
    a.version = 6;
}

// Field by field: `out = DecodedPacket{}` compiles to `rep stos`, whose start-up
// cost was a third of a TCP decode (perf on benches/net); these become a few stores.
inline void reset(DecodedPacket& out) noexcept {
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

inline DecodeStatus finish(DecodedPacket& out, DecodeStatus s) noexcept {
    out.status = s;
    return s;
}

// packet.cpp
DecodeStatus decode_ipv4(Ctx& c, Bytes data) noexcept;
DecodeStatus decode_ipv6(Ctx& c, Bytes data) noexcept;
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t ethertype, Bytes rest) noexcept;
DecodeStatus decode_ppp_link(Ctx& c, Bytes frame) noexcept;

// tunnels.cpp
DecodeStatus decode_80211(Ctx& c, Bytes frame, bool maybe_swapped) noexcept;
DecodeStatus decode_ip_in_ip(Ctx& c, std::uint8_t proto, Bytes avail) noexcept;
DecodeStatus decode_gre(Ctx& c, Bytes avail) noexcept;
DecodeStatus decode_udp_tunnel(Ctx& c, Bytes payload) noexcept;

// A short link-level encapsulation header (VLAN, MPLS, PPPoE, inner Ethernet): a link
// error on the captured frame, a tunnel error inside a tunnel.
inline DecodeStatus truncated_encap(Ctx& c) noexcept {
    return finish(c.out, c.depth == 0 ? DecodeStatus::kTruncatedLink : DecodeStatus::kTunnelMalformed);
}

} // namespace wt::parsers::packet_decode
