// decode_packet on tunnels (GTP-U, CAPWAP, GRE v0/v1, VXLAN, IP-in-IP depth), MPLS,
// PPPoE and the PPP / C-HDLC / 802.11 link types: frames cut from the nDPI corpus
// (tests/data/net/extract_ndpi.sh -> vectors.hpp), every truncation of them, trailing
// bytes, hand-built variants of each header (every flag, every malformed length), and
// the corpus files themselves (skipped, as documented, when the nDPI corpus is absent).
#include "parsers/net/packet.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "parsers/common/limits.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/ndpi_corpus.hpp"
#include "tests/parsers/net/vectors.hpp"


namespace wt::parsers {
namespace {

using namespace wt::test::net;

std::string text(const IpAddress &a) { return std::string(to_string(a).view()); }

struct Vector {
    const char *name;
    LinkType link;
    Bytes frame;
    std::uint8_t ip_version;
    const char *src;
    const char *dst;
    std::uint8_t l4_proto;
    std::uint16_t src_port;
    std::uint16_t dst_port;
    std::uint32_t ip_bytes; // outermost IP length
    bool tunneled;
    std::uint8_t vlan_depth;
    std::uint16_t outer_vlan;
    std::uint16_t inner_vlan;
};

const std::vector<Vector> &vectors() {
    static const std::vector<Vector> v = {
        {"gtp4_tcp", LinkType::kEthernet, kGtp4Tcp, 4, "10.140.206.74", "18.135.206.102", kIpProtoTcp, 34536, 80, 96,
         true, 2, 3394, 113},
        {"gtp6_udp", LinkType::kEthernet, kGtp6Udp, 6, "2607:fc20:4052:39e:490a:ea4d:17fe:e09c",
         "fd00:976a:bc67:193e::7", kIpProtoUdp, 49120, 25658, 128, true, 2, 3233, 5},
        {"gtp6_esp", LinkType::kEthernet, kGtp6Esp, 6, "2a01:4c8:c014:144e:1:2:945b:6761", "2a01:4c8:f000:f49::4", 50,
         0, 0, 144, true, 2, 3231, 2},
        {"capwap_tcp", LinkType::kEthernet, kCapwapTcp, 4, "10.1.3.68", "74.125.130.188", kIpProtoTcp, 47025, 443, 136,
         true, 2, 94, 3},
        {"capwap_dhcp", LinkType::kEthernet, kCapwapDhcp, 4, "0.0.0.0", "255.255.255.255", kIpProtoUdp, 68, 67, 404,
         true, 0, 0, 0},
        {"gre_pptp", LinkType::kEthernet, kGrePptp, 4, "192.168.10.210", "192.168.103.40", kIpProtoUdp, 5060, 5060, 366,
         true, 1, 142, 142},
        {"ppp_quic", LinkType::kPpp, kPppQuic, 4, "193.167.0.252", "193.167.100.100", kIpProtoUdp, 44083, 443, 1228,
         false, 0, 0, 0},
        {"ppp_chdlc", LinkType::kPpp, kPppChdlc, 4, "100.16.1.2", "100.16.1.1", kIpProtoTcp, 18324, 179, 44, false, 0,
         0, 0},
        {"chdlc_mpls", LinkType::kCHdlc, kChdlcMpls, 4, "2.2.2.2", "5.5.5.5", kIpProtoTcp, 179, 49433, 155, false, 0, 0,
         0},
        {"pppoe_udp", LinkType::kEthernet, kPppoeUdp, 4, "66.22.242.132", "5.36.141.228", kIpProtoUdp, 50001, 54935, 80,
         false, 2, 757, 1},
        {"gtp_c", LinkType::kEthernet, kGtpC, 4, "10.101.0.2", "10.102.0.2", kIpProtoUdp, 1024, 2123, 275, false, 0, 0,
         0},
        {"vxlan_udp", LinkType::kEthernet, kVxlanUdp, 4, "10.89.0.1", "10.89.0.2", kIpProtoUdp, 40001, 5353, 91, true,
         0, 0, 0},
        {"vxlan_arp", LinkType::kEthernet, kVxlanArp, 4, "10.88.0.1", "10.88.0.2", kIpProtoUdp, 34288, 4789, 78, false,
         0, 0, 0},
        {"vxlan_icmp6", LinkType::kEthernet, kVxlanIcmp6, 6, "::", "ff02::1:ff00:1", kIpProtoIcmpv6, 0, 0, 122, true, 0,
         0, 0},
    };
    return v;
}

void check_vector(const Vector &v, const DecodedPacket &p) {
    EXPECT_EQ(p.status, DecodeStatus::kOk) << to_string(p.status);
    EXPECT_EQ(p.ip_version, v.ip_version);
    EXPECT_EQ(text(p.src), v.src);
    EXPECT_EQ(text(p.dst), v.dst);
    EXPECT_EQ(p.l4_proto, v.l4_proto);
    EXPECT_EQ(p.src_port, v.src_port);
    EXPECT_EQ(p.dst_port, v.dst_port);
    EXPECT_EQ(p.ip_bytes, v.ip_bytes);
    EXPECT_EQ(p.tunneled, v.tunneled);
    EXPECT_EQ(p.vlan_depth, v.vlan_depth);
    EXPECT_EQ(p.outer_vlan, v.outer_vlan);
    EXPECT_EQ(p.inner_vlan, v.inner_vlan);
    EXPECT_FALSE(p.fragmented);
    EXPECT_FALSE(p.capture_truncated);
    if (!p.l4_payload.empty()) {
        EXPECT_GE(p.l4_payload.data(), v.frame.data());
        EXPECT_LE(p.l4_payload.data() + p.l4_payload.size(), v.frame.data() + v.frame.size());
    }
}

TEST(Tunnel, RealFramesAtExactLength) {
    for (const Vector &v : vectors()) {
        SCOPED_TRACE(v.name);
        DecodedPacket p;
        decode_packet(v.link, v.frame, p);
        check_vector(v, p);
    }
    // The outer MACs stay: the CAPWAP frame's Ethernet source, not the station's.
    DecodedPacket p;
    ASSERT_EQ(decode_packet(LinkType::kEthernet, kCapwapTcp, p), DecodeStatus::kOk);
    EXPECT_TRUE(p.has_mac);
    EXPECT_EQ(p.src_mac[0], 0xa4);
    EXPECT_EQ(p.ethertype, 0x0800);
    // The GTP-U TCP payload is the inner HTTP request.
    ASSERT_EQ(decode_packet(LinkType::kEthernet, kGtp4Tcp, p), DecodeStatus::kOk);
    EXPECT_EQ(p.tcp_flags & tcp_flags::kSyn, tcp_flags::kSyn);
}

// Every cut of a real frame fails (the outer IP length, or the PPP / C-HDLC inner IP
// length, no longer fits); with wire_len saying the capture cut it, every cut past the
// inner L4 header decodes to the same inner 5-tuple.
TEST(Tunnel, EveryTruncation) {
    for (const Vector &v : vectors()) {
        SCOPED_TRACE(v.name);
        DecodedPacket full;
        ASSERT_EQ(decode_packet(v.link, v.frame, full), DecodeStatus::kOk);
        const std::size_t payload_off = full.l4_payload.empty()
                                            ? v.frame.size()
                                            : static_cast<std::size_t>(full.l4_payload.data() - v.frame.data());
        for (std::size_t len = 0; len < v.frame.size(); ++len) {
            const std::vector<std::uint8_t> cut(v.frame.begin(), v.frame.begin() + static_cast<std::ptrdiff_t>(len));
            DecodedPacket p;
            const DecodeStatus s = decode_packet(v.link, cut, p);
            EXPECT_NE(s, DecodeStatus::kOk) << "len " << len;
            EXPECT_EQ(s, p.status);
            const DecodeStatus snap = decode_packet(v.link, cut, p, static_cast<std::uint32_t>(v.frame.size()));
            EXPECT_EQ(snap, p.status);
            if (len >= payload_off) {
                ASSERT_EQ(snap, DecodeStatus::kOk) << "len " << len << " " << to_string(snap);
                EXPECT_TRUE(p.capture_truncated);
                EXPECT_EQ(p.tunneled, v.tunneled);
                EXPECT_EQ(text(p.src), v.src);
                EXPECT_EQ(p.dst_port, v.dst_port);
                EXPECT_EQ(p.ip_bytes, v.ip_bytes);
                EXPECT_EQ(p.l4_payload.size(), len - payload_off);
            }
        }
    }
}

TEST(Tunnel, TrailingBytesAreIgnored) {
    for (const Vector &v : vectors()) {
        SCOPED_TRACE(v.name);
        DecodedPacket full;
        ASSERT_EQ(decode_packet(v.link, v.frame, full), DecodeStatus::kOk);
        std::vector<std::uint8_t> padded(v.frame.begin(), v.frame.end());
        padded.insert(padded.end(), 37, 0xee);
        DecodedPacket p;
        ASSERT_EQ(decode_packet(v.link, padded, p), DecodeStatus::kOk);
        EXPECT_EQ(p.l4_payload.size(), full.l4_payload.size());
        EXPECT_EQ(text(p.dst), v.dst);
        EXPECT_EQ(p.src_port, v.src_port);
    }
}

TEST(Tunnel, NoAllocations) {
    const std::size_t before = wt::testing::allocation_count();
    std::size_t ok = 0;
    for (const Vector &v : vectors()) {
        DecodedPacket p;
        ok += decode_packet(v.link, v.frame, p) == DecodeStatus::kOk;
    }
    EXPECT_EQ(wt::testing::allocation_count() - before, 0u);
    EXPECT_EQ(ok, vectors().size());
}

// A builder for hand-made frames; lengths are patched by finish_* so every header can
// be written in order.
class Frame {
public:
    Frame &u8(std::uint8_t v) {
        _b.push_back(v);
        return *this;
    }
    Frame &u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
    Frame &u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
    Frame &zeros(std::size_t n) {
        _b.insert(_b.end(), n, 0);
        return *this;
    }
    Frame &bytes(std::string_view s) {
        _b.insert(_b.end(), s.begin(), s.end());
        return *this;
    }
    Frame &append(const Frame &f) {
        _b.insert(_b.end(), f._b.begin(), f._b.end());
        return *this;
    }
    Frame &eth(std::uint16_t ethertype) { return u32(0x02000000).u16(1).u32(0x02000000).u16(2).u16(ethertype); }
    // IPv4 without options, total length = 20 + the bytes of `inner`.
    Frame &ipv4(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Frame &inner, std::uint16_t frag = 0) {
        u8(0x45).u8(0).u16(static_cast<std::uint16_t>(20 + inner.size())).u16(1).u16(frag).u8(64).u8(proto).u16(0);
        return u32(src).u32(dst).append(inner);
    }
    // IPv6, addresses fd00::<src> / fd00::<dst>.
    Frame &ipv6(std::uint8_t src, std::uint8_t dst, std::uint8_t nh, const Frame &inner) {
        u32(0x60000000).u16(static_cast<std::uint16_t>(inner.size())).u8(nh).u8(64);
        u16(0xfd00).zeros(13).u8(src).u16(0xfd00).zeros(13).u8(dst);
        return append(inner);
    }
    // UDP with length = 8 + the bytes of `inner`.
    Frame &udp(std::uint16_t sport, std::uint16_t dport, const Frame &inner) {
        return u16(sport).u16(dport).u16(static_cast<std::uint16_t>(8 + inner.size())).u16(0).append(inner);
    }
    [[nodiscard]] Bytes view() const { return _b; }
    [[nodiscard]] std::size_t size() const { return _b.size(); }

private:
    std::vector<std::uint8_t> _b;
};

constexpr std::uint32_t kOuterSrc = 0xc0000201; // 192.0.2.1
constexpr std::uint32_t kOuterDst = 0xc0000202;
constexpr std::uint32_t kInnerSrc = 0x0a010101; // 10.1.1.1
constexpr std::uint32_t kInnerDst = 0x0a020202;

// The inner packet every tunnel below carries: IPv4 UDP 10.1.1.1:1111 -> 10.2.2.2:53.
Frame inner4() {
    return Frame().ipv4(kInnerSrc, kInnerDst, kIpProtoUdp, Frame().udp(1111, 53, Frame().bytes("inner")));
}
Frame inner6() {
    return Frame().ipv6(1, 2, kIpProtoTcp, Frame().u16(2222).u16(443).u32(1).u32(2).u16(0x5012).u16(9).u32(0));
}
// Ethernet, outer IPv4 192.0.2.1 -> 192.0.2.2 over UDP to `dport`.
Frame over_udp(std::uint16_t sport, std::uint16_t dport, const Frame &payload) {
    return Frame().eth(0x0800).ipv4(kOuterSrc, kOuterDst, kIpProtoUdp, Frame().udp(sport, dport, payload));
}
Frame over_gre(const Frame &gre) { return Frame().eth(0x0800).ipv4(kOuterSrc, kOuterDst, 47, gre); }

DecodedPacket decode(LinkType link, const Frame &f, std::uint32_t wire_len = 0) {
    DecodedPacket p;
    decode_packet(link, f.view(), p, wire_len);
    return p;
}
DecodedPacket decode(const Frame &f) { return decode(LinkType::kEthernet, f); }

// The inner 10.1.1.1:1111 -> 10.2.2.2:53 packet, tunneled or not.
void expect_inner4(const DecodedPacket &p, bool tunneled = true) {
    EXPECT_EQ(p.status, DecodeStatus::kOk) << to_string(p.status);
    EXPECT_EQ(text(p.src), "10.1.1.1");
    EXPECT_EQ(text(p.dst), "10.2.2.2");
    EXPECT_EQ(p.src_port, 1111);
    EXPECT_EQ(p.dst_port, 53);
    EXPECT_EQ(std::string(as_string_view(p.l4_payload)), "inner");
    EXPECT_EQ(p.tunneled, tunneled);
}
// Not decapsulated: the outer UDP datagram.
void expect_outer_udp(const DecodedPacket &p, std::uint16_t dport) {
    EXPECT_EQ(p.status, DecodeStatus::kOk) << to_string(p.status);
    EXPECT_EQ(text(p.src), "192.0.2.1");
    EXPECT_EQ(p.dst_port, dport);
    EXPECT_EQ(p.l4_proto, kIpProtoUdp);
    EXPECT_FALSE(p.tunneled);
}

// Every cut of a hand-built frame fails without a snaplen, and never reads outside.
void expect_every_cut_fails(LinkType link, const Frame &f) {
    const Bytes b = f.view();
    for (std::size_t len = 0; len < b.size(); ++len) {
        DecodedPacket p;
        EXPECT_NE(decode_packet(link, b.first(len), p), DecodeStatus::kOk) << "len " << len;
        decode_packet(link, b.first(len), p, static_cast<std::uint32_t>(b.size())); // snaplen: no crash
    }
}

// GTP-U header: flags, type, length (everything after the first 8 bytes), TEID.
Frame gtp(std::uint8_t flags, std::uint8_t type, const Frame &rest) {
    return Frame().u8(flags).u8(type).u16(static_cast<std::uint16_t>(rest.size())).u32(0x1234).append(rest);
}

TEST(Tunnel, GtpU) {
    // Minimal header (flags 0x30: version 1, PT 1), IPv4 and IPv6 inside; src port 2152 works too.
    const Frame plain = over_udp(2152, 2152, gtp(0x30, 0xff, inner4()));
    DecodedPacket p = decode(plain);
    expect_inner4(p);
    EXPECT_EQ(p.ip_bytes, 20u + 8 + 8 + inner4().size());
    expect_every_cut_fails(LinkType::kEthernet, plain);
    expect_inner4(decode(over_udp(2152, 40000, gtp(0x30, 0xff, inner4()))));
    p = decode(over_udp(40000, 2152, gtp(0x30, 0xff, inner6())));
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_EQ(text(p.src), "fd00::1");
    EXPECT_EQ(p.dst_port, 443);
    EXPECT_TRUE(p.tunneled);

    // S (sequence number) and PN: the 4 optional bytes, next extension type ignored without E.
    expect_inner4(decode(over_udp(2152, 2152, gtp(0x32, 0xff, Frame().u16(7).u8(0).u8(0x85).append(inner4())))));
    expect_inner4(decode(over_udp(2152, 2152, gtp(0x31, 0xff, Frame().u32(0).append(inner4())))));
    // E with a PDU Session Container (type 0x85, length 1 = 4 bytes) then a second one (length 2).
    const Frame ext =
        Frame().u16(0).u8(0).u8(0x85).u8(1).u8(0x10).u8(0x09).u8(0x85).u8(2).zeros(6).u8(0).append(inner4());
    const Frame with_ext = over_udp(2152, 2152, gtp(0x34, 0xff, ext));
    expect_inner4(decode(with_ext));
    expect_every_cut_fails(LinkType::kEthernet, with_ext);

    // Malformed once recognised: kTunnelMalformed.
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x32, 0xff, Frame().u16(1)))).status, DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x34, 0xff, Frame().u16(0).u8(0).u8(0x85).u8(0).zeros(3)))).status,
              DecodeStatus::kTunnelMalformed); // extension length 0
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x34, 0xff, Frame().u16(0).u8(0).u8(0x85).u8(3).zeros(7)))).status,
              DecodeStatus::kTunnelMalformed); // extension overruns the G-PDU
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x34, 0xff, Frame().u16(0).u8(0).u8(0x85)))).status,
              DecodeStatus::kTunnelMalformed); // announced extension missing
    Frame chain = Frame().u16(0).u8(0).u8(0x85);
    for (std::size_t i = 0; i <= limits::kMaxGtpExtensionHeaders; ++i) {
        chain.u8(1).u8(0).u8(0).u8(0x85);
    }
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x34, 0xff, chain.u8(1).zeros(2).u8(0).append(inner4())))).status,
              DecodeStatus::kTunnelMalformed); // chain longer than the bound
    // Inner errors keep their own status, with tunneled set.
    p = decode(over_udp(2152, 2152, gtp(0x30, 0xff, Frame().u8(0x44).zeros(27))));
    EXPECT_EQ(p.status, DecodeStatus::kIpv4BadHeaderLength);
    EXPECT_TRUE(p.tunneled);
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x30, 0xff, Frame().u8(0x45).zeros(10)))).status,
              DecodeStatus::kIpv4TooShort);

    // Not GTP-U: plain UDP on 2152.
    expect_outer_udp(decode(over_udp(2152, 2152, Frame().u8(0x48).u8(0xff).u16(0).zeros(8))), 2152); // version 2
    expect_outer_udp(decode(over_udp(2152, 2152, gtp(0x20, 0xff, inner4()))), 2152);                 // PT 0: GTP'
    expect_outer_udp(decode(over_udp(2152, 2152, gtp(0x32, 0x01, Frame().zeros(4)))), 2152);         // echo request
    expect_outer_udp(decode(over_udp(2152, 2152, gtp(0x30, 0xfe, Frame()))), 2152);                  // end marker
    expect_outer_udp(decode(over_udp(2152, 2152, Frame().u8(0x30).u8(0xff).u16(500).u32(1).append(inner4()))),
                     2152); // length disagrees with the datagram
    expect_outer_udp(decode(over_udp(2152, 2152, Frame().u8(0x30).u8(0xff))), 2152); // shorter than 8
    expect_outer_udp(decode(over_udp(2152, 2152, gtp(0x30, 0xff, Frame().bytes("\x01\x02 not ip")))), 2152);
    expect_outer_udp(decode(over_udp(2152, 2152, gtp(0x30, 0xff, Frame()))), 2152);  // empty T-PDU
    expect_outer_udp(decode(over_udp(2123, 2123, gtp(0x30, 0xff, inner4()))), 2123); // GTP-C port
    // A fragmented outer datagram is not decapsulated.
    const Frame frag = Frame().eth(0x0800).ipv4(kOuterSrc, kOuterDst, kIpProtoUdp,
                                                Frame().udp(2152, 2152, gtp(0x30, 0xff, inner4())), 0x2000);
    p = decode(frag);
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_FALSE(p.tunneled);
    EXPECT_TRUE(p.fragmented);
    // A snaplen cut inside the extension chain: the outer datagram, marked truncated.
    const Bytes ext_cut = with_ext.view().first(14 + 20 + 8 + 8 + 4 + 2);
    decode_packet(LinkType::kEthernet, ext_cut, p, static_cast<std::uint32_t>(with_ext.size()));
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_FALSE(p.tunneled);
    EXPECT_TRUE(p.capture_truncated);
    // A snaplen cut inside the inner packet: decoded as far as it goes.
    const Frame cut_frame = over_udp(2152, 2152, gtp(0x30, 0xff, inner4()));
    decode_packet(LinkType::kEthernet, cut_frame.view().first(cut_frame.size() - 3), p,
                  static_cast<std::uint32_t>(cut_frame.size()));
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_TRUE(p.tunneled);
    EXPECT_TRUE(p.capture_truncated);
    EXPECT_EQ(p.dst_port, 53);
    EXPECT_EQ(std::string(as_string_view(p.l4_payload)), "in");
}

