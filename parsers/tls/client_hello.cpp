#include "parsers/tls/client_hello.hpp"

#include "parsers/tls/tls_types.hpp"

#include <algorithm>
#include <string_view>

namespace wt::parsers {
namespace {

using tls::is_grease;

// RFC 8446 section 4.1.3: the random of a HelloRetryRequest is SHA-256("HelloRetryRequest").
constexpr std::array<std::uint8_t, 32> kHelloRetryRequestRandom = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

// RFC 8446 section 4.1.2: legacy_session_id<0..32>.
constexpr std::size_t kMaxSessionIdLength = 32;

// Fills `out` from a vector of uint16 code points that must make up all of `list`
// (RFC 8446 section 3.4: a vector's length is a multiple of its element size).
// Stores at most Capacity values; `total` keeps the number on the wire.
template <std::size_t Capacity>
bool read_u16_vector(ByteReader list, U16List<Capacity>& out) noexcept {
    const std::size_t size = list.remaining();
    if (size == 0 || size % 2 != 0) {
        return false;
    }
    const std::size_t n = size / 2;
    out.count = 0;
    for (std::size_t i = 0; i < n && i < Capacity; ++i) {
        std::uint16_t v = 0;
        (void)list.read_u16(v); // cannot fail: 2 * i + 2 <= size
        out.values[out.count++] = v;
    }
    out.total = static_cast<std::uint16_t>(std::min<std::size_t>(n, 0xffff));
    return true;
}

// A vector that must fill the whole extension_data exactly.
std::optional<ByteReader> whole_u16_prefixed(ByteReader& ext) noexcept {
    auto list = ext.read_prefixed_u16();
    if (!list || !ext.empty()) {
        return std::nullopt;
    }
    return list;
}

[[nodiscard]] constexpr bool is_ldh(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 1123 section 2.1 / RFC 1035 section 2.3.1 host name syntax: dot-separated
// labels of 1-63 letters, digits and hyphens, not starting or ending with a hyphen,
// at most 253 characters plus one optional trailing dot. '_' is accepted because
// real SNIs carry it (e.g. service labels) and it is harmless as a key.
bool is_valid_host_name(std::string_view s) noexcept {
    if (!s.empty() && s.back() == '.') {
        s.remove_suffix(1);
    }
    if (s.empty() || s.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    char prev = '.';
    for (const char c : s) { // bounded: s.size() <= 253
        if (c == '.') {
            if (label == 0 || prev == '-') {
                return false;
            }
            label = 0;
        } else {
            if (!is_ldh(c) && c != '_') {
                return false;
            }
            if (label == 0 && c == '-') {
                return false;
            }
            if (++label > 63) {
                return false;
            }
        }
        prev = c;
    }
    return prev != '-';
}

// Four dot-separated decimal groups, or anything with ':' (an IPv6 literal).
// RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
bool looks_like_ip_literal(std::string_view s) noexcept {
    if (s.find(':') != std::string_view::npos) {
        return true;
    }
    std::size_t dots = 0;
    std::size_t digits = 0;
    for (const char c : s) { // bounded by DomainName capacity
        if (c == '.') {
            if (digits == 0) {
                return false;
            }
            ++dots;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) {
                return false;
            }
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

// RFC 6066 section 3: ServerNameList server_name_list<1..2^16-1>, each entry a
// NameType (host_name = 0) followed by HostName<1..2^16-1>. We keep the first host_name.
bool parse_sni(ByteReader ext, TlsClientHello& out) noexcept {
    auto list = whole_u16_prefixed(ext);
    if (!list || list->empty()) {
        return false;
    }
    for (std::size_t i = 0; i < limits::kMaxTlsServerNames && !list->empty(); ++i) {
        std::uint8_t name_type = 0;
        if (!list->read_u8(name_type)) {
            return false;
        }
        auto name = list->read_prefixed_u16();
        if (!name || name->empty()) {
            return false;
        }
        if (name_type == 0 && !out.has_sni) {
            const std::string_view host = as_string_view(name->rest());
            if (!out.sni.assign(host)) {
                out.flags |= kTlsFlagSniTruncated;
            }
            out.has_sni = true;
            out.sni_valid = is_valid_host_name(host);
            out.sni_is_ip = looks_like_ip_literal(out.sni.view());
        }
    }
    return true;
}

// RFC 7301 section 3.1: ProtocolNameList protocol_name_list<2..2^16-1>, each
// ProtocolName<1..2^8-1>.
bool parse_client_alpn(ByteReader ext, TlsClientHello& out) noexcept {
    auto list = whole_u16_prefixed(ext);
    if (!list || list->remaining() < 2) {
        return false;
    }
    out.has_alpn = true;
    for (std::size_t i = 0; !list->empty(); ++i) {
        if (i == limits::kMaxAlpnProtocols) {
            out.flags |= kTlsFlagListCapped;
            break;
        }
        auto name = list->read_prefixed_u8();
        if (!name || name->empty()) {
            return false;
        }
        const Bytes bytes = name->rest();
        if (i == 0) {
            out.alpn_first_size = static_cast<std::uint8_t>(bytes.size());
            out.alpn_first_byte = bytes.front();
            out.alpn_last_byte = bytes.back();
        }
        if (!out.alpn[i].assign(as_string_view(bytes))) {
            out.flags |= kTlsFlagAlpnTruncated;
        }
        out.alpn_count = static_cast<std::uint8_t>(i + 1);
    }
    return true;
}

// RFC 8446 section 4.2.8: KeyShareEntry client_shares<0..2^16-1>, each a NamedGroup
// and key_exchange<1..2^16-1>. Only the groups are kept.
bool parse_client_key_share(ByteReader ext, TlsClientHello& out) noexcept {
    auto list = whole_u16_prefixed(ext);
    if (!list) {
        return false;
    }
    std::size_t n = 0;
    out.key_share_groups.count = 0;
    while (!list->empty()) {
        if (n == limits::kMaxTlsKeyShares) {
            out.flags |= kTlsFlagListCapped;
            out.key_share_groups.total = static_cast<std::uint16_t>(n + 1);
            return true;
        }
        std::uint16_t group = 0;
        if (!list->read_u16(group)) {
            return false;
        }
        auto key = list->read_prefixed_u16();
        if (!key || key->empty()) {
            return false;
        }
        out.key_share_groups.values[n++] = group;
        out.key_share_groups.count = static_cast<std::uint16_t>(n);
    }
    out.key_share_groups.total = static_cast<std::uint16_t>(n);
    return true;
}

template <std::size_t Capacity>
bool note_capped(const U16List<Capacity>& list, std::uint16_t& flags) noexcept {
    if (list.capped()) {
        flags |= kTlsFlagListCapped;
    }
    return true;
}

// One ClientHello extension. Returns false when its body violates its RFC.
bool parse_client_extension(std::uint16_t type, ByteReader ext, TlsClientHello& out) noexcept {
    switch (type) {
    case tls::kExtServerName:
        return parse_sni(ext, out);
    case tls::kExtAlpn:
        return parse_client_alpn(ext, out);
    case tls::kExtSupportedVersions: {
        // RFC 8446 section 4.2.1: ProtocolVersion versions<2..254> (uint8 length).
        auto list = ext.read_prefixed_u8();
        if (!list || !ext.empty() || !read_u16_vector(*list, out.supported_versions)) {
            return false;
        }
        out.has_supported_versions = true;
        return note_capped(out.supported_versions, out.flags);
    }
    case tls::kExtSupportedGroups: {
        // RFC 8446 section 4.2.7: NamedGroup named_group_list<2..2^16-1>.
        auto list = whole_u16_prefixed(ext);
        return list && read_u16_vector(*list, out.supported_groups) &&
               note_capped(out.supported_groups, out.flags);
    }
    case tls::kExtSignatureAlgorithms: {
        // RFC 8446 section 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>.
        auto list = whole_u16_prefixed(ext);
        return list && read_u16_vector(*list, out.signature_algorithms) &&
               note_capped(out.signature_algorithms, out.flags);
    }
    case tls::kExtKeyShare:
        return parse_client_key_share(ext, out);
    case tls::kExtEncryptedClientHello: {
        out.has_ech = true;
        out.ech_well_formed = parse_ech_client_hello(ext.rest(), out.ech) == ParseStatus::kOk;
        return true;
    }
    case tls::kExtEncryptedServerName:
        out.has_esni = true;
        return true;
    default:
        return true;
    }
}

template <std::size_t Capacity>
[[nodiscard]] bool contains(const U16List<Capacity>& list, std::uint16_t v) noexcept {
    const auto vals = list.view();
    return std::find(vals.begin(), vals.end(), v) != vals.end();
}

// Walks an extension block. `block` is the bytes the length prefix promised, or fewer
// when it overran the message (then the caller already knows the result is malformed).
// Returns kOk, kMalformed (an extension header or body is invalid) or kTooLarge (more
// than kMaxTlsExtensions extensions).
template <typename Hello, typename OnExtension>
ParseStatus walk_extensions(ByteReader block, Hello& out, OnExtension&& on_extension) noexcept {
    for (std::size_t i = 0; !block.empty(); ++i) {
        if (i == limits::kMaxTlsExtensions) {
            out.flags |= kTlsFlagListCapped | kTlsFlagExtensionsIncomplete;
            out.extensions.total = static_cast<std::uint16_t>(i + 1);
            return ParseStatus::kTooLarge;
        }
        std::uint16_t type = 0;
        if (!block.read_u16(type)) {
            out.flags |= kTlsFlagExtensionsIncomplete;
            return ParseStatus::kMalformed;
        }
        auto body = block.read_prefixed_u16();
        if (!body) {
            out.flags |= kTlsFlagExtensionsIncomplete;
            return ParseStatus::kMalformed;
        }
        // RFC 8446 section 4.2: at most one extension of each type; the first one wins.
        const bool duplicate = contains(out.extensions, type);
        out.extensions.values[out.extensions.count++] = type;
        out.extensions.total = out.extensions.count;
        if (duplicate) {
            out.flags |= kTlsFlagDuplicateExtension;
            continue;
        }
        if (!on_extension(type, *body, out)) {
            out.flags |= kTlsFlagExtensionsIncomplete;
            return ParseStatus::kMalformed;
        }
    }
    return ParseStatus::kOk;
}

// Handshake header (RFC 8446 section 4): msg_type, uint24 length, body.
ParseStatus read_handshake(Bytes message, std::uint8_t expected_type, Bytes& body) noexcept {
    ByteReader r(message);
    std::uint8_t type = 0;
    if (!r.read_u8(type)) {
        return ParseStatus::kTruncated;
    }
    if (type != expected_type) {
        return ParseStatus::kUnsupported;
    }
    std::uint32_t length = 0;
    if (!r.read_u24(length) || !r.read_bytes(length, body)) {
        return ParseStatus::kTruncated;
    }
    return ParseStatus::kOk;
}

// The optional extension block at the end of a hello (RFC 8446 section 4.1.2 keeps
// "extensions_present" logic from RFC 5246 section 7.4.1.2: absent in old hellos).
template <typename Hello, typename OnExtension>
ParseStatus parse_extension_block(ByteReader& b, Hello& out, OnExtension&& on_extension) noexcept {
    if (b.empty()) {
        return ParseStatus::kOk;
    }
    std::uint16_t block_len = 0;
    if (!b.read_u16(block_len)) {
        out.flags |= kTlsFlagExtensionsIncomplete;
        return ParseStatus::kMalformed;
    }
    Bytes block;
    bool overran = false;
    if (!b.read_bytes(block_len, block)) {
        // The block claims more than the message holds: walk what is there so the
        // extensions before the fault (often the SNI) are still reported.
        overran = true;
        block = b.rest();
        (void)b.skip(b.remaining());
    }
    const ParseStatus st = walk_extensions(ByteReader(block), out, on_extension);
    if (st != ParseStatus::kOk) {
        return st;
    }
    if (overran) {
        out.flags |= kTlsFlagExtensionsIncomplete;
        return ParseStatus::kMalformed;
    }
    if (!b.empty()) {
        out.flags |= kTlsFlagTrailingData;
        return ParseStatus::kMalformed;
    }
    return ParseStatus::kOk;
}

} // namespace

ParseStatus parse_client_hello(Bytes message, TlsClientHello& out) noexcept {
    out = TlsClientHello{};
    Bytes body;
    if (const ParseStatus st = read_handshake(message, tls::kHandshakeClientHello, body);
        st != ParseStatus::kOk) {
        return st;
    }
    out.message_length = static_cast<std::uint32_t>(body.size() + 4);

    // RFC 8446 section 4.1.2: legacy_version, random[32], legacy_session_id<0..32>,
    // cipher_suites<2..2^16-2>, legacy_compression_methods<1..2^8-1>, extensions.
    ByteReader b(body);
    if (!b.read_u16(out.legacy_version) || !b.skip(32)) {
        return ParseStatus::kMalformed;
    }
    auto session_id = b.read_prefixed_u8();
    if (!session_id || session_id->remaining() > kMaxSessionIdLength) {
        return ParseStatus::kMalformed;
    }
    auto suites = b.read_prefixed_u16();
    if (!suites || !read_u16_vector(*suites, out.cipher_suites)) {
        return ParseStatus::kMalformed;
    }
    note_capped(out.cipher_suites, out.flags);
    auto compression = b.read_prefixed_u8();
    if (!compression || compression->empty()) {
        return ParseStatus::kMalformed;
    }
    return parse_extension_block(b, out, parse_client_extension);
}

namespace {

bool parse_server_extension(std::uint16_t type, ByteReader ext, TlsServerHello& out) noexcept {
    switch (type) {
    case tls::kExtSupportedVersions: {
        // RFC 8446 section 4.2.1: ServerHello carries one selected_version.
        std::uint16_t v = 0;
        if (!ext.read_u16(v) || !ext.empty()) {
            return false;
        }
        out.selected_version = v;
        out.has_supported_versions = true;
        return true;
    }
    case tls::kExtAlpn: {
        // RFC 7301 section 3.1: the server's list "MUST contain exactly one" protocol.
        auto list = whole_u16_prefixed(ext);
        if (!list) {
            return false;
        }
        auto name = list->read_prefixed_u8();
        if (!name || name->empty() || !list->empty()) {
            return false;
        }
        if (!out.alpn.assign(as_string_view(name->rest()))) {
            out.flags |= kTlsFlagAlpnTruncated;
        }
        out.has_alpn = true;
        return true;
    }
    case tls::kExtKeyShare: {
        // RFC 8446 section 4.2.8: KeyShareEntry server_share in a ServerHello,
        // NamedGroup selected_group alone in a HelloRetryRequest.
        if (!ext.read_u16(out.key_share_group)) {
            return false;
        }
        if (!out.is_hello_retry_request) {
            auto key = ext.read_prefixed_u16();
            if (!key || key->empty()) {
                return false;
            }
        }
        out.has_key_share = ext.empty();
        return out.has_key_share;
    }
    default:
        return true;
    }
}

} // namespace

ParseStatus parse_server_hello(Bytes message, TlsServerHello& out) noexcept {
    out = TlsServerHello{};
    Bytes body;
    if (const ParseStatus st = read_handshake(message, tls::kHandshakeServerHello, body);
        st != ParseStatus::kOk) {
        return st;
    }
    out.message_length = static_cast<std::uint32_t>(body.size() + 4);

    // RFC 8446 section 4.1.3: legacy_version, random[32], legacy_session_id_echo<0..32>,
    // cipher_suite, legacy_compression_method, extensions.
    ByteReader b(body);
    Bytes random;
    if (!b.read_u16(out.legacy_version) || !b.read_bytes(32, random)) {
        return ParseStatus::kMalformed;
    }
    out.selected_version = out.legacy_version;
    out.is_hello_retry_request =
        std::equal(random.begin(), random.end(), kHelloRetryRequestRandom.begin());
    auto session_id = b.read_prefixed_u8();
    if (!session_id || session_id->remaining() > kMaxSessionIdLength) {
        return ParseStatus::kMalformed;
    }
    if (!b.read_u16(out.cipher_suite) || !b.read_u8(out.compression_method)) {
        return ParseStatus::kMalformed;
    }
    return parse_extension_block(b, out, parse_server_extension);
}

} // namespace wt::parsers
