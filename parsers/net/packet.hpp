// decode_packet: link layer -> IPv4/IPv6 -> TCP/UDP, one frame at a time.
//
// Link layers: Ethernet II with 802.1Q / 802.1ad / 0x9100 tag stacks, MPLS label stacks
// and PPPoE sessions, Linux cooked SLL and SLL2, raw IP (101, 228, 229), BSD null /
// loopback (0, 108), PPP (9), PPP in HDLC framing (50), Cisco HDLC (104), IEEE 802.11
// data frames (105). IPv4 is checked in Suricata's order (DecodeIPV4Packet); IPv6 walks
// the extension header chain. Every drop has its own DecodeStatus, and to_string()
// gives the counter name the pipeline exports.
//
// Tunnels are followed to the inner packet, at most limits::kMaxIpTunnelDepth levels:
// IP-in-IP (protocols 4 and 41), GRE (47; IPv4, IPv6, MPLS, transparent Ethernet),
// GTP-U G-PDUs (UDP 2152), VXLAN (UDP 4789), CAPWAP data (UDP 5247; 802.11 or 802.3).
// Then src/dst/ports/l4_* are the innermost packet's and `tunneled` is set; ip_bytes,
// MACs, VLAN ids and ethertype stay those of the outermost (captured) link and IP.
// Policy (see tunnels.cpp, "Tunnel policy"): a UDP payload that does not match the tunnel
// header is plain UDP; a matching header whose extensions/options overrun the payload
// is kTunnelMalformed (or, when the snaplen cut it, the outer packet marked
// capture_truncated); an inner IP/L4 error keeps its own status (with `tunneled` set);
// a well-formed tunnel carrying no IP (ARP in VXLAN, 802.11 management in CAPWAP,
// a non-IP PDU in GTP-U) is reported as the outer packet, kOk and not tunneled.
//
// Contract: pure, noexcept, no allocation; never reads outside `frame`. Spans in the
// result point into `frame`. Child spans come from header lengths, not from the
// frame, so Ethernet padding never reaches l4_payload.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/net/capture_file.hpp"

namespace wt::parsers {

// One value per drop reason; names are stable counter names (see to_string).
enum class DecodeStatus : std::uint8_t {
    kOk,                    ///< decoded to L4 (or to the IP payload for other protocols / later fragments)
    kNotIp,                 ///< ARP, LLC/802.3, LLDP, ...: not an error, just not ours
    kUnsupportedLinkType,   ///< link type we do not decode
    kTruncatedLink,         ///< frame shorter than its link-layer header (incl. VLAN tags)
    kVlanTooDeep,           ///< more than limits::kMaxVlanDepth tags
    kIpBadVersion,          ///< raw / null link whose first nibble is neither 4 nor 6
    kIpv4TooShort,          ///< fewer than 20 bytes where IPv4 starts
    kIpv4BadVersion,        ///< ethertype / protocol said IPv4, version nibble disagrees
    kIpv4BadHeaderLength,   ///< IHL < 5
    kIpv4Truncated,         ///< header (IHL*4) or total length beyond the frame, and not a snaplen cut
    kIpv4BadTotalLength,    ///< total length < IHL*4 (0 is accepted as a TSO capture, see packet.cpp)
    kIpv6Truncated,         ///< fewer than 40 bytes, or payload length beyond the frame and not a snaplen cut
    kIpv6BadVersion,        ///< ethertype said IPv6, version nibble disagrees
    kIpv6TooManyExtensions, ///< more than limits::kMaxIpv6ExtensionHeaders extension headers
    kIpv6BadExtension,      ///< an extension header overruns the payload, or hop-by-hop not first
    kTcpTruncated,          ///< fewer than 20 TCP bytes, or the header (data offset) beyond the captured data
    kTcpBadDataOffset,      ///< data offset < 5, or the header beyond the IP payload length
    kUdpTruncated,          ///< fewer than 8 UDP bytes
    kUdpBadLength,          ///< UDP length < 8, or > the IP payload length (see packet.cpp)
    kTunnelTooDeep,         ///< more nested tunnels than limits::kMaxIpTunnelDepth
    kTunnelMalformed,       ///< a recognised tunnel header (GRE, GTP-U, CAPWAP, VXLAN) overruns its payload
    kMplsTooDeep,           ///< more than limits::kMaxMplsLabels MPLS labels without bottom of stack
    kCount
};

// snake_case counter names, e.g. "ipv4_bad_total_length".
[[nodiscard]] std::string_view to_string(DecodeStatus s) noexcept;

// An IPv4 or IPv6 address: IPv4 in the first 4 bytes, the rest zero.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t version = 0; ///< 4 or 6; 0 when unset

    friend constexpr bool operator==(const IpAddress&, const IpAddress&) noexcept = default;
    friend constexpr auto operator<=>(const IpAddress&, const IpAddress&) noexcept = default;
};

