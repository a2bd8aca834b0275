// What the stats side pays per exported row (issue #19): a flow record made into a JSONEachRow row of the
// open batch (BatchWriter::add_flow: the row and its names, as the stats core does for each finished flow),
// the hosting lookup beside it, and one interval's tables of 1000 domains and clients made into rows.
#include "app/export/export_rows.hpp"
#include "app/ipdb/ip_database.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

namespace {

using namespace wt;
using pipeline::test::make_flow;
using pipeline::test::tls_detail;
using pipeline::test::v4;

void BM_FlowRow(benchmark::State& state) {
    app::clickhouse::BatchWriter writer(app::clickhouse::Table::kFlows, {"box-1", "hq"});
    const pipeline::FlowDetail d = tls_detail("api.weather-app.example", 0x0304, 0x1302, "h2");
    const app::Hosting hosting{15133u, "Edgecast Inc.", "US"};
    std::uint32_t i = 0;
    for (auto _ : state) {
        const pipeline::Flow f = make_flow(v4(10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)),
                                           v4(93, 184, 216, 34), 0, 1200 + i, 56000);
        writer.add_flow(pipeline::make_flow_record(f, &d, 0, 0), {"Weather", "Climate", &hosting});
        if (++i % 50000 == 0) {
            benchmark::DoNotOptimize(writer.take());
        }
    }
    if (writer.rows() == 0 && i % 50000 != 0) {
        state.SkipWithError("no rows written");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowRow);

// The IP data the appliance looks each server address up in (the default set, when installed).
void BM_HostingLookup(benchmark::State& state) {
    app::IpDatabases databases;
    std::string error;
    if (!app::open_ip_databases({}, true, databases, error) || databases.empty()) {
        state.SkipWithError(("no IP data: " + error).c_str());
        return;
    }
    std::uint32_t i = 0;
    for (auto _ : state) {
        const app::Hosting h = databases.lookup(v4(static_cast<std::uint8_t>(1 + (i % 200)), static_cast<std::uint8_t>(i >> 8),
                                                   static_cast<std::uint8_t>(i), 1));
        benchmark::DoNotOptimize(h.asn);
        ++i;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_HostingLookup);

void BM_IntervalRows(benchmark::State& state) {
    pipeline::CoreTally tally(4, pipeline::TallyLimits{});
    for (std::uint32_t k = 0; k < 1000; ++k) {
        const pipeline::Flow f = make_flow(v4(10, 0, static_cast<std::uint8_t>(k >> 8), static_cast<std::uint8_t>(k)),
                                           v4(93, 184, static_cast<std::uint8_t>(k >> 8), static_cast<std::uint8_t>(k)),
                                           static_cast<std::int32_t>(k % 4), 1200, 56000);
        const pipeline::FlowDetail d = tls_detail(fmt::format("host{}.example.com", k), 0x0304, 0x1302, "h2");
        tally.add_flow(f, &d);
    }
    app::Report r;
    r.tally = pipeline::merge_tallies({&tally});
    r.services = {"A", "B", "C", "D"};
    app::add_devices(r, app::OuiRegistry{});
    std::size_t rows = 0;
    for (auto _ : state) {
        app::clickhouse::BatchWriter writer(app::clickhouse::Table::kIntervals, {"box-1", "hq"});
        writer.add_intervals(r, 1'700'000'000, 1'700'000'060);
        rows = writer.rows();
        benchmark::DoNotOptimize(writer.take());
    }
    if (rows == 0) {
        state.SkipWithError("no rows written");
    }
    state.counters["rows"] = static_cast<double>(rows);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_IntervalRows);

} // namespace
WT_BENCHMARK_MAIN()
