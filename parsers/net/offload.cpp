#include "parsers/net/offload.hpp"

#include "parsers/net/checksum.hpp"
#include "parsers/net/packet.hpp"

#include <algorithm>
#include <cstring>

namespace wt::parsers {

namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kMaxVlanTags = 2;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kTcpChecksumOffset = 16;
constexpr std::size_t kUdpChecksumOffset = 6;
constexpr std::size_t kMaxSegments = 1024; // a 64 KB super-frame cut at an MTU of 64: more is refused
constexpr std::size_t kMinQuicPacket = 21; // header byte, a 4-byte DCID, a packet number, the AEAD tag

// The pseudo-header's sum for an L4 segment of l4_len bytes (RFC 9293 section 3.1; RFC 8200 section 8.1).
std::uint64_t pseudo_sum(const std::uint8_t* frame, const L4Frame& l, std::size_t l4_len) noexcept {
    const std::uint8_t* ip = frame + l.l3;
    const std::uint64_t acc = std::uint64_t{l.proto} + l4_len;
    return l.ipv6 ? ones_sum(ip + 8, 32, acc) : ones_sum(ip + 12, 8, acc); // source and destination
}

std::size_t checksum_offset(const L4Frame& l) noexcept {
    return l.l4 + (l.proto == kIpProtoTcp ? kTcpChecksumOffset : kUdpChecksumOffset);
}

// The L4 checksum of frame[l4, l4 + l4_len) with its checksum field counted as zero.
std::uint16_t l4_checksum(const std::uint8_t* frame, const L4Frame& l, std::size_t l4_len) noexcept {
    const std::size_t field = checksum_offset(l);
    std::uint64_t acc = pseudo_sum(frame, l, l4_len);
    acc = ones_sum(frame + l.l4, field - l.l4, acc); // an even length: TCP 16, UDP 6
    acc = ones_sum(frame + field + 2, l.l4 + l4_len - field - 2, acc);
    std::uint16_t sum = static_cast<std::uint16_t>(~ones_fold(acc));
    if (sum == 0 && l.proto == kIpProtoUdp) {
        sum = 0xffff; // RFC 768: zero means "no checksum"
    }
    return sum;
}

} // namespace

bool locate_l4(Bytes frame, L4Frame& out) noexcept {
    if (frame.size() < kEthernetHeader) {
        return false;
    }
    std::size_t off = 12;
    std::uint16_t ethertype = load_u16(frame.data() + off);
    for (std::size_t tags = 0; tags < kMaxVlanTags && (ethertype == kEtherTypeVlan || ethertype == kEtherTypeQinQ ||
                                                       ethertype == kEtherTypeQinQOld);
         ++tags) {
        off += kVlanTag;
        if (frame.size() < off + 2) {
            return false;
        }
        ethertype = load_u16(frame.data() + off);
    }
    L4Frame l;
    l.l3 = static_cast<std::uint16_t>(off + 2);
    const std::uint8_t* ip = frame.data() + l.l3;
    const std::size_t room = frame.size() - l.l3;
    std::size_t ip_header = 0;
    if (ethertype == kEtherTypeIpv4) {
        if (room < 20 || (ip[0] >> 4) != 4) {
            return false;
        }
        ip_header = std::size_t{ip[0] & 0x0fu} * 4;
        const std::size_t total = load_u16(ip + 2);
        const bool fragment = (load_u16(ip + 6) & 0x3fff) != 0; // MF or an offset (RFC 791 section 3.1)
        if (ip_header < 20 || total < ip_header || total > room || fragment) {
            return false;
        }
        l.ip_end = static_cast<std::uint32_t>(l.l3 + total);
        l.proto = ip[9];
    } else if (ethertype == kEtherTypeIpv6) {
        if (room < kIpv6Header || (ip[0] >> 4) != 6) {
            return false;
        }
        ip_header = kIpv6Header;
        const std::size_t payload = load_u16(ip + 4);
        if (kIpv6Header + payload > room) {
            return false;
        }
        l.ipv6 = true;
        l.ip_end = static_cast<std::uint32_t>(l.l3 + kIpv6Header + payload);
        l.proto = ip[6]; // extension headers are not followed: such a frame is not located
    } else {
        return false;
    }
    l.l4 = static_cast<std::uint16_t>(l.l3 + ip_header);
    std::size_t l4_header = 0;
    if (l.proto == kIpProtoTcp) {
        if (l.ip_end < l.l4 + 20u) {
            return false;
        }
        l4_header = static_cast<std::size_t>(frame[l.l4 + 12] >> 4) * 4;
        if (l4_header < 20) {
            return false;
        }
    } else if (l.proto == kIpProtoUdp) {
        l4_header = kUdpHeader;
    } else {
        return false;
    }
    if (l.ip_end < l.l4 + l4_header) {
        return false;
    }
    l.payload = static_cast<std::uint16_t>(l.l4 + l4_header);
    out = l;
    return true;
}

bool complete_partial_checksum(std::span<std::uint8_t> frame, const L4Frame& l) noexcept {
    const std::size_t field = checksum_offset(l);
    if (field + 2 > l.ip_end || l.ip_end > frame.size()) {
        return false;
    }
    const std::uint16_t stored = load_u16(frame.data() + field);
    if (l.proto == kIpProtoUdp && stored == 0 && !l.ipv6) {
        return false; // an IPv4 UDP datagram sent without a checksum
    }
    const std::size_t l4_len = l.ip_end - l.l4;
    if (stored != ones_fold(pseudo_sum(frame.data(), l, l4_len))) {
        return false;
    }
    store_u16(frame.data() + field, l4_checksum(frame.data(), l, l4_len));
    return true;
}

