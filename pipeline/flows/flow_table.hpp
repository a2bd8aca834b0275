// FlowTable: the worker's index from a flow key to its record, built for a burst
// of lookups whose cache misses overlap.
//
// Buckets of eight entries, one cache line each: a 16-bit signature and a 32-bit
// record index per entry, an occupancy mask and an overflow count. The key itself
// lives only in the flow record, so the index costs 64/6 ~ 11 bytes per flow at the
// 3/4 load it is sized for, and a lookup reads one bucket line plus the record it
// was going to read anyway. An entry whose home bucket is full goes to the next one,
// and every bucket it passes counts it in `overflow` (the scheme of Folly's F14): a
// lookup stops at the first bucket whose count is zero, erase walks the same path
// back, so there are no tombstones and a miss costs one line in the common case.
//
// Stages for a burst (DPDK's rte_hash_lookup_bulk does the same): hash every key
// and prefetch its bucket; then look at each bucket's signatures and prefetch the
// candidate record; only then compare keys, when both lines have arrived.
//
// Storage comes zeroed from the OS (fresh anonymous pages, ZeroedArray),
// so an empty table costs no start-up time; `prefault()` touches it all for a live
// appliance that wants no page faults on the data path.
#pragma once

#include "pipeline/flows/zeroed_array.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>

namespace wt::pipeline {

inline constexpr std::uint32_t kNoFlow = 0xffffffffu;

class FlowTable {
public:
    static constexpr unsigned kWays = 8;

    // Room for `max_entries` at a load of at most 3/4.
    explicit FlowTable(std::size_t max_entries)
        : _buckets(bucket_count_for(max_entries)), _nbuckets(_buckets.size()), _limit(max_entries) {}

    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return _limit; }
    [[nodiscard]] bool full() const noexcept { return _size >= _limit; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return _buckets.memory_bytes(); }
    void prefault() noexcept { _buckets.prefault(); }

    void prefetch(std::uint64_t hash) const noexcept { __builtin_prefetch(&_buckets[home(hash)], 0, 3); }

    // The first entry of the home bucket whose signature matches: the record to
    // prefetch before the key comparison. kNoFlow when none does.
    [[nodiscard]] std::uint32_t candidate(std::uint64_t hash) const noexcept {
        const Bucket& b = _buckets[home(hash)];
        const unsigned m = match(b, signature(hash));
        return m != 0 ? b.index[__builtin_ctz(m)] : kNoFlow;
    }

    // The record index whose key equals `key` (`key_of(index)` returns a record's key), or kNoFlow.
    template <typename Key, typename KeyOf>
    [[nodiscard]] std::uint32_t find(std::uint64_t hash, const Key& key, KeyOf&& key_of) const noexcept {
        const std::uint16_t sig = signature(hash);
        std::size_t bi = home(hash);
        for (std::size_t probes = 0; probes < _nbuckets; ++probes) {
            const Bucket& b = _buckets[bi];
            for (unsigned m = match(b, sig); m != 0; m &= m - 1) {
                const std::uint32_t index = b.index[__builtin_ctz(m)];
                if (key_of(index) == key) {
                    return index;
                }
            }
            if (b.overflow == 0) {
                return kNoFlow;
            }
            bi = next(bi);
        }
        return kNoFlow;
    }

    // Adds an entry; the caller has checked the key is absent. False when full.
    bool insert(std::uint64_t hash, std::uint32_t index) noexcept {
        if (_size >= _limit) {
            return false;
        }
        std::size_t bi = home(hash);
        // At most 3/4 load there is always a free way within the table; the bound is
        // only a guard against a corrupted count.
        for (std::size_t probes = 0; probes < _nbuckets; ++probes) {
            Bucket& b = _buckets[bi];
            if (b.used != 0xff) {
                const unsigned way = static_cast<unsigned>(__builtin_ctz(~static_cast<unsigned>(b.used)));
                b.sig[way] = signature(hash);
                b.index[way] = index;
                b.used = static_cast<std::uint8_t>(b.used | (1u << way));
                ++_size;
                return true;
            }
            ++b.overflow;
            bi = next(bi);
        }
        unwind_overflow(home(hash), _nbuckets);
        return false;
    }

