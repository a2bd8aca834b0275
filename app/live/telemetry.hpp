// DPDK telemetry: the appliance's main read-only views, readable with the standard
// `dpdk-telemetry.py` client (/wiretally/stats, /wiretally/services, /wiretally/ports,
// /wiretally/version). Telemetry answers from its own thread, so it reads a copy the
// stats core publishes once per interval under a mutex (never the workers' tables).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wt::app {

struct TelemetryView {
    std::vector<std::pair<std::string, std::uint64_t>> stats;
    std::vector<std::pair<std::string, std::uint64_t>> services; // total bytes per service
    std::vector<std::pair<std::string, std::uint64_t>> ports;    // "<port>.<counter>"
};

// DPDK accepts dictionary keys of letters, digits, '_' and '/' only (rte_telemetry.h):
// anything else becomes '_' ("Google Maps" -> "Google_Maps").
std::string telemetry_key(std::string_view name);

// Registers the commands once per process (DPDK has no unregister).
void register_telemetry();
// Replaces the published copy; an empty view after shutdown.
void publish_telemetry_view(TelemetryView view);
void unregister_telemetry();

} // namespace wt::app
