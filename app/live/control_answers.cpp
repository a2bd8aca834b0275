// The live appliance's answers to the control commands (app/control/commands.hpp), on the stats
// core: the data comes from here, the tables from app/report, so that the live and the offline
// views of one traffic read the same.
#include "app/control/server.hpp"
#include "app/live/appliance_internal.hpp"
#include "app/live/state/timeline.hpp"
#include "app/report/html_report.hpp"
#include "app/report/json_writer.hpp"
#include "app/report/live_views.hpp"
#include "app/report/names.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <rte_version.h>

namespace wt::app {

using nlohmann::json;

namespace {

constexpr std::size_t kDashboardRows = 1000; // ctl report: rows a table keeps
constexpr std::uint64_t kDashboardWatchNs = 10'000'000'000ull; // a dashboard polls every 3 s

std::uint64_t total_bytes(const json& e) {
    return e.value("bytes_up", std::uint64_t{0}) + e.value("bytes_down", std::uint64_t{0});
}

} // namespace

void Appliance::refresh_merged() const {
    if (!_merged_cache || _merged_cache_epoch != _collect_epoch) {
        _merged_cache = pipeline::merge_tallies({_cumulative.get()});
        _merged_cache_epoch = _collect_epoch;
    }
}

Report Appliance::build_report() const {
    Report r;
    // The merge walks every slot of the cumulative tables (tens of ms): done at most once
    // per stats interval, however many clients ask.
    refresh_merged();
    fill_report_tables(r, *_merged_cache);
    fill_report_header(r);
    return r;
}

void Appliance::fill_report_header(Report& r) const {
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
    r.services = _services.names();
    r.categories = _registry_categories;
    r.actions = _labels;
    const auto gen = _generations.find(_current_generation);
    r.services_origin = gen != _generations.end() ? gen->second->origin : std::string();
    r.workers = _workers.size();
}

namespace {

// What fill_report_tables does, from values alone: the dashboard builder runs it on its own thread.
void fill_tables(Report& r, pipeline::MergedTally merged, std::size_t service_slots, const IpDatabases& ip_databases,
                 const OuiRegistry& oui) {
    r.tally = std::move(merged);
    if (r.tally.services.size() < service_slots) {
        r.tally.services.resize(service_slots);
    }
    add_hosting(r, ip_databases);
    add_devices(r, oui);
}

// The dashboard's tables: each table's largest rows (the page draws 500 of them at first; `ctl domains`,
// `clients` and the others give any table whole), and no clients (the page's devices group them; `ctl
// clients` lists them).
Report make_dashboard_tables(pipeline::MergedTally merged, std::size_t service_slots, const IpDatabases& ip_databases,
                             const OuiRegistry& oui) {
    Report t;
    fill_tables(t, std::move(merged), service_slots, ip_databases, oui);
    keep_largest_rows(t, kDashboardRows);
    if (!t.tally.clients.empty()) {
        Report::LeftOut left = t.left_out.value_or(Report::LeftOut{});
        left.clients += t.tally.clients.size();
        t.left_out = left;
        t.tally.clients.clear();
    }
    return t;
}

} // namespace

void Appliance::fill_report_tables(Report& r, pipeline::MergedTally merged) const {
    fill_tables(r, std::move(merged), service_slots(), _ip_databases, _oui);
}

Report Appliance::dashboard_tables() const {
    // Built by the builder shortly before this request was due (older while a build runs, or when the
    // dashboard asked sooner than its period), as long as a dashboard keeps watching.
    if (_dashboard_builder && _clock.now_ns() < _dashboard_watched_until) {
        auto [built, epoch] = _dashboard_builder->latest();
        if (built && epoch + kDashboardWatchNs / std::max<std::uint64_t>(_settings.stats_interval_ns, 1) >= _collect_epoch) {
            return *built;
        }
    }
    // No dashboard watched lately: built here, once an interval.
    if (!_dashboard_tables || _dashboard_tables_epoch != _collect_epoch) {
        refresh_merged();
        _dashboard_tables = make_dashboard_tables(*_merged_cache, service_slots(), _ip_databases, _oui);
        _dashboard_tables_epoch = _collect_epoch;
    }
    return *_dashboard_tables;
}

void Appliance::start_dashboard_build() {
    if (!_dashboard_builder) {
        _dashboard_builder = std::make_unique<DashboardBuilder>();
    }
    _dashboard_builder->start(_collect_epoch, [cumulative = _cumulative.get(), slots = service_slots(),
                                               &ip_databases = _ip_databases, &oui = _oui] {
        return make_dashboard_tables(pipeline::merge_tallies({cumulative}), slots, ip_databases, oui);
    });
}

void Appliance::wait_for_dashboard_build() {
    if (_dashboard_builder) {
        _dashboard_builder->wait();
    }
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
        // What a packet cost the worker over the last interval: TSC cycles of the loop iterations that
        // received packets (receive, parse, tally, forward) per packet received; null when none came.
        const std::uint64_t received = a.rx_packets - b.rx_packets;
        const json cycles_per_packet =
            received != 0 ? json(static_cast<double>(a.busy_cycles - b.busy_cycles) / static_cast<double>(received))
                          : json(nullptr);
        workers.push_back({{"worker", ctx->index},
                           {"lcore", ctx->lcore},
                           {"rx_packets", a.rx_packets},
                           {"tx_packets", a.tx_packets},
                           {"tx_dropped", a.tx_dropped},
                           {"pps", pps},
                           {"busy_percent", busy},
                           {"busy_cycles", a.busy_cycles},
                           {"cycles_per_packet", cycles_per_packet},
                           {"flows_active", a.active_flows},
                           {"flows_created", a.counters.flows_created},
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
                        {"open_connections", sc.open_connections}};
    }
    if (_http_listener) {
        const HttpGatewayCounters hc = _http_listener->counters();
        j["http"] = {{"url", _http_url},
                     {"requests", hc.requests},
                     {"errors", hc.errors},
                     {"cut_off", hc.cut_off},
                     {"refused", hc.refused},
                     {"unguarded", hc.unguarded}};
    } else {
        j["http"] = nullptr;
    }
    j["services"] = {{"generation", _current_generation},
                     {"reloads", _reloads},
                     {"reload_failures", _reload_failures},
                     {"registry", _services.size()}};
    j["snapshot"] = {{"file", _settings.snapshot_file},
                     {"written", _snapshots_written},
                     {"last_error", _last_snapshot_error},
                     {"resumed", _resume_note}};
    if (_export) {
        json ch = clickhouse::status_json(_export->status());
        ch["appliance"] = _settings.fleet.appliance;
        ch["site"] = _settings.fleet.site;
        ch["spool"] = _settings.clickhouse.spool;
        j["clickhouse"] = std::move(ch);
    } else {
        j["clickhouse"] = nullptr;
    }
    if (_remote_writer) {
        json rw = remote_write::status_json(_remote_writer->status());
        rw["url"] = _settings.remote_write.urls;
        j["remote_write"] = std::move(rw);
    } else {
        j["remote_write"] = nullptr;
    }
    return j;
}

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

FlowSelection Appliance::select_flows(std::size_t top, std::optional<std::int32_t> service) {
    FlowSelection selection;
    // Without a service filter each worker keeps only its `top` largest flows (the largest of all are
    // among them); with one, every flow is needed to tell which are the service's.
    selection.unanswered = snapshot_live_flows(service.has_value() ? 0 : top);
    drain_flow_records(); // the ones that ended meanwhile
    // A flow in progress may not be named for its service yet (that happens when it is tallied):
    // its name so far is classified here, with the current services.
    const ClassifierGeneration& gen = *_generations.at(_current_generation);
    if (!_stats_scratch || _stats_scratch_generation != _current_generation) {
        _stats_scratch = std::make_unique<pipeline::ClassifierScratch>(*gen.classifier);
        _stats_scratch_generation = _current_generation;
    }
    const auto classify = [&](const pipeline::FlowRecord& r) {
        if (!r.name.empty()) {
            const std::int32_t index = _stats_scratch->classify(r.name.view());
            if (index >= 0 && static_cast<std::size_t>(index) < gen.to_stable.size()) {
                return gen.to_stable[static_cast<std::size_t>(index)];
            }
        }
        return std::int32_t{-1};
    };
    constexpr std::int32_t kNotClassifiedYet = INT32_MIN;
    std::vector<FlowRow>& rows = selection.rows;
    for (const auto& ctx : _workers) {
        const FlowSnapshot& snap = ctx->snapshot;
        if (snap.done.load(std::memory_order_acquire) != snap.request.load(std::memory_order_relaxed)) {
            continue; // did not answer in time: counted in workers_not_answering
        }
        selection.not_listed += snap.truncated;
        selection.in_progress += snap.visited - snap.truncated;
        for (const pipeline::FlowRecord& r : snap.flows) {
            rows.push_back({&r, service.has_value() ? classify(r) : kNotClassifiedYet,
                            pipeline::Worker::is_closing(r.flow) ? "closing" : "active"});
        }
    }
    for (auto it = _recent_flows.rbegin(); it != _recent_flows.rend(); ++it) {
        rows.push_back({&*it, it->flow.service, "ended"});
    }
    if (service.has_value()) {
        std::erase_if(rows, [&](const FlowRow& row) { return row.service != *service; });
        selection.matching = rows.size();
    } else {
        // The workers' flows beyond their `top` are not listed but match.
        selection.matching = selection.in_progress + _recent_flows.size();
    }
    const auto bytes = [](const FlowRow& row) { return row.record->flow.bytes_up + row.record->flow.bytes_down; };
    // The `top` largest only are sorted (a dashboard asks for 1000 of 100k flows): ties keep the order
    // rows were listed in, as a stable sort of all of them would.
    const auto larger = [&](const FlowRow& a, const FlowRow& b) {
        return bytes(a) != bytes(b) ? bytes(a) > bytes(b) : a.listed < b.listed;
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].listed = i;
    }
    if (rows.size() > top) {
        std::nth_element(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top), rows.end(), larger);
        rows.resize(top);
    }
    std::sort(rows.begin(), rows.end(), larger);
    for (FlowRow& row : rows) {
        if (row.service == kNotClassifiedYet) {
            row.service = classify(*row.record);
        }
    }
    return selection;
}

