#include "app/live/state/timeline.hpp"

#include "app/report/format.hpp"
#include "app/report/json_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace wt::app::state {

namespace {

using nlohmann::json;

std::string service_name(std::size_t slot, std::span<const std::string> names) {
    if (slot == 0) {
        return "(unclassified)";
    }
    const std::size_t id = slot - 1;
    return id < names.size() ? names[id] : fmt::format("#{}", id);
}

std::optional<std::size_t> slot_filter(std::optional<std::int32_t> service) {
    if (!service) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(std::max(*service, std::int32_t{-1}) + 1);
}

} // namespace

void IntervalCounts::add(const pipeline::TransferStats& s) noexcept {
    bytes_up += s.bytes_up;
    bytes_down += s.bytes_down;
    packets_up += s.pkts_up;
    packets_down += s.pkts_down;
    flows += s.connections;
}

void IntervalCounts::add(const IntervalCounts& c) noexcept {
    bytes_up += c.bytes_up;
    bytes_down += c.bytes_down;
    packets_up += c.packets_up;
    packets_down += c.packets_down;
    flows += c.flows;
}

ServiceTimeline::ServiceTimeline(std::size_t slots, std::uint64_t interval_ns, std::size_t max_services,
                                 std::size_t rows_per_slot)
    : _interval_ns(interval_ns) {
    if (slots == 0 || slots > kMaxSlots) {
        throw std::invalid_argument(fmt::format("timeline: {} intervals, expected 1..{}", slots, kMaxSlots));
    }
    if (interval_ns == 0) {
        throw std::invalid_argument("timeline: the interval must be longer than 0");
    }
    if (max_services >= std::numeric_limits<std::uint32_t>::max()) {
        throw std::invalid_argument("timeline: too many services");
    }
    _intervals.resize(slots);
    _pending.resize(max_services + 1);
    // Room for one interval in which every service is busy, whatever rows_per_slot says.
    _rows.resize(slots * rows_per_slot + max_services + 1);
}

void ServiceTimeline::add_to_slot(std::size_t slot, const pipeline::TransferStats& s) noexcept {
    if (slot < _pending.size()) {
        _pending[slot].add(s);
    } else if (s.connections != 0 || s.pkts_up != 0 || s.pkts_down != 0) {
        ++_over_cap;
    }
}

void ServiceTimeline::add(const pipeline::CoreTally& retired, std::span<const std::int32_t> service_map) noexcept {
    const auto& services = retired.services();
    for (std::size_t slot = 0; slot < services.size(); ++slot) {
        const std::size_t index = slot - 1; // wraps for slot 0, which is unclassified anyway
        const std::int32_t stable = slot != 0 && index < service_map.size() ? service_map[index] : -1;
        add_to_slot(static_cast<std::size_t>(std::max(stable, std::int32_t{-1}) + 1), services[slot]);
    }
}

void ServiceTimeline::push(std::uint64_t end_ns, std::span<const pipeline::TransferStats> per_service) noexcept {
    for (std::size_t slot = 0; slot < per_service.size(); ++slot) {
        add_to_slot(slot, per_service[slot]);
    }
    close_interval(end_ns);
}

std::size_t ServiceTimeline::rows_in_use() const noexcept {
    return size() == 0 ? 0 : static_cast<std::size_t>(_next_row - interval_at(_oldest_interval).first_row);
}

void ServiceTimeline::drop_oldest() noexcept {
    ++_oldest_interval;
}

void ServiceTimeline::close_interval(std::uint64_t end_ns) noexcept {
    std::size_t rows = 0;
    for (const IntervalCounts& c : _pending) {
        rows += c.empty() ? 0 : 1;
    }
    if (size() == _intervals.size()) {
        drop_oldest();
    }
    // The constructor guarantees rows <= _rows.size(), so this ends.
    while (size() != 0 && rows_in_use() + rows > _rows.size()) {
        drop_oldest();
        ++_dropped_early;
    }
    Interval& interval = _intervals[_next_interval % _intervals.size()];
    interval.end_ns = end_ns;
    interval.first_row = _next_row;
    interval.row_count = static_cast<std::uint32_t>(rows);
    for (std::size_t slot = 0; slot < _pending.size(); ++slot) {
        if (_pending[slot].empty()) {
            continue;
        }
        _rows[_next_row % _rows.size()] = Row{static_cast<std::uint32_t>(slot), _pending[slot]};
        ++_next_row;
        _pending[slot] = IntervalCounts{};
    }
    ++_next_interval;
}

