// The traffic generator: packet protection against RFC 9001's vector, each payload writer
// against our own parsers, and the generated stream (decodes, in order, deterministic,
// within its limits, about as many concurrent flows as asked).
#include "benches/generator/payloads.hpp"
#include "benches/generator/traffic.hpp"

#include "parsers/dns/dns_message.hpp"
#include "parsers/http/http_request.hpp"
#include "parsers/net/packet.hpp"
#include "parsers/quic/client_initial.hpp"
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "tests/parsers/quic/vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace wt;
namespace tv = wt::parsers::test_vectors;

std::string_view text(const auto& fixed) { return fixed.view(); }

TEST(QuicSealer, ReproducesRfc9001ClientInitial) {
    // RFC 9001 A.2: header c3 00000001 08 8394c8f03e515708 00 00 449e 00000002, then the CRYPTO
    // frame and PADDING; DCID 8394c8f03e515708.
    const std::array<std::uint8_t, 8> dcid{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    std::vector<std::uint8_t> packet = {0xc3, 0, 0, 0, 1, 8};
    packet.insert(packet.end(), dcid.begin(), dcid.end());
    packet.insert(packet.end(), {0x00, 0x00, 0x44, 0x9e, 0x00, 0x00, 0x00, 0x02});
    const std::size_t pn_offset = packet.size() - 4;
    packet.insert(packet.end(), std::begin(tv::kA2PlaintextPrefix), std::end(tv::kA2PlaintextPrefix));
    packet.resize(packet.size() + tv::kA2PaddingLength + 16, 0);
    parsers::QuicInitialKeys keys;
    ASSERT_TRUE(parsers::derive_initial_keys(parsers::kQuicVersion1, {dcid.data(), dcid.size()}, true, keys));
    gen::QuicSealer sealer;
    const std::size_t n = sealer.protect(keys, packet.data(), pn_offset, 4, 2,
                                         sizeof(tv::kA2PlaintextPrefix) + tv::kA2PaddingLength);
    ASSERT_EQ(n, sizeof(tv::kRfc9001ClientInitial));
    EXPECT_TRUE(std::equal(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n),
                           std::begin(tv::kRfc9001ClientInitial)));
}

TEST(Payloads, TlsClientHelloCarriesTheNewName) {
    ASSERT_GE(gen::tls_templates().size(), 3u);
    std::array<std::uint8_t, 2048> buf{};
    std::array<std::uint8_t, 1024> scratch{};
    for (const auto& t : gen::tls_templates()) {
        for (std::string_view name : {"a.io", "api-1234.generated-name.example.org"}) {
            const std::size_t n = gen::write_tls_client_hello(buf, t, name, nullptr);
            ASSERT_GT(n, 0u) << t.name;
            parsers::Bytes message;
            ASSERT_EQ(parsers::tls_first_handshake({buf.data(), n}, 1, scratch, message), parsers::ParseStatus::kOk)
                << t.name;
            EXPECT_EQ(message.size() + 5, n);
            parsers::TlsClientHello hello;
            ASSERT_EQ(parsers::parse_client_hello(message, hello), parsers::ParseStatus::kOk) << t.name;
            EXPECT_EQ(text(hello.sni), name) << t.name;
        }
    }
}

TEST(Payloads, QuicInitialsDecryptToTheNewName) {
    ASSERT_GE(gen::quic_templates().size(), 2u);
    gen::QuicSealer sealer;
    parsers::QuicInitialDecryptor decryptor;
    auto state = std::make_unique<parsers::QuicFlowState>();
    std::array<std::uint8_t, 4096> hello{};
    std::array<std::uint8_t, 1500> datagram{};
    const std::array<std::uint8_t, 8> dcid{1, 2, 3, 4, 5, 6, 7, 8};
    const std::array<std::uint8_t, 8> scid{9, 9, 9, 9, 9, 9, 9, 9};
    for (const auto& t : gen::quic_templates()) {
        const std::string name = "quic-" + t.name + ".generated.example";
        const std::size_t len = t.hello.write(hello, name, nullptr);
        ASSERT_GT(len, 0u);
        state->reset();
        parsers::ParseStatus st = parsers::ParseStatus::kNeedMore;
        const std::size_t count = gen::quic_client_initial_count(len);
        for (std::uint32_t i = 0; i < count; ++i) {
            const std::size_t n = gen::write_quic_client_initial(sealer, {hello.data(), len}, dcid, scid, i, datagram);
            ASSERT_EQ(n, gen::kQuicInitialDatagram);
            st = parsers::process_client_initial_datagram(decryptor, {datagram.data(), n}, *state);
        }
        EXPECT_EQ(gen::write_quic_client_initial(sealer, {hello.data(), len}, dcid, scid,
                                                 static_cast<std::uint32_t>(count), datagram),
                  0u);
        ASSERT_EQ(st, parsers::ParseStatus::kOk) << t.name;
        parsers::TlsClientHello parsed;
        ASSERT_EQ(parsers::parse_client_hello(state->crypto.client_hello(), parsed), parsers::ParseStatus::kOk);
        EXPECT_EQ(text(parsed.sni), name);
    }
}