TEST(Tunnel, Vxlan) {
    // RFC 7348 section 5: flags 0x08 (I), VNI 42; inner Ethernet with an 802.1Q tag.
    const Frame inner_eth = Frame().eth(0x8100).u16(0x0063).u16(0x0800).append(inner4());
    const Frame vx = over_udp(55555, 4789, Frame().u32(0x08000000).u32(42 << 8).append(inner_eth));
    const DecodedPacket p = decode(vx);
    expect_inner4(p);
    EXPECT_EQ(p.vlan_depth, 0); // the VLAN fields describe the captured link only
    EXPECT_EQ(p.inner_vlan, 0);
    EXPECT_EQ(p.ethertype, 0x0800);
    EXPECT_EQ(p.dst_mac[5], 1); // outer MACs
    EXPECT_EQ(p.src_mac[5], 2);
    expect_every_cut_fails(LinkType::kEthernet, vx);
    // Inner IPv6.
    EXPECT_EQ(
        text(
            decode(over_udp(1, 4789, Frame().u32(0x08000000).u32(0).append(Frame().eth(0x86dd).append(inner6())))).src),
        "fd00::1");
    // No I flag, or only on the source port: plain UDP. Inner ARP: the outer datagram.
    expect_outer_udp(decode(over_udp(1, 4789, Frame().u32(0).u32(0).append(Frame().eth(0x0800).append(inner4())))),
                     4789);
    expect_outer_udp(
        decode(over_udp(4789, 1, Frame().u32(0x08000000).u32(0).append(Frame().eth(0x0800).append(inner4())))), 1);
    expect_outer_udp(decode(over_udp(1, 4789, Frame().u32(0x08000000).u32(0).append(Frame().eth(0x0806).zeros(28)))),
                     4789);
    expect_outer_udp(decode(over_udp(1, 4789, Frame().u32(0x08000000))), 4789); // shorter than the header
    // Inner Ethernet header cut short / inner VLAN tag cut short.
    EXPECT_EQ(decode(over_udp(1, 4789, Frame().u32(0x08000000).u32(0).zeros(13))).status,
              DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_udp(1, 4789, Frame().u32(0x08000000).u32(0).eth(0x8100).u16(1))).status,
              DecodeStatus::kTunnelMalformed);
}

