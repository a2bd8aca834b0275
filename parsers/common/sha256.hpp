// SHA-256 (FIPS 180-4) for JA4 fingerprints and, through hkdf.hpp, QUIC Initial key
// derivation: the one SHA-256 of the packet path. Our own small implementation rather than OpenSSL:
// OpenSSL 3's one-shot SHA256() goes through EVP_Q_digest, which fetches the
// algorithm and allocates a context per call; a reused EVP_MD_CTX still allocates
// once per EVP_DigestInit_ex2 (measured: 1 alloc and ~365 ns for 110 bytes), and the
// non-allocating SHA256_Init/Update/Final are deprecated. This one is streaming,
// allocation-free and noexcept, with two compression functions: portable C++ and
// x86 SHA extensions (SHA-NI), picked once by CPUID; both are tested against
// libcrypto in tests/parsers/common/sha256_test.cpp.
// benches/common/crypto_bench.cpp measures it beside libcrypto's EVP path.
// Not constant-time: it only hashes public data (fingerprint strings, and Initial secrets
// that follow from connection IDs on the wire).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wt::parsers {

class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;

    enum class Impl : std::uint8_t {
        kPortable, ///< plain C++
        kShaNi,    ///< x86 SHA extensions + SSE4.1; only if supported() says so
    };
    // The fastest implementation this CPU supports (CPUID, evaluated once).
    [[nodiscard]] static Impl best() noexcept;
    [[nodiscard]] static bool supported(Impl impl) noexcept;

    Sha256() noexcept : _impl(best()) {}
    explicit Sha256(Impl impl) noexcept : _impl(supported(impl) ? impl : Impl::kPortable) {}

    void update(std::span<const std::uint8_t> data) noexcept;
    void update(std::string_view s) noexcept {
        update(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    }
    [[nodiscard]] Digest finish() noexcept;

    [[nodiscard]] static Digest hash(std::span<const std::uint8_t> data) noexcept {
        Sha256 h;
        h.update(data);
        return h.finish();
    }

private:
    void compress(const std::uint8_t* block) noexcept;

    std::array<std::uint32_t, 8> _state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<std::uint8_t, 64> _block{};
    std::size_t _block_len = 0;
    std::uint64_t _total = 0;
    Impl _impl;
};

} // namespace wt::parsers