TEST(Payloads, DnsAnswerWithCnameChain) {
    std::array<std::uint8_t, 512> buf{};
    const std::array<std::string_view, 2> chain{"www.example.com.edgekey.net", "e12.a.akamaiedge.net"};
    const std::array<std::uint8_t, 4> addr{198, 18, 0, 7};
    const std::size_t n = gen::write_dns_response(buf, 0x1234, "www.example.com", 1, chain, addr);
    ASSERT_GT(n, 0u);
    parsers::DnsMessage m;
    ASSERT_EQ(parsers::parse_dns_message({buf.data(), n}, m), parsers::ParseStatus::kOk);
    EXPECT_TRUE(m.is_response);
    EXPECT_EQ(text(m.qname), "www.example.com");
    ASSERT_EQ(m.answer_count, 3);
    EXPECT_EQ(text(m.answers[0].owner), "www.example.com");
    EXPECT_EQ(text(m.answers[0].target), chain[0]);
    EXPECT_EQ(text(m.answers[1].owner), chain[0]);
    EXPECT_EQ(text(m.answers[1].target), chain[1]);
    EXPECT_EQ(text(m.answers[2].owner), chain[1]);
    EXPECT_EQ(m.answers[2].addr_len, 4);
    EXPECT_EQ(m.answers[2].addr[3], 7);

    const std::size_t q = gen::write_dns_query(buf, 7, "a.b.example", 28);
    ASSERT_EQ(parsers::parse_dns_message({buf.data(), q}, m), parsers::ParseStatus::kOk);
    EXPECT_FALSE(m.is_response);
    EXPECT_EQ(m.qtype, 28);
    EXPECT_EQ(text(m.qname), "a.b.example");
}

TEST(Payloads, HttpGetHasTheHost) {
    std::array<std::uint8_t, 512> buf{};
    const std::size_t n = gen::write_http_get(buf, "cdn-7.example.net", 42);
    parsers::HttpRequest r;
    ASSERT_EQ(parsers::parse_http_request({buf.data(), n}, r), parsers::ParseStatus::kOk);
    EXPECT_TRUE(r.has_host);
    EXPECT_EQ(text(r.host), "cdn-7.example.net");
}

TEST(Traffic, EveryFrameDecodesInTimestampOrder) {
    gen::TrafficConfig c;
    c.flows = 500;
    c.max_packets = 30000;
    c.ipv6_percent = 20;
    gen::TrafficGenerator g(c);
    std::uint64_t last = 0;
    std::array<std::uint64_t, gen::kFlowKinds> kinds{};
    std::uint64_t v6 = 0;
    std::uint64_t count = 0;
    parsers::DecodedPacket d;
    g.for_each([&](const gen::Packet& p) {
        ++count;
        ASSERT_GE(p.ts_ns, last);
        last = p.ts_ns;
        ASSERT_GE(p.frame.size(), gen::kMinFrame);
        ASSERT_LE(p.frame.size(), gen::kMaxFrame);
        d = {};
        ASSERT_EQ(parsers::decode_packet(parsers::LinkType::kEthernet, p.frame, d), parsers::DecodeStatus::kOk)
            << "packet " << count;
        ASSERT_TRUE(d.l4_proto == 6 || d.l4_proto == 17);
        ASSERT_EQ(d.ip_bytes + 14 <= p.frame.size(), true);
        ++kinds[static_cast<std::size_t>(p.kind)];
        v6 += d.ip_version == 6;
    });
    EXPECT_EQ(count, 30000u);
    EXPECT_EQ(g.stats().packets, count);
    for (std::size_t k = 0; k < gen::kFlowKinds; ++k) {
        EXPECT_GT(kinds[k], 0u) << gen::to_string(static_cast<gen::FlowKind>(k));
    }
    EXPECT_GT(v6, count / 10);
    EXPECT_LT(v6, count / 3);
}

