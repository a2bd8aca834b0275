// decode_packet on frames recorded by tests/data/net/record.sh (vectors.hpp), every
// truncation of them, trailing bytes, and hand-made malformed frames.
#include "parsers/net/packet.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <set>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "tests/parsers/net/same_decode.hpp"
#include "tests/parsers/net/vectors.hpp"
#include "tests/support/alloc_counter.hpp"

namespace wt::parsers {
namespace {

using namespace wt::test::net;

std::string text(const IpAddress& a) { return std::string(to_string(a).view()); }
std::string payload_text(const DecodedPacket& p) { return std::string(as_string_view(p.l4_payload)); }

struct Vector {
    const char* name;
    LinkType link;
    Bytes frame;
    // expectations
    std::uint8_t ip_version;
    const char* src;
    const char* dst;
    std::uint8_t l4_proto;
    std::uint16_t dst_port;
    std::uint32_t ip_bytes;
    std::size_t payload_size;
    const char* payload_prefix; // nullptr: not checked
    std::uint8_t vlan_depth = 0;
    std::uint16_t outer_vlan = 0;
    bool fragmented = false;
    bool first_fragment = false;
    bool tunneled = false;
};

const std::vector<Vector>& vectors() {
    static const std::vector<Vector> v = {
        {"tcp4_syn", LinkType::kEthernet, kTcp4Syn, 4, "10.77.0.1", "10.77.0.2", kIpProtoTcp, 8080, 60, 0, ""},
        {"tcp4_get", LinkType::kEthernet, kTcp4Get, 4, "10.77.0.1", "10.77.0.2", kIpProtoTcp, 8080, 140, 88,
         "GET /index.html HTTP/1.1\r\n"},
        {"mld6_hbh", LinkType::kEthernet, kMld6HopByHop, 6, "fe80::77:ff:fe00:1", "ff02::16", kIpProtoIcmpv6, 0, 76, 28,
         nullptr},
        {"tcp6_get", LinkType::kEthernet, kTcp6Get, 6, "fd77::1", "fd77::2", kIpProtoTcp, 8080, 160, 88, "GET /index.html"},
        {"udp4", LinkType::kEthernet, kUdp4, 4, "10.77.0.1", "10.77.0.2", kIpProtoUdp, 5353, 41, 13, "udp over ipv4"},
        {"udp6", LinkType::kEthernet, kUdp6, 6, "fd77::1", "fd77::2", kIpProtoUdp, 5353, 61, 13, "udp over ipv6"},
        {"frag4_first", LinkType::kEthernet, kFrag4First, 4, "10.77.0.1", "10.77.0.2", kIpProtoIcmp, 0, 1500, 1480,
         nullptr, 0, 0, true, true},
        {"frag4_second", LinkType::kEthernet, kFrag4Second, 4, "10.77.0.1", "10.77.0.2", kIpProtoIcmp, 0, 1500, 1480,
         nullptr, 0, 0, true, false},
        {"frag4_last", LinkType::kEthernet, kFrag4Last, 4, "10.77.0.1", "10.77.0.2", kIpProtoIcmp, 0, 68, 48, nullptr, 0,
         0, true, false},
        {"frag6_first", LinkType::kEthernet, kFrag6First, 6, "fd77::1", "fd77::2", kIpProtoIcmpv6, 0, 1496, 1448,
         nullptr, 0, 0, true, true},
        {"frag6_second", LinkType::kEthernet, kFrag6Second, 6, "fd77::1", "fd77::2", kIpProtoIcmpv6, 0, 1496, 1448,
         nullptr, 0, 0, true, false},
        {"ext6_udp", LinkType::kEthernet, kExt6Udp, 6, "fd77::1", "fd77::2", kIpProtoUdp, 5353, 99, 27,
         "ipv6 with extension headers"},
        {"vlan4_udp", LinkType::kEthernet, kVlan4Udp, 4, "10.77.10.1", "10.77.10.2", kIpProtoUdp, 5353, 42, 14,
         "vlan10 payload", 1, 10},
        {"vlan6_udp", LinkType::kEthernet, kVlan6Udp, 6, "fd77:10::1", "fd77:10::2", kIpProtoUdp, 5353, 57, 9,
         "vlan10 v6", 1, 10},
        {"qinq_88a8", LinkType::kEthernet, kQinQ88a8, 4, "10.77.20.1", "10.77.20.2", kIpProtoUdp, 5353, 38, 10,
         "qinq 20/30", 2, 20},
        {"qinq_9100", LinkType::kEthernet, kQinQ9100, 4, "10.77.21.1", "10.77.21.2", kIpProtoUdp, 5353, 38, 10,
         "9100 21/31", 2, 21},
        {"tunnel_4in6", LinkType::kEthernet, kTunnel4in6, 4, "192.168.7.1", "192.168.7.2", kIpProtoUdp, 53, 78, 10,
         "4in6 inner", 0, 0, false, false, true},
        {"tunnel_6in6", LinkType::kEthernet, kTunnel6in6, 6, "fd99::1", "fd99::2", kIpProtoUdp, 53, 98, 10, "6in6 inner",
         0, 0, false, false, true},
        {"tunnel_4in4", LinkType::kEthernet, kTunnel4in4, 4, "192.168.7.1", "192.168.7.2", kIpProtoUdp, 53, 58, 10,
         "4in6 inner", 0, 0, false, false, true},
        {"tunnel_6in4", LinkType::kEthernet, kTunnel6in4, 6, "fd99::1", "fd99::2", kIpProtoUdp, 53, 78, 10, "6in6 inner",
         0, 0, false, false, true},
        {"sll_tcp_syn", LinkType::kLinuxSll, kSllTcpSyn, 4, "10.77.0.1", "10.77.0.2", kIpProtoTcp, 8080, 60, 0, ""},
        {"sll2_tcp_syn", LinkType::kLinuxSll2, kSll2TcpSyn, 4, "10.77.0.1", "10.77.0.2", kIpProtoTcp, 8080, 60, 0, ""},
    };
    return v;
}

void check_vector(const Vector& v, const DecodedPacket& p) {
    EXPECT_EQ(p.status, DecodeStatus::kOk) << to_string(p.status);
    EXPECT_EQ(p.ip_version, v.ip_version);
    EXPECT_EQ(text(p.src), v.src);
    EXPECT_EQ(text(p.dst), v.dst);
    EXPECT_EQ(p.l4_proto, v.l4_proto);
    EXPECT_EQ(p.dst_port, v.dst_port);
    EXPECT_EQ(p.ip_bytes, v.ip_bytes);
    EXPECT_EQ(p.l4_payload.size(), v.payload_size);
    if (v.payload_prefix != nullptr) {
        EXPECT_EQ(payload_text(p).substr(0, std::strlen(v.payload_prefix)), v.payload_prefix);
    }
    EXPECT_EQ(p.vlan_depth, v.vlan_depth);
    EXPECT_EQ(p.outer_vlan, v.outer_vlan);
    EXPECT_EQ(p.fragmented, v.fragmented);
    EXPECT_EQ(p.first_fragment, v.first_fragment);
    EXPECT_EQ(p.tunneled, v.tunneled);
    EXPECT_FALSE(p.capture_truncated);
    if (v.l4_proto != kIpProtoTcp && v.l4_proto != kIpProtoUdp) {
        EXPECT_EQ(p.src_port, 0);
    } else {
        EXPECT_NE(p.src_port, 0);
    }
    // Payload lies inside the frame.
    if (!p.l4_payload.empty()) {
        EXPECT_GE(p.l4_payload.data(), v.frame.data());
        EXPECT_LE(p.l4_payload.data() + p.l4_payload.size(), v.frame.data() + v.frame.size());
    }
}

TEST(DecodePacket, RecordedVectorsAtExactLength) {
    for (const Vector& v : vectors()) {
        SCOPED_TRACE(v.name);
        std::vector<std::uint8_t> exact(v.frame.begin(), v.frame.end()); // heap copy: ASan bounds
        Vector at = v;
        at.frame = exact;
        DecodedPacket p;
        EXPECT_EQ(decode_packet(v.link, exact, p), DecodeStatus::kOk);
        check_vector(at, p);
    }
}

TEST(DecodePacket, NoAllocations) {
    // A pcap built from the vectors, read and decoded record by record.
    std::vector<std::uint8_t> file = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0};
    for (const Vector& v : vectors()) {
        const std::uint32_t n = static_cast<std::uint32_t>(v.frame.size());
        const std::uint8_t hdr[16] = {1, 0, 0, 0, 2, 0, 0, 0, static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8),
                                      0, 0, static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8), 0, 0};
        file.insert(file.end(), std::begin(hdr), std::end(hdr));
        file.insert(file.end(), v.frame.begin(), v.frame.end());
    }
    const std::size_t before = wt::testing::allocation_count();
    std::size_t decoded = 0;
    for (const Vector& v : vectors()) {
        DecodedPacket p;
        decoded += decode_packet(v.link, v.frame, p) == DecodeStatus::kOk;
        char buf[64];
        format_ip(p.src, buf, sizeof(buf));
        decoded += to_string(p.dst).size() > 0 ? 0 : 1;
    }
    CaptureReader r = CaptureReader::open(file);
    CaptureRecord rec;
    std::size_t records = 0;
    while (r.next(rec) == CaptureStatus::kOk) {
        DecodedPacket p;
        records += decode_packet(rec.link, rec.data, p, rec.orig_len) != DecodeStatus::kUnsupportedLinkType;
    }
    const std::size_t after = wt::testing::allocation_count();
    EXPECT_EQ(after - before, 0u);
    EXPECT_EQ(decoded, vectors().size());
    EXPECT_EQ(records, vectors().size());
    EXPECT_EQ(r.status(), CaptureStatus::kEnd) << r.error();
}

