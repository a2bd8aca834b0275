// Who is on the link (issue #15, devices): the messages that tie a MAC address to an IP address
// or a name, read so that a device's addresses and its DHCP host name come together even when
// some of them carry no flow.
//
//   parse_arp   ARP over Ethernet for IPv4 (RFC 826): the sender's MAC and address.
//   parse_ndp   ICMPv6 Neighbour Discovery (RFC 4861 sections 4.1-4.4): the link-layer address
//               options of Router Solicitations and Advertisements, Neighbour Solicitations and
//               Advertisements, with the address each one vouches for.
//   parse_dhcp  DHCPv4 (RFC 2131 section 2, RFC 2132): the client's hardware address, its address
//               (ciaddr, yiaddr or the Requested IP option 50), Host Name (option 12) and Vendor
//               Class (option 60).
//
// Pure functions of a byte span; every length is checked before use and every loop is bounded by
// the input's length. No allocation.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/status.hpp"
#include "parsers/net/packet.hpp"

#include <array>
#include <cstdint>

namespace wt::parsers {

using MacAddress = std::array<std::uint8_t, 6>;

struct ArpMessage {
    std::uint16_t operation = 0; // 1 request, 2 reply
    MacAddress sender_mac{};
    IpAddress sender_ip;         // 0.0.0.0 in an ARP probe (RFC 5227): it vouches for no address
    IpAddress target_ip;
};
// The ARP message (the bytes after the ethertype). kUnsupported for hardware other than Ethernet or
// protocols other than IPv4; kTruncated when shorter than its 28 bytes.
ParseStatus parse_arp(Bytes message, ArpMessage& out) noexcept;

struct NdpMessage {
    std::uint8_t type = 0; // 133 RS, 134 RA, 135 NS, 136 NA
    bool has_mac = false;  // a link-layer address option was present
    MacAddress mac{};
    IpAddress address;     // the address `mac` belongs to (version 0: none, e.g. a DAD probe from ::)
};
// An ICMPv6 message sent from `source`. kUnsupported for other ICMPv6 types (and for an NS from the
// unspecified address, RFC 4861 section 7.2.2, which vouches for nothing).
ParseStatus parse_ndp(Bytes icmpv6, const IpAddress& source, NdpMessage& out) noexcept;

struct DhcpMessage {
    std::uint8_t op = 0;           // 1 BOOTREQUEST, 2 BOOTREPLY
    std::uint8_t message_type = 0; // option 53 (1 DISCOVER ... 8 INFORM); 0 when absent (BOOTP)
    MacAddress client_mac{};       // chaddr, when htype is Ethernet and hlen 6
    bool has_client_mac = false;
    IpAddress address;             // the client's address: yiaddr (ACK), ciaddr, or option 50; version 0: none
    FixedString<64> host_name;     // option 12, cut at 64 characters
    FixedString<64> vendor_class;  // option 60, cut at 64 characters
};
// A UDP payload sent to or from ports 67/68. kMalformed without the magic cookie (RFC 2131 section 3)
// or with an option running past the end.
ParseStatus parse_dhcp(Bytes payload, DhcpMessage& out) noexcept;

} // namespace wt::parsers
