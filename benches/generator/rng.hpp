// SplitMix64 (Steele, Lea, Flood 2014): 8 bytes of state, so every flow carries its own
// stream and a flow's packets do not depend on how the others interleave. Deterministic
// across platforms; not for cryptography.
#pragma once

#include <cstdint>

namespace wt::gen {

class Rng {
public:
    constexpr explicit Rng(std::uint64_t seed = 0) noexcept : _state(seed) {}

    constexpr std::uint64_t next() noexcept {
        std::uint64_t z = (_state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
    constexpr std::uint32_t below(std::uint32_t n) noexcept {
        return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
    }
    // Uniform in [lo, hi].
    constexpr std::uint32_t between(std::uint32_t lo, std::uint32_t hi) noexcept { return lo + below(hi - lo + 1); }
    // Uniform in [0, 1).
    constexpr double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // A seed for stream `index` of generator `seed` (one flow, one table).
    static constexpr std::uint64_t derive(std::uint64_t seed, std::uint64_t index) noexcept {
        Rng r(seed ^ (index * 0xd1b54a32d192ed03ull));
        r.next();
        return r.next();
    }

private:
    std::uint64_t _state;
};

} // namespace wt::gen
