#include "pipeline/flows/stream_assembler.hpp"

#include <gtest/gtest.h>
#include <numeric>
#include <random>
#include <vector>

namespace wt::pipeline {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

std::span<const std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t off, std::size_t len) {
    return std::span<const std::uint8_t>(v).subspan(off, len);
}

TEST(StreamAssembler, InOrderSegmentsGrowThePrefix) {
    auto data = pattern(3000);
    StreamAssembler s;
    s.set_base(1000);
    EXPECT_TRUE(s.add(1000, slice(data, 0, 1448)));
    EXPECT_EQ(s.contiguous().size(), 1448u);
    EXPECT_TRUE(s.add(2448, slice(data, 1448, 1552)));
    ASSERT_EQ(s.contiguous().size(), 3000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
}

TEST(StreamAssembler, OutOfOrderWithKnownBaseWaitsForTheHole) {
    auto data = pattern(3000);
    StreamAssembler s;
    s.set_base(5);
    EXPECT_FALSE(s.add(5 + 1448, slice(data, 1448, 1552)));
    EXPECT_TRUE(s.contiguous().empty());
    EXPECT_TRUE(s.has_gap());
    EXPECT_TRUE(s.add(5, slice(data, 0, 1448)));
    ASSERT_EQ(s.contiguous().size(), 3000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
}

TEST(StreamAssembler, OutOfOrderWithoutSynRebasesToTheEarlierSegment) {
    auto data = pattern(2000);
    StreamAssembler s; // no SYN seen: the first segment sets a provisional base
    s.add(101000, slice(data, 1000, 1000));
    EXPECT_EQ(s.contiguous().size(), 1000u);
    EXPECT_TRUE(s.add(100000, slice(data, 0, 1000)));
    ASSERT_EQ(s.contiguous().size(), 2000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
}

TEST(StreamAssembler, RetransmissionsAndOverlapsAreIdempotent) {
    auto data = pattern(1000);
    StreamAssembler s;
    s.set_base(0);
    s.add(0, slice(data, 0, 600));
    s.add(0, slice(data, 0, 600));
    s.add(300, slice(data, 300, 500));
    s.add(700, slice(data, 700, 300));
    ASSERT_EQ(s.contiguous().size(), 1000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
}

TEST(StreamAssembler, SequenceWrapAroundIsHandled) {
    auto data = pattern(1000);
    StreamAssembler s;
    s.set_base(0xfffffe00u);
    s.add(0xfffffe00u, slice(data, 0, 512));
    s.add(0x00000000u, slice(data, 512, 488));
    ASSERT_EQ(s.contiguous().size(), 1000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
}

TEST(StreamAssembler, OverflowIsFlaggedNotWritten) {
    std::vector<std::uint8_t> big(StreamAssembler::kCapacity + 100, 0xab);
    StreamAssembler s;
    s.set_base(1);
    s.add(1, big);
    EXPECT_TRUE(s.overflowed());
    EXPECT_EQ(s.contiguous().size(), StreamAssembler::kCapacity);
    StreamAssembler far;
    far.set_base(1);
    EXPECT_FALSE(far.add(1 + 10 * StreamAssembler::kCapacity, slice(big, 0, 10)));
    EXPECT_TRUE(far.overflowed());
}

TEST(StreamAssembler, ManyHolesAreBounded) {
    auto data = pattern(4000);
    StreamAssembler s;
    s.set_base(0);
    // 40 one-byte islands: more than kMaxRanges; must not crash and must stay consistent.
    for (std::size_t i = 0; i < 40; ++i) {
        s.add(static_cast<std::uint32_t>(100 + i * 50), slice(data, 100 + i * 50, 1));
    }
    EXPECT_TRUE(s.overflowed());
    s.add(0, slice(data, 0, 4000));
    EXPECT_EQ(s.contiguous().size(), 4000u);
}

TEST(StreamAssembler, ShuffledSegmentsReassembleExactly) {
    auto data = pattern(8000);
    std::vector<std::pair<std::size_t, std::size_t>> segs;
    for (std::size_t off = 0; off < data.size(); off += 700) {
        segs.emplace_back(off, std::min<std::size_t>(700, data.size() - off));
    }
    std::mt19937 rng(0xBABED011u);
    for (int round = 0; round < 20; ++round) {
        std::shuffle(segs.begin(), segs.end(), rng);
        StreamAssembler s;
        s.set_base(77);
        for (auto [off, len] : segs) {
            s.add(static_cast<std::uint32_t>(77 + off), slice(data, off, len));
        }
        ASSERT_EQ(s.contiguous().size(), data.size()) << "round " << round;
        EXPECT_TRUE(std::equal(data.begin(), data.end(), s.contiguous().begin()));
    }
}

} // namespace
} // namespace wt::pipeline
