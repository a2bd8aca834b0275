#include "parsers/common/hkdf.hpp"

#include <algorithm>
#include <array>

namespace wt::parsers {
namespace {

constexpr std::size_t kBlockSize = 64; // SHA-256's block (FIPS 180-4 section 5.1.1)

void feed(Sha256& h, const std::array<std::uint8_t, kBlockSize>& pad, std::uint8_t mask) noexcept {
    std::array<std::uint8_t, kBlockSize> masked{};
    for (std::size_t i = 0; i < kBlockSize; ++i) {
        masked[i] = static_cast<std::uint8_t>(pad[i] ^ mask);
    }
    h.update(masked);
}

} // namespace

HmacSha256::HmacSha256(Bytes key) noexcept {
    // RFC 2104 section 2: H(K XOR opad, H(K XOR ipad, text)), K padded with zeros to B bytes.
    std::array<std::uint8_t, kBlockSize> padded_key{};
    if (key.size() > kBlockSize) {
        const Sha256::Digest hashed = Sha256::hash(key);
        std::copy(hashed.begin(), hashed.end(), padded_key.begin());
    } else {
        std::copy(key.begin(), key.end(), padded_key.begin());
    }
    feed(_inner, padded_key, 0x36);
    feed(_outer, padded_key, 0x5c);
}

Sha256::Digest HmacSha256::mac(std::span<const Bytes> parts) const noexcept {
    Sha256 inner = _inner;
    for (const Bytes part : parts) {
        inner.update(part);
    }
    const Sha256::Digest inner_digest = inner.finish();
    Sha256 outer = _outer;
    outer.update(inner_digest);
    return outer.finish();
}

Sha256::Digest hmac_sha256(Bytes key, std::span<const Bytes> parts) noexcept { return HmacSha256(key).mac(parts); }

Sha256::Digest hkdf_extract(Bytes salt, Bytes ikm) noexcept {
    const std::array<Bytes, 1> parts = {ikm};
    return hmac_sha256(salt, parts);
}

bool hkdf_expand_label(const HmacSha256& secret, std::string_view label, Bytes context,
                       std::span<std::uint8_t> out) noexcept {
    constexpr std::string_view kPrefix = "tls13 ";
    if (label.size() > kMaxHkdfLabelSize || context.size() > 255 || out.size() > kMaxHkdfOutputSize) {
        return false;
    }
    // RFC 8446 section 7.1: struct { uint16 length; opaque label<7..255>; opaque context<0..255>; }
    std::array<std::uint8_t, 2 + 1 + 255> head{};
    std::size_t n = 0;
    head[n++] = static_cast<std::uint8_t>(out.size() >> 8);
    head[n++] = static_cast<std::uint8_t>(out.size());
    head[n++] = static_cast<std::uint8_t>(kPrefix.size() + label.size());
    n = static_cast<std::size_t>(std::copy(kPrefix.begin(), kPrefix.end(), head.begin() + n) - head.begin());
    n = static_cast<std::size_t>(std::copy(label.begin(), label.end(), head.begin() + n) - head.begin());
    head[n++] = static_cast<std::uint8_t>(context.size());

    // RFC 5869 section 2.3: T(i) = HMAC(PRK, T(i-1) | info | i), at most 255 rounds.
    Sha256::Digest block{};
    std::size_t written = 0;
    for (std::uint8_t round = 1; written < out.size(); ++round) {
        const std::uint8_t counter = round;
        const std::array<Bytes, 4> parts = {Bytes(block.data(), round == 1 ? 0 : block.size()),
                                            Bytes(head.data(), n), context, Bytes(&counter, 1)};
        block = secret.mac(parts);
        const std::size_t take = std::min(block.size(), out.size() - written);
        std::copy_n(block.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(written));
        written += take;
    }
    return true;
}

} // namespace wt::parsers
