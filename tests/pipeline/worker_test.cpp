// The worker path end to end on frames built from real handshake bytes
// (tests/parsers/tls/vectors.hpp, recorded from curl and openssl) and on real
// captures under tests/data, without DPDK.
#include "parsers/net/capture_file.hpp"
#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/services.hpp"
#include "pipeline/worker.hpp"
#include "tests/parsers/tls/tls_builder.hpp"
#include "tests/parsers/tls/vectors.hpp"
#include "tests/parsers/net/neighbours_vectors.hpp"
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
    std::uint16_t opened_in = 0;
};

class Collector final : public FlowSink {
public:
    void on_flow_end(const Flow& f, const FlowDetail* d, std::string_view service, std::uint16_t opened_in) override {
        CollectedFlow c;
        c.flow = f;
        c.has_detail = d != nullptr;
        if (d != nullptr) {
            c.detail = *d;
        }
        c.service = std::string(service);
        c.opened_in = opened_in;
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
    EXPECT_EQ(dns->detail.dns.cnames.size(), 2u);
    EXPECT_EQ(dns->detail.dns.cnames.at(1), "edge7.cdn.example");
    const CollectedFlow* tls = by_port.at(40100);
    EXPECT_EQ(tls->detail.name.view(), "api.vendor.example");
    EXPECT_EQ(tls->detail.name_source, NameSource::kDnsResolution);
    EXPECT_EQ(tls->detail.resolution_cnames.size(), 2u);
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

// x.example -> x.example.edgekey.net -> e1234.a.akamaiedge.net: a name no pattern knows is classified by
// where its CNAME chain leads, and the report says which name matched. On an address that another name
// resolved to later, the flow's SNI picks its own resolution.
TEST(Worker, CnameChainsClassifyAndTheSniPicksItsResolution) {
    auto loaded = load_services_text(R"([[service]]
name = "Akamai"
patterns = ["akamaiedge.net"]
[[service]]
name = "Other"
patterns = ["=other.example"]
)", "<test>", "");
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded));
    auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
    ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built));
    const auto& cls = std::get<ServiceClassifier>(built);
    Harness h(&cls);
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 33333};
    const tb::Endpoint resolver{tb::ip4(10, 0, 0, 53), 53};
    const auto& cap = parsers::test_vectors::kCaptures[0];
    const std::string sni(cap.sni);
    const auto lookup = [&](std::uint16_t id, std::uint16_t port, const std::vector<std::string>& chain) {
        const auto answer = tb::dns_response(id, chain, {93, 184, 216, 34});
        std::vector<std::uint8_t> query(answer.begin(), answer.begin() + 12 + chain[0].size() + 2 + 4);
        query[2] = 0x01;
        query[3] = 0x00;
        query[7] = 0;
        h.send(tb::udp({cli.ip, port}, resolver, query));
        h.send(tb::udp(resolver, {cli.ip, port}, answer));
    };
    lookup(0x1111, 33333, {sni, sni + ".edgekey.net", "e1234.a.akamaiedge.net"});
    lookup(0x2222, 33334, {"other.example"}); // later, the same address for another name
    play_tls(h, {cli.ip, 40100}, {tb::ip4(93, 184, 216, 34), 443}, cap);
    h.worker.flush_all();
    std::map<std::uint16_t, const CollectedFlow*> by_port;
    for (const auto& f : h.sink.flows) {
        by_port[f.flow.client().port] = &f;
    }
    const CollectedFlow* tls = by_port.at(40100);
    EXPECT_EQ(tls->detail.name.view(), sni);
    EXPECT_EQ(tls->detail.name_source, NameSource::kSni);
    EXPECT_EQ(tls->detail.resolved_query.view(), sni) << "the resolution whose question is the SNI, not the newest";
    EXPECT_EQ(tls->service, "Akamai");
    EXPECT_EQ(matched_name(tls->detail), "e1234.a.akamaiedge.net");
    const CollectedFlow* dns = by_port.at(33333);
    EXPECT_EQ(dns->service, "Akamai") << "a DNS flow follows its own answer's chain";
    EXPECT_EQ(matched_name(dns->detail), "e1234.a.akamaiedge.net");
    EXPECT_EQ(by_port.at(33334)->service, "Other");
    EXPECT_EQ(matched_name(by_port.at(33334)->detail), "") << "matched by its own name";

    const MergedTally m = merge_tallies({&h.worker.tally()});
    const auto row = std::find_if(m.domains.begin(), m.domains.end(), [&](const auto& d) { return d.name == sni; });
    ASSERT_NE(row, m.domains.end());
    EXPECT_EQ(row->service, 0);
    EXPECT_EQ(row->matched_by, "e1234.a.akamaiedge.net");
    EXPECT_EQ(cname_chain_names(row->cnames),
              (std::vector<std::string>{sni + ".edgekey.net", "e1234.a.akamaiedge.net"}))
        << "the domain row shows where the name led";
    const auto other = std::find_if(m.domains.begin(), m.domains.end(), [](const auto& d) { return d.name == "other.example"; });
    ASSERT_NE(other, m.domains.end());
    EXPECT_EQ(other->cnames, "") << "no chain: the resolution of another name on the same address is not this one's";
}

