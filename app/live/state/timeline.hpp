// ServiceTimeline: per-service traffic per interval over a fixed history (e.g. one
// day of 1 s intervals), for `ctl timeline` and the live view.
//
// What an interval holds: the packets and bytes that passed in it, by stable service id
// (the live workers tally every flow's part of each stats interval into that interval's
// tally; a flow still waiting for its name joins the interval it is named in), and the
// connections that began in it.
//
// Memory is fixed at construction. Most services are idle in most intervals, so a
// dense slots x services grid would mostly hold zeros (86400 x 257 x 40 B = 0.9 GB);
// instead the non-zero (interval, service) rows go into one ring of rows shared by
// all intervals, sized slots x rows_per_slot (+ room for one full interval). When a
// busy period uses up the rows, the oldest intervals are dropped early: the history
// gets shorter, the memory does not grow. Services can be added by a reload (stable
// ids are append-only): ids below max_services are recorded, rows for larger ids are
// dropped and counted in rows_over_service_cap(); pick max_services with headroom,
// it only costs 40 bytes per id.
//
// Stats side only: add/close/push allocate nothing, the queries allocate freely.
#pragma once

#include "pipeline/tally/tally.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wt::app::state {

struct IntervalCounts {
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint64_t packets_up = 0;
    std::uint64_t packets_down = 0;
    std::uint64_t flows = 0; ///< connections opened (TransferStats::connections)

    void add(const pipeline::TransferStats& s) noexcept;
    void add(const IntervalCounts& c) noexcept;
    [[nodiscard]] bool empty() const noexcept {
        return (bytes_up | bytes_down | packets_up | packets_down | flows) == 0;
    }
};

class ServiceTimeline {
public:
    static constexpr std::size_t kMaxSlots = 86400;
    static constexpr std::size_t kDefaultRowsPerSlot = 8;

    // slots: intervals kept (history / interval), 1..kMaxSlots. interval_ns > 0.
    // Throws std::invalid_argument otherwise.
    ServiceTimeline(std::size_t slots, std::uint64_t interval_ns, std::size_t max_services,
                    std::size_t rows_per_slot = kDefaultRowsPerSlot);

    // Adds a retired worker tally's per-service counts to the open interval; the
    // tally's service index i is stable id service_map[i] (as for CoreTally::absorb).
    void add(const pipeline::CoreTally& retired, std::span<const std::int32_t> service_map) noexcept;
    // Ends the open interval at end_ns (epoch ns, non-decreasing) and starts the next.
    void close_interval(std::uint64_t end_ns) noexcept;
    // One call for an interval already summed: per_service[stable id + 1], index 0 =
    // unclassified (CoreTally::services() layout). Adds to the open interval and closes it.
    void push(std::uint64_t end_ns, std::span<const pipeline::TransferStats> per_service) noexcept;

    // Queries. service: a stable id, -1 = unclassified, nullopt = all. last_ns: only
    // intervals ending within last_ns of the newest interval's end; 0 = all kept.
    // names: by stable id (ServiceRegistry::names()); an id without one shows "#id".
    //
    // {"interval_s":1.0,"points":[{"t":<end, epoch s>,"services":{"Name":{"bytes_up":..,
    //  "bytes_down":..,"packets_up":..,"packets_down":..,"flows":..}}}]}
    // Every kept interval is a point (an idle one has "services":{}), so a gap in the
    // traffic reads as zero rather than as missing data; zero service rows are left out.
    [[nodiscard]] nlohmann::json to_json(std::optional<std::int32_t> service, std::uint64_t last_ns,
                                         std::span<const std::string> names) const;
    // The same document as compact text, written directly: for the control socket,
    // where a day of points as a DOM would cost ~100x the time (a DOM of 3600 x 20
    // rows takes ~0.3 s to build).
    [[nodiscard]] std::string to_json_text(std::optional<std::int32_t> service, std::uint64_t last_ns,
                                           std::span<const std::string> names) const;
    // The same selection as an aligned table for people: time (UTC), service, flows,
    // bytes up/down (1000-based units), busiest service first within an interval.
    [[nodiscard]] std::string to_text(std::optional<std::int32_t> service, std::uint64_t last_ns,
                                      std::span<const std::string> names) const;

    [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(_next_interval - _oldest_interval); }
    [[nodiscard]] std::size_t slots() const noexcept { return _intervals.size(); }
    [[nodiscard]] std::uint64_t interval_ns() const noexcept { return _interval_ns; }
    [[nodiscard]] std::size_t max_services() const noexcept { return _pending.size() - 1; }
    [[nodiscard]] std::size_t row_capacity() const noexcept { return _rows.size(); }
    [[nodiscard]] std::size_t rows_in_use() const noexcept;
    // Intervals dropped before their time because the row ring was full.
    [[nodiscard]] std::uint64_t intervals_dropped_early() const noexcept { return _dropped_early; }
    [[nodiscard]] std::uint64_t rows_over_service_cap() const noexcept { return _over_cap; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

private:
    struct Row {
        std::uint32_t slot = 0; ///< stable id + 1; 0 = unclassified
        IntervalCounts counts;
    };
    struct Interval {
        std::uint64_t end_ns = 0;
        std::uint64_t first_row = 0; ///< position in the row ring, counted from the start
        std::uint32_t row_count = 0;
    };

    void add_to_slot(std::size_t slot, const pipeline::TransferStats& s) noexcept;
    void drop_oldest() noexcept;
    [[nodiscard]] const Interval& interval_at(std::uint64_t position) const noexcept {
        return _intervals[position % _intervals.size()];
    }
    // Visits the selected intervals oldest first: fn(const Interval&, std::span<const Row>
    // rows-part-1, std::span<const Row> rows-part-2) (a wrapped interval comes in two parts).
    template <typename Fn>
    void for_each_selected(std::uint64_t last_ns, Fn&& fn) const;

    std::uint64_t _interval_ns;
    std::vector<Interval> _intervals;  // ring, capacity = slots
    std::vector<Row> _rows;            // ring shared by all intervals
    std::vector<IntervalCounts> _pending; // the open interval, by stable id + 1
    std::uint64_t _oldest_interval = 0;   // positions counted from the start
    std::uint64_t _next_interval = 0;
    std::uint64_t _next_row = 0;
    std::uint64_t _dropped_early = 0;
    std::uint64_t _over_cap = 0;
};

} // namespace wt::app::state