TEST(DecodePacket, TcpFields) {
    DecodedPacket p;
    ASSERT_EQ(decode_packet(LinkType::kEthernet, kTcp4Syn, p), DecodeStatus::kOk);
    EXPECT_EQ(p.src_port, 57702);
    EXPECT_EQ(p.tcp_flags, tcp_flags::kSyn);
    EXPECT_EQ(p.tcp_seq, 2600512761u);
    EXPECT_EQ(p.tcp_ack, 0u);
    EXPECT_EQ(p.tcp_window, 64240);
    EXPECT_TRUE(p.has_mac);
    EXPECT_EQ(p.src_mac, (std::array<std::uint8_t, 6>{0x02, 0x77, 0, 0, 0, 1}));
    EXPECT_EQ(p.dst_mac, (std::array<std::uint8_t, 6>{0x02, 0x77, 0, 0, 0, 2}));
    EXPECT_EQ(p.ethertype, 0x0800);

    ASSERT_EQ(decode_packet(LinkType::kEthernet, kTcp4Get, p), DecodeStatus::kOk);
    EXPECT_EQ(p.tcp_flags, tcp_flags::kPsh | tcp_flags::kAck);
    EXPECT_EQ(p.tcp_seq, 2600512762u);
    EXPECT_EQ(p.tcp_ack, 1487333445u);
    EXPECT_EQ(p.tcp_window, 63);

    ASSERT_EQ(decode_packet(LinkType::kLinuxSll, kSllTcpSyn, p), DecodeStatus::kOk);
    EXPECT_EQ(p.src_port, 58172);
    EXPECT_EQ(p.tcp_seq, 3715079677u);
    EXPECT_TRUE(p.has_mac);
    EXPECT_EQ(p.src_mac, (std::array<std::uint8_t, 6>{0x02, 0x77, 0, 0, 0, 1}));

    ASSERT_EQ(decode_packet(LinkType::kLinuxSll2, kSll2TcpSyn, p), DecodeStatus::kOk);
    EXPECT_EQ(p.src_port, 58180);
    EXPECT_EQ(p.tcp_seq, 1109372640u);
    EXPECT_TRUE(p.has_mac);
}

