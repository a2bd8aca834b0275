// No allocation per packet: neither C++ (operator new) nor OpenSSL (CRYPTO_malloc, hooked with
// CRYPTO_set_mem_functions before OpenSSL allocates anything) once a decryptor exists.
#include "parsers/quic/client_initial.hpp"

#include "tests/parsers/quic/vectors.hpp"

#include <openssl/crypto.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

namespace {

std::atomic<std::size_t> g_cpp_allocs{0};
std::atomic<std::size_t> g_ssl_allocs{0};

void* ssl_malloc(std::size_t n, const char*, int) {
    ++g_ssl_allocs;
    return std::malloc(n);
}
void* ssl_realloc(void* p, std::size_t n, const char*, int) {
    ++g_ssl_allocs;
    return std::realloc(p, n);
}
void ssl_free(void* p, const char*, int) { std::free(p); }

// Runs during static initialization, before gtest or OpenSSL allocate.
const bool g_ssl_hooked = CRYPTO_set_mem_functions(ssl_malloc, ssl_realloc, ssl_free) == 1;

} // namespace

void* operator new(std::size_t n) {
    ++g_cpp_allocs;
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace wt::parsers {
namespace {

namespace tv = test_vectors;

TEST(QuicAllocations, NonePerDatagram) {
    // The hook is installed during static initialisation; if OpenSSL allocated first, its allocations could
    // not be counted and the case would prove nothing.
    ASSERT_TRUE(g_ssl_hooked) << "OpenSSL allocated before CRYPTO_set_mem_functions could hook it";
    auto dec = std::make_unique<QuicInitialDecryptor>();
    auto state = std::make_unique<QuicFlowState>();
    ASSERT_TRUE(dec->ready());
    // Warm-up: OpenSSL resolves its providers and algorithms lazily on first use.
    ASSERT_EQ(process_client_initial_datagram(*dec, tv::kRfc9001ClientInitial, *state), ParseStatus::kOk);
    state->reset();
    ASSERT_EQ(process_client_initial_datagram(*dec, tv::kRfc9369ClientInitial, *state), ParseStatus::kOk);

    const std::size_t cpp0 = g_cpp_allocs.load();
    const std::size_t ssl0 = g_ssl_allocs.load();
    for (int i = 0; i < 20; ++i) {
        for (const auto& flow : tv::kCorpusFlows) {
            state->reset(); // new flow: keys derived again
            for (std::size_t d = 0; d < flow.count; ++d) {
                static_cast<void>(process_client_initial_datagram(*dec, flow.datagrams[d], *state));
            }
        }
        state->reset();
        ASSERT_EQ(process_client_initial_datagram(*dec, tv::kRfc9001ClientInitial, *state), ParseStatus::kOk);
    }
    EXPECT_EQ(g_cpp_allocs.load() - cpp0, 0u);
    EXPECT_EQ(g_ssl_allocs.load() - ssl0, 0u);
}

} // namespace
} // namespace wt::parsers
