// The flow table on its own (issue #4, per-stage): hit, miss, insert and evict,
// with real FlowKeys (IPv4 5-tuples) hashed as the worker hashes them and the keys
// kept in Flow records as the worker keeps them. Each figure is TSC cycles per
// operation (rte_rdtsc's instruction); compare figures of one run.
//
//   hit / miss        one lookup at a time, or a burst of 32 in the worker's stages
//                     (hash + prefetch bucket, prefetch record, compare)
//   insert            into an empty table, up to its capacity
//   evict             a full table: erase the oldest flow and insert a new one
//                     (what a new flow costs once the table is full)
#include "pipeline/flows/flow.hpp"
#include "pipeline/flows/flow_table.hpp"

#include <algorithm>
#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"
#include <random>
#include <vector>
#include <x86intrin.h>

namespace {

using namespace wt::pipeline;

// Flow i of the table; absent flows (misses) are the same tuples over UDP.
FlowKey key_for(std::uint64_t i, std::uint8_t proto = 6) {
    wt::parsers::IpAddress a;
    wt::parsers::IpAddress b;
    a.version = b.version = 4;
    a.bytes = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    b.bytes = {198, 18, static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i * 7)};
    bool lo = false;
    return FlowKey::make({a, static_cast<std::uint16_t>(1024 + i % 60000)}, {b, 443}, proto, 0, lo);
}

// A table holding flows 0..n-1 in records 0..n-1, records as the worker lays them out.
struct Filled {
    explicit Filled(std::size_t n) : table(n), records(n) {
        for (std::size_t i = 0; i < n; ++i) {
            records[i].key = key_for(i);
            table.insert(records[i].key.hash(), static_cast<std::uint32_t>(i));
        }
    }
    std::uint32_t find(const FlowKey& k, std::uint64_t h) const {
        return table.find(h, k, [this](std::uint32_t i) -> const FlowKey& { return records[i].key; });
    }
    FlowTable table;
    ZeroedArray<Flow> records;
};

void report(benchmark::State& state, std::uint64_t cycles, std::uint64_t ops) {
    state.SetItemsProcessed(static_cast<std::int64_t>(ops));
    state.counters["cycles/op"] = ops ? static_cast<double>(cycles) / static_cast<double>(ops) : 0;
}

// Queries in a random order over the present (hit) or absent (miss) keys.
std::vector<FlowKey> queries(std::size_t n, bool hit) {
    std::vector<FlowKey> q;
    q.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        q.push_back(key_for(i, hit ? 6 : 17));
    }
    std::shuffle(q.begin(), q.end(), std::mt19937_64(7));
    return q;
}

void lookup_bench(benchmark::State& state, bool hit, bool burst) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Filled f(n);
    const auto q = queries(std::min<std::size_t>(n, 1u << 20), hit);
    std::size_t at = 0;
    std::uint64_t cycles = 0;
    std::uint64_t ops = 0;
    std::uint64_t found = 0;
    for (auto _ : state) {
        const std::uint64_t t0 = __rdtsc();
        if (!burst) {
            for (int k = 0; k < 32; ++k) {
                const FlowKey& key = q[at];
                found += f.find(key, key.hash()) != kNoFlow;
                at = at + 1 == q.size() ? 0 : at + 1;
            }
        } else {
            std::uint64_t h[32];
            std::size_t idx[32];
            for (int k = 0; k < 32; ++k) {
                idx[k] = at;
                h[k] = q[at].hash();
                f.table.prefetch(h[k]);
                at = at + 1 == q.size() ? 0 : at + 1;
            }
            for (int k = 0; k < 32; ++k) {
                const std::uint32_t c = f.table.candidate(h[k]);
                if (c != kNoFlow) {
                    prefetch_flow(f.records[c]);
                }
            }
            for (int k = 0; k < 32; ++k) {
                found += f.find(q[idx[k]], h[k]) != kNoFlow;
            }
        }
        cycles += __rdtsc() - t0;
        ops += 32;
    }
    if ((found == ops) != hit || (!hit && found != 0)) {
        state.SkipWithError("lookups did not find what was inserted");
    }
    report(state, cycles, ops);
}

