// Issue #15: what each on-screen action did. Bytes go to the action under way when their packet
// passes, so a connection kept open splits across the actions it serves; it is new where it opened
// and reused in each later action in which it carries data; a DNS lookup is not a connection.
// Frames are built around real handshake bytes (tests/parsers/tls/vectors.hpp).
#include "pipeline/tally/actions.hpp"
#include "pipeline/worker.hpp"
#include "tests/parsers/tls/vectors.hpp"
#include "tests/support/packet_builder.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace wt::pipeline {
namespace {

namespace tb = wt::testing;

constexpr std::uint64_t kT0 = 1700000000ull * 1000000000ull;
constexpr std::uint64_t kSecond = 1000000000ull;
constexpr std::size_t kEthernetHeader = 14;

// Marks at 10 s ("Launch"), 40 s ("Climate") and 70 s ("Map") after kT0.
ActionSchedule three_actions() {
    ActionSchedule s = ActionSchedule::from_timed_labels(
        {{kT0 + 10 * kSecond, "Launch"}, {kT0 + 40 * kSecond, "Climate"}, {kT0 + 70 * kSecond, "Map"}});
    s.anchor(kT0); // as analyze does at the first packet
    return s;
}

WorkerConfig config(std::size_t action_parts = 64) {
    WorkerConfig c;
    c.max_flows = 256;
    c.detail_pool = 64;
    c.stream_pool = 16;
    c.quic_pool = 2;
    c.dns_cache_entries = 64;
    c.tally.domains = 64;
    c.tally.client_services = 64;
    c.tally.client_domains = 64;
    c.tally.action_domains = 64;
    c.tally.server_names = 64;
    c.action_parts = action_parts;
    return c;
}

struct Session {
    ActionSchedule schedule = three_actions();
    Worker worker;
    explicit Session(std::size_t action_parts = 64) : worker(config(action_parts), nullptr, &schedule, nullptr) {}
    // Sends a frame at kT0 + seconds; returns its IP bytes (what a flow counts).
    std::uint64_t at(double seconds, const std::vector<std::uint8_t>& frame) {
        worker.process_packet(parsers::LinkType::kEthernet, frame,
                              kT0 + static_cast<std::uint64_t>(seconds * static_cast<double>(kSecond)));
        return frame.size() - kEthernetHeader;
    }
    MergedTally finish() {
        worker.flush_all();
        return merge_tallies({&worker.tally()});
    }
};

const MergedActionDomain* row(const MergedTally& m, std::uint16_t action, std::string_view name) {
    for (const auto& a : m.actions) {
        if (a.action == action && a.name == name) {
            return &a;
        }
    }
    return nullptr;
}

// A TLS connection from real handshake bytes: SYN, SYN+ACK, ACK, the ClientHello, the ServerHello,
// at `t` seconds (a packet every 10 ms). Returns the IP bytes up and down it moved.
struct Tcp {
    tb::Endpoint cli, srv;
    std::uint32_t cseq = 1001, sseq = 50001;
};
std::pair<std::uint64_t, std::uint64_t> open_tls(Session& s, Tcp& c, double t,
                                                 const parsers::test_vectors::TlsCapture& cap) {
    std::uint64_t up = 0, down = 0;
    up += s.at(t, tb::tcp(c.cli, c.srv, c.cseq - 1, 0, tb::kSyn));
    down += s.at(t + 0.01, tb::tcp(c.srv, c.cli, c.sseq - 1, c.cseq, tb::kSyn | tb::kAck));
    up += s.at(t + 0.02, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kAck));
    up += s.at(t + 0.03, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kAck | tb::kPsh, cap.client));
    c.cseq += static_cast<std::uint32_t>(cap.client.size());
    down += s.at(t + 0.04, tb::tcp(c.srv, c.cli, c.sseq, c.cseq, tb::kAck | tb::kPsh, cap.server));
    c.sseq += static_cast<std::uint32_t>(cap.server.size());
    return {up, down};
}
// A request and its response on an open connection.
std::pair<std::uint64_t, std::uint64_t> exchange(Session& s, Tcp& c, double t, std::size_t request, std::size_t response) {
    const std::vector<std::uint8_t> req(request, 0x17), resp(response, 0x17);
    const std::uint64_t up = s.at(t, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kAck | tb::kPsh, req));
    c.cseq += static_cast<std::uint32_t>(request);
    const std::uint64_t down = s.at(t + 0.01, tb::tcp(c.srv, c.cli, c.sseq, c.cseq, tb::kAck | tb::kPsh, resp));
    c.sseq += static_cast<std::uint32_t>(response);
    return {up, down};
}

