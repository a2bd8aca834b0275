// The worker path end to end on frames built from real handshake bytes
// (tests/parsers/tls/vectors.hpp, recorded from curl and openssl) and on real
// captures under tests/data, without DPDK.
#include "parsers/net/capture_file.hpp"
#include "pipeline/classifier.hpp"
#include "pipeline/services.hpp"
#include "pipeline/worker.hpp"
#include "tests/parsers/tls/vectors.hpp"
#include "tests/support/packet_builder.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <string>

namespace wt::pipeline {
namespace {

namespace tb = wt::testing;

struct CollectedFlow {
    Flow flow;
    bool has_detail = false;
    FlowDetail detail;
    std::string service;
};

class Collector final : public FlowSink {
public:
    void on_flow_end(const Flow& f, const FlowDetail* d, std::string_view service) override {
        CollectedFlow c;
        c.flow = f;
        c.has_detail = d != nullptr;
        if (d != nullptr) {
            c.detail = *d;
        }
        c.service = std::string(service);
        flows.push_back(c);
    }
    std::vector<CollectedFlow> flows;
};

WorkerConfig small_config() {
    WorkerConfig c;
    c.max_flows = 1024;
    c.detail_pool = 256;
    c.stream_pool = 64;
    c.quic_pool = 8;
    c.dns_cache_entries = 256;
    c.tally.domains = 256;
    c.tally.client_services = 256;
    c.tally.client_domains = 256;
    c.tally.action_domains = 256;
    return c;
}

constexpr std::uint64_t kT0 = 1700000000ull * 1000000000ull;
constexpr std::uint64_t kMs = 1000000ull;

struct Harness {
    Collector sink;
    Worker worker;
    std::uint64_t now = kT0;
    explicit Harness(const ServiceClassifier* cls = nullptr, WorkerConfig cfg = small_config())
        : worker(cfg, cls, nullptr, &sink) {}
    void send(const std::vector<std::uint8_t>& frame) {
        now += kMs;
        worker.process_packet(parsers::LinkType::kEthernet, frame, now);
    }
};

// Sends a TCP connection: handshake, the client stream cut at `segments` (sent in
// `order`), then the server stream in one segment.
void play_tls(Harness& h, const tb::Endpoint& cli, const tb::Endpoint& srv, const parsers::test_vectors::TlsCapture& cap,
              bool reverse_segments = false) {
    const std::uint32_t cisn = 1000;
    const std::uint32_t sisn = 50000;
    h.send(tb::tcp(cli, srv, cisn, 0, tb::kSyn));
    h.send(tb::tcp(srv, cli, sisn, cisn + 1, tb::kSyn | tb::kAck));
    h.send(tb::tcp(cli, srv, cisn + 1, sisn + 1, tb::kAck));
    std::vector<std::pair<std::uint32_t, std::span<const std::uint8_t>>> segs;
    std::size_t off = 0;
    for (std::uint16_t len : cap.client_segments) {
        segs.emplace_back(cisn + 1 + off, cap.client.subspan(off, len));
        off += len;
    }
    if (reverse_segments) {
        std::reverse(segs.begin(), segs.end());
    }
    for (auto [seq, data] : segs) {
        h.send(tb::tcp(cli, srv, seq, sisn + 1, tb::kAck | tb::kPsh, data));
    }
    h.send(tb::tcp(srv, cli, sisn + 1, cisn + 1 + static_cast<std::uint32_t>(off), tb::kAck | tb::kPsh, cap.server));
    h.send(tb::tcp(cli, srv, cisn + 1 + static_cast<std::uint32_t>(off), sisn + 1, tb::kFin | tb::kAck));
    h.send(tb::tcp(srv, cli, sisn + 1 + static_cast<std::uint32_t>(cap.server.size()),
                   cisn + 2 + static_cast<std::uint32_t>(off), tb::kFin | tb::kAck));
}

TEST(Worker, TlsHandshakesFromRealClientsAreExtracted) {
    for (const auto& cap : parsers::test_vectors::kCaptures) {
        SCOPED_TRACE(std::string(cap.name));
        Harness h;
        play_tls(h, {tb::ip4(10, 0, 0, 2), 40001}, {tb::ip4(10, 0, 1, 1), 443}, cap);
        h.worker.flush_all();
        ASSERT_EQ(h.sink.flows.size(), 1u);
        const CollectedFlow& f = h.sink.flows[0];
        ASSERT_TRUE(f.has_detail);
        EXPECT_EQ(f.detail.app, AppProto::kTls);
        EXPECT_EQ(f.detail.sni.view(), cap.sni);
        EXPECT_EQ(f.detail.tls.ja4.view(), cap.ja4);
        EXPECT_TRUE(f.detail.tls.server_hello_seen);
        EXPECT_EQ(f.detail.tls.negotiated_version, cap.server_selected_version);
        EXPECT_EQ(f.detail.tls.cipher, cap.server_cipher);
        EXPECT_EQ(f.detail.name_source, cap.sni.empty() ? NameSource::kNone : NameSource::kSni);
        EXPECT_EQ(f.flow.pkts_up, 3u + cap.client_segments.size()); // SYN, ACK, the segments, FIN
        EXPECT_EQ(f.flow.pkts_down, 3u);
        EXPECT_EQ(f.flow.client().port, 40001);
    }
}

TEST(Worker, ClientHelloSegmentsOutOfOrderAreReassembled) {
    for (const auto& cap : parsers::test_vectors::kCaptures) {
        if (cap.client_segments.size() < 2) {
            continue;
        }
        SCOPED_TRACE(std::string(cap.name));
        Harness h;
        play_tls(h, {tb::ip4(10, 0, 0, 2), 40002}, {tb::ip4(10, 0, 1, 1), 443}, cap, /*reverse_segments=*/true);
        h.worker.flush_all();
        ASSERT_EQ(h.sink.flows.size(), 1u);
        EXPECT_EQ(h.sink.flows[0].detail.sni.view(), cap.sni);
        EXPECT_EQ(h.worker.counters().tls_multi_segment, 1u);
    }
}

TEST(Worker, ClientHelloSplitIntoTinySegmentsIsReassembled) {
    const auto& cap = parsers::test_vectors::kCaptures[1];
    Harness h;
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 40003};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 443};
    h.send(tb::tcp(cli, srv, 99, 0, tb::kSyn));
    for (std::size_t off = 0; off < cap.client.size(); off += 100) {
        const std::size_t len = std::min<std::size_t>(100, cap.client.size() - off);
        h.send(tb::tcp(cli, srv, static_cast<std::uint32_t>(100 + off), 1, tb::kAck, cap.client.subspan(off, len)));
    }
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].detail.sni.view(), cap.sni);
}

