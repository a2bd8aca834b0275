// FixedString: bounded inline storage for a name that must outlive the packet
// (SNI, DNS names, HTTP Host). Does not allocate; assign() truncates at Capacity
// and reports it, so a hostile 64 KB "name" costs nothing but a flag.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wt::parsers {

template <std::size_t Capacity>
class FixedString {
    static_assert(Capacity > 0 && Capacity <= 65535, "length is stored in 16 bits");

public:
    // The buffer is left uninitialised: only [0, size()) is ever read, and records that
    // hold several names (a flow's detail: 13 of them) are built per flow on the data
    // path, where zeroing 256-byte buffers would cost more than the rest of the flow.
    constexpr FixedString() noexcept {}

    // Returns false when the input was longer than Capacity (the prefix is kept).
    constexpr bool assign(std::string_view s) noexcept {
        const std::size_t n = std::min(s.size(), Capacity);
        std::copy_n(s.data(), n, _buf.data());
        _len = static_cast<std::uint16_t>(n);
        return n == s.size();
    }
    constexpr bool append(std::string_view s) noexcept {
        const std::size_t room = Capacity - _len;
        const std::size_t n = std::min(s.size(), room);
        std::copy_n(s.data(), n, _buf.data() + _len);
        _len = static_cast<std::uint16_t>(_len + n);
        return n == s.size();
    }
    constexpr bool push_back(char c) noexcept {
        if (_len == Capacity) {
            return false;
        }
        _buf[_len++] = c;
        return true;
    }
    constexpr void clear() noexcept { _len = 0; }

    [[nodiscard]] constexpr std::string_view view() const noexcept { return {_buf.data(), _len}; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return _len; }
    [[nodiscard]] constexpr bool empty() const noexcept { return _len == 0; }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

    friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
        return a.view() == b.view();
    }

private:
    std::array<char, Capacity> _buf;
    std::uint16_t _len = 0;
};

// RFC 1035 section 2.3.4: 255 octets on the wire, at most 253 characters in text form.
using DomainName = FixedString<255>;

} // namespace wt::parsers
