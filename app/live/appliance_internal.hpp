// The appliance's state, shared by its life cycle (appliance.cpp), the worker loop
// (worker_loop.cpp), the stats core (stats_core.cpp), its answers to the control
// commands (control_answers.cpp), its metrics (metrics.cpp) and telemetry (telemetry.cpp).
// Not a public interface.
#pragma once

#include "app/control/commands.hpp"
#include "app/control/http_gateway.hpp"
#include "app/export/clickhouse_export.hpp"
#include "app/export/remote_write.hpp"
#include "app/live/dashboard_builder.hpp"
#include "app/ipdb/ip_database.hpp"
#include "app/live/appliance.hpp"
#include "app/report/report.hpp"
#include "app/live/state/service_registry.hpp"
#include "pipeline/classify/classifier.hpp"
#include "pipeline/counters.hpp"
#include "pipeline/flows/dns_cache.hpp"
#include "pipeline/flow_record.hpp"
#include "pipeline/dpdk/mbuf_input.hpp"
#include "pipeline/flows/spsc_ring.hpp"
#include "pipeline/tally/tally.hpp"
#include "pipeline/worker.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <ctime>

struct rte_mempool;
struct rte_mbuf;

namespace wt::app {

namespace state {
class ServiceTimeline;
}
class ControlServer;

inline constexpr std::size_t kMaxBurst = 512;
inline constexpr std::size_t kMaxL2Header = 14 + 2 * 4;   // Ethernet and two VLAN tags

// Wall-clock time for records and snapshots (a syscall: never on the per-packet path,
// which uses TscClock).
inline std::uint64_t realtime_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// TSC to wall-clock nanoseconds without a syscall on the data path: one anchor
// read at start, then a fixed-point multiply.
class TscClock {
public:
    void calibrate();
    [[nodiscard]] std::uint64_t now_ns() const noexcept;
    [[nodiscard]] std::uint64_t to_ns(std::uint64_t tsc) const noexcept;
    [[nodiscard]] std::uint64_t hz() const noexcept { return _hz; }

private:
    std::uint64_t _tsc0 = 0;
    std::uint64_t _ns0 = 0;
    std::uint64_t _hz = 1;
    __extension__ using Uint128 = unsigned __int128; // GCC/Clang: 64x64->128 multiply for the scale
    Uint128 _ns_per_tick_q32 = 0;                    // (1e9 << 32) / hz
};

// Inline through af_packet: what the worker finished of what Linux senders left to offload.
struct OffloadCounters {
    std::uint64_t checksums_completed = 0;   // partial TCP/UDP checksums completed
    std::uint64_t super_frames_cut = 0;      // TSO/GSO/GRO/UDP_SEGMENT frames cut to the egress MTU
    std::uint64_t segments_sent = 0;         // the frames they became
    std::uint64_t unsplittable_dropped = 0;  // frames over the MTU that could not be cut (UDP not QUIC, not TCP/UDP): dropped
    std::uint64_t segment_pool_empty = 0;    // segments lost for want of an mbuf
};

// What a worker publishes each time it swaps tallies: a consistent copy taken by
// the worker itself, so the stats core never reads counters being written.
struct WorkerPublished {
    pipeline::WorkerCounters counters;
    pipeline::DecodeDropCounts drops{};
    pipeline::MbufInputCounters mbuf;
    std::uint64_t active_flows = 0;
    std::uint64_t flow_capacity = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_dropped = 0;       // could not be sent (TX ring full): freed and counted
    std::uint64_t dns_ring_drops = 0;   // DNS answers not delivered to a peer worker: ring full
    std::uint64_t busy_cycles = 0;      // loop iterations that received packets
    std::uint64_t total_cycles = 0;
    OffloadCounters offload;
    std::uint64_t at_ns = 0;
};

// The stats core's request to one worker, answered between two bursts.
struct alignas(64) Handoff {
    std::atomic<std::uint64_t> request{0};
    std::atomic<std::uint64_t> done{0};
    // Request payload (written before `request`, read after it).
    pipeline::CoreTally* spare = nullptr;
    const pipeline::ServiceClassifier* classifier = nullptr; // non-null: swap classifiers too
    std::unique_ptr<pipeline::ClassifierScratch> scratch;
    std::uint32_t generation = 0;
    // Answer (written before `done`): the old classifier and scratch come back in the
    // fields above; the spare now holds the retired tally of this generation.
    std::uint32_t retired_generation = 0;
    WorkerPublished published;
};

// `ctl flows`: the stats core asks each worker for a copy of its flows in progress. The worker fills
// `flows` (capacity reserved by the stats core: it never allocates) a slice of its table per loop
// iteration on its own thread, then answers; the stats core reads `flows` only after `done`.
struct alignas(64) FlowSnapshot {
    std::atomic<std::uint64_t> request{0};
    std::atomic<std::uint64_t> done{0};
    std::size_t keep_largest = 0;  // set with `request`: keep only that many largest flows (0: all that fit)
    std::vector<pipeline::FlowRecord> flows; // with keep_largest, a min-heap by bytes
    std::uint64_t visited = 0;     // flows in progress seen
    std::uint64_t truncated = 0;   // flows left out: `flows` was full
    // Worker-thread state.
    std::uint64_t begun = 0;
    std::size_t cursor = 0;
};

// A listing of flows (`ctl flows`, the dashboard's lanes); the records live in the workers' snapshots
// and the recent-flows ring until the next listing.
struct FlowRow {
    const pipeline::FlowRecord* record;
    std::int32_t service; // stable id, -1 unclassified
    const char* state;    // "active", "closing", "ended"
    std::size_t listed = 0; // position in the listing: in progress first, then ended, newest first
};

struct FlowSelection {
    std::vector<FlowRow> rows;
    std::uint64_t matching = 0;    // flows the listing stands for (rows are its largest)
    std::uint64_t in_progress = 0; // flows in progress the workers reported
    std::uint64_t not_listed = 0;  // in progress, but beyond what a worker could copy
    std::size_t unanswered = 0;    // workers that did not answer in time
};

struct WorkerContext {
    unsigned index = 0;
    unsigned lcore = 0;
    std::unique_ptr<pipeline::Worker> worker;
    std::unique_ptr<pipeline::MbufInput> input;
    std::unique_ptr<pipeline::RingFlowSink> sink;
    Handoff handoff;
    FlowSnapshot snapshot;
    std::unique_ptr<pipeline::CoreTally> spare; // owned by the stats side between handoffs
    std::uint64_t processed = 0;                // last handoff whose answer the stats core used
    std::uint64_t lagging_intervals = 0;        // intervals the worker had not answered yet
    WorkerPublished last;                       // the latest published copy
    WorkerPublished previous;                   // the one before (rates)
    std::uint32_t adopted_generation = 0;       // the classifier generation the worker confirmed using
    std::uint32_t handed_generation = 0;        // the newest generation handed to it
    // Worker-thread state.
    std::uint64_t begun = 0;                    // the last handoff request the worker began (begin_interval)
    std::uint32_t worker_generation = 0;
    std::uint64_t busy_cycles = 0;
    std::uint64_t total_cycles = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_dropped = 0;
    std::uint64_t dns_ring_drops = 0;
    OffloadCounters offload;
    rte_mempool* segment_pool = nullptr; // inline to af_packet ports: the segments of cut super-frames
    std::vector<pipeline::SpscRing<pipeline::DnsResolution>*> dns_out; // to each other worker
    std::vector<pipeline::SpscRing<pipeline::DnsResolution>*> dns_in;  // from each other worker