// GRE (RFC 2784 / 2890) header: flags/version, protocol, then the optional words.
Frame gre(std::uint16_t flags, std::uint16_t proto, std::size_t option_words, const Frame &inner) {
    Frame f;
    f.u16(flags).u16(proto);
    for (std::size_t i = 0; i < option_words; ++i) {
        f.u32(0x11223344);
    }
    return f.append(inner);
}

TEST(Tunnel, Gre) {
    const Frame g = over_gre(gre(0, 0x0800, 0, inner4()));
    expect_inner4(decode(g));
    expect_every_cut_fails(LinkType::kEthernet, g);
    // Checksum + key + sequence (RFC 2890): three option words.
    const Frame opts = over_gre(gre(0xb000, 0x0800, 3, inner4()));
    expect_inner4(decode(opts));
    expect_every_cut_fails(LinkType::kEthernet, opts);
    expect_inner4(decode(over_gre(gre(0x2000, 0x0800, 1, inner4())))); // key only
    EXPECT_EQ(text(decode(over_gre(gre(0x1000, 0x86dd, 1, inner6()))).src), "fd00::1");
    // Transparent Ethernet bridging and MPLS inside GRE.
    expect_inner4(decode(over_gre(gre(0, 0x6558, 0, Frame().eth(0x0800).append(inner4())))));
    expect_inner4(decode(over_gre(gre(0, 0x8847, 0, Frame().u32(0x00010140).append(inner4())))));
    // GRE over IPv6.
    DecodedPacket p = decode(Frame().eth(0x86dd).ipv6(7, 8, 47, gre(0, 0x0800, 0, inner4())));
    expect_inner4(p);
    EXPECT_EQ(p.ip_bytes, 40u + 4 + inner4().size());

    // Not followed: plain GRE with ports 0.
    for (const Frame &f : {over_gre(gre(0, 0x88be, 0, inner4())),         // ERSPAN
                           over_gre(gre(0x4000, 0x0800, 0, inner4())),    // RFC 1701 routing
                           over_gre(gre(0x0002, 0x0800, 0, inner4())),    // version 2
                           over_gre(gre(0x0001, 0x0800, 0, inner4()))}) { // version 1 but not PPP
        p = decode(f);
        EXPECT_EQ(p.status, DecodeStatus::kOk);
        EXPECT_FALSE(p.tunneled);
        EXPECT_EQ(p.l4_proto, 47);
        EXPECT_EQ(p.src_port, 0);
        EXPECT_EQ(text(p.src), "192.0.2.1");
    }
    // Inner IPv4 garbage keeps its status; an inner Ethernet ARP is the outer packet.
    EXPECT_EQ(decode(over_gre(gre(0, 0x0800, 0, Frame().bytes("\x01\x02")))).status, DecodeStatus::kIpv4TooShort);
    p = decode(over_gre(gre(0, 0x6558, 0, Frame().eth(0x0806).zeros(28))));
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_FALSE(p.tunneled);
    EXPECT_EQ(p.l4_proto, 47);
    // Malformed: shorter than 4 bytes, options beyond the payload, inner Ethernet / MPLS cut.
    EXPECT_EQ(decode(over_gre(Frame().u16(0))).status, DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_gre(gre(0xb000, 0x0800, 2, Frame()))).status, DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_gre(gre(0, 0x6558, 0, Frame().zeros(10)))).status, DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_gre(gre(0, 0x8847, 0, Frame().u16(1)))).status, DecodeStatus::kTunnelMalformed);
    // Fragmented GRE is not followed.
    p = decode(Frame().eth(0x0800).ipv4(kOuterSrc, kOuterDst, 47, gre(0, 0x0800, 0, inner4()), 0x2000));
    EXPECT_EQ(p.status, DecodeStatus::kOk);
    EXPECT_FALSE(p.tunneled);
}

