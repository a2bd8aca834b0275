// CoreTally's stats-side additions for live double buffering: swap (worker side,
// must not allocate), clear, absorb through a service remap, and the restore API
// used by snapshots.
#include "pipeline/tally/tally.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tally_fixtures.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace wt::pipeline {
namespace {

using test::describe;
using test::feed_realistic_flows;
using test::make_flow;
using test::tls_detail;
using test::v4;

TallyLimits small_limits() {
    TallyLimits l;
    l.domains = 256;
    l.client_services = 256;
    l.client_domains = 512;
    l.action_domains = 128;
    l.server_names = 256;
    return l;
}

std::vector<std::int32_t> identity_map(std::size_t n) {
    std::vector<std::int32_t> m(n);
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = static_cast<std::int32_t>(i);
    }
    return m;
}

TEST(TallySwap, StdSwapAndAdlSwapDoNotAllocate) {
    CoreTally active(3, TallyLimits{});
    CoreTally spare(3, TallyLimits{});
    feed_realistic_flows(active, 0);
    const std::string before = describe(active);

    const std::size_t allocations_before = wt::testing::allocation_count();
    std::swap(active, spare);
    swap(active, spare); // ADL: the member-wise friend
    std::swap(active, spare);
    const std::size_t allocations = wt::testing::allocation_count() - allocations_before;

    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(describe(spare), before) << "three swaps: the fed tally is now the spare";
    EXPECT_EQ(active.total().connections, 0u);
    EXPECT_EQ(active.domains().size(), 0u);
}

TEST(TallySwap, AddFlowDoesNotAllocate) {
    CoreTally t(3, small_limits());
    const FlowDetail d = tls_detail("www.example.com", 0x0304, 0x1301, "h2");
    const Flow f = make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 1, 10, 20);
    const std::size_t allocations_before = wt::testing::allocation_count();
    for (int i = 0; i < 100; ++i) {
        t.add_flow(f, &d);
    }
    EXPECT_EQ(wt::testing::allocation_count() - allocations_before, 0u);
}

TEST(TallyClear, EmptiesEverythingAndKeepsCapacityWithoutAllocating) {
    CoreTally t(3, small_limits());
    feed_realistic_flows(t, 1);
    ASSERT_GT(t.domains().size(), 0u);
    const std::size_t capacity = t.domains().capacity();
    const std::size_t allocations_before = wt::testing::allocation_count();
    t.clear();
    EXPECT_EQ(wt::testing::allocation_count() - allocations_before, 0u);
    EXPECT_EQ(t.services().size(), 4u);
    for (const TransferStats& s : t.services()) {
        EXPECT_EQ(describe(s), describe(TransferStats{}));
    }
    EXPECT_EQ(describe(t.total()), describe(TransferStats{}));
    EXPECT_EQ(t.domains().size(), 0u);
    EXPECT_EQ(t.clients().size(), 0u);
    EXPECT_EQ(t.client_domains().size(), 0u);
    EXPECT_EQ(t.actions().size(), 0u);
    EXPECT_EQ(t.table_full_drops(), 0u);
    EXPECT_EQ(t.domains().capacity(), capacity);
    // A cleared tally tallies like a new one.
    CoreTally fresh(3, small_limits());
    feed_realistic_flows(t, 2);
    feed_realistic_flows(fresh, 2);
    EXPECT_EQ(describe(t), describe(fresh));
}

TEST(TallyAbsorb, IdentityMapEqualsMergeOfTheParts) {
    CoreTally a(3, small_limits()), b(3, small_limits()), cumulative(3, small_limits());
    feed_realistic_flows(a, 0);
    feed_realistic_flows(b, 7);
    const auto map = identity_map(3);
    cumulative.absorb(a, map);
    cumulative.absorb(b, map);
    EXPECT_EQ(describe(cumulative), describe(merge_tallies({&a, &b})));
}

// The live cycle: workers tally into the active buffer, swap it with a cleared
// spare, the stats side absorbs the retired one and clears it for the next swap.
// The cumulative tally must equal one tally that saw every flow.
TEST(TallyAbsorb, DoubleBufferingCycleLosesNothing) {
    // Worker buffers hold one interval, so they may be smaller than the cumulative tally.
    TallyLimits per_interval = small_limits();
    per_interval.domains = 64;
    per_interval.client_services = 64;
    per_interval.client_domains = 128;
    per_interval.action_domains = 32;
    CoreTally active(3, per_interval), spare(3, per_interval), cumulative(3, small_limits()),
        everything(3, small_limits());
    const auto map = identity_map(3);
    for (int interval = 0; interval < 5; ++interval) {
        feed_realistic_flows(active, interval * 11, 30);
        feed_realistic_flows(everything, interval * 11, 30);
        std::swap(active, spare);   // worker, at a burst boundary
        cumulative.absorb(spare, map); // stats core owns the retired tally
        spare.clear();
    }
    EXPECT_EQ(describe(cumulative), describe(everything));
}

