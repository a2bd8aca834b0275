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

constexpr std::size_t kMaxBurst = 512;
constexpr std::size_t kFlowRecordRing = 4096;     // per worker; ~1.6 MB
constexpr std::size_t kDnsRing = 1024;            // per ordered pair of workers
constexpr std::size_t kRecentFlows = 10000;       // kept by the stats core for `ctl flows`
constexpr std::size_t kExpireBudget = 64;         // flow slots examined per loop iteration
// Work between two bursts is kept to tens of microseconds: an RX ring of 1024 descriptors fills in
// about 70 us at 14.88 Mpps.
constexpr std::size_t kSweepBudgetBusy = 64;     // flow records a busy loop iteration completes of the old interval
constexpr std::size_t kSweepBudgetIdle = 16384;  // ... and an idle one (a 262k-flow table in 16 rounds)
constexpr std::uint32_t kDrainIdleRounds = 2000;  // empty polls in a row that end the drain
constexpr std::size_t kSnapshotBudgetBusy = 256;   // flow records a busy loop iteration visits for `ctl flows`
constexpr std::size_t kSnapshotBudgetIdle = 65536;
constexpr std::size_t kMaxSnapshotFlows = 65536;   // flows in progress one worker reports (the largest... all)
constexpr auto kSnapshotWait = std::chrono::milliseconds(250);
constexpr std::size_t kMaxL2Header = 14 + 2 * 4;   // Ethernet and two VLAN tags

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
extern "C" void on_reload_signal(int) { g_reload.store(true, std::memory_order_relaxed); }

std::uint64_t realtime_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

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
    out = std::move(gen);
    return true;
}

bool Appliance::start(std::string& error) {
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
    _server->set_metrics_handler([this] { return render_metrics(); });
    if (!_server->listen_unix(_settings.socket_path, _settings.socket_mode, _settings.socket_group, error)) {
        error = fmt::format("control socket {}: {}", _settings.socket_path, error);
        return false;
    }
    if (!_settings.metrics_listen.empty() && !_server->listen_http(_settings.metrics_listen, error)) {
        error = fmt::format("metrics listener {}: {}", _settings.metrics_listen, error);
        return false;
    }
    if (_settings.telemetry) {
        register_telemetry();
    }
    return true;
}

// ---------------------------------------------------------------- worker loop

