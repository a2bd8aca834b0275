#include "pipeline/tally/actions.hpp"
#include "parsers/common/text.hpp"

#include <algorithm>
#include <limits>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace wt::pipeline {

std::string ActionError::format() const {
    if (line > 0) {
        return fmt::format("{}:{}: {}", file, line, message);
    }
    return fmt::format("{}: {}", file, message);
}

namespace {


std::string unquote(std::string_view s) {
    s = parsers::trim_blanks(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        std::string out;
        for (std::size_t i = 1; i + 1 < s.size(); ++i) {
            if (s[i] == '"' && i + 2 < s.size() && s[i + 1] == '"') {
                ++i; // CSV escaped quote
            }
            out.push_back(s[i]);
        }
        return out;
    }
    return std::string(s);
}

bool parse_double(std::string_view s, double& out) {
    const auto* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && p == end && std::isfinite(out);
}

constexpr double kEpochThreshold = 1e8; // 1973: smaller numbers are offsets

} // namespace

std::variant<ActionSchedule, ActionError> ActionSchedule::from_csv_text(std::string_view text,
                                                                        std::string_view origin) {
    ActionSchedule schedule;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++line_no;
        line = parsers::trim_blanks(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::size_t comma = line.find(',');
        if (comma == std::string_view::npos) {
            return ActionError{std::string(origin), line_no,
                               fmt::format("expected 'timestamp,label', got '{}'", line)};
        }
        std::string_view ts = parsers::trim_blanks(line.substr(0, comma));
        std::string label = unquote(line.substr(comma + 1));
        Mark mark;
        mark.label = label;
        if (!ts.empty() && ts.front() == '+') {
            mark.relative = true;
            ts.remove_prefix(1);
        }
        if (!ts.empty() && ts.back() == 's') {
            mark.relative = true;
            ts.remove_suffix(1);
        }
        double value = 0;
        if (!parse_double(ts, value) || value < 0) {
            if (schedule._marks.empty() && line_no == 1) {
                continue; // header line
            }
            return ActionError{std::string(origin), line_no,
                               fmt::format("bad timestamp '{}': expected epoch seconds or an offset like +12.5",
                                           parsers::trim_blanks(line.substr(0, comma)))};
        }
        if (!mark.relative && value < kEpochThreshold) {
            mark.relative = true;
        }
        if (label.empty()) {
            return ActionError{std::string(origin), line_no, "empty action label"};
        }
        mark.seconds = value;
        schedule._marks.push_back(std::move(mark));
    }
    if (schedule._marks.empty()) {
        return ActionError{std::string(origin), 0, "no marks found (expected lines of 'timestamp,label')"};
    }
    return schedule;
}

std::variant<ActionSchedule, ActionError> ActionSchedule::from_csv_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return ActionError{path, 0, "cannot open marks file"};
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.size() > (16u << 20)) {
        return ActionError{path, 0, "marks file larger than 16 MiB"};
    }
    return from_csv_text(text, path);
}