json Appliance::flows_json(const FlowSelection& selection) const {
    const std::vector<FlowRow>& rows = selection.rows;
    const std::uint64_t now = _clock.now_ns();
    json out = json::array();
    for (const FlowRow& row : rows) {
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
        e["proto"] = ip_proto_text(f.key.proto);
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
        e["ech"] = pipeline::to_string(r->ech);
        e["doh"] = r->doh;
        e["quic_version"] = r->quic_version != 0 ? json(quic_version_text(r->quic_version)) : json(nullptr);
        out.push_back(std::move(e));
    }
    return json{{"flows", out},
                {"matching", selection.matching},
                {"in_progress", selection.in_progress},
                {"in_progress_not_listed", selection.not_listed},
                {"workers_not_answering", selection.unanswered},
                {"recent_flows_kept", _recent_flows.size()},
                {"flows_seen", _flow_records_seen}};
}

std::string Appliance::answer(std::string_view request_line) { return answer_control_request(request_line, *this); }

std::string Appliance::stats(const ControlRequest& request) {
    const json s = stats_json();
    return request.table ? control_text(render_stats_table(s)) : control_result(s);
}

std::string Appliance::services(const ControlRequest& request) {
    const Report r = build_report();
    if (request.table) {
        return control_text(render_table_text(r, TableOptions{40, 100, kSectionHeader | kSectionServices | kSectionTls}));
    }
    const json full = report_to_json(r);
    return control_result(json{{"services", full["services"]},
                               {"total", full["total"]},
                               {"services_file", full["services_file"]},
                               {"generation", _current_generation}});
}