const parsers::test_vectors::TlsCapture& with_sni() {
    for (const auto& cap : parsers::test_vectors::kCaptures) {
        if (!cap.sni.empty()) {
            return cap;
        }
    }
    return parsers::test_vectors::kCaptures[0];
}

TEST(ActionAttribution, AConnectionOpenedInOneActionIsReusedInTheNextTwo) {
    Session s;
    const auto& cap = with_sni();
    const std::string name(cap.sni);
    Tcp c{{tb::ip4(10, 0, 0, 2), 40001}, {tb::ip4(10, 0, 1, 1), 443}};
    const auto [open_up, open_down] = open_tls(s, c, 12, cap);
    const auto [x1_up, x1_down] = exchange(s, c, 15, 300, 4000);
    const auto [x2_up, x2_down] = exchange(s, c, 45, 200, 9000); // Climate
    const auto [x3_up, x3_down] = exchange(s, c, 75, 100, 700);  // Map
    s.at(76, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kFin | tb::kAck));
    const MergedTally m = s.finish();

    const MergedActionDomain* launch = row(m, 1, name);
    const MergedActionDomain* climate = row(m, 2, name);
    const MergedActionDomain* map = row(m, 3, name);
    ASSERT_NE(launch, nullptr);
    ASSERT_NE(climate, nullptr);
    ASSERT_NE(map, nullptr);
    EXPECT_EQ(launch->stats.connections, 1u);
    EXPECT_EQ(launch->connections_reused, 0u);
    EXPECT_EQ(launch->stats.bytes_up, open_up + x1_up);
    EXPECT_EQ(launch->stats.bytes_down, open_down + x1_down);
    for (const MergedActionDomain* later : {climate, map}) {
        EXPECT_EQ(later->stats.connections, 0u) << "not opened here";
        EXPECT_EQ(later->connections_reused, 1u);
        EXPECT_EQ(later->reused_from, 1) << "opened in Launch";
        EXPECT_EQ(later->stats.tls, 1u) << "a reused connection's TLS facts count where it serves";
    }
    EXPECT_EQ(climate->stats.bytes_up, x2_up);
    EXPECT_EQ(climate->stats.bytes_down, x2_down);
    // The FIN (no data) stays with the stretch under way.
    EXPECT_GE(map->stats.bytes_up, x3_up);
    EXPECT_EQ(map->stats.bytes_down, x3_down);
    EXPECT_EQ(launch->stats.bytes_up + climate->stats.bytes_up + map->stats.bytes_up, m.total.stats.bytes_up)
        << "every byte is in exactly one action";
    EXPECT_EQ(s.worker.counters().action_parts_early, 0u);
}

TEST(ActionAttribution, ATransferAcrossAMarkSplitsByPacketTime) {
    Session s;
    const auto& cap = with_sni();
    Tcp c{{tb::ip4(10, 0, 0, 2), 40002}, {tb::ip4(10, 0, 1, 1), 443}};
    open_tls(s, c, 38, cap);
    std::uint64_t before = 0, after = 0;
    const std::vector<std::uint8_t> chunk(1200, 0x17);
    for (int i = 0; i < 10; ++i) { // a download from 39.5 s to 40.4 s: the mark at 40 s falls in it
        const double t = 39.5 + 0.1 * i;
        const std::uint64_t n = s.at(t, tb::tcp(c.srv, c.cli, c.sseq, c.cseq, tb::kAck, chunk));
        c.sseq += static_cast<std::uint32_t>(chunk.size());
        (t < 40 ? before : after) += n;
    }
    const MergedTally m = s.finish();
    const MergedActionDomain* launch = row(m, 1, cap.sni);
    const MergedActionDomain* climate = row(m, 2, cap.sni);
    ASSERT_NE(launch, nullptr);
    ASSERT_NE(climate, nullptr);
    EXPECT_GT(before, 0u);
    EXPECT_GT(after, 0u);
    EXPECT_EQ(climate->stats.bytes_down, after);
    EXPECT_EQ(launch->stats.bytes_down + climate->stats.bytes_down, m.total.stats.bytes_down);
    EXPECT_EQ(climate->connections_reused, 1u);
}