TEST(Worker, RolesAreCorrectedWhenTheServerIsSeenFirst) {
    const auto& cap = parsers::test_vectors::kCaptures[0];
    Harness h;
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 50000};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 8443};
    // Mid-flow capture: a server ACK first, then the ClientHello.
    h.send(tb::tcp(srv, cli, 7, 1, tb::kAck));
    h.send(tb::tcp(cli, srv, 1, 7, tb::kAck | tb::kPsh, cap.client));
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 1u);
    const CollectedFlow& f = h.sink.flows[0];
    EXPECT_EQ(f.flow.client().port, 50000);
    EXPECT_EQ(f.flow.pkts_up, 1u);
    EXPECT_EQ(f.flow.pkts_down, 1u);
    EXPECT_EQ(f.detail.sni.view(), cap.sni);
}

TEST(Worker, DnsAnswerNamesALaterConnectionWithoutSni) {
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 33333};
    const tb::Endpoint resolver{tb::ip4(10, 0, 0, 53), 53};
    const tb::Endpoint srv{tb::ip4(93, 184, 216, 34), 443};
    Harness h;
    const auto answer = tb::dns_response(0x4242, {"api.vendor.example", "api.vendor.example.cdn.example", "edge7.cdn.example"},
                                         {93, 184, 216, 34});
    std::vector<std::uint8_t> query(answer.begin(), answer.begin() + 12 + 20 + 4);
    query[2] = 0x01; // flags: RD only
    query[3] = 0x00;
    query[7] = 0; // ANCOUNT 0
    h.send(tb::udp(cli, resolver, query));
    h.send(tb::udp(resolver, cli, answer));
    // A TLS connection to the answered address whose ClientHello has no SNI.
    const auto& nosni = parsers::test_vectors::kCaptures[4];
    ASSERT_TRUE(nosni.sni.empty());
    play_tls(h, {cli.ip, 40100}, srv, nosni);
    // Another client connecting to the same address gets no DNS name.
    h.send(tb::tcp({tb::ip4(10, 0, 0, 9), 40200}, srv, 1, 0, tb::kSyn));
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 3u);
    std::map<std::uint16_t, const CollectedFlow*> by_port;
    for (const auto& f : h.sink.flows) {
        by_port[f.flow.client().port] = &f;
    }
    const CollectedFlow* dns = by_port.at(33333);
    EXPECT_EQ(dns->detail.app, AppProto::kDns);
    EXPECT_EQ(dns->detail.name.view(), "api.vendor.example");
    EXPECT_EQ(dns->detail.name_source, NameSource::kDnsQuery);
    EXPECT_EQ(dns->detail.dns.cname_count, 2);
    EXPECT_EQ(dns->detail.dns.cnames[1].view(), "edge7.cdn.example");
    const CollectedFlow* tls = by_port.at(40100);
    EXPECT_EQ(tls->detail.name.view(), "api.vendor.example");
    EXPECT_EQ(tls->detail.name_source, NameSource::kDnsResolution);
    EXPECT_EQ(tls->detail.resolution_cname_count, 2);
    const CollectedFlow* other = by_port.at(40200);
    EXPECT_TRUE(!other->has_detail || other->detail.name.empty());
}

