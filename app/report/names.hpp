// Human names for wire values, with the numeric fallback the ecosystem uses
// ("0x1301" for an unknown cipher, "TYPE123" for an unknown DNS type).
#pragma once

#include <cstdint>
#include "parsers/net/packet.hpp"

#include <string>

namespace wt::app {

std::string ip_text(const parsers::IpAddress& ip);
// An IP protocol number as a person reads it: "tcp", "udp", "icmp", "icmpv6", ... or the number ("103").
std::string ip_proto_text(std::uint8_t proto);
std::string tls_version_text(std::uint16_t version);
std::string tls_cipher_text(std::uint16_t cipher);
std::string quic_version_text(std::uint32_t version);
std::string dns_type_text(std::uint16_t type);
std::string dns_rcode_text(std::uint8_t rcode);

} // namespace wt::app
