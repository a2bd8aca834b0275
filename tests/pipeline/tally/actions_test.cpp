#include "pipeline/tally/actions.hpp"

#include <gtest/gtest.h>

namespace wt::pipeline {
namespace {

constexpr std::uint64_t kSec = 1000000000ull;

TEST(ActionSchedule, EverySpecLabelsIntervalsFromTheFirstPacket) {
    auto r = ActionSchedule::from_every_spec("30s:App launch,Climate,Location");
    ASSERT_TRUE(std::holds_alternative<ActionSchedule>(r));
    auto s = std::get<ActionSchedule>(std::move(r));
    const std::uint64_t t0 = 1700000000ull * kSec;
    s.anchor(t0);
    EXPECT_EQ(s.label(s.action_at(t0 - 1)), "");
    EXPECT_EQ(s.label(s.action_at(t0)), "App launch");
    EXPECT_EQ(s.label(s.action_at(t0 + 29 * kSec)), "App launch");
    EXPECT_EQ(s.label(s.action_at(t0 + 30 * kSec)), "Climate");
    EXPECT_EQ(s.label(s.action_at(t0 + 61 * kSec)), "Location");
    EXPECT_EQ(s.label(s.action_at(t0 + 600 * kSec)), "Location") << "the last action stays under way";
}

TEST(ActionSchedule, CsvWithHeaderEpochAndOffsets) {
    auto r = ActionSchedule::from_csv_text("timestamp,label\n1700000000.5,Open app\n+10,\"Tap, then scroll\"\n",
                                           "marks.csv");
    ASSERT_TRUE(std::holds_alternative<ActionSchedule>(r)) << std::get<ActionError>(r).format();
    auto s = std::get<ActionSchedule>(std::move(r));
    s.anchor(1699999999ull * kSec);
    EXPECT_EQ(s.label(s.action_at(1700000000ull * kSec)), "");
    EXPECT_EQ(s.label(s.action_at(1700000000ull * kSec + kSec / 2)), "Open app");
    EXPECT_EQ(s.label(s.action_at(1700000009ull * kSec)), "Tap, then scroll");
}

TEST(ActionSchedule, ErrorsNameFileAndLine) {
    auto r = ActionSchedule::from_csv_text("1700000000,ok\nnot-a-time,bad\n", "m.csv");
    ASSERT_TRUE(std::holds_alternative<ActionError>(r));
    EXPECT_EQ(std::get<ActionError>(r).format(), "m.csv:2: bad timestamp 'not-a-time': expected epoch seconds or an offset like +12.5");
    auto nocomma = ActionSchedule::from_csv_text("1700000000\n", "m.csv");
    ASSERT_TRUE(std::holds_alternative<ActionError>(nocomma));
    EXPECT_EQ(std::get<ActionError>(nocomma).line, 1);
    auto empty = ActionSchedule::from_csv_text("", "m.csv");
    ASSERT_TRUE(std::holds_alternative<ActionError>(empty));
    auto bad_every = ActionSchedule::from_every_spec("0s:A");
    ASSERT_TRUE(std::holds_alternative<ActionError>(bad_every));
    auto no_colon = ActionSchedule::from_every_spec("30s");
    ASSERT_TRUE(std::holds_alternative<ActionError>(no_colon));
    auto empty_label = ActionSchedule::from_every_spec("30s:A,,B");
    ASSERT_TRUE(std::holds_alternative<ActionError>(empty_label));
    auto missing = ActionSchedule::from_csv_file("/nonexistent/marks.csv");
    ASSERT_TRUE(std::holds_alternative<ActionError>(missing));
}

TEST(ActionSchedule, LiveMarksAppend) {
    ActionSchedule s;
    s.add(100, "A");
    s.add(200, "B");
    s.add(300, "A");
    EXPECT_EQ(s.label(s.action_at(250)), "B");
    EXPECT_EQ(s.label(s.action_at(350)), "A");
    EXPECT_EQ(s.labels().size(), 2u);
}

} // namespace
} // namespace wt::pipeline
