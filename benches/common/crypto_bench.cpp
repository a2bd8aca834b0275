// parsers/common's SHA-256 and HKDF beside libcrypto's EVP path, on the sizes the packet path
// hashes: a JA4 part (~110 bytes, once per TLS ClientHello) and the QUIC Initial key schedule
// (HKDF-Extract plus four HKDF-Expand-Label, once per QUIC connection). The policy of
// parsers/common/sha256.hpp (EVP unless it costs more than the packet path affords) rests on
// these figures: cycles per operation (rdtsc) and heap allocations per operation.
#include "parsers/common/hkdf.hpp"

#include "tests/support/alloc_counter.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include <x86intrin.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using wt::parsers::Bytes;
using wt::parsers::Sha256;

// RFC 9001 appendix A: the client's DCID and the v1 salt.
constexpr std::array<std::uint8_t, 8> kDcid = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
constexpr std::array<std::uint8_t, 20> kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                                  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9001 appendix A.1: the client's hp key, which both ways must reach.
constexpr std::array<std::uint8_t, 16> kClientHp = {0x9f, 0x50, 0x44, 0x9e, 0x04, 0xa0, 0xe8, 0x10,
                                                    0x28, 0x3a, 0x1e, 0x99, 0x33, 0xad, 0xed, 0xd2};

// libcrypto allocates with malloc, not operator new: count its calls through its own hooks,
// installed before its first allocation (a static initialiser of this binary).
std::size_t g_libcrypto_allocations = 0;
void* counted_malloc(std::size_t n, const char*, int) {
    ++g_libcrypto_allocations;
    return std::malloc(n);
}
void* counted_realloc(void* p, std::size_t n, const char*, int) {
    ++g_libcrypto_allocations;
    return std::realloc(p, n);
}
void plain_free(void* p, const char*, int) { std::free(p); }
const bool g_hooks_installed = CRYPTO_set_mem_functions(counted_malloc, counted_realloc, plain_free) == 1;

struct Meter {
    explicit Meter(benchmark::State& s)
        : state(s), allocs(wt::testing::allocation_count() + g_libcrypto_allocations), tsc(__rdtsc()) {}
    ~Meter() {
        const auto n = static_cast<double>(state.iterations());
        state.counters["cycles/op"] = static_cast<double>(__rdtsc() - tsc) / n;
        if (g_hooks_installed) {
            state.counters["allocs/op"] =
                static_cast<double>(wt::testing::allocation_count() + g_libcrypto_allocations - allocs) / n;
        } else {
            state.SkipWithError("libcrypto's allocation hooks could not be installed");
        }
        state.SetItemsProcessed(state.iterations());
    }
    benchmark::State& state;
    std::size_t allocs;
    std::uint64_t tsc;
};

std::vector<std::uint8_t> ja4_sized_input(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>("0123456789abcdef,_"[i % 18]);
    }
    return v;
}

void BM_Sha256_Ours(benchmark::State& state) {
    const auto input = ja4_sized_input(static_cast<std::size_t>(state.range(0)));
    Sha256::Digest reference{};
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), reference.data(), &len, EVP_sha256(), nullptr);
    Meter meter(state);
    for (auto _ : state) {
        const Sha256::Digest d = Sha256::hash(input);
        benchmark::DoNotOptimize(d);
        if (d != reference) {
            state.SkipWithError("digest differs from libcrypto's");
            break;
        }
    }
}
BENCHMARK(BM_Sha256_Ours)->Arg(110)->Arg(1024);

// The cheapest EVP digest: one context reused, the algorithm fetched once.
void BM_Sha256_EvpReusedContext(benchmark::State& state) {
    const auto input = ja4_sized_input(static_cast<std::size_t>(state.range(0)));
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Sha256::Digest reference = Sha256::hash(input);
    Meter meter(state);
    for (auto _ : state) {
        Sha256::Digest d{};
        unsigned int len = 0;
        if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, input.data(), input.size()) != 1 ||
            EVP_DigestFinal_ex(ctx, d.data(), &len) != 1 || d != reference) {
            state.SkipWithError("EVP digest failed or differs");
            break;
        }
        benchmark::DoNotOptimize(d);
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
}
BENCHMARK(BM_Sha256_EvpReusedContext)->Arg(110)->Arg(1024);

