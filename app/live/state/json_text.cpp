#include "app/live/state/json_text.hpp"

#include <iterator>

namespace wt::app::state::json_text {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629 section 4:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    const auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        return continuation(i + 1) ? 2 : 0;
    }
    if (b0 >= 0xe0 && b0 <= 0xef) {
        if (!continuation(i + 1) || !continuation(i + 2)) {
            return 0;
        }
        const unsigned char b1 = byte(i + 1);
        if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 > 0x9f)) {
            return 0;
        }
        return 3;
    }
    if (b0 >= 0xf0 && b0 <= 0xf4) {
        if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) {
            return 0;
        }
        const unsigned char b1 = byte(i + 1);
        if ((b0 == 0xf0 && b1 < 0x90) || (b0 == 0xf4 && b1 > 0x8f)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

void append_escaped_ascii(fmt::memory_buffer& b, unsigned char c) {
    switch (c) {
    case '"': b.append(std::string_view("\\\"")); break;
    case '\\': b.append(std::string_view("\\\\")); break;
    case '\n': b.append(std::string_view("\\n")); break;
    case '\t': b.append(std::string_view("\\t")); break;
    default:
        if (c < 0x20 || c == 0x7f) {
            fmt::format_to(std::back_inserter(b), "\\u{:04x}", c);
        } else {
            b.push_back(static_cast<char>(c));
        }
    }
}

} // namespace

void append_text(fmt::memory_buffer& b, std::string_view s) {
    b.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            append_escaped_ascii(b, c);
            ++i;
        } else if (const std::size_t n = utf8_sequence_length(s, i); n != 0) {
            b.append(s.substr(i, n));
            i += n;
        } else {
            b.append(std::string_view("\\ufffd"));
            ++i;
        }
    }
    b.push_back('"');
}

void append_wire_name(fmt::memory_buffer& b, std::string_view s) {
    b.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            append_escaped_ascii(b, c);
        } else {
            fmt::format_to(std::back_inserter(b), "\\u{:04x}", c);
        }
    }
    b.push_back('"');
}

void append_double(fmt::memory_buffer& b, double v) {
    const std::size_t start = b.size();
    fmt::format_to(std::back_inserter(b), "{}", v);
    const std::string_view written(b.data() + start, b.size() - start);
    if (written.find_first_of(".eE") == std::string_view::npos) {
        b.append(std::string_view(".0"));
    }
}

} // namespace wt::app::state::json_text
