#include "parsers/tls/sha256.hpp"

#include <algorithm>
#include <cstring>

namespace wt::parsers {
namespace {

// FIPS 180-4 section 4.2.2.
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) noexcept { return (x >> n) | (x << (32 - n)); }

} // namespace

void Sha256::compress(const std::uint8_t* p) noexcept {
    std::array<std::uint32_t, 64> w{};
    for (std::size_t i = 0; i < 16; ++i) {
        w[i] = (std::uint32_t{p[4 * i]} << 24) | (std::uint32_t{p[4 * i + 1]} << 16) |
               (std::uint32_t{p[4 * i + 2]} << 8) | p[4 * i + 3];
    }
    for (std::size_t i = 16; i < 64; ++i) {
        const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = _state[0], b = _state[1], c = _state[2], d = _state[3];
    std::uint32_t e = _state[4], f = _state[5], g = _state[6], h = _state[7];
    for (std::size_t i = 0; i < 64; ++i) {
        const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + s1 + ch + kRoundConstants[i] + w[i];
        const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    _state[0] += a;
    _state[1] += b;
    _state[2] += c;
    _state[3] += d;
    _state[4] += e;
    _state[5] += f;
    _state[6] += g;
    _state[7] += h;
}

void Sha256::update(std::span<const std::uint8_t> data) noexcept {
    _total += data.size();
    while (!data.empty()) { // each pass consumes >= 1 byte
        const std::size_t n = std::min(data.size(), _block.size() - _block_len);
        std::memcpy(_block.data() + _block_len, data.data(), n);
        _block_len += n;
        data = data.subspan(n);
        if (_block_len == _block.size()) {
            compress(_block.data());
            _block_len = 0;
        }
    }
}

Sha256::Digest Sha256::finish() noexcept {
    // FIPS 180-4 section 5.1.1: 0x80, zeros, then the bit length as a 64-bit big-endian.
    const std::uint64_t bits = _total * 8;
    _block[_block_len++] = 0x80;
    if (_block_len > 56) {
        std::fill(_block.begin() + static_cast<std::ptrdiff_t>(_block_len), _block.end(), 0);
        compress(_block.data());
        _block_len = 0;
    }
    std::fill(_block.begin() + static_cast<std::ptrdiff_t>(_block_len), _block.begin() + 56, 0);
    for (std::size_t i = 0; i < 8; ++i) {
        _block[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    }
    compress(_block.data());
    Digest out{};
    for (std::size_t i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<std::uint8_t>(_state[i] >> 24);
        out[4 * i + 1] = static_cast<std::uint8_t>(_state[i] >> 16);
        out[4 * i + 2] = static_cast<std::uint8_t>(_state[i] >> 8);
        out[4 * i + 3] = static_cast<std::uint8_t>(_state[i]);
    }
    return out;
}

} // namespace wt::parsers