// Every strict prefix of a complete frame is rejected (never kOk, never a crash);
// with wire_len = the full length, prefixes that keep the L4 header decode with
// capture_truncated and a prefix of the full payload.
TEST(DecodePacket, EveryTruncation) {
    for (const Vector& v : vectors()) {
        SCOPED_TRACE(v.name);
        DecodedPacket full;
        ASSERT_EQ(decode_packet(v.link, v.frame, full), DecodeStatus::kOk);
        const std::size_t payload_off = static_cast<std::size_t>(full.l4_payload.data() - v.frame.data());
        for (std::size_t len = 0; len < v.frame.size(); ++len) {
            std::vector<std::uint8_t> cut(v.frame.begin(), v.frame.begin() + static_cast<std::ptrdiff_t>(len));
            DecodedPacket p;
            const DecodeStatus s = decode_packet(v.link, cut, p);
            EXPECT_NE(s, DecodeStatus::kOk) << "len " << len;
            EXPECT_EQ(s, p.status);

            const DecodeStatus snap = decode_packet(v.link, cut, p, static_cast<std::uint32_t>(v.frame.size()));
            if (len >= payload_off && !full.l4_payload.empty()) {
                ASSERT_EQ(snap, DecodeStatus::kOk) << "len " << len << " " << to_string(snap);
                EXPECT_TRUE(p.capture_truncated);
                EXPECT_EQ(p.ip_bytes, full.ip_bytes);
                EXPECT_EQ(p.dst_port, full.dst_port);
                EXPECT_EQ(p.l4_payload.size(), len - payload_off);
                EXPECT_EQ(0, std::memcmp(p.l4_payload.data(), full.l4_payload.data(), p.l4_payload.size()));
            }
        }
    }
}