int Appliance::worker_main(WorkerContext& ctx) {
    const auto queue = static_cast<std::uint16_t>(ctx.index);
    const std::uint16_t burst = _settings.burst;
    const bool forward = _settings.inline_mode;
    std::array<rte_mbuf*, kMaxBurst> pkts{};
    pipeline::Worker& worker = *ctx.worker;
    pipeline::MbufInput& input = *ctx.input;
    std::uint32_t idle_rounds = 0;
    std::uint64_t stop_tsc = 0;
    const std::uint64_t drain_budget = _clock.hz() / 10; // 100 ms

    for (;;) {
        const bool stopping = _stopping.load(std::memory_order_relaxed);
        const std::uint64_t t0 = rte_rdtsc();
        std::uint32_t received = 0;
        for (const OpenPort& port : _ports) {
            const std::uint16_t n = rte_eth_rx_burst(port.port_id, queue, pkts.data(), burst);
            if (n == 0) {
                continue;
            }
            received += n;
            input.process_burst(worker, pkts.data(), n, _clock.to_ns(t0));
            if (forward) {
                const OpenPort& out = _ports[port.peer_index];
                if (out.linux_socket) {
                    send_finished(ctx, out, queue, pkts.data(), n);
                } else {
                    send_burst(ctx, out, queue, pkts.data(), n);
                }
            } else {
                rte_pktmbuf_free_bulk(pkts.data(), n);
            }
        }
        ctx.rx_packets += received;
        const std::uint64_t t1 = rte_rdtsc();
        if (received == 0) {
            worker.expire(_clock.to_ns(t1), kExpireBudget); // process_burst expires after each burst
        }

        // Cross-worker DNS answers: post ours, learn theirs (messages, never shared tables).
        if (!ctx.dns_out.empty()) {
            for (const pipeline::DnsResolution& r : worker.dns_outbox()) {
                for (auto* ring : ctx.dns_out) {
                    if (!ring->push(r)) {
                        ++ctx.dns_ring_drops;
                    }
                }
            }
            worker.clear_dns_outbox();
            pipeline::DnsResolution r;
            for (auto* ring : ctx.dns_in) {
                for (int k = 0; k < 64 && ring->pop(r); ++k) {
                    worker.learn_dns(r);
                }
            }
        }

        // A new stats interval: swap in the spare tally (and a reloaded classifier) at once, then
        // complete the old interval's tally a slice of flow records at a time; it is handed back
        // (done) once it holds every flow's part of that interval.
        Handoff& h = ctx.handoff;
        const std::uint64_t request = h.request.load(std::memory_order_acquire);
        if (request != ctx.begun) {
            h.retired_generation = ctx.worker_generation;
            const bool reload = h.classifier != nullptr;
            worker.begin_interval(*h.spare, h.classifier, h.scratch);
            if (reload) {
                ctx.worker_generation = h.generation;
                ctx.sink->generation = h.generation;
            }
            ctx.begun = request;
        }
        if (ctx.begun != h.done.load(std::memory_order_relaxed) &&
            worker.complete_interval(received != 0 ? kSweepBudgetBusy : kSweepBudgetIdle)) {
            ctx.publish_to(h.published, _clock.to_ns(t1));
            h.done.store(ctx.begun, std::memory_order_release);
        }

        // `ctl flows`: a copy of the flows in progress, a slice of the table per iteration.
        FlowSnapshot& snap = ctx.snapshot;
        if (const std::uint64_t asked = snap.request.load(std::memory_order_acquire); asked != snap.begun) {
            snap.begun = asked;
            snap.cursor = 0;
            snap.flows.clear(); // keeps the capacity the stats core reserved: no allocation here
            snap.truncated = 0;
        }
        if (snap.begun != snap.done.load(std::memory_order_relaxed)) {
            const bool finished = worker.visit_flows(
                snap.cursor, received != 0 ? kSnapshotBudgetBusy : kSnapshotBudgetIdle,
                [&](const pipeline::Flow& f, const pipeline::FlowDetail* d) {
                    if (snap.flows.size() < snap.flows.capacity()) {
                        snap.flows.push_back(pipeline::make_flow_record(f, d, ctx.worker_generation));
                    } else {
                        ++snap.truncated;
                    }
                });
            if (finished) {
                snap.done.store(snap.begun, std::memory_order_release);
            }
        }

        const std::uint64_t t2 = rte_rdtsc();
        ctx.total_cycles += t2 - t0;
        if (received != 0) {
            ctx.busy_cycles += t2 - t0;
            idle_rounds = 0;
        } else if (stopping && ++idle_rounds >= kDrainIdleRounds) {
            break; // drained: the ports gave nothing for a while after the stop
        }
        if (stopping) {
            // Traffic that never pauses (a busy mirror port) must not hold the stop:
            // the drain gets a bounded time, then whatever still arrives stays unread.
            if (stop_tsc == 0) {
                stop_tsc = t2;
            } else if (t2 - stop_tsc > drain_budget) {
                break;
            }
        }
    }
    return 0;
}

