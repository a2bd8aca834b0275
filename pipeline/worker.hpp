// Worker: the run-to-completion path of one core.
//
//   packet -> decode (parsers/net) -> flow lookup/insert -> counters
//          -> extraction (TLS / QUIC / DNS / HTTP, until the flow is named)
//          -> at flow end: name resolution, classification, tally, sink
//
// Uses: the frame bytes, its link type and timestamp. Sets: nothing on the
// packet (the live appliance forwards it untouched). Drops: nothing; every
// packet that cannot be decoded is counted by reason in decode_drops().
// Share-nothing: one Worker per core, and every table it writes is its own.
// No allocation after construction; no locks; no exceptions; no syscalls.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/status.hpp"
#include "parsers/net/packet.hpp"
#include "pipeline/tally/actions.hpp"
#include "pipeline/counters.hpp"
#include "parsers/net/neighbours.hpp"
#include "pipeline/flows/dns_cache.hpp"
#include "pipeline/flows/hash.hpp"
#include "pipeline/flows/flow.hpp"
#include "pipeline/flows/flow_table.hpp"
#include "pipeline/flows/record_pool.hpp"
#include "pipeline/flows/stream_assembler.hpp"
#include "pipeline/tally/interval_clock.hpp"
#include "pipeline/tally/tally.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace wt::parsers {
struct DnsMessage;
class GquicParser;
class QuicInitialDecryptor;
struct QuicFlowState;
} // namespace wt::parsers

namespace wt::pipeline {

class ServiceClassifier;
class ClassifierScratch;

struct WorkerConfig {
    std::size_t max_flows = 1u << 18;
    std::size_t detail_pool = 1u << 15;
    std::size_t stream_pool = 1024;
    std::size_t quic_pool = 256;
    std::size_t dns_cache_entries = 1u << 14;
    std::uint64_t tcp_idle_ns = 600ull * 1000000000ull;
    std::uint64_t udp_idle_ns = 180ull * 1000000000ull;
    // After FIN from both sides or RST, later packets (the last ACK, retransmitted
    // FINs) still belong to the flow for this long, unless a new SYN reuses the tuple.
    std::uint64_t closed_linger_ns = 30ull * 1000000000ull;
    // Payload inspection stops after this many segments / datagrams per flow.
    std::uint8_t max_inspected_segments = 24;
    std::uint8_t max_inspected_datagrams = 12;
    // The live appliance: every stats interval's tally gets the packets and bytes that passed in it,
    // flow by flow (begin_interval), so its views move while flows last and its timeline is by
    // packet time. Off (offline analysis): each flow is tallied once, when it ends.
    bool live_tally = false;
    // A flow still being named waits this long for its name before its first part is tallied (so
    // that the part counts the connection under the right service); its packets meanwhile go to
    // the interval it is tallied in.
    std::uint64_t naming_grace_ns = 3ull * 1000000000ull;
    // Touch the flow table and records at start so that the OS backs them before the
    // first packet (live appliance); else pages are backed as flows first use them.
    bool prefault = false;
    // Issue #15: parts of flows that ended an action's stretch and wait for the flow's tally to be
    // counted with its final name. When none is free, the part is tallied at once with the name
    // the flow has then (counted in action_parts_early).
    std::size_t action_parts = 1u << 14;
    // Issue #16: log flows' bytes by interval of this clock for analyze's timeline (a 24-byte record per
    // flow, allocated only then); null: no log. Serials: first, first + step, ... (several workers, one sink).
    IntervalClock* interval_clock = nullptr;
    std::uint32_t first_flow_serial = 0;
    std::uint32_t flow_serial_step = 1;
    TallyLimits tally;
};

// The live appliance's sizing of a worker whose table holds max_flows (app/live/run_command.cpp runs
// with it, pipeline_bench measures with it).
[[nodiscard]] inline WorkerConfig appliance_worker_config(std::size_t max_flows) {
    WorkerConfig w;
    w.max_flows = max_flows;
    // A flow's names and TLS facts live in a 3 KB detail record until the flow ends: an eighth of the
    // table (at least 4096) covers the named flows alive at once in an ordinary mix; an exhausted pool
    // is counted (detail_pool_exhausted). Reassembly buffers (16 KB) are held only until a handshake is
    // parsed.
    w.detail_pool = std::max<std::size_t>(4096, max_flows / 8);
    w.stream_pool = std::max<std::size_t>(1024, max_flows / 256);
    w.quic_pool = std::max<std::size_t>(256, max_flows / 256);
    // A worker's tally holds one stats interval's flows (the stats core absorbs and clears it every
    // interval), so it is a quarter of the cumulative tables: 16 MiB instead of 64, and a quarter of the
    // per-interval clear and absorb work. A table that fills within one interval counts the overflow
    // (stats: tally_table_full).
    w.tally.domains /= 4;
    w.tally.client_services /= 4;
    w.tally.client_domains /= 4;
    w.tally.action_domains /= 4;
    return w;
}

// Action attribution (issue #15), beside each flow record when actions are marked (32 bytes a
// flow, touched only when a flow opens, changes action or is tallied). Flow::action is the action
// of the stretch under way; what the flow moved in earlier actions waits in ActionParts until the
// flow is tallied, so that it counts under the name and TLS facts the flow ends with.
struct ActionTrack {
    std::uint64_t base_bytes_up = 0; // the flow's counts when the stretch under way began (or was last tallied)
    std::uint64_t base_bytes_down = 0;
    std::uint32_t base_pkts_up = 0;
    std::uint32_t base_pkts_down = 0;
    std::uint32_t parts = kNoIndex; // earlier stretches not yet tallied (ActionPart list)
    std::uint16_t opened_in = 0;    // the action the flow was opened in
    bool counted = false;           // the stretch under way has counted its connection (new or reused)
    bool opening = true;            // the stretch under way is the flow's first

