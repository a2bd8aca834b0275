// The Internet checksum (RFC 1071), for what builds or finishes packets: the traffic generator and
// the software offloads. Callers check their lengths first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wt::parsers {

// Folds a wide one's complement accumulator to 16 bits (not complemented).
[[nodiscard]] constexpr std::uint16_t ones_fold(std::uint64_t sum) noexcept {
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

// The one's complement sum of `len` bytes as big-endian 16-bit words (an odd last byte padded with
// zero) added to `initial`, folded to 16 bits, not complemented. 32-bit words into a 64-bit
// accumulator: no carry is lost below 2^32 words.
[[nodiscard]] inline std::uint16_t ones_sum(const std::uint8_t* p, std::size_t len, std::uint64_t initial = 0) noexcept {
    std::uint64_t sum = initial;
    for (; len >= 4; p += 4, len -= 4) {
        sum += (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
               (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
    }
    if (len >= 2) {
        sum += (static_cast<std::uint32_t>(p[0]) << 8) | p[1];
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        sum += static_cast<std::uint32_t>(p[0]) << 8;
    }
    return ones_fold(sum);
}

} // namespace wt::parsers
