// The worker path without I/O: pre-built frames through Worker::process_packet
// (decode, flow lookup, extraction, classification at flow end, tally). Reports
// packets per second and TSC cycles per packet; compare figures of one run.
#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/services.hpp"
#include "pipeline/worker.hpp"
#include "tests/parsers/tls/vectors.hpp"
#include "tests/support/packet_builder.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"
#include <memory>
#include <random>
#include <variant>
#include <vector>
#include <x86intrin.h>

namespace {

using namespace wt;
namespace tb = wt::testing;

constexpr std::uint64_t kT0 = 1700000000ull * 1000000000ull;

std::unique_ptr<pipeline::ServiceClassifier> default_classifier() {
    auto loaded = pipeline::load_default_services();
    auto built = pipeline::ServiceClassifier::build(std::get<pipeline::ServiceCatalog>(loaded));
    return std::make_unique<pipeline::ServiceClassifier>(std::move(std::get<pipeline::ServiceClassifier>(built)));
}

pipeline::WorkerConfig config_for(std::size_t flows) {
    pipeline::WorkerConfig c;
    c.max_flows = flows;
    c.detail_pool = std::min<std::size_t>(flows, 1u << 16);
    return c;
}

tb::Endpoint client_of(std::size_t i) {
    return {tb::ip4(10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                    static_cast<std::uint8_t>(i)),
            static_cast<std::uint16_t>(10000 + (i % 50000))};
}

void report(benchmark::State& state, std::uint64_t cycles, std::uint64_t packets) {
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["cycles/pkt"] = packets ? static_cast<double>(cycles) / static_cast<double>(packets) : 0;
}

// Established TCP flows: each flow is opened with a SYN, a real ClientHello and its
// ServerHello (so extraction is done, as for a flow past its handshake), then 64-byte
// data segments arrive from the flows in a random order. The frames lie one after
// another in arrival order, as a NIC's receive ring delivers them. Range 1: one
// process_packet at a time (0) or process_burst calls of 32 (1), which overlap the
// flow-table and record misses of a burst.
void BM_WorkerEstablished(benchmark::State& state) {
    const auto flows = static_cast<std::size_t>(state.range(0));
    const bool burst = state.range(1) != 0;
    const auto cls = default_classifier();
    pipeline::Worker worker(config_for(flows + flows / 8), cls.get(), nullptr, nullptr);
    const auto& cap = parsers::test_vectors::kCaptures[1];
    const tb::Endpoint server{tb::ip4(93, 184, 216, 34), 443};
    std::uint64_t ts = kT0;
    for (std::size_t i = 0; i < flows; ++i) {
        const tb::Endpoint c = client_of(i);
        worker.process_packet(parsers::LinkType::kEthernet, tb::tcp(c, server, 100, 0, tb::kSyn), ++ts);
        worker.process_packet(parsers::LinkType::kEthernet, tb::tcp(server, c, 500, 101, tb::kSyn | tb::kAck), ++ts);
        worker.process_packet(parsers::LinkType::kEthernet,
                              tb::tcp(c, server, 101, 501, tb::kAck | tb::kPsh, cap.client), ++ts);
        worker.process_packet(parsers::LinkType::kEthernet,
                              tb::tcp(server, c, 501, 101 + static_cast<std::uint32_t>(cap.client.size()),
                                      tb::kAck | tb::kPsh, cap.server),
                              ++ts);
    }
    std::vector<std::size_t> order(flows);
    for (std::size_t i = 0; i < flows; ++i) {
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), std::mt19937_64(11));
    const std::vector<std::uint8_t> payload(6, 0x17); // 60-byte frames: 64 on the wire with the FCS
    constexpr std::size_t kStride = 64;
    std::vector<std::uint8_t> ring(flows * kStride);
    std::vector<pipeline::FrameRef> refs(flows);
    for (std::size_t k = 0; k < flows; ++k) {
        const tb::Endpoint c = client_of(order[k]);
        const auto f = tb::tcp(c, server, 101 + static_cast<std::uint32_t>(cap.client.size()), 501 + 2000,
                               tb::kAck, payload);
        std::memcpy(ring.data() + k * kStride, f.data(), std::min(f.size(), kStride));
        refs[k].frame = {ring.data() + k * kStride, std::min(f.size(), kStride)};
    }
    const std::uint64_t created = worker.counters().flows_created;
    std::size_t next = 0;
    std::uint64_t packets = 0;
    std::uint64_t cycles = 0;
    for (auto _ : state) {
        const std::uint64_t start = __rdtsc();
        for (int b = 0; b < 8; ++b) {
            if (next + 32 > flows) {
                next = 0;
            }
            if (burst) {
                for (std::size_t k = next; k < next + 32; ++k) {
                    refs[k].ts_ns = ++ts;
                }
                worker.process_burst({refs.data() + next, 32});
            } else {
                for (std::size_t k = next; k < next + 32; ++k) {
                    worker.process_packet(parsers::LinkType::kEthernet, refs[k].frame, ++ts);
                }
            }
            next += 32;
        }
        cycles += __rdtsc() - start;
        packets += 256;
    }
    report(state, cycles, packets);
    state.counters["frame_B"] = static_cast<double>(refs[0].frame.size() + 4);
    if (worker.active_flows() != flows || worker.counters().flows_created != created) {
        state.SkipWithError("flows were lost or created while measuring");
    }
}
BENCHMARK(BM_WorkerEstablished)->ArgsProduct({{1000, 10000, 1000000}, {0, 1}});

