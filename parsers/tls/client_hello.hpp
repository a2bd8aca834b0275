// ClientHello / ServerHello body parsers (RFC 8446 section 4.1.2 and 4.1.3).
//
// Input is one complete handshake message starting at its 4-byte header
// (msg_type, uint24 length), as returned by tls_first_handshake() for TCP or
// assembled from QUIC CRYPTO frames (RFC 9001 section 4.1: same message bytes).
// Output is fixed-size storage: nothing allocates, every list is capped by a
// bound from limits.hpp and records whether it was capped.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"
#include "parsers/tls/ech.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace wt::parsers {

// A bounded list of 16-bit code points kept in wire order (GREASE included as seen).
// `count` is how many are stored; `total` how many were on the wire (total > count
// means the list was capped at Capacity).
template <std::size_t Capacity>
struct U16List {
    std::array<std::uint16_t, Capacity> values{};
    std::uint16_t count = 0;
    std::uint16_t total = 0;

    [[nodiscard]] constexpr bool capped() const noexcept { return total > count; }
    [[nodiscard]] constexpr std::span<const std::uint16_t> view() const noexcept {
        return {values.data(), count};
    }
};

// What parse_client_hello may have lost on the way; zero means nothing.
enum TlsHelloFlag : std::uint16_t {
    kTlsFlagExtensionsIncomplete = 1u << 0, ///< extension block malformed/overran: later extensions missing
    kTlsFlagListCapped = 1u << 1,           ///< a list exceeded its limits.hpp bound (prefix kept)
    kTlsFlagSniTruncated = 1u << 2,         ///< host_name longer than DomainName (prefix kept)
    kTlsFlagAlpnTruncated = 1u << 3,        ///< an ALPN protocol longer than 64 bytes (prefix kept)
    kTlsFlagDuplicateExtension = 1u << 4,   ///< RFC 8446 section 4.2: same extension twice (first kept)
    kTlsFlagTrailingData = 1u << 5,         ///< bytes after the extension block inside the message
};

struct TlsClientHello {
    std::uint16_t legacy_version = 0;
    std::uint32_t message_length = 0; ///< 4 + body length: bytes of the input that were the message

    U16List<limits::kMaxCipherSuites> cipher_suites;
    U16List<limits::kMaxTlsExtensions> extensions; ///< extension types in wire order

    // RFC 6066 section 3: the first host_name entry, bytes kept exactly as sent (no
    // case folding). sni_valid says whether it is a syntactically valid DNS host name
    // (RFC 1123 section 2.1 LDH labels, '_' tolerated, 1-63 byte labels, <= 253 chars,
    // one optional trailing dot). Invalid bytes (controls, spaces, non-ASCII) are kept
    // verbatim: callers must check sni_valid before using the name as a key or printing
    // it unescaped. sni_is_ip says it is a dotted-quad literal, which RFC 6066 forbids.
    DomainName sni;
    bool has_sni = false;
    bool sni_valid = false;
    bool sni_is_ip = false;

    // RFC 7301 section 3.1: protocol names in client preference order.
    std::array<FixedString<64>, limits::kMaxAlpnProtocols> alpn{};
    std::uint8_t alpn_count = 0;
    bool has_alpn = false;
    // Size, first and last byte of the first protocol name as sent, even when the
    // stored copy was truncated (JA4 needs the real last byte).
    std::uint8_t alpn_first_size = 0;
    std::uint8_t alpn_first_byte = 0;
    std::uint8_t alpn_last_byte = 0;

    U16List<limits::kMaxSupportedVersions> supported_versions;
    bool has_supported_versions = false;
    U16List<limits::kMaxSupportedGroups> supported_groups;
    U16List<limits::kMaxSignatureAlgorithms> signature_algorithms;
    U16List<limits::kMaxTlsKeyShares> key_share_groups;

    // RFC 9849 section 5: encrypted_client_hello. ech_well_formed says `ech` holds its fields; a
    // malformed extension does not fail the hello (it is still evidence that ECH was attempted).
    bool has_ech = false;
    bool ech_well_formed = false;
    EchClientHello ech{};
    bool has_esni = false; ///< 0xffce, encrypted_server_name of the pre-ECH drafts (draft-ietf-tls-esni-02..06)

    std::uint16_t flags = 0; ///< TlsHelloFlag bits

    [[nodiscard]] constexpr bool has_flag(TlsHelloFlag f) const noexcept { return (flags & f) != 0; }
};

// Fixed storage only: copying a hello is a memcpy, and nothing in it owns memory.
static_assert(std::is_trivially_copyable_v<TlsClientHello>);

// Parses a ClientHello handshake message (header included).
//   kOk          every field parsed (flags may still report capped lists).
//   kTruncated   the input is shorter than the header says (or than 4 bytes).
//   kUnsupported msg_type is not client_hello (1).
//   kMalformed   a field violates RFC 8446; `out` keeps what was parsed before the
//                fault (the SNI is usually first) and kTlsFlagExtensionsIncomplete is set
//                when the fault was in the extension block.
// Bytes after the message are ignored.
[[nodiscard]] ParseStatus parse_client_hello(Bytes message, TlsClientHello& out) noexcept;

struct TlsServerHello {
    std::uint16_t legacy_version = 0;
    // RFC 8446 section 4.2.1: supported_versions' selected_version when present, else
    // legacy_version.
    std::uint16_t selected_version = 0;
    bool has_supported_versions = false;
    std::uint16_t cipher_suite = 0;
    std::uint8_t compression_method = 0;
    // RFC 8446 section 4.1.3: random == SHA-256("HelloRetryRequest").
    bool is_hello_retry_request = false;
    FixedString<64> alpn; ///< RFC 7301 section 3.1: exactly one selected protocol
    bool has_alpn = false;
    std::uint16_t key_share_group = 0; ///< RFC 8446 section 4.2.8 (selected_group in an HRR)
    bool has_key_share = false;
    U16List<limits::kMaxTlsExtensions> extensions;
    std::uint32_t message_length = 0;
    std::uint16_t flags = 0;
};

static_assert(std::is_trivially_copyable_v<TlsServerHello>);

// Same contract as parse_client_hello, for msg_type server_hello (2).
[[nodiscard]] ParseStatus parse_server_hello(Bytes message, TlsServerHello& out) noexcept;

} // namespace wt::parsers