[[nodiscard]] IpAddress make_ipv4(const std::uint8_t* p) noexcept; // 4 bytes, network order
[[nodiscard]] IpAddress make_ipv6(const std::uint8_t* p) noexcept; // 16 bytes
// 0.0.0.0 or :: (RFC 1122 section 3.2.1.3, RFC 4291 section 2.5.2): a sender without an address yet.
[[nodiscard]] inline bool is_unspecified(const IpAddress& a) noexcept {
    return std::all_of(a.bytes.begin(), a.bytes.end(), [](std::uint8_t b) { return b == 0; });
}
// Inline: the flow key hash calls it twice per packet.
[[nodiscard]] inline std::size_t hash_value(const IpAddress& a) noexcept {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    // Two multiply-xorshift rounds (splitmix64 finaliser constants).
    std::uint64_t h = (lo ^ (std::uint64_t{a.version} << 56)) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    h = (h ^ hi) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h);
}
struct IpAddressHash {
    std::size_t operator()(const IpAddress& a) const noexcept { return hash_value(a); }
};

// INET6_ADDRSTRLEN (46) includes the NUL; the longest text is 45 characters.
using IpString = FixedString<46>;
// Dotted quad, or RFC 5952 text for IPv6 from inet_ntop (lowercase, longest zero run as "::",
// ::ffff:a.b.c.d for IPv4-mapped). "-" for an unset address.
[[nodiscard]] IpString to_string(const IpAddress& a) noexcept;
// The same into a caller buffer; NUL-terminated if cap > 0; returns the length written.
std::size_t format_ip(const IpAddress& a, char* buf, std::size_t cap) noexcept;

// TCP flag bits (RFC 9293 section 3.1).
namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
} // namespace tcp_flags

inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoIpv4 = 4;
// IEEE 802 ethertypes.
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;    // 802.1Q C-tag
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;    // 802.1ad S-tag
inline constexpr std::uint16_t kEtherTypeQinQOld = 0x9100; // pre-standard S-tag, still seen
inline constexpr std::uint16_t kEtherTypeArpFrame = 0x0806; // RFC 826; decoded as kNotIp with its message

inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::uint8_t kIpProtoIpv6 = 41;
inline constexpr std::uint8_t kIpProtoIcmpv6 = 58;

struct DecodedPacket {
    DecodeStatus status = DecodeStatus::kOk;
    bool has_mac = false;           ///< Ethernet / 802.11 (both MACs) or SLL/SLL2 with a 6-byte address (src only)
    bool fragmented = false;        ///< IPv4 MF or offset != 0, or an IPv6 fragment header
    bool first_fragment = false;    ///< fragmented and offset 0: only this one carries the L4 header
    bool capture_truncated = false; ///< the IP packet was cut by the capture snaplen (wire_len > frame)
    bool tunneled = false;          ///< IP-in-IP / GRE / GTP-U / VXLAN / CAPWAP: addresses/ports are the inner packet's
    std::uint8_t vlan_depth = 0;
    std::uint8_t ip_version = 0;    ///< 4 or 6 (of the innermost decoded IP header)
    std::uint8_t l4_proto = 0;      ///< IP protocol / last next-header value
    std::uint8_t tcp_flags = 0;
    std::uint16_t outer_vlan = 0;   ///< VLAN id (12 bits) of the outermost tag; 0 without tags
    std::uint16_t inner_vlan = 0;   ///< VLAN id of the innermost tag (the customer VLAN in QinQ); 0 without tags
    std::uint16_t ethertype = 0;    ///< last outer ethertype seen (after tags); 0 for raw / null links
    std::uint16_t src_port = 0;     ///< TCP/UDP only; 0 otherwise and for non-first fragments
    std::uint16_t dst_port = 0;
    std::uint16_t tcp_window = 0;
    std::uint32_t ip_bytes = 0;     ///< outermost IP: IPv4 total length, or 40 + IPv6 payload length
    std::uint32_t tcp_seq = 0;
    std::uint32_t tcp_ack = 0;
    std::array<std::uint8_t, 6> src_mac{};
    std::array<std::uint8_t, 6> dst_mac{};
    IpAddress src;
    IpAddress dst;
    // TCP/UDP payload, or the IP payload for other protocols and non-first fragments;
    // clipped to the IP (or UDP) length and to the captured bytes. For an ARP frame (kNotIp,
    // ethertype kEtherTypeArpFrame): the ARP message.
    Bytes l4_payload;
};

// Decodes one frame. `wire_len` is the frame's length on the wire (pcap orig_len);
// 0 means "the frame is complete" (DPDK). When wire_len > frame.size(), an IP packet
// that is longer than the captured bytes is decoded as far as it goes and marked
// capture_truncated instead of being dropped as kIpv4Truncated / kIpv6Truncated.
// Returns out.status; on failure the fields decoded so far stay set.
DecodeStatus decode_packet(LinkType link, Bytes frame, DecodedPacket& out, std::uint32_t wire_len = 0) noexcept;
// The same without decode_packet's shortcut for untagged Ethernet/IPv4/TCP; for the
// tests that hold the two to the same results.
DecodeStatus decode_packet_general(LinkType link, Bytes frame, DecodedPacket& out, std::uint32_t wire_len = 0) noexcept;

} // namespace wt::parsers