std::string Appliance::report_rows(const ControlRequest& request, unsigned section, const char* key) {
    const Report r = build_report();
    if (request.table) {
        TableOptions opt;
        opt.sections = section;
        opt.top_domains = request.top;
        opt.top_clients = request.top;
        opt.top_servers = request.top;
        return control_text(render_table_text(r, opt));
    }
    json rows = report_to_json(r)[key];
    std::vector<json> sorted(rows.begin(), rows.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const json& a, const json& b) { return total_bytes(a) > total_bytes(b); });
    if (sorted.size() > request.top) {
        sorted.resize(request.top);
    }
    return control_result(json{{key, sorted}, {"total_rows", rows.size()}});
}

std::string Appliance::domains(const ControlRequest& request) { return report_rows(request, kSectionDomains, "domains"); }

std::string Appliance::clients(const ControlRequest& request) { return report_rows(request, kSectionClients, "clients"); }

std::string Appliance::servers(const ControlRequest& request) { return report_rows(request, kSectionServers, "servers"); }

std::string Appliance::devices(const ControlRequest& request) {
    if (request.device.empty()) {
        return report_rows(request, kSectionDevices, "devices");
    }
    const auto mac = parse_mac(request.device);
    if (!mac) {
        return control_error(fmt::format("--device: \"{}\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
                                         request.device.substr(0, 64)));
    }
    const std::string wanted = mac_text(mac->data());
    const Report r = build_report();
    const auto found = std::find_if(r.devices.begin(), r.devices.end(),
                                    [&](const Device& d) { return d.has_mac && d.mac == *mac; });
    if (found == r.devices.end()) {
        return control_error(fmt::format("no device with MAC {} (ctl devices lists them)", wanted));
    }
    if (request.table) {
        TableOptions opt;
        opt.sections = kSectionDevices;
        opt.device = wanted;
        return control_text(render_table_text(r, opt));
    }
    const json all = report_to_json(r)["devices"];
    for (const json& d : all) {
        if (d.value("mac", json()) == wanted) {
            return control_result(json{{"device", d}});
        }
    }
    return control_error(fmt::format("no device with MAC {} (ctl devices lists them)", wanted));
}