TEST(ActionAttribution, ALookupAndItsConnectionInDifferentActions) {
    Session s;
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 33333};
    const tb::Endpoint resolver{tb::ip4(10, 0, 0, 53), 53};
    const auto answer = tb::dns_response(0x4242, {"tiles.maps.example"}, {93, 184, 216, 34});
    std::vector<std::uint8_t> query(answer.begin(), answer.begin() + 12 + 20 + 4);
    query[2] = 0x01;
    query[3] = 0x00;
    query[7] = 0;
    s.at(39.8, tb::udp(cli, resolver, query));
    s.at(39.9, tb::udp(resolver, cli, answer));
    // The connection to the answer comes after the mark (no SNI: named by the lookup).
    const auto& nosni = parsers::test_vectors::kCaptures[4];
    ASSERT_TRUE(nosni.sni.empty());
    Tcp c{{cli.ip, 40100}, {tb::ip4(93, 184, 216, 34), 443}};
    const auto [up, down] = open_tls(s, c, 41, nosni);
    const MergedTally m = s.finish();
    const MergedActionDomain* lookup = row(m, 1, "tiles.maps.example");
    const MergedActionDomain* conn = row(m, 2, "tiles.maps.example");
    ASSERT_NE(lookup, nullptr);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(lookup->dns_lookups, 1u);
    EXPECT_EQ(lookup->stats.connections, 0u) << "a lookup is not a connection";
    EXPECT_EQ(lookup->stats.bytes_up + lookup->stats.bytes_down, 0u) << "its bytes went to the resolver";
    EXPECT_EQ(conn->dns_lookups, 0u);
    EXPECT_EQ(conn->stats.connections, 1u);
    EXPECT_EQ(conn->stats.bytes_up, up);
    EXPECT_EQ(conn->stats.bytes_down, down);
    EXPECT_EQ(conn->stats.tls_without_sni, 1u);
}

TEST(ActionAttribution, AHandshakeJustBeforeAMarkOpensTheNextActionsConnection) {
    Session s;
    const auto& cap = with_sni();
    Tcp c{{tb::ip4(10, 0, 0, 2), 40003}, {tb::ip4(10, 0, 1, 1), 443}};
    s.at(39.98, tb::tcp(c.cli, c.srv, c.cseq - 1, 0, tb::kSyn));
    s.at(39.99, tb::tcp(c.srv, c.cli, c.sseq - 1, c.cseq, tb::kSyn | tb::kAck));
    s.at(40.01, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kAck | tb::kPsh, cap.client)); // first data after the mark
    c.cseq += static_cast<std::uint32_t>(cap.client.size());
    s.at(40.02, tb::tcp(c.srv, c.cli, c.sseq, c.cseq, tb::kAck | tb::kPsh, cap.server));
    const MergedTally m = s.finish();
    EXPECT_EQ(row(m, 1, cap.sni), nullptr) << "no data passed in Launch";
    const MergedActionDomain* climate = row(m, 2, cap.sni);
    ASSERT_NE(climate, nullptr);
    EXPECT_EQ(climate->stats.connections, 1u);
    EXPECT_EQ(climate->connections_reused, 0u);
    EXPECT_EQ(climate->stats.bytes_up + climate->stats.bytes_down, m.total.stats.bytes_up + m.total.stats.bytes_down);
}

TEST(ActionAttribution, AcksWithoutDataAreNotAReuse) {
    Session s;
    const auto& cap = with_sni();
    Tcp c{{tb::ip4(10, 0, 0, 2), 40004}, {tb::ip4(10, 0, 1, 1), 443}};
    open_tls(s, c, 12, cap);
    s.at(50, tb::tcp(c.cli, c.srv, c.cseq, c.sseq, tb::kAck)); // a bare ACK in Climate
    const MergedTally m = s.finish();
    EXPECT_EQ(row(m, 2, cap.sni), nullptr);
    const MergedActionDomain* launch = row(m, 1, cap.sni);
    ASSERT_NE(launch, nullptr);
    EXPECT_EQ(launch->stats.bytes_up + launch->stats.bytes_down, m.total.stats.bytes_up + m.total.stats.bytes_down);
}