// New UDP flows: every packet opens a flow (the table evicts when full).
void BM_WorkerNewFlows(benchmark::State& state) {
    const auto cls = default_classifier();
    pipeline::Worker worker(config_for(1u << 20), cls.get(), nullptr, nullptr);
    const tb::Endpoint server{tb::ip4(93, 184, 216, 34), 9999};
    const std::vector<std::uint8_t> payload(18, 0x00);
    constexpr std::size_t kFrames = 1u << 16;
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(kFrames);
    for (std::size_t i = 0; i < kFrames; ++i) {
        frames.push_back(tb::udp(client_of(i), server, payload));
    }
    std::uint64_t ts = kT0;
    std::size_t next = 0;
    std::uint64_t packets = 0;
    std::uint64_t cycles = 0;
    for (auto _ : state) {
        if (next == 0) {
            state.PauseTiming();
            worker.flush_all(); // the next lap opens the same tuples as new flows again
            state.ResumeTiming();
        }
        const std::uint64_t start = __rdtsc();
        worker.process_packet(parsers::LinkType::kEthernet, frames[next], ++ts);
        cycles += __rdtsc() - start;
        ++packets;
        next = (next + 1) % kFrames;
    }
    report(state, cycles, packets);
}
BENCHMARK(BM_WorkerNewFlows);

// A whole TLS 1.3 connection from real bytes: handshake with reassembly, ClientHello
// and ServerHello parsing, JA4, classification and tally at the FIN.
void BM_WorkerTlsConnection(benchmark::State& state) {
    const auto cls = default_classifier();
    pipeline::Worker worker(config_for(1u << 16), cls.get(), nullptr, nullptr);
    const auto& cap = parsers::test_vectors::kCaptures[1];
    const tb::Endpoint server{tb::ip4(142, 250, 0, 1), 443};
    std::uint64_t ts = kT0;
    std::uint64_t packets = 0;
    std::uint64_t cycles = 0;
    std::size_t i = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const tb::Endpoint c = client_of(i++ % 60000);
        std::vector<std::vector<std::uint8_t>> conn;
        conn.push_back(tb::tcp(c, server, 100, 0, tb::kSyn));
        conn.push_back(tb::tcp(server, c, 500, 101, tb::kSyn | tb::kAck));
        conn.push_back(tb::tcp(c, server, 101, 501, tb::kAck | tb::kPsh, cap.client));
        conn.push_back(tb::tcp(server, c, 501, 101 + static_cast<std::uint32_t>(cap.client.size()), tb::kAck | tb::kPsh,
                               cap.server));
        conn.push_back(tb::tcp(c, server, 101 + static_cast<std::uint32_t>(cap.client.size()), 501, tb::kRst));
        state.ResumeTiming();
        const std::uint64_t start = __rdtsc();
        for (const auto& f : conn) {
            worker.process_packet(parsers::LinkType::kEthernet, f, ++ts);
        }
        cycles += __rdtsc() - start;
        packets += conn.size();
    }
    worker.flush_all();
    report(state, cycles, packets);
    state.counters["client_hellos"] = static_cast<double>(worker.counters().tls_client_hellos);
}
BENCHMARK(BM_WorkerTlsConnection);

} // namespace

WT_BENCHMARK_MAIN()