// The analyst marks actions live: the label under way shows at once, before any flow carries it.
std::string Appliance::actions(const ControlRequest& request) {
    const Report r = build_report();
    const std::uint16_t current = _current_action.load(std::memory_order_relaxed);
    const std::string under_way = current != 0 && current <= _labels.size() ? _labels[current - 1] : std::string();
    if (request.table) {
        TableOptions opt;
        opt.sections = kSectionActions;
        opt.top_domains = request.top;
        return control_text(fmt::format("action under way: {}\n", under_way.empty() ? "(none marked)" : under_way) +
                            render_table_text(r, opt));
    }
    // Every action, each with its `top` largest names.
    json actions = report_to_json(r)["actions"];
    std::size_t total = 0;
    for (json& a : actions) {
        json& domains = a["domains"];
        total += domains.size();
        if (domains.size() > request.top) {
            domains.erase(domains.begin() + static_cast<std::ptrdiff_t>(request.top), domains.end());
        }
    }
    return control_result(json{{"current", under_way.empty() ? json(nullptr) : json(under_way)},
                               {"labels", _labels},
                               {"actions", actions},
                               {"total_rows", total}});
}

// The dashboard's document (issue #16, `/api/report`): the report as `analyze` writes it, the timeline of
// the last `last_s` seconds by service (the stats intervals merged into at most 150), the largest flows in
// progress and recently ended as lanes, and the action under way. The page draws offline and live alike.
std::string Appliance::report(const ControlRequest& request) {
    // While a dashboard watches, its tables are built ahead of its next request (collect()).
    _dashboard_watched_until = _clock.now_ns() + kDashboardWatchNs;
    _dashboard_previous_request_ns = _dashboard_last_request_ns;
    _dashboard_last_request_ns = _clock.now_ns();
    _dashboard_built_since_request = false;
    if (request.table) {
        return control_text(render_table_text(build_report(), TableOptions{}));
    }
    // The tables as built for the dashboard, however many ask; the counters as of now.
    Report r = dashboard_tables();
    fill_report_header(r);
    constexpr std::size_t kMaxIntervals = 150;
    constexpr std::size_t kLanes = 1000;
    const std::uint64_t last_ns = static_cast<std::uint64_t>(request.last_s) * 1'000'000'000ull;
    const json history = _timeline->to_json(std::nullopt, last_ns, _services.names());
    const json& points = history["points"];
    Timeline t;
    const double step_s = history.value("interval_s", 1.0);
    const std::size_t merge = std::max<std::size_t>(1, (points.size() + kMaxIntervals - 1) / kMaxIntervals);
    t.interval_ns = static_cast<std::uint64_t>(step_s * static_cast<double>(merge) * 1e9);
    t.intervals = (points.size() + merge - 1) / merge;
    if (!points.empty()) {
        t.start_ns = static_cast<std::uint64_t>((points.front().value("t", 0.0) - step_s) * 1e9);
    }
    std::map<std::string, std::size_t> series_of;
    for (std::size_t i = 0; i < points.size(); ++i) {
        for (const auto& [name, counts] : points[i]["services"].items()) {
            auto [it, fresh] = series_of.try_emplace(name, t.services.size());
            if (fresh) {
                TimelineSeries& added = t.services.emplace_back();
                added.name = name;
                added.bytes_up.assign(t.intervals, 0);
                added.bytes_down.assign(t.intervals, 0);
            }
            TimelineSeries& series = t.services[it->second];
            const std::uint64_t up = counts.value("bytes_up", std::uint64_t{0});
            const std::uint64_t down = counts.value("bytes_down", std::uint64_t{0});
            series.bytes_up[i / merge] += up;
            series.bytes_down[i / merge] += down;
            series.total += up + down;
        }
    }
    std::sort(t.services.begin(), t.services.end(), [](const TimelineSeries& a, const TimelineSeries& b) {
        return a.total != b.total ? a.total > b.total : a.name < b.name;
    });
    for (const auto& [at, label] : _mark_times) {
        t.marks.emplace_back(at, label);
    }
    r.timeline = std::move(t);

    const FlowSelection flows = select_flows(kLanes, std::nullopt);
    FlowLanes lanes;
    lanes.cap = kLanes;
    lanes.flows_total = flows.matching;
    for (const FlowRow& row : flows.rows) {
        const pipeline::FlowRecord& r = *row.record;
        const pipeline::Flow& f = r.flow;
        FlowLane l;
        l.first_ns = f.ts_first_ns;
        l.last_ns = f.ts_last_ns;
        l.bytes_up = f.bytes_up;
        l.bytes_down = f.bytes_down;
        l.name = std::string(r.name.view());
        l.service = row.service < 0 ? std::string() : service_name(row.service);
        l.client = ip_text(f.client().ip);
        l.server = ip_text(f.server().ip);
        l.server_port = f.server().port;
        l.proto = f.key.proto;
        l.app = r.app == pipeline::AppProto::kUnknown ? std::string() : std::string(pipeline::to_string(r.app));
        l.tls_version = r.server_hello ? tls_version_text(r.tls_version) : std::string();
        l.opened_in = f.action <= _labels.size() ? f.action : std::uint16_t{0};
        lanes.lanes.push_back(std::move(l));
    }
    std::sort(lanes.lanes.begin(), lanes.lanes.end(),
              [](const FlowLane& a, const FlowLane& b) { return a.first_ns < b.first_ns; });
    r.flow_lanes = std::move(lanes);

    fmt::memory_buffer report_text;
    write_report_json(r, report_text, -1);
    const std::uint16_t current = _current_action.load(std::memory_order_relaxed);
    fmt::memory_buffer out;
    JsonWriter w(out);
    w.begin_object();
    if (current != 0 && current <= _labels.size()) {
        w.field("current_action", _labels[current - 1u]);
    } else {
        w.null_field("current_action");
    }
    w.key("labels");
    w.begin_array();
    for (const std::string& l : _labels) {
        w.value(l);
    }
    w.end_array();
    w.end_object();
    // {"current_action":..,"labels":[..],"report":{..}}: the report is already JSON text.
    std::string text(out.data(), out.size() - 1);
    text += ",\"report\":";
    text.append(report_text.data(), report_text.size());
    text += '}';
    return control_result_json_text(text);
}