    // What flow f moved since the base: the stretch under way so far.
    template <typename Bytes, typename Packets>
    void since_base(const Flow& f, Bytes& bytes_up, Bytes& bytes_down, Packets& pkts_up, Packets& pkts_down) const noexcept {
        bytes_up = f.bytes_up - base_bytes_up;
        bytes_down = f.bytes_down - base_bytes_down;
        pkts_up = f.pkts_up - base_pkts_up;
        pkts_down = f.pkts_down - base_pkts_down;
    }
    void rebase(const Flow& f) noexcept {
        base_bytes_up = f.bytes_up;
        base_bytes_down = f.bytes_down;
        base_pkts_up = f.pkts_up;
        base_pkts_down = f.pkts_down;
    }
};
struct ActionPart {
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint32_t pkts_up = 0;
    std::uint32_t pkts_down = 0;
    std::uint32_t next = kNoIndex;
    std::uint16_t action = 0;
    bool counted = false;
    bool opening = false;
};

// Issue #16: a flow's bytes in one interval of the capture's clock (analyze's timeline). The worker
// logs them as the flow moves from one interval to the next (an append, nothing to look up) and hands
// the log over in batches; when the flow ends, the sink learns its name (on_flow_serial), so that the
// bytes count under the name the flow ends with, as its tally does. An interval is its first 10 ms unit
// on the run's IntervalClock.
struct IntervalBytes {
    std::uint32_t flow = 0; // the flow's serial (WorkerConfig::first_flow_serial, flow_serial_step)
    std::uint32_t interval = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
};
struct IntervalTrack {
    std::uint64_t base_up = 0; // the flow's byte counts when its open interval began
    std::uint64_t base_down = 0;
    std::uint32_t serial = 0;
    std::uint32_t interval = 0; // the open interval
};
static_assert(sizeof(IntervalTrack) == 24, "the per-flow cost WorkerConfig::interval_clock states");
inline constexpr std::size_t kIntervalBatch = 4096; // log entries handed to the sink per call

// One frame of a burst, as the input hands it over.
struct FrameRef {
    parsers::Bytes frame;
    std::uint64_t ts_ns = 0;
    std::uint32_t wire_len = 0; // as for Worker::process_packet
    parsers::LinkType link = parsers::LinkType::kEthernet;
};

// Receives every finished flow, after it was tallied. Offline: the --flows writer.
class FlowSink {
public:
    virtual ~FlowSink() = default;
    // opened_in: the action the flow was opened in (0: none).
    virtual void on_flow_end(const Flow& flow, const FlowDetail* detail, std::string_view service,
                             std::uint16_t opened_in) = 0;
    // With WorkerConfig::interval_clock: flows' bytes by interval, in batches (in no particular order),
    // and at each flow's end, its serial (before on_flow_end).
    virtual void on_interval_bytes(std::span<const IntervalBytes> /*log*/) {}
    virtual void on_flow_serial(std::uint32_t /*serial*/, const Flow& /*flow*/, const FlowDetail* /*detail*/,
                                std::string_view /*service*/) {}
};

using DecodeDropCounts = std::array<std::uint64_t, static_cast<std::size_t>(parsers::DecodeStatus::kCount)>;

class Worker {
public:
    Worker(const WorkerConfig& config, const ServiceClassifier* classifier, const ActionSchedule* actions,
           FlowSink* sink);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // wire_len: the frame's length on the wire when a capture cut it (snaplen); 0 when
    // the frame is complete.
    void process_packet(parsers::LinkType link, parsers::Bytes frame, std::uint64_t ts_ns,
                        std::uint32_t wire_len = 0) noexcept;
    // The same for a burst, with the same result as process_packet on each frame in
    // order: the flow-table buckets of a batch are prefetched together, then each flow
    // record kPrefetchDistance packets ahead of its flow stage, so that the cache misses
    // hide behind other packets' work. Any length; taken kBurstBatch frames at a time.
    static constexpr std::size_t kBurstBatch = 32;
    static constexpr std::size_t kPrefetchDistance = 4; // 4 and 8 measured alike at 1M flows; 4 is faster at 1k
    // A full table makes room by ending one of this many flow records under its clock hand.
    static constexpr std::size_t kEvictWindow = 8;
    void process_burst(std::span<const FrameRef> frames) noexcept;
    // Ends flows idle past their timeout; cheap enough to call once per burst: it sweeps the table
    // once per second of packet time (kExpireLapNs), at most `budget` records per call.
    void expire(std::uint64_t now_ns, std::size_t budget = 64) noexcept;
    // Ends every flow (end of input, shutdown).
    void flush_all() noexcept;