    // The worker's counters as of now, for the stats side: written by the worker
    // thread at a handoff, or by the stats core once the worker has returned.
    void publish_to(WorkerPublished& p, std::uint64_t at_ns) const noexcept {
        p.counters = worker->counters();
        p.drops = worker->decode_drops();
        p.mbuf = input->counters();
        p.active_flows = worker->active_flows();
        p.flow_capacity = worker->flow_capacity();
        p.rx_packets = rx_packets;
        p.tx_packets = tx_packets;
        p.tx_dropped = tx_dropped;
        p.dns_ring_drops = dns_ring_drops;
        p.offload = offload;
        p.busy_cycles = busy_cycles;
        p.total_cycles = total_cycles;
        p.at_ns = at_ns;
    }
};

// One loaded services file: its classifier and how its indices map to stable ids.
struct ClassifierGeneration {
    std::uint32_t generation = 0;
    std::unique_ptr<pipeline::ServiceClassifier> classifier;
    std::vector<std::int32_t> to_stable; // classifier index -> registry id
    std::string origin;
    std::uint64_t fingerprint = 0; // LoadedServices::fingerprint
    std::uint64_t loaded_ns = 0;
    std::size_t patterns = 0;
};

class Appliance final : public ControlResponder {
public:
    explicit Appliance(const RunSettings& settings);
    ~Appliance();
    int run();

