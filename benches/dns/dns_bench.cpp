// ns per DNS message: the recorded CNAME-chain response (4 answers, 3 compressed targets), the
// simple A response, the A query, and the 400-answer TCP response (16 stored, 384 validated).
#include "parsers/dns/dns_message.hpp"
#include "tests/parsers/dns/vectors.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include <memory>

namespace {

using namespace wt::parsers;
namespace tv = wt::parsers::test_vectors;

void run(benchmark::State& state, Bytes msg, std::uint16_t ancount) {
    auto out = std::make_unique<DnsMessage>();
    for (auto _ : state) {
        const ParseStatus st = parse_dns_message(msg, *out);
        if (st != ParseStatus::kOk || out->ancount != ancount || !out->question_ok) {
            state.SkipWithError("unexpected parse result");
            break;
        }
        benchmark::DoNotOptimize(out->answer_count);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_DnsCnameChainResponse(benchmark::State& state) {
    run(state, tv::kDnsCnameChainResponse, 4);
}
BENCHMARK(BM_DnsCnameChainResponse);

void BM_DnsAResponse(benchmark::State& state) {
    run(state, tv::kDnsAResponse, 1);
}
BENCHMARK(BM_DnsAResponse);

void BM_DnsAQuery(benchmark::State& state) {
    run(state, tv::kDnsAQuery, 0);
}
BENCHMARK(BM_DnsAQuery);

void BM_DnsHttpsEchResponse(benchmark::State& state) {
    run(state, tv::kDnsHttpsEchResponse, 1);
}
BENCHMARK(BM_DnsHttpsEchResponse);

void BM_DnsTcp400Answers(benchmark::State& state) {
    auto out = std::make_unique<DnsMessage>();
    const Bytes stream = tv::kDnsTcpBigResponseStream;
    for (auto _ : state) {
        std::size_t consumed = 0;
        const ParseStatus st = parse_dns_tcp_message(stream, *out, consumed);
        if (st != ParseStatus::kOk || consumed != stream.size() || out->ancount != 400) {
            state.SkipWithError("unexpected parse result");
            break;
        }
        benchmark::DoNotOptimize(out->answer_count);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DnsTcp400Answers);

} // namespace

WT_BENCHMARK_MAIN()
