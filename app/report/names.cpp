#include "app/report/names.hpp"

#include "parsers/dns/dns_message.hpp"
#include "parsers/quic/initial.hpp"
#include "parsers/tls/names.hpp"

#include <fmt/format.h>

namespace wt::app {

std::string ip_proto_text(std::uint8_t proto) {
    switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    case 2: return "igmp";
    case 47: return "gre";
    case 50: return "esp";
    case 132: return "sctp";
    default: return std::to_string(proto);
    }
}

std::string ip_text(const parsers::IpAddress& ip) {
    return std::string(parsers::to_string(ip).view());
}

std::string tls_version_text(std::uint16_t version) {
    if (version == 0) {
        return "";
    }
    const std::string_view n = parsers::tls_version_name(version);
    return n.empty() ? fmt::format("0x{:04x}", version) : std::string(n);
}

std::string tls_cipher_text(std::uint16_t cipher) {
    const std::string_view n = parsers::tls_cipher_suite_name(cipher);
    return n.empty() ? fmt::format("0x{:04x}", cipher) : std::string(n);
}

std::string quic_version_text(std::uint32_t version) {
    const std::string_view n = parsers::quic_version_name(version);
    return n.empty() ? fmt::format("0x{:08x}", version) : std::string(n);
}

std::string dns_type_text(std::uint16_t type) {
    const std::string_view n = parsers::dns_type_name(type);
    return n.empty() ? fmt::format("TYPE{}", type) : std::string(n);
}

std::string dns_rcode_text(std::uint8_t rcode) {
    const std::string_view n = parsers::dns_rcode_name(rcode);
    return n.empty() ? fmt::format("RCODE{}", rcode) : std::string(n);
}

} // namespace wt::app