    // Cross-core DNS. With several workers, RSS puts a client's DNS flow and its later
    // connection on different cores; the worker that parses an answer posts it to the
    // others as a message (never shared state), and they learn it into their own cache.
    void enable_dns_outbox(std::size_t capacity);
    [[nodiscard]] std::span<const DnsResolution> dns_outbox() const noexcept { return _dns_outbox; }
    void clear_dns_outbox() noexcept { _dns_outbox.clear(); }
    void learn_dns(const DnsResolution& r) noexcept { _dns_cache.insert(r); }

    // The symmetric flow hash that spreads packets over workers the way a NIC's
    // symmetric RSS would (both directions of a flow land on the same worker).
    // Packets that do not decode hash to 0.
    static std::uint64_t dispatch_hash(parsers::LinkType link, parsers::Bytes frame, std::uint32_t wire_len) noexcept;

    // Live appliance hand-overs, each done by the worker itself between bursts so that
    // the stats core never touches a table a worker is writing (share-nothing).
    //
    // begin_interval: `spare` (cleared; as many service slots as the classifier in use, or as the
    // new one) becomes the tally the worker writes, and the old tally comes back in `spare`. When
    // `classifier` is not null it is swapped in with its scratch (a reload; built off the data path)
    // and the old pair comes back through the same arguments. O(1), no allocation.
    // With live_tally the old tally is not complete yet: the flows that passed in the old interval
    // still owe it their part. complete_interval() adds those parts, `budget` flow records per call
    // (a packet that touches such a flow first adds its part itself), and returns true once the old
    // tally holds all of them; until then the caller must leave `spare` and, after a reload, the old
    // classifier and scratch alone (the old interval's parts are named by the old classifier, so that
    // a tally holds one classifier's service indices). Without live_tally it is complete at once.
    void begin_interval(CoreTally& spare, const ServiceClassifier*& classifier,
                        std::unique_ptr<ClassifierScratch>& scratch) noexcept;
    bool complete_interval(std::size_t budget) noexcept;
    [[nodiscard]] bool interval_complete() const noexcept { return _retiring == nullptr; }
    // Live `mark LABEL`: new flows take the action from this cell (written by the control
    // thread) instead of a capture's schedule.
    // Allocates the per-flow action records (set-up, not the data path).
    void set_live_action(const std::atomic<std::uint16_t>* action);
    // The schedule gained a mark (a pcapng packet comment read with the capture): the next packet
    // looks its action up again.
    void actions_changed() noexcept {
        if (_actions != nullptr) {
            _action_from_ns = 1;
            _action_span_ns = 0;
        }
    }

