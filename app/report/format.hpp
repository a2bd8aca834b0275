// Small formatting helpers of every table wiretally prints (offline report, live views,
// the timeline): byte counts, times, clipped names, column widths.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include <string_view>

namespace wt::app {

// "1.2 MB" style, 1000-based like network tools; exact numbers are in JSON/CSV.
[[nodiscard]] std::string human_bytes(std::uint64_t n);

// "2026-12-06 07:30:00": epoch nanoseconds as UTC, to the second.
[[nodiscard]] std::string utc_time(std::uint64_t ns);

// Keeps the beginning of a name: names read left to right and are never cut from the left. Only a
// name longer than its column's cap is clipped (tables size their columns to what they show).
[[nodiscard]] std::string clip(std::string_view s, std::size_t width);
// `text` as lines of at most `width` characters, broken between words (a word longer than a line
// stands alone, whole); lines after the first start with `indent` spaces.
[[nodiscard]] std::vector<std::string> wrap_words(std::string_view text, std::size_t width, std::size_t indent);

// A name column as wide as the longest value it shows plus a space, within [min_width, max_width].
template <typename Range, typename Fn>
[[nodiscard]] std::size_t column_width(const Range& rows, Fn&& text_of, std::size_t min_width, std::size_t max_width) {
    std::size_t w = min_width;
    for (const auto& row : rows) {
        w = std::max(w, std::string_view(text_of(row)).size() + 1);
    }
    return std::min(w, max_width);
}

} // namespace wt::app
