// decode_packet ns/packet on recorded frames, and CaptureReader records/s over
// in-memory pcap / pcapng files built from the same frames. Results are checked
// inside the loop (a wrong decode stops the benchmark with an error).
#include <benchmark/benchmark.h>

#include "benches/support/bench_main.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "parsers/net/capture_file.hpp"
#include "parsers/net/neighbours.hpp"
#include "parsers/net/offload.hpp"
#include "parsers/net/packet.hpp"
#include "tests/parsers/net/neighbours_vectors.hpp"
#include "tests/parsers/net/vectors.hpp"
#include "tests/support/pcap_frames.hpp"

namespace {

using namespace wt::parsers;
using namespace wt::test::net;

void decode_bench(benchmark::State& state, LinkType link, Bytes frame, std::uint16_t dst_port, bool tunneled = false) {
    DecodedPacket p;
    for (auto _ : state) {
        const DecodeStatus s = decode_packet(link, frame, p);
        if (s != DecodeStatus::kOk || p.dst_port != dst_port || p.tunneled != tunneled) [[unlikely]] {
            state.SkipWithError("unexpected decode result");
            break;
        }
        benchmark::DoNotOptimize(p);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}

void BM_DecodeTcp4Data(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kTcp4Get, 8080); }
void BM_DecodeTcp6Data(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kTcp6Get, 8080); }
void BM_DecodeVlanUdp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kVlan4Udp, 5353); }
void BM_DecodeQinQUdp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kQinQ88a8, 5353); }
void BM_DecodeIpv6ExtUdp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kExt6Udp, 5353); }
void BM_DecodeTunnel4in6(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kTunnel4in6, 53, true); }
void BM_DecodeUdp4(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kUdp4, 5353); }
// Tunnels and link encapsulations (frames from the nDPI corpus): the inner 5-tuple.
void BM_DecodeGtpU4Tcp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kGtp4Tcp, 80, true); }
void BM_DecodeGtpU6Udp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kGtp6Udp, 25658, true); }
void BM_DecodeGtpC(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kGtpC, 2123); }
void BM_DecodeCapwap80211(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kCapwapTcp, 443, true); }
void BM_DecodeGrePptp(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kGrePptp, 5060, true); }
void BM_DecodePppoe(benchmark::State& state) { decode_bench(state, LinkType::kEthernet, kPppoeUdp, 54935); }
void BM_DecodeChdlcMpls(benchmark::State& state) { decode_bench(state, LinkType::kCHdlc, kChdlcMpls, 49433); }
void BM_DecodePpp(benchmark::State& state) { decode_bench(state, LinkType::kPpp, kPppQuic, 443); }
void BM_DecodeSll2Tcp(benchmark::State& state) { decode_bench(state, LinkType::kLinuxSll2, kSll2TcpSyn, 8080); }

// Issue #15, devices: what ARP, Neighbour Discovery and DHCP tie to a MAC (real messages).
void BM_ParseArp(benchmark::State& state) {
    for (auto _ : state) {
        ArpMessage m;
        benchmark::DoNotOptimize(parse_arp(test_vectors::kArpRequest, m));
        benchmark::DoNotOptimize(m);
    }
}
void BM_ParseNdpSolicitation(benchmark::State& state) {
    IpAddress source;
    source.version = 6;
    source.bytes[0] = 0xfe;
    source.bytes[1] = 0x80;
    source.bytes[15] = 1;
    for (auto _ : state) {
        NdpMessage m;
        benchmark::DoNotOptimize(parse_ndp(test_vectors::kNeighbourSolicitation, source, m));
        benchmark::DoNotOptimize(m);
    }
}
void BM_ParseDhcpRequest(benchmark::State& state) {
    for (auto _ : state) {
        DhcpMessage m;
        benchmark::DoNotOptimize(parse_dhcp(test_vectors::kDhcpRequest, m));
        benchmark::DoNotOptimize(m);
    }
}
BENCHMARK(BM_ParseArp);
BENCHMARK(BM_ParseNdpSolicitation);
BENCHMARK(BM_ParseDhcpRequest);

BENCHMARK(BM_DecodeTcp4Data);
BENCHMARK(BM_DecodeTcp6Data);
BENCHMARK(BM_DecodeVlanUdp);
BENCHMARK(BM_DecodeQinQUdp);
BENCHMARK(BM_DecodeIpv6ExtUdp);
BENCHMARK(BM_DecodeTunnel4in6);
BENCHMARK(BM_DecodeSll2Tcp);
BENCHMARK(BM_DecodeUdp4);
BENCHMARK(BM_DecodeGtpU4Tcp);
BENCHMARK(BM_DecodeGtpU6Udp);
BENCHMARK(BM_DecodeGtpC);
BENCHMARK(BM_DecodeCapwap80211);
BENCHMARK(BM_DecodeGrePptp);
BENCHMARK(BM_DecodePppoe);
BENCHMARK(BM_DecodeChdlcMpls);
BENCHMARK(BM_DecodePpp);

void put32le(std::vector<std::uint8_t>& b, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}
void put16le(std::vector<std::uint8_t>& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
}

constexpr std::size_t kRecords = 4096;
const Bytes kMix[] = {kTcp4Syn, kTcp4Get, kUdp4, kTcp6Get, kVlan4Udp, kFrag4First};

