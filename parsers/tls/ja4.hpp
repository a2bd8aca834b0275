// JA4 TLS client fingerprint (FoxIO, BSD 3-Clause spec,
// github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md). JA4 only: the other
// JA4+ methods (JA4S, JA4X, ...) are under another licence and are not implemented.
#pragma once

#include "parsers/common/fixed_string.hpp"
#include "parsers/tls/client_hello.hpp"

namespace wt::parsers {

// Writes the 36-character fingerprint "t13d1516h2_8daaf6152771_e5627efa2ab1":
//   a: transport ('t' TCP, 'q' QUIC, 'd' DTLS), version (newest non-GREASE
//      supported_versions value, else legacy_version: "13" "12" "11" "10" "s3" "s2"
//      "d1" "d2" "d3", unknown "00"), 'd' if the server_name extension is present else
//      'i', cipher count and extension count (GREASE excluded, SNI/ALPN included, two
//      digits capped at 99), first and last character of the first ALPN value ("00"
//      if none; when either byte is not alphanumeric, the first and last hex digit of
//      the value instead);
//   b: first 12 hex digits of SHA-256 over the sorted non-GREASE cipher suites as
//      comma-joined 4-digit lower-case hex;
//   c: same over the sorted non-GREASE extensions without SNI (0000) and ALPN (0010),
//      then '_' and the signature algorithms in wire order (no '_' when there are none).
//   An empty list gives "000000000000" instead of a hash.
// Fields capped by limits.hpp are fingerprinted as stored (the flags say so).
// DTLS versions count down (0xfefc is newer than 0xfefd), so "newest" is used rather
// than the numerically highest value the spec's wording suggests; identical for TLS.
void ja4_fingerprint(const TlsClientHello& hello, char transport, FixedString<40>& out) noexcept;

} // namespace wt::parsers
