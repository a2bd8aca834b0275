// Wire constants shared by the TLS parsers: handshake types, extension code points,
// versions and the GREASE rule. Header-only, constexpr.
#pragma once

#include <cstdint>

namespace wt::parsers::tls {

// RFC 8446 section 5.1: ContentType.
inline constexpr std::uint8_t kContentHandshake = 22;

// RFC 8446 section 4: HandshakeType.
inline constexpr std::uint8_t kHandshakeClientHello = 1;
inline constexpr std::uint8_t kHandshakeServerHello = 2;

// RFC 8446 section 4 / IANA "TLS ExtensionType Values".
inline constexpr std::uint16_t kExtServerName = 0x0000;          // RFC 6066 section 3
inline constexpr std::uint16_t kExtSupportedGroups = 0x000a;     // RFC 8446 section 4.2.7
inline constexpr std::uint16_t kExtSignatureAlgorithms = 0x000d; // RFC 8446 section 4.2.3
inline constexpr std::uint16_t kExtAlpn = 0x0010;                // RFC 7301 section 3.1
inline constexpr std::uint16_t kExtPadding = 0x0015;             // RFC 7685
inline constexpr std::uint16_t kExtSupportedVersions = 0x002b;   // RFC 8446 section 4.2.1
inline constexpr std::uint16_t kExtKeyShare = 0x0033;            // RFC 8446 section 4.2.8
inline constexpr std::uint16_t kExtEncryptedClientHello = 0xfe0d; // draft-ietf-tls-esni-18 section 5
inline constexpr std::uint16_t kExtEncryptedServerName = 0xffce; // draft-ietf-tls-esni-02 (old ESNI)

// Protocol versions (RFC 8446 section 4.2.1, RFC 9147 section 5.3 for DTLS).
inline constexpr std::uint16_t kVersionSsl3 = 0x0300;
inline constexpr std::uint16_t kVersionTls10 = 0x0301;
inline constexpr std::uint16_t kVersionTls11 = 0x0302;
inline constexpr std::uint16_t kVersionTls12 = 0x0303;
inline constexpr std::uint16_t kVersionTls13 = 0x0304;
inline constexpr std::uint16_t kVersionDtls10 = 0xfeff;
inline constexpr std::uint16_t kVersionDtls12 = 0xfefd;
inline constexpr std::uint16_t kVersionDtls13 = 0xfefc;

// RFC 8701 section 2: GREASE values are 0x?A?A with both bytes equal
// (0x0a0a, 0x1a1a, ..., 0xfafa) for cipher suites, extensions, groups, versions,
// signature algorithms and ALPN-adjacent code points.
[[nodiscard]] constexpr bool is_grease(std::uint16_t v) noexcept {
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

} // namespace wt::parsers::tls
