// The reassembled QUIC ClientHello goes through parsers/tls unchanged.
#include "parsers/quic/client_initial.hpp"
#include "parsers/tls/client_hello.hpp"

#include "tests/parsers/quic/vectors.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace wt::parsers {
namespace {

namespace tv = test_vectors;

TEST(QuicTlsIntegration, SniFromEveryDecryptableCorpusFlow) {
    auto dec = std::make_unique<QuicInitialDecryptor>();
    auto state = std::make_unique<QuicFlowState>();
    auto hello = std::make_unique<TlsClientHello>();
    ASSERT_EQ(process_client_initial_datagram(*dec, tv::kRfc9001ClientInitial, *state), ParseStatus::kOk);
    ASSERT_EQ(parse_client_hello(state->crypto.client_hello(), *hello), ParseStatus::kOk);
    EXPECT_EQ(hello->sni.view(), "example.com");
    for (const auto& flow : tv::kCorpusFlows) {
        if (flow.sni.empty()) {
            continue;
        }
        SCOPED_TRACE(std::string(flow.id));
        state->reset();
        ParseStatus st = ParseStatus::kNeedMore;
        for (std::size_t i = 0; i < flow.count && st != ParseStatus::kOk; ++i) {
            st = process_client_initial_datagram(*dec, flow.datagrams[i], *state);
        }
        ASSERT_EQ(st, ParseStatus::kOk);
        *hello = TlsClientHello{};
        ASSERT_EQ(parse_client_hello(state->crypto.client_hello(), *hello), ParseStatus::kOk);
        EXPECT_TRUE(hello->has_sni);
        EXPECT_EQ(hello->sni.view(), flow.sni);
    }
}

} // namespace
} // namespace wt::parsers
