// ServiceTimeline: wrap-around of the interval ring and of the shared row ring,
// service filter, last-N selection, the JSON and text renderings; and the service
// registry that gives the timeline and the cumulative tally their stable ids.
#include "app/live/state/service_registry.hpp"
#include "app/live/state/timeline.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <gtest/gtest.h>

namespace wt::app::state {
namespace {

using nlohmann::json;
using pipeline::TransferStats;
using pipeline::test::make_flow;
using pipeline::test::v4;

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kStart = 1'700'000'000ull * kSecond;

TransferStats traffic(std::uint64_t up, std::uint64_t down, std::uint64_t flows) {
    TransferStats s;
    s.bytes_up = up;
    s.bytes_down = down;
    s.pkts_up = up / 100;
    s.pkts_down = down / 100;
    s.connections = flows;
    return s;
}

const std::vector<std::string> kNames = {"Google", "Netflix", "Zoom"};

// per_service[stable id + 1]: interval i carries i KB up for Google, Netflix every
// other interval, nothing unclassified.
std::vector<TransferStats> interval_traffic(std::uint64_t i) {
    std::vector<TransferStats> v(4);
    v[1] = traffic(1000 * i, 10000 * i, i);
    if (i % 2 == 0) {
        v[2] = traffic(7, 70000, 1);
    }
    return v;
}

TEST(ServiceTimeline, KeepsTheNewestIntervalsWhenTheRingWraps) {
    ServiceTimeline tl(5, kSecond, 8);
    for (std::uint64_t i = 1; i <= 12; ++i) {
        tl.push(kStart + i * kSecond, interval_traffic(i));
    }
    EXPECT_EQ(tl.size(), 5u);
    EXPECT_EQ(tl.intervals_dropped_early(), 0u);
    const json j = tl.to_json(std::nullopt, 0, kNames);
    EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 1.0);
    ASSERT_EQ(j["points"].size(), 5u);
    for (std::size_t p = 0; p < 5; ++p) {
        const std::uint64_t i = 8 + p; // intervals 8..12 remain, oldest first
        const json& point = j["points"][p];
        EXPECT_DOUBLE_EQ(point["t"].get<double>(), static_cast<double>(kStart / kSecond + i));
        EXPECT_EQ(point["services"]["Google"]["bytes_up"], 1000 * i);
        EXPECT_EQ(point["services"]["Google"]["flows"], i);
        EXPECT_EQ(point["services"]["Google"]["packets_down"], 100 * i);
        EXPECT_EQ(point["services"].contains("Netflix"), i % 2 == 0) << "zero rows are left out";
        EXPECT_FALSE(point["services"].contains("Zoom"));
        EXPECT_FALSE(point["services"].contains("(unclassified)"));
    }
}

TEST(ServiceTimeline, FiltersOneService) {
    ServiceTimeline tl(10, kSecond, 8);
    for (std::uint64_t i = 1; i <= 4; ++i) {
        tl.push(kStart + i * kSecond, interval_traffic(i));
    }
    const json netflix = tl.to_json(1, 0, kNames);
    ASSERT_EQ(netflix["points"].size(), 4u) << "every interval stays a point";
    EXPECT_TRUE(netflix["points"][0]["services"].empty());
    EXPECT_EQ(netflix["points"][1]["services"].size(), 1u);
    EXPECT_EQ(netflix["points"][1]["services"]["Netflix"]["bytes_down"], 70000u);
    const json unclassified = tl.to_json(-1, 0, kNames);
    for (const json& p : unclassified["points"]) {
        EXPECT_TRUE(p["services"].empty());
    }
}

TEST(ServiceTimeline, LastSelectsTheNewestIntervals) {
    ServiceTimeline tl(100, kSecond, 8);
    for (std::uint64_t i = 1; i <= 50; ++i) {
        tl.push(kStart + i * kSecond, interval_traffic(i));
    }
    const json j = tl.to_json(std::nullopt, 3 * kSecond, kNames);
    ASSERT_EQ(j["points"].size(), 3u);
    EXPECT_EQ(j["points"][0]["services"]["Google"]["bytes_up"], 48000u);
    EXPECT_EQ(j["points"][2]["services"]["Google"]["bytes_up"], 50000u);
    EXPECT_EQ(tl.to_json(std::nullopt, 1000 * kSecond, kNames)["points"].size(), 50u);
}

TEST(ServiceTimeline, AddsRetiredTalliesThroughTheServiceMap) {
    ServiceTimeline tl(4, 10 * kSecond, 8);
    // Two workers whose services file lists Zoom first and Google second.
    pipeline::CoreTally worker_a(2, pipeline::TallyLimits{}), worker_b(2, pipeline::TallyLimits{});
    worker_a.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 100, 1000), nullptr);
    worker_b.add_flow(make_flow(v4(10, 0, 0, 2), v4(1, 1, 1, 2), 0, 200, 2000), nullptr);
    worker_b.add_flow(make_flow(v4(10, 0, 0, 3), v4(1, 1, 1, 3), 1, 5, 50), nullptr);
    worker_b.add_flow(make_flow(v4(10, 0, 0, 4), v4(1, 1, 1, 4), -1, 1, 2), nullptr);
    const std::vector<std::int32_t> map = {2, 0}; // Zoom -> id 2, Google -> id 0
    tl.add(worker_a, map);
    tl.add(worker_b, map);
    tl.close_interval(kStart + 10 * kSecond);
    const json j = tl.to_json(std::nullopt, 0, kNames);
    ASSERT_EQ(j["points"].size(), 1u);
    const json& s = j["points"][0]["services"];
    EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 10.0);
    EXPECT_EQ(s["Zoom"]["bytes_up"], 300u);
    EXPECT_EQ(s["Zoom"]["flows"], 2u);
    EXPECT_EQ(s["Google"]["bytes_up"], 5u);
    EXPECT_EQ(s["(unclassified)"]["bytes_down"], 2u);
}