void Appliance::send_burst(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts,
                           std::uint16_t n) {
    const std::uint16_t sent = rte_eth_tx_burst(out.port_id, queue, pkts, n);
    ctx.tx_packets += sent;
    if (sent < n) {
        // TX ring full: the frame is lost either way; free it and say so.
        ctx.tx_dropped += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

// What a Linux sender left to offload is finished before the frame goes out through a packet socket
// (parsers/net/offload): a partial checksum is completed, a super-frame is cut to the egress MTU (the
// kernel would refuse it). A super-frame that cannot be cut (a UDP one that is not QUIC) is dropped and
// counted: nothing is forwarded that the peer would drop or the kernel refuse.
void Appliance::send_finished(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts,
                              std::uint16_t n) {
    const std::size_t mtu = out.facts.mtu > 0 ? static_cast<std::size_t>(out.facts.mtu) : 1500;
    std::array<rte_mbuf*, kMaxBurst> batch{};
    std::uint16_t k = 0;
    const auto queue_frame = [&](rte_mbuf* m) {
        batch[k++] = m;
        if (k == batch.size()) {
            send_burst(ctx, out, queue, batch.data(), k);
            k = 0;
        }
    };
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        parsers::L4Frame l;
        const std::span<std::uint8_t> frame(rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len);
        if (m->nb_segs != 1 || !parsers::locate_l4(frame, l)) {
            if (m->pkt_len > mtu + kMaxL2Header) {
                // Longer than the egress can send and nothing we can cut (not TCP/UDP, or cut by the ring):
                // the kernel would refuse it, so it is dropped here, counted.
                ++ctx.offload.unsplittable_dropped;
                rte_pktmbuf_free(m);
                continue;
            }
            queue_frame(m);
            continue;
        }
        if (l.ip_end - l.l3 <= mtu) {
            ctx.offload.checksums_completed += parsers::complete_partial_checksum(frame, l) ? 1 : 0;
            queue_frame(m);
            continue;
        }
        const parsers::Bytes payload = parsers::Bytes(frame).subspan(l.payload, l.ip_end - l.payload);
        const std::size_t udp_segment =
            l.proto == parsers::kIpProtoUdp ? parsers::quic_gso_segment_size(payload, mtu - (l.payload - l.l3)) : 0;
        const parsers::SegmentPlan plan = parsers::plan_segments(frame, l, mtu, udp_segment);
        if (plan.count == 0 || ctx.segment_pool == nullptr) {
            ++ctx.offload.unsplittable_dropped;
            rte_pktmbuf_free(m);
            continue;
        }
        for (std::size_t s = 0; s < plan.count; ++s) {
            rte_mbuf* seg = rte_pktmbuf_alloc(ctx.segment_pool);
            const std::size_t size = parsers::segment_size(l, plan, s);
            char* room = seg != nullptr ? rte_pktmbuf_append(seg, static_cast<std::uint16_t>(size)) : nullptr;
            if (room == nullptr) {
                ctx.offload.segment_pool_empty += plan.count - s;
                if (seg != nullptr) {
                    rte_pktmbuf_free(seg);
                }
                break;
            }
            (void)parsers::write_segment(frame, l, plan, s, {reinterpret_cast<std::uint8_t*>(room), size});
            seg->port = m->port;
            queue_frame(seg);
            ++ctx.offload.segments_sent;
        }
        ++ctx.offload.super_frames_cut;
        rte_pktmbuf_free(m);
    }
    if (k != 0) {
        send_burst(ctx, out, queue, batch.data(), k);
    }
}

// ---------------------------------------------------------------- stats core

void Appliance::absorb_retired(WorkerContext& ctx) {
    Handoff& h = ctx.handoff;
    pipeline::CoreTally& retired = *h.spare;
    auto gen = _generations.find(h.retired_generation);
    static const std::vector<std::int32_t> kNoMap;
    const std::vector<std::int32_t>& map = gen != _generations.end() ? gen->second->to_stable : kNoMap;
    _cumulative->absorb(retired, map);
    _timeline->add(retired, map);
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
    warn_about_offload_drops();

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
            _recent_flows.push_back(r);
            ++_flow_records_seen;
            if (_recent_flows.size() > kRecentFlows) {
                _recent_flows.pop_front();
            }
        }
    }
}

std::size_t Appliance::snapshot_live_flows() {
    // A worker still copying an earlier request keeps it (its vector is not ours until it answers).
    for (auto& ctx : _workers) {
        FlowSnapshot& snap = ctx->snapshot;
        const std::uint64_t asked = snap.request.load(std::memory_order_relaxed);
        if (snap.done.load(std::memory_order_acquire) == asked) {
            const std::size_t want = std::min<std::size_t>(ctx->last.active_flows + 1024, kMaxSnapshotFlows);
            if (snap.flows.capacity() < want) {
                snap.flows.reserve(want);
            }
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

void Appliance::stop_and_drain() {
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
               _settings.metrics_listen.empty() ? "" : ", metrics http://" + _settings.metrics_listen + "/metrics",
               _resume_note.empty() ? "" : "; " + _resume_note);

    std::uint64_t next_interval = _clock.now_ns() + _settings.stats_interval_ns;
    std::uint64_t next_snapshot =
        _settings.snapshot_interval_ns != 0 ? _clock.now_ns() + _settings.snapshot_interval_ns : UINT64_MAX;
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
