// Rows for ClickHouse (issue #19) in JSONEachRow: one JSON object a line, with exactly the columns of
// clickhouse_schema.hpp. A batch is the unit that is sent, spooled and replayed; each of its rows
// carries the appliance, the batch id and its number in the batch (the deduplication key).
#pragma once

#include "app/export/clickhouse_schema.hpp"
#include "app/ipdb/ip_database.hpp"
#include "app/report/json_writer.hpp"
#include "app/report/report.hpp"
#include "pipeline/flow_record.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <string_view>

namespace wt::app::clickhouse {

// Who writes: on every row.
struct RowOrigin {
    std::string appliance;
    std::string site;
};

struct Batch {
    Table table = Table::kFlows;
    std::uint64_t id = 0;   // unique per appliance: see BatchWriter
    std::uint32_t rows = 0;
    std::string body;       // JSONEachRow: rows, each ending in '\n'
};

// What a flow record alone does not say: its names, resolved on the stats side.
struct FlowRowNames {
    std::string_view service; // empty: unclassified
    std::string_view action;  // empty: none
    const Hosting* hosting = nullptr;
};

// Fills one batch of one table at a time. A new batch's id is the wall clock in nanoseconds, kept strictly
// increasing, so that an appliance's ids never repeat across restarts (a restart takes longer than 1 ns)
// and sort in the order the batches were made.
class BatchWriter {
public:
    BatchWriter(Table table, RowOrigin origin) : _table(table), _origin(std::move(origin)) {}

    void add_flow(const pipeline::FlowRecord& record, const FlowRowNames& names);
    // The report's tables as interval rows of [start_s, end_s): one per service with connections, domain,
    // client, server name, action row and device.
    void add_intervals(const Report& interval, std::uint64_t start_s, std::uint64_t end_s);

    [[nodiscard]] std::uint32_t rows() const noexcept { return _batch.rows; }
    [[nodiscard]] std::size_t bytes() const noexcept { return _batch.body.size(); }
    // When the open batch began (wall clock ns); 0 when it has no rows.
    [[nodiscard]] std::uint64_t opened_ns() const noexcept { return _batch.rows == 0 ? 0 : _batch.id; }
    // Closes the open batch and returns it (rows 0: there was none).
    [[nodiscard]] Batch take();

    // For tests: the clock the ids come from.
    void set_clock_for_test(std::uint64_t (*now_ns)()) { _now_ns = now_ns; }

private:
    // A row: the object with its identity (appliance, site, batch_id, row; a new batch's id first) ...
    void begin_row(JsonWriter& w);
    // ... and, once the caller wrote its columns into _line, the row closed and appended to the batch.
    void end_row(JsonWriter& w);

    // The `start` column's text, kept for the second it was made for: flows of one batch mostly began in
    // a handful of seconds, and gmtime and formatting cost more than the rest of a row's fields.
    const std::string& start_text(std::uint64_t epoch_s);

    Table _table;
    RowOrigin _origin;
    Batch _batch;
    fmt::memory_buffer _line; // one row, reused: no allocation per row once it has grown
    std::size_t _last_bytes = 0; // the largest batch so far: the next one's reservation
    std::uint64_t _start_s = UINT64_MAX;
    std::string _start_text;
    std::uint64_t _last_id = 0;
    std::uint64_t (*_now_ns)() = nullptr;
};

// "YYYY-MM-DD hh:mm:ss" in UTC: ClickHouse's DateTime text (the columns are DateTime('UTC')).
[[nodiscard]] std::string datetime_text(std::uint64_t epoch_s);

} // namespace wt::app::clickhouse