TEST(ActionAttribution, FlowsWithoutANameAreListedUnderTheirServer) {
    Session s;
    const tb::Endpoint srv{tb::ip4(203, 0, 113, 7), 5000};
    const std::vector<std::uint8_t> payload(40, 0x42);
    s.at(15, tb::udp({tb::ip4(10, 0, 0, 2), 30001}, srv, payload));
    s.at(45, tb::udp({tb::ip4(10, 0, 0, 2), 30001}, srv, payload));
    const MergedTally m = s.finish();
    std::map<std::uint16_t, const MergedActionDomain*> by_action;
    for (const auto& a : m.actions) {
        EXPECT_TRUE(a.name.empty());
        EXPECT_EQ(a.server.version, 4);
        EXPECT_EQ(a.server.bytes, tb::ip4(203, 0, 113, 7).bytes);
        by_action[a.action] = &a;
    }
    ASSERT_EQ(by_action.size(), 2u);
    EXPECT_EQ(by_action[1]->stats.connections, 1u);
    EXPECT_EQ(by_action[2]->connections_reused, 1u);
}

// With no free action part, a stretch is tallied when it ends (named as the flow is then): the
// same figures, counted in action_parts_early.
TEST(ActionAttribution, NoFreePartTalliesTheStretchAtOnceWithTheSameFigures) {
    std::map<std::string, std::string> figures;
    for (const std::size_t parts : {std::size_t{64}, std::size_t{0}}) {
        Session s(parts);
        const auto& cap = with_sni();
        Tcp c{{tb::ip4(10, 0, 0, 2), 40005}, {tb::ip4(10, 0, 1, 1), 443}};
        open_tls(s, c, 12, cap);
        exchange(s, c, 45, 200, 9000);
        exchange(s, c, 75, 100, 700);
        const MergedTally m = s.finish();
        std::string text;
        for (const auto& a : m.actions) {
            text += std::to_string(a.action) + " " + a.name + " " + std::to_string(a.stats.connections) + "/" +
                    std::to_string(a.connections_reused) + " " + std::to_string(a.stats.bytes_up) + "/" +
                    std::to_string(a.stats.bytes_down) + "\n";
        }
        figures[parts == 0 ? "early" : "pooled"] = text;
        EXPECT_EQ(s.worker.counters().action_parts_early, parts == 0 ? 2u : 0u);
    }
    EXPECT_EQ(figures["early"], figures["pooled"]);
}

// A live mark: flows already open are reused in it once they carry data.
TEST(ActionAttribution, LiveMarksSplitFlowsLikeAScheduleDoes) {
    Worker worker(config(), nullptr, nullptr, nullptr);
    std::atomic<std::uint16_t> action{1};
    worker.set_live_action(&action);
    const tb::Endpoint cli{tb::ip4(10, 0, 0, 2), 30001}, srv{tb::ip4(203, 0, 113, 9), 5000};
    const std::vector<std::uint8_t> payload(100, 1);
    worker.process_packet(parsers::LinkType::kEthernet, tb::udp(cli, srv, payload), kT0);
    action.store(2);
    worker.process_packet(parsers::LinkType::kEthernet, tb::udp(srv, cli, payload), kT0 + kSecond);
    worker.flush_all();
    const MergedTally m = merge_tallies({&worker.tally()});
    ASSERT_EQ(m.actions.size(), 2u);
    EXPECT_EQ(m.actions[0].action, 1);
    EXPECT_EQ(m.actions[0].stats.bytes_up, 128u);
    EXPECT_EQ(m.actions[1].action, 2);
    EXPECT_EQ(m.actions[1].connections_reused, 1u);
    EXPECT_EQ(m.actions[1].stats.bytes_down, 128u);
}

} // namespace
} // namespace wt::pipeline

