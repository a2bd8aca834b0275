// ByteReader: the one bounds-checked cursor every parser reads through.
//
// Contract: never reads outside the span it was built on; a failed read returns
// false / std::nullopt and leaves the cursor where it was (picoquic's "*n64 is
// unchanged"), so callers can chain reads and stop at the first failure.
// Lengths are compared, never pointers. Does not allocate. noexcept throughout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace wt::parsers {

using Bytes = std::span<const std::uint8_t>;

class ByteReader {
public:
    constexpr ByteReader() noexcept = default;
    constexpr explicit ByteReader(Bytes data) noexcept : _rest(data) {}

    [[nodiscard]] constexpr std::size_t remaining() const noexcept { return _rest.size(); }
    [[nodiscard]] constexpr bool empty() const noexcept { return _rest.empty(); }
    [[nodiscard]] constexpr Bytes rest() const noexcept { return _rest; }

    constexpr bool read_u8(std::uint8_t& out) noexcept {
        if (_rest.empty()) {
            return false;
        }
        out = _rest[0];
        _rest = _rest.subspan(1);
        return true;
    }
    constexpr bool read_u16(std::uint16_t& out) noexcept { return read_be(out, 2); }
    constexpr bool read_u24(std::uint32_t& out) noexcept { return read_be(out, 3); }
    constexpr bool read_u32(std::uint32_t& out) noexcept { return read_be(out, 4); }
    constexpr bool read_u64(std::uint64_t& out) noexcept { return read_be(out, 8); }

    // RFC 9000 section 16: two most significant bits give the length (1, 2, 4, 8 bytes).
    constexpr bool read_quic_varint(std::uint64_t& out) noexcept {
        if (_rest.empty()) {
            return false;
        }
        const std::size_t len = std::size_t{1} << (_rest[0] >> 6);
        if (len > _rest.size()) {
            return false;
        }
        std::uint64_t v = _rest[0] & 0x3f;
        for (std::size_t i = 1; i < len; ++i) {
            v = (v << 8) | _rest[i];
        }
        out = v;
        _rest = _rest.subspan(len);
        return true;
    }

    constexpr bool read_bytes(std::size_t n, Bytes& out) noexcept {
        if (n > _rest.size()) {
            return false;
        }
        out = _rest.first(n);
        _rest = _rest.subspan(n);
        return true;
    }

    constexpr bool skip(std::size_t n) noexcept {
        if (n > _rest.size()) {
            return false;
        }
        _rest = _rest.subspan(n);
        return true;
    }

    // A sub-reader over an 8/16/24-bit length-prefixed vector (RFC 8446 section 3.4).
    // The child cannot read past its parent by construction.
    constexpr std::optional<ByteReader> read_prefixed_u8() noexcept { return read_prefixed(1); }
    constexpr std::optional<ByteReader> read_prefixed_u16() noexcept { return read_prefixed(2); }
    constexpr std::optional<ByteReader> read_prefixed_u24() noexcept { return read_prefixed(3); }

    [[nodiscard]] constexpr bool peek_u8(std::uint8_t& out) const noexcept {
        if (_rest.empty()) {
            return false;
        }
        out = _rest[0];
        return true;
    }

private:
    template <typename T>
    constexpr bool read_be(T& out, std::size_t n) noexcept {
        if (n > _rest.size()) {
            return false;
        }
        T v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = static_cast<T>((v << 8) | _rest[i]);
        }
        out = v;
        _rest = _rest.subspan(n);
        return true;
    }

    constexpr std::optional<ByteReader> read_prefixed(std::size_t width) noexcept {
        ByteReader probe = *this;
        std::uint32_t len = 0;
        bool ok = false;
        switch (width) {
        case 1: {
            std::uint8_t v = 0;
            ok = probe.read_u8(v);
            len = v;
            break;
        }
        case 2: {
            std::uint16_t v = 0;
            ok = probe.read_u16(v);
            len = v;
            break;
        }
        default:
            ok = probe.read_u24(len);
            break;
        }
        Bytes body;
        if (!ok || !probe.read_bytes(len, body)) {
            return std::nullopt;
        }
        *this = probe;
        return ByteReader(body);
    }

    Bytes _rest;
};

// Unchecked big-endian loads for callers that have already checked the length.
[[nodiscard]] constexpr std::uint16_t load_u16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] constexpr std::uint32_t load_u32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Big-endian stores, for the few places that write packets (the same unchecked contract).
constexpr void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
constexpr void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
    store_u16(p, static_cast<std::uint16_t>(v >> 16));
    store_u16(p + 2, static_cast<std::uint16_t>(v));
}

[[nodiscard]] inline std::string_view as_string_view(Bytes b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

} // namespace wt::parsers