// decode_packet takes a shortcut for untagged Ethernet/IPv4/TCP; it must give exactly
// the general decoder's result, on every vector, every truncation (with and without
// the wire length), and 20,000 random corruptions of the headers of each.
TEST(DecodePacket, ShortcutMatchesTheGeneralDecoder) {
    std::mt19937_64 rng(4);
    std::size_t shortcut_frames = 0;
    auto check = [&](LinkType link, std::span<const std::uint8_t> frame, std::uint32_t wire_len) {
        DecodedPacket fast;
        DecodedPacket general;
        const DecodeStatus a = decode_packet(link, frame, fast, wire_len);
        const DecodeStatus b = decode_packet_general(link, frame, general, wire_len);
        ASSERT_EQ(a, b);
        ASSERT_EQ(test::decode_difference(fast, general), "") << "length " << frame.size() << " wire " << wire_len;
        shortcut_frames += a == DecodeStatus::kOk && fast.l4_proto == kIpProtoTcp && fast.ip_version == 4;
    };
    for (const Vector& v : vectors()) {
        SCOPED_TRACE(v.name);
        for (std::size_t len = 0; len <= v.frame.size(); ++len) {
            const std::span<const std::uint8_t> cut(v.frame.data(), len);
            check(v.link, cut, 0);
            check(v.link, cut, static_cast<std::uint32_t>(v.frame.size()));
        }
        std::vector<std::uint8_t> frame(v.frame.begin(), v.frame.end());
        for (int k = 0; k < 20000; ++k) {
            std::vector<std::uint8_t> bad = frame;
            const std::size_t span = std::min<std::size_t>(bad.size(), 80);
            for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0 && span > 0; --flips) {
                bad[rng() % span] = static_cast<std::uint8_t>(rng());
            }
            check(v.link, bad, 0);
        }
    }
    EXPECT_GT(shortcut_frames, 1000u) << "the vectors must exercise the shortcut";
}

// Trailing bytes (Ethernet padding, FCS) never reach the payload: child spans come
// from the IP / UDP lengths.
TEST(DecodePacket, TrailingBytesAreIgnored) {
    for (const Vector& v : vectors()) {
        SCOPED_TRACE(v.name);
        std::vector<std::uint8_t> padded(v.frame.begin(), v.frame.end());
        padded.insert(padded.end(), 18, 0xa5);
        Vector at = v;
        at.frame = padded;
        DecodedPacket p;
        EXPECT_EQ(decode_packet(v.link, padded, p), DecodeStatus::kOk);
        check_vector(at, p);
    }
}

