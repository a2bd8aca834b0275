// Human-readable names for TLS code points, for reports and JSON output.
// All return static strings; "" means unknown (the caller prints the hex value).
#pragma once

#include <cstdint>
#include <string_view>

namespace wt::parsers {

// IANA "TLS Cipher Suites" registry name ("TLS_AES_128_GCM_SHA256",
// "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", ...); "GREASE" for RFC 8701 values.
[[nodiscard]] std::string_view tls_cipher_suite_name(std::uint16_t suite) noexcept;

// Protocol version as nDPI spells it: "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1",
// "SSLv3", "SSLv2", "DTLSv1.0", "DTLSv1.2", "DTLSv1.3", "TLSv1.3 (draft)" (0x7fXX),
// "TLSv1.3 (Fizz)" (0xfb1a), "GREASE".
[[nodiscard]] std::string_view tls_version_name(std::uint16_t version) noexcept;

// IANA "TLS Supported Groups" name for common groups ("x25519", "secp256r1",
// "X25519MLKEM768", ...); "GREASE" for RFC 8701 values.
[[nodiscard]] std::string_view tls_group_name(std::uint16_t group) noexcept;

} // namespace wt::parsers