// NameChain keeps whole names with one space between them; a name that does not fit is left off.
TEST(NameChain, WholeNamesInOrderAndTheLongerChainKept) {
    NameChain chain;
    EXPECT_TRUE(chain.push("a.example.edgekey.net"));
    EXPECT_TRUE(chain.push("e1.a.akamaiedge.net"));
    EXPECT_EQ(chain.text(), "a.example.edgekey.net e1.a.akamaiedge.net");
    EXPECT_EQ(chain.size(), 2u);
    EXPECT_EQ(chain.at(1), "e1.a.akamaiedge.net");
    EXPECT_EQ(chain.at(2), "");
    EXPECT_EQ(chain.text_from(1), "e1.a.akamaiedge.net");
    EXPECT_EQ(chain.text_from(5), "");
    EXPECT_EQ(chain.index_of("e1.a.akamaiedge.net"), 1u);
    EXPECT_EQ(chain.index_of("x"), 2u);
    EXPECT_TRUE(chain.contains("a.example.edgekey.net"));
    EXPECT_FALSE(chain.push("")) << "no empty name";
    EXPECT_FALSE(chain.push("has space")) << "a space would split it";
    // Eight names of 60 characters fit (what resolvers send); the name past 511 characters does not.
    NameChain long_chain;
    std::size_t kept = 0;
    for (int i = 0; i < 9; ++i) {
        kept += long_chain.push(std::string(59, static_cast<char>('a' + i)) + "x") ? 1 : 0;
    }
    EXPECT_EQ(kept, 8u);
    EXPECT_LE(long_chain.text().size(), NameChain::kCapacity);
    NameChain copy;
    EXPECT_TRUE(copy.assign_text(long_chain.text()));
    EXPECT_EQ(copy, long_chain);
    EXPECT_FALSE(copy.assign_text("a  b")) << "an empty name between two spaces";
    EXPECT_TRUE(copy.empty());
    EXPECT_EQ(cname_chain_names("a b c"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(better_cname_chain("a b", "a"));
    EXPECT_FALSE(better_cname_chain("a", "a b"));
    EXPECT_TRUE(better_cname_chain("a b", "a c"));
    EXPECT_FALSE(better_cname_chain("", ""));
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

// Issue #14: DNS over HTTPS is told by the resolver (a "dns" service of the services file, by name,
// or a public resolver's address spoken to in HTTP/2 or HTTP/3), DoT by its ALPN on any port.
TEST(Worker, DohByResolverNameOrAddressAndDotByAlpn) {
    auto loaded = load_default_services();
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded));
    auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
    ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built));
    Harness h(&std::get<ServiceClassifier>(built));
    const auto hello = [&](std::uint16_t port, const tb::Endpoint& srv, std::string_view sni,
                           std::initializer_list<std::string_view> alpn) {
        const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), port};
        auto msg = parsers::test::client_hello([&](parsers::test::Builder& b) {
            if (!sni.empty()) {
                parsers::test::sni_ext(b, sni);
            }
            parsers::test::alpn_ext(b, alpn);
        });
        parsers::test::Builder record;
        record.u8(0x16).u16(0x0301).open(2).bytes({reinterpret_cast<const char*>(msg.data()), msg.size()}).close();
        h.send(tb::tcp(cli, srv, 100, 0, tb::kSyn));
        h.send(tb::tcp(srv, cli, 900, 101, tb::kSyn | tb::kAck));
        h.send(tb::tcp(cli, srv, 101, 901, tb::kAck | tb::kPsh, record.data()));
    };
    const tb::Endpoint cloudflare{tb::ip4(1, 1, 1, 1), 443};
    hello(42001, cloudflare, "", {"h2", "http/1.1"});                          // secure DNS to the address
    hello(42002, cloudflare, "", {"http/1.1"});                                // no HTTP/2: not shown to be DoH
    hello(42003, {tb::ip4(10, 7, 7, 7), 443}, "dns.google", {"h2"});           // a resolver by name
    hello(42004, {tb::ip4(10, 7, 7, 7), 443}, "www.example.org", {"h2"});      // any other HTTPS
    hello(42005, {tb::ip4(10, 7, 7, 8), 8443}, "resolver.example", {"dot"});   // DoT on another port
    h.worker.flush_all();
    std::map<std::uint16_t, const CollectedFlow*> by_port;
    for (const auto& f : h.sink.flows) {
        by_port[f.flow.client().port] = &f;
    }
    ASSERT_EQ(by_port.size(), 5u);
    EXPECT_TRUE(by_port.at(42001)->detail.doh_endpoint);
    EXPECT_FALSE(by_port.at(42002)->detail.doh_endpoint);
    EXPECT_TRUE(by_port.at(42003)->detail.doh_endpoint);
    EXPECT_EQ(by_port.at(42003)->service, "Public DNS resolvers");
    EXPECT_FALSE(by_port.at(42004)->detail.doh_endpoint);
    EXPECT_EQ(by_port.at(42005)->detail.app, AppProto::kDot);
    EXPECT_FALSE(by_port.at(42005)->detail.doh_endpoint);
}

