// FixedHashMap: open addressing with linear probing over storage sized once at
// construction. insert/find/erase never allocate, so per-core tables can live on
// the data path. Full tables refuse inserts (the caller counts it) instead of
// growing. Erase uses backward-shift deletion, so there are no tombstones and
// probe lengths stay bounded by the load factor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace wt::pipeline {

template <typename Key, typename Value, typename Hash>
class FixedHashMap {
public:
    // capacity is rounded up to a power of two; usable entries = capacity * 7 / 8.
    explicit FixedHashMap(std::size_t capacity)
        : _mask(round_up_pow2(capacity < 8 ? 8 : capacity) - 1),
          _slots(std::make_unique<Slot[]>(_mask + 1)),
          _limit((_mask + 1) / 8 * 7) {}

    FixedHashMap(FixedHashMap&&) noexcept = default;
    FixedHashMap& operator=(FixedHashMap&&) noexcept = default;

    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return _limit; }
    [[nodiscard]] bool full() const noexcept { return _size >= _limit; }
    // Bytes held, fixed at construction.
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return (_mask + 1) * sizeof(Slot); }

    Value* find(const Key& key) noexcept { return find_hashed(key, Hash{}(key)); }
    const Value* find(const Key& key) const noexcept {
        return const_cast<FixedHashMap*>(this)->find_hashed(key, Hash{}(key));
    }

    Value* find_hashed(const Key& key, std::uint64_t hash) noexcept {
        for (std::size_t i = hash & _mask, probes = 0; probes <= _mask; i = (i + 1) & _mask, ++probes) {
            Slot& s = _slots[i];
            if (!s.used) {
                return nullptr;
            }
            if (s.hash == hash && s.key == key) {
                return &s.value;
            }
        }
        return nullptr;
    }

    // Returns the value for key, inserting a value-initialised one if absent;
    // nullptr when the table is full. `inserted` tells which happened.
    Value* find_or_insert(const Key& key, bool& inserted) noexcept {
        return find_or_insert_hashed(key, Hash{}(key), inserted);
    }

    Value* find_or_insert_hashed(const Key& key, std::uint64_t hash, bool& inserted) noexcept {
        inserted = false;
        for (std::size_t i = hash & _mask, probes = 0; probes <= _mask; i = (i + 1) & _mask, ++probes) {
            Slot& s = _slots[i];
            if (!s.used) {
                if (_size >= _limit) {
                    return nullptr;
                }
                s.used = true;
                s.hash = hash;
                s.key = key;
                s.value = Value{};
                ++_size;
                inserted = true;
                return &s.value;
            }
            if (s.hash == hash && s.key == key) {
                return &s.value;
            }
        }
        return nullptr;
    }

    bool erase(const Key& key) noexcept {
        const std::uint64_t hash = Hash{}(key);
        std::size_t i = hash & _mask;
        for (std::size_t probes = 0; probes <= _mask; i = (i + 1) & _mask, ++probes) {
            Slot& s = _slots[i];
            if (!s.used) {
                return false;
            }
            if (s.hash == hash && s.key == key) {
                break;
            }
        }
        if (!_slots[i].used) {
            return false;
        }
        // Backward-shift: move later members of the cluster into the hole when
        // their home slot is not in the (hole, j] interval.
        std::size_t hole = i;
        for (std::size_t j = (i + 1) & _mask, n = 0; n < _mask; j = (j + 1) & _mask, ++n) {
            Slot& s = _slots[j];
            if (!s.used) {
                break;
            }
            const std::size_t home = s.hash & _mask;
            const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!home_in_range) {
                _slots[hole] = std::move(s);
                hole = j;
            }
        }
        _slots[hole].used = false;
        --_size;
        return true;
    }

    void clear() noexcept {
        for (std::size_t i = 0; i <= _mask; ++i) {
            _slots[i].used = false;
        }
        _size = 0;
    }

    // Visits every entry; fn(const Key&, Value&). Order is the slot order.
    template <typename Fn>
    void for_each(Fn&& fn) {
        for (std::size_t i = 0; i <= _mask; ++i) {
            if (_slots[i].used) {
                fn(_slots[i].key, _slots[i].value);
            }
        }
    }
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i <= _mask; ++i) {
            if (_slots[i].used) {
                fn(_slots[i].key, static_cast<const Value&>(_slots[i].value));
            }
        }
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        bool used = false;
        Key key{};
        Value value{};
    };

    static std::size_t round_up_pow2(std::size_t v) noexcept {
        std::size_t p = 1;
        while (p < v) {
            p <<= 1;
        }
        return p;
    }

    std::size_t _mask;
    std::unique_ptr<Slot[]> _slots;
    std::size_t _limit;
    std::size_t _size = 0;
};

// 64-bit mixer (from the MurmurHash3 finaliser) for combining words of a key.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

[[nodiscard]] inline std::uint64_t hash_bytes(const void* data, std::size_t len, std::uint64_t seed = 0) noexcept {
    // FNV-1a over bytes then a final mix: names are short, this is off the per-packet path.
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (std::size_t i = 0; i < len; ++i) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return mix64(h);
}

} // namespace wt::pipeline
