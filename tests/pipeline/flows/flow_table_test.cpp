// FlowTable: buckets of eight with overflow counts, checked against a reference map
// under random inserts and erases, with hashes forced to collide so that entries
// overflow into later buckets and erase must walk the counts back.
#include "pipeline/flows/flow_table.hpp"

#include <gtest/gtest.h>
#include <random>
#include <unordered_map>
#include <vector>

namespace wt::pipeline {
namespace {

struct Record {
    std::uint64_t key = 0;
    std::uint64_t hash = 0;
};

class TableUnderTest {
public:
    TableUnderTest(std::size_t capacity, std::uint64_t hash_mask) : table(capacity), records(capacity), mask(hash_mask) {
        for (std::uint32_t i = 0; i < capacity; ++i) {
            free.push_back(static_cast<std::uint32_t>(capacity - 1 - i));
        }
    }
    // The hash keeps only `mask` bits of a good mix: a small mask makes many keys share a
    // bucket and a signature.
    std::uint64_t hash_of(std::uint64_t key) const { return mix64(key) & mask; }

    std::uint32_t find(std::uint64_t key) const {
        return table.find(hash_of(key), key, [this](std::uint32_t i) { return records[i].key; });
    }
    bool insert(std::uint64_t key) {
        if (free.empty()) {
            return false;
        }
        const std::uint32_t index = free.back();
        if (!table.insert(hash_of(key), index)) {
            return false;
        }
        free.pop_back();
        records[index] = {key, hash_of(key)};
        reference[key] = index;
        return true;
    }
    bool erase(std::uint64_t key) {
        const auto it = reference.find(key);
        if (it == reference.end()) {
            return false;
        }
        const bool ok = table.erase(records[it->second].hash, it->second);
        free.push_back(it->second);
        reference.erase(it);
        return ok;
    }

    static std::uint64_t mix64(std::uint64_t h) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
    }

    FlowTable table;
    std::vector<Record> records;
    std::vector<std::uint32_t> free;
    std::unordered_map<std::uint64_t, std::uint32_t> reference;
    std::uint64_t mask;
};

TEST(FlowTable, EmptyTableFindsNothing) {
    FlowTable t(100);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.capacity(), 100u);
    EXPECT_EQ(t.candidate(12345), kNoFlow);
    EXPECT_EQ(t.find(12345, 1, [](std::uint32_t) { return 0; }), kNoFlow);
}

TEST(FlowTable, MemoryIsAboutElevenBytesPerEntry) {
    FlowTable t(262144);
    // 6 entries per 64-byte bucket at the 3/4 load it is sized for.
    EXPECT_LE(static_cast<double>(t.memory_bytes()) / 262144.0, 64.0 / 6.0 + 0.01);
}

TEST(FlowTable, RefusesInsertBeyondCapacity) {
    TableUnderTest t(64, ~0ull);
    for (std::uint64_t k = 1; k <= 64; ++k) {
        ASSERT_TRUE(t.insert(k)) << k;
    }
    EXPECT_TRUE(t.table.full());
    EXPECT_FALSE(t.table.insert(t.hash_of(999), 0));
    for (std::uint64_t k = 1; k <= 64; ++k) {
        EXPECT_NE(t.find(k), kNoFlow) << k;
    }
}

// Every key has the same hash: one home bucket, every entry past the eighth overflows
// further, and erasing from the front must keep the later ones reachable.
TEST(FlowTable, AllKeysInOneBucketOverflowAndStayReachable) {
    TableUnderTest t(60, 0); // hash 0 for every key
    for (std::uint64_t k = 1; k <= 40; ++k) {
        ASSERT_TRUE(t.insert(k));
    }
    EXPECT_GE(t.table.overflowing_buckets(), 4u);
    for (std::uint64_t k = 1; k <= 40; k += 2) {
        ASSERT_TRUE(t.erase(k));
    }
    for (std::uint64_t k = 1; k <= 40; ++k) {
        EXPECT_EQ(t.find(k) != kNoFlow, k % 2 == 0) << k;
    }
    for (std::uint64_t k = 2; k <= 40; k += 2) {
        ASSERT_TRUE(t.erase(k));
    }
    EXPECT_EQ(t.table.size(), 0u);
    EXPECT_EQ(t.table.overflowing_buckets(), 0u) << "erase walked every overflow count back";
}

TEST(FlowTable, EraseOfAbsentEntryIsRefused) {
    TableUnderTest t(100, ~0ull);
    ASSERT_TRUE(t.insert(7));
    EXPECT_FALSE(t.table.erase(t.hash_of(8), 3));
    EXPECT_FALSE(t.table.erase(t.hash_of(7), t.reference[7] + 1)) << "same hash, other record";
    EXPECT_EQ(t.table.size(), 1u);
}

// Random operations against std::unordered_map, with hashes of 64, 12 and 6 bits
// (from no collisions to long overflow chains), the table kept near its limit.
TEST(FlowTable, MatchesReferenceUnderRandomOperations) {
    for (const std::uint64_t mask : {~0ull, 0xfff0'0000'0000'0fffull, 0x3f00'0000'0000'0000ull}) {
        SCOPED_TRACE(mask);
        TableUnderTest t(3000, mask);
        std::mt19937_64 rng(42);
        std::vector<std::uint64_t> present;
        for (int op = 0; op < 200000; ++op) {
            const std::uint64_t r = rng();
            if (r % 3 != 0 && present.size() < 3000) {
                const std::uint64_t key = rng() | 1;
                if (t.reference.count(key) == 0) {
                    ASSERT_EQ(t.find(key), kNoFlow);
                    ASSERT_TRUE(t.insert(key));
                    present.push_back(key);
                }
            } else if (!present.empty()) {
                const std::size_t i = r % present.size();
                ASSERT_TRUE(t.erase(present[i]));
                ASSERT_EQ(t.find(present[i]), kNoFlow);
                present[i] = present.back();
                present.pop_back();
            }
            if (op % 1000 == 0) {
                for (const auto& [key, index] : t.reference) {
                    ASSERT_EQ(t.find(key), index);
                }
            }
        }
        EXPECT_EQ(t.table.size(), t.reference.size());
        for (const std::uint64_t key : present) {
            ASSERT_TRUE(t.erase(key));
        }
        EXPECT_EQ(t.table.size(), 0u);
        EXPECT_EQ(t.table.overflowing_buckets(), 0u);
    }
}

TEST(FlowTable, CandidatePointsAtTheMatchingRecord) {
    TableUnderTest t(100, ~0ull);
    ASSERT_TRUE(t.insert(77));
    EXPECT_EQ(t.table.candidate(t.hash_of(77)), t.reference[77]);
}

TEST(FlowTable, ClearEmptiesEverything) {
    TableUnderTest t(100, 0);
    for (std::uint64_t k = 1; k <= 50; ++k) {
        ASSERT_TRUE(t.insert(k));
    }
    t.table.clear();
    EXPECT_EQ(t.table.size(), 0u);
    EXPECT_EQ(t.table.overflowing_buckets(), 0u);
    EXPECT_EQ(t.find(1), kNoFlow);
}

TEST(ZeroedArray, StartsZeroedAndPrefaults) {
    ZeroedArray<std::uint64_t> a(1u << 20);
    EXPECT_EQ(a[0], 0u);
    EXPECT_EQ(a[(1u << 20) - 1], 0u);
    a.prefault();
    a[5] = 9;
    ZeroedArray<std::uint64_t> b(std::move(a));
    EXPECT_EQ(b[5], 9u);
    EXPECT_EQ(a.size(), 0u);
}

} // namespace
} // namespace wt::pipeline