// RFC 7858 section 3.1: port 853 is DNS over TLS, so a connection there is an attempt even when no
// TLS byte passes; a phone whose DoT is blocked shows it as a SYN answered by a RST (nft "reject with
// tcp reset") or by nothing (a drop). RFC 9250: UDP 853 is DNS over QUIC.
TEST(Worker, EncryptedDnsAttemptsAreTypedByPortWithTheirFate) {
    Harness h;
    const tb::Endpoint resolver{tb::ip4(9, 9, 9, 9), 853};
    const tb::Endpoint refused{tb::ip4(10, 0, 0, 2), 41000};
    const tb::Endpoint unanswered{tb::ip4(10, 0, 0, 3), 41001};
    const tb::Endpoint answered{tb::ip4(10, 0, 0, 4), 41002};
    const tb::Endpoint quic_client{tb::ip4(10, 0, 0, 5), 41003};
    h.send(tb::tcp(refused, resolver, 100, 0, tb::kSyn));
    h.send(tb::tcp(resolver, refused, 0, 101, tb::kRst | tb::kAck));
    h.send(tb::tcp(unanswered, resolver, 200, 0, tb::kSyn));
    h.send(tb::tcp(unanswered, resolver, 200, 0, tb::kSyn)); // the retransmission
    h.send(tb::tcp(answered, resolver, 300, 0, tb::kSyn));
    h.send(tb::tcp(resolver, answered, 9000, 301, tb::kSyn | tb::kAck));
    h.send(tb::tcp(answered, resolver, 301, 9001, tb::kAck));
    h.send(tb::tcp(answered, resolver, 301, 9001, tb::kFin | tb::kAck));
    h.send(tb::tcp(resolver, answered, 9001, 302, tb::kFin | tb::kAck));
    const std::vector<std::uint8_t> initial(1200, 0xc3);
    h.send(tb::udp(quic_client, resolver, initial));
    h.worker.flush_all();

    const TransferStats& t = h.worker.tally().total();
    EXPECT_EQ(t.dot, 3u);
    EXPECT_EQ(t.dot_refused, 1u);
    EXPECT_EQ(t.dot_unanswered, 1u);
    EXPECT_EQ(t.tls, 0u) << "no TLS handshake passed: not a TLS flow";
    EXPECT_EQ(t.doq, 1u);
    ASSERT_EQ(h.sink.flows.size(), 4u);
    for (const CollectedFlow& c : h.sink.flows) {
        ASSERT_TRUE(c.has_detail);
        if (c.flow.key.proto == 6) {
            EXPECT_EQ(c.detail.app, AppProto::kDot);
        } else {
            EXPECT_TRUE(c.detail.doq);
        }
    }
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

// A DNS exchange for `name` from client port `port`: the query and its answer (one A record).
void play_dns(Harness& h, std::uint16_t port, const std::string& name, std::array<std::uint8_t, 4> address) {
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), port};
    const tb::Endpoint resolver{tb::ip4(10, 0, 0, 53), 53};
    const auto answer = tb::dns_response(port, {name}, address);
    std::vector<std::uint8_t> query(answer.begin(), answer.begin() + 12 + static_cast<std::ptrdiff_t>(name.size()) + 2 + 4);
    query[2] = 0x01; // flags: RD only
    query[3] = 0x00;
    query[7] = 0; // ANCOUNT 0
    h.send(tb::udp(cli, resolver, query));
    h.send(tb::udp(resolver, cli, answer));
}