TEST(Worker, ServicesAreClassifiedAtFlowEnd) {
    auto loaded = load_services_text(R"([[service]]
name = "Weather"
patterns = ["wttls.test"]
)", "<test>", "");
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded));
    auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
    ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built));
    const auto& cls = std::get<ServiceClassifier>(built);
    Harness h(&cls);
    play_tls(h, {tb::ip4(10, 0, 0, 2), 40001}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[0]);
    play_tls(h, {tb::ip4(10, 0, 0, 2), 40002}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[4]);
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 2u);
    std::map<std::uint16_t, std::string> service_by_port;
    for (const auto& f : h.sink.flows) {
        service_by_port[f.flow.client().port] = f.service;
    }
    EXPECT_EQ(service_by_port[40001], "Weather");
    EXPECT_EQ(service_by_port[40002], "");
    const auto& services = h.worker.tally().services();
    ASSERT_EQ(services.size(), 2u);
    EXPECT_EQ(services[1].connections, 1u);
    EXPECT_EQ(services[0].connections, 1u);
}

TEST(Worker, TupleReuseAfterCloseStartsANewFlowAndTheLastAckStaysInTheOld) {
    Harness h;
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 40000};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 80};
    h.send(tb::tcp(cli, srv, 1, 0, tb::kSyn));
    h.send(tb::tcp(srv, cli, 1, 2, tb::kSyn | tb::kAck));
    h.send(tb::tcp(cli, srv, 2, 2, tb::kFin | tb::kAck));
    h.send(tb::tcp(srv, cli, 2, 3, tb::kFin | tb::kAck));
    h.send(tb::tcp(cli, srv, 3, 3, tb::kAck)); // the last ACK belongs to the closed flow
    h.send(tb::tcp(cli, srv, 1000, 0, tb::kSyn)); // a new connection on the same tuple
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 2u);
    EXPECT_EQ(h.sink.flows[0].flow.pkts_up + h.sink.flows[0].flow.pkts_down, 5u);
    EXPECT_EQ(h.sink.flows[1].flow.pkts_up, 1u);
}

TEST(Worker, IdleFlowsExpireAndAFullTableEvictsWithoutLosingCounts) {
    WorkerConfig cfg = small_config();
    cfg.max_flows = 64;
    cfg.udp_idle_ns = 10ull * 1000000000ull;
    Harness h(nullptr, cfg);
    const std::vector<std::uint8_t> payload(10, 0xaa);
    for (std::uint16_t i = 0; i < 200; ++i) {
        h.send(tb::udp({tb::ip4(10, 0, 0, 2), static_cast<std::uint16_t>(10000 + i)}, {tb::ip4(10, 0, 1, 1), 9999},
                       payload));
    }
    EXPECT_LE(h.worker.active_flows(), 64u);
    EXPECT_GT(h.worker.counters().flows_evicted, 0u);
    h.now += 60ull * 1000000000ull;
    h.worker.expire(h.now, 1000);
    EXPECT_EQ(h.worker.active_flows(), 0u);
    EXPECT_EQ(h.worker.counters().flows_ended, 200u);
    EXPECT_EQ(h.worker.tally().total().connections, 200u);
    EXPECT_EQ(h.worker.tally().total().pkts_up, 200u);
}