TEST(Tunnel, GrePptp) {
    // RFC 2637 section 4.1: 0x3081 = K, S, A, version 1; payload length, call id, seq, ack.
    const Frame ppp = Frame().u16(0xff03).u16(0x0021).append(inner4());
    const Frame v1 = over_gre(
        Frame().u16(0x3081).u16(0x880b).u16(static_cast<std::uint16_t>(ppp.size())).u16(7).u32(1).u32(2).append(ppp));
    expect_inner4(decode(v1));
    expect_every_cut_fails(LinkType::kEthernet, v1);
    // No S / A, PPP without address/control.
    const Frame bare = Frame().u16(0x0021).append(inner4());
    expect_inner4(decode(
        over_gre(Frame().u16(0x2001).u16(0x880b).u16(static_cast<std::uint16_t>(bare.size())).u16(7).append(bare))));
    // Ack-only (no payload), K missing, LCP: the outer GRE packet.
    for (const Frame &f : {over_gre(Frame().u16(0x2081).u16(0x880b).u16(0).u16(7).u32(1)),
                           over_gre(Frame().u16(0x1001).u16(0x880b).u16(4).u16(7).u32(1).u32(0xc0210101)),
                           over_gre(Frame().u16(0x2001).u16(0x880b).u16(4).u16(7).u32(0xc0210101))}) {
        const DecodedPacket p = decode(f);
        EXPECT_EQ(p.status, DecodeStatus::kOk);
        EXPECT_FALSE(p.tunneled);
        EXPECT_EQ(p.l4_proto, 47);
    }
    EXPECT_EQ(decode(over_gre(Frame().u16(0x3081).u16(0x880b).u16(4).u16(7).u32(1))).status,
              DecodeStatus::kTunnelMalformed); // the ack number is missing
}

