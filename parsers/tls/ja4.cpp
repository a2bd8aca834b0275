#include "parsers/tls/ja4.hpp"

#include "parsers/common/sha256.hpp"
#include "parsers/tls/tls_types.hpp"

#include <algorithm>
#include <array>

namespace wt::parsers {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Ordering key so that a later protocol version sorts higher: DTLS (0xfeXX) counts
// down from 0xfeff (RFC 9147 section 5.3), TLS counts up.
constexpr std::uint32_t version_rank(std::uint16_t v) noexcept {
    if ((v >> 8) == 0xfe) {
        return 0x10000u + (0xffu - (v & 0xffu));
    }
    return v;
}

constexpr std::string_view version_code(std::uint16_t v) noexcept {
    switch (v) {
    case tls::kVersionTls13: return "13";
    case tls::kVersionTls12: return "12";
    case tls::kVersionTls11: return "11";
    case tls::kVersionTls10: return "10";
    case tls::kVersionSsl3: return "s3";
    case 0x0002: return "s2";
    case tls::kVersionDtls10: return "d1";
    case tls::kVersionDtls12: return "d2";
    case tls::kVersionDtls13: return "d3";
    default: return "00";
    }
}

constexpr bool is_alnum(std::uint8_t c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void append_two_digits(FixedString<40>& out, std::size_t n) noexcept {
    n = std::min<std::size_t>(n, 99);
    out.push_back(static_cast<char>('0' + n / 10));
    out.push_back(static_cast<char>('0' + n % 10));
}

// Copies the non-GREASE values of `list` into `dst`; returns how many.
template <std::size_t Capacity>
std::size_t non_grease(const U16List<Capacity>& list, std::array<std::uint16_t, Capacity>& dst,
                       bool drop_sni_alpn = false) noexcept {
    std::size_t n = 0;
    for (const std::uint16_t v : list.view()) {
        if (tls::is_grease(v)) {
            continue;
        }
        if (drop_sni_alpn && (v == tls::kExtServerName || v == tls::kExtAlpn)) {
            continue;
        }
        dst[n++] = v;
    }
    return n;
}

// Feeds "xxxx,xxxx,..." to the hash, formatted in stack chunks (one update per chunk).
void hash_hex_list(Sha256& h, std::span<const std::uint16_t> values) noexcept {
    constexpr std::size_t kChunk = 64; // values per update
    char buf[kChunk * 5];
    for (std::size_t base = 0; base < values.size(); base += kChunk) {
        std::size_t len = 0;
        const std::size_t end = std::min(values.size(), base + kChunk);
        for (std::size_t i = base; i < end; ++i) {
            if (i > 0) {
                buf[len++] = ',';
            }
            const std::uint16_t v = values[i];
            buf[len++] = kHex[(v >> 12) & 0xf];
            buf[len++] = kHex[(v >> 8) & 0xf];
            buf[len++] = kHex[(v >> 4) & 0xf];
            buf[len++] = kHex[v & 0xf];
        }
        h.update(std::string_view(buf, len));
    }
}

void append_truncated_digest(FixedString<40>& out, Sha256& h) noexcept {
    const Sha256::Digest d = h.finish();
    for (std::size_t i = 0; i < 6; ++i) {
        out.push_back(kHex[d[i] >> 4]);
        out.push_back(kHex[d[i] & 0xf]);
    }
}

} // namespace

void ja4_fingerprint(const TlsClientHello& hello, char transport, FixedString<40>& out) noexcept {
    out.clear();
    out.push_back(transport);

    // Version: newest non-GREASE supported_versions entry, else legacy_version.
    std::uint16_t version = hello.legacy_version;
    bool found = false;
    for (const std::uint16_t v : hello.supported_versions.view()) {
        if (!tls::is_grease(v) && (!found || version_rank(v) > version_rank(version))) {
            version = v;
            found = true;
        }
    }
    out.append(version_code(version));

    const auto exts = hello.extensions.view();
    const bool sni_present = std::find(exts.begin(), exts.end(), tls::kExtServerName) != exts.end();
    out.push_back(sni_present ? 'd' : 'i');

    std::array<std::uint16_t, limits::kMaxCipherSuites> ciphers{};
    const std::size_t n_ciphers = non_grease(hello.cipher_suites, ciphers);
    std::array<std::uint16_t, limits::kMaxTlsExtensions> ext_sorted{};
    const std::size_t n_exts = non_grease(hello.extensions, ext_sorted);
    // Values beyond our storage bound still count (they can only push the count to 99).
    append_two_digits(out, n_ciphers + (hello.cipher_suites.total - hello.cipher_suites.count));
    append_two_digits(out, n_exts + (hello.extensions.total - hello.extensions.count));

    if (hello.alpn_count == 0 || hello.alpn_first_size == 0) {
        out.append("00");
    } else if (is_alnum(hello.alpn_first_byte) && is_alnum(hello.alpn_last_byte)) {
        out.push_back(static_cast<char>(hello.alpn_first_byte));
        out.push_back(static_cast<char>(hello.alpn_last_byte));
    } else {
        out.push_back(kHex[hello.alpn_first_byte >> 4]);
        out.push_back(kHex[hello.alpn_last_byte & 0xf]);
    }
    out.push_back('_');

    if (n_ciphers == 0) {
        out.append("000000000000");
    } else {
        std::sort(ciphers.begin(), ciphers.begin() + static_cast<std::ptrdiff_t>(n_ciphers));
        Sha256 h;
        hash_hex_list(h, std::span(ciphers.data(), n_ciphers));
        append_truncated_digest(out, h);
    }
    out.push_back('_');

    const std::size_t n_hashed = non_grease(hello.extensions, ext_sorted, true);
    if (n_hashed == 0) {
        out.append("000000000000");
        return;
    }
    std::sort(ext_sorted.begin(), ext_sorted.begin() + static_cast<std::ptrdiff_t>(n_hashed));
    std::array<std::uint16_t, limits::kMaxSignatureAlgorithms> sigs{};
    const std::size_t n_sigs = non_grease(hello.signature_algorithms, sigs);
    Sha256 h;
    hash_hex_list(h, std::span(ext_sorted.data(), n_hashed));
    if (n_sigs > 0) {
        h.update(std::string_view("_"));
        hash_hex_list(h, std::span(sigs.data(), n_sigs));
    }
    append_truncated_digest(out, h);
}

} // namespace wt::parsers
