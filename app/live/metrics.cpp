// Prometheus text exposition (format 0.0.4) of the appliance's tallies and counters.
//
// Label cardinality is bounded: services are a configured catalog, but a catalog
// can be large, so only the max_services largest get their own series and the
// rest are summed into service="other". Domains and clients are never labels
// (unbounded); `ctl domains` and `ctl clients` serve them.
#include "app/live/appliance_internal.hpp"
#include "app/control/server.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <rte_version.h>

namespace wt::app {

std::string prometheus_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c; break;
        }
    }
    return out;
}

namespace {

class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        _text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
        if (labels.empty()) {
            _text += fmt::format("{} {}\n", name, value);
        } else {
            _text += fmt::format("{}{{{}}} {}\n", name, labels, value);
        }
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        if (labels.empty()) {
            _text += fmt::format("{} {}\n", name, value);
        } else {
            _text += fmt::format("{}{{{}}} {}\n", name, labels, value);
        }
    }
    std::string take() { return std::move(_text); }

private:
    std::string _text;
};

struct ServiceSeries {
    std::string label;
    pipeline::TransferStats stats;
};

} // namespace

std::string Appliance::render_metrics() const {
    Exposition x;

    // Services, largest first; beyond the cap, summed as "other".
    std::vector<ServiceSeries> series;
    const auto& services = _cumulative->services();
    std::vector<std::size_t> order;
    for (std::size_t i = 1; i < services.size(); ++i) {
        if (services[i].connections != 0 || services[i].bytes_up + services[i].bytes_down != 0) {
            order.push_back(i);
        }
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return services[a].bytes_up + services[a].bytes_down > services[b].bytes_up + services[b].bytes_down;
    });
    ServiceSeries other{"other", {}};
    bool have_other = false;
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::size_t i = order[k];
        if (k < _settings.metrics_max_services) {
            series.push_back({prometheus_escape(service_name(static_cast<std::int32_t>(i - 1))), services[i]});
        } else {
            other.stats.merge(services[i]);
            have_other = true;
        }
    }
    if (have_other) {
        series.push_back(std::move(other));
    }
    if (!services.empty()) {
        series.push_back({"unclassified", services[0]});
    }

    x.family("wiretally_service_bytes_total", "counter", "IP bytes of finished (and long-running) flows per service");
    for (const auto& s : series) {
        x.sample("wiretally_service_bytes_total", fmt::format("service=\"{}\",direction=\"up\"", s.label),
                 s.stats.bytes_up);
        x.sample("wiretally_service_bytes_total", fmt::format("service=\"{}\",direction=\"down\"", s.label),
                 s.stats.bytes_down);
    }
    x.family("wiretally_service_packets_total", "counter", "packets per service");
    for (const auto& s : series) {
        x.sample("wiretally_service_packets_total", fmt::format("service=\"{}\",direction=\"up\"", s.label),
                 s.stats.pkts_up);
        x.sample("wiretally_service_packets_total", fmt::format("service=\"{}\",direction=\"down\"", s.label),
                 s.stats.pkts_down);
    }
    x.family("wiretally_service_flows_total", "counter", "connections (flows) per service");
    for (const auto& s : series) {
        x.sample("wiretally_service_flows_total", fmt::format("service=\"{}\"", s.label), s.stats.connections);
    }
    x.family("wiretally_service_tls_flows_total", "counter", "flows per service by negotiated TLS version");
    for (const auto& s : series) {
        for (std::size_t v = 0; v < s.stats.tls_versions.size(); ++v) {
            if (s.stats.tls_versions[v] != 0) {
                x.sample("wiretally_service_tls_flows_total",
                         fmt::format("service=\"{}\",version=\"{}\"", s.label,
                                     pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(v))),
                         std::uint64_t{s.stats.tls_versions[v]});
            }
        }
    }
    const pipeline::TransferStats& total = _cumulative->total();
    x.family("wiretally_tls_version_flows_total", "counter", "flows by negotiated TLS version (none: no ServerHello)");
    for (std::size_t v = 0; v < total.tls_versions.size(); ++v) {
        x.sample("wiretally_tls_version_flows_total",
                 fmt::format("version=\"{}\"", pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(v))),
                 std::uint64_t{total.tls_versions[v]});
    }
    std::string kinds;
    total.for_each_count([&](std::string_view kind, pipeline::TransferRole role, std::string_view, std::uint64_t) {
        if (role == pipeline::TransferRole::kFlowKind) {
            kinds += kinds.empty() ? "" : ", ";
            kinds += kind;
        }
    });
    x.family("wiretally_flows_by_kind_total", "counter", fmt::format("flows by kind: {}", kinds));
    total.for_each_count([&](std::string_view kind, pipeline::TransferRole role, std::string_view, std::uint64_t n) {
        if (role == pipeline::TransferRole::kFlowKind) {
            x.sample("wiretally_flows_by_kind_total", fmt::format("kind=\"{}\"", kind), n);
        }
    });

    // Ports.
    x.family("wiretally_port_rx_packets_total", "counter", "packets received by the port");
    std::vector<std::pair<std::string, PortCounters>> ports;
    for (const OpenPort& p : _ports) {
        ports.emplace_back(prometheus_escape(p.spec.name), read_port_counters(p));
    }
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_rx_packets_total", fmt::format("port=\"{}\"", name), c.rx_packets);
    }
    x.family("wiretally_port_rx_bytes_total", "counter", "bytes received by the port");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_rx_bytes_total", fmt::format("port=\"{}\"", name), c.rx_bytes);
    }
    x.family("wiretally_port_tx_packets_total", "counter", "packets sent by the port");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_tx_packets_total", fmt::format("port=\"{}\"", name), c.tx_packets);
    }
    x.family("wiretally_port_tx_bytes_total", "counter", "bytes sent by the port");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_tx_bytes_total", fmt::format("port=\"{}\"", name), c.tx_bytes);
    }
    x.family("wiretally_port_rx_missed_total", "counter", "packets the NIC dropped for lack of RX descriptors (imissed)");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_rx_missed_total", fmt::format("port=\"{}\"", name), c.rx_missed);
    }
    x.family("wiretally_port_rx_nombuf_total", "counter", "RX mbuf allocation failures");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_rx_nombuf_total", fmt::format("port=\"{}\"", name), c.rx_nombuf);
    }
    x.family("wiretally_port_errors_total", "counter", "port errors by direction");
    for (const auto& [name, c] : ports) {
        x.sample("wiretally_port_errors_total", fmt::format("port=\"{}\",direction=\"rx\"", name), c.rx_errors);
        x.sample("wiretally_port_errors_total", fmt::format("port=\"{}\",direction=\"tx\"", name), c.tx_errors);
    }

    // Workers.
    x.family("wiretally_worker_packets_total", "counter", "packets received by the worker");
    for (const auto& ctx : _workers) {
        x.sample("wiretally_worker_packets_total", fmt::format("worker=\"{}\"", ctx->index), ctx->last.rx_packets);
    }
    x.family("wiretally_worker_tx_dropped_total", "counter", "packets the worker could not send (TX ring full), freed");
    for (const auto& ctx : _workers) {
        x.sample("wiretally_worker_tx_dropped_total", fmt::format("worker=\"{}\"", ctx->index), ctx->last.tx_dropped);
    }
    x.family("wiretally_worker_busy_ratio", "gauge", "share of the worker's loop time spent on packets, last interval");
    for (const auto& ctx : _workers) {
        const std::uint64_t cycles = ctx->last.total_cycles - ctx->previous.total_cycles;
        const double busy = cycles != 0 ? static_cast<double>(ctx->last.busy_cycles - ctx->previous.busy_cycles) /
                                              static_cast<double>(cycles)
                                        : 0.0;
        x.sample("wiretally_worker_busy_ratio", fmt::format("worker=\"{}\"", ctx->index), busy);
    }
    x.family("wiretally_flows_active", "gauge", "flows in the worker's table");
    for (const auto& ctx : _workers) {
        x.sample("wiretally_flows_active", fmt::format("worker=\"{}\"", ctx->index), ctx->last.active_flows);
    }
    pipeline::WorkerCounters counters;
    pipeline::DecodeDropCounts drops{};
    for (const auto& ctx : _workers) {
        counters.merge(ctx->last.counters);
        for (std::size_t i = 0; i < drops.size(); ++i) {
            drops[i] += ctx->last.drops[i];
        }
    }
    x.family("wiretally_worker_events_total", "counter", "worker counters summed over workers, by name");
    counters.for_each([&](std::string_view name, std::string_view, std::uint64_t v) {
        x.sample("wiretally_worker_events_total", fmt::format("counter=\"{}\"", name), v);
    });
    x.family("wiretally_parse_errors_total", "counter", "packets dropped by a decode error, by reason");
    for (std::size_t i = 0; i < drops.size(); ++i) {
        if (drops[i] != 0) {
            x.sample("wiretally_parse_errors_total",
                     fmt::format("reason=\"{}\"", parsers::to_string(static_cast<parsers::DecodeStatus>(i))), drops[i]);
        }
    }
    if (_export) {
        const clickhouse::ExportStatus s = _export->status();
        const std::pair<std::string_view, std::pair<std::uint64_t, std::uint64_t>> states[] = {
            {"sent", {s.rows_sent - s.rows_replayed, s.batches_sent - s.batches_replayed}},
            {"spooled", {s.rows_spooled, s.batches_spooled}},
            {"replayed", {s.rows_replayed, s.batches_replayed}},
            {"dropped", {s.rows_dropped, s.batches_dropped}}};
        // Each family's samples right after its HELP and TYPE (the exposition format keeps a family together).
        x.family("wiretally_export_rows_total", "counter",
                 "ClickHouse rows: sent (first try), spooled (to disk, ClickHouse not answering), replayed (from the "
                 "spool), dropped (the spool full)");
        for (const auto& [state, counts] : states) {
            x.sample("wiretally_export_rows_total", fmt::format("state=\"{}\"", state), counts.first);
        }
        x.family("wiretally_export_batches_total", "counter", "ClickHouse batches, by the same states as the rows");
        for (const auto& [state, counts] : states) {
            x.sample("wiretally_export_batches_total", fmt::format("state=\"{}\"", state), counts.second);
        }
        x.family("wiretally_export_send_failures_total", "counter", "ClickHouse requests that failed");
        x.sample("wiretally_export_send_failures_total", "", s.send_failures);
        x.family("wiretally_export_spool_bytes", "gauge", "bytes of batches waiting in the spool");
        x.sample("wiretally_export_spool_bytes", "", s.spool_bytes);
        x.family("wiretally_export_spool_rows", "gauge", "rows of batches waiting in the spool");
        x.sample("wiretally_export_spool_rows", "", s.spool_rows);
        x.family("wiretally_export_last_sent_timestamp_seconds", "gauge",
                 "when ClickHouse last took a batch (Unix time; 0: never)");
        x.sample("wiretally_export_last_sent_timestamp_seconds", "", s.last_sent_unix);
    }
    if (_remote_writer) {
        const remote_write::Status s = _remote_writer->status();
        x.family("wiretally_remote_write_requests_total", "counter",
                 "Prometheus remote write requests: sent (a receiver took it), failed (each attempt), dropped (given up)");
        x.sample("wiretally_remote_write_requests_total", "state=\"sent\"", s.writes_sent);
        x.sample("wiretally_remote_write_requests_total", "state=\"failed\"", s.writes_failed);
        x.sample("wiretally_remote_write_requests_total", "state=\"dropped\"", s.writes_dropped);
        x.family("wiretally_remote_write_samples_total", "counter", "samples in remote write requests a receiver took");
        x.sample("wiretally_remote_write_samples_total", "", s.samples_sent);
    }
    x.family("wiretally_uptime_seconds", "gauge", "seconds since start");
    x.sample("wiretally_uptime_seconds", "", static_cast<double>(_clock.now_ns() - _started_ns) / 1e9);
    x.family("wiretally_services_reloads_total", "counter", "successful services reloads");
    x.sample("wiretally_services_reloads_total", "", _reloads);
    x.family("wiretally_build_info", "gauge", "version of wiretally and DPDK");
    x.sample("wiretally_build_info",
             fmt::format("version=\"{}\",dpdk=\"{}\"", WIRETALLY_VERSION, prometheus_escape(rte_version())),
             std::uint64_t{1});
    return x.take();
}

} // namespace wt::app
