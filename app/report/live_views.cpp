#include "app/report/live_views.hpp"

#include "app/report/format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace wt::app {

using nlohmann::json;

std::string render_stats_table(const json& s) {
    std::string t = fmt::format("uptime {:.0f} s, {} mode\n\n", s["uptime_s"].get<double>(), s["mode"].get<std::string>());
    t += fmt::format("{:<12}{:<22}{:>13}{:>13}{:>13}{:>13}{:>10}{:>10}\n", "PORT", "DEVICE", "RX PKTS", "RX BYTES",
                     "TX PKTS", "TX BYTES", "IMISSED", "NOMBUF");
    for (const json& p : s["ports"]) {
        t += fmt::format("{:<12}{:<22}{:>13}{:>13}{:>13}{:>13}{:>10}{:>10}\n", p["name"].get<std::string>(),
                         p["device"].get<std::string>().substr(0, 21), p["rx_packets"].get<std::uint64_t>(),
                         p["rx_bytes"].get<std::uint64_t>(), p["tx_packets"].get<std::uint64_t>(),
                         p["tx_bytes"].get<std::uint64_t>(), p["imissed"].get<std::uint64_t>(),
                         p["rx_nombuf"].get<std::uint64_t>());
    }
    t += fmt::format("\n{:<8}{:>7}{:>13}{:>12}{:>7}{:>12}{:>12}{:>12}{:>10}{:>10}\n", "WORKER", "LCORE", "RX PKTS",
                     "PPS", "BUSY%", "CREATED", "FLOWS", "CAPACITY", "EVICTED", "TX DROP");
    for (const json& w : s["workers"]) {
        t += fmt::format("{:<8}{:>7}{:>13}{:>12.0f}{:>7.1f}{:>12}{:>12}{:>12}{:>10}{:>10}\n", w["worker"].get<unsigned>(),
                         w["lcore"].get<unsigned>(), w["rx_packets"].get<std::uint64_t>(), w["pps"].get<double>(),
                         w["busy_percent"].get<double>(), w["flows_created"].get<std::uint64_t>(),
                         w["flows_active"].get<std::uint64_t>(),
                         w["flow_capacity"].get<std::uint64_t>(), w["flows_evicted"].get<std::uint64_t>(),
                         w["tx_dropped"].get<std::uint64_t>());
    }
    const json& f = s["flows"];
    t += fmt::format("\nflows: {} active of {} ({:.1f} %), {} created, {} ended, {} evicted\n",
                     f["active"].get<std::uint64_t>(), f["capacity"].get<std::uint64_t>(),
                     f["fill_percent"].get<double>(), f["created"].get<std::uint64_t>(),
                     f["ended"].get<std::uint64_t>(), f["evicted"].get<std::uint64_t>());
    if (s["parse_errors"].empty()) {
        t += "parse errors: none\n";
    } else {
        t += "parse errors:\n";
        for (const auto& [name, n] : s["parse_errors"].items()) {
            t += fmt::format("  {:<40}{:>12}\n", name, n.get<std::uint64_t>());
        }
    }
    if (const json& o = s["offload"]; o["checksums_completed"].get<std::uint64_t>() + o["super_frames_cut"].get<std::uint64_t>() +
                                          o["ring_cut_frames"].get<std::uint64_t>() + o["unsplittable_dropped"].get<std::uint64_t>() !=
                                      0) {
        t += fmt::format("offload (af_packet): {} partial checksums completed, {} super-frames cut into {} frames, {} "
                         "dropped (not cuttable), {} segments lost (no mbuf), {} frames longer than the ring counted by "
                         "their IP length\n",
                         o["checksums_completed"].get<std::uint64_t>(), o["super_frames_cut"].get<std::uint64_t>(),
                         o["segments_sent"].get<std::uint64_t>(), o["unsplittable_dropped"].get<std::uint64_t>(),
                         o["segment_pool_empty"].get<std::uint64_t>(), o["ring_cut_frames"].get<std::uint64_t>());
    }
    if (s.contains("control")) {
        const json& c = s["control"];
        t += fmt::format("control: {} open, {} accepted, {} requests, {} refused (too many), {} oversized, {} cut off "
                         "(slow), {} idle closed\n",
                         c["open_connections"].get<std::uint64_t>(), c["accepted"].get<std::uint64_t>(),
                         c["requests"].get<std::uint64_t>(), c["rejected_too_many"].get<std::uint64_t>(),
                         c["oversized"].get<std::uint64_t>(), c["slow_closed"].get<std::uint64_t>(),
                         c["idle_closed"].get<std::uint64_t>());
    }
    if (s.contains("http") && s["http"].is_object()) {
        const json& h = s["http"];
        t += fmt::format("http: {} ({} requests, {} answered with an error; connections: {} cut off (too slow), {} "
                         "refused (too many))\n",
                         h["url"].get<std::string>(), h["requests"].get<std::uint64_t>(), h["errors"].get<std::uint64_t>(),
                         h["cut_off"].get<std::uint64_t>(), h["refused"].get<std::uint64_t>());
    }
    const auto u64 = [](const json& v) { return v.is_number() ? v.get<std::uint64_t>() : std::uint64_t{0}; };
    const auto text_or = [](const json& v, std::string_view absent) {
        return v.is_string() ? v.get<std::string>() : std::string(absent);
    };
    if (s.contains("clickhouse") && s["clickhouse"].is_object()) {
        const json& c = s["clickhouse"];
        t += fmt::format("clickhouse: {} ({}), appliance {}{}: {} rows sent in {} batches, {} spooled, {} replayed, {} "
                         "dropped; spool {} rows, {}; {} failed requests{}\n",
                         c["url"].get<std::string>(), text_or(c["server_version"], "not reached yet"),
                         c["appliance"].get<std::string>(),
                         c["site"].get<std::string>().empty() ? "" : ", site " + c["site"].get<std::string>(),
                         u64(c["rows_sent"]), u64(c["batches_sent"]), u64(c["rows_spooled"]), u64(c["rows_replayed"]),
                         u64(c["rows_dropped"]), u64(c["spool_rows"]), human_bytes(u64(c["spool_bytes"])),
                         u64(c["send_failures"]),
                         c["last_error"].is_string() ? "; last error: " + c["last_error"].get<std::string>() : "");
    }
    if (s.contains("remote_write") && s["remote_write"].is_object()) {
        const json& r = s["remote_write"];
        t += fmt::format("remote write: {} requests sent ({} samples), {} failed, {} dropped, {} queued{}\n",
                         u64(r["writes_sent"]), u64(r["samples_sent"]), u64(r["writes_failed"]),
                         u64(r["writes_dropped"]), u64(r["queued"]),
                         r["last_error"].is_string() ? "; last error: " + r["last_error"].get<std::string>() : "");
    }
    return t;
}

