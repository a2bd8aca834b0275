// The control socket's commands: one JSON request line in, one JSON response line out.
//
//   request:  {"command":"domains","args":{"top":10},"format":"table"|"json"}
//   response: {"ok":true,"result":...} (json) | {"ok":true,"text":"..."} (table) | {"ok":false,"error":"..."}
//
// Tables are rendered here, by the same code as the offline report, so that the
// live and the offline views of one traffic read the same.
#include "app/live/appliance_internal.hpp"
#include "app/report/format.hpp"
#include "app/control/server.hpp"
#include "app/report/names.hpp"
#include "app/live/state/timeline.hpp"
#include "app/live/telemetry.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <rte_version.h>

namespace wt::app {

using nlohmann::json;

namespace {

struct CommandInfo {
    const char* name;
    const char* args;
    const char* help;
};

// `args` in the form a ctl user types; the protocol takes the same names as JSON ("--top N" is
// "args":{"top":N}, LABEL is "args":{"label":"..."}).
constexpr CommandInfo kCommands[] = {
    {"stats", "", "ports (rx/tx, drops, imissed, rx_nombuf), workers (pps, busy share), flow tables, parse errors"},
    {"services", "", "per-service connections, clients, bytes each way, TLS versions, QUIC, DNS, ECH, DoT, HTTP"},
    {"domains", "[--top N]", "per-domain connections, bytes and clients, largest first"},
    {"clients", "[--top N]", "per (client, service) connections and bytes, largest first"},
    {"flows", "[--top N] [--service S]", "flows in progress and recently ended, largest first"},
    {"timeline", "[--service S] [--last SECONDS]", "per-service bytes and flows per stats interval"},
    {"mark", "LABEL", "new flows from now on carry this action label"},
    {"reload", "", "re-read the configuration's [services]; on error the current services stay"},
    {"snapshot", "", "write the tallies to the snapshot file now"},
    {"version", "", "wiretally and DPDK versions, uptime"},
    {"config", "", "the effective configuration"},
    {"help", "", "this list"},
};

// Renders into a string with the FILE*-based table code (open_memstream).
template <typename Fn>
std::string render_text(Fn&& fn) {
    char* buffer = nullptr;
    std::size_t size = 0;
    std::FILE* out = open_memstream(&buffer, &size);
    if (out == nullptr) {
        return "cannot render: out of memory\n";
    }
    fn(out);
    std::fclose(out);
    std::string text(buffer, size);
    std::free(buffer);
    return text;
}

std::string ok_result(json result) {
    return json{{"ok", true}, {"result", std::move(result)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string ok_text(std::string text) {
    return json{{"ok", true}, {"text", std::move(text)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string error_reply(std::string_view message) {
    return json{{"ok", false}, {"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Reads an optional non-negative integer argument; false with a message when it is not one.
bool size_arg(const json& args, const char* name, std::size_t& value, std::string& error) {
    if (!args.contains(name)) {
        return true;
    }
    const json& v = args[name];
    if (!v.is_number_integer() || v.get<long long>() < 0) {
        error = fmt::format("argument '{}' must be a non-negative integer", name);
        return false;
    }
    value = v.get<std::size_t>();
    return true;
}

bool string_arg(const json& args, const char* name, std::string& value, std::string& error) {
    if (!args.contains(name)) {
        return true;
    }
    if (!args[name].is_string()) {
        error = fmt::format("argument '{}' must be a string", name);
        return false;
    }
    value = args[name].get<std::string>();
    return true;
}

std::uint64_t total_bytes(const json& e) {
    return e.value("bytes_up", std::uint64_t{0}) + e.value("bytes_down", std::uint64_t{0});
}

} // namespace

Report Appliance::build_report() const {
    Report r;
    std::string ports;
    for (const OpenPort& p : _ports) {
        ports += fmt::format("{}{} ({})", ports.empty() ? "" : ", ", p.spec.name, p.spec.device);
    }
    r.input.file = fmt::format("live, {} mode: {}", _settings.inline_mode ? "inline" : "tap", ports);
    r.input.format = "live";
    r.input.first_ns = _started_ns;
    r.input.last_ns = _clock.now_ns();
    for (const auto& ctx : _workers) {
        r.input.records += ctx->last.rx_packets;
        r.counters.merge(ctx->last.counters);
        for (std::size_t i = 0; i < r.decode_drops.size(); ++i) {
            r.decode_drops[i] += ctx->last.drops[i];
        }
        r.mbuf.multi_segment += ctx->last.mbuf.multi_segment;
        r.mbuf.multi_segment_drops += ctx->last.mbuf.multi_segment_drops;
    }
    // The merge walks every slot of the cumulative tables (tens of ms): done at most once
    // per stats interval, however many clients ask.
    if (!_merged_cache || _merged_cache_epoch != _collect_epoch) {
        _merged_cache = pipeline::merge_tallies({_cumulative.get()});
        _merged_cache_epoch = _collect_epoch;
    }
    r.tally = *_merged_cache;
    if (r.tally.services.size() < _services.size() + 1) {
        r.tally.services.resize(_services.size() + 1);
    }
    r.services = _services.names();
    r.categories = _registry_categories;
    r.actions = _labels;
    const auto gen = _generations.find(_current_generation);
    r.services_origin = gen != _generations.end() ? gen->second->origin : std::string();
    r.workers = _workers.size();
    return r;
}

json Appliance::stats_json() const {
    const std::uint64_t now = _clock.now_ns();
    json j;
    j["uptime_s"] = static_cast<double>(now - _started_ns) / 1e9;
    j["mode"] = _settings.inline_mode ? "inline" : "tap";
    json ports = json::array();
    std::uint64_t tx_dropped_total = 0;
    for (const auto& ctx : _workers) {
        tx_dropped_total += ctx->last.tx_dropped;
    }
    for (const OpenPort& p : _ports) {
        const PortCounters c = read_port_counters(p);
        ports.push_back({{"name", p.spec.name},
                         {"device", p.spec.device},
                         {"driver", p.driver},
                         {"link_up", c.link_up},
                         {"speed_mbps", c.link_speed_mbps},
                         {"rx_packets", c.rx_packets},
                         {"rx_bytes", c.rx_bytes},
                         {"tx_packets", c.tx_packets},
                         {"tx_bytes", c.tx_bytes},
                         {"rx_dropped", c.rx_missed},
                         {"imissed", c.rx_missed},
                         {"rx_errors", c.rx_errors},
                         {"rx_nombuf", c.rx_nombuf},
                         {"tx_errors", c.tx_errors}});
    }
    j["ports"] = ports;
    json workers = json::array();
    std::uint64_t active = 0;
    std::uint64_t capacity = 0;
    pipeline::WorkerCounters counters;
    pipeline::DecodeDropCounts drops{};
    for (const auto& ctx : _workers) {
        const WorkerPublished& a = ctx->last;
        const WorkerPublished& b = ctx->previous;
        const double seconds = a.at_ns > b.at_ns ? static_cast<double>(a.at_ns - b.at_ns) / 1e9 : 0.0;
        const double pps = seconds > 0 ? static_cast<double>(a.rx_packets - b.rx_packets) / seconds : 0.0;
        const std::uint64_t cycles = a.total_cycles - b.total_cycles;
        const double busy = cycles != 0 ? 100.0 * static_cast<double>(a.busy_cycles - b.busy_cycles) /
                                              static_cast<double>(cycles)
                                        : 0.0;
        workers.push_back({{"worker", ctx->index},
                           {"lcore", ctx->lcore},
                           {"rx_packets", a.rx_packets},
                           {"tx_packets", a.tx_packets},
                           {"tx_dropped", a.tx_dropped},
                           {"pps", pps},
                           {"busy_percent", busy},
                           {"flows_active", a.active_flows},
                           {"flow_capacity", a.flow_capacity},
                           {"flows_evicted", a.counters.flows_evicted},
                           {"dns_ring_drops", a.dns_ring_drops},
                           {"flow_records_dropped", ctx->sink->dropped()},
                           {"lagging_intervals", ctx->lagging_intervals},
                           {"classifier_generation", ctx->adopted_generation},
                           {"memory_bytes", ctx->worker->memory_bytes() + ctx->spare->memory_bytes()}});
        active += a.active_flows;
        capacity += a.flow_capacity;
        counters.merge(a.counters);
        for (std::size_t i = 0; i < drops.size(); ++i) {
            drops[i] += a.drops[i];
        }
    }
    j["workers"] = workers;
    j["tx_dropped"] = tx_dropped_total;
    j["flows"] = {{"active", active},
                  {"capacity", capacity},
                  {"fill_percent", capacity != 0 ? 100.0 * static_cast<double>(active) / static_cast<double>(capacity)
                                                 : 0.0},
                  {"created", counters.flows_created},
                  {"ended", counters.flows_ended},
                  {"evicted", counters.flows_evicted},
                  {"table_full", counters.flow_table_full},
                  {"tally_table_full", _cumulative->table_full_drops()}};
    json errors = json::object();
    for (std::size_t i = 0; i < drops.size(); ++i) {
        if (drops[i] != 0) {
            errors[std::string(parsers::to_string(static_cast<parsers::DecodeStatus>(i)))] = drops[i];
        }
    }
    j["parse_errors"] = errors;
    OffloadCounters offload;
    std::uint64_t ring_cut = 0;
    for (const auto& ctx : _workers) {
        const OffloadCounters& o = ctx->last.offload;
        offload.checksums_completed += o.checksums_completed;
        offload.super_frames_cut += o.super_frames_cut;
        offload.segments_sent += o.segments_sent;
        offload.unsplittable_dropped += o.unsplittable_dropped;
        offload.segment_pool_empty += o.segment_pool_empty;
        ring_cut += ctx->last.mbuf.ring_cut_frames;
    }
    // af_packet ports: what Linux senders left to offload, finished in software (inline), and frames
    // longer than the socket's ring, counted by their IP length (tap and inline).
    j["offload"] = {{"checksums_completed", offload.checksums_completed},
                    {"super_frames_cut", offload.super_frames_cut},
                    {"segments_sent", offload.segments_sent},
                    {"unsplittable_dropped", offload.unsplittable_dropped},
                    {"segment_pool_empty", offload.segment_pool_empty},
                    {"ring_cut_frames", ring_cut}};
    json c = json::object();
    counters.for_each([&](std::string_view name, std::string_view, std::uint64_t v) { c[std::string(name)] = v; });
    j["counters"] = c;
    if (_server) {
        const ControlServerCounters sc = _server->counters();
        j["control"] = {{"accepted", sc.accepted},
                        {"rejected_too_many", sc.rejected_too_many},
                        {"requests", sc.requests},
                        {"oversized", sc.oversized},
                        {"idle_closed", sc.idle_closed},
                        {"slow_closed", sc.slow_closed},
                        {"http_requests", sc.http_requests},
                        {"http_errors", sc.http_errors},
                        {"open_connections", sc.open_connections}};
    }
    j["services"] = {{"generation", _current_generation},
                     {"reloads", _reloads},
                     {"reload_failures", _reload_failures},
                     {"registry", _services.size()}};
    j["snapshot"] = {{"file", _settings.snapshot_file},
                     {"written", _snapshots_written},
                     {"last_error", _last_snapshot_error},
                     {"resumed", _resume_note}};
    return j;
}

namespace {

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
    t += fmt::format("\n{:<8}{:>7}{:>13}{:>12}{:>7}{:>12}{:>12}{:>10}{:>10}\n", "WORKER", "LCORE", "RX PKTS", "PPS",
                     "BUSY%", "FLOWS", "CAPACITY", "EVICTED", "TX DROP");
    for (const json& w : s["workers"]) {
        t += fmt::format("{:<8}{:>7}{:>13}{:>12.0f}{:>7.1f}{:>12}{:>12}{:>10}{:>10}\n", w["worker"].get<unsigned>(),
                         w["lcore"].get<unsigned>(), w["rx_packets"].get<std::uint64_t>(), w["pps"].get<double>(),
                         w["busy_percent"].get<double>(), w["flows_active"].get<std::uint64_t>(),
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
                         "(slow), {} idle closed; metrics scrapes {}\n",
                         c["open_connections"].get<std::uint64_t>(), c["accepted"].get<std::uint64_t>(),
                         c["requests"].get<std::uint64_t>(), c["rejected_too_many"].get<std::uint64_t>(),
                         c["oversized"].get<std::uint64_t>(), c["slow_closed"].get<std::uint64_t>(),
                         c["idle_closed"].get<std::uint64_t>(), c["http_requests"].get<std::uint64_t>());
    }
    return t;
}

} // namespace

bool Appliance::service_filter(const std::string& name, std::optional<std::int32_t>& id, std::string& error) const {
    id.reset();
    if (name.empty()) {
        return true;
    }
    id = _services.find_ignoring_case(name);
    if (!id.has_value()) {
        error = fmt::format("no service named \"{}\" (wiretally ctl services lists them)", name.substr(0, 128));
        return false;
    }
    return true;
}

json Appliance::flows_json(std::size_t top, std::optional<std::int32_t> service) {
    const std::size_t unanswered = snapshot_live_flows();
    drain_flow_records(); // the ones that ended meanwhile
    // A flow in progress may not be named for its service yet (that happens when it is tallied):
    // its name so far is classified here, with the current services.
    const ClassifierGeneration& gen = *_generations.at(_current_generation);
    if (!_stats_scratch || _stats_scratch_generation != _current_generation) {
        _stats_scratch = std::make_unique<pipeline::ClassifierScratch>(*gen.classifier);
        _stats_scratch_generation = _current_generation;
    }
    struct Row {
        const pipeline::FlowRecord* record;
        std::int32_t service;  // stable id, -1 unclassified
        const char* state;
    };
    std::vector<Row> rows;
    std::uint64_t in_progress = 0;
    std::uint64_t not_listed = 0;
    for (const auto& ctx : _workers) {
        const FlowSnapshot& snap = ctx->snapshot;
        if (snap.done.load(std::memory_order_acquire) != snap.request.load(std::memory_order_relaxed)) {
            continue; // did not answer in time: counted in workers_not_answering
        }
        not_listed += snap.truncated;
        for (const pipeline::FlowRecord& r : snap.flows) {
            std::int32_t stable = -1;
            if (!r.name.empty()) {
                const std::int32_t index = _stats_scratch->classify(r.name.view());
                if (index >= 0 && static_cast<std::size_t>(index) < gen.to_stable.size()) {
                    stable = gen.to_stable[static_cast<std::size_t>(index)];
                }
            }
            ++in_progress;
            rows.push_back({&r, stable, pipeline::Worker::is_closing(r.flow) ? "closing" : "active"});
        }
    }
    for (auto it = _recent_flows.rbegin(); it != _recent_flows.rend(); ++it) {
        rows.push_back({&*it, it->flow.service, "ended"});
    }
    if (service.has_value()) {
        std::erase_if(rows, [&](const Row& row) { return row.service != *service; });
    }
    const auto bytes = [](const Row& row) { return row.record->flow.bytes_up + row.record->flow.bytes_down; };
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return bytes(a) > bytes(b); });
    const std::size_t matching = rows.size();
    if (rows.size() > top) {
        rows.resize(top);
    }
    const std::uint64_t now = _clock.now_ns();
    json out = json::array();
    for (const Row& row : rows) {
        const pipeline::FlowRecord* r = row.record;
        const pipeline::Flow& f = r->flow;
        const pipeline::Endpoint server = f.server();
        json e;
        e["state"] = row.state;
        e["name"] = r->name.empty() ? json(nullptr) : json(std::string(r->name.view()));
        e["name_source"] = r->name_source == pipeline::NameSource::kNone ? json(nullptr)
                                                                         : json(pipeline::to_string(r->name_source));
        e["service"] = row.service < 0 ? json(nullptr) : json(service_name(row.service));
        e["action"] = f.action >= 1 && f.action <= _labels.size() ? json(_labels[f.action - 1u]) : json(nullptr);
        e["app"] = r->app == pipeline::AppProto::kUnknown ? json(nullptr) : json(pipeline::to_string(r->app));
        e["proto"] = f.key.proto == 6 ? "tcp" : f.key.proto == 17 ? "udp" : std::to_string(f.key.proto);
        e["client"] = ip_text(f.client().ip);
        e["client_port"] = f.client().port;
        e["server"] = ip_text(server.ip);
        e["server_port"] = server.port;
        e["pkts_up"] = f.pkts_up;
        e["pkts_down"] = f.pkts_down;
        e["bytes_up"] = f.bytes_up;
        e["bytes_down"] = f.bytes_down;
        e["ts_first"] = static_cast<double>(f.ts_first_ns) / 1e9;
        e["ts_last"] = static_cast<double>(f.ts_last_ns) / 1e9;
        e["idle_s"] = now > f.ts_last_ns ? static_cast<double>(now - f.ts_last_ns) / 1e9 : 0.0;
        e["tls_version"] = r->server_hello ? json(tls_version_text(r->tls_version)) : json(nullptr);
        e["cipher"] = r->server_hello ? json(tls_cipher_text(r->cipher)) : json(nullptr);
        e["alpn"] = r->alpn.empty() ? json(nullptr) : json(std::string(r->alpn.view()));
        e["ech"] = r->ech;
        e["doh"] = r->doh;
        e["quic_version"] = r->quic_version != 0 ? json(quic_version_text(r->quic_version)) : json(nullptr);
        out.push_back(std::move(e));
    }
    return json{{"flows", out},
                {"matching", matching},
                {"in_progress", in_progress},
                {"in_progress_not_listed", not_listed},
                {"workers_not_answering", unanswered},
                {"recent_flows_kept", _recent_flows.size()},
                {"flows_seen", _flow_records_seen}};
}

namespace {

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
    const auto clip = [](const std::string& s, std::size_t w) {
        return s.size() < w ? s : s.substr(0, w - 2) + "~";
    };
    std::string t = fmt::format("{:<8}{:<{}}{:<{}}{:<{}}{:>11}{:>11}{:>9}\n", "STATE", "NAME", name_w, "SERVICE",
                                service_w, "SERVER", server_w, "BYTES UP", "BYTES DOWN", "TLS");
    for (const json& e : flows["flows"]) {
        t += fmt::format("{:<8}{:<{}}{:<{}}{:<{}}{:>11}{:>11}{:>9}\n", e["state"].get<std::string>(),
                         clip(text(e["name"]), name_w), name_w, clip(text(e["service"]), service_w), service_w,
                         clip(server_of(e), server_w), server_w, human_bytes(e["bytes_up"].get<std::uint64_t>()),
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

} // namespace

std::string Appliance::handle_request(std::string_view line) {
    try {
        return dispatch_request(line);
    } catch (const json::exception& e) {
        // A value the request carries that JSON cannot hold as asked (1e400 for an integer).
        return error_reply(fmt::format("bad request: {}", e.what()));
    }
}

std::string Appliance::dispatch_request(std::string_view line) {
    json request;
    try {
        request = json::parse(line);
    } catch (const json::parse_error& e) {
        return error_reply(fmt::format("request is not JSON (byte {}): send one object per line, e.g. "
                                       "{{\"command\":\"help\"}}",
                                       e.byte));
    }
    if (!request.is_object() || !request.contains("command") || !request["command"].is_string()) {
        return error_reply("request must be an object with a string \"command\"");
    }
    const std::string command = request["command"].get<std::string>();
    const json args = request.contains("args") ? request["args"] : json::object();
    if (!args.is_object()) {
        return error_reply("\"args\" must be an object");
    }
    std::string format = "json";
    if (request.contains("format")) {
        if (!request["format"].is_string() ||
            (request["format"].get<std::string>() != "json" && request["format"].get<std::string>() != "table")) {
            return error_reply("\"format\" is \"json\" or \"table\"");
        }
        format = request["format"].get<std::string>();
    }
    const bool table = format == "table";
    std::string error;

    if (command == "help") {
        json list = json::array();
        std::string text = "commands (wiretally ctl COMMAND --help):\n";
        for (const CommandInfo& c : kCommands) {
            list.push_back({{"command", c.name}, {"args", c.args}, {"help", c.help}});
            text += fmt::format("  {:<10}{:<32}{}\n", c.name, c.args, c.help);
        }
        return table ? ok_text(text) : ok_result(json{{"commands", list}});
    }
    if (command == "version") {
        json v = {{"wiretally", WIRETALLY_VERSION},
                  {"dpdk", rte_version()},
                  {"uptime_s", static_cast<double>(_clock.now_ns() - _started_ns) / 1e9}};
        return table ? ok_text(fmt::format("wiretally {} ({}), up {:.0f} s\n", WIRETALLY_VERSION, rte_version(),
                                           v["uptime_s"].get<double>()))
                     : ok_result(v);
    }
    if (command == "config") {
        return table ? ok_text(_settings.config_json.dump(2) + "\n") : ok_result(_settings.config_json);
    }
    if (command == "stats") {
        const json s = stats_json();
        return table ? ok_text(render_stats_table(s)) : ok_result(s);
    }
    if (command == "services") {
        const Report r = build_report();
        if (table) {
            return ok_text(render_text([&](std::FILE* out) {
                render_table(r, out, TableOptions{40, 100, kSectionHeader | kSectionServices | kSectionTls});
            }));
        }
        const json full = report_to_json(r);
        return ok_result(json{{"services", full["services"]},
                              {"total", full["total"]},
                              {"services_file", full["services_file"]},
                              {"generation", _current_generation}});
    }
    if (command == "domains" || command == "clients") {
        std::size_t top = 40;
        if (!size_arg(args, "top", top, error)) {
            return error_reply(error);
        }
        const Report r = build_report();
        if (table) {
            TableOptions opt;
            opt.sections = command == "domains" ? kSectionDomains : kSectionClients;
            opt.top_domains = top;
            opt.top_clients = top;
            return ok_text(render_text([&](std::FILE* out) { render_table(r, out, opt); }));
        }
        json rows = report_to_json(r)[command];
        std::vector<json> sorted(rows.begin(), rows.end());
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const json& a, const json& b) { return total_bytes(a) > total_bytes(b); });
        if (sorted.size() > top) {
            sorted.resize(top);
        }
        return ok_result(json{{command, sorted}, {"total_rows", rows.size()}});
    }
    if (command == "flows") {
        std::size_t top = 40;
        std::string service;
        std::optional<std::int32_t> filter;
        if (!size_arg(args, "top", top, error) || !string_arg(args, "service", service, error) ||
            !service_filter(service, filter, error)) {
            return error_reply(error);
        }
        const json flows = flows_json(top, filter);
        return table ? ok_text(render_flows_table(flows)) : ok_result(flows);
    }
    if (command == "timeline") {
        std::string service;
        std::size_t last_s = 300;
        if (!string_arg(args, "service", service, error) || !size_arg(args, "last", last_s, error)) {
            return error_reply(error);
        }
        std::optional<std::int32_t> filter;
        if (!service_filter(service, filter, error)) {
            return error_reply(error);
        }
        const std::uint64_t last_ns = static_cast<std::uint64_t>(last_s) * 1'000'000'000ull;
        if (table) {
            return ok_text(_timeline->to_text(filter, last_ns, _services.names()));
        }
        // An hour of intervals is megabytes of JSON: written directly as text, not built
        // as a json tree first (about 5x faster).
        return "{\"ok\":true,\"result\":" + _timeline->to_json_text(filter, last_ns, _services.names()) + "}";
    }
    if (command == "mark") {
        std::string label;
        if (!string_arg(args, "label", label, error)) {
            return error_reply(error);
        }
        std::string message;
        if (!mark(label, message)) {
            return error_reply(message);
        }
        return table ? ok_text(message + "\n") : ok_result(json{{"action", label}, {"message", message}});
    }
    if (command == "reload") {
        std::string message;
        if (!reload(message)) {
            return error_reply(message);
        }
        return table ? ok_text(message + "\n")
                     : ok_result(json{{"message", message}, {"generation", _current_generation}});
    }
    if (command == "snapshot") {
        std::string message;
        if (!save_snapshot_now(message)) {
            return error_reply(message);
        }
        return table ? ok_text(message + "\n")
                     : ok_result(json{{"message", message}, {"file", _settings.snapshot_file}});
    }
    return error_reply(fmt::format("unknown command \"{}\" (try help)", command.substr(0, 64)));
}

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