std::size_t ServiceTimeline::memory_bytes() const noexcept {
    return _intervals.size() * sizeof(Interval) + _rows.size() * sizeof(Row) + _pending.size() * sizeof(IntervalCounts);
}

template <typename Fn>
void ServiceTimeline::for_each_selected(std::uint64_t last_ns, Fn&& fn) const {
    if (size() == 0) {
        return;
    }
    const std::uint64_t newest_end = interval_at(_next_interval - 1).end_ns;
    for (std::uint64_t pos = _oldest_interval; pos < _next_interval; ++pos) {
        const Interval& interval = interval_at(pos);
        if (last_ns != 0 && interval.end_ns + last_ns <= newest_end) {
            continue;
        }
        const std::size_t start = static_cast<std::size_t>(interval.first_row % _rows.size());
        const std::size_t first_part = std::min<std::size_t>(interval.row_count, _rows.size() - start);
        fn(interval, std::span<const Row>(_rows.data() + start, first_part),
           std::span<const Row>(_rows.data(), interval.row_count - first_part));
    }
}

json ServiceTimeline::to_json(std::optional<std::int32_t> service, std::uint64_t last_ns,
                              std::span<const std::string> names) const {
    // One rendering: the DOM is the text, parsed.
    return json::parse(to_json_text(service, last_ns, names));
}

std::string ServiceTimeline::to_json_text(std::optional<std::int32_t> service, std::uint64_t last_ns,
                                          std::span<const std::string> names) const {
    const std::optional<std::size_t> only = slot_filter(service);
    fmt::memory_buffer b;
    b.append(std::string_view("{\"interval_s\":"));
    append_json_double(b, static_cast<double>(_interval_ns) / 1e9);
    b.append(std::string_view(",\"points\":["));
    bool first_point = true;
    for_each_selected(last_ns, [&](const Interval& interval, std::span<const Row> a, std::span<const Row> c) {
        b.append(std::string_view(first_point ? "{\"t\":" : ",{\"t\":"));
        first_point = false;
        append_json_double(b, static_cast<double>(interval.end_ns) / 1e9);
        b.append(std::string_view(",\"services\":{"));
        bool first_row = true;
        for (const std::span<const Row> part : {a, c}) {
            for (const Row& row : part) {
                if (only && row.slot != *only) {
                    continue;
                }
                if (!first_row) {
                    b.push_back(',');
                }
                first_row = false;
                append_json_string(b, service_name(row.slot, names));
                fmt::format_to(std::back_inserter(b),
                               ":{{\"bytes_up\":{},\"bytes_down\":{},\"packets_up\":{},\"packets_down\":{},"
                               "\"flows\":{}}}",
                               row.counts.bytes_up, row.counts.bytes_down, row.counts.packets_up,
                               row.counts.packets_down, row.counts.flows);
            }
        }
        b.append(std::string_view("}}"));
    });
    b.append(std::string_view("]}"));
    return fmt::to_string(b);
}

std::string ServiceTimeline::to_text(std::optional<std::int32_t> service, std::uint64_t last_ns,
                                     std::span<const std::string> names) const {
    const std::optional<std::size_t> only = slot_filter(service);
    // TIME(21) SERVICE(28) FLOWS(9) BYTES UP(12) BYTES DOWN(12) = 82
    std::string out = fmt::format("{:<21}{:<28}{:>9}{:>12}{:>12}\n", "TIME (UTC)", "SERVICE", "FLOWS", "BYTES UP",
                                  "BYTES DOWN");
    std::size_t shown = 0;
    std::vector<const Row*> rows;
    for_each_selected(last_ns, [&](const Interval& interval, std::span<const Row> a, std::span<const Row> b) {
        rows.clear();
        for (const std::span<const Row> part : {a, b}) {
            for (const Row& row : part) {
                if (!only || row.slot == *only) {
                    rows.push_back(&row);
                }
            }
        }
        std::stable_sort(rows.begin(), rows.end(), [](const Row* x, const Row* y) {
            return x->counts.bytes_up + x->counts.bytes_down > y->counts.bytes_up + y->counts.bytes_down;
        });
        // The time once per interval: the rows under it read as one group.
        bool first = true;
        for (const Row* row : rows) {
            out += fmt::format("{:<21}{:<28}{:>9}{:>12}{:>12}\n", first ? utc_time(interval.end_ns) : "",
                               clip(service_name(row->slot, names), 27), row->counts.flows,
                               human_bytes(row->counts.bytes_up), human_bytes(row->counts.bytes_down));
            first = false;
            ++shown;
        }
    });
    if (shown == 0) {
        out += "no traffic in the selected intervals\n";
    }
    return out;
}

} // namespace wt::app::state