// CAPWAP header (RFC 5415 section 4.3): preamble 0, HLEN / RID / WBID / flags, fragment words.
Frame capwap(std::uint8_t hlen_words, std::uint8_t wbid, std::uint16_t flags, const Frame &rest) {
    const std::uint32_t w0 = (std::uint32_t{hlen_words} << 19) | (std::uint32_t{wbid} << 9) | flags;
    Frame f;
    f.u32(w0).u32(0);
    for (std::size_t i = 2; i < hlen_words; ++i) {
        f.u32(0xbf230000);
    }
    return f.append(rest);
}
// An 802.11 data frame: frame control, duration, addresses 1-3 (0x0a.., 0x0b.., 0x0c..),
// sequence control, [address 4 (0x0d..)], [QoS], LLC/SNAP, ethertype.
Frame wlan(std::uint8_t fc0, std::uint8_t fc1, std::uint16_t ethertype, const Frame &body, bool swapped = false) {
    Frame f;
    swapped ? f.u8(fc1).u8(fc0) : f.u8(fc0).u8(fc1);
    f.u16(0);
    for (std::uint8_t a : {0x0a, 0x0b, 0x0c}) {
        f.u8(a).zeros(4).u8(a);
    }
    f.u16(0);
    if ((fc1 & 0x03) == 0x03) {
        f.u8(0x0d).zeros(4).u8(0x0d);
    }
    if ((fc0 & 0x80) != 0) {
        f.u16(0); // QoS control
        if ((fc1 & 0x80) != 0) {
            f.u32(0); // HT control
        }
    }
    return f.u16(0xaaaa).u8(3).zeros(3).u16(ethertype).append(body);
}