    // ---- used by the commands and the metrics (stats core thread only) ----
    [[nodiscard]] Report build_report() const;
    // build_report's two halves: what the input and the counters say now; the merged tables with hosting
    // and devices (as of the last interval).
    void fill_report_header(Report& r) const;
    void fill_report_tables(Report& r, pipeline::MergedTally merged) const;
    // A tally's per-service rows: slot 0 for the unclassified, then one per service of the registry.
    [[nodiscard]] std::size_t service_slots() const noexcept { return _services.size() + 1; }
    // The dashboard's tables (`ctl report`): each table's largest rows, no clients; made once an interval
    // (by the dashboard builder while a dashboard watches).
    [[nodiscard]] Report dashboard_tables() const;
    // The builder reads the cumulative tally: started when an interval closes, waited for before the
    // stats core absorbs the next one (dashboard_builder.hpp).
    void start_dashboard_build();
    void wait_for_dashboard_build();
    // The merged tables for the current interval, in _merged_cache (merged at most once an interval).
    void refresh_merged() const;
    // One control request line in, its answer line out (commands.hpp).
    [[nodiscard]] std::string answer(std::string_view request_line);
    // ControlResponder: one method a control command (control_answers.cpp).
    std::string stats(const ControlRequest& request) override;
    std::string services(const ControlRequest& request) override;
    std::string domains(const ControlRequest& request) override;
    std::string clients(const ControlRequest& request) override;
    std::string servers(const ControlRequest& request) override;
    std::string dns(const ControlRequest& request) override;
    std::string flows(const ControlRequest& request) override;
    std::string timeline(const ControlRequest& request) override;
    std::string mark(const ControlRequest& request) override;
    std::string actions(const ControlRequest& request) override;
    std::string devices(const ControlRequest& request) override;
    std::string report(const ControlRequest& request) override;
    std::string metrics(const ControlRequest& request) override;
    std::string reload(const ControlRequest& request) override;
    std::string snapshot(const ControlRequest& request) override;
    std::string version(const ControlRequest& request) override;
    std::string config(const ControlRequest& request) override;
    [[nodiscard]] std::string render_metrics() const;
    [[nodiscard]] nlohmann::json stats_json() const;
    // The `top` largest flows in progress and recently ended (of one service, or all), largest first.
    [[nodiscard]] FlowSelection select_flows(std::size_t top, std::optional<std::int32_t> service);
    [[nodiscard]] nlohmann::json flows_json(const FlowSelection& selection) const;
    // A service named by a person (`--service maps`): the stable id, or an error naming the choices.
    bool service_filter(const std::string& name, std::optional<std::int32_t>& id, std::string& error) const;
    [[nodiscard]] std::string service_name(std::int32_t stable_id) const;
    // Reads the configuration file again and loads its [services] file; a new classifier is
    // handed to every worker (after the one still being handed over, if any: the newest wins).
    bool reload(std::string& message);
    bool mark(const std::string& label, std::string& message);
    bool save_snapshot_now(std::string& message);

    // ---- worker thread ----
    int worker_main(WorkerContext& ctx);

private:
    bool start(std::string& error);
    void stop_and_drain();
    void collect(bool final_pass);
    void absorb_retired(WorkerContext& ctx);
    void drain_flow_records();
    void warn_about_offload_drops();
    // ClickHouse: the interval rows of [_export_interval_start_s, end_s) from the export tally, which is
    // then cleared (stats core; the rows go to the export's thread).
    void export_interval(std::uint64_t end_s);
    void send_burst(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts, std::uint16_t n);
    void send_finished(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts,
                       std::uint16_t n);
    // Asks every worker for its flows in progress and waits (at most kSnapshotWait) for the answers;
    // returns the workers that did not answer in time.
    // keep_largest: each worker keeps only its that many largest flows (0: every flow, up to a bound).
    std::size_t snapshot_live_flows(std::size_t keep_largest);
    void publish_telemetry();
    // `ctl domains` and `ctl clients`: a section of the report, or its rows as JSON under `key`.
    std::string report_rows(const ControlRequest& request, unsigned section, const char* key);
    bool load_generation(const std::string& services_file, std::string& error,
                         std::unique_ptr<ClassifierGeneration>& out);
    std::int32_t stable_id(const std::string& name, const std::string& category);

