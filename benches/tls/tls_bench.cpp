// Benchmarks for parsers/tls on recorded handshakes (tests/parsers/tls/vectors.hpp).
// Results are checked inside the loop; allocs/op must stay 0.
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/ja4.hpp"

#include "tls_builder.hpp"
#include "vectors.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include "tests/support/alloc_counter.hpp"

#include <array>
#include <cstdlib>
#include <vector>

namespace wt::parsers {
namespace {

const test_vectors::TlsCapture& capture(std::string_view name) {
    for (const auto& c : test_vectors::kCaptures) {
        if (c.name == name) {
            return c;
        }
    }
    std::abort();
}

std::array<std::uint8_t, limits::kMaxClientHelloSize> g_scratch;

Bytes message(std::span<const std::uint8_t> stream, std::uint8_t type) {
    Bytes msg;
    if (tls_first_handshake(stream, type, g_scratch, msg) != ParseStatus::kOk) {
        std::abort();
    }
    return msg;
}

void finish(benchmark::State& state, std::size_t bytes, std::size_t allocs_before) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(wt::testing::allocation_count() - allocs_before),
                                                     benchmark::Counter::kAvgIterations);
}

void BM_ClientHelloParse(benchmark::State& state, std::string_view name) {
    std::vector<std::uint8_t> msg_copy;
    const Bytes m = message(capture(name).client, 1);
    msg_copy.assign(m.begin(), m.end());
    TlsClientHello ch;
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        if (parse_client_hello(msg_copy, ch) != ParseStatus::kOk || !ch.has_sni) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(ch);
    }
    finish(state, msg_copy.size(), a0);
}

void BM_ClientHelloParseJa4(benchmark::State& state, std::string_view name) {
    std::vector<std::uint8_t> msg_copy;
    const Bytes m = message(capture(name).client, 1);
    msg_copy.assign(m.begin(), m.end());
    TlsClientHello ch;
    FixedString<40> fp;
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        if (parse_client_hello(msg_copy, ch) != ParseStatus::kOk) {
            state.SkipWithError("parse failed");
            break;
        }
        ja4_fingerprint(ch, 't', fp);
        if (fp.size() != 36) {
            state.SkipWithError("bad ja4");
            break;
        }
        benchmark::DoNotOptimize(fp);
    }
    finish(state, msg_copy.size(), a0);
}

void BM_ServerHelloParse(benchmark::State& state) {
    const auto& cap = capture("curl_tls13");
    std::vector<std::uint8_t> msg_copy;
    const Bytes m = message(cap.server, 2);
    msg_copy.assign(m.begin(), m.end());
    TlsServerHello sh;
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        if (parse_server_hello(msg_copy, sh) != ParseStatus::kOk || sh.selected_version != 0x0304) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(sh);
    }
    finish(state, msg_copy.size(), a0);
}

// The ECHConfigList of the Chromium lab's HTTPS record (tests/data/ech/README.md): parsed once per
// HTTPS answer that carries one, on the DNS path.
void BM_EchConfigListParse(benchmark::State& state) {
    static constexpr std::array<std::uint8_t, 77> kList = {
        0x00, 0x4b, 0xfe, 0x0d, 0x00, 0x47, 0x42, 0x00, 0x20, 0x00, 0x20, 0x41, 0x53, 0x59, 0x67, 0xa6, 0x32, 0x7b,
        0xd8, 0x4c, 0xf3, 0xd3, 0xd9, 0xa5, 0xf3, 0x36, 0x6b, 0x9a, 0xbc, 0x07, 0x90, 0xce, 0x25, 0x17, 0xa5, 0xe6,
        0xa3, 0x7f, 0x20, 0xf7, 0xda, 0x47, 0x1e, 0x00, 0x04, 0x00, 0x01, 0x00, 0x01, 0x00, 0x18, 0x70, 0x75, 0x62,
        0x6c, 0x69, 0x63, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2d, 0x63, 0x61, 0x72, 0x73, 0x2e, 0x74,
        0x65, 0x73, 0x74, 0x00, 0x00};
    EchConfigSummary summary;
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        if (parse_ech_config_list(kList, summary) != ParseStatus::kOk || summary.config_count != 1) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(summary);
    }
    finish(state, kList.size(), a0);
}

void BM_FirstHandshakeOneRecord(benchmark::State& state) {
    const auto& cap = capture("curl_tls13");
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        Bytes msg;
        if (tls_first_handshake(cap.client, 1, g_scratch, msg) != ParseStatus::kOk) {
            state.SkipWithError("record layer failed");
            break;
        }
        benchmark::DoNotOptimize(msg);
    }
    finish(state, cap.client.size(), a0);
}

void BM_FirstHandshakeThreeRecords(benchmark::State& state) {
    // A ~1.5 KB ClientHello (padding extension) in three records: the copy path.
    const auto hello = test::client_hello([](test::Builder& b) {
        test::sni_ext(b, "bench.example");
        b.ext(0x0015, [](test::Builder& e) { e.fill(1300, 0); });
    });
    const auto stream = test::records(hello, (hello.size() + 2) / 3);
    const std::size_t a0 = wt::testing::allocation_count();
    for (auto _ : state) {
        Bytes msg;
        if (tls_first_handshake(stream, 1, g_scratch, msg) != ParseStatus::kOk || msg.size() != hello.size()) {
            state.SkipWithError("record layer failed");
            break;
        }
        benchmark::DoNotOptimize(msg);
    }
    finish(state, stream.size(), a0);
}

BENCHMARK_CAPTURE(BM_ClientHelloParse, curl_tls13, std::string_view("curl_tls13"));
BENCHMARK_CAPTURE(BM_ClientHelloParse, split_records, std::string_view("s_client_split_records"));
BENCHMARK_CAPTURE(BM_ClientHelloParseJa4, curl_tls13, std::string_view("curl_tls13"));
BENCHMARK_CAPTURE(BM_ClientHelloParseJa4, split_records, std::string_view("s_client_split_records"));
BENCHMARK(BM_ServerHelloParse);
BENCHMARK(BM_EchConfigListParse);
BENCHMARK(BM_FirstHandshakeOneRecord);
BENCHMARK(BM_FirstHandshakeThreeRecords);

} // namespace
} // namespace wt::parsers

WT_BENCHMARK_MAIN()