TEST(Tunnel, Capwap) {
    // T=1 (0x100), WBID 1, W (0x20): 802.11 data frame, ToDS.
    const Frame c = over_udp(12000, 5247, capwap(3, 1, 0x120, wlan(0x08, 0x01, 0x0800, inner4())));
    expect_inner4(decode(c));
    expect_every_cut_fails(LinkType::kEthernet, c);
    // Swapped frame control (Cisco), QoS data + HTC, WDS (4 addresses), IPv6; from the AC (source port 5247).
    expect_inner4(decode(over_udp(5247, 12000, capwap(2, 1, 0x100, wlan(0x08, 0x02, 0x0800, inner4(), true)))));
    expect_inner4(decode(over_udp(12000, 5247, capwap(2, 1, 0x100, wlan(0x88, 0x81, 0x0800, inner4())))));
    expect_inner4(decode(over_udp(12000, 5247, capwap(2, 1, 0x100, wlan(0x08, 0x03, 0x0800, inner4())))));
    EXPECT_EQ(text(decode(over_udp(1, 5247, capwap(2, 1, 0x100, wlan(0x08, 0x01, 0x86dd, inner6())))).dst), "fd00::2");
    // T=0: an 802.3 frame.
    const Frame c8023 = over_udp(12000, 5247, capwap(2, 1, 0, Frame().eth(0x0800).append(inner4())));
    expect_inner4(decode(c8023));
    expect_every_cut_fails(LinkType::kEthernet, c8023);

    // Plain UDP: DTLS preamble, HLEN < 2 or past the payload, fragment, keep-alive, WBID 3.
    expect_outer_udp(decode(over_udp(1, 5247, Frame().u8(1).zeros(20))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(1, 1, 0x100, wlan(0x08, 1, 0x0800, inner4())))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, Frame().u32((31u << 19) | 0x100).u32(0))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x180, wlan(0x08, 1, 0x0800, inner4())))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x108, Frame().zeros(8)))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 3, 0x100, wlan(0x08, 1, 0x0800, inner4())))), 5247);
    // Recognised, but no IP inside: management, null data, protected, A-MSDU, non-SNAP LLC, ARP.
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x100, wlan(0x80, 0, 0x0800, inner4())))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x100, wlan(0x48, 1, 0x0800, inner4())))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x100, wlan(0x08, 0x41, 0x0800, inner4())))), 5247);
    Frame amsdu = Frame().u16(0x8801).u16(0).zeros(18).u16(0).u8(0x80).u8(0).u16(0xaaaa).u8(3).zeros(3).u16(0x0800);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x100, amsdu.append(inner4())))), 5247);
    expect_outer_udp(
        decode(over_udp(1, 5247, capwap(2, 1, 0x100, Frame().u16(0x0801).zeros(22).u32(0x42420300).zeros(4)))), 5247);
    expect_outer_udp(decode(over_udp(1, 5247, capwap(2, 1, 0x100, wlan(0x08, 1, 0x0806, Frame().zeros(28))))), 5247);
    // Malformed: the 802.11 header or the inner Ethernet header cut short.
    EXPECT_EQ(decode(over_udp(1, 5247, capwap(2, 1, 0x100, Frame().u16(0x0801).zeros(20)))).status,
              DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_udp(1, 5247, capwap(2, 1, 0x100, Frame().u16(0x8801).zeros(26)))).status,
              DecodeStatus::kTunnelMalformed);
    EXPECT_EQ(decode(over_udp(1, 5247, capwap(2, 1, 0, Frame().zeros(10)))).status, DecodeStatus::kTunnelMalformed);
}

TEST(Tunnel, DepthBound) {
    // GTP-U carrying IPv4-in-IPv4: two levels, followed.
    const Frame two = over_udp(2152, 2152, gtp(0x30, 0xff, Frame().ipv4(1, 2, kIpProtoIpv4, inner4())));
    expect_inner4(decode(two));
    // A third level (GTP in IP-in-IP in GTP) is refused.
    const Frame inner_gtp = Frame().ipv4(3, 4, kIpProtoUdp, Frame().udp(2152, 2152, gtp(0x30, 0xff, inner4())));
    EXPECT_EQ(decode(over_udp(2152, 2152, gtp(0x30, 0xff, Frame().ipv4(1, 2, kIpProtoIpv4, inner_gtp)))).status,
              DecodeStatus::kTunnelTooDeep);
    // GTP in GTP (two levels) is fine; VXLAN in GRE too.
    expect_inner4(decode(over_udp(2152, 2152, gtp(0x30, 0xff, inner_gtp))));
    const Frame vx = Frame().udp(1, 4789, Frame().u32(0x08000000).u32(0).append(Frame().eth(0x0800).append(inner4())));
    expect_inner4(decode(over_gre(gre(0, 0x0800, 0, Frame().ipv4(5, 6, kIpProtoUdp, vx)))));
}

TEST(LinkEncap, Mpls) {
    // Two labels (bottom-of-stack on the second), IPv4; 0x8848 multicast, IPv6.
    const Frame m = Frame().eth(0x8847).u32(0x00010040).u32(0x00020140).append(inner4());
    DecodedPacket p = decode(m);
    expect_inner4(p, false);
    EXPECT_EQ(p.ethertype, 0x8847);
    expect_every_cut_fails(LinkType::kEthernet, m);
    EXPECT_EQ(text(decode(Frame().eth(0x8848).u32(0x00010140).append(inner6())).src), "fd00::1");
    // VLAN then MPLS.
    p = decode(Frame().eth(0x8100).u16(7).u16(0x8847).u32(0x00010140).append(inner4()));
    expect_inner4(p, false);
    EXPECT_EQ(p.outer_vlan, 7);
    // The bound: kMaxMplsLabels entries with the last at the bottom decode, one more does not.
    Frame deep = Frame().eth(0x8847);
    for (std::size_t i = 1; i < limits::kMaxMplsLabels; ++i) {
        deep.u32(0x00010040);
    }
    Frame ok = deep;
    expect_inner4(decode(ok.u32(0x00010140).append(inner4())), false);
    EXPECT_EQ(decode(deep.u32(0x00010040).u32(0x00010140).append(inner4())).status, DecodeStatus::kMplsTooDeep);
    // Pseudowire control word (first nibble 0): not followed. Cut label / nothing after the bottom.
    EXPECT_EQ(decode(Frame().eth(0x8847).u32(0x00010140).u32(0).append(Frame().eth(0x0800))).status,
              DecodeStatus::kNotIp);
    EXPECT_EQ(decode(Frame().eth(0x8847).u16(1)).status, DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(Frame().eth(0x8847).u32(0x00010140)).status, DecodeStatus::kTruncatedLink);
    // Inner IP errors keep their status.
    EXPECT_EQ(decode(Frame().eth(0x8847).u32(0x00010140).u8(0x45).zeros(3)).status, DecodeStatus::kIpv4TooShort);
}

TEST(LinkEncap, Pppoe) {
    const Frame ppp4 = Frame().u16(0x0021).append(inner4());
    const Frame s4 =
        Frame().eth(0x8864).u8(0x11).u8(0).u16(0x1234).u16(static_cast<std::uint16_t>(ppp4.size())).append(ppp4);
    expect_inner4(decode(s4), false);
    expect_every_cut_fails(LinkType::kEthernet, s4);
    const Frame ppp6 = Frame().u16(0x0057).append(inner6());
    EXPECT_EQ(
        text(decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1).u16(static_cast<std::uint16_t>(ppp6.size())).append(ppp6))
                 .src),
        "fd00::1");
    // Protocol-Field-Compression: a 1-byte protocol 0x21.
    const Frame pfc = Frame().u8(0x21).append(inner4());
    expect_inner4(
        decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1).u16(static_cast<std::uint16_t>(pfc.size())).append(pfc)),
        false);
    // LCP, discovery (0x8863), wrong version/type or code: not IP. Header / protocol cut short.
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1).u16(6).u16(0xc021).u32(0x01010004)).status,
              DecodeStatus::kNotIp);
    EXPECT_EQ(decode(Frame().eth(0x8863).u8(0x11).u8(0x09).u16(0).u16(0)).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x12).u8(0).u16(1).u16(2).u16(0x0021)).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x11).u8(0x65).u16(1).u16(2).u16(0x0021)).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1)).status, DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1).u16(0)).status, DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(Frame().eth(0x8864).u8(0x11).u8(0).u16(1).u16(1).u8(0)).status, DecodeStatus::kTruncatedLink);
}

