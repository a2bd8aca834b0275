// The stats core: collects what the workers publish at each interval and merges it
// (it reads only published copies, never a worker's live tables), keeps the recent
// flows, and carries out the control actions that change state (reload, mark, snapshot).
#include "app/live/appliance_internal.hpp"
#include "app/config/config.hpp"
#include "app/config/services_loader.hpp"
#include "app/live/state/snapshot.hpp"
#include "app/live/state/timeline.hpp"
#include "app/live/telemetry.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_log.h>

namespace wt::app {

namespace {

constexpr std::size_t kRecentFlows = 10000;       // kept by the stats core for `ctl flows`
constexpr std::size_t kMaxSnapshotFlows = 65536;   // flows in progress one worker reports (the largest... all)
constexpr auto kSnapshotWait = std::chrono::milliseconds(250);
constexpr std::size_t kMarkTimesKept = 10000;

} // namespace

void Appliance::absorb_retired(WorkerContext& ctx) {
    Handoff& h = ctx.handoff;
    pipeline::CoreTally& retired = *h.spare;
    auto gen = _generations.find(h.retired_generation);
    static const std::vector<std::int32_t> kNoMap;
    const std::vector<std::int32_t>& map = gen != _generations.end() ? gen->second->to_stable : kNoMap;
    _cumulative->absorb(retired, map);
    _timeline->add(retired, map);
    if (_export_tally) {
        _export_tally->absorb(retired, map);
    }
    retired.clear();
    ctx.previous = ctx.last;
    ctx.last = h.published;
    if (h.classifier != nullptr) {
        // The worker handed back the classifier it used before; its scratch goes now,
        // the classifier once no worker uses it (collect()).
        ctx.adopted_generation = h.generation;
        h.classifier = nullptr;
        h.scratch.reset();
    }
}

void Appliance::collect(bool final_pass) {
    wait_for_dashboard_build(); // it reads the cumulative tally, which absorb_retired() writes
    const std::uint64_t now = _clock.now_ns();
    // The tallies the workers handed back hold the packets of the interval that began at the last
    // request: the timeline closes that interval at the time the next one began (packet time).
    std::vector<WorkerContext*> ready;
    for (auto& owned : _workers) {
        WorkerContext& ctx = *owned;
        Handoff& h = ctx.handoff;
        const std::uint64_t done = h.done.load(std::memory_order_acquire);
        if (done != h.request.load(std::memory_order_relaxed)) {
            ++ctx.lagging_intervals; // not completed yet: never wait for a worker (its tally joins a later interval)
            continue;
        }
        if (done != ctx.processed) {
            absorb_retired(ctx);
            ctx.processed = done;
        }
        ready.push_back(&ctx);
    }
    if (_interval_started_ns != 0) {
        _timeline->close_interval(_interval_started_ns);
    }
    _interval_started_ns = now;
    for (WorkerContext* ready_ctx : ready) {
        WorkerContext& ctx = *ready_ctx;
        Handoff& h = ctx.handoff;
        if (final_pass) {
            continue;
        }
        // Next request: the cleared spare, and a new classifier if one is waiting.
        h.spare = ctx.spare.get();
        // Every spare must fit the newest catalog, not only the one handed over with it: after an
        // adoption the next spare is the tally retired under the older catalog, and a flow whose
        // service had no slot would be left out of its service (counted in tally_table_full).
        if (const auto& newest = _generations.at(_current_generation); newest->classifier != nullptr &&
            ctx.spare->services().size() < newest->classifier->service_count() + 1) {
            ctx.spare->resize_services(newest->classifier->service_count());
        }
        if (ctx.adopted_generation != _current_generation) {
            auto& gen = _generations.at(_current_generation);
            h.classifier = gen->classifier.get();
            h.scratch = std::make_unique<pipeline::ClassifierScratch>(*gen->classifier);
            h.generation = _current_generation;
            ctx.handed_generation = _current_generation;
            // A new catalog may have more services: the tally the worker takes must fit them.
            if (gen->classifier->service_count() + 1 > ctx.spare->services().size()) {
                ctx.spare = std::make_unique<pipeline::CoreTally>(gen->classifier->service_count(),
                                                                  _settings.worker.tally);
                h.spare = ctx.spare.get();
            }
        }
        h.request.store(h.request.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    ++_collect_epoch;
    // A dashboard polls: its tables are built once per request, at the last interval before the next
    // request is due (the period between its last two), so that it finds them at most an interval old
    // and the merge runs no more often than the page asks.
    const std::uint64_t now_ns = _clock.now_ns();
    if (now_ns < _dashboard_watched_until && !_dashboard_built_since_request) {
        const std::uint64_t period = _dashboard_last_request_ns - _dashboard_previous_request_ns;
        if (_dashboard_previous_request_ns == 0 ||
            now_ns + _settings.stats_interval_ns >= _dashboard_last_request_ns + period) {
            start_dashboard_build();
            _dashboard_built_since_request = true;
        }
    }
    warn_about_offload_drops();
    if (_export && !final_pass) {
        // Interval rows at whole multiples of the export interval in wall-clock time, so that every
        // appliance's rows of one interval line up (the first and the last are partial).
        const std::uint64_t wall_s = realtime_ns() / 1'000'000'000ull;
        const auto every = static_cast<std::uint64_t>(_settings.clickhouse.interval.count() / 1000);
        const std::uint64_t boundary = wall_s / every * every;
        if (boundary > _export_interval_start_s) {
            export_interval(boundary);
        }
        _export->poll(realtime_ns());
    }

    // A classifier is freed once every worker confirmed a newer one; its index map
    // stays (small) for the flow records still naming that generation.
    std::uint32_t oldest_in_use = _current_generation;
    for (const auto& ctx : _workers) {
        oldest_in_use = std::min(oldest_in_use, ctx->adopted_generation);
    }
    _reload_pending = oldest_in_use != _current_generation;
    for (auto& [generation, gen] : _generations) {
        if (generation < oldest_in_use) {
            gen->classifier.reset();
        }
    }
    publish_telemetry();
}

void Appliance::warn_about_offload_drops() {
    std::uint64_t dropped = 0;
    for (const auto& ctx : _workers) {
        dropped += ctx->last.offload.unsplittable_dropped;
    }
    if (dropped != 0 && !_warned_unsplittable) {
        _warned_unsplittable = true;
        fmt::print(stderr,
                   "wiretally: warning: dropped {} UDP super-frame(s) that cannot be cut to the MTU (a sender's UDP "
                   "segmentation offload carrying something other than QUIC; ctl stats: offload). The fix, on the "
                   "sending host: ethtool -K IFACE tx-udp-segmentation off\n",
                   dropped);
    }
}

void Appliance::drain_flow_records() {
    pipeline::FlowRecord r;
    for (auto& ctx : _workers) {
        for (int k = 0; k < 4096 && ctx->sink->ring().pop(r); ++k) {
            // Service indices are the worker's classifier generation's: make them stable ids.
            auto gen = _generations.find(r.generation);
            if (r.flow.service >= 0 && gen != _generations.end() &&
                static_cast<std::size_t>(r.flow.service) < gen->second->to_stable.size()) {
                r.flow.service = gen->second->to_stable[static_cast<std::size_t>(r.flow.service)];
            } else {
                r.flow.service = -1;
            }
            if (_export) {
                const std::string service = service_name(r.flow.service);
                const std::uint16_t action = r.flow.action;
                const Hosting hosting = _ip_databases.lookup(r.flow.server().ip);
                _export->add_flow(r, clickhouse::FlowRowNames{
                                         service,
                                         action >= 1 && action <= _labels.size() ? std::string_view(_labels[action - 1u])
                                                                                 : std::string_view(),
                                         &hosting});
            }
            _recent_flows.push_back(r);
            ++_flow_records_seen;
            if (_recent_flows.size() > kRecentFlows) {
                _recent_flows.pop_front();
            }
        }
    }
}

void Appliance::export_interval(std::uint64_t end_s) {
    if (end_s > _export_interval_start_s) {
        Report interval;
        fill_report_header(interval);
        fill_report_tables(interval, pipeline::merge_tallies({_export_tally.get()}));
        _export->add_intervals(interval, _export_interval_start_s, end_s);
    }
    _export_tally->clear();
    _export_interval_start_s = end_s;
}

std::size_t Appliance::snapshot_live_flows(std::size_t keep_largest) {
    // A worker still copying an earlier request keeps it (its vector is not ours until it answers).
    for (auto& ctx : _workers) {
        FlowSnapshot& snap = ctx->snapshot;
        const std::uint64_t asked = snap.request.load(std::memory_order_relaxed);
        if (snap.done.load(std::memory_order_acquire) == asked) {
            const std::size_t want = keep_largest != 0 ? std::min(keep_largest, kMaxSnapshotFlows)
                                                       : std::min<std::size_t>(ctx->last.active_flows + 1024,
                                                                               kMaxSnapshotFlows);
            if (snap.flows.capacity() < want) {
                snap.flows.reserve(want);
            }
            snap.keep_largest = keep_largest != 0 ? want : 0;
            snap.request.store(asked + 1, std::memory_order_release);
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + kSnapshotWait;
    for (;;) {
        std::size_t waiting = 0;
        for (const auto& ctx : _workers) {
            waiting += ctx->snapshot.done.load(std::memory_order_acquire) !=
                       ctx->snapshot.request.load(std::memory_order_relaxed);
        }
        if (waiting == 0 || std::chrono::steady_clock::now() >= deadline) {
            return waiting;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

bool Appliance::reload(std::string& message) {
    // The configuration is read again: its [services] applies now; any other change waits for a
    // restart, and the answer says which tables changed.
    std::string services_file = _settings.services_file;
    std::string restart_note;
    ConfigResult loaded = load_config_file(_settings.config_source);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        ++_reload_failures;
        message = fmt::format("reload failed, the current services stay: {}", e->format());
        return false;
    }
    const ApplianceConfig& config = std::get<ApplianceConfig>(loaded);
    services_file = config.services.file;
    const nlohmann::json now = config_to_json(config);
    std::vector<std::string> waiting;
    for (const auto& [table, value] : now.items()) {
        if (table != "services" && table != "source" && _settings.config_json.value(table, nlohmann::json()) != value) {
            waiting.push_back(table == "port" ? "[[port]]" : table == "eal_arguments" ? "[eal]" : "[" + table + "]");
        }
    }
    std::sort(waiting.begin(), waiting.end());
    waiting.erase(std::unique(waiting.begin(), waiting.end()), waiting.end());
    if (!waiting.empty()) {
        restart_note = fmt::format("; {} changed in {} and apply at the next start", fmt::join(waiting, ", "),
                                   _settings.config_source);
    }

    std::unique_ptr<ClassifierGeneration> gen;
    std::string error;
    if (!load_generation(services_file, error, gen)) {
        ++_reload_failures;
        message = fmt::format("reload failed, the current services stay: {}{}", error, restart_note);
        return false;
    }
    const ClassifierGeneration& current = *_generations.at(_current_generation);
    const std::string file_text = services_file.empty() ? "the embedded default services" : services_file;
    _settings.services_file = services_file;
    _settings.config_json["services"] = now["services"];
    ++_reloads;
    if (gen->fingerprint == current.fingerprint) {
        message = fmt::format("reloaded {}: unchanged ({} services, {} patterns; generation {} stays){}", file_text,
                              current.classifier ? current.classifier->service_count() : gen->classifier->service_count(),
                              gen->patterns, _current_generation, restart_note);
        return true;
    }
    const bool queued = _reload_pending;
    const std::size_t services = gen->classifier->service_count();
    const std::size_t patterns = gen->patterns;
    const std::string was = current.origin == gen->origin ? std::string() : fmt::format(", was {}", current.origin);
    _current_generation = gen->generation;
    _generations.emplace(gen->generation, std::move(gen));
    _reload_pending = true;
    // The registry may have grown: the cumulative tally grows with it on absorb. Workers take the
    // newest generation at their next handoff, also when an older one is still on its way.
    message = fmt::format("reloaded {}: changed, {} services, {} patterns (generation {}{}){}{}", file_text, services,
                          patterns, _current_generation, was,
                          queued ? "; handed to the workers after the previous reload" : "", restart_note);
    return true;
}

bool Appliance::mark(const std::string& label, std::string& message) {
    if (label.empty() || label.size() > 64) {
        message = "a mark label is 1 to 64 characters";
        return false;
    }
    std::size_t index = 0;
    while (index < _labels.size() && _labels[index] != label) {
        ++index;
    }
    if (index == _labels.size()) {
        if (_labels.size() >= 65535) {
            message = "too many distinct action labels (65535)";
            return false;
        }
        _labels.push_back(label);
    }
    _current_action.store(static_cast<std::uint16_t>(index + 1), std::memory_order_relaxed);
    // For the dashboard's bands (ctl report): bounded, the oldest go first.
    _mark_times.emplace_back(_clock.now_ns(), label);
    if (_mark_times.size() > kMarkTimesKept) {
        _mark_times.pop_front();
    }
    message = fmt::format("new flows now carry the action \"{}\"", label);
    return true;
}

bool Appliance::save_snapshot_now(std::string& message) {
    if (_settings.snapshot_file.empty()) {
        message = "snapshots are disabled ([snapshot] file = \"\")";
        return false;
    }
    const state::SnapshotMeta meta{0, _tallies_started_s, WIRETALLY_VERSION};
    std::string error;
    if (!state::save_snapshot(_settings.snapshot_file, state::SnapshotSource{meta, _services.names(), _labels, *_cumulative},
                              error)) {
        _last_snapshot_error = error;
        message = fmt::format("snapshot failed: {}", error);
        return false;
    }
    ++_snapshots_written;
    _last_snapshot_error.clear();
    _last_snapshot_ns = realtime_ns();
    message = fmt::format("snapshot written to {} ({} flows)", _settings.snapshot_file, _cumulative->total().connections);
    return true;
}

} // namespace wt::app
