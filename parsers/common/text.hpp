// Small character helpers for the text formats we read (configuration, services
// files, action logs, snapshots): ASCII only, locale-free, constexpr.
#pragma once

#include <string_view>

namespace wt::parsers {

// The value of one hexadecimal digit (either case), or -1.
[[nodiscard]] constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// `s` without leading and trailing spaces, tabs and carriage returns (a CRLF file
// read line by line leaves the CR).
[[nodiscard]] constexpr std::string_view trim_blanks(std::string_view s) noexcept {
    constexpr std::string_view kBlanks = " \t\r";
    while (!s.empty() && kBlanks.find(s.front()) != std::string_view::npos) {
        s.remove_prefix(1);
    }
    while (!s.empty() && kBlanks.find(s.back()) != std::string_view::npos) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace wt::parsers
