#include "app/report/format.hpp"

#include <ctime>
#include <iterator>

#include <fmt/format.h>

namespace wt::app {

std::string human_bytes(std::uint64_t n) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = static_cast<double>(n);
    std::size_t u = 0;
    while (v >= 1000.0 && u + 1 < std::size(kUnits)) {
        v /= 1000.0;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string utc_time(std::uint64_t ns) {
    const std::time_t t = static_cast<std::time_t>(ns / 1000000000ull);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string clip(std::string_view s, std::size_t width) {
    if (s.size() <= width) {
        return std::string(s);
    }
    if (width < 2) {
        return std::string(s.substr(0, width));
    }
    return std::string(s.substr(0, width - 1)) + "~";
}

std::vector<std::string> wrap_words(std::string_view text, std::size_t width, std::size_t indent) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty()) {
            continue;
        }
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            lines.push_back(std::move(line));
            line.assign(indent, ' ');
        }
        if (!line.empty() && line.find_first_not_of(' ') != std::string::npos) {
            line += ' ';
        }
        line += word;
    }
    if (!line.empty()) {
        lines.push_back(std::move(line));
    }
    return lines;
}

} // namespace wt::app
