// ns per HTTP/1.x request head: curl's GET (Host is the first field), the POST with a padded
// Host value, and the PROPFIND head with 30 filler lines after Host (scanned for User-Agent).
#include "parsers/http/http_request.hpp"
#include "tests/parsers/http/vectors.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

namespace {

using namespace wt::parsers;
namespace tv = wt::parsers::test_vectors;

void run(benchmark::State& state, Bytes head) {
    HttpRequest out;
    for (auto _ : state) {
        const ParseStatus st = parse_http_request(head, out);
        if (st != ParseStatus::kOk || !out.has_host) {
            state.SkipWithError("unexpected parse result");
            break;
        }
        benchmark::DoNotOptimize(out.host);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * head.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_HttpGetCurl(benchmark::State& state) {
    run(state, tv::kHttpGet11Request);
}
BENCHMARK(BM_HttpGetCurl);

void BM_HttpPost(benchmark::State& state) {
    run(state, tv::kHttpPostRequest);
}
BENCHMARK(BM_HttpPost);

void BM_HttpPropfind30Fields(benchmark::State& state) {
    run(state, tv::kHttpPropfindRequest);
}
BENCHMARK(BM_HttpPropfind30Fields);

void BM_HttpNotHttp(benchmark::State& state) {
    // A TLS record header: the cost of rejecting a non-HTTP first segment.
    static constexpr std::uint8_t kTls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    HttpRequest out;
    for (auto _ : state) {
        if (parse_http_request(kTls, out) != ParseStatus::kUnsupported) {
            state.SkipWithError("unexpected parse result");
            break;
        }
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_HttpNotHttp);

} // namespace

WT_BENCHMARK_MAIN()
