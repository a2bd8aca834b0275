// parsers/net/offload: real frames as a packet socket saw them on a veth whose peers had their default
// offloads (tests/data/net/record_offload.sh): a TCP SYN with a partial checksum, a 65,226-byte TSO
// super-frame, a DNS query, and a 65,022-byte QUIC super-datagram (UDP_SEGMENT) from ngtcp2. The results
// are checked by an independent checksum loop, by reassembly, and by locate_l4 on each output.
#include "parsers/net/offload.hpp"

#include "parsers/net/packet.hpp"
#include "tests/support/pcap_frames.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#ifndef WT_NET_DATA_DIR
#error "WT_NET_DATA_DIR must point to tests/data/net"
#endif

namespace wt::parsers {
namespace {

std::vector<std::vector<std::uint8_t>> frames() {
    return wt::testing::pcap_frames(std::filesystem::path(WT_NET_DATA_DIR) / "offload.pcap");
}

// The checksum of an IPv4 TCP/UDP frame verifies: the one's complement sum of the pseudo-header and the
// whole L4 segment is 0xffff (RFC 1071), computed here without the library's helpers.
bool l4_checksum_verifies(const std::vector<std::uint8_t>& f) {
    const std::size_t ihl = (f[14] & 0x0fu) * 4u;
    const std::size_t total = (std::size_t{f[16]} << 8) | f[17];
    const std::size_t l4 = 14 + ihl;
    const std::size_t len = total - ihl;
    std::uint64_t sum = f[23]; // protocol
    sum += len;
    for (std::size_t i = 26; i < 34; i += 2) {
        sum += (std::uint32_t{f[i]} << 8) | f[i + 1];
    }
    for (std::size_t i = 0; i < len; i += 2) {
        sum += (std::uint32_t{f[l4 + i]} << 8) | (i + 1 < len ? f[l4 + i + 1] : 0);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

bool ipv4_header_verifies(const std::vector<std::uint8_t>& f) {
    const std::size_t ihl = (f[14] & 0x0fu) * 4u;
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < ihl; i += 2) {
        sum += (std::uint32_t{f[14 + i]} << 8) | f[14 + i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

TEST(Offload, LocatesTheLayersOfEachRecordedFrame) {
    const auto f = frames();
    ASSERT_EQ(f.size(), 4u);
    const std::size_t sizes[] = {74, 65226, 98, 65022};
    for (std::size_t i = 0; i < f.size(); ++i) {
        EXPECT_EQ(f[i].size(), sizes[i]);
        L4Frame l;
        ASSERT_TRUE(locate_l4(f[i], l)) << i;
        EXPECT_EQ(l.l3, 14) << i;
        EXPECT_EQ(l.l4, 34) << i;
        EXPECT_EQ(l.ip_end, f[i].size()) << i;
        EXPECT_FALSE(l.ipv6);
    }
    L4Frame l;
    ASSERT_TRUE(locate_l4(f[0], l));
    EXPECT_EQ(l.proto, kIpProtoTcp);
    EXPECT_EQ(l.payload, 34 + 40); // a SYN's options
    ASSERT_TRUE(locate_l4(f[3], l));
    EXPECT_EQ(l.proto, kIpProtoUdp);
    EXPECT_EQ(l.payload, 42);
}

TEST(Offload, EveryTruncationAndCorruptionIsRefusedOrBounded) {
    for (const auto& frame : frames()) {
        for (std::size_t n = 0; n < std::min<std::size_t>(frame.size(), 128); ++n) {
            L4Frame l;
            EXPECT_FALSE(locate_l4(Bytes(frame).first(n), l)) << n; // the IP length no longer fits
        }
    }
    auto f = frames()[0];
    f[14 + 6] = 0x20; // more fragments
    L4Frame l;
    EXPECT_FALSE(locate_l4(f, l)) << "a fragment is not a whole TCP segment";
    f = frames()[0];
    f[14] = 0x44; // IHL 16 bytes
    EXPECT_FALSE(locate_l4(f, l));
    f = frames()[0];
    f[12] = 0x86;
    f[13] = 0xdd; // claims IPv6 over an IPv4 header
    EXPECT_FALSE(locate_l4(f, l));
}

TEST(Offload, APartialChecksumIsCompletedAndACorrectOneLeftAlone) {
    auto f = frames();
    EXPECT_FALSE(l4_checksum_verifies(f[0])) << "the SYN as recorded: the sender left its checksum to offload";
    L4Frame l;
    ASSERT_TRUE(locate_l4(f[0], l));
    EXPECT_TRUE(complete_partial_checksum(f[0], l));
    EXPECT_TRUE(l4_checksum_verifies(f[0]));
    EXPECT_FALSE(complete_partial_checksum(f[0], l)) << "a complete checksum is not touched again";

    ASSERT_TRUE(locate_l4(f[2], l));
    EXPECT_FALSE(l4_checksum_verifies(f[2])) << "dig's UDP query: left to offload as well";
    EXPECT_TRUE(complete_partial_checksum(f[2], l));
    EXPECT_TRUE(l4_checksum_verifies(f[2]));
    const auto dns = f[2];
    EXPECT_FALSE(complete_partial_checksum(f[2], l));
    EXPECT_EQ(f[2], dns) << "a correct checksum is left as it is";

    // A corrupt checksum (neither full nor partial) stays corrupt: a bump in the wire repairs nothing.
    auto bad = frames()[0];
    bad[34 + 16] ^= 0x5a;
    ASSERT_TRUE(locate_l4(bad, l));
    EXPECT_FALSE(complete_partial_checksum(bad, l));
}

TEST(Offload, ATsoSuperFrameBecomesMssSegmentsThatReassemble) {
    const auto f = frames()[1];
    L4Frame l;
    ASSERT_TRUE(locate_l4(f, l));
    const SegmentPlan plan = plan_segments(f, l, 1500);
    ASSERT_EQ(plan.per_frame, 1448u); // 1500 - 20 (IPv4) - 32 (TCP with timestamps)
    ASSERT_EQ(plan.count, 45u);       // 65,160 bytes of payload
    std::vector<std::uint8_t> payload;
    const std::uint32_t seq0 = load_u32(f.data() + 34 + 4);
    const std::uint16_t id0 = load_u16(f.data() + 14 + 4);
    for (std::size_t i = 0; i < plan.count; ++i) {
        std::vector<std::uint8_t> seg(segment_size(l, plan, i));
        ASSERT_EQ(write_segment(f, l, plan, i, seg), seg.size());
        EXPECT_LE(seg.size(), 1514u);
        L4Frame s;
        ASSERT_TRUE(locate_l4(seg, s)) << i;
        EXPECT_TRUE(ipv4_header_verifies(seg)) << i;
        EXPECT_TRUE(l4_checksum_verifies(seg)) << i;
        EXPECT_EQ(load_u32(seg.data() + 34 + 4), seq0 + i * 1448) << i;
        EXPECT_EQ(load_u16(seg.data() + 14 + 4), static_cast<std::uint16_t>(id0 + i)) << i;
        const std::uint8_t flags = seg[34 + 13];
        EXPECT_EQ((flags & tcp_flags::kPsh) != 0, i + 1 == plan.count) << "PSH on the last segment only";
        EXPECT_TRUE(flags & tcp_flags::kAck);
        payload.insert(payload.end(), seg.begin() + s.payload, seg.end());
    }
    EXPECT_EQ(payload, std::vector<std::uint8_t>(f.begin() + l.payload, f.end()));
    std::vector<std::uint8_t> small(100);
    EXPECT_EQ(write_segment(f, l, plan, 0, small), 0u) << "a buffer too small is refused";
    EXPECT_EQ(write_segment(f, l, plan, plan.count, small), 0u);
    EXPECT_EQ(plan_segments(f, l, 40).count, 0u) << "an MTU below the headers cannot be met";
}

TEST(Offload, AQuicSuperDatagramIsCutAtItsSegmentSize) {
    const auto f = frames()[3];
    L4Frame l;
    ASSERT_TRUE(locate_l4(f, l));
    const Bytes udp_payload = Bytes(f).subspan(l.payload, l.ip_end - l.payload);
    const std::size_t g = quic_gso_segment_size(udp_payload, 1500 - 28);
    ASSERT_GT(g, 1000u);
    ASSERT_LE(g, 1472u);
    const SegmentPlan plan = plan_segments(f, l, 1500, g);
    ASSERT_EQ(plan.count, (udp_payload.size() + g - 1) / g);
    std::vector<std::uint8_t> joined;
    for (std::size_t i = 0; i < plan.count; ++i) {
        std::vector<std::uint8_t> seg(segment_size(l, plan, i));
        ASSERT_EQ(write_segment(f, l, plan, i, seg), seg.size());
        L4Frame s;
        ASSERT_TRUE(locate_l4(seg, s));
        EXPECT_TRUE(ipv4_header_verifies(seg)) << i;
        EXPECT_TRUE(l4_checksum_verifies(seg)) << i;
        EXPECT_EQ(load_u16(seg.data() + 34 + 4), seg.size() - 34) << "UDP length";
        EXPECT_EQ(Bytes(seg).subspan(s.payload + 1, 4)[0], udp_payload[1]) << "each datagram starts with the DCID";
        EXPECT_TRUE(std::equal(seg.begin() + s.payload + 1, seg.begin() + s.payload + 5, udp_payload.begin() + 1));
        joined.insert(joined.end(), seg.begin() + s.payload, seg.end());
    }
    EXPECT_EQ(joined, std::vector<std::uint8_t>(udp_payload.begin(), udp_payload.end()));
    // Not QUIC: no segment size is found, and such a super-datagram cannot be cut.
    std::vector<std::uint8_t> noise(4000);
    std::uint32_t x = 12345;
    for (std::uint8_t& b : noise) {
        x = x * 1664525u + 1013904223u; // no period short enough to look like segments
        b = static_cast<std::uint8_t>(x >> 24);
    }
    noise[0] = 0x40;
    EXPECT_EQ(quic_gso_segment_size(noise, 1472), 0u);
    // A greased fixed bit (RFC 9287, ngtcp2 does it) does not hide the segments: clear it in every datagram.
    std::vector<std::uint8_t> greased(udp_payload.begin(), udp_payload.end());
    for (std::size_t pos = 0; pos < greased.size(); pos += g) {
        greased[pos] &= static_cast<std::uint8_t>(~0x40u);
    }
    EXPECT_EQ(quic_gso_segment_size(greased, 1472), g);
    EXPECT_EQ(plan_segments(f, l, 1500, 0).count, 0u);
}

} // namespace
} // namespace wt::parsers
