// ZeroedArray: a worker's large tables (flow index and records, detail pool, DNS cache, tally
// marks) as fresh anonymous pages, zero until written and backed by the OS only when first
// touched, on transparent huge pages where the kernel grants them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include <sys/mman.h>

namespace wt::pipeline {

// Zeroed, page-aligned storage for n trivially-copyable records: fresh anonymous
// pages, which the OS backs only when first written.
template <typename T>
class ZeroedArray {
    static_assert(std::is_trivially_destructible_v<T>);
    static_assert(alignof(T) <= 4096);

public:
    ZeroedArray() = default;
    explicit ZeroedArray(std::size_t n) : _size(n) {
        const std::size_t bytes = bytes_for(n);
        if (bytes < kHugePage) {
            void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                throw std::bad_alloc();
            }
            _data = static_cast<T*>(p);
            return;
        }
        // Tables of megabytes are read at random, one line per packet: with 4 KB pages
        // nearly every access also misses the TLB. Ask for transparent huge pages on a
        // 2 MB-aligned range (the kernel backs only aligned 2 MB extents with them); the
        // slack before and after the aligned range goes back at once.
        const std::size_t span = mapped_bytes(bytes) + kHugePage;
        void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw std::bad_alloc();
        }
        const auto base = reinterpret_cast<std::uintptr_t>(p);
        const std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
        if (aligned > base) {
            ::munmap(p, aligned - base);
        }
        const std::uintptr_t end = base + span;
        const std::uintptr_t used_end = aligned + mapped_bytes(bytes);
        if (end > used_end) {
            ::munmap(reinterpret_cast<void*>(used_end), end - used_end);
        }
        ::madvise(reinterpret_cast<void*>(aligned), mapped_bytes(bytes), MADV_HUGEPAGE); // advice: may be refused
        _data = reinterpret_cast<T*>(aligned);
    }
    ~ZeroedArray() { release(); }
    ZeroedArray(ZeroedArray&& o) noexcept : _data(o._data), _size(o._size) {
        o._data = nullptr;
        o._size = 0;
    }
    ZeroedArray& operator=(ZeroedArray&& o) noexcept {
        if (this != &o) {
            release();
            _data = o._data;
            _size = o._size;
            o._data = nullptr;
            o._size = 0;
        }
        return *this;
    }
    ZeroedArray(const ZeroedArray&) = delete;
    ZeroedArray& operator=(const ZeroedArray&) = delete;

    T& operator[](std::size_t i) noexcept { return _data[i]; }
    const T& operator[](std::size_t i) const noexcept { return _data[i]; }
    T* data() noexcept { return _data; }
    const T* data() const noexcept { return _data; }
    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return _size * sizeof(T); }

    // Writes one byte of every page so that the OS backs it now, not on the data path.
    void prefault() noexcept {
        auto* p = reinterpret_cast<volatile unsigned char*>(_data);
        const std::size_t bytes = _size * sizeof(T);
        for (std::size_t off = 0; off < bytes; off += 4096) {
            p[off] = 0;
        }
    }

private:
    static constexpr std::size_t kHugePage = std::size_t{2} << 20;
    static std::size_t bytes_for(std::size_t n) noexcept { return n == 0 ? sizeof(T) : n * sizeof(T); }
    // What the mapping spans: whole pages (huge-page multiples for large arrays).
    static std::size_t mapped_bytes(std::size_t bytes) noexcept {
        return bytes < kHugePage ? bytes : (bytes + kHugePage - 1) & ~(kHugePage - 1);
    }
    void release() noexcept {
        if (_data != nullptr) {
            ::munmap(_data, mapped_bytes(bytes_for(_size)));
        }
    }

    T* _data = nullptr;
    std::size_t _size = 0;
};

} // namespace wt::pipeline
