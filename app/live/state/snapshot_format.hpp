// What the snapshot writer (snapshot_write.cpp) and reader (snapshot_read.cpp) share:
// the names they use and the value that stands for "never seen". Not a public interface.
#pragma once

#include "app/live/state/snapshot.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace wt::app::state::snapshot_format {

// A TransferStats whose first_ns is this has seen no packet: the file omits first_ns.
inline constexpr std::uint64_t kNoFirstSeen = std::numeric_limits<std::uint64_t>::max();

inline std::string errno_text(int err) {
    return std::strerror(err);
}

} // namespace wt::app::state::snapshot_format
