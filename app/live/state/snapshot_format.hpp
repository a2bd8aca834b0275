// What the snapshot writer (snapshot_write.cpp) and reader (snapshot_read.cpp) share:
// the tally types they name and the value that stands for "never seen". Not a public interface.
#pragma once

#include "app/live/state/snapshot.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace wt::app::state::snapshot_format {

using pipeline::ActionDomainKey;
using pipeline::ActionDomainTally;
using pipeline::DeviceHint;
using pipeline::DeviceHintKey;
using pipeline::AlpnSlot;
using pipeline::ClientDomainKey;
using pipeline::ClientServiceKey;
using pipeline::ClientTally;
using pipeline::CoreTally;
using pipeline::DomainKey;
using pipeline::DomainKeyHash;
using pipeline::DomainTally;
using pipeline::IpAddr;
using pipeline::ServerNameKey;
using pipeline::ServerNameTally;
using pipeline::TlsVersionSlot;
using pipeline::TransferStats;

// A TransferStats whose first_ns is this has seen no packet: the file omits first_ns.
inline constexpr std::uint64_t kNoFirstSeen = std::numeric_limits<std::uint64_t>::max();

inline std::string errno_text(int err) {
    return std::strerror(err);
}

} // namespace wt::app::state::snapshot_format