// A builder for hand-made frames: every push says which field it is.
class Frame {
public:
    Frame& u8(std::uint8_t v) {
        _b.push_back(v);
        return *this;
    }
    Frame& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
    Frame& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
    Frame& zeros(std::size_t n) {
        _b.insert(_b.end(), n, 0);
        return *this;
    }
    Frame& bytes(std::string_view s) {
        _b.insert(_b.end(), s.begin(), s.end());
        return *this;
    }
    Frame& eth(std::uint16_t ethertype) { return zeros(12).u16(ethertype); } // dst, src MAC zero
    // IPv4 header without options: version/IHL, TOS, total length, id, flags/frag, TTL, proto, csum, src, dst.
    Frame& ipv4(std::uint16_t total, std::uint8_t proto, std::uint16_t frag = 0, std::uint8_t ver_ihl = 0x45) {
        return u8(ver_ihl).u8(0).u16(total).u16(1).u16(frag).u8(64).u8(proto).u16(0).u32(0x0a000001).u32(0x0a000002);
    }
    // IPv6 header: version/class/flow, payload length, next header, hop limit, src, dst.
    Frame& ipv6(std::uint16_t plen, std::uint8_t nh) {
        return u32(0x60000000).u16(plen).u8(nh).u8(64).zeros(15).u8(1).zeros(15).u8(2);
    }
    // UDP: ports, length, checksum.
    Frame& udp(std::uint16_t len) { return u16(1234).u16(53).u16(len).u16(0); }
    // TCP: ports, seq, ack, data offset, flags, window, checksum, urgent.
    Frame& tcp(std::uint8_t doff, std::uint8_t flags = tcp_flags::kAck) {
        return u16(1234).u16(443).u32(1).u32(2).u8(static_cast<std::uint8_t>(doff << 4)).u8(flags).u16(100).u16(0).u16(0);
    }
    [[nodiscard]] Bytes view() const { return _b; }
    [[nodiscard]] std::size_t size() const { return _b.size(); }

private:
    std::vector<std::uint8_t> _b;
};

DecodeStatus decode(LinkType link, const Frame& f) {
    DecodedPacket p;
    return decode_packet(link, f.view(), p);
}

TEST(DecodePacket, Ipv4Malformed) {
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).zeros(19)), DecodeStatus::kIpv4TooShort);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(20, 6, 0, 0x65)), DecodeStatus::kIpv4BadVersion);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(20, 6, 0, 0x44)), DecodeStatus::kIpv4BadHeaderLength);
    // IHL 15 (60 bytes) but only 20 present.
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(60, 6, 0, 0x4f)), DecodeStatus::kIpv4Truncated);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(19, 6)), DecodeStatus::kIpv4BadTotalLength);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(100, 17).udp(80)), DecodeStatus::kIpv4Truncated);
    // Total length 0: a TSO capture from the sending host; the captured length stands in.
    DecodedPacket tso;
    const Frame tso_frame = Frame().eth(0x0800).ipv4(0, 6).tcp(5).bytes("segment");
    ASSERT_EQ(decode_packet(LinkType::kEthernet, tso_frame.view(), tso), DecodeStatus::kOk);
    EXPECT_EQ(tso.ip_bytes, 47u);
    EXPECT_EQ(payload_text(tso), "segment");
    // With options (IHL 6): skipped.
    DecodedPacket p;
    const Frame opt = Frame().eth(0x0800).ipv4(32, 17, 0, 0x46).u32(0x01010100).udp(8).bytes("x");
    EXPECT_EQ(decode_packet(LinkType::kEthernet, opt.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.dst_port, 53);
}

