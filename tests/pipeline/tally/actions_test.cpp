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

// Issue #15: fewer labels than the capture has intervals is an error giving both counts.
TEST(ActionSchedule, EverySpecMustCoverTheCapture) {
    auto r = ActionSchedule::from_every_spec("30s:App launch,Climate,Location");
    ASSERT_TRUE(std::holds_alternative<ActionSchedule>(r));
    const auto& s = std::get<ActionSchedule>(r);
    const std::uint64_t t0 = 1700000000ull * kSec;
    EXPECT_FALSE(s.check_every_covers(t0, t0 + 89 * kSec).has_value());
    EXPECT_FALSE(s.check_every_covers(t0, t0).has_value());
    const auto e = s.check_every_covers(t0, t0 + 90 * kSec); // a packet at 90 s starts a fourth interval
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->format(), "--marks-every: 3 labels cover 90 s, but the capture lasts 90.0 s: 4 intervals of 30 s; "
                           "give 4 labels, or a longer interval");
    const auto longer = s.check_every_covers(t0, t0 + 151 * kSec);
    ASSERT_TRUE(longer.has_value());
    EXPECT_NE(longer->message.find("6 intervals"), std::string::npos) << longer->message;
    auto csv = ActionSchedule::from_csv_text("+0,A\n", "m.csv");
    ASSERT_TRUE(std::holds_alternative<ActionSchedule>(csv));
    EXPECT_FALSE(std::get<ActionSchedule>(csv).check_every_covers(t0, t0 + 1000 * kSec).has_value())
        << "marks from a file stay under way";
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
