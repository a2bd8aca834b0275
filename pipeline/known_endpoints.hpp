// Well-known ports and endpoints that decide how a flow is inspected or flagged.
#pragma once

#include <algorithm>
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

// A service whose category is this serves DNS (the default set's "Public DNS resolvers"): HTTPS
// to it is DNS over HTTPS (RFC 8484), port 853 DNS over TLS or QUIC. Resolver names live in the
// services file (pipeline/classify/default.toml), where a user can add their own.
inline constexpr std::string_view kResolverCategory = "dns";

// RFC 7858 section 3.1 and RFC 9250 section 4.1.1: the ALPN identifiers of DNS over TLS and QUIC,
// which name the protocol on any port.
inline constexpr std::string_view kAlpnDot = "dot";
inline constexpr std::string_view kAlpnDoq = "doq";

// The anycast addresses of public resolvers that also answer DNS over HTTPS on them (a browser's
// "secure DNS" set to a provider connects to its address, often with no SNI or one of an
// address literal). HTTPS to one of these with an HTTP/2 or HTTP/3 ALPN (RFC 8484 section 5.2)
// is DoH. IPv4 in the first 4 bytes, as the parsers' addresses.
struct ResolverAddress {
    std::uint8_t version;
    std::array<std::uint8_t, 16> bytes;
};
inline constexpr std::array<ResolverAddress, 22> kPublicResolverAddresses{{
    {4, {1, 1, 1, 1}}, {4, {1, 0, 0, 1}},                      // Cloudflare
    {4, {1, 1, 1, 2}}, {4, {1, 0, 0, 2}},                      // Cloudflare for Families
    {4, {8, 8, 8, 8}}, {4, {8, 8, 4, 4}},                      // Google
    {4, {9, 9, 9, 9}}, {4, {149, 112, 112, 112}},              // Quad9
    {4, {208, 67, 222, 222}}, {4, {208, 67, 220, 220}},        // OpenDNS
    {4, {94, 140, 14, 14}}, {4, {94, 140, 15, 15}},            // AdGuard
    {4, {185, 228, 168, 9}}, {4, {185, 228, 169, 9}},          // CleanBrowsing
    {4, {45, 90, 28, 0}}, {4, {45, 90, 30, 0}},                // NextDNS
    {4, {194, 242, 2, 2}},                                     // Mullvad
    {6, {0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11}}, // 2606:4700:4700::1111
    {6, {0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01}}, // 2606:4700:4700::1001
    {6, {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88}}, // 2001:4860:4860::8888
    {6, {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x44}}, // 2001:4860:4860::8844
    {6, {0x26, 0x20, 0x00, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xfe}},       // 2620:fe::fe (Quad9)
}};

template <typename Address>
[[nodiscard]] constexpr bool is_public_resolver_address(const Address& a) noexcept {
    for (const ResolverAddress& r : kPublicResolverAddresses) {
        // The first byte rules out nearly every entry before a whole address is compared.
        if (r.version == a.version && r.bytes[0] == a.bytes[0] &&
            std::equal(r.bytes.begin(), r.bytes.begin() + (r.version == 4 ? 4 : 16), a.bytes.begin())) {
            return true;
        }
    }
    return false;
}

} // namespace wt::pipeline