// `ctl flows` for people: one row a flow, columns sized to what they show within 100 characters.
std::string render_flows_table(const json& flows) {
    const auto text = [](const json& v) { return v.is_null() ? std::string("-") : v.get<std::string>(); };
    const auto server_of = [](const json& e) {
        const std::string ip = e["server"].get<std::string>();
        const unsigned port = e["server_port"].get<unsigned>();
        return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
    };
    std::size_t name_w = 5, service_w = 8, server_w = 7;
    for (const json& e : flows["flows"]) {
        name_w = std::max(name_w, text(e["name"]).size() + 1);
        service_w = std::max(service_w, text(e["service"]).size() + 1);
        server_w = std::max(server_w, server_of(e).size() + 1);
    }
    // STATE(8) BYTES UP(11) BYTES DOWN(11) TLS(9) = 39: names first, then the server, then the service.
    name_w = std::min<std::size_t>(name_w, 41);
    server_w = std::min<std::size_t>(server_w, 100 - 39 - name_w - 10);
    service_w = std::max<std::size_t>(10, std::min<std::size_t>(service_w, 100 - 39 - name_w - server_w));
    // Each column keeps a space after its text.
    const auto fit = [](const std::string& s, std::size_t w) { return clip(s, w - 1); };
    std::string t = fmt::format("{:<8}{:<{}}{:<{}}{:<{}}{:>11}{:>11}{:>9}\n", "STATE", "NAME", name_w, "SERVICE",
                                service_w, "SERVER", server_w, "BYTES UP", "BYTES DOWN", "TLS");
    for (const json& e : flows["flows"]) {
        t += fmt::format("{:<8}{:<{}}{:<{}}{:<{}}{:>11}{:>11}{:>9}\n", e["state"].get<std::string>(),
                         fit(text(e["name"]), name_w), name_w, fit(text(e["service"]), service_w), service_w,
                         fit(server_of(e), server_w), server_w, human_bytes(e["bytes_up"].get<std::uint64_t>()),
                         human_bytes(e["bytes_down"].get<std::uint64_t>()), text(e["tls_version"]));
    }
    t += fmt::format("({} shown of {}: {} in progress, the last {} ended kept{}{})\n", flows["flows"].size(),
                     flows["matching"].get<std::uint64_t>(), flows["in_progress"].get<std::uint64_t>(),
                     flows["recent_flows_kept"].get<std::uint64_t>(),
                     flows["in_progress_not_listed"].get<std::uint64_t>() != 0
                         ? fmt::format("; {} in progress not listed", flows["in_progress_not_listed"].get<std::uint64_t>())
                         : std::string(),
                     flows["workers_not_answering"].get<std::uint64_t>() != 0
                         ? fmt::format("; {} worker(s) busy, their flows in progress missing",
                                       flows["workers_not_answering"].get<std::uint64_t>())
                         : std::string());
    return t;
}

} // namespace wt::app
