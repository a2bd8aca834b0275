// StreamAssembler: rebuilds the first bytes of one TCP direction (a ClientHello,
// a ServerHello, an HTTP request head, a DNS-over-TCP message) from segments
// that may be split, retransmitted, overlapping or out of order.
//
// Fixed capacity, no allocation after construction. Bytes beyond the capacity
// are dropped and flagged: the handshake parsers report kTooLarge long before.
// Sequence numbers are compared modulo 2^32 (RFC 9293 section 3.4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wt::pipeline {

class StreamAssembler {
public:
    static constexpr std::size_t kCapacity = 16384 + 5 * 8; // a maximal ClientHello plus record headers
    static constexpr std::size_t kMaxRanges = 16;

    void reset() noexcept;
    // The first payload byte's sequence number, when known from a SYN (ISN + 1).
    void set_base(std::uint32_t seq) noexcept;
    [[nodiscard]] bool has_base() const noexcept { return _has_base; }

    // Adds a segment. Returns true when the contiguous prefix grew.
    bool add(std::uint32_t seq, std::span<const std::uint8_t> data) noexcept;

    [[nodiscard]] std::span<const std::uint8_t> contiguous() const noexcept { return {_buf.data(), _contiguous}; }
    [[nodiscard]] bool overflowed() const noexcept { return _overflow; }
    [[nodiscard]] bool has_gap() const noexcept { return _range_count > 0 && _ranges[0].begin > _contiguous; }

private:
    struct Range {
        std::uint32_t begin = 0; // offsets relative to _base
        std::uint32_t end = 0;
    };
    void insert_range(std::uint32_t begin, std::uint32_t end) noexcept;
    bool rebase(std::uint32_t new_base) noexcept;

    std::uint32_t _base = 0;
    bool _has_base = false;
    bool _base_fixed = false; // from a SYN: never rebase
    bool _overflow = false;
    std::uint8_t _range_count = 0;
    std::uint32_t _contiguous = 0;
    std::array<Range, kMaxRanges> _ranges{};
    std::array<std::uint8_t, kCapacity> _buf{};
};

} // namespace wt::pipeline
