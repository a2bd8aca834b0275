// The timeline of a capture (issue #16): intervals widen as the capture grows, each widening a whole
// multiple so that bytes land in exactly one interval; bytes count under the flow's final name.
#include "app/report/capture_timeline.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace wt::app {
namespace {

using pipeline::IntervalClock;

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kT0 = 1'700'000'000 * kSecond + 250'000'000; // a quarter second past a whole second

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

TEST(IntervalClock, StartsAtTheWholeSecondAndWidensByWholeMultiples) {
    IntervalClock clock;
    EXPECT_FALSE(clock.started());
    clock.start(kT0);
    std::uint64_t end = 0;
    EXPECT_EQ(clock.unit_at(kT0, end), 25u) << "10 ms units from the whole second";
    EXPECT_EQ(end, kT0 - 250'000'000 + 260'000'000);
    EXPECT_EQ(clock.unit_at(kT0 + 10 * kSecond, end), 1020u) << "the first unit of the 100 ms interval from 10.2 s";
    EXPECT_EQ(clock.width_ns(), 100'000'000u) << "10.25 s fits in 150 intervals of 100 ms, not of 20 ms";
    EXPECT_EQ(clock.unit_at(kT0 + 3600 * kSecond, end), 360000u);
    EXPECT_EQ(clock.width_ns(), 60 * kSecond);
    EXPECT_EQ(clock.intervals(), 61u);
    EXPECT_EQ(clock.interval_of(25), 0u);
    EXPECT_EQ(clock.interval_of(359999), 59u);
    // A clock that goes back files under the latest interval.
    EXPECT_EQ(clock.unit_at(kT0 + 10 * kSecond, end), 360000u);
}

TEST(CaptureTimeline, BytesByIntervalUnderTheFlowsFinalName) {
    IntervalClock clock;
    clock.start(kT0);
    CaptureTimelineBuilder b;
    // A packet every 100 ms for 10 minutes, alternately of flows 0 and 1.
    std::uint64_t end = 0;
    std::uint64_t packets = 0;
    for (std::uint64_t t = kT0; t < kT0 + 600 * kSecond; t += 100'000'000) {
        const pipeline::IntervalBytes e{static_cast<std::uint32_t>(packets % 2), clock.unit_at(t, end), 10, 1};
        b.add(std::span(&e, 1));
        ++packets;
    }
    b.name_flow(0, "Video", "cdn.example");
    b.name_flow(1, "", "");
    const Timeline t = b.build(clock);
    EXPECT_EQ(t.interval_ns, 10 * kSecond);
    EXPECT_LE(t.intervals, IntervalClock::kMaxIntervals);
    EXPECT_EQ(t.intervals, 61u); // 0.25 s .. 600.15 s from the whole second
    ASSERT_EQ(t.services.size(), 2u);
    std::uint64_t total = 0;
    for (const TimelineSeries& s : t.services) {
        EXPECT_EQ(s.bytes_up.size(), t.intervals);
        total += sum(s.bytes_up) + sum(s.bytes_down);
        EXPECT_EQ(s.total, sum(s.bytes_up) + sum(s.bytes_down));
    }
    EXPECT_EQ(total, packets * 11) << "every packet's bytes in exactly one interval";
    EXPECT_TRUE(t.services[0].name == "Video" || t.services[0].name == "(unclassified)");
    ASSERT_EQ(t.domains.size(), 1u) << "the unnamed flow has no name series";
    EXPECT_EQ(t.domains[0].name, "cdn.example");
    EXPECT_EQ(t.domains_total, 1u);
    // 10 packets a second: a whole 10 s interval holds 100 of them, the first one 98 (from 0.25 s).
    std::uint64_t first_interval = 0;
    std::uint64_t second_interval = 0;
    for (const TimelineSeries& s : t.services) {
        first_interval += s.bytes_up[0];
        second_interval += s.bytes_up[1];
    }
    EXPECT_EQ(first_interval, 98u * 10u);
    EXPECT_EQ(second_interval, 100u * 10u);
}

TEST(CaptureTimeline, OnlyTheBusiestNamesGetASeries) {
    IntervalClock clock;
    clock.start(kT0);
    CaptureTimelineBuilder b;
    std::vector<pipeline::IntervalBytes> log;
    for (std::uint32_t flow = 0; flow < CaptureTimelineBuilder::kDomainSeries + 10; ++flow) {
        log.push_back(pipeline::IntervalBytes{flow, 25, 1000 + flow, 0});
        b.name_flow(flow, "S", "n" + std::to_string(flow) + ".example");
    }
    b.add(log);
    const Timeline t = b.build(clock);
    EXPECT_EQ(t.domains.size(), CaptureTimelineBuilder::kDomainSeries);
    EXPECT_EQ(t.domains_total, CaptureTimelineBuilder::kDomainSeries + 10);
    EXPECT_EQ(t.domains.front().name, "n49.example") << "largest first";
    EXPECT_EQ(t.domains.back().name, "n10.example");
    ASSERT_EQ(t.services.size(), 1u);
    EXPECT_EQ(t.services[0].total, 50u * 1000u + (49u * 50u) / 2u);
}

} // namespace
} // namespace wt::app