TEST(LinkTypes, PppAndHdlc) {
    const Frame framed = Frame().u16(0xff03).u16(0x0021).append(inner4());
    const Frame bare = Frame().u16(0x0021).append(inner4());
    for (const LinkType link : {LinkType::kPpp, LinkType::kPppHdlc}) {
        SCOPED_TRACE(static_cast<int>(link));
        DecodedPacket p = decode(link, framed);
        expect_inner4(p, false);
        EXPECT_FALSE(p.has_mac);
        expect_inner4(decode(link, bare), false);
        expect_every_cut_fails(link, framed);
        EXPECT_EQ(text(decode(link, Frame().u16(0xff03).u16(0x0057).append(inner6())).src), "fd00::1");
        expect_inner4(decode(link, Frame().u16(0x0281).u32(0x00010140).append(inner4())), false); // MPLS over PPP
        expect_inner4(decode(link, Frame().u16(0x8f00).u16(0x0800).append(inner4())), false);     // Cisco HDLC framing
        EXPECT_EQ(decode(link, Frame().u16(0xff03).u16(0xc021).u32(0x01010004)).status, DecodeStatus::kNotIp);
        EXPECT_EQ(decode(link, Frame()).status, DecodeStatus::kTruncatedLink);
        EXPECT_EQ(decode(link, Frame().u16(0xff03)).status, DecodeStatus::kTruncatedLink);
        EXPECT_EQ(decode(link, Frame().u16(0xff03).u8(0)).status, DecodeStatus::kTruncatedLink);
    }
    // C-HDLC: address, control, ethertype.
    const Frame ch = Frame().u16(0x0f00).u16(0x0800).append(inner4());
    DecodedPacket p = decode(LinkType::kCHdlc, ch);
    expect_inner4(p, false);
    EXPECT_EQ(p.ethertype, 0x0800);
    expect_every_cut_fails(LinkType::kCHdlc, ch);
    EXPECT_EQ(text(decode(LinkType::kCHdlc, Frame().u16(0x8f00).u16(0x86dd).append(inner6())).src), "fd00::1");
    EXPECT_EQ(decode(LinkType::kCHdlc, Frame().u16(0x8f00).u16(0x8035).zeros(18)).status,
              DecodeStatus::kNotIp); // SLARP
    EXPECT_EQ(decode(LinkType::kCHdlc, Frame().u16(0x0f00).u8(8)).status, DecodeStatus::kTruncatedLink);
}

TEST(LinkTypes, Ieee80211) {
    // ToDS: SA = address 2, DA = address 3.
    const Frame to_ds = wlan(0x08, 0x01, 0x0800, inner4());
    DecodedPacket p = decode(LinkType::kIeee80211, to_ds);
    expect_inner4(p, false);
    EXPECT_TRUE(p.has_mac);
    EXPECT_EQ(p.src_mac[0], 0x0b);
    EXPECT_EQ(p.dst_mac[0], 0x0c);
    EXPECT_EQ(p.ethertype, 0x0800);
    expect_every_cut_fails(LinkType::kIeee80211, to_ds);
    // FromDS: SA = address 3, DA = address 1; WDS: SA = address 4; neither: SA = 2, DA = 1.
    p = decode(LinkType::kIeee80211, wlan(0x88, 0x02, 0x0800, inner4()));
    expect_inner4(p, false);
    EXPECT_EQ(p.src_mac[0], 0x0c);
    EXPECT_EQ(p.dst_mac[0], 0x0a);
    p = decode(LinkType::kIeee80211, wlan(0x88, 0x83, 0x0800, inner4()));
    expect_inner4(p, false);
    EXPECT_EQ(p.src_mac[0], 0x0d);
    EXPECT_EQ(p.dst_mac[0], 0x0c);
    p = decode(LinkType::kIeee80211, wlan(0x08, 0x00, 0x0800, inner4()));
    EXPECT_EQ(p.src_mac[0], 0x0b);
    EXPECT_EQ(p.dst_mac[0], 0x0a);
    // 802.1H bridge-tunnel OUI 00-00-F8 is SNAP too.
    Frame btep = Frame().u16(0x0801).u16(0).zeros(18).u16(0).u16(0xaaaa).u8(3).u16(0).u8(0xf8).u16(0x0800);
    expect_inner4(decode(LinkType::kIeee80211, btep.append(inner4())), false);
    // Swapped frame control is a CAPWAP quirk only: here it is not a data frame.
    EXPECT_EQ(decode(LinkType::kIeee80211, wlan(0x08, 0x01, 0x0800, inner4(), true)).status, DecodeStatus::kNotIp);
    // Beacon, protected data, null data, version 1: not IP. Short header: truncated.
    EXPECT_EQ(decode(LinkType::kIeee80211, wlan(0x80, 0, 0x0800, inner4())).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(LinkType::kIeee80211, wlan(0x08, 0x41, 0x0800, inner4())).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(LinkType::kIeee80211, wlan(0xc8, 0x01, 0x0800, inner4())).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(LinkType::kIeee80211, wlan(0x09, 0x01, 0x0800, inner4())).status, DecodeStatus::kNotIp);
    EXPECT_EQ(decode(LinkType::kIeee80211, Frame().u16(0x0801).zeros(21)).status, DecodeStatus::kTruncatedLink);
    EXPECT_EQ(decode(LinkType::kIeee80211, Frame().u16(0x0801).zeros(28)).status, DecodeStatus::kTruncatedLink);
}

