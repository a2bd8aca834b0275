#include "app/live/telemetry.hpp"

#include "app/live/appliance_internal.hpp"

#include <mutex>
#include <rte_telemetry.h>
#include <rte_version.h>

namespace wt::app {

namespace {

std::mutex g_mutex;
TelemetryView g_view;
bool g_live = false;
bool g_registered = false;

// Telemetry dictionaries hold at most RTE_TEL_MAX_DICT_ENTRIES entries with names
// under RTE_TEL_MAX_STRING_LEN: longer lists are cut, longer names clipped.
int reply_dict(const std::vector<std::pair<std::string, std::uint64_t>>& rows, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    std::size_t n = 0;
    for (const auto& [name, value] : rows) {
        if (n++ == RTE_TEL_MAX_DICT_ENTRIES) {
            break;
        }
        // Keys are sanitised when the view is built; a refusal here would be a bug, so
        // the reply says so rather than silently dropping the entry.
        if (rte_tel_data_add_dict_u64(d, name.c_str(), value) != 0) {
            return -1;
        }
    }
    return 0;
}

int on_stats(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) {
        return -1;
    }
    return reply_dict(g_view.stats, d);
}

int on_services(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) {
        return -1;
    }
    return reply_dict(g_view.services, d);
}

int on_ports(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) {
        return -1;
    }
    return reply_dict(g_view.ports, d);
}

int on_version(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "wiretally", WIRETALLY_VERSION);
    rte_tel_data_add_dict_string(d, "dpdk", rte_version());
    return 0;
}

} // namespace

std::string telemetry_key(std::string_view name) {
    std::string key(name.substr(0, RTE_TEL_MAX_STRING_LEN - 1));
    for (char& c : key) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '/';
        if (!allowed) {
            c = '_';
        }
    }
    return key;
}

void register_telemetry() {
    std::lock_guard lock(g_mutex);
    g_live = true;
    if (g_registered) {
        return;
    }
    g_registered = true;
    rte_telemetry_register_cmd("/wiretally/stats", on_stats,
                               "wiretally: uptime, packets, flows, drops (totals over ports and workers)");
    rte_telemetry_register_cmd("/wiretally/services", on_services, "wiretally: bytes (up + down) per service");
    rte_telemetry_register_cmd("/wiretally/ports", on_ports, "wiretally: per-port rx/tx counters");
    rte_telemetry_register_cmd("/wiretally/version", on_version, "wiretally: version of wiretally and DPDK");
}

void publish_telemetry_view(TelemetryView view) {
    std::lock_guard lock(g_mutex);
    g_view = std::move(view);
}

void unregister_telemetry() {
    std::lock_guard lock(g_mutex);
    g_live = false;
    g_view = {};
}

// The appliance's part: what it shows through the endpoints above, refreshed each stats interval.
void Appliance::publish_telemetry() {
    if (!_settings.telemetry) {
        return;
    }
    TelemetryView view;
    std::uint64_t rx = 0;
    std::uint64_t tx = 0;
    std::uint64_t tx_dropped = 0;
    std::uint64_t active = 0;
    for (const auto& ctx : _workers) {
        rx += ctx->last.rx_packets;
        tx += ctx->last.tx_packets;
        tx_dropped += ctx->last.tx_dropped;
        active += ctx->last.active_flows;
    }
    view.stats = {{"uptime_s", (_clock.now_ns() - _started_ns) / 1'000'000'000ull},
                  {"workers", _workers.size()},
                  {"rx_packets", rx},
                  {"tx_packets", tx},
                  {"tx_dropped", tx_dropped},
                  {"flows_active", active},
                  {"flows_tallied", _cumulative->total().connections},
                  {"bytes_up", _cumulative->total().bytes_up},
                  {"bytes_down", _cumulative->total().bytes_down},
                  {"classifier_generation", _current_generation}};
    const auto& services = _cumulative->services();
    for (std::size_t i = 0; i < services.size(); ++i) {
        if (services[i].connections != 0) {
            view.services.emplace_back(
                telemetry_key(i == 0 ? std::string("unclassified") : service_name(static_cast<std::int32_t>(i - 1))),
                services[i].bytes_up + services[i].bytes_down);
        }
    }
    for (const OpenPort& p : _ports) {
        const PortCounters c = read_port_counters(p);
        const std::string port = telemetry_key(p.spec.name);
        view.ports.emplace_back(port + "_rx_packets", c.rx_packets);
        view.ports.emplace_back(port + "_tx_packets", c.tx_packets);
        view.ports.emplace_back(port + "_imissed", c.rx_missed);
        view.ports.emplace_back(port + "_rx_nombuf", c.rx_nombuf);
    }
    publish_telemetry_view(std::move(view));
}

} // namespace wt::app