    // The live `flows` view: visits up to `budget` flow records from `cursor` (advanced past them),
    // calling fn(const Flow&, const FlowDetail*, std::uint16_t opened_in) for each flow alive (opened_in:
    // the action it was opened in); true once every record was seen.
    // A snapshot of the flows in progress is taken this way a slice per burst, on the worker's own
    // thread (the stats core never reads the table).
    template <typename Fn>
    bool visit_flows(std::size_t& cursor, std::size_t budget, Fn&& fn) const noexcept {
        const std::size_t touched = _flows_touched;
        const std::size_t end = cursor >= touched || budget >= touched - cursor ? touched : cursor + budget;
        for (; cursor < end; ++cursor) {
            const Flow& f = _flows[cursor];
            if (f.flags & kFlowLive) {
                fn(f, f.detail == kNoIndex ? nullptr : &_details[f.detail], opened_in(cursor));
            }
        }
        return cursor >= touched;
    }
    // The action flow record `index` was opened in (Flow::action is the action of its stretch under way).
    [[nodiscard]] std::uint16_t opened_in(std::size_t index) const noexcept {
        return _tracks.size() != 0 ? _tracks[index].opened_in : _flows[index].action;
    }
    [[nodiscard]] static bool is_closing(const Flow& f) noexcept {
        return (f.flags & kFlowRst) != 0 || ((f.flags & kFlowClientFin) && (f.flags & kFlowServerFin));
    }

    [[nodiscard]] const WorkerCounters& counters() const noexcept { return _counters; }
    [[nodiscard]] const DecodeDropCounts& decode_drops() const noexcept { return _decode_drops; }
    [[nodiscard]] const CoreTally& tally() const noexcept { return _tally; }
    [[nodiscard]] std::size_t active_flows() const noexcept { return _table.size(); }
    [[nodiscard]] std::size_t flow_capacity() const noexcept { return _flows.size(); }
    // Bytes of flow table and flow records per flow of capacity (issue #4: at most 128).
    [[nodiscard]] double flow_bytes_per_flow() const noexcept {
        return static_cast<double>(_table.memory_bytes() + _flows.memory_bytes()) / static_cast<double>(_flows.size());
    }
    // Everything the worker allocated at construction (flow table and records, detail,
    // stream and QUIC pools, DNS cache, tally): its memory does not change afterwards.
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

private:
    // Counts and decodes; true when the packet goes on to its flow.
    bool decode_stage(parsers::LinkType link, parsers::Bytes frame, std::uint32_t wire_len,
                      parsers::DecodedPacket& pkt) noexcept;
    // Everything after decoding, for a packet whose flow key and hash are known.
    void flow_stage(const parsers::DecodedPacket& pkt, const FlowKey& key, std::uint64_t hash, bool src_is_lo,
                    std::uint64_t ts_ns) noexcept;
    static void key_of(const parsers::DecodedPacket& pkt, FlowKey& key, bool& src_is_lo) noexcept {
        // QinQ: the innermost tag names the customer network the flow belongs to.
        key.assign(pkt.src, pkt.src_port, pkt.dst, pkt.dst_port, pkt.l4_proto, pkt.inner_vlan, src_is_lo);
    }

