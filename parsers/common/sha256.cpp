#include "parsers/common/sha256.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define WT_SHA256_X86 1
#endif

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

// std::byteswap is C++23; GCC and Clang have the builtins.
constexpr std::uint32_t to_big_endian(std::uint32_t v) noexcept {
    return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
constexpr std::uint64_t to_big_endian(std::uint64_t v) noexcept {
    return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
}

constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) noexcept { return (x >> n) | (x << (32 - n)); }

#ifdef WT_SHA256_X86
bool cpu_has_sha_ni() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) {
        return false;
    }
    const bool sse41 = (c & (1u << 19)) != 0;
    const bool ssse3 = (c & (1u << 9)) != 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) {
        return false;
    }
    const bool sha = (b & (1u << 29)) != 0; // CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29]
    return sse41 && ssse3 && sha;
}

// One 64-byte block with the SHA extensions (Intel SHA Extensions white paper,
// 2013): the state is kept as ABEF/CDGH, four rounds per _mm_sha256rnds2_epu32 pair,
// message schedule by sha256msg1/msg2 on groups of four words.
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_ni(std::array<std::uint32_t, 8>& state,
                                                                  const std::uint8_t* p) noexcept {
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));     // DCBA
    __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4])); // HGFE
    tmp = _mm_shuffle_epi32(tmp, 0xb1);                                             // CDAB
    state1 = _mm_shuffle_epi32(state1, 0x1b);                                       // EFGH
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                               // ABEF
    state1 = _mm_blend_epi16(state1, tmp, 0xf0);                                    // CDGH
    const __m128i abef_save = state0;
    const __m128i cdgh_save = state1;

    __m128i w[4];
    for (int i = 0; i < 4; ++i) {
        w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), byte_swap);
    }
    for (int g = 0; g < 16; ++g) { // 16 groups of 4 rounds
        if (g >= 4) {
            // W[4g..4g+3] from the previous four groups (FIPS 180-4 section 6.2.2 step 1).
            const __m128i prev1 = w[(g - 1) & 3];
            const __m128i prev2 = w[(g - 2) & 3];
            __m128i next = _mm_sha256msg1_epu32(w[g & 3], w[(g - 3) & 3]);
            next = _mm_add_epi32(next, _mm_alignr_epi8(prev1, prev2, 4));
            w[g & 3] = _mm_sha256msg2_epu32(next, prev1);
        }
        __m128i msg = _mm_add_epi32(
            w[g & 3], _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRoundConstants[static_cast<std::size_t>(4 * g)])));
        state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
        msg = _mm_shuffle_epi32(msg, 0x0e);
        state0 = _mm_sha256rnds2_epu32(state0, state1, msg);
    }
    state0 = _mm_add_epi32(state0, abef_save);
    state1 = _mm_add_epi32(state1, cdgh_save);

    tmp = _mm_shuffle_epi32(state0, 0x1b);       // FEBA
    state1 = _mm_shuffle_epi32(state1, 0xb1);    // DCHG
    state0 = _mm_blend_epi16(tmp, state1, 0xf0); // DCBA
    state1 = _mm_alignr_epi8(state1, tmp, 8);    // HGFE
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), state0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), state1);
}
#endif

} // namespace

Sha256::Impl Sha256::best() noexcept {
    return supported(Impl::kShaNi) ? Impl::kShaNi : Impl::kPortable;
}

bool Sha256::supported(Impl impl) noexcept {
    switch (impl) {
    case Impl::kPortable:
        return true;
    case Impl::kShaNi: {
#ifdef WT_SHA256_X86
        static const bool has = cpu_has_sha_ni(); // thread-safe, no allocation
        return has;
#else
        return false;
#endif
    }
    }
    return false;
}

void Sha256::compress(const std::uint8_t* p) noexcept {
#ifdef WT_SHA256_X86
    if (_impl == Impl::kShaNi) {
        compress_sha_ni(_state, p);
        return;
    }
#endif
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
    // Big-endian length and digest words as whole-word byte swaps: byte by byte, the digest
    // alone cost a fifth of an HMAC (perf, benches/quic BM_DeriveInitialKeys).
    const std::uint64_t bits_be = to_big_endian(bits);
    std::memcpy(_block.data() + 56, &bits_be, sizeof(bits_be));
    compress(_block.data());
    Digest out{};
    for (std::size_t i = 0; i < 8; ++i) {
        const std::uint32_t word_be = to_big_endian(_state[i]);
        std::memcpy(out.data() + 4 * i, &word_be, sizeof(word_be));
    }
    return out;
}

} // namespace wt::parsers