    // Removes the entry for record `index` (its key hashed to `hash`). False when absent.
    bool erase(std::uint64_t hash, std::uint32_t index) noexcept {
        const std::uint16_t sig = signature(hash);
        const std::size_t start = home(hash);
        std::size_t bi = start;
        for (std::size_t probes = 0; probes < _nbuckets; ++probes) {
            Bucket& b = _buckets[bi];
            for (unsigned m = match(b, sig); m != 0; m &= m - 1) {
                const unsigned way = static_cast<unsigned>(__builtin_ctz(m));
                if (b.index[way] == index) {
                    b.used = static_cast<std::uint8_t>(b.used & ~(1u << way));
                    --_size;
                    unwind_overflow(start, probes);
                    return true;
                }
            }
            if (b.overflow == 0) {
                return false;
            }
            bi = next(bi);
        }
        return false;
    }

    void clear() noexcept {
        std::memset(static_cast<void*>(_buckets.data()), 0, _buckets.memory_bytes());
        _size = 0;
    }

    // Buckets that some entry had to pass (overflow count non-zero): a test and bench aid.
    [[nodiscard]] std::size_t overflowing_buckets() const noexcept {
        std::size_t n = 0;
        for (std::size_t i = 0; i < _nbuckets; ++i) {
            n += _buckets[i].overflow != 0;
        }
        return n;
    }

private:
    struct alignas(64) Bucket {
        std::uint16_t sig[kWays];
        std::uint32_t index[kWays];
        std::uint8_t used; // bit per way
        std::uint8_t reserved;
        std::uint16_t overflow; // entries with home at or before this bucket stored after it
    };
    static_assert(sizeof(Bucket) == 64);

    static std::size_t bucket_count_for(std::size_t entries) noexcept {
        const std::size_t per_bucket = kWays * 3 / 4;
        const std::size_t n = (entries + per_bucket - 1) / per_bucket;
        return n < 2 ? 2 : n;
    }
    // The high half of the hash picks the bucket (multiply-shift: any bucket count),
    // an independent part of it is the signature.
    [[nodiscard]] std::size_t home(std::uint64_t hash) const noexcept {
        return static_cast<std::size_t>(((hash >> 32) * static_cast<std::uint64_t>(_nbuckets)) >> 32);
    }
    [[nodiscard]] static std::uint16_t signature(std::uint64_t hash) noexcept {
        return static_cast<std::uint16_t>(hash >> 8);
    }
    [[nodiscard]] std::size_t next(std::size_t bi) const noexcept { return bi + 1 == _nbuckets ? 0 : bi + 1; }

    // Bit i set: way i is used and its signature equals sig (one SSE2 compare of all eight).
    [[nodiscard]] static unsigned match(const Bucket& b, std::uint16_t sig) noexcept {
        const __m128i sigs = _mm_load_si128(reinterpret_cast<const __m128i*>(b.sig));
        const __m128i eq = _mm_cmpeq_epi16(sigs, _mm_set1_epi16(static_cast<short>(sig)));
        const unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128())));
        return bits & b.used;
    }

    // An entry `probes` buckets past its home: each bucket it passed counted it.
    void unwind_overflow(std::size_t start, std::size_t probes) noexcept {
        std::size_t bi = start;
        for (std::size_t k = 0; k < probes; ++k) {
            --_buckets[bi].overflow;
            bi = next(bi);
        }
    }

    ZeroedArray<Bucket> _buckets;
    std::size_t _nbuckets;
    std::size_t _limit;
    std::size_t _size = 0;
};

} // namespace wt::pipeline