TEST(Worker, AFullTableEvictsTheFlowIdleLongestAmongTheNextFewAndPrefersAnAnsweredExchange) {
    WorkerConfig cfg = small_config();
    cfg.max_flows = Worker::kEvictWindow; // the window sees every flow
    Harness h(nullptr, cfg);
    const std::vector<std::uint8_t> payload(10, 0xaa);
    const auto flow = [](std::uint16_t i) {
        return std::pair{tb::Endpoint{tb::ip4(10, 0, 0, 2), static_cast<std::uint16_t>(20000 + i)},
                         tb::Endpoint{tb::ip4(10, 0, 1, 1), 9999}};
    };
    for (std::uint16_t i = 0; i < Worker::kEvictWindow; ++i) {
        h.send(tb::udp(flow(i).first, flow(i).second, payload));
    }
    // Flow 3 stays silent; every other flow sends again.
    for (std::uint16_t i = 0; i < Worker::kEvictWindow; ++i) {
        if (i != 3) {
            h.send(tb::udp(flow(i).first, flow(i).second, payload));
        }
    }
    h.send(tb::udp(flow(100).first, flow(100).second, payload)); // the table is full
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].flow.client().port, 20003);
    EXPECT_EQ(h.worker.counters().flows_evicted, 1u);

    // An answered DNS exchange goes before a flow idle longer: it has nothing more to come.
    h.sink.flows.clear();
    h.worker.flush_all();
    h.sink.flows.clear();
    play_dns(h, 5353 + 1, "answered.example", {192, 0, 2, 1});
    for (std::uint16_t i = 1; i < Worker::kEvictWindow; ++i) {
        h.send(tb::udp(flow(i).first, flow(i).second, payload));
    }
    h.send(tb::udp(flow(200).first, flow(200).second, payload));
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].detail.name.view(), "answered.example");
}

TEST(Worker, AnsweredExchangesGiveBackTheirDetailRecordsSoAFloodKeepsItsNames) {
    WorkerConfig cfg = small_config();
    cfg.detail_pool = 8;
    Harness h(nullptr, cfg);
    constexpr std::uint16_t kExchanges = 300;
    for (std::uint16_t i = 0; i < kExchanges; ++i) {
        play_dns(h, static_cast<std::uint16_t>(30000 + i), "n" + std::to_string(i) + ".example",
                 {192, 0, 2, static_cast<std::uint8_t>(i)});
    }
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), kExchanges);
    for (const CollectedFlow& c : h.sink.flows) {
        ASSERT_TRUE(c.has_detail);
        EXPECT_EQ(c.detail.name.view(), "n" + std::to_string(c.flow.client().port - 30000) + ".example");
    }
    const WorkerCounters& n = h.worker.counters();
    EXPECT_EQ(n.detail_pool_exhausted, 0u);
    EXPECT_GT(n.flows_reclaimed, kExchanges - 2 * cfg.detail_pool);
    EXPECT_EQ(n.flows_created, kExchanges);
    EXPECT_EQ(n.dns_messages, 2u * kExchanges);
}

TEST(Worker, WithNoDetailRecordFreeADnsAnswerIsStillLearnedFromThePacket) {
    WorkerConfig cfg = small_config();
    cfg.detail_pool = 1;
    Harness h(nullptr, cfg);
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 40000};
    const tb::Endpoint srv{tb::ip4(192, 0, 2, 80), 443};
    // A TLS flow in the middle of its ClientHello holds the only record: it cannot be reclaimed.
    const auto& cap = parsers::test_vectors::kCaptures[0];
    ASSERT_GT(cap.client_segments.size(), 0u);
    h.send(tb::tcp({cli.ip, 40001}, {tb::ip4(198, 51, 100, 1), 443}, 1000, 0, tb::kSyn));
    h.send(tb::tcp({cli.ip, 40001}, {tb::ip4(198, 51, 100, 1), 443}, 1001, 1, tb::kAck | tb::kPsh,
                   cap.client.subspan(0, 5)));
    play_dns(h, 40002, "hidden.example", {192, 0, 2, 80});
    EXPECT_GT(h.worker.counters().dns_without_detail, 0u);
    EXPECT_GT(h.worker.counters().detail_pool_exhausted, 0u);
    EXPECT_EQ(h.worker.counters().dns_messages, 2u);
    // Once the record is free, a connection to the answered address is named by that answer.
    h.send(tb::tcp({cli.ip, 40001}, {tb::ip4(198, 51, 100, 1), 443}, 1006, 1, tb::kRst));
    h.worker.expire(h.now + 3600ull * 1000000000ull, 1000);
    h.sink.flows.clear();
    h.send(tb::tcp(cli, srv, 1, 0, tb::kSyn));
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 1u);
    ASSERT_TRUE(h.sink.flows[0].has_detail);
    EXPECT_EQ(h.sink.flows[0].detail.name.view(), "hidden.example");
    EXPECT_EQ(h.sink.flows[0].detail.name_source, NameSource::kDnsResolution);
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