TEST(Worker, VlansSeparateFlowsAndMalformedPacketsAreCountedByReason) {
    Harness h;
    const tb::Endpoint a{tb::ip4(10, 0, 0, 2), 1234};
    const tb::Endpoint b{tb::ip4(10, 0, 1, 1), 5678};
    const std::vector<std::uint8_t> payload(4, 1);
    h.send(tb::udp(a, b, payload, 10));
    h.send(tb::udp(a, b, payload, 20));
    auto bad = tb::udp(a, b, payload);
    bad[14] = 0x43; // IHL 3
    h.send(bad);
    auto cut = tb::udp(a, b, payload);
    cut.resize(20);
    h.send(cut);
    h.worker.flush_all();
    EXPECT_EQ(h.sink.flows.size(), 2u);
    EXPECT_EQ(h.worker.counters().decode_errors, 2u);
    std::uint64_t drops = 0;
    for (auto n : h.worker.decode_drops()) {
        drops += n;
    }
    EXPECT_EQ(drops, 2u);
}

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Worker, BundledSampleCaptureMatchesItsManifestNames) {
    const std::string path = std::string(WT_SOURCE_ROOT) + "/tests/data/sample/capture.pcap";
    const auto bytes = read_file(path);
    ASSERT_FALSE(bytes.empty()) << path;
    auto reader = parsers::CaptureReader::open(bytes);
    ASSERT_EQ(reader.status(), parsers::CaptureStatus::kOk) << reader.error();
    Harness h(nullptr, WorkerConfig{});
    parsers::CaptureRecord rec;
    while (reader.next(rec) == parsers::CaptureStatus::kOk) {
        h.worker.process_packet(rec.link, rec.data, rec.ts_ns);
    }
    h.worker.flush_all();
    std::map<std::string, int> names;
    for (const auto& f : h.sink.flows) {
        if (f.has_detail && !f.detail.name.empty()) {
            ++names[std::string(f.detail.name.view())];
        }
    }
    for (const char* expected : {"api.weather-app.example", "app-measurement.com", "courier.push.apple.com",
                                 "dns.google", "firebase-settings.crashlytics.com", "graph.facebook.com",
                                 "maps.googleapis.com", "tiles.maps.example", "www.gstatic.com",
                                 "connectivitycheck.gstatic.com", "radar.weather-app.example"}) {
        EXPECT_GT(names[expected], 0) << expected;
    }
    EXPECT_EQ(h.worker.counters().decode_errors, 0u);
}

// process_burst overlaps the table and record misses of a burst, but must give the
// same result as packet-at-a-time processing: same flows in the same order, same
// counters. Run on the bundled sample with bursts of 1 to 77 frames, once with room
// for every flow and once in an 8-flow table that evicts within bursts.
std::string flow_signature(const CollectedFlow& c) {
    const Flow& f = c.flow;
    std::string s = std::string(parsers::to_string(f.client().ip).view()) + ":" + std::to_string(f.client().port) + ">" +
                    std::string(parsers::to_string(f.server().ip).view()) + ":" + std::to_string(f.server().port) +
                    "/" + std::to_string(f.key.proto) + " " + std::to_string(f.pkts_up) + "/" +
                    std::to_string(f.pkts_down) + " " + std::to_string(f.bytes_up) + "/" +
                    std::to_string(f.bytes_down) + " " + std::to_string(f.ts_first_ns) + "-" +
                    std::to_string(f.ts_last_ns) + " flags " + std::to_string(f.flags) + " svc " + c.service;
    if (c.has_detail) {
        s += " name " + std::string(c.detail.name.view()) + " ja4 " + std::string(c.detail.tls.ja4.view());
    }
    return s;
}