std::size_t quic_gso_segment_size(Bytes p, std::size_t max_segment) noexcept {
    // The fixed bit (0x40) is not looked at: a peer may grease it (RFC 9287), and ngtcp2 does.
    if (p.size() < 2 * kMinQuicPacket) {
        return 0;
    }
    // The first packet's destination connection ID: in a long header its length is given
    // (RFC 9000 section 17.2), in a short header it is not (17.3): its first 4 bytes are compared.
    Bytes key;
    std::size_t dcid_len = 0;
    if (p[0] & 0x80) {
        if (p.size() < 6 || p[5] < 4 || p[5] > 20 || p.size() < 6u + p[5]) {
            return 0;
        }
        dcid_len = p[5];
        key = p.subspan(6, std::min<std::size_t>(dcid_len, 8));
    } else {
        key = p.subspan(1, 4);
    }
    const std::size_t top = std::min(max_segment, p.size() - 1);
    for (std::size_t g = kMinQuicPacket; g <= top; ++g) {
        bool fits = true;
        for (std::size_t pos = g; pos < p.size() && fits; pos += g) {
            if (p[pos] & 0x80) {
                fits = dcid_len != 0 && pos + 6 + key.size() <= p.size() && p[pos + 5] == dcid_len &&
                       std::memcmp(p.data() + pos + 6, key.data(), key.size()) == 0;
            } else {
                fits = pos + 1 + key.size() <= p.size() && std::memcmp(p.data() + pos + 1, key.data(), key.size()) == 0;
            }
        }
        if (fits) {
            return g;
        }
    }
    return 0;
}

SegmentPlan plan_segments(Bytes frame, const L4Frame& l, std::size_t mtu, std::size_t udp_segment) noexcept {
    SegmentPlan plan;
    if (l.ip_end > frame.size() || l.payload > l.ip_end) {
        return plan;
    }
    const std::size_t headers = l.payload - l.l3; // IP and TCP/UDP headers
    const std::size_t payload = l.ip_end - l.payload;
    std::size_t per = 0;
    if (l.proto == kIpProtoTcp) {
        per = mtu > headers ? mtu - headers : 0;
    } else if (l.proto == kIpProtoUdp) {
        per = udp_segment != 0 && udp_segment + headers <= mtu ? udp_segment : 0;
    }
    if (per == 0 || payload == 0) {
        return plan;
    }
    const std::size_t count = (payload + per - 1) / per;
    if (count > kMaxSegments) {
        return plan;
    }
    plan.count = count;
    plan.per_frame = per;
    return plan;
}

std::size_t segment_size(const L4Frame& l, const SegmentPlan& plan, std::size_t index) noexcept {
    if (index >= plan.count) {
        return 0;
    }
    const std::size_t payload = l.ip_end - l.payload;
    const std::size_t chunk = index + 1 < plan.count ? plan.per_frame : payload - plan.per_frame * (plan.count - 1);
    return l.payload + chunk;
}

std::size_t write_segment(Bytes frame, const L4Frame& l, const SegmentPlan& plan, std::size_t index,
                          std::span<std::uint8_t> out) noexcept {
    const std::size_t size = segment_size(l, plan, index);
    if (size == 0 || out.size() < size || l.ip_end > frame.size()) {
        return 0;
    }
    const std::size_t chunk = size - l.payload;
    std::uint8_t* o = out.data();
    std::memcpy(o, frame.data(), l.payload);
    std::memcpy(o + l.payload, frame.data() + l.payload + index * plan.per_frame, chunk);
    const bool first = index == 0;
    const bool last = index + 1 == plan.count;
    std::uint8_t* ip = o + l.l3;
    const std::size_t l4_len = size - l.l4;
    if (l.ipv6) {
        store_u16(ip + 4, static_cast<std::uint16_t>(size - l.l3 - kIpv6Header));
    } else {
        // RFC 791: total length, the ID advanced per segment (as Linux's GSO does), the header checksum.
        const std::size_t ip_header = l.l4 - l.l3;
        store_u16(ip + 2, static_cast<std::uint16_t>(size - l.l3));
        store_u16(ip + 4, static_cast<std::uint16_t>(load_u16(ip + 4) + index));
        store_u16(ip + 10, 0);
        store_u16(ip + 10, static_cast<std::uint16_t>(~ones_sum(ip, ip_header)));
    }
    std::uint8_t* l4 = o + l.l4;
    if (l.proto == kIpProtoTcp) {
        store_u32(l4 + 4, load_u32(l4 + 4) + static_cast<std::uint32_t>(index * plan.per_frame));
        std::uint8_t flags = l4[13];
        if (!last) {
            flags &= static_cast<std::uint8_t>(~(tcp_flags::kFin | tcp_flags::kPsh));
        }
        if (!first) {
            flags &= static_cast<std::uint8_t>(~tcp_flags::kCwr); // only the first segment carries it (RFC 3168)
        }
        l4[13] = flags;
    } else {
        store_u16(l4 + 4, static_cast<std::uint16_t>(l4_len));
    }
    L4Frame seg = l;
    seg.ip_end = static_cast<std::uint32_t>(size);
    store_u16(o + checksum_offset(seg), l4_checksum(o, seg, l4_len));
    return size;
}

} // namespace wt::parsers
