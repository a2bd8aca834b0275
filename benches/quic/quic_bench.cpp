// parsers/quic benchmarks: Initial key derivation, one client Initial (header protection +
// AES-128-GCM + CRYPTO walk), the per-flow datagram path, and CRYPTO reassembly.
#include "parsers/quic/client_initial.hpp"
#include "parsers/quic/frames.hpp"

#include "tests/parsers/quic/vectors.hpp"

#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include <memory>
#include <vector>

namespace {

using namespace wt::parsers;
namespace tv = wt::parsers::test_vectors;

const std::uint8_t kRfcDcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

void BM_DeriveInitialKeys(benchmark::State& state) {
    QuicInitialKeys keys;
    for (auto _ : state) {
        if (!derive_initial_keys(kQuicVersion1, kRfcDcid, true, keys)) {
            state.SkipWithError("derive failed");
            break;
        }
        benchmark::DoNotOptimize(keys);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeriveInitialKeys);

// Header protection + decrypt + CRYPTO frame walk of RFC 9001 A.2 (1200 bytes), keys known.
void BM_DecryptClientInitial(benchmark::State& state) {
    QuicInitialDecryptor dec;
    QuicInitialKeys keys;
    derive_initial_keys(kQuicVersion1, kRfcDcid, true, keys);
    std::vector<std::uint8_t> plain(2048);
    for (auto _ : state) {
        QuicInitialPacket pkt;
        if (dec.decrypt(keys, tv::kRfc9001ClientInitial, plain, pkt) != ParseStatus::kOk) {
            state.SkipWithError("decrypt failed");
            break;
        }
        std::size_t crypto_bytes = 0;
        const ParseStatus st = for_each_crypto_frame(pkt.payload, [&](std::uint64_t, Bytes d) {
            crypto_bytes += d.size();
        });
        if (st != ParseStatus::kOk || crypto_bytes != 241) {
            state.SkipWithError("frame walk failed");
            break;
        }
        benchmark::DoNotOptimize(crypto_bytes);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * sizeof(tv::kRfc9001ClientInitial));
}
BENCHMARK(BM_DecryptClientInitial);

// What the pipeline pays for a new QUIC flow: key derivation, decryption, reassembly, on a
// real single-datagram ClientHello (ngtcp2 v1) and on a two-datagram one (Chrome-style split).
void run_flow(benchmark::State& state, std::string_view id) {
    const tv::CorpusFlow* flow = nullptr;
    for (const auto& f : tv::kCorpusFlows) {
        if (f.id == id) {
            flow = &f;
        }
    }
    auto dec = std::make_unique<QuicInitialDecryptor>();
    auto fs = std::make_unique<QuicFlowState>();
    std::size_t bytes = 0;
    for (auto _ : state) {
        fs->reset();
        ParseStatus st = ParseStatus::kNeedMore;
        for (std::size_t i = 0; i < flow->count && st != ParseStatus::kOk; ++i) {
            st = process_client_initial_datagram(*dec, flow->datagrams[i], *fs);
            bytes += flow->datagrams[i].size();
        }
        if (st != ParseStatus::kOk) {
            state.SkipWithError("no ClientHello");
            break;
        }
        benchmark::DoNotOptimize(fs->crypto.client_hello().data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void BM_FlowNgtcp2V1(benchmark::State& state) { run_flow(state, "ngtcp2_v1"); }
void BM_FlowSplitAcrossTwoInitials(benchmark::State& state) { run_flow(state, "ndpi_frags_different_dcid"); }
BENCHMARK(BM_FlowNgtcp2V1);
BENCHMARK(BM_FlowSplitAcrossTwoInitials);

// The cheap gate on a non-QUIC datagram and on an Initial.
void BM_LooksLikeQuicInitial(benchmark::State& state) {
    for (auto _ : state) {
        const bool a = looks_like_quic_initial(tv::kRfc9001ClientInitial);
        if (!a) {
            state.SkipWithError("gate");
            break;
        }
        benchmark::DoNotOptimize(a);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LooksLikeQuicInitial);

// A 241-byte ClientHello in 8 fragments fed last-to-first.
void BM_ReassembleReversed(benchmark::State& state) {
    auto r = std::make_unique<QuicCryptoReassembler>();
    const Bytes ch = Bytes(tv::kA2PlaintextPrefix).subspan(4, 241);
    for (auto _ : state) {
        r->reset();
        for (std::size_t end = ch.size(); end > 0;) {
            const std::size_t begin = end > 31 ? end - 31 : 0;
            r->add(begin, ch.subspan(begin, end - begin));
            end = begin;
        }
        if (!r->client_hello_complete()) {
            state.SkipWithError("incomplete");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * 241);
}
BENCHMARK(BM_ReassembleReversed);

} // namespace

WT_BENCHMARK_MAIN()
