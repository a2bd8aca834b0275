// parsers/net/neighbours: ARP, Neighbour Discovery and DHCP from real bytes (the bundled sample's ARP
// and ND, recorded from Linux in the lab's namespaces; DHCP from the nDPI corpus's alexa-app.pcapng,
// an Android phone's dhcpcd), then every truncation and each field fault.
#include "parsers/net/neighbours.hpp"
#include "tests/parsers/net/neighbours_vectors.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wt::parsers {
namespace {

using namespace test_vectors;

IpAddress v6(const std::string& text) {
    std::array<std::uint8_t, 16> bytes{};
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), bytes.data()), 1) << text;
    return make_ipv6(bytes.data());
}
std::string text(const IpAddress& a) { return std::string(to_string(a).view()); }
std::string mac(const MacAddress& m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

TEST(Arp, RequestGivesTheSendersMacAndAddress) {
    ArpMessage m;
    ASSERT_EQ(parse_arp(kArpRequest, m), ParseStatus::kOk);
    EXPECT_EQ(m.operation, 1);
    EXPECT_EQ(mac(m.sender_mac), "02:77:00:00:00:01");
    EXPECT_EQ(text(m.sender_ip), "10.77.0.1");
    EXPECT_EQ(text(m.target_ip), "10.77.0.2");
}

TEST(Arp, TruncationsAndOtherHardwareAreRefused) {
    const Bytes whole(kArpRequest);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        ArpMessage m;
        EXPECT_EQ(parse_arp(whole.first(n), m), ParseStatus::kTruncated) << n;
    }
    std::vector<std::uint8_t> token_ring(whole.begin(), whole.end());
    token_ring[1] = 6; // htype IEEE 802
    ArpMessage m;
    EXPECT_EQ(parse_arp(token_ring, m), ParseStatus::kUnsupported);
    std::vector<std::uint8_t> long_hw(whole.begin(), whole.end());
    long_hw[4] = 8;
    EXPECT_EQ(parse_arp(long_hw, m), ParseStatus::kUnsupported);
}

TEST(Ndp, SolicitationsVouchForTheirSourceWithTheirOption) {
    NdpMessage ns;
    ASSERT_EQ(parse_ndp(kNeighbourSolicitation, v6("fe80::77:ff:fe00:1"), ns), ParseStatus::kOk);
    EXPECT_EQ(ns.type, 135);
    ASSERT_TRUE(ns.has_mac);
    EXPECT_EQ(mac(ns.mac), "02:77:00:00:00:01");
    EXPECT_EQ(text(ns.address), "fe80::77:ff:fe00:1");
    NdpMessage rs;
    ASSERT_EQ(parse_ndp(kRouterSolicitation, v6("fe80::77:ff:fe00:2"), rs), ParseStatus::kOk);
    EXPECT_EQ(rs.type, 133);
    ASSERT_TRUE(rs.has_mac);
    EXPECT_EQ(mac(rs.mac), "02:77:00:00:00:02");
}

TEST(Ndp, AnAdvertisementVouchesForItsTarget) {
    NdpMessage na;
    ASSERT_EQ(parse_ndp(kNeighbourAdvertisementNoOption, v6("fd77::2"), na), ParseStatus::kOk);
    EXPECT_EQ(na.type, 136);
    EXPECT_FALSE(na.has_mac) << "a solicited advertisement may leave the option out (RFC 4861 section 7.2.4)";
    EXPECT_EQ(text(na.address), "fd77::2");
}

