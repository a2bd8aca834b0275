#include "pipeline/fixed_hash_map.hpp"

#include <gtest/gtest.h>
#include <map>
#include <random>

namespace wt::pipeline {
namespace {

struct IdentityHash {
    // A deliberately weak hash so that clusters form and erase must shift.
    std::uint64_t operator()(std::uint32_t k) const noexcept { return k % 7; }
};

TEST(FixedHashMap, InsertFindEraseAgainstStdMap) {
    FixedHashMap<std::uint32_t, std::uint64_t, IdentityHash> m(64);
    std::map<std::uint32_t, std::uint64_t> ref;
    std::mt19937 rng(42);
    for (int step = 0; step < 20000; ++step) {
        const std::uint32_t k = rng() % 80;
        if (rng() % 3 == 0) {
            EXPECT_EQ(m.erase(k), ref.erase(k) == 1) << "step " << step;
        } else {
            bool inserted = false;
            std::uint64_t* v = m.find_or_insert(k, inserted);
            if (v == nullptr) {
                EXPECT_TRUE(m.full());
                EXPECT_EQ(ref.count(k), 0u);
                continue;
            }
            EXPECT_EQ(inserted, ref.count(k) == 0);
            *v += 1;
            ref[k] += 1;
        }
        ASSERT_EQ(m.size(), ref.size());
    }
    for (auto [k, v] : ref) {
        const std::uint64_t* got = m.find(k);
        ASSERT_NE(got, nullptr) << k;
        EXPECT_EQ(*got, v);
    }
}

TEST(FixedHashMap, RefusesWhenFull) {
    FixedHashMap<std::uint32_t, int, std::hash<std::uint32_t>> m(8);
    bool inserted = false;
    std::size_t stored = 0;
    for (std::uint32_t k = 0; k < 100; ++k) {
        if (m.find_or_insert(k, inserted) != nullptr) {
            ++stored;
        }
    }
    EXPECT_EQ(stored, m.capacity());
    EXPECT_TRUE(m.full());
}

} // namespace
} // namespace wt::pipeline