// Issue #15: 802.11 captured in monitor mode comes behind a radiotap or a PPI header.
TEST(LinkTypes, RadiotapAndPpi) {
    const Frame data = wlan(0x08, 0x01, 0x0800, inner4());
    // Radiotap: version 0, pad, length 12 (little-endian), present = flags (bit 1), flags 0x10 (FCS at end),
    // 3 bytes of padding; the frame then ends with a 4-byte FCS.
    Frame rt = Frame().u8(0).u8(0).u8(12).u8(0).u8(0x02).u8(0).u8(0).u8(0).u8(0x10).zeros(3).append(data).u32(0xdeadbeef);
    DecodedPacket p = decode(LinkType::kIeee80211Radiotap, rt);
    expect_inner4(p, false);
    EXPECT_EQ(p.src_mac[0], 0x0b);
    expect_every_cut_fails(LinkType::kIeee80211Radiotap, Frame().u8(0).u8(0).u8(8).u8(0).u32(0).append(data));
    EXPECT_EQ(decode(LinkType::kIeee80211Radiotap, Frame().u8(1).u8(0).u8(8).u8(0).u32(0).append(data)).status,
              DecodeStatus::kUnsupportedLinkType);
    EXPECT_EQ(decode(LinkType::kIeee80211Radiotap, Frame().u8(0).u8(0).u8(4).u8(0).u32(0).append(data)).status,
              DecodeStatus::kTruncatedLink) << "a length below the fixed header";
    EXPECT_EQ(decode(LinkType::kIeee80211Radiotap, Frame().u8(0).u8(0).u8(0xff).u8(0x7f).u32(0).append(data)).status,
              DecodeStatus::kTruncatedLink) << "a length past the frame";
    // PPI: version 0, flags 0, length 8, DLT 105 (LE).
    Frame ppi = Frame().u8(0).u8(0).u8(8).u8(0).u8(105).u8(0).u8(0).u8(0).append(data);
    expect_inner4(decode(LinkType::kPpi, ppi), false);
    expect_every_cut_fails(LinkType::kPpi, ppi);
    EXPECT_EQ(decode(LinkType::kPpi, Frame().u8(0).u8(0).u8(8).u8(0).u8(1).u8(0).u8(0).u8(0).append(data)).status,
              DecodeStatus::kUnsupportedLinkType) << "PPI around Ethernet is not decoded";
}

TEST(Tunnel, StatusNames) {
    EXPECT_EQ(to_string(DecodeStatus::kTunnelMalformed), "tunnel_malformed");
    EXPECT_EQ(to_string(DecodeStatus::kMplsTooDeep), "mpls_too_deep");
    EXPECT_EQ(to_string(DecodeStatus::kTunnelTooDeep), "tunnel_too_deep");
}

std::vector<std::uint8_t> read_file(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The nDPI corpus files that use these encapsulations: no frame may fail to decode
// (kNotIp is fine: ARP, SLARP, LCP, ...), and a few frames' inner 5-tuples are those
// tshark shows (tests/parsers/net/compare_tshark.py checks every frame).
TEST(Tunnel, NdpiCorpus) {
    WT_SKIP_WITHOUT_NDPI_CORPUS();
    const std::filesystem::path dir = wt::testing::ndpi_pcap_dir();
    struct Expect {
        std::size_t frame; // 1-based, as tshark numbers them
        const char *src;
        const char *dst;
        std::uint16_t sport;
        std::uint16_t dport;
        bool tunneled;
    };
    const std::map<std::string, std::vector<Expect>> files = {
        {"false_positives.pcapng", {{22, "10.102.45.249", "10.133.48.100", 31046, 21176, true}}},
        {"http_origin_different_than_host.pcap", {{1, "10.140.206.74", "18.135.206.102", 34536, 80, true}}},
        {"gtp_false_positive.pcapng", {}},
        {"ipv6_in_gtp.pcap",
         {{1, "2607:fc20:4052:39e:490a:ea4d:17fe:e09c", "fd00:976a:bc67:193e::7", 49120, 25658, true}}},
        {"gtp_c.pcap", {{1, "10.101.0.2", "10.102.0.2", 1024, 2123, false}}},
        {"reasm_segv_anon.pcapng", {}},
        {"rtmp.pcap", {}},
        {"zoom.pcap", {{701, "10.140.117.35", "193.122.35.237", 45634, 8801, true}}},
        {"capwap_data.pcapng",
         {{1, "10.1.3.68", "74.125.130.188", 47025, 443, true}, {4, "74.125.130.188", "10.1.3.68", 443, 47025, true}}},
        {"capwap.pcap", {{280, "0.0.0.0", "255.255.255.255", 68, 67, true}}},
        {"gre.pcapng", {{1, "192.168.10.210", "192.168.103.40", 5060, 5060, true}}},
        {"4in6tunnel.pcap", {}},
        {"6in6tunnel.pcap", {}},
        {"dlt_ppp.pcap", {{1, "193.167.0.252", "193.167.100.100", 44083, 443, false}}},
        {"BGP_Cisco_hdlc_slarp.pcap", {{1, "100.16.1.2", "100.16.1.1", 18324, 179, false}}},
        {"BGP_redist.pcap", {{2, "2.2.2.2", "5.5.5.5", 179, 49433, false}}},
        {"discord_mid_flow.pcap", {{1, "66.22.242.132", "5.36.141.228", 50001, 54935, false}}},
        {"custom_categories.pcapng", {}},
    };
    std::size_t tunneled = 0;
    for (const auto &[name, expects] : files) {
        SCOPED_TRACE(name);
        const auto bytes = read_file(dir / name);
        ASSERT_FALSE(bytes.empty()) << "missing or empty: " << (dir / name).string();
        CaptureReader r = CaptureReader::open(bytes);
        CaptureRecord rec;
        std::size_t n = 0;
        std::size_t checked = 0;
        while (r.next(rec) == CaptureStatus::kOk && n < 1'000'000) {
            ++n;
            DecodedPacket p;
            const DecodeStatus s = decode_packet(rec.link, rec.data, p, rec.orig_len);
            EXPECT_TRUE(s == DecodeStatus::kOk || s == DecodeStatus::kNotIp) << "frame " << n << ": " << to_string(s);
            tunneled += p.tunneled;
            for (const Expect &e : expects) {
                if (e.frame != n) {
                    continue;
                }
                ++checked;
                EXPECT_EQ(text(p.src), e.src) << "frame " << n;
                EXPECT_EQ(text(p.dst), e.dst) << "frame " << n;
                EXPECT_EQ(p.src_port, e.sport) << "frame " << n;
                EXPECT_EQ(p.dst_port, e.dport) << "frame " << n;
                EXPECT_EQ(p.tunneled, e.tunneled) << "frame " << n;
            }
        }
        EXPECT_EQ(checked, expects.size());
    }
    EXPECT_GT(tunneled, 200u);
}

} // namespace
} // namespace wt::parsers