std::array<std::uint8_t, 16> initial_hp_ours() {
    const Sha256::Digest initial = wt::parsers::hkdf_extract(kSaltV1, kDcid);
    Sha256::Digest client{};
    std::array<std::uint8_t, 16> key{};
    std::array<std::uint8_t, 12> iv{};
    std::array<std::uint8_t, 16> hp{};
    (void)wt::parsers::hkdf_expand_label(initial, "client in", {}, client);
    const wt::parsers::HmacSha256 keyed(client);
    (void)wt::parsers::hkdf_expand_label(keyed, "quic key", {}, key);
    (void)wt::parsers::hkdf_expand_label(keyed, "quic iv", {}, iv);
    (void)wt::parsers::hkdf_expand_label(keyed, "quic hp", {}, hp);
    benchmark::DoNotOptimize(key);
    benchmark::DoNotOptimize(iv);
    return hp;
}

void BM_QuicInitialKeySchedule_Ours(benchmark::State& state) {
    Meter meter(state);
    for (auto _ : state) {
        if (initial_hp_ours() != kClientHp) {
            state.SkipWithError("hp key differs from RFC 9001 A.1");
            break;
        }
    }
}
BENCHMARK(BM_QuicInitialKeySchedule_Ours);

// The same schedule through EVP_KDF: HKDF (extract) and TLS13-KDF (expand), each fetched once
// with one context reused, as a worker would hold them.
class EvpSchedule {
public:
    EvpSchedule()
        : _hkdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr)), _tls13(EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr)),
          _extract(_hkdf != nullptr ? EVP_KDF_CTX_new(_hkdf) : nullptr),
          _expand(_tls13 != nullptr ? EVP_KDF_CTX_new(_tls13) : nullptr) {}
    ~EvpSchedule() {
        EVP_KDF_CTX_free(_extract);
        EVP_KDF_CTX_free(_expand);
        EVP_KDF_free(_hkdf);
        EVP_KDF_free(_tls13);
    }
    EvpSchedule(const EvpSchedule&) = delete;
    EvpSchedule& operator=(const EvpSchedule&) = delete;

    bool hp(std::array<std::uint8_t, 16>& hp_out) {
        if (_extract == nullptr || _expand == nullptr) {
            return false;
        }
        int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
        char digest[] = "SHA256";
        auto salt = kSaltV1;
        auto dcid = kDcid;
        OSSL_PARAM extract_params[] = {OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
                                       OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, dcid.data(), dcid.size()),
                                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
                                       OSSL_PARAM_construct_end()};
        std::array<std::uint8_t, 32> initial{};
        std::array<std::uint8_t, 32> client{};
        std::array<std::uint8_t, 16> key{};
        std::array<std::uint8_t, 12> iv{};
        return EVP_KDF_derive(_extract, initial.data(), initial.size(), extract_params) == 1 &&
               expand(initial, "client in", client) && expand(client, "quic key", key) &&
               expand(client, "quic iv", iv) && expand(client, "quic hp", hp_out);
    }

private:
    bool expand(std::array<std::uint8_t, 32>& secret, std::string_view label, std::span<std::uint8_t> out) {
        int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
        char digest[] = "SHA256";
        char prefix[] = "tls13 ";
        std::array<char, 16> label_text{};
        std::memcpy(label_text.data(), label.data(), label.size());
        std::uint8_t empty = 0;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret.data(), secret.size()),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix, 6),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, label_text.data(), label.size()),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, &empty, 0),
            OSSL_PARAM_construct_end()};
        return EVP_KDF_derive(_expand, out.data(), out.size(), params) == 1;
    }

    EVP_KDF* _hkdf;
    EVP_KDF* _tls13;
    EVP_KDF_CTX* _extract;
    EVP_KDF_CTX* _expand;
};

void BM_QuicInitialKeySchedule_EvpKdf(benchmark::State& state) {
    EvpSchedule schedule;
    Meter meter(state);
    for (auto _ : state) {
        std::array<std::uint8_t, 16> hp{};
        if (!schedule.hp(hp) || hp != kClientHp) {
            state.SkipWithError("EVP_KDF failed or its hp key differs from RFC 9001 A.1");
            break;
        }
    }
}
BENCHMARK(BM_QuicInitialKeySchedule_EvpKdf);

} // namespace

WT_BENCHMARK_MAIN();