namespace wt::pipeline {
namespace {

// A flow without a handshake (ICMP: every packet is its data) opened where its first packet passed:
// packets in a later action are that action's, and the earlier ones stay with the earlier action
// (found by the HTML report's timeline: router solicitations all counted in the last action).
TEST(ActionAttribution, AnIcmpFlowKeepsItsEarlierActionsBytes) {
    Session s;
    const tb::Endpoint phone{tb::ip4(10, 0, 0, 2), 0};
    const tb::Endpoint router{tb::ip4(10, 0, 0, 1), 0};
    const std::vector<std::uint8_t> echo = {8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'};
    std::uint64_t launch = 0;
    launch += s.at(11, tb::frame(phone, router, 1, echo));
    launch += s.at(20, tb::frame(phone, router, 1, echo));
    const std::uint64_t climate = s.at(41, tb::frame(phone, router, 1, echo));
    const MergedTally m = s.finish();
    std::uint64_t in_launch = 0;
    std::uint64_t in_climate = 0;
    for (const auto& a : m.actions) {
        (a.action == 1 ? in_launch : in_climate) += a.stats.bytes_up;
        if (a.action == 1) {
            EXPECT_EQ(a.stats.connections, 1u) << "new where it began";
        } else {
            EXPECT_EQ(a.connections_reused, 1u);
        }
    }
    EXPECT_EQ(in_launch, launch);
    EXPECT_EQ(in_climate, climate);
}

// Issue #16: with interval_log, each flow's bytes by interval, under its serial, and its serial
// named when it ends; the bytes of all intervals add up to the flow's.
class IntervalSink final : public FlowSink {
public:
    void on_flow_end(const Flow& f, const FlowDetail*, std::string_view, std::uint16_t) override {
        ended.push_back(f);
    }
    void on_interval_bytes(std::span<const IntervalBytes> batch) override { log.insert(log.end(), batch.begin(), batch.end()); }
    void on_flow_serial(std::uint32_t serial, const Flow& f, const FlowDetail*, std::string_view) override {
        serial_of_port[f.client().port] = serial;
    }
    std::vector<Flow> ended;
    std::vector<IntervalBytes> log;
    std::map<std::uint16_t, std::uint32_t> serial_of_port;
};

TEST(IntervalLog, EachFlowsBytesByIntervalAddUpAndAreNamedAtItsEnd) {
    IntervalSink sink;
    IntervalClock clock;
    WorkerConfig c = config();
    c.interval_clock = &clock;
    c.first_flow_serial = 1;
    c.flow_serial_step = 2; // the second of two workers
    Worker w(c, nullptr, nullptr, &sink);
    const tb::Endpoint a{tb::ip4(10, 0, 0, 2), 40000};
    const tb::Endpoint b{tb::ip4(10, 0, 0, 2), 40001};
    const tb::Endpoint srv{tb::ip4(10, 0, 1, 1), 5000};
    const std::vector<std::uint8_t> payload(100, 7);
    std::map<std::pair<std::uint16_t, std::uint32_t>, std::uint64_t> sent; // (port, 10 ms unit) -> bytes up
    const auto send = [&](const tb::Endpoint& from, double t) {
        const auto frame = tb::udp(from, srv, payload);
        w.process_packet(parsers::LinkType::kEthernet, frame, kT0 + static_cast<std::uint64_t>(t * kSecond));
        // kT0 is a whole second: 10 ms intervals from it (a capture of 1 s needs no wider ones).
        sent[{from.port, static_cast<std::uint32_t>(t * 100)}] += frame.size() - kEthernetHeader;
    };
    send(a, 0.001);
    send(a, 0.002);
    send(b, 0.003);
    send(a, 0.051);
    send(a, 0.052);
    send(b, 0.901);
    w.flush_all();
    EXPECT_TRUE(clock.started()) << "the first packet starts the clock";
    EXPECT_EQ(clock.width_ns(), IntervalClock::kUnitNs);
    ASSERT_EQ(sink.ended.size(), 2u);
    ASSERT_EQ(sink.serial_of_port.size(), 2u);
    EXPECT_EQ(sink.serial_of_port[a.port], 1u);
    EXPECT_EQ(sink.serial_of_port[b.port], 3u);
    std::map<std::pair<std::uint16_t, std::uint32_t>, std::uint64_t> logged;
    for (const IntervalBytes& e : sink.log) {
        const std::uint16_t port = e.flow == sink.serial_of_port[a.port] ? a.port : b.port;
        logged[{port, e.interval}] += e.bytes_up;
        EXPECT_EQ(e.bytes_down, 0u);
    }
    EXPECT_EQ(logged, sent);
    EXPECT_EQ(sink.log.size(), 4u) << "one entry per flow and interval it moved bytes in";
}

} // namespace
} // namespace wt::pipeline
