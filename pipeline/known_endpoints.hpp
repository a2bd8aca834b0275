// Well-known ports and endpoints that decide how a flow is inspected or flagged.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace wt::pipeline {

// RFC 1035 (53), RFC 6762 mDNS (5353), RFC 4795 LLMNR (5355).
[[nodiscard]] constexpr bool is_dns_port(std::uint16_t port) noexcept {
    return port == 53 || port == 5353 || port == 5355;
}

// RFC 7858 section 3.1: DNS over TLS uses TCP port 853.
inline constexpr std::uint16_t kDotPort = 853;

// Public DNS-over-HTTPS (RFC 8484) endpoints that phones and browsers use by default.
inline constexpr std::array<std::string_view, 16> kDohEndpoints{
    "dns.google", "dns.google.com", "cloudflare-dns.com", "mozilla.cloudflare-dns.com",
    "one.one.one.one", "1dot1dot1dot1.cloudflare-dns.com", "security.cloudflare-dns.com",
    "family.cloudflare-dns.com", "dns.quad9.net", "dns9.quad9.net", "doh.opendns.com",
    "dns.nextdns.io", "doh.cleanbrowsing.org", "dns.adguard.com", "dns.adguard-dns.com",
    "doh.dns.apple.com"};

[[nodiscard]] constexpr bool is_doh_endpoint(std::string_view name) noexcept {
    for (std::string_view e : kDohEndpoints) {
        if (name == e) {
            return true;
        }
    }
    return false;
}

} // namespace wt::pipeline
