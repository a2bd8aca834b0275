// SpscRing: a bounded single-producer single-consumer queue of trivially copyable
// records, for messages between cores that share no tables (a worker's finished
// flows to the stats core, one worker's DNS answers to another).
//
// One writer and one reader, each on its own cache line (the Lamport queue with
// cached indices, as in DPDK's rte_ring SP/SC mode but typed): push() and pop()
// never block, never allocate and never fail silently — a full ring refuses the
// record and the producer counts it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace wt::pipeline {

template <typename T>
class SpscRing {
    static_assert(std::is_trivially_copyable_v<T>, "records are copied between cores byte for byte");

public:
    // capacity is rounded up to a power of two.
    explicit SpscRing(std::size_t capacity)
        : _mask(round_up_pow2(capacity < 2 ? 2 : capacity) - 1), _slots(std::make_unique<T[]>(_mask + 1)) {}

    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    // Producer side. Returns false when full.
    bool push(const T& record) noexcept {
        const std::uint64_t head = _producer.head.load(std::memory_order_relaxed);
        if (head - _producer.cached_tail > _mask) {
            _producer.cached_tail = _consumer.tail.load(std::memory_order_acquire);
            if (head - _producer.cached_tail > _mask) {
                return false;
            }
        }
        _slots[head & _mask] = record;
        _producer.head.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer side. Returns false when empty.
    bool pop(T& record) noexcept {
        const std::uint64_t tail = _consumer.tail.load(std::memory_order_relaxed);
        if (tail == _consumer.cached_head) {
            _consumer.cached_head = _producer.head.load(std::memory_order_acquire);
            if (tail == _consumer.cached_head) {
                return false;
            }
        }
        record = _slots[tail & _mask];
        _consumer.tail.store(tail + 1, std::memory_order_release);
        return true;
    }

    [[nodiscard]] std::size_t capacity() const noexcept { return _mask + 1; }

private:
    static std::size_t round_up_pow2(std::size_t v) noexcept {
        std::size_t p = 1;
        while (p < v) {
            p <<= 1;
        }
        return p;
    }

    // Each side's index and its cached copy of the other's live on their own line,
    // so the two cores only share a line when the cache runs out.
    struct alignas(64) ProducerSide {
        std::atomic<std::uint64_t> head{0};
        std::uint64_t cached_tail = 0;
    };
    struct alignas(64) ConsumerSide {
        std::atomic<std::uint64_t> tail{0};
        std::uint64_t cached_head = 0;
    };

    const std::size_t _mask;
    std::unique_ptr<T[]> _slots;
    ProducerSide _producer;
    ConsumerSide _consumer;
};

} // namespace wt::pipeline
