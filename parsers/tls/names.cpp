#include "parsers/tls/names.hpp"

#include "parsers/tls/tls_types.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace wt::parsers {
namespace {

struct Named {
    std::uint16_t value;
    std::string_view name;
};

constexpr Named kCipherSuites[] = {
#include "parsers/tls/cipher_names.inc"
};

// IANA "TLS Supported Groups" (RFC 8446 section 4.2.7, RFC 7919, and the hybrid
// post-quantum code points real clients send).
constexpr Named kGroups[] = {
    {0x0017, "secp256r1"},
    {0x0018, "secp384r1"},
    {0x0019, "secp521r1"},
    {0x001a, "brainpoolP256r1"},
    {0x001b, "brainpoolP384r1"},
    {0x001c, "brainpoolP512r1"},
    {0x001d, "x25519"},
    {0x001e, "x448"},
    {0x0100, "ffdhe2048"},
    {0x0101, "ffdhe3072"},
    {0x0102, "ffdhe4096"},
    {0x0103, "ffdhe6144"},
    {0x0104, "ffdhe8192"},
    {0x0200, "MLKEM512"},
    {0x0201, "MLKEM768"},
    {0x0202, "MLKEM1024"},
    {0x11eb, "SecP256r1MLKEM768"},
    {0x11ec, "X25519MLKEM768"},
    {0x11ed, "SecP384r1MLKEM1024"},
    {0x6399, "X25519Kyber768Draft00"},
};

template <std::size_t N>
constexpr bool sorted_unique(const Named (&table)[N]) {
    for (std::size_t i = 1; i < N; ++i) {
        if (table[i - 1].value >= table[i].value) {
            return false;
        }
    }
    return true;
}
static_assert(sorted_unique(kCipherSuites), "binary search needs sorted cipher_names.inc");
static_assert(sorted_unique(kGroups), "binary search needs a sorted table");

template <std::size_t N>
std::string_view lookup(const Named (&table)[N], std::uint16_t v) noexcept {
    const auto it = std::lower_bound(std::begin(table), std::end(table), v,
                                     [](const Named& e, std::uint16_t key) { return e.value < key; });
    if (it != std::end(table) && it->value == v) {
        return it->name;
    }
    return {};
}

} // namespace

std::string_view tls_cipher_suite_name(std::uint16_t suite) noexcept {
    if (tls::is_grease(suite)) {
        return "GREASE";
    }
    return lookup(kCipherSuites, suite);
}

std::string_view tls_version_name(std::uint16_t version) noexcept {
    if (tls::is_grease(version)) {
        return "GREASE";
    }
    switch (version) {
    case 0x0002: return "SSLv2";
    case tls::kVersionSsl3: return "SSLv3";
    case tls::kVersionTls10: return "TLSv1";
    case tls::kVersionTls11: return "TLSv1.1";
    case tls::kVersionTls12: return "TLSv1.2";
    case tls::kVersionTls13: return "TLSv1.3";
    case 0xfb1a: return "TLSv1.3 (Fizz)"; // Facebook's Fizz pre-standard TLS 1.3
    case tls::kVersionDtls10: return "DTLSv1.0";
    case tls::kVersionDtls12: return "DTLSv1.2";
    case tls::kVersionDtls13: return "DTLSv1.3";
    default: break;
    }
    // draft-ietf-tls-tls13-NN used 0x7f00 + NN during standardisation.
    if ((version >> 8) == 0x7f) {
        return "TLSv1.3 (draft)";
    }
    return {};
}

std::string_view tls_group_name(std::uint16_t group) noexcept {
    if (tls::is_grease(group)) {
        return "GREASE";
    }
    return lookup(kGroups, group);
}

} // namespace wt::parsers