std::string Appliance::dns(const ControlRequest& request) {
    const Report r = build_report();
    if (request.table) {
        TableOptions opt;
        opt.sections = kSectionEncryptedDns;
        return control_text(render_table_text(r, opt));
    }
    return control_result(json{{"encrypted_dns", report_to_json(r)["encrypted_dns"]}});
}

std::string Appliance::flows(const ControlRequest& request) {
    std::optional<std::int32_t> filter;
    std::string error;
    if (!service_filter(request.service, filter, error)) {
        return control_error(error);
    }
    const json flows = flows_json(select_flows(request.top, filter));
    return request.table ? control_text(render_flows_table(flows)) : control_result(flows);
}

std::string Appliance::timeline(const ControlRequest& request) {
    std::optional<std::int32_t> filter;
    std::string error;
    if (!service_filter(request.service, filter, error)) {
        return control_error(error);
    }
    const std::uint64_t last_ns = static_cast<std::uint64_t>(request.last_s) * 1'000'000'000ull;
    if (request.table) {
        return control_text(_timeline->to_text(filter, last_ns, _services.names()));
    }
    // An hour of intervals is megabytes of JSON: written directly as text, not built as a json
    // tree first (about 5x faster).
    return control_result_json_text(_timeline->to_json_text(filter, last_ns, _services.names()));
}