// pcap-savefile(5), little-endian microseconds.
std::vector<std::uint8_t> make_pcap() {
    std::vector<std::uint8_t> b;
    put32le(b, 0xa1b2c3d4);
    put16le(b, 2);
    put16le(b, 4);
    put32le(b, 0);
    put32le(b, 0);
    put32le(b, 262144);
    put32le(b, 1);
    for (std::size_t i = 0; i < kRecords; ++i) {
        const Bytes f = kMix[i % std::size(kMix)];
        put32le(b, 1'800'000'000 + static_cast<std::uint32_t>(i));
        put32le(b, static_cast<std::uint32_t>(i % 1'000'000));
        put32le(b, static_cast<std::uint32_t>(f.size()));
        put32le(b, static_cast<std::uint32_t>(f.size()));
        b.insert(b.end(), f.begin(), f.end());
    }
    return b;
}

// draft-ietf-opsawg-pcapng: SHB, one Ethernet IDB, EPBs.
std::vector<std::uint8_t> make_pcapng() {
    std::vector<std::uint8_t> b;
    put32le(b, 0x0a0d0d0a);
    put32le(b, 28);
    put32le(b, 0x1a2b3c4d);
    put16le(b, 1);
    put16le(b, 0);
    put32le(b, 0xffffffff);
    put32le(b, 0xffffffff);
    put32le(b, 28);
    put32le(b, 1);
    put32le(b, 20);
    put16le(b, 1);
    put16le(b, 0);
    put32le(b, 262144);
    put32le(b, 20);
    for (std::size_t i = 0; i < kRecords; ++i) {
        const Bytes f = kMix[i % std::size(kMix)];
        const std::uint32_t padded = static_cast<std::uint32_t>((f.size() + 3) & ~std::size_t{3});
        put32le(b, 6);
        put32le(b, 32 + padded);
        put32le(b, 0);
        put32le(b, 0x00064000);
        put32le(b, static_cast<std::uint32_t>(i));
        put32le(b, static_cast<std::uint32_t>(f.size()));
        put32le(b, static_cast<std::uint32_t>(f.size()));
        b.insert(b.end(), f.begin(), f.end());
        b.insert(b.end(), padded - f.size(), 0);
        put32le(b, 32 + padded);
    }
    return b;
}

void reader_bench(benchmark::State& state, const std::vector<std::uint8_t>& file, bool decode) {
    std::uint64_t records = 0;
    for (auto _ : state) {
        CaptureReader r = CaptureReader::open(file);
        CaptureRecord rec;
        DecodedPacket p;
        std::size_t n = 0;
        while (r.next(rec) == CaptureStatus::kOk) {
            if (decode && decode_packet(rec.link, rec.data, p, rec.orig_len) != DecodeStatus::kOk) [[unlikely]] {
                state.SkipWithError("decode failed");
                break;
            }
            ++n;
        }
        if (n != kRecords || r.status() != CaptureStatus::kEnd) [[unlikely]] {
            state.SkipWithError("reader did not return every record");
            break;
        }
        records += n;
        benchmark::DoNotOptimize(rec);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(records));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

void BM_ReadPcap(benchmark::State& state) {
    static const auto file = make_pcap();
    reader_bench(state, file, false);
}
void BM_ReadPcapng(benchmark::State& state) {
    static const auto file = make_pcapng();
    reader_bench(state, file, false);
}
void BM_ReadPcapAndDecode(benchmark::State& state) {
    static const auto file = make_pcap();
    reader_bench(state, file, true);
}
BENCHMARK(BM_ReadPcap);
BENCHMARK(BM_ReadPcapng);
BENCHMARK(BM_ReadPcapAndDecode);

// Software offloads for af_packet inline ports, on the recorded frames of tests/data/net/offload.pcap.
std::vector<std::vector<std::uint8_t>> offload_frames() {
    return wt::testing::pcap_frames(std::string(WT_NET_DATA_DIR) + "/offload.pcap");
}

// Per forwarded frame: locate the layers and complete a partial checksum (the DNS query, 98 bytes).
void BM_OffloadCompleteChecksum(benchmark::State& state) {
    const auto frames = offload_frames();
    if (frames.size() != 4) {
        state.SkipWithError("tests/data/net/offload.pcap: expected 4 frames");
        return;
    }
    const std::vector<std::uint8_t> original = frames[2];
    std::vector<std::uint8_t> frame;
    for (auto _ : state) {
        frame = original;
        L4Frame l;
        if (!locate_l4(frame, l) || !complete_partial_checksum(frame, l)) [[unlikely]] {
            state.SkipWithError("the partial checksum was not completed");
            break;
        }
        benchmark::DoNotOptimize(frame.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A 65,226-byte TSO super-frame cut into 45 MSS segments with full checksums.
void BM_OffloadSegmentTso(benchmark::State& state) {
    const auto frames = offload_frames();
    if (frames.size() != 4) {
        state.SkipWithError("tests/data/net/offload.pcap: expected 4 frames");
        return;
    }
    const std::vector<std::uint8_t>& frame = frames[1];
    std::vector<std::uint8_t> out(2048);
    std::size_t segments = 0;
    for (auto _ : state) {
        L4Frame l;
        if (!locate_l4(frame, l)) [[unlikely]] {
            state.SkipWithError("not located");
            break;
        }
        const SegmentPlan plan = plan_segments(frame, l, 1500);
        for (std::size_t i = 0; i < plan.count; ++i) {
            if (write_segment(frame, l, plan, i, out) == 0) [[unlikely]] {
                state.SkipWithError("a segment was not written");
                break;
            }
            benchmark::DoNotOptimize(out.data());
        }
        segments += plan.count;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(segments));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frames[1].size()));
}
BENCHMARK(BM_OffloadCompleteChecksum);
BENCHMARK(BM_OffloadSegmentTso);

} // namespace

WT_BENCHMARK_MAIN()
