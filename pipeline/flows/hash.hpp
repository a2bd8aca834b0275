// Hashing helpers shared by the flow key, the tally tables and the DNS cache.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wt::pipeline {

// 64-bit mixer (from the MurmurHash3 finaliser) for combining words of a key.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

[[nodiscard]] inline std::uint64_t hash_bytes(const void* data, std::size_t len, std::uint64_t seed = 0) noexcept {
    // FNV-1a over bytes then a final mix: names are short, this is off the per-packet path.
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (std::size_t i = 0; i < len; ++i) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return mix64(h);
}

} // namespace wt::pipeline