std::string Appliance::mark(const ControlRequest& request) {
    std::string message;
    if (!mark(request.label, message)) {
        return control_error(message);
    }
    return request.table ? control_text(message + "\n")
                         : control_result(json{{"action", request.label}, {"message", message}});
}

std::string Appliance::reload(const ControlRequest& request) {
    std::string message;
    if (!reload(message)) {
        return control_error(message);
    }
    return request.table ? control_text(message + "\n")
                         : control_result(json{{"message", message}, {"generation", _current_generation}});
}

std::string Appliance::snapshot(const ControlRequest& request) {
    std::string message;
    if (!save_snapshot_now(message)) {
        return control_error(message);
    }
    return request.table ? control_text(message + "\n")
                         : control_result(json{{"message", message}, {"file", _settings.snapshot_file}});
}

std::string Appliance::metrics(const ControlRequest& request) {
    std::string text = render_metrics();
    return request.table ? control_text(std::move(text)) : control_result(text);
}

std::string Appliance::version(const ControlRequest& request) {
    const double uptime_s = static_cast<double>(_clock.now_ns() - _started_ns) / 1e9;
    if (request.table) {
        return control_text(fmt::format("wiretally {} ({}), up {:.0f} s\n", WIRETALLY_VERSION, rte_version(), uptime_s));
    }
    return control_result(json{{"wiretally", WIRETALLY_VERSION}, {"dpdk", rte_version()}, {"uptime_s", uptime_s}});
}

std::string Appliance::config(const ControlRequest& request) {
    return request.table ? control_text(_settings.config_json.dump(2) + "\n") : control_result(_settings.config_json);
}

} // namespace wt::app