TEST(DecodePacket, TcpAndUdpMalformed) {
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(39, 6).zeros(19)), DecodeStatus::kTcpTruncated);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(40, 6).tcp(4)), DecodeStatus::kTcpBadDataOffset);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(40, 6).tcp(6)), DecodeStatus::kTcpBadDataOffset);
    DecodedPacket p;
    // Data offset 6 whose option word the snaplen cut off.
    const Frame cut = Frame().eth(0x0800).ipv4(48, 6).tcp(6);
    EXPECT_EQ(decode_packet(LinkType::kEthernet, cut.view(), p, 62), DecodeStatus::kTcpTruncated);

    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(27, 17).zeros(7)), DecodeStatus::kUdpTruncated);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(28, 17).udp(7)), DecodeStatus::kUdpBadLength);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0800).ipv4(30, 17).udp(12).u16(0)), DecodeStatus::kUdpBadLength);
    // UDP length shorter than the IP payload: accepted, payload clipped to it.
    const Frame shorter = Frame().eth(0x0800).ipv4(32, 17).udp(10).bytes("abcd");
    ASSERT_EQ(decode_packet(LinkType::kEthernet, shorter.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(payload_text(p), "ab");
    // First fragment: UDP length covers the whole datagram.
    const Frame first = Frame().eth(0x0800).ipv4(32, 17, 0x2000).udp(1000).bytes("abcd");
    ASSERT_EQ(decode_packet(LinkType::kEthernet, first.view(), p), DecodeStatus::kOk);
    EXPECT_TRUE(p.first_fragment);
    EXPECT_EQ(p.dst_port, 53);
    EXPECT_EQ(payload_text(p), "abcd");
}

TEST(DecodePacket, Ipv6Malformed) {
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x86dd).zeros(39)), DecodeStatus::kIpv6Truncated);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x86dd).u32(0x40000000).zeros(36)), DecodeStatus::kIpv6BadVersion);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x86dd).ipv6(8, 17)), DecodeStatus::kIpv6Truncated);
    // Destination options claiming 16 bytes inside an 8-byte payload.
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x86dd).ipv6(8, 60).u8(17).u8(1).zeros(6)),
              DecodeStatus::kIpv6BadExtension);
    // Hop-by-hop after a destination options header (RFC 8200 section 4.1).
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x86dd).ipv6(24, 60).u8(0).u8(0).zeros(6).u8(17).u8(0).zeros(6).udp(8)),
              DecodeStatus::kIpv6BadExtension);
    // kMaxIpv6ExtensionHeaders destination options headers are fine, one more is not.
    for (const std::size_t n : {limits::kMaxIpv6ExtensionHeaders, limits::kMaxIpv6ExtensionHeaders + 1}) {
        Frame f;
        f.eth(0x86dd).ipv6(static_cast<std::uint16_t>(n * 8 + 8), 60);
        for (std::size_t i = 0; i < n; ++i) {
            f.u8(i + 1 == n ? 17 : 60).u8(0).zeros(6);
        }
        f.udp(8);
        EXPECT_EQ(decode(LinkType::kEthernet, f),
                  n == limits::kMaxIpv6ExtensionHeaders ? DecodeStatus::kOk : DecodeStatus::kIpv6TooManyExtensions);
    }
    // ESP (50) and no-next-header (59) end the chain.
    DecodedPacket p;
    const Frame esp = Frame().eth(0x86dd).ipv6(8, 50).u32(0x1000).u32(1);
    ASSERT_EQ(decode_packet(LinkType::kEthernet, esp.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.l4_proto, 50);
    EXPECT_EQ(p.l4_payload.size(), 8u);
    // AH (RFC 4302: length in 4-byte units minus 2): 12-byte AH then UDP.
    const Frame ah = Frame().eth(0x86dd).ipv6(20, 51).u8(17).u8(1).zeros(10).udp(8);
    ASSERT_EQ(decode_packet(LinkType::kEthernet, ah.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.l4_proto, kIpProtoUdp);
    EXPECT_EQ(p.dst_port, 53);
    // Routing header (43) then TCP.
    const Frame rh = Frame().eth(0x86dd).ipv6(28, 43).u8(6).u8(0).zeros(6).tcp(5);
    ASSERT_EQ(decode_packet(LinkType::kEthernet, rh.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.dst_port, 443);
}

TEST(DecodePacket, VlanDepth) {
    for (std::size_t n = 1; n <= limits::kMaxVlanDepth + 1; ++n) {
        Frame f;
        f.zeros(12);
        for (std::size_t i = 0; i < n; ++i) {
            f.u16(i == 0 ? 0x88a8 : 0x8100).u16(static_cast<std::uint16_t>(100 + i));
        }
        f.u16(0x0800).ipv4(28, 17).udp(8);
        DecodedPacket p;
        const DecodeStatus s = decode_packet(LinkType::kEthernet, f.view(), p);
        if (n <= limits::kMaxVlanDepth) {
            EXPECT_EQ(s, DecodeStatus::kOk) << n;
            EXPECT_EQ(p.vlan_depth, n);
            EXPECT_EQ(p.outer_vlan, 100);
        } else {
            EXPECT_EQ(s, DecodeStatus::kVlanTooDeep);
        }
    }
    // Tag without its inner ethertype.
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().zeros(12).u16(0x8100).u16(5)), DecodeStatus::kTruncatedLink);
}

