// Software offloads for frames a bump in the wire forwards between Linux interfaces (af_packet).
//
// A Linux host that sends through an interface with offloads on (every veth, most NICs) hands its
// packets down unfinished: TCP and UDP checksums hold only the pseudo-header's sum (the NIC, or the
// receiving stack, is to complete them), and TCP or UDP "super-frames" of up to 64 KB are to be cut
// into MTU-sized packets (TSO, GSO, UDP_SEGMENT). A packet socket sees them so. Forwarded as they
// are, the peer drops the first (bad checksum) and the kernel refuses to send the second (larger than
// the MTU). These functions finish them the way the missing hardware would: pure, over byte spans,
// every length checked, every loop bounded by the frame's length. No DPDK.
#pragma once

#include "parsers/common/byte_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace wt::parsers {

// Where the layers of an Ethernet frame (up to two VLAN tags) carrying IPv4 or IPv6 and TCP or UDP
// start. IPv6 with extension headers, IP fragments and anything else: not located.
struct L4Frame {
    std::uint16_t l3 = 0;       // offset of the IP header
    std::uint16_t l4 = 0;       // offset of the TCP or UDP header
    std::uint16_t payload = 0;  // offset of the TCP or UDP payload
    std::uint32_t ip_end = 0;   // end of the IP packet (its length field), within the frame
    std::uint8_t proto = 0;     // 6 or 17
    bool ipv6 = false;
};

// false: not an untagged/VLAN-tagged Ethernet IPv4/IPv6 TCP/UDP frame whose headers and IP length fit it.
[[nodiscard]] bool locate_l4(Bytes frame, L4Frame& out) noexcept;

// The TCP/UDP checksum a sender left for offload holds the folded sum of the pseudo-header only
// (RFC 9293 section 3.1, RFC 768, RFC 8200 section 8.1); such a frame gets its full checksum.
// True when the checksum was completed; a frame with any other checksum is left as it is (a
// corrupt one stays corrupt).
bool complete_partial_checksum(std::span<std::uint8_t> frame, const L4Frame& l) noexcept;

// The size of the segments a UDP super-datagram (UDP_SEGMENT: several datagrams of one size, the last
// one shorter, sent as one) was made of, for QUIC: the segment size at which every segment starts with
// a QUIC header carrying the first packet's destination connection ID (RFC 9000 section 17; the fixed
// bit is not required, RFC 9287). 0 when no size up to max_segment fits that (not QUIC, or a DCID
// shorter than 4 bytes).
[[nodiscard]] std::size_t quic_gso_segment_size(Bytes udp_payload, std::size_t max_segment) noexcept;

// How a super-frame is cut: TCP into MSS-sized segments, UDP into segments of `udp_segment` bytes of
// payload (quic_gso_segment_size).
struct SegmentPlan {
    std::size_t count = 0;     // frames it becomes (0: cannot be cut)
    std::size_t per_frame = 0; // payload bytes in each but the last
};

// mtu: the largest IP packet the egress interface sends.
[[nodiscard]] SegmentPlan plan_segments(Bytes frame, const L4Frame& l, std::size_t mtu,
                                        std::size_t udp_segment = 0) noexcept;

// Writes segment `index` of the plan into `out` (which must hold segment_size(...) bytes): the
// headers of the super-frame with its IP length and ID (IPv4: +index) and its TCP sequence number
// advanced, FIN and PSH on the last segment only and CWR on the first (as Linux's GSO does), and
// full IP and TCP/UDP checksums. Returns the bytes written (0: out too small or index out of range).
std::size_t write_segment(Bytes frame, const L4Frame& l, const SegmentPlan& plan, std::size_t index,
                          std::span<std::uint8_t> out) noexcept;
[[nodiscard]] std::size_t segment_size(const L4Frame& l, const SegmentPlan& plan, std::size_t index) noexcept;

}  // namespace wt::parsers
