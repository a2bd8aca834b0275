// Snapshots: the cumulative stats-side tally on disk, so `resume = true` carries
// the totals across restarts.
//
// Format: one JSON document, {"format":"wiretally-snapshot","version":1,...}, one
// entry per line. Services are stored by NAME (a service index means nothing once
// the services file changes); action entries by label. Domain names are byte
// strings from the wire, so each byte is written as the code point of the same
// value (ASCII stays readable, any other byte becomes \u00XX) and reads back
// exactly; service names and labels are written as UTF-8 text.
//
// Stats side only: everything here allocates and does file I/O.
#pragma once

#include "pipeline/tally/tally.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wt::app::state {

inline constexpr std::string_view kSnapshotFormat = "wiretally-snapshot";
inline constexpr std::uint64_t kSnapshotVersion = 1;
// A larger file is refused unread: a snapshot of full default tables is far smaller.
inline constexpr std::uint64_t kMaxSnapshotBytes = 1ull << 30;

struct SnapshotMeta {
    std::uint64_t saved_at_s = 0;   ///< epoch seconds; set by load_snapshot (save writes the current time)
    std::uint64_t started_at_s = 0; ///< epoch seconds when the cumulative tally began; kept across resumes
    std::string version;            ///< wiretally version that wrote the snapshot
};

// What a snapshot holds. The daemon may keep its cumulative state in one of these
// (registry names, action labels, tally), so a save copies nothing; a load fills a
// fresh one, sized with the daemon's TallyLimits, to swap in on success.
struct SnapshotContent {
    explicit SnapshotContent(const pipeline::TallyLimits& limits) : tally(0, limits) {}

    SnapshotMeta meta;
    std::vector<std::string> service_names; ///< stable id -> name; tally.services()[id + 1]
    std::vector<std::string> action_labels; ///< tally action a (1-based) -> action_labels[a - 1]
    pipeline::CoreTally tally;
    // Set by load_snapshot: entries that did not fit the tally's limits (also counted
    // in tally.table_full_drops()). Non-zero when the limits shrank since the save.
    std::uint64_t entries_not_restored = 0;
};

// The same, borrowed, for a daemon that keeps the pieces in different places.
struct SnapshotSource {
    const SnapshotMeta& meta;
    std::span<const std::string> service_names;
    std::span<const std::string> action_labels;
    const pipeline::CoreTally& tally;
};

// Writes the snapshot atomically: PATH.tmp.PID in the same directory, fsync, rename
// over PATH, fsync the directory. Creates the parent directory when missing. On a
// failure before the rename the previous snapshot is untouched and the temporary
// file removed; `error` says which step failed, with strerror. (A failed directory
// fsync after the rename returns false too: the new file is in place but its
// durability is not guaranteed.) Fails, writing nothing, if the tally refers to a
// service id without a name or an action without a label: that is a daemon bug.
bool save_snapshot(const std::string& path, const SnapshotSource& content, std::string& error);
bool save_snapshot(const std::string& path, const SnapshotContent& content, std::string& error);

enum class LoadStatus : std::uint8_t {
    kLoaded,  ///< `out` holds the snapshot
    kMissing, ///< no file at PATH: normal on a first start with resume = true
    kError,   ///< unreadable or invalid; `error` = "PATH: reason"; `out` is left empty
};

// Reads and strictly validates a snapshot (format, version, every type, range and
// key; unknown keys are errors). `out.tally` is cleared first and keeps its limits.
// A service name or action label used by an entry but missing from the lists is
// appended to them (service_names / action_labels), never an error.
LoadStatus load_snapshot(const std::string& path, SnapshotContent& out, std::string& error);

// The parsing half of load_snapshot, on text already in memory; `origin` prefixes
// error messages. Returns kLoaded or kError.
LoadStatus parse_snapshot(std::string_view text, std::string_view origin, SnapshotContent& out, std::string& error);

} // namespace wt::app::state