TEST(Ndp, DuplicateAddressDetectionAndFaultsAreRefused) {
    NdpMessage m;
    EXPECT_EQ(parse_ndp(kNeighbourSolicitation, IpAddress{{}, 6}, m), ParseStatus::kUnsupported)
        << "an NS from :: is a probe: the address is nobody's yet";
    const Bytes whole(kNeighbourSolicitation);
    for (std::size_t n = 0; n < 24; ++n) {
        EXPECT_EQ(parse_ndp(whole.first(n), v6("fe80::1"), m), ParseStatus::kTruncated) << n;
    }
    for (std::size_t n = 25; n < whole.size(); ++n) {
        EXPECT_EQ(parse_ndp(whole.first(n), v6("fe80::1"), m), ParseStatus::kTruncated) << n;
    }
    std::vector<std::uint8_t> zero_length(whole.begin(), whole.end());
    zero_length[25] = 0; // an option of length 0 (section 4.6)
    EXPECT_EQ(parse_ndp(zero_length, v6("fe80::1"), m), ParseStatus::kMalformed);
    std::vector<std::uint8_t> echo(whole.begin(), whole.end());
    echo[0] = 128;
    EXPECT_EQ(parse_ndp(echo, v6("fe80::1"), m), ParseStatus::kUnsupported);
    std::vector<std::uint8_t> code(whole.begin(), whole.end());
    code[1] = 1;
    EXPECT_EQ(parse_ndp(code, v6("fe80::1"), m), ParseStatus::kMalformed);
}

TEST(Dhcp, AnAndroidRequestGivesItsHostNameVendorAndAddress) {
    DhcpMessage m;
    ASSERT_EQ(parse_dhcp(kDhcpRequest, m), ParseStatus::kOk);
    EXPECT_EQ(m.op, 1);
    EXPECT_EQ(m.message_type, 3); // REQUEST
    ASSERT_TRUE(m.has_client_mac);
    EXPECT_EQ(mac(m.client_mac), "78:f8:82:d3:fb:c2");
    EXPECT_EQ(m.host_name.view(), "android-1c1335ec95a27318");
    EXPECT_EQ(m.vendor_class.view(), "dhcpcd-5.5.6");
    EXPECT_EQ(text(m.address), "172.16.42.216") << "the Requested IP Address option";
}

TEST(Dhcp, TheAckGivesTheLeasedAddress) {
    DhcpMessage m;
    ASSERT_EQ(parse_dhcp(kDhcpAck, m), ParseStatus::kOk);
    EXPECT_EQ(m.op, 2);
    EXPECT_EQ(m.message_type, 5);
    EXPECT_EQ(mac(m.client_mac), "78:f8:82:d3:fb:c2");
    EXPECT_EQ(text(m.address), "172.16.42.216");
}

TEST(Dhcp, AnOfferIsNoAddressYet) {
    std::vector<std::uint8_t> offer(std::begin(kDhcpAck), std::end(kDhcpAck));
    bool changed = false;
    for (std::size_t i = 240; i + 2 < offer.size(); ++i) { // option 53, length 1, ACK -> OFFER
        if (offer[i] == 53 && offer[i + 1] == 1 && offer[i + 2] == 5) {
            offer[i + 2] = 2;
            changed = true;
            break;
        }
    }
    ASSERT_TRUE(changed);
    DhcpMessage m;
    ASSERT_EQ(parse_dhcp(offer, m), ParseStatus::kOk);
    EXPECT_EQ(m.message_type, 2);
    EXPECT_EQ(m.address.version, 0);
}

TEST(Dhcp, TruncationsAndFaultsAreRefused) {
    const Bytes whole(kDhcpRequest);
    DhcpMessage m;
    for (std::size_t n = 0; n < 240; ++n) {
        EXPECT_EQ(parse_dhcp(whole.first(n), m), ParseStatus::kTruncated) << n;
    }
    // An option cut by the end of the message, at every length inside the options.
    std::size_t refused = 0;
    for (std::size_t n = 241; n < whole.size(); ++n) {
        const ParseStatus st = parse_dhcp(whole.first(n), m);
        EXPECT_TRUE(st == ParseStatus::kOk || st == ParseStatus::kMalformed) << n;
        refused += st == ParseStatus::kMalformed ? 1 : 0;
    }
    EXPECT_GT(refused, 0u);
    std::vector<std::uint8_t> cookie(whole.begin(), whole.end());
    cookie[236] = 0;
    EXPECT_EQ(parse_dhcp(cookie, m), ParseStatus::kMalformed);
    std::vector<std::uint8_t> op(whole.begin(), whole.end());
    op[0] = 3;
    EXPECT_EQ(parse_dhcp(op, m), ParseStatus::kMalformed);
}

} // namespace
} // namespace wt::parsers
