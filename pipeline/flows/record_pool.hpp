// RecordPool: storage for `count` records of T, allocated once at start and left
// unconstructed: a record is built when taken (emplace) and its pages are touched
// only then. The storage is fresh zero pages of the OS (ZeroedArray), so a pool sized
// for the worst case costs nothing until used — zero-constructing 32k flow details
// (128 MB) at start cost more than analysing a small capture — and a large pool is
// backed by transparent huge pages where the kernel grants them: one page fault per
// 2 MB (about 540 flow details) instead of one per 4 KB, which on a VM, where each
// fault is a trip through the hypervisor, was a fifth of a short analysis.
#pragma once

#include "pipeline/flows/zeroed_array.hpp"

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

namespace wt::pipeline {

template <typename T>
class RecordPool {
    static_assert(std::is_trivially_destructible_v<T>, "records are dropped without a destructor call");

public:
    explicit RecordPool(std::size_t count)
        : _storage(count * sizeof(T)), _count(count) {}

    // Constructs a fresh record in slot i (any previous one is simply overwritten). Default-
    // initialised, not value-initialised: T{} of an aggregate zeroed the whole record first (a flow
    // detail: 3 KB a flow, 7 % of a DNS flood) although every member has its own initialiser, and
    // the names' buffers are read only up to their length.
    T& emplace(std::size_t i) noexcept {
        static_assert(std::is_default_constructible_v<T>);
        return *::new (static_cast<void*>(slot(i))) T;
    }
    // A slot that was emplaced.
    T& operator[](std::size_t i) noexcept { return *std::launder(reinterpret_cast<T*>(slot(i))); }
    const T& operator[](std::size_t i) const noexcept {
        return *std::launder(reinterpret_cast<const T*>(slot(i)));
    }
    [[nodiscard]] std::size_t size() const noexcept { return _count; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return _count * sizeof(T); }

private:
    std::byte* slot(std::size_t i) const noexcept { return const_cast<std::byte*>(_storage.data()) + i * sizeof(T); }

    ZeroedArray<std::byte> _storage;
    std::size_t _count;
};

} // namespace wt::pipeline