TEST(ServiceTimeline, BusyIntervalsShortenTheHistoryInsteadOfGrowing) {
    // 10 intervals, 1 row per interval budgeted (+ 33 for one full interval).
    ServiceTimeline tl(10, kSecond, 32, 1);
    const std::size_t memory = tl.memory_bytes();
    std::vector<TransferStats> busy(33, traffic(1, 1, 1));
    for (std::uint64_t i = 1; i <= 3; ++i) {
        tl.push(kStart + i * kSecond, busy);
    }
    EXPECT_LE(tl.rows_in_use(), tl.row_capacity());
    EXPECT_EQ(tl.size(), 1u) << "43 rows hold one interval of 33";
    EXPECT_EQ(tl.intervals_dropped_early(), 2u);
    const json j = tl.to_json(std::nullopt, 0, kNames);
    ASSERT_EQ(j["points"].size(), 1u);
    EXPECT_EQ(j["points"][0]["services"].size(), 33u);
    EXPECT_EQ(j["points"][0]["services"]["#31"]["flows"], 1u) << "ids without a name";
    // Quiet intervals again: the row ring wraps many times, history fills up.
    for (std::uint64_t i = 4; i <= 100; ++i) {
        tl.push(kStart + i * kSecond, interval_traffic(i));
    }
    EXPECT_EQ(tl.size(), 10u);
    EXPECT_EQ(tl.memory_bytes(), memory);
    const json after = tl.to_json(0, 0, kNames);
    ASSERT_EQ(after["points"].size(), 10u);
    EXPECT_EQ(after["points"][9]["services"]["Google"]["bytes_up"], 100000u);
    EXPECT_EQ(after["points"][0]["services"]["Google"]["bytes_up"], 91000u);
}

TEST(ServiceTimeline, ServicesAboveTheCapAreCountedNotStored) {
    ServiceTimeline tl(4, kSecond, 2);
    std::vector<TransferStats> v(6);
    v[1] = traffic(1, 1, 1);
    v[5] = traffic(9, 9, 9); // stable id 4 >= cap 2
    tl.push(kStart + kSecond, v);
    EXPECT_EQ(tl.rows_over_service_cap(), 1u);
    EXPECT_EQ(tl.to_json(std::nullopt, 0, kNames)["points"][0]["services"].size(), 1u);
}

