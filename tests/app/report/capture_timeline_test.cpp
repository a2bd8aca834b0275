// The timeline of a capture (issue #16): intervals widen as the capture grows, each widening a whole
// multiple so that bytes land in exactly one interval; bytes count under the flow's final name.
#include "app/report/capture_timeline.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace wt::app {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kT0 = 1'700'000'000 * kSecond + 250'000'000; // a quarter second past a whole second

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

TEST(CaptureTimeline, StartsAtTheWholeSecondAndWidensByWholeMultiples) {
    CaptureTimelineBuilder b(kT0);
    EXPECT_EQ(b.open_interval_end(), kT0 - 250'000'000 + 10'000'000) << "10 ms intervals from the whole second";
    std::vector<std::uint32_t> widths_seen;
    // A packet every 100 ms for 10 minutes: the width ends where 600 s fit in 150 intervals (10 s).
    for (std::uint64_t t = kT0; t < kT0 + 600 * kSecond; t += 100'000'000) {
        if (t >= b.open_interval_end()) {
            b.advance(t);
        }
        const pipeline::IntervalBytes e{static_cast<std::uint32_t>(t / kSecond % 2), b.open_unit(), 10, 1};
        b.add(std::span(&e, 1));
    }
    b.name_flow(0, "Video", "cdn.example");
    b.name_flow(1, "", "");
    const Timeline t = b.build();
    EXPECT_EQ(t.interval_ns, 10 * kSecond);
    EXPECT_LE(t.intervals, CaptureTimelineBuilder::kMaxIntervals);
    EXPECT_EQ(t.intervals, 61u); // 0.25 s .. 600.25 s from the whole second
    ASSERT_EQ(t.services.size(), 2u);
    std::uint64_t total = 0;
    for (const TimelineSeries& s : t.services) {
        EXPECT_EQ(s.bytes_up.size(), t.intervals);
        total += sum(s.bytes_up) + sum(s.bytes_down);
        EXPECT_EQ(s.total, sum(s.bytes_up) + sum(s.bytes_down));
    }
    EXPECT_EQ(total, 6000u * 11u) << "every packet's bytes in exactly one interval";
    EXPECT_TRUE(t.services[0].name == "Video" || t.services[0].name == "(unclassified)");
    ASSERT_EQ(t.domains.size(), 1u) << "the unnamed flow has no name series";
    EXPECT_EQ(t.domains[0].name, "cdn.example");
    EXPECT_EQ(t.domains_total, 1u);
    // 10 packets a second: a whole 10 s interval holds 100 of them, the first one 98 (from 0.25 s).
    std::uint64_t second_interval = 0;
    std::uint64_t first_interval = 0;
    for (const TimelineSeries& s : t.services) {
        first_interval += s.bytes_up[0];
        second_interval += s.bytes_up[1];
    }
    EXPECT_EQ(first_interval, 98u * 10u);
    EXPECT_EQ(second_interval, 100u * 10u);
}

TEST(CaptureTimeline, OnlyTheBusiestNamesGetASeries) {
    CaptureTimelineBuilder b(kT0);
    std::vector<pipeline::IntervalBytes> log;
    for (std::uint32_t flow = 0; flow < CaptureTimelineBuilder::kDomainSeries + 10; ++flow) {
        log.push_back(pipeline::IntervalBytes{flow, 0, 1000 + flow, 0});
        b.name_flow(flow, "S", "n" + std::to_string(flow) + ".example");
    }
    b.add(log);
    const Timeline t = b.build();
    EXPECT_EQ(t.domains.size(), CaptureTimelineBuilder::kDomainSeries);
    EXPECT_EQ(t.domains_total, CaptureTimelineBuilder::kDomainSeries + 10);
    EXPECT_EQ(t.domains.front().name, "n49.example") << "largest first";
    EXPECT_EQ(t.domains.back().name, "n10.example");
    ASSERT_EQ(t.services.size(), 1u);
    EXPECT_EQ(t.services[0].total, 50u * 1000u + (49u * 50u) / 2u);
}

} // namespace
} // namespace wt::app