std::uint64_t digest(const gen::TrafficConfig& c) {
    gen::TrafficGenerator g(c);
    std::uint64_t h = 1469598103934665603ull; // FNV-1a over timestamps and frames
    g.for_each([&](const gen::Packet& p) {
        h = (h ^ p.ts_ns) * 1099511628211ull;
        for (std::uint8_t b : p.frame) {
            h = (h ^ b) * 1099511628211ull;
        }
    });
    return h;
}

TEST(Traffic, DeterministicForASeed) {
    gen::TrafficConfig c;
    c.flows = 300;
    c.max_packets = 5000;
    c.seed = 11;
    const std::uint64_t a = digest(c);
    EXPECT_EQ(a, digest(c));
    c.seed = 12;
    EXPECT_NE(a, digest(c));
}

TEST(Traffic, StopsBeforeTheByteLimit) {
    gen::TrafficConfig c;
    c.max_bytes = 1000000;
    gen::TrafficGenerator g(c);
    g.for_each([](const gen::Packet&) {});
    EXPECT_LE(g.stats().pcap_bytes, c.max_bytes);
    EXPECT_GT(g.stats().pcap_bytes, c.max_bytes - 1600);
    EXPECT_EQ(g.stats().pcap_bytes, 24 + 16 * g.stats().packets + g.stats().frame_bytes);
}

TEST(Traffic, ConcurrencyFollowsLittlesLaw) {
    gen::TrafficConfig c;
    c.flows = 4000;
    c.new_flows_per_s = 2000; // 2 s lifetimes
    c.duration_s = 8;
    gen::TrafficGenerator g(c);
    g.for_each([](const gen::Packet&) {});
    const auto& s = g.stats();
    EXPECT_NEAR(static_cast<double>(s.flows_started), 8 * 2000.0, 8 * 2000.0 * 0.05);
    EXPECT_GT(s.max_active, 3400u);
    EXPECT_LT(s.max_active, 5200u);
}

TEST(Traffic, TotalFlowsAllFinishAndNameTheirServers) {
    gen::TrafficConfig c;
    c.flows = 200;
    c.total_flows = 400;
    c.names = {"one.example", "two.example", "three.example"};
    gen::TrafficGenerator g(c);
    g.for_each([](const gen::Packet&) {});
    EXPECT_EQ(g.stats().flows_started, 400u);
    EXPECT_EQ(g.stats().flows_finished, 400u);
    EXPECT_EQ(g.active_flows(), 0u);
    const auto names = g.names_emitted();
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
              (std::set<std::string>{"one.example", "two.example", "three.example"}));
}

TEST(Traffic, FramesInMemory) {
    gen::TrafficConfig c;
    c.flows = 100;
    const auto frames = gen::generate_frames(c, 1000);
    ASSERT_EQ(frames.size(), 1000u);
    EXPECT_GE(frames.front().size(), gen::kMinFrame);
}

TEST(Traffic, RejectsConfigurationsItCannotRun) {
    gen::TrafficConfig c;
    c.mix = {};
    EXPECT_THROW(gen::TrafficGenerator{c}, std::invalid_argument);
    c = {};
    c.names = {std::string(300, 'a')};
    EXPECT_THROW(gen::TrafficGenerator{c}, std::invalid_argument);
    std::array<std::uint32_t, gen::kFlowKinds> mix{};
    EXPECT_TRUE(gen::parse_mix("tls=1,bulk=3", mix));
    EXPECT_EQ(mix[0], 1u);
    EXPECT_EQ(mix[4], 3u);
    EXPECT_FALSE(gen::parse_mix("smtp=1", mix));
    EXPECT_FALSE(gen::parse_mix("tls=x", mix));
}

} // namespace