// Issue #14: Chromium's real ECH hello is named from the HTTPS record that gave it the config
// (tests/data/ech/README.md), its GREASE hellos are told apart, and without the DNS in view
// neither can be told.
std::vector<CollectedFlow> run_capture(const std::string& path, bool with_dns) {
    const auto bytes = read_file(path);
    EXPECT_FALSE(bytes.empty()) << path;
    auto reader = parsers::CaptureReader::open(bytes);
    EXPECT_EQ(reader.status(), parsers::CaptureStatus::kOk) << reader.error();
    Harness h(nullptr, WorkerConfig{});
    parsers::CaptureRecord rec;
    while (reader.next(rec) == parsers::CaptureStatus::kOk) {
        parsers::DecodedPacket pkt;
        if (!with_dns && parsers::decode_packet(rec.link, rec.data, pkt, rec.orig_len) == parsers::DecodeStatus::kOk &&
            (pkt.src_port == 53 || pkt.dst_port == 53)) {
            continue;
        }
        h.worker.process_packet(rec.link, rec.data, rec.ts_ns);
    }
    h.worker.flush_all();
    return h.sink.flows;
}

TEST(Worker, RealEchIsToldFromGreaseAndNamesTheHiddenHost) {
    const std::string path = std::string(WT_SOURCE_ROOT) + "/tests/data/ech/ech-chromium.pcap";
    const auto flows = run_capture(path, true);
    int real = 0;
    int grease_plain = 0;
    int grease_retry = 0;
    bool https_answer = false;
    for (const auto& f : flows) {
        if (!f.has_detail) {
            continue;
        }
        const FlowDetail& d = f.detail;
        if (d.app == AppProto::kDns && d.dns.https_ech) {
            https_answer = true;
            EXPECT_EQ(d.dns.query.view(), "ech-hidden.example-cars.test");
        }
        if (d.app != AppProto::kTls) {
            continue;
        }
        ASSERT_TRUE(d.tls.ech_offered) << d.sni.view();
        if (d.sni.view() == "public.example-cars.test") {
            ++real;
            EXPECT_EQ(d.tls.ech, EchKind::kReal);
            EXPECT_EQ(d.tls.ech_config_id, 0x42);
            EXPECT_EQ(d.name.view(), "ech-hidden.example-cars.test");
            EXPECT_EQ(d.name_source, NameSource::kEchDns);
            EXPECT_EQ(d.resolved_query.view(), "ech-hidden.example-cars.test");
        } else if (d.sni.view() == "grease-only.example-cars.test") {
            ++grease_plain;
            EXPECT_EQ(d.tls.ech, EchKind::kGrease);
            EXPECT_EQ(d.name_source, NameSource::kSni);
        } else if (d.sni.view() == "ech-hidden.example-cars.test") {
            // Chromium's retry without ECH after the server rejected it: the name in clear, GREASE.
            ++grease_retry;
            EXPECT_EQ(d.tls.ech, EchKind::kGrease);
        }
    }
    EXPECT_TRUE(https_answer);
    EXPECT_EQ(real, 2);
    EXPECT_EQ(grease_plain, 2);
    EXPECT_EQ(grease_retry, 2);

    for (const auto& f : run_capture(path, false)) {
        if (f.has_detail && f.detail.app == AppProto::kTls) {
            EXPECT_EQ(f.detail.tls.ech, EchKind::kUnknown) << f.detail.sni.view();
            EXPECT_EQ(f.detail.name.view(), f.detail.sni.view());
        }
    }
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

WorkerConfig live_config() {
    WorkerConfig cfg = small_config();
    cfg.live_tally = true;
    cfg.udp_idle_ns = 600ull * 1000000000ull;
    return cfg;
}

// The stats core's interval handover, done at once (the worker would spread the sweep over bursts).
CoreTally next_interval(Worker& worker, CoreTally spare) {
    const ServiceClassifier* same = nullptr;
    std::unique_ptr<ClassifierScratch> no_scratch;
    worker.begin_interval(spare, same, no_scratch);
    EXPECT_TRUE(worker.complete_interval(SIZE_MAX));
    return spare;
}

// Live: each interval's tally holds exactly the packets and bytes that passed in that interval, the
// connection is counted once (in its first interval), and the parts add up to the whole flow.
TEST(WorkerLive, EachIntervalGetsThePacketsThatPassedInIt) {
    Harness h(nullptr, live_config());
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 50000};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    const std::vector<std::uint8_t> payload(100, 0x5a);
    const std::uint64_t per_packet = 20 + 8 + payload.size();
    CoreTally spare(0, small_config().tally);
    for (int second = 0; second < 6; ++second) {
        for (int k = 0; k < 5 + second; ++k) {
            h.send(tb::udp(cli, srv, payload));
        }
        spare.clear();
        spare = next_interval(h.worker, std::move(spare));
        EXPECT_EQ(spare.total().pkts_up, 5u + static_cast<unsigned>(second)) << "interval " << second;
        EXPECT_EQ(spare.total().bytes_up, (5u + static_cast<unsigned>(second)) * per_packet) << "interval " << second;
        EXPECT_EQ(spare.total().connections, second == 0 ? 1u : 0u) << "interval " << second;
        EXPECT_EQ(spare.services()[0].bytes_up, spare.total().bytes_up) << "the unclassified row moves too";
        EXPECT_EQ(h.worker.active_flows(), 1u);
    }
    EXPECT_EQ(h.worker.counters().flow_parts_tallied, 6u);
    // Nothing since the last interval: the flow's end adds an empty last part, and the sink sees it whole.
    h.worker.flush_all();
    EXPECT_EQ(h.worker.tally().total().pkts_up, 0u);
    EXPECT_EQ(h.worker.tally().total().connections, 0u);
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].flow.pkts_up, 5u + 6 + 7 + 8 + 9 + 10);
}

