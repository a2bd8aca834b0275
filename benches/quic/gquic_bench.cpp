// gQUIC client hello parsing: ns per first client packet of the nDPI corpus flows.
// Plaintext CHLO (Q043, Q046) through parse_gquic_client_hello(); protected Initials (Q050,
// T050) through GquicParser (key derivation + header protection + AES-GCM + frames + CHLO/TLS).
#include "parsers/quic/gquic.hpp"

#include "tests/parsers/quic/gquic_vectors.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include <cstdlib>
#include <string_view>

namespace {

using namespace wt::parsers;
using wt::test::gquic::kVectors;

const wt::test::gquic::Vector& vector_for(std::string_view version) {
    for (const auto& v : kVectors) {
        if (v.version == version) {
            return v;
        }
    }
    std::abort();
}

void bm_plain(benchmark::State& state, std::string_view version) {
    const auto& v = vector_for(version);
    GquicHello out;
    for (auto _ : state) {
        if (parse_gquic_client_hello(v.payload, out) != ParseStatus::kOk || out.sni.view() != v.sni) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * v.payload.size()));
}

void bm_parser(benchmark::State& state, std::string_view version) {
    const auto& v = vector_for(version);
    GquicParser parser;
    GquicHello out;
    for (auto _ : state) {
        if (parser.parse(v.payload, out) != ParseStatus::kOk || out.sni.view() != v.sni) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * v.payload.size()));
}

BENCHMARK_CAPTURE(bm_plain, q025, "Q025");
BENCHMARK_CAPTURE(bm_plain, q043, "Q043");
BENCHMARK_CAPTURE(bm_plain, q046, "Q046");
BENCHMARK_CAPTURE(bm_parser, q050, "Q050");
BENCHMARK_CAPTURE(bm_parser, t050, "T050");

} // namespace

WT_BENCHMARK_MAIN()