TEST(DecodePacket, NotIpAndLinkTypes) {
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().zeros(13)), DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0806).zeros(28)), DecodeStatus::kNotIp);          // ARP
    EXPECT_EQ(decode(LinkType::kEthernet, Frame().eth(0x0026).u8(0x42).u8(0x42).u8(3)), DecodeStatus::kNotIp); // 802.3 + LLC (STP)
    EXPECT_EQ(decode(static_cast<LinkType>(147), Frame().ipv4(20, 6)), DecodeStatus::kUnsupportedLinkType);
    EXPECT_EQ(decode(LinkType::kLinuxSll, Frame().zeros(15)), DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(LinkType::kLinuxSll2, Frame().zeros(19)), DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(LinkType::kLinuxSll, Frame().zeros(14).u16(0x0004).bytes("llc")), DecodeStatus::kNotIp);

    // Raw IP: the version nibble decides.
    DecodedPacket p;
    const Frame raw4 = Frame().ipv4(28, 17).udp(8);
    const Frame raw6 = Frame().ipv6(8, 17).udp(8);
    EXPECT_EQ(decode_packet(LinkType::kRaw, raw4.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.ip_version, 4);
    EXPECT_FALSE(p.has_mac);
    EXPECT_EQ(decode_packet(LinkType::kRaw, raw6.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(p.ip_version, 6);
    EXPECT_EQ(text(p.src), "::1");
    EXPECT_EQ(decode_packet(LinkType::kIpv4, raw4.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(decode_packet(LinkType::kIpv6, raw6.view(), p), DecodeStatus::kOk);
    EXPECT_EQ(decode_packet(LinkType::kIpv4, raw6.view(), p), DecodeStatus::kIpv4BadVersion);
    const Frame raw4_long = Frame().ipv4(48, 17).udp(28).zeros(20); // long enough for an IPv6 header
    EXPECT_EQ(decode_packet(LinkType::kIpv6, raw4_long.view(), p), DecodeStatus::kIpv6BadVersion);
    EXPECT_EQ(decode(LinkType::kRaw, Frame().u8(0x50).zeros(30)), DecodeStatus::kIpBadVersion);
    EXPECT_EQ(decode(LinkType::kRaw, Frame()), DecodeStatus::kTruncatedLink);

    // BSD null / loop: AF in either byte order.
    for (const std::uint32_t af : {2u, 0x02000000u}) {
        Frame f;
        f.u32(af).ipv4(28, 17).udp(8);
        EXPECT_EQ(decode(LinkType::kNull, f), DecodeStatus::kOk) << af;
        EXPECT_EQ(decode(LinkType::kLoop, f), DecodeStatus::kOk) << af;
    }
    for (const std::uint32_t af : {24u, 28u, 30u, 0x18000000u, 0x1c000000u, 0x1e000000u}) {
        Frame f;
        f.u32(af).ipv6(8, 17).udp(8);
        EXPECT_EQ(decode(LinkType::kNull, f), DecodeStatus::kOk) << af;
    }
    EXPECT_EQ(decode(LinkType::kNull, Frame().u32(7).ipv4(28, 17).udp(8)), DecodeStatus::kNotIp);
    EXPECT_EQ(decode(LinkType::kNull, Frame().u16(2)), DecodeStatus::kTruncatedLink);
}

TEST(DecodePacket, TunnelTooDeepAndFragmentedTunnel) {
    // limits::kMaxIpTunnelDepth (2) inner levels are followed, the third is refused.
    const Frame two = Frame().eth(0x0800).ipv4(68, 4).ipv4(48, 4).ipv4(28, 17).udp(8);
    EXPECT_EQ(decode(LinkType::kEthernet, two), DecodeStatus::kOk);
    const Frame deep = Frame().eth(0x0800).ipv4(88, 4).ipv4(68, 4).ipv4(48, 4).ipv4(28, 17).udp(8);
    EXPECT_EQ(decode(LinkType::kEthernet, deep), DecodeStatus::kTunnelTooDeep);
    // A fragmented outer header is not followed.
    DecodedPacket p;
    const Frame frag = Frame().eth(0x0800).ipv4(48, 4, 0x2000).ipv4(28, 17).udp(8);
    ASSERT_EQ(decode_packet(LinkType::kEthernet, frag.view(), p), DecodeStatus::kOk);
    EXPECT_FALSE(p.tunneled);
    EXPECT_EQ(p.l4_proto, kIpProtoIpv4);
    // Inner errors surface with their own status.
    const Frame bad_inner = Frame().eth(0x0800).ipv4(40, 4).ipv4(20, 17, 0, 0x44);
    EXPECT_EQ(decode(LinkType::kEthernet, bad_inner), DecodeStatus::kIpv4BadHeaderLength);
}

TEST(DecodePacket, StatusNamesAreDistinct) {
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < static_cast<std::size_t>(DecodeStatus::kCount); ++i) {
        const std::string_view n = to_string(static_cast<DecodeStatus>(i));
        EXPECT_NE(n, "unknown");
        EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string_view::npos) << n;
        names.insert(n);
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(DecodeStatus::kCount));
    EXPECT_EQ(to_string(DecodeStatus::kIpv4BadTotalLength), "ipv4_bad_total_length");
}

IpAddress v6(std::initializer_list<std::uint16_t> groups) {
    std::uint8_t b[16] = {};
    std::size_t i = 0;
    for (const std::uint16_t g : groups) {
        b[i++] = static_cast<std::uint8_t>(g >> 8);
        b[i++] = static_cast<std::uint8_t>(g);
    }
    return make_ipv6(b);
}

TEST(IpAddress, FormatRfc5952) {
    const std::uint8_t v4[4] = {192, 0, 2, 255};
    EXPECT_EQ(text(make_ipv4(v4)), "192.0.2.255");
    EXPECT_EQ(text(v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})), "2001:db8::1");
    EXPECT_EQ(text(v6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1})), "2001:db8::1:0:0:1");     // first of equal runs
    EXPECT_EQ(text(v6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1})), "2001:db8:0:1:1:1:1:1"); // one zero group stays
    EXPECT_EQ(text(v6({0x2001, 0, 0, 1, 0, 0, 0, 1})), "2001:0:0:1::1");            // longest run wins
    EXPECT_EQ(text(v6({0, 0, 0, 0, 0, 0, 0, 0})), "::");
    EXPECT_EQ(text(v6({0, 0, 0, 0, 0, 0, 0, 1})), "::1");
    EXPECT_EQ(text(v6({1, 0, 0, 0, 0, 0, 0, 0})), "1::");
    EXPECT_EQ(text(v6({0xfe80, 0, 0, 0, 0xabcd, 0xffff, 0xfe00, 0x1})), "fe80::abcd:ffff:fe00:1");
    EXPECT_EQ(text(v6({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201})), "::ffff:192.0.2.1");
    EXPECT_EQ(text(v6({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff})),
              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(text(IpAddress{}), "-");

    char small[8];
    EXPECT_EQ(format_ip(make_ipv4(v4), small, sizeof(small)), 7u); // truncated, NUL-terminated
    EXPECT_STREQ(small, "192.0.2");
}

TEST(IpAddress, CompareAndHash) {
    const std::uint8_t a[4] = {10, 0, 0, 1};
    const std::uint8_t b[4] = {10, 0, 0, 2};
    EXPECT_EQ(make_ipv4(a), make_ipv4(a));
    EXPECT_NE(make_ipv4(a), make_ipv4(b));
    EXPECT_LT(make_ipv4(a), make_ipv4(b));
    EXPECT_EQ(hash_value(make_ipv4(a)), hash_value(make_ipv4(a)));
    std::unordered_set<IpAddress, IpAddressHash> set;
    for (std::uint8_t i = 0; i < 200; ++i) {
        const std::uint8_t x[4] = {10, 0, 0, i};
        set.insert(make_ipv4(x));
    }
    EXPECT_EQ(set.size(), 200u);
    // IPv4 1.2.3.4 and the IPv6 address with the same leading bytes differ.
    std::uint8_t s[16] = {1, 2, 3, 4};
    EXPECT_NE(make_ipv4(s), make_ipv6(s));
}

} // namespace
} // namespace wt::parsers
