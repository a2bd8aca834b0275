// The appliance's life: the TSC clock, bring-up (EAL, ports, rings, workers), the
// main loop that drives the stats core and the control server, and the drain at stop.
// The worker loop is in worker_loop.cpp, the stats core's merge in stats_core.cpp.
#include "app/live/appliance.hpp"

#include "app/eal/eal_session.hpp"
#include "app/exit_codes.hpp"
#include "app/live/appliance_internal.hpp"
#include "app/config/config.hpp"
#include "app/control/server.hpp"
#include "app/config/services_loader.hpp"
#include "app/live/state/snapshot.hpp"
#include "app/live/state/timeline.hpp"
#include "app/live/telemetry.hpp"
#include "parsers/net/offload.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

namespace wt::app {

namespace {

constexpr std::size_t kFlowRecordRing = 4096;     // per worker; 1792 B a record: 7.3 MB
constexpr std::size_t kDnsRing = 1024;            // per ordered pair of workers

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
extern "C" void on_reload_signal(int) { g_reload.store(true, std::memory_order_relaxed); }

int launch_worker(void* arg) {
    auto* pair = static_cast<std::pair<Appliance*, WorkerContext*>*>(arg);
    return pair->first->worker_main(*pair->second);
}

} // namespace

// ---------------------------------------------------------------- clock

void TscClock::calibrate() {
    _hz = rte_get_tsc_hz();
    if (_hz == 0) {
        _hz = 1;
    }
    _tsc0 = rte_rdtsc();
    _ns0 = realtime_ns();
    _ns_per_tick_q32 = (static_cast<Uint128>(1'000'000'000ull) << 32) / _hz;
}

std::uint64_t TscClock::to_ns(std::uint64_t tsc) const noexcept {
    const std::uint64_t ticks = tsc - _tsc0;
    return _ns0 + static_cast<std::uint64_t>((static_cast<Uint128>(ticks) * _ns_per_tick_q32) >> 32);
}

std::uint64_t TscClock::now_ns() const noexcept { return to_ns(rte_rdtsc()); }

// ---------------------------------------------------------------- set-up

Appliance::Appliance(const RunSettings& settings) : _settings(settings) {}

Appliance::~Appliance() = default;

std::int32_t Appliance::stable_id(const std::string& name, const std::string& category) {
    const std::int32_t id = _services.intern(name);
    if (_registry_categories.size() < _services.size()) {
        _registry_categories.resize(_services.size());
    }
    _registry_categories[static_cast<std::size_t>(id)] = category;
    return id;
}

std::string Appliance::service_name(std::int32_t stable) const {
    if (stable < 0 || static_cast<std::size_t>(stable) >= _services.size()) {
        return {};
    }
    return _services.names()[static_cast<std::size_t>(stable)];
}

bool Appliance::load_generation(const std::string& services_file, std::string& error,
                                std::unique_ptr<ClassifierGeneration>& out) {
    LoadedServices loaded;
    if (!load_services(services_file, loaded, error)) {
        return false;
    }
    auto gen = std::make_unique<ClassifierGeneration>();
    gen->generation = _current_generation + 1;
    gen->origin = loaded.origin;
    gen->fingerprint = loaded.fingerprint;
    gen->loaded_ns = realtime_ns();
    gen->patterns = loaded.classifier->pattern_count();
    for (std::size_t i = 0; i < loaded.names.size(); ++i) {
        gen->to_stable.push_back(stable_id(loaded.names[i], i < loaded.categories.size() ? loaded.categories[i] : ""));
    }
    gen->classifier = std::move(loaded.classifier);
    // Built here, off the data path, with each generation: a reload's services bring their own ASNs.
    gen->classifier->set_hosting_ranges(_ip_databases.asn_ranges(gen->classifier->listed_asns()));
    out = std::move(gen);
    return true;
}

bool Appliance::start(std::string& error) {
    // Before EAL: a bad IP data file is a configuration error, found without touching a port.
    if (!open_ip_databases(_settings.ipdb_files, _settings.use_default_ipdb, _ip_databases, error)) {
        return false;
    }
    if (std::string oui_error; !_oui.load_directory(std::string(OuiRegistry::kDefaultDirectory), oui_error)) {
        fmt::print(stderr, "wiretally: warning: {} (device vendors unknown)\n", oui_error);
    }
    // EAL first: it owns the lcores and the devices.
    if (!EalSession::start_appliance(_settings.eal_args, error)) {
        return false;
    }
    _clock.calibrate();
    _started_ns = _clock.now_ns();

    std::vector<unsigned> lcores;
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) { lcores.push_back(lcore); }
    if (lcores.size() < _settings.workers) {
        error = fmt::format("{} workers need {} worker lcores, EAL has {} ([eal] cores)", _settings.workers,
                            _settings.workers, lcores.size());
        return false;
    }

    std::unique_ptr<ClassifierGeneration> gen;
    if (!load_generation(_settings.services_file, error, gen)) {
        return false;
    }
    _current_generation = gen->generation;
    const pipeline::ServiceClassifier* classifier = gen->classifier.get();
    _generations.emplace(gen->generation, std::move(gen));

    // The cumulative tally is the stats side's: sized for the whole run, and resumed.
    pipeline::TallyLimits cumulative_limits = _settings.worker.tally;
    cumulative_limits.domains *= 4;
    cumulative_limits.client_services *= 4;
    cumulative_limits.client_domains *= 4;
    cumulative_limits.action_domains *= 4;
    _cumulative = std::make_unique<pipeline::CoreTally>(_services.size(), cumulative_limits);
    _tallies_started_s = realtime_ns() / 1'000'000'000ull;
    if (_settings.resume && !_settings.snapshot_file.empty()) {
        state::SnapshotContent content(cumulative_limits);
        std::string why;
        switch (state::load_snapshot(_settings.snapshot_file, content, why)) {
        case state::LoadStatus::kMissing:
            _resume_note = fmt::format("no snapshot at {}: starting from zero", _settings.snapshot_file);
            break;
        case state::LoadStatus::kError:
            error = fmt::format("resume: {} (move the file away to start from zero)", why);
            return false;
        case state::LoadStatus::kLoaded: {
            // Snapshot service names join the registry; their indices are remapped onto it.
            // (A name the services file has keeps that file's category.)
            const std::vector<std::int32_t> remap = _services.map_for(content.service_names);
            _registry_categories.resize(_services.size());
            _cumulative->absorb(content.tally, remap);
            _labels = content.action_labels;
            if (content.meta.started_at_s != 0) {
                _tallies_started_s = content.meta.started_at_s;
            }
            _resume_note = fmt::format("resumed from {} ({} flows{})", _settings.snapshot_file,
                                       content.tally.total().connections,
                                       content.entries_not_restored != 0
                                           ? fmt::format(", {} entries did not fit the tables",
                                                         content.entries_not_restored)
                                           : std::string());
            break;
        }
        }
    }
    // Stable ids only grow (reloads add names): leave room for many reloads' worth.
    _timeline = std::make_unique<state::ServiceTimeline>(
        static_cast<std::size_t>(std::clamp<std::uint64_t>(_settings.history_ns / _settings.stats_interval_ns, 1,
                                                            state::ServiceTimeline::kMaxSlots)),
        _settings.stats_interval_ns, std::max<std::size_t>(4096, 4 * _services.size()));

    if (!open_ports(_settings.ports, static_cast<std::uint16_t>(_settings.workers), _settings.burst, _settings.mbufs,
                    _ports, error)) {
        return false;
    }
    for (std::size_t i = 0; i < _ports.size(); ++i) {
        _ports[i].peer_index = _settings.inline_mode ? static_cast<std::uint16_t>(_settings.peers[i]) : 0xffff;
    }

    // af_packet ports: say what their interfaces do and what the appliance does about it (once).
    std::size_t segment_room = 0;
    for (const OpenPort& p : _ports) {
        if (!p.linux_socket) {
            continue;
        }
        const int mtu = p.facts.mtu > 0 ? p.facts.mtu : 1500;
        segment_room = std::max<std::size_t>(segment_room, static_cast<std::size_t>(mtu) + kMaxL2Header);
        fmt::print(stderr,
                   "wiretally: port '{}' is {} through a packet socket ({}, MTU {}; offloads on: {}): frames of up "
                   "to {} bytes are read whole{}\n",
                   p.spec.name, p.interface.empty() ? std::string("an interface") : p.interface,
                   p.facts.driver.empty() ? std::string("driver unknown") : p.facts.driver, mtu,
                   p.facts.offloads_text(), p.ring_limit,
                   _settings.inline_mode ? "; frames sent out of it have partial checksums completed and super-frames "
                                           "cut to its MTU in software (ctl stats: offload)"
                                         : " and counted by their IP length");
    }

    // Workers: their tables are allocated and zeroed here, before traffic.
    const std::size_t n = _settings.workers;
    for (std::size_t i = 0; i < n * n; ++i) {
        _dns_rings.push_back(i / n == i % n ? nullptr
                                            : std::make_unique<pipeline::SpscRing<pipeline::DnsResolution>>(kDnsRing));
    }
    for (std::size_t w = 0; w < n; ++w) {
        auto ctx = std::make_unique<WorkerContext>();
        ctx->index = static_cast<unsigned>(w);
        ctx->lcore = lcores[w];
        ctx->sink = std::make_unique<pipeline::RingFlowSink>(kFlowRecordRing);
        ctx->sink->generation = _current_generation;
        ctx->worker_generation = _current_generation;
        ctx->adopted_generation = _current_generation;
        ctx->handed_generation = _current_generation;
        ctx->worker = std::make_unique<pipeline::Worker>(_settings.worker, classifier, nullptr, ctx->sink.get());
        ctx->worker->set_live_action(&_current_action);
        if (n > 1) {
            ctx->worker->enable_dns_outbox(kDnsRing);
        }
        ctx->input = std::make_unique<pipeline::MbufInput>();
        const char* why = nullptr;
        if (!ctx->input->init(&why)) {
            error = fmt::format("worker {}: {}", w, why);
            return false;
        }
        ctx->input->set_live(true);
        for (const OpenPort& p : _ports) {
            ctx->input->set_ring_limit(p.port_id, p.ring_limit);
        }
        if (_settings.inline_mode && segment_room != 0) {
            // Segments of the super-frames this worker cuts before sending them to an af_packet port.
            const std::string name = fmt::format("wt_seg_{}", w);
            ctx->segment_pool = rte_pktmbuf_pool_create(name.c_str(), 1023, 64, 0,
                                                        static_cast<std::uint16_t>(segment_room + RTE_PKTMBUF_HEADROOM),
                                                        SOCKET_ID_ANY);
            if (ctx->segment_pool == nullptr) {
                error = fmt::format("worker {}: cannot create its pool of segments: {} (raise [eal] memory_mb)", w,
                                    rte_strerror(rte_errno));
                return false;
            }
        }
        ctx->spare = std::make_unique<pipeline::CoreTally>(classifier->service_count(), _settings.worker.tally);
        for (std::size_t peer = 0; peer < n; ++peer) {
            if (peer != w) {
                ctx->dns_out.push_back(_dns_rings[w * n + peer].get());
                ctx->dns_in.push_back(_dns_rings[peer * n + w].get());
            }
        }
        _workers.push_back(std::move(ctx));
    }

    _server = std::make_unique<ControlServer>(ControlLimits{_settings.max_clients, _settings.max_request_bytes,
                                                            16u << 20, _settings.idle_timeout_ms});
    _server->set_request_handler([this](std::string_view line) { return answer(line); });
    if (!_server->listen_unix(_settings.socket_path, _settings.socket_mode, _settings.socket_group, error)) {
        error = fmt::format("control socket {}: {}", _settings.socket_path, error);
        return false;
    }
    if (!_settings.http_listen.empty()) {
        _http_listener = std::make_unique<HttpGateway>();
        if (!_http_listener->start(HttpGatewayOptions{_settings.http_listen, _settings.socket_path, _settings.http_token, 5.0, HttpGuardLimits{}}, error)) {
            error = fmt::format("HTTP listener [http] listen = \"{}\": {}", _settings.http_listen, error);
            return false;
        }
        // With port 0 the address is the one the listener got.
        const std::string host = _settings.http_listen.substr(0, _settings.http_listen.rfind(':'));
        _http_url = fmt::format("http://{}:{}/", host, _http_listener->port());
    }
    if (_settings.clickhouse.enabled()) {
        _export_tally = std::make_unique<pipeline::CoreTally>(_services.size(), cumulative_limits);
        _export_interval_start_s = realtime_ns() / 1'000'000'000ull;
        _export = std::make_unique<clickhouse::ClickHouseExport>(
            _settings.clickhouse, clickhouse::RowOrigin{_settings.fleet.appliance, _settings.fleet.site});
        if (!_export->start(error)) {
            error = fmt::format("[clickhouse]: {}", error);
            return false;
        }
    }
    if (_settings.remote_write.enabled()) {
        std::vector<std::pair<std::string, std::string>> labels = {{"appliance", _settings.fleet.appliance}};
        if (!_settings.fleet.site.empty()) {
            labels.emplace_back("site", _settings.fleet.site);
        }
        _remote_writer = std::make_unique<remote_write::RemoteWriter>(_settings.remote_write, std::move(labels));
        _remote_writer->start();
    }
    if (_settings.telemetry) {
        register_telemetry();
    }
    return true;
}

void Appliance::stop_and_drain() {
    // The HTTP listener first: its requests wait on the control socket, which stops being polled below.
    if (_http_listener) {
        _http_listener->stop();
    }
    wait_for_dashboard_build();
    // Stop receiving: the workers keep polling until the queues stay empty, then return.
    _stopping.store(true, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();
    // The workers are stopped (wait_lcore orders their writes before our reads):
    // end every flow so that its bytes are tallied, then take the last tallies.
    drain_flow_records();
    for (auto& ctx : _workers) {
        ctx->worker->flush_all(); // each flow's last parts: into the interval being completed and the current one
        drain_flow_records();
    }
    for (auto& ctx : _workers) {
        Handoff& h = ctx->handoff;
        pipeline::Worker& worker = *ctx->worker;
        // The worker has returned: finish the interval it was completing, on its behalf.
        if (ctx->begun != h.done.load(std::memory_order_relaxed)) {
            worker.complete_interval(SIZE_MAX);
            ctx->publish_to(h.published, _clock.now_ns());
            h.done.store(ctx->begun, std::memory_order_relaxed);
        }
        const std::uint64_t done = h.done.load(std::memory_order_relaxed);
        if (done == ctx->begun && done != ctx->processed) {
            absorb_retired(*ctx);
            ctx->processed = done;
        }
        // Then take the rest of its tally directly (a reload it never adopted is dropped).
        h.classifier = nullptr;
        h.scratch.reset();
        ctx->spare->clear();
        const pipeline::ServiceClassifier* same = nullptr;
        std::unique_ptr<pipeline::ClassifierScratch> no_scratch;
        worker.begin_interval(*ctx->spare, same, no_scratch);
        worker.complete_interval(SIZE_MAX);
        h.spare = ctx->spare.get();
        h.retired_generation = ctx->worker_generation;
        ctx->publish_to(h.published, _clock.now_ns());
        absorb_retired(*ctx);
    }
    _timeline->close_interval(_clock.now_ns());
    ++_collect_epoch;
    if (_export) {
        // The last interval (partial) and every open batch: sent while ClickHouse answers, for at most
        // its timeout, else spooled for the next start.
        export_interval(std::max<std::uint64_t>(realtime_ns() / 1'000'000'000ull, _export_interval_start_s + 1));
        _export->stop(_settings.clickhouse.timeout);
        const clickhouse::ExportStatus s = _export->status();
        fmt::print(stderr, "wiretally: clickhouse: {} rows sent, {} in the spool ({}), {} dropped{}\n", s.rows_sent,
                   s.spool_rows, _settings.clickhouse.spool, s.rows_dropped,
                   s.last_error.empty() ? "" : fmt::format("; last error: {}", s.last_error));
    }
}

int Appliance::run() {
    std::string error;
    if (!start(error)) {
        fmt::print(stderr, "wiretally: {}\n", error);
        _server.reset();
        close_ports(_ports);
        EalSession::stop();
        return kExitSoftware;
    }
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::vector<std::pair<Appliance*, WorkerContext*>> launch_args;
    launch_args.reserve(_workers.size());
    for (auto& ctx : _workers) {
        launch_args.emplace_back(this, ctx.get());
    }
    for (auto& arg : launch_args) {
        if (rte_eal_remote_launch(launch_worker, &arg, arg.second->lcore) != 0) {
            fmt::print(stderr, "wiretally: cannot launch worker {} on lcore {}\n", arg.second->index, arg.second->lcore);
            _stopping.store(true);
            rte_eal_mp_wait_lcore();
            return kExitSoftware;
        }
    }
    std::string ports_text;
    for (const OpenPort& p : _ports) {
        ports_text += fmt::format("{}{}={} ({})", ports_text.empty() ? "" : ", ", p.spec.name, p.spec.device, p.driver);
    }
    std::size_t worker_bytes = 0;
    for (const auto& ctx : _workers) {
        worker_bytes += ctx->worker->memory_bytes() + ctx->spare->memory_bytes() +
                        ctx->sink->ring().capacity() * sizeof(pipeline::FlowRecord);
    }
    const double flow_bytes = _workers.empty() ? 0.0 : _workers.front()->worker->flow_bytes_per_flow();
    fmt::print(stderr,
               "wiretally: memory fixed at start: {} MiB for {} worker(s) ({} flows each: {:.1f} B per flow of table "
               "and flow record, plus pools and tallies), {} MiB stats side (cumulative tally)\n",
               worker_bytes >> 20, _workers.size(), _settings.worker.max_flows, flow_bytes,
               _cumulative->memory_bytes() >> 20);
    fmt::print(stderr, "wiretally: {} mode, {} worker(s), ports {}; control {}{}{}\n",
               _settings.inline_mode ? "inline" : "tap", _workers.size(), ports_text, _settings.socket_path,
               _http_url.empty() ? ""
                                      : fmt::format(", dashboard {0}, metrics {0}metrics", _http_url),
               _resume_note.empty() ? "" : "; " + _resume_note);

    std::uint64_t next_interval = _clock.now_ns() + _settings.stats_interval_ns;
    std::uint64_t next_snapshot =
        _settings.snapshot_interval_ns != 0 ? _clock.now_ns() + _settings.snapshot_interval_ns : UINT64_MAX;
    const auto remote_write_every =
        static_cast<std::uint64_t>(std::chrono::nanoseconds(_settings.remote_write.interval).count());
    std::uint64_t next_remote_write = _clock.now_ns() + remote_write_every;
    collect(false); // the first handoff, so that counters are published from the start
    while (!g_stop.load(std::memory_order_relaxed)) {
        const std::uint64_t now = _clock.now_ns();
        const int wait_ms = next_interval > now ? static_cast<int>(std::min<std::uint64_t>(
                                                      (next_interval - now) / 1'000'000ull + 1, 50))
                                                : 0;
        _server->poll(wait_ms);
        drain_flow_records();
        if (g_reload.exchange(false)) {
            std::string message;
            reload(message);
            fmt::print(stderr, "wiretally: SIGHUP: {}\n", message);
        }
        if (_clock.now_ns() >= next_interval) {
            collect(false);
            next_interval += _settings.stats_interval_ns;
            if (next_interval < _clock.now_ns()) {
                next_interval = _clock.now_ns() + _settings.stats_interval_ns; // the stats core fell behind: skip
            }
        }
        if (_remote_writer && _clock.now_ns() >= next_remote_write) {
            _remote_writer->submit(render_metrics(), static_cast<std::int64_t>(realtime_ns() / 1'000'000ull));
            next_remote_write = _clock.now_ns() + remote_write_every;
        }
        if (_clock.now_ns() >= next_snapshot) {
            std::string message;
            if (!save_snapshot_now(message)) {
                fmt::print(stderr, "wiretally: {}\n", message);
            }
            next_snapshot += _settings.snapshot_interval_ns;
        }
    }

    fmt::print(stderr, "wiretally: stopping: draining the ports\n");
    stop_and_drain();
    if (_remote_writer) {
        // The last values: what the tallies end at.
        _remote_writer->submit(render_metrics(), static_cast<std::int64_t>(realtime_ns() / 1'000'000ull));
        _remote_writer->stop(_settings.remote_write.timeout);
    }
    int rc = kExitOk;
    if (!_settings.snapshot_file.empty()) {
        std::string message;
        if (save_snapshot_now(message)) {
            fmt::print(stderr, "wiretally: {}\n", message);
        } else {
            fmt::print(stderr, "wiretally: {}\n", message);
            rc = kExitCantCreate;
        }
    }
    unregister_telemetry();
    _server.reset();
    close_ports(_ports);
    for (auto& ctx : _workers) {
        rte_mempool_free(ctx->segment_pool); // null is a no-op
    }
    _workers.clear();
    EalSession::stop();
    return rc;
}

int run_appliance(const RunSettings& settings) {
    Appliance appliance(settings);
    return appliance.run();
}

} // namespace wt::app
