// The on-disk spool of batches ClickHouse has not taken yet (issue #19): a folder of files, one batch a
// file, named so that they sort in the order they were made:
//   SEQUENCE-TABLE-ROWS-BATCHID.jsonl     (SEQUENCE 20 digits, TABLE flows|intervals)
// A file is written whole under a temporary name, synced, then renamed: a crash leaves a whole batch or
// none. Bounded in bytes: a batch that does not fit pushes out the oldest ones, counted as dropped; the
// spool replays oldest first. Files that do not follow the pattern are left alone and counted.
// Not thread-safe: one owner (the exporter thread).
#pragma once

#include "app/export/export_rows.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace wt::app::clickhouse {

struct SpoolCounters {
    std::uint64_t batches_dropped = 0; // pushed out (or refused) for want of space
    std::uint64_t rows_dropped = 0;
    std::uint64_t write_errors = 0;    // a batch that could not be written (disk full, permissions): dropped too
    std::uint64_t foreign_files = 0;   // files in the folder that are not batches (left alone)
};

class Spool {
public:
    // max_bytes 0: the spool keeps nothing (every batch offered is dropped and counted).
    Spool(std::string directory, std::uint64_t max_bytes);

    // Creates the folder if needed and reads what an earlier run left; false with `error` when the folder
    // cannot be made or read (the spool then keeps nothing).
    bool open(std::string& error);

    // Keeps a batch at the end of the queue; false when it was dropped (too large, or not writable: see
    // last_error()).
    bool push(const Batch& batch);
    // The oldest batch, read back; nullopt when the spool is empty. A file that cannot be read is
    // removed, counted as dropped, and the next one tried.
    [[nodiscard]] std::optional<Batch> front();
    // Removes the oldest batch (after it was sent).
    void pop();

    [[nodiscard]] bool empty() const noexcept { return _files.empty(); }
    [[nodiscard]] std::size_t batches() const noexcept { return _files.size(); }
    [[nodiscard]] std::uint64_t rows() const noexcept { return _rows; }
    [[nodiscard]] std::uint64_t bytes() const noexcept { return _bytes; }
    [[nodiscard]] const SpoolCounters& counters() const noexcept { return _counters; }
    [[nodiscard]] const std::string& last_error() const noexcept { return _last_error; }
    [[nodiscard]] const std::string& directory() const noexcept { return _directory; }

private:
    struct Entry {
        std::string path;
        Table table;
        std::uint32_t rows;
        std::uint64_t id;
        std::uint64_t bytes;
    };
    void drop_oldest();

    std::string _directory;
    std::uint64_t _max_bytes;
    bool _usable = false;
    std::deque<Entry> _files;
    std::uint64_t _next_sequence = 0;
    std::uint64_t _bytes = 0;
    std::uint64_t _rows = 0;
    SpoolCounters _counters;
    std::string _last_error;
};

} // namespace wt::app::clickhouse