    std::uint32_t lookup_or_create(const parsers::DecodedPacket& pkt, const FlowKey& key, std::uint64_t hash,
                                   bool src_is_lo, std::uint64_t ts_ns, bool& from_client) noexcept;
    std::uint32_t take_flow_record() noexcept;
    void free_flow_record(std::uint32_t index) noexcept;
    void set_roles_on_create(Flow& f, const parsers::DecodedPacket& pkt) noexcept;
    void swap_roles(Flow& f) noexcept;
    void end_flow(std::uint32_t index) noexcept;
    void finalize(Flow& f, FlowDetail* d, ClassifierScratch* scratch) noexcept;
    // Makes room for one flow when the table is full (constant time: see kEvictWindow).
    bool evict_one(std::uint64_t now_ns) noexcept;
    [[nodiscard]] bool idle_past_timeout(const Flow& f, std::uint64_t now_ns) const noexcept;
    // A UDP DNS flow whose query was answered: nothing more to learn or to expect, so it may be ended
    // early to free its detail record at no cost to its name or its count.
    [[nodiscard]] bool dns_answered(const Flow& f) const noexcept;
    // Live: the first packet of an interval on flow f (before it is counted).
    void enter_interval(Flow& f) noexcept;
    // Live: tallies what the flow did since its last part into `into`, named with `scratch`. An
    // interval's part is not tallied (false) while the flow waits for its name (naming_grace_ns); a
    // forced one (2 GiB moved) and the last one (the flow ends) always are.
    enum class PartKind : std::uint8_t { kInterval, kForced, kLast };
    bool tally_part(Flow& f, CoreTally& into, ClassifierScratch* scratch, PartKind kind) noexcept;

    // Issue #15. The action under way at ts_ns (a look at the schedule only when ts_ns leaves the
    // stretch last found).
    std::uint16_t action_now(std::uint64_t ts_ns) noexcept {
        if (ts_ns - _action_from_ns >= _action_span_ns) [[unlikely]] {
            refresh_action(ts_ns);
        }
        return _action_now;
    }
    void refresh_action(std::uint64_t ts_ns) noexcept;
    // A packet of flow f passes in an action other than the flow's stretch (before it is counted).
    void change_action(Flow& f, const parsers::DecodedPacket& pkt) noexcept;
    // Tallies into `into` what f moved in each action since its last tally (the name settled).
    void tally_action_parts(Flow& f, const FlowDetail* d, CoreTally& into) noexcept;
    void start_action_track(Flow& f, std::uint32_t index) noexcept;
    void allocate_action_tracks(); // set-up only: the per-flow records and the pool of parts
    // Issue #16: the packet about to be counted is in a later interval than the flow's open one (or
    // the flow ends): the open interval's bytes go to the log.
    void log_interval(Flow& f, std::uint32_t index) noexcept;
    void flush_interval_log() noexcept;
    // ARP, Neighbour Discovery and DHCP: what they say of the devices on the link (issue #15).
    void learn_neighbours(const parsers::DecodedPacket& pkt) noexcept;