TEST(TallyAbsorb, RemapsServicesAndGrowsTheServiceSlots) {
    // Worker config: 0 = "Mail", 1 = "Video", 2 = "Chat"; stats registry: Video = 4,
    // Mail = 0, Chat missing from the map (-> unclassified), plus an out-of-range index.
    CoreTally worker(4, small_limits());
    const FlowDetail d = tls_detail("video.example", 0x0304, 0x1301, "h2");
    Flow video = make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 1, 10, 1000);
    video.action = 1;
    worker.add_flow(video, &d);
    worker.add_action_part(video, &d, 1, ActionUse::kNew, 1);
    worker.add_flow(make_flow(v4(10, 0, 0, 2), v4(1, 1, 1, 2), 0, 20, 2000), nullptr);
    worker.add_flow(make_flow(v4(10, 0, 0, 3), v4(1, 1, 1, 3), 2, 30, 3000), nullptr);
    worker.add_flow(make_flow(v4(10, 0, 0, 4), v4(1, 1, 1, 4), 3, 40, 4000), nullptr); // outside the map
    worker.add_flow(make_flow(v4(10, 0, 0, 5), v4(1, 1, 1, 5), -1, 50, 5000), nullptr);

    CoreTally stats(1, small_limits());
    const std::vector<std::int32_t> map = {0, 4, -1};
    stats.absorb(worker, map);

    ASSERT_EQ(stats.services().size(), 6u) << "grown to fit stable id 4";
    EXPECT_EQ(stats.services()[1].bytes_up, 20u) << "Mail";
    EXPECT_EQ(stats.services()[5].bytes_up, 10u) << "Video";
    EXPECT_EQ(stats.services()[0].bytes_up, 30u + 40u + 50u) << "Chat, out of range and unclassified";
    EXPECT_EQ(stats.total().bytes_up, 150u);

    const MergedTally m = merge_tallies({&stats});
    ASSERT_EQ(m.domains.size(), 1u);
    EXPECT_EQ(m.domains[0].service, 4);
    ASSERT_EQ(m.actions.size(), 1u);
    EXPECT_EQ(m.actions[0].service, 4);
    std::size_t unclassified_clients = 0;
    for (const MergedClient& c : m.clients) {
        if (c.client == v4(10, 0, 0, 1)) {
            EXPECT_EQ(c.service, 4);
        }
        unclassified_clients += c.service == -1 ? 1 : 0;
    }
    EXPECT_EQ(unclassified_clients, 3u);
    EXPECT_EQ(m.services[5].distinct_clients, 1u);
    EXPECT_EQ(m.domains[0].m.distinct_clients, 1u) << "client-domain pairs survive the remap";
}

TEST(TallyAbsorb, FullTablesAreCountedNotGrown) {
    TallyLimits tiny = small_limits();
    tiny.domains = 8; // 7 usable entries
    CoreTally worker(1, small_limits());
    for (int i = 0; i < 20; ++i) {
        FlowDetail d = tls_detail("host" + std::to_string(i) + ".example", 0x0304, 0x1301, "");
        worker.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 1, 1), &d);
    }
    ASSERT_EQ(worker.table_full_drops(), 0u);
    CoreTally stats(1, tiny);
    stats.absorb(worker, identity_map(1));
    EXPECT_EQ(stats.domains().size(), stats.domains().capacity());
    EXPECT_EQ(stats.table_full_drops(), 20u - stats.domains().capacity());
    EXPECT_EQ(stats.total().connections, 20u) << "totals never lose a flow";
}

TEST(TallyAbsorb, KeepsTheFirstMacAndFillsAMissingOne) {
    CoreTally first(1, small_limits()), second(1, small_limits()), stats(1, small_limits());
    Flow without_mac = make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 1, 1);
    Flow with_mac = without_mac;
    for (std::uint8_t b = 0; b < 6; ++b) {
        with_mac.client_mac[b] = static_cast<std::uint8_t>(0xa0 + b);
    }
    first.add_flow(without_mac, nullptr);
    second.add_flow(with_mac, nullptr);
    stats.absorb(first, identity_map(1));
    stats.absorb(second, identity_map(1));
    const MergedTally m = merge_tallies({&stats});
    ASSERT_EQ(m.clients.size(), 1u);
    EXPECT_TRUE(m.clients[0].has_mac);
    EXPECT_EQ(m.clients[0].mac[5], 0xa5);
    EXPECT_EQ(m.clients[0].stats.connections, 2u);
}

TEST(TallyRestore, EntriesRebuildAnEqualTally) {
    CoreTally original(3, small_limits());
    feed_realistic_flows(original, 3);
    CoreTally rebuilt(0, small_limits());
    for (std::size_t slot = 0; slot < original.services().size(); ++slot) {
        rebuilt.restore_service(static_cast<std::int32_t>(slot) - 1, original.services()[slot]);
    }
    rebuilt.restore_total(original.total());
    rebuilt.restore_table_full_drops(original.table_full_drops());
    original.domains().for_each([&](const DomainKey& k, const DomainTally& t) { EXPECT_TRUE(rebuilt.restore_domain(k, t)); });
    original.clients().for_each([&](const ClientServiceKey& k, const ClientTally& t) { EXPECT_TRUE(rebuilt.restore_client(k, t)); });
    original.client_domains().for_each(
        [&](const ClientDomainKey& k, const std::uint8_t&) { EXPECT_TRUE(rebuilt.restore_client_domain(k)); });
    original.actions().for_each(
        [&](const ActionDomainKey& k, const ActionDomainTally& t) { EXPECT_TRUE(rebuilt.restore_action(k, t)); });
    original.server_names().for_each(
        [&](const ServerNameKey& k, const ServerNameTally& t) { EXPECT_TRUE(rebuilt.restore_server_name(k, t)); });
    original.device_hints().for_each(
        [&](const DeviceHintKey& k, const DeviceHint& h) { EXPECT_TRUE(rebuilt.restore_device_hint(k, h)); });
    EXPECT_EQ(describe(rebuilt), describe(original));
}

TEST(TallyResize, SpareGetsSlotsForNewServicesAfterAReload) {
    CoreTally spare(2, small_limits());
    spare.resize_services(5);
    EXPECT_EQ(spare.services().size(), 6u);
    spare.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 4, 7, 9), nullptr);
    EXPECT_EQ(spare.services()[5].bytes_up, 7u);
}

} // namespace
} // namespace wt::pipeline