// The old interval is completed a slice at a time; a packet that touches a flow still owed to it
// first gives the old interval its part, so the packet lands in the new one.
TEST(WorkerLive, APacketOnAFlowTheSweepHasNotReachedTalliesTheOldPartFirst) {
    Harness h(nullptr, live_config());
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    const std::vector<std::uint8_t> payload(60, 1);
    for (std::uint16_t i = 0; i < 50; ++i) {
        h.send(tb::udp({tb::ip4(10, 0, 0, 2), static_cast<std::uint16_t>(30000 + i)}, srv, payload));
        h.send(tb::udp({tb::ip4(10, 0, 0, 2), static_cast<std::uint16_t>(30000 + i)}, srv, payload));
    }
    CoreTally retiring(0, small_config().tally);
    const ServiceClassifier* same = nullptr;
    std::unique_ptr<ClassifierScratch> no_scratch;
    h.worker.begin_interval(retiring, same, no_scratch);
    EXPECT_FALSE(h.worker.interval_complete());
    EXPECT_FALSE(h.worker.complete_interval(10)) << "10 of 50 records";
    EXPECT_EQ(retiring.total().pkts_up, 20u);
    // Flow 49 is beyond the sweep: its next packet hands its 2 old packets to the old interval first.
    h.send(tb::udp({tb::ip4(10, 0, 0, 2), 30049}, srv, payload));
    EXPECT_EQ(retiring.total().pkts_up, 22u);
    EXPECT_EQ(h.worker.tally().total().pkts_up, 0u) << "the new packet waits for the next part";
    EXPECT_TRUE(h.worker.complete_interval(SIZE_MAX));
    EXPECT_TRUE(h.worker.interval_complete());
    EXPECT_EQ(retiring.total().pkts_up, 100u);
    EXPECT_EQ(retiring.total().connections, 50u);
    CoreTally next(0, small_config().tally);
    next = next_interval(h.worker, std::move(next));
    EXPECT_EQ(next.total().pkts_up, 1u);
    EXPECT_EQ(next.total().connections, 0u);
}

// Flows that end while the old interval is being completed give each interval its own part.
TEST(WorkerLive, AFlowEndingDuringTheSweepSplitsItsPartsBetweenTheIntervals) {
    WorkerConfig cfg = live_config();
    cfg.udp_idle_ns = 5ull * 1000000000ull;
    Harness h(nullptr, cfg);
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 40000};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    const std::vector<std::uint8_t> payload(60, 1);
    h.send(tb::udp(cli, srv, payload));
    h.send(tb::udp(cli, srv, payload));
    CoreTally retiring(0, small_config().tally);
    const ServiceClassifier* same = nullptr;
    std::unique_ptr<ClassifierScratch> no_scratch;
    h.worker.begin_interval(retiring, same, no_scratch);
    h.worker.flush_all(); // the flow ends before the sweep reached it
    EXPECT_EQ(retiring.total().pkts_up, 2u);
    EXPECT_EQ(retiring.total().connections, 1u);
    EXPECT_EQ(h.worker.tally().total().connections, 0u) << "counted once, in its first part";
    EXPECT_TRUE(h.worker.complete_interval(SIZE_MAX));
    EXPECT_EQ(retiring.total().pkts_up, 2u) << "and not twice";
}