    FlowDetail* detail_of(Flow& f) noexcept;
    // The detail record a flow is tallied with: its own, or one made at its end for a flow that is
    // named or typed without payload inspection (DNS-resolved UDP, port 853); null when neither.
    FlowDetail* detail_for_tally(Flow& f) noexcept;
    FlowDetail* ensure_detail(Flow& f) noexcept;
    // The pool is empty: ends an answered DNS flow among the next kReclaimWindow detail records' owners
    // (constant time), so that its record serves a flow still to be named. False when none is.
    bool reclaim_detail() noexcept;
    static constexpr std::size_t kReclaimWindow = 8;
    StreamAssembler* ensure_stream(Flow& f, FlowDetail& d, bool up) noexcept;
    void release_resources(FlowDetail* d) noexcept;

    void inspect_tcp(Flow& f, const parsers::DecodedPacket& pkt, bool from_client) noexcept;
    void inspect_udp(Flow& f, const parsers::DecodedPacket& pkt, bool from_client, std::uint64_t ts_ns) noexcept;
    // What a look at the beginning of one TCP direction concluded.
    enum class StreamVerdict : std::uint8_t {
        kNeedMore, ///< a valid prefix of something we parse: wait for more bytes
        kDone,     ///< extracted (or failed for good): this direction needs nothing more
        kUnknown,  ///< not a protocol we parse from here (maybe STARTTLS later)
    };
    // Extraction steps (extract.cpp).
    StreamVerdict extract_client_stream(Flow& f, FlowDetail& d, parsers::Bytes stream, bool& is_client_side_app) noexcept;
    StreamVerdict extract_server_stream(Flow& f, FlowDetail& d, parsers::Bytes stream) noexcept;
    bool extract_dns(Flow& f, FlowDetail& d, parsers::Bytes message, bool tcp, bool from_client,
                     std::uint64_t ts_ns) noexcept;
    bool apply_dns(Flow& f, FlowDetail& d, const parsers::DnsMessage& msg, parsers::ParseStatus st,
                   bool from_client, std::uint64_t ts_ns) noexcept;
    // Counts a parsed DNS message (dns_messages, dns_errors); false when not even its question parsed.
    bool count_dns_message(const parsers::DnsMessage& msg, parsers::ParseStatus st) noexcept;
    // The answers of a response: into the DNS cache (and the other workers' outboxes) and, when the
    // flow has a detail record, into its DnsDetail.
    void learn_answers(const parsers::DnsMessage& msg, const IpAddr& client, std::uint64_t ts_ns,
                       DnsDetail* dns) noexcept;
    // A DNS datagram of a flow that got no detail record: parsed from the packet for what it teaches
    // the cache (dns_without_detail).
    void learn_dns_in_place(const parsers::DecodedPacket& pkt, std::uint64_t ts_ns) noexcept;
    bool extract_quic(Flow& f, FlowDetail& d, parsers::Bytes datagram, bool from_client) noexcept;
    // A long header with a known (or negotiation / greased) version, or a gQUIC public header.
    static bool announces_quic_version(parsers::Bytes datagram) noexcept;
    // Names the flow from what its client resolved to the server address; with `prefer`, only a
    // resolution whose question or CNAME chain is that name replaces one the flow already has.
    void resolve_name(Flow& f, FlowDetail& d, std::string_view prefer = {}) noexcept;
    // ECH (issue #14): configurations a DNS answer gave its client, and the name a real ECH hello
    // hides (true: the flow is named from it, name_source kEchDns).
    void learn_ech_configs(const parsers::DnsMessage& msg, const DnsResolution& chain) noexcept;
    bool recover_ech_name(const Flow& f, FlowDetail& d) noexcept;
    // A resolution goes to the outbox for the other workers (when there are others).
    void publish_resolution(const DnsResolution& res) noexcept;