std::variant<ActionSchedule, ActionError> ActionSchedule::from_every_spec(std::string_view spec) {
    const std::size_t colon = spec.find(':');
    const std::string origin = "--marks-every";
    if (colon == std::string_view::npos) {
        return ActionError{origin, 0, fmt::format("expected INTERVAL:LABEL,LABEL,... (e.g. 30s:\"App launch,Climate\"), got '{}'", spec)};
    }
    std::string_view interval = parsers::trim_blanks(spec.substr(0, colon));
    double multiplier = 1;
    if (!interval.empty() && interval.back() == 's') {
        interval.remove_suffix(1);
    } else if (!interval.empty() && interval.back() == 'm') {
        interval.remove_suffix(1);
        multiplier = 60;
    }
    double seconds = 0;
    if (!parse_double(interval, seconds) || seconds <= 0) {
        return ActionError{origin, 0, fmt::format("bad interval '{}': expected a positive number of seconds like 30s", parsers::trim_blanks(spec.substr(0, colon)))};
    }
    seconds *= multiplier;
    ActionSchedule schedule;
    schedule._every_s = seconds;
    std::string_view rest = spec.substr(colon + 1);
    double offset = 0;
    while (true) {
        const std::size_t comma = rest.find(',');
        std::string label = unquote(rest.substr(0, comma));
        if (label.empty()) {
            return ActionError{origin, 0, "empty action label"};
        }
        schedule._marks.push_back(Mark{true, offset, std::move(label)});
        offset += seconds;
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    return schedule;
}

ActionSchedule ActionSchedule::from_timed_labels(std::vector<std::pair<std::uint64_t, std::string>> marks) {
    std::stable_sort(marks.begin(), marks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    ActionSchedule schedule;
    for (auto& [ns, label] : marks) {
        if (!label.empty()) {
            schedule._marks.push_back(Mark{false, static_cast<double>(ns) / 1e9, std::move(label), ns});
        }
    }
    return schedule;
}

std::optional<ActionError> ActionSchedule::check_every_covers(std::uint64_t first_ns, std::uint64_t last_ns) const {
    if (_every_s <= 0 || last_ns < first_ns) {
        return std::nullopt;
    }
    const double span_s = static_cast<double>(last_ns - first_ns) / 1e9;
    // A packet at exactly k intervals after the first belongs to interval k + 1.
    const auto intervals = static_cast<std::uint64_t>(std::floor(span_s / _every_s)) + 1;
    if (intervals <= _marks.size()) {
        return std::nullopt;
    }
    return ActionError{"--marks-every", 0,
                       fmt::format("{} labels cover {:g} s, but the capture lasts {:.1f} s: {} intervals of {:g} s; "
                                   "give {} labels, or a longer interval",
                                   _marks.size(), _every_s * static_cast<double>(_marks.size()), span_s, intervals,
                                   _every_s, intervals)};
}

std::uint16_t ActionSchedule::label_index(const std::string& label) {
    auto it = std::find(_labels.begin(), _labels.end(), label);
    if (it != _labels.end()) {
        return static_cast<std::uint16_t>(it - _labels.begin());
    }
    _labels.push_back(label);
    return static_cast<std::uint16_t>(_labels.size() - 1);
}

void ActionSchedule::anchor(std::uint64_t first_packet_ns) {
    std::vector<std::pair<std::uint64_t, std::uint16_t>> resolved;
    for (const Mark& m : _marks) {
        const double ns = m.relative ? static_cast<double>(first_packet_ns) + m.seconds * 1e9 : m.seconds * 1e9;
        resolved.emplace_back(m.exact_ns != 0 ? m.exact_ns : static_cast<std::uint64_t>(std::llround(ns)),
                              label_index(m.label));
    }
    std::stable_sort(resolved.begin(), resolved.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    _times.clear();
    _mark_label.clear();
    for (const auto& [t, l] : resolved) {
        _times.push_back(t);
        _mark_label.push_back(l);
    }
    _anchored = true;
}

void ActionSchedule::add(std::uint64_t ts_ns, std::string label) {
    _marks.push_back(Mark{false, static_cast<double>(ts_ns) / 1e9, label, ts_ns});
    const std::uint16_t idx = label_index(label);
    if (!_times.empty() && ts_ns < _times.back()) {
        ts_ns = _times.back();
    }
    _times.push_back(ts_ns);
    _mark_label.push_back(idx);
}

std::uint16_t ActionSchedule::action_at(std::uint64_t ts_ns) const noexcept {
    auto it = std::upper_bound(_times.begin(), _times.end(), ts_ns);
    if (it == _times.begin()) {
        return 0;
    }
    return static_cast<std::uint16_t>(_mark_label[static_cast<std::size_t>(it - _times.begin()) - 1] + 1);
}

ActionSchedule::Span ActionSchedule::span_at(std::uint64_t ts_ns) const noexcept {
    const auto it = std::upper_bound(_times.begin(), _times.end(), ts_ns);
    Span span;
    span.until_ns = it == _times.end() ? std::numeric_limits<std::uint64_t>::max() : *it;
    if (it != _times.begin()) {
        const auto at = static_cast<std::size_t>(it - _times.begin()) - 1;
        span.action = static_cast<std::uint16_t>(_mark_label[at] + 1);
        span.from_ns = _times[at];
    }
    return span;
}

std::string_view ActionSchedule::label(std::uint16_t action) const noexcept {
    if (action == 0 || action > _labels.size()) {
        return {};
    }
    return _labels[action - 1];
}

} // namespace wt::pipeline