void BM_FlowTableHit(benchmark::State& s) { lookup_bench(s, true, false); }
void BM_FlowTableHitBurst(benchmark::State& s) { lookup_bench(s, true, true); }
void BM_FlowTableMiss(benchmark::State& s) { lookup_bench(s, false, false); }
void BM_FlowTableMissBurst(benchmark::State& s) { lookup_bench(s, false, true); }
BENCHMARK(BM_FlowTableHit)->Arg(10000)->Arg(1000000);
BENCHMARK(BM_FlowTableHitBurst)->Arg(10000)->Arg(1000000);
BENCHMARK(BM_FlowTableMiss)->Arg(10000)->Arg(1000000);
BENCHMARK(BM_FlowTableMissBurst)->Arg(10000)->Arg(1000000);

void BM_FlowTableInsert(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    FlowTable table(n);
    ZeroedArray<Flow> records(n);
    for (std::size_t i = 0; i < n; ++i) {
        records[i].key = key_for(i);
    }
    std::size_t next = 0;
    std::uint64_t cycles = 0;
    std::uint64_t ops = 0;
    for (auto _ : state) {
        if (next == n) {
            state.PauseTiming();
            table.clear();
            next = 0;
            state.ResumeTiming();
        }
        const std::size_t end = std::min(n, next + 32);
        const std::uint64_t t0 = __rdtsc();
        for (; next < end; ++next) {
            benchmark::DoNotOptimize(table.insert(records[next].key.hash(), static_cast<std::uint32_t>(next)));
        }
        cycles += __rdtsc() - t0;
        ops += 32;
    }
    report(state, cycles, ops);
}
BENCHMARK(BM_FlowTableInsert)->Arg(10000)->Arg(1000000);

void BM_FlowTableEvict(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Filled f(n);
    // The incoming keys, made beforehand: 2^21 of them, reused only long after the
    // flow they named was evicted (a flow lives n <= 1M evictions).
    constexpr std::size_t kIncoming = 1u << 21;
    std::vector<FlowKey> incoming;
    incoming.reserve(kIncoming);
    for (std::size_t i = 0; i < kIncoming; ++i) {
        incoming.push_back(key_for(n + i));
    }
    std::uint64_t oldest = 0; // flow number in record oldest % n
    std::size_t next_key = 0;
    std::uint64_t cycles = 0;
    std::uint64_t ops = 0;
    for (auto _ : state) {
        const std::uint64_t t0 = __rdtsc();
        for (int k = 0; k < 32; ++k) {
            const auto index = static_cast<std::uint32_t>(oldest % n);
            Flow& rec = f.records[index];
            f.table.erase(rec.key.hash(), index);
            rec.key = incoming[next_key];
            next_key = (next_key + 1) & (kIncoming - 1);
            f.table.insert(rec.key.hash(), index);
            ++oldest;
        }
        cycles += __rdtsc() - t0;
        ops += 32;
    }
    if (f.table.size() != n) {
        state.SkipWithError("the table lost entries");
    }
    report(state, cycles, ops);
}
BENCHMARK(BM_FlowTableEvict)->Arg(10000)->Arg(1000000);

void BM_FlowTableMemory(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        FlowTable t(n);
        benchmark::DoNotOptimize(t.memory_bytes());
    }
    const FlowTable t(n);
    state.counters["table_B/flow"] = static_cast<double>(t.memory_bytes()) / static_cast<double>(n);
    state.counters["record_B/flow"] = static_cast<double>(sizeof(Flow));
    state.counters["total_B/flow"] =
        static_cast<double>(t.memory_bytes() + n * sizeof(Flow)) / static_cast<double>(n);
}
BENCHMARK(BM_FlowTableMemory)->Arg(262144)->Arg(1000000);

} // namespace

WT_BENCHMARK_MAIN()