// A flow still being named waits (naming_grace_ns) so that its connection is counted under the
// service its name gives, not as unclassified; its packets then go to the interval it is tallied in.
TEST(WorkerLive, AFlowWaitsForItsNameBeforeItsFirstPart) {
    auto loaded = load_services_text("[[service]]\nname = \"Weather\"\npatterns = [\"wttls.test\"]\n", "<test>", "");
    const ServiceClassifier cls = std::get<ServiceClassifier>(ServiceClassifier::build(std::get<ServiceCatalog>(loaded)));
    Harness h(&cls, live_config());
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 40001};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 443};
    h.send(tb::tcp(cli, srv, 1000, 0, tb::kSyn)); // the handshake has begun, no name yet
    CoreTally spare(cls.service_count(), small_config().tally);
    spare = next_interval(h.worker, std::move(spare));
    EXPECT_EQ(spare.total().connections, 0u);
    EXPECT_EQ(spare.total().pkts_up, 0u) << "not tallied as unclassified";
    h.worker.flush_all(); // the SYN-only flow ends: its one part, unclassified, goes to this interval
    play_tls(h, {tb::ip4(10, 0, 0, 2), 40002}, srv, parsers::test_vectors::kCaptures[0]);
    spare.clear();
    spare = next_interval(h.worker, std::move(spare));
    EXPECT_EQ(spare.services()[1].connections, 1u) << "the TLS flow, named, while it lingers after its FINs";
    EXPECT_EQ(spare.services()[0].connections, 1u);
    EXPECT_EQ(spare.services()[0].pkts_up, 1u);
    h.worker.flush_all();
    ASSERT_EQ(h.sink.flows.size(), 2u);
    EXPECT_EQ(h.sink.flows[1].service, "Weather");
}

// A direction that moves more than 2 GiB in one interval is tallied whenever its count crosses a
// multiple of 2^31, so the 32-bit marks never wrap: the parts add up exactly past 4 GiB.
TEST(WorkerLive, PartsStayExactPastFourGibibytes) {
    Harness h(nullptr, live_config());
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 50001};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 9999};
    // A frame cut after its headers, whose IPv4 total length says 65535 (as a capture's snaplen cuts it).
    std::vector<std::uint8_t> frame = tb::udp(cli, srv, std::vector<std::uint8_t>(32, 0));
    frame[14 + 2] = 0xff;
    frame[14 + 3] = 0xff;
    const std::size_t packets = 70000; // 4.59e9 bytes, more than 2^32
    for (std::size_t i = 0; i < packets; ++i) {
        h.now += 1000;
        h.worker.process_packet(parsers::LinkType::kEthernet, frame, h.now, 14 + 65535);
    }
    EXPECT_EQ(h.worker.counters().flow_parts_tallied, 2u) << "at 2 GiB and at 4 GiB";
    const std::uint64_t crossing_4g = ((std::uint64_t{1} << 32) + 65534) / 65535; // the packet that crossed 2^32
    EXPECT_EQ(h.worker.tally().total().bytes_up, crossing_4g * 65535) << "tallied up to and with that packet";
    h.worker.flush_all();
    EXPECT_EQ(h.worker.tally().total().bytes_up, packets * 65535);
    EXPECT_EQ(h.worker.tally().total().pkts_up, packets);
    EXPECT_EQ(h.worker.tally().total().connections, 1u);
}

// The stats core's double buffering (offline workers too): each exchanged-out tally holds exactly the
// flows tallied since the previous exchange, and together they hold everything.
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
        spare = next_interval(h.worker, std::move(spare));
        EXPECT_EQ(spare.total().connections, 10u) << "round " << round;
        collected += spare.total().connections;
        EXPECT_EQ(h.worker.tally().total().connections, 0u);
    }
    EXPECT_EQ(collected, 30u);
}