// Issue #4: at most 128 bytes per flow for the flow table and the flow records,
// whatever the table size (the detail pool is sized separately, see WorkerConfig).
TEST(Worker, FlowTableAndRecordsTakeAtMost128BytesPerFlow) {
    for (const std::size_t flows : {std::size_t{1000}, std::size_t{262144}, std::size_t{1000000}}) {
        WorkerConfig cfg = small_config();
        cfg.max_flows = flows;
        Worker w(cfg, nullptr, nullptr, nullptr);
        EXPECT_LE(w.flow_bytes_per_flow(), 128.0) << flows;
        EXPECT_EQ(w.flow_capacity(), flows);
    }
}

TEST(Worker, BurstsGiveTheSameFlowsAsSinglePackets) {
    const std::string path = std::string(WT_SOURCE_ROOT) + "/tests/data/sample/capture.pcap";
    const auto bytes = read_file(path);
    ASSERT_FALSE(bytes.empty()) << path;
    auto loaded = load_default_services();
    auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
    const auto& cls = std::get<ServiceClassifier>(built);
    for (const std::size_t max_flows : {std::size_t{1} << 12, std::size_t{8}}) {
        SCOPED_TRACE(max_flows);
        WorkerConfig cfg;
        cfg.max_flows = max_flows;
        cfg.detail_pool = max_flows;
        Harness single(&cls, cfg);
        Harness burst(&cls, cfg);
        auto reader = parsers::CaptureReader::open(bytes);
        ASSERT_EQ(reader.status(), parsers::CaptureStatus::kOk);
        std::vector<FrameRef> frames;
        parsers::CaptureRecord rec;
        while (reader.next(rec) == parsers::CaptureStatus::kOk) {
            single.worker.process_packet(rec.link, rec.data, rec.ts_ns, rec.orig_len);
            frames.push_back({rec.data, rec.ts_ns, rec.orig_len, rec.link});
        }
        std::size_t size = 1;
        for (std::size_t at = 0; at < frames.size(); size = size % 77 + 1) {
            const std::size_t n = std::min(size, frames.size() - at);
            burst.worker.process_burst({frames.data() + at, n});
            at += n;
        }
        single.worker.flush_all();
        burst.worker.flush_all();
        ASSERT_GT(single.sink.flows.size(), 20u);
        ASSERT_EQ(single.sink.flows.size(), burst.sink.flows.size());
        for (std::size_t i = 0; i < single.sink.flows.size(); ++i) {
            EXPECT_EQ(flow_signature(single.sink.flows[i]), flow_signature(burst.sink.flows[i])) << i;
        }
#define WT_SAME_COUNTER(name, help) EXPECT_EQ(single.worker.counters().name, burst.worker.counters().name) << #name;
        WT_WORKER_COUNTERS(WT_SAME_COUNTER)
#undef WT_SAME_COUNTER
        if (max_flows == 8) {
            EXPECT_GT(burst.worker.counters().flows_evicted, 0u) << "the small table must evict";
        }
    }
}

} // namespace
} // namespace wt::pipeline