    RunSettings _settings;
    TscClock _clock;
    std::vector<OpenPort> _ports;
    std::vector<std::unique_ptr<WorkerContext>> _workers;
    std::vector<std::unique_ptr<pipeline::SpscRing<pipeline::DnsResolution>>> _dns_rings;
    std::atomic<bool> _stopping{false};
    std::atomic<std::uint16_t> _current_action{0};

    // Stats side.
    state::ServiceRegistry _services;              // stable service id <-> name, across reloads and resumes
    std::vector<std::string> _registry_categories; // by stable id, from the newest services file naming it
    std::vector<std::string> _labels;              // action labels (1-based in flows)
    std::deque<std::pair<std::uint64_t, std::string>> _mark_times; // the newest kMarkTimesKept marks: when, which label
    IpDatabases _ip_databases;                     // hosting of server addresses, looked up per view
    OuiRegistry _oui;                              // device vendors (IEEE registries), read at start
    std::map<std::uint32_t, std::unique_ptr<ClassifierGeneration>> _generations;
    std::uint32_t _current_generation = 0;
    bool _reload_pending = false;                  // a worker has not adopted the newest generation yet
    std::unique_ptr<pipeline::CoreTally> _cumulative;
    std::unique_ptr<state::ServiceTimeline> _timeline;
    std::deque<pipeline::FlowRecord> _recent_flows;
    std::uint64_t _flow_records_seen = 0;
    std::uint64_t _started_ns = 0;
    std::uint64_t _tallies_started_s = 0; // epoch s when the cumulative tally began (kept across resumes)
    std::string _resume_note;
    std::uint64_t _last_snapshot_ns = 0;
    std::string _last_snapshot_error;
    std::uint64_t _snapshots_written = 0;
    std::uint64_t _reloads = 0;
    std::uint64_t _reload_failures = 0;
    std::unique_ptr<ControlServer> _server;
    std::unique_ptr<HttpGateway> _http_listener; // [http] listen: the dashboard, /api, /metrics; its own threads,
                                                 // asking through the control socket
    std::string _http_url;
    std::uint64_t _collect_epoch = 0;                        // bumped by every collect()
    std::uint64_t _interval_started_ns = 0;                  // when the workers were asked to begin the current interval
    bool _warned_unsplittable = false;
    mutable std::optional<pipeline::MergedTally> _merged_cache; // build_report()'s merge, per epoch
    mutable std::uint64_t _merged_cache_epoch = 0;
    mutable std::optional<Report> _dashboard_tables;   // dashboard_tables() without the builder, per epoch
    mutable std::uint64_t _dashboard_tables_epoch = 0;
    std::uint64_t _dashboard_watched_until = 0; // ctl report asked lately: its tables made ahead of its requests
    std::uint64_t _dashboard_last_request_ns = 0;     // the two latest `ctl report` requests: their period
    std::uint64_t _dashboard_previous_request_ns = 0;
    bool _dashboard_built_since_request = false;      // a build started since the latest request
    std::unique_ptr<DashboardBuilder> _dashboard_builder; // reads _cumulative, _ip_databases, _oui
    // Names flows in progress on the stats side (`ctl flows`), with the current generation.
    std::unique_ptr<pipeline::ClassifierScratch> _stats_scratch;
    // [clickhouse] (issue #19): finished flows and, per export interval, the tally of what passed in it
    // (each retired worker tally is absorbed into it as into the cumulative one).
    std::unique_ptr<clickhouse::ClickHouseExport> _export;
    std::unique_ptr<pipeline::CoreTally> _export_tally;
    std::uint64_t _export_interval_start_s = 0;
    std::unique_ptr<remote_write::RemoteWriter> _remote_writer; // [remote_write]: /metrics pushed every interval
    std::uint32_t _stats_scratch_generation = 0;
};

// Prometheus label values: backslash, double quote and newline escaped (exposition format).
std::string prometheus_escape(std::string_view s);

} // namespace wt::app