TEST(ServiceTimeline, JsonTextIsCompactAndEscapesNames) {
    ServiceTimeline tl(4, kSecond / 2, 8);
    std::vector<TransferStats> v(3);
    v[2] = traffic(1, 2, 1);
    tl.push(kStart + kSecond / 2, v);
    const std::vector<std::string> names = {"A", "Say \"hi\" \xc3\xa9"};
    EXPECT_EQ(tl.to_json_text(std::nullopt, 0, names),
              "{\"interval_s\":0.5,\"points\":[{\"t\":1700000000.5,\"services\":{\"Say \\\"hi\\\" \xc3\xa9\":"
              "{\"bytes_up\":1,\"bytes_down\":2,\"packets_up\":0,\"packets_down\":0,\"flows\":1}}}]}");
    EXPECT_EQ(tl.to_json(std::nullopt, 0, names)["points"][0]["services"]["Say \"hi\" \xc3\xa9"]["flows"], 1u);
    EXPECT_EQ(ServiceTimeline(4, kSecond, 8).to_json_text(std::nullopt, 0, names), "{\"interval_s\":1.0,\"points\":[]}");
}

TEST(ServiceTimeline, TextTableIsAlignedAndHumanReadable) {
    ServiceTimeline tl(10, kSecond, 8);
    std::vector<TransferStats> v(4);
    v[1] = traffic(1'500, 2'000'000, 3);
    v[2] = traffic(10, 45'000'000, 1);
    tl.push(kStart + kSecond, v);
    tl.push(kStart + 2 * kSecond, std::vector<TransferStats>(4));
    const std::string text = tl.to_text(std::nullopt, 0, kNames);
    const std::string expected =
        "TIME (UTC)           SERVICE                         FLOWS    BYTES UP  BYTES DOWN\n"
        "2023-11-14 22:13:21  Netflix                             1        10 B     45.0 MB\n"
        "                     Google                              3      1.5 kB      2.0 MB\n";
    EXPECT_EQ(text, expected);
    EXPECT_NE(tl.to_text(2, 0, kNames).find("no traffic in the selected intervals"), std::string::npos);
}

TEST(ServiceTimeline, RejectsImpossibleSizes) {
    EXPECT_THROW(ServiceTimeline(0, kSecond, 8), std::invalid_argument);
    EXPECT_THROW(ServiceTimeline(ServiceTimeline::kMaxSlots + 1, kSecond, 8), std::invalid_argument);
    EXPECT_THROW(ServiceTimeline(10, 0, 8), std::invalid_argument);
    EXPECT_NO_THROW(ServiceTimeline(ServiceTimeline::kMaxSlots, kSecond, 256));
}

TEST(ServiceRegistry, IdsAreStableAcrossReloads) {
    ServiceRegistry registry(std::vector<std::string>{"Google", "Netflix"}); // from a snapshot
    // The services file now lists Zoom, Netflix, Google.
    const std::vector<std::string> file = {"Zoom", "Netflix", "Google"};
    EXPECT_EQ(registry.map_for(file), (std::vector<std::int32_t>{2, 1, 0}));
    // A reload drops Netflix and adds Teams: old ids keep their meaning.
    const std::vector<std::string> reloaded = {"Teams", "Google"};
    EXPECT_EQ(registry.map_for(reloaded), (std::vector<std::int32_t>{3, 0}));
    EXPECT_EQ(registry.names(), (std::vector<std::string>{"Google", "Netflix", "Zoom", "Teams"}));
    EXPECT_EQ(registry.find("Netflix"), 1);
    EXPECT_FALSE(registry.find("Slack").has_value());
    EXPECT_EQ(registry.intern("Google"), 0);
}

} // namespace
} // namespace wt::app::state
