// The servers view's tally: which names were used for each server address.
#include "pipeline/tally/tally.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <gtest/gtest.h>

namespace wt::pipeline {
namespace {

using test::describe;
using test::dns_detail;
using test::make_flow;
using test::quic_detail;
using test::tls_detail;
using test::v4;

// SNI routing: two API hosts behind one load-balancer address, a web host behind another,
// a DNS lookup to a resolver (whose query names no server) and a flow without a name.
TEST(Tally, ServersListTheNamesUsedForEachAddress) {
    CoreTally t(3, TallyLimits{});
    const IpAddr vip = v4(203, 0, 113, 10);
    const IpAddr web = v4(203, 0, 113, 20);
    const IpAddr resolver = v4(192, 0, 2, 53);
    const FlowDetail owner = tls_detail("owner-api.example-cars.com", 0x0304, 0x1301, "h2");
    const FlowDetail vehicle = tls_detail("vehicle-api.example-cars.com", 0x0304, 0x1301, "h2");
    FlowDetail resolved = tls_detail("owner-api.example-cars.com", 0x0304, 0x1301, "h2");
    resolved.name_source = NameSource::kDnsResolution;
    t.add_flow(make_flow(v4(10, 0, 0, 1), vip, 0, 100, 1000), &owner);
    t.add_flow(make_flow(v4(10, 0, 0, 2), vip, 0, 200, 2000), &owner);
    t.add_flow(make_flow(v4(10, 0, 0, 1), vip, 1, 300, 30000), &vehicle);
    t.add_flow(make_flow(v4(10, 0, 0, 3), vip, 0, 50, 500), &resolved);
    const FlowDetail page = quic_detail("www.example-cars.com");
    Flow web_flow = make_flow(v4(10, 0, 0, 1), web, 2, 10, 20, 443, 17);
    t.add_flow(web_flow, &page, TallyPart::kOpening);
    t.add_flow(web_flow, &page, TallyPart::kContinuation);
    const FlowDetail lookup = dns_detail("owner-api.example-cars.com");
    t.add_flow(make_flow(v4(10, 0, 0, 1), resolver, 0, 70, 90, 53, 17), &lookup);
    t.add_flow(make_flow(v4(10, 0, 0, 1), web, -1, 5, 6), nullptr);

    const MergedTally m = merge_tallies({&t});
    ASSERT_EQ(m.servers.size(), 3u);
    // By address: 192.0.2.53, 203.0.113.10, 203.0.113.20.
    const MergedServer& dns = m.servers[0];
    EXPECT_EQ(dns.address, resolver);
    ASSERT_EQ(dns.names.size(), 1u);
    EXPECT_EQ(dns.names[0].name, "") << "a DNS query names what was asked, not the resolver";
    EXPECT_EQ(dns.stats.connections, 1u);

    const MergedServer& lb = m.servers[1];
    EXPECT_EQ(lb.address, vip);
    EXPECT_EQ(lb.stats.connections, 4u);
    EXPECT_EQ(lb.stats.bytes_up, 650u);
    EXPECT_EQ(lb.stats.bytes_down, 33500u);
    ASSERT_EQ(lb.names.size(), 2u);
    EXPECT_EQ(lb.names[0].name, "vehicle-api.example-cars.com") << "largest first";
    EXPECT_EQ(lb.names[0].service, 1);
    EXPECT_EQ(lb.names[1].name, "owner-api.example-cars.com");
    EXPECT_EQ(lb.names[1].stats.connections, 3u);
    EXPECT_EQ(lb.names[1].name_sources,
              (1u << static_cast<unsigned>(NameSource::kSni)) | (1u << static_cast<unsigned>(NameSource::kDnsResolution)));

    const MergedServer& front = m.servers[2];
    EXPECT_EQ(front.stats.connections, 2u) << "a flow tallied in parts is one connection";
    EXPECT_EQ(front.stats.bytes_up, 25u);
    ASSERT_EQ(front.names.size(), 2u);
    EXPECT_EQ(front.names[0].name, "www.example-cars.com");
    EXPECT_EQ(front.names[1].name, "") << "the unnamed flow still counts on its server";
}

TEST(Tally, ServerNamesMergeAcrossCoresAndSurviveAbsorb) {
    CoreTally a(1, TallyLimits{});
    CoreTally b(1, TallyLimits{});
    const FlowDetail d = tls_detail("api.example.org", 0x0304, 0x1301, "h2");
    const FlowDetail q = quic_detail("api.example.org");
    a.add_flow(make_flow(v4(10, 0, 0, 1), v4(198, 51, 100, 1), 0, 10, 100), &d);
    b.add_flow(make_flow(v4(10, 0, 0, 2), v4(198, 51, 100, 1), 0, 20, 200, 443, 17), &q);
    const MergedTally merged = merge_tallies({&a, &b});
    ASSERT_EQ(merged.servers.size(), 1u);
    ASSERT_EQ(merged.servers[0].names.size(), 1u);
    EXPECT_EQ(merged.servers[0].names[0].stats.connections, 2u);
    EXPECT_EQ(merged.servers[0].names[0].name_sources,
              (1u << static_cast<unsigned>(NameSource::kSni)) | (1u << static_cast<unsigned>(NameSource::kQuicSni)));

    CoreTally cumulative(1, TallyLimits{});
    const std::int32_t identity[] = {0};
    cumulative.absorb(a, identity);
    cumulative.absorb(b, identity);
    EXPECT_EQ(describe(merge_tallies({&cumulative})), describe(merged));
}

TEST(Tally, FullServerTableCountsInsteadOfGrowing) {
    TallyLimits tiny;
    tiny.server_names = 8;
    CoreTally t(0, tiny);
    for (int i = 0; i < 50; ++i) {
        t.add_flow(make_flow(v4(10, 0, 0, 1), v4(198, 51, 100, static_cast<std::uint8_t>(i)), -1, 1, 1), nullptr);
    }
    EXPECT_GT(t.table_full_drops(), 0u);
    EXPECT_LE(t.server_names().size(), t.server_names().capacity());
    EXPECT_EQ(t.total().connections, 50u) << "totals never lose a flow";
}

} // namespace
} // namespace wt::pipeline