    WorkerConfig _config;
    const ServiceClassifier* _classifier;
    std::unique_ptr<ClassifierScratch> _scratch;
    const ActionSchedule* _actions;
    const std::atomic<std::uint16_t>* _live_action = nullptr;
    FlowSink* _sink;
    // Issue #15: per-action attribution, when there are actions (a schedule, or live marks).
    ZeroedArray<ActionTrack> _tracks;
    std::vector<ActionPart> _action_parts;
    std::uint32_t _free_action_part = kNoIndex;
    std::uint16_t _action_now = 0;
    std::uint64_t _action_from_ns = 1; // [from, from + span): the stretch _action_now holds; none yet
    std::uint64_t _action_span_ns = 0;
    // Issue #16: bytes by interval, when interval_log is set.
    ZeroedArray<IntervalTrack> _interval_tracks;
    std::vector<IntervalBytes> _interval_log; // capacity kIntervalBatch, handed over when full
    std::uint32_t _next_flow_serial = 0;
    std::uint32_t _interval_now = 0;    // the clock's interval of the latest packet, as its first unit
    std::uint64_t _interval_end_ns = 0; // where that interval ends: a later packet asks the clock again

    FlowTable _table;
    ZeroedArray<Flow> _flows;
    // Live tallies (live_tally): what each flow record had tallied, and the interval bookkeeping.
    ZeroedArray<TallyMark> _marks;
    std::uint8_t _epoch = 1;           // the interval now being tallied (1..255; 0 = none)
    std::uint8_t _retiring_epoch = 0;  // the interval being completed, while _retiring is set
    CoreTally* _retiring = nullptr;    // the old interval's tally until complete_interval finishes it
    ClassifierScratch* _retiring_scratch = nullptr; // names the old interval's parts (a reload's old one)
    std::size_t _sweep = 0;            // complete_interval's next flow record
    std::size_t _sweep_end = 0;
    std::uint32_t _free_flow_head = kNoIndex; // freed records, linked through Flow::detail
    std::uint32_t _flows_touched = 0;         // records [0, _flows_touched) have been used
    std::size_t _clock_hand = 0;
    static constexpr std::uint64_t kExpireLapNs = 1'000'000'000; // expire(): the table swept once a second
    std::uint64_t _expire_clock_ns = 0; // packet time of expire()'s last call
    double _expire_credit = 0;          // records expire() may sweep now

    // process_burst's stage results, kept here rather than on the stack (~5 KB).
    struct BurstSlot {
        parsers::DecodedPacket pkt;
        FlowKey key;
        std::uint64_t hash = 0;
        bool src_is_lo = false;
        bool to_flow = false;
    };
    std::array<BurstSlot, kBurstBatch> _burst{};

    RecordPool<FlowDetail> _details;
    std::vector<std::uint32_t> _free_details;
    std::vector<std::uint32_t> _detail_owner; // the flow record each detail record was last given to
    std::size_t _detail_hand = 0;             // reclaim_detail's next detail record
    std::size_t _detail_reserve = 0;          // below this many free, DNS queries take none (inspect_udp)
    std::vector<StreamAssembler> _streams;
    std::vector<std::uint32_t> _free_streams;
    std::vector<std::unique_ptr<parsers::QuicFlowState>> _quic_states;
    std::vector<std::uint32_t> _free_quic;
    std::unique_ptr<parsers::QuicInitialDecryptor> _quic_decryptor;
    std::unique_ptr<parsers::GquicParser> _gquic; // Google QUIC (Q0xx, T05x) client hellos
    // The DNS parser's output, reused: a DnsMessage is about 9 KB, and building one per message
    // zeroed it, which was a quarter of a DNS flood's time (the parser resets only what it reads).
    std::unique_ptr<parsers::DnsMessage> _dns_message;
    std::vector<std::uint8_t> _scratch_buf; // handshake messages spread over records

    DnsCache _dns_cache;
    std::vector<DnsResolution> _dns_outbox; // capacity fixed by enable_dns_outbox(); 0 = off
    std::size_t _dns_outbox_capacity = 0;
    CoreTally _tally;
    WorkerCounters _counters;
    DecodeDropCounts _decode_drops{};
    std::uint64_t _now_ns = 0;
};

} // namespace wt::pipeline