namespace wt::pipeline {
namespace {

// A long UDP flow with an active timeout: tallied in parts while it lasts, the
// parts add up to the whole flow, and the connection is counted once.
TEST(WorkerLive, ActiveTimeoutTalliesLongFlowsInPartsThatAddUpToTheWhole) {
    WorkerConfig cfg = small_config();
    cfg.active_timeout_ns = 2ull * 1000000000ull;
    cfg.udp_idle_ns = 60ull * 1000000000ull;
    Harness h(nullptr, cfg);
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 50000};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    const std::vector<std::uint8_t> payload(100, 0x5a);
    std::uint64_t ip_bytes = 0;
    for (int second = 0; second < 10; ++second) {
        for (int k = 0; k < 5; ++k) {
            h.send(tb::udp(cli, srv, payload));
            ip_bytes += 20 + 8 + payload.size();
        }
        h.now += 1000000000ull;
        h.worker.expire(h.now, 4096);
    }
    // While the flow lives, its bytes are already (mostly) in the tally.
    EXPECT_GE(h.worker.counters().flows_interim_tallied, 3u);
    EXPECT_EQ(h.worker.tally().total().connections, 1u);
    EXPECT_GT(h.worker.tally().total().bytes_up, ip_bytes / 2);
    EXPECT_EQ(h.worker.active_flows(), 1u);
    h.worker.flush_all();
    EXPECT_EQ(h.worker.tally().total().connections, 1u);
    EXPECT_EQ(h.worker.tally().total().pkts_up, 50u);
    EXPECT_EQ(h.worker.tally().total().bytes_up, ip_bytes);
    ASSERT_EQ(h.sink.flows.size(), 1u); // the sink sees the flow once, whole
    EXPECT_EQ(h.sink.flows[0].flow.bytes_up, ip_bytes);
}

// The stats core's double buffering: each exchanged-out tally holds exactly the flows
// tallied since the previous exchange, and together they hold everything.
TEST(WorkerLive, ExchangedTalliesPartitionTheFlows) {
    Harness h;
    CoreTally spare(0, small_config().tally);
    const std::vector<std::uint8_t> payload(10, 1);
    std::uint64_t collected = 0;
    for (std::uint16_t round = 0; round < 3; ++round) {
        for (std::uint16_t i = 0; i < 10; ++i) {
            h.send(tb::udp({tb::ip4(10, 0, 0, 2), static_cast<std::uint16_t>(20000 + round * 100 + i)},
                           {tb::ip4(10, 0, 1, 1), 9999}, payload));
        }
        h.worker.flush_all();
        spare.clear();
        h.worker.exchange_tally(spare);
        EXPECT_EQ(spare.total().connections, 10u) << "round " << round;
        collected += spare.total().connections;
        EXPECT_EQ(h.worker.tally().total().connections, 0u);
    }
    EXPECT_EQ(collected, 30u);
}

// reload: a classifier handed over between packets names the flows that end after it;
// the old classifier and its scratch come back to the caller.
TEST(WorkerLive, ExchangedClassifierNamesLaterFlowsAndTheOldOneComesBack) {
    auto build = [](const char* toml) {
        auto loaded = load_services_text(toml, "<test>", "");
        return std::get<ServiceClassifier>(ServiceClassifier::build(std::get<ServiceCatalog>(loaded)));
    };
    const ServiceClassifier before = build("[[service]]\nname = \"Old\"\npatterns = [\"elsewhere.test\"]\n");
    const ServiceClassifier after = build("[[service]]\nname = \"Weather\"\npatterns = [\"wttls.test\"]\n");
    Harness h(&before);
    play_tls(h, {tb::ip4(10, 0, 0, 2), 40001}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[0]);
    h.worker.flush_all();
    EXPECT_EQ(h.worker.tally().services()[1].connections, 0u); // "Old" does not match the SNI

    const ServiceClassifier* handed = &after;
    auto scratch = std::make_unique<ClassifierScratch>(after);
    h.worker.exchange_classifier(handed, scratch);
    EXPECT_EQ(handed, &before);
    ASSERT_NE(scratch, nullptr);
    EXPECT_EQ(&scratch->classifier(), &before);

    play_tls(h, {tb::ip4(10, 0, 0, 2), 40002}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[0]);
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 2u);
    EXPECT_EQ(h.sink.flows[1].service, "Weather");
    EXPECT_EQ(h.worker.tally().services()[1].connections, 1u);
}

// `ctl mark`: new flows take the label the control thread set; flows already alive keep theirs.
TEST(WorkerLive, LiveActionLabelsFlowsCreatedAfterTheMark) {
    Harness h;
    std::atomic<std::uint16_t> action{0};
    h.worker.set_live_action(&action);
    const std::vector<std::uint8_t> payload(10, 1);
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    h.send(tb::udp({tb::ip4(10, 0, 0, 2), 30001}, srv, payload));
    action.store(3);
    h.send(tb::udp({tb::ip4(10, 0, 0, 2), 30001}, srv, payload)); // same flow: keeps no action
    h.send(tb::udp({tb::ip4(10, 0, 0, 2), 30002}, srv, payload));
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 2u);
    std::map<std::uint16_t, std::uint16_t> action_by_port;
    for (const auto& f : h.sink.flows) {
        action_by_port[f.flow.client().port] = f.flow.action;
    }
    EXPECT_EQ(action_by_port[30001], 0u);
    EXPECT_EQ(action_by_port[30002], 3u);
}

} // namespace
} // namespace wt::pipeline