// reload: a classifier handed over with a new interval names the flows from then on; the old
// interval's parts are named by the old one (a tally holds one classifier's indices), and the old
// classifier and its scratch come back to the caller.
TEST(WorkerLive, ANewClassifierNamesTheNewIntervalAndTheOldOneComesBack) {
    auto build = [](const char* toml) {
        auto loaded = load_services_text(toml, "<test>", "");
        return std::get<ServiceClassifier>(ServiceClassifier::build(std::get<ServiceCatalog>(loaded)));
    };
    const ServiceClassifier before = build("[[service]]\nname = \"Old\"\npatterns = [\"elsewhere.test\"]\n");
    const ServiceClassifier after =
        build("[[service]]\nname = \"Other\"\npatterns = [\"x.test\"]\n[[service]]\nname = \"Weather\"\n"
              "patterns = [\"wttls.test\"]\n");
    for (const bool live : {false, true}) {
        SCOPED_TRACE(live ? "live" : "offline");
        WorkerConfig cfg = small_config();
        cfg.live_tally = live;
        Harness h(&before, cfg);
        play_tls(h, {tb::ip4(10, 0, 0, 2), 40001}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[0]);
        h.worker.flush_all();
        EXPECT_EQ(h.worker.tally().services()[1].connections, 0u); // "Old" does not match the SNI

        CoreTally retiring(after.service_count(), small_config().tally);
        const ServiceClassifier* handed = &after;
        auto scratch = std::make_unique<ClassifierScratch>(after);
        h.worker.begin_interval(retiring, handed, scratch);
        EXPECT_EQ(handed, &before);
        ASSERT_NE(scratch, nullptr);
        EXPECT_EQ(&scratch->classifier(), &before);
        EXPECT_TRUE(h.worker.complete_interval(SIZE_MAX));
        EXPECT_EQ(retiring.total().connections, 1u) << "the old interval's flow, named by the old classifier";
        EXPECT_EQ(retiring.services()[0].connections, 1u);

        play_tls(h, {tb::ip4(10, 0, 0, 2), 40002}, {tb::ip4(10, 0, 1, 1), 443}, parsers::test_vectors::kCaptures[0]);
        h.worker.flush_all();
        ASSERT_EQ(h.sink.flows.size(), 2u);
        EXPECT_EQ(h.sink.flows[1].service, "Weather");
        EXPECT_EQ(h.worker.tally().services()[2].connections, 1u);
    }
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
        action_by_port[f.flow.client().port] = f.opened_in;
    }
    EXPECT_EQ(action_by_port[30001], 0u);
    EXPECT_EQ(action_by_port[30002], 3u);
}

// Issue #15, devices: ARP, Neighbour Discovery and DHCP tie addresses and a host name to a MAC, also
// of a device whose own flows were not seen (the worker learns them beside its flows).
TEST(WorkerDevices, ArpNdAndDhcpTieAddressesAndANameToAMac) {
    namespace tv = parsers::test_vectors;
    Harness h;
    // ARP: an Ethernet header (broadcast, the sender's MAC), ethertype 0x0806, the real request.
    std::vector<std::uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x77, 0, 0, 0, 0x01, 0x08, 0x06};
    arp.insert(arp.end(), std::begin(tv::kArpRequest), std::end(tv::kArpRequest));
    h.send(arp);
    // DHCP: the Android phone's real request, 0.0.0.0:68 -> 255.255.255.255:67.
    h.send(tb::udp({tb::ip4(0, 0, 0, 0), 68}, {tb::ip4(255, 255, 255, 255), 67}, tv::kDhcpRequest));
    // A solicited NA without its option: the frame's source MAC (tb::frame's 02:00:00:00:00:01) owns it.
    tb::Addr target = tb::ip6(2);
    h.send(tb::frame({target, 0}, {tb::ip6(1), 0}, parsers::kIpProtoIcmpv6, tv::kNeighbourAdvertisementNoOption));
    // A DHCP-looking datagram between other ports is not read.
    h.send(tb::udp({tb::ip4(10, 0, 0, 9), 68}, {tb::ip4(10, 0, 0, 1), 68}, tv::kDhcpRequest));
    h.worker.flush_all();
    EXPECT_EQ(h.worker.counters().neighbour_hints, 3u);
    const MergedTally m = merge_tallies({&h.worker.tally()});
    std::map<std::string, const MergedDeviceHint*> by_mac;
    for (const auto& d : m.device_hints) {
        char mac[18];
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", d.mac[0], d.mac[1], d.mac[2], d.mac[3], d.mac[4],
                      d.mac[5]);
        by_mac[mac] = &d;
    }
    ASSERT_EQ(by_mac.size(), 3u);
    const MergedDeviceHint* router = by_mac.at("02:77:00:00:00:01");
    ASSERT_EQ(router->addresses.size(), 1u);
    EXPECT_EQ(std::string(parsers::to_string(router->addresses[0]).view()), "10.77.0.1");
    EXPECT_EQ(router->sources, kHintArp);
    const MergedDeviceHint* phone = by_mac.at("78:f8:82:d3:fb:c2");
    EXPECT_EQ(phone->host_name, "android-1c1335ec95a27318");
    EXPECT_EQ(phone->vendor_class, "dhcpcd-5.5.6");
    ASSERT_EQ(phone->addresses.size(), 1u);
    EXPECT_EQ(std::string(parsers::to_string(phone->addresses[0]).view()), "172.16.42.216");
    const MergedDeviceHint* node = by_mac.at("02:00:00:00:00:01");
    ASSERT_EQ(node->addresses.size(), 1u);
    EXPECT_EQ(std::string(parsers::to_string(node->addresses[0]).view()), "fd77::2");
    EXPECT_EQ(node->sources, kHintNdp);
}

} // namespace
} // namespace wt::pipeline
