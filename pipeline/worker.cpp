#include "pipeline/worker.hpp"

#include "parsers/dns/dns_message.hpp"

#include "parsers/quic/client_initial.hpp"
#include "parsers/http/http_request.hpp"
#include "parsers/quic/gquic.hpp"
#include "parsers/quic/initial.hpp"
#include "pipeline/classify/classifier.hpp"
#include "pipeline/known_endpoints.hpp"

#include <algorithm>
#include <cstring>

namespace wt::pipeline {

namespace {

namespace tcp_flags = parsers::tcp_flags;
using parsers::kIpProtoTcp;
using parsers::kIpProtoUdp;

// Ports where the lower-numbered, well-known side is the server when no SYN tells us.
bool is_service_port(std::uint16_t port) noexcept {
    return port < 1024 || port == 1883 || port == 3478 || port == 5228 || port == 5223 || port == 5353 ||
           port == 5355 || port == 8080 || port == 8443 || port == 8883 || port == 19302;
}

// RFC 8446 section 5.1: a handshake record header (type 22, legacy version 3.x,
// a plausible length). Used to find where TLS starts after a plaintext preamble.
bool starts_tls_handshake_record(parsers::Bytes p) noexcept {
    return p.size() >= 6 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && (p[5] == 1 || p[5] == 2) &&
           parsers::load_u16(p.data() + 3) != 0 && parsers::load_u16(p.data() + 3) <= 16384 + 2048;
}

bool starts_http_request(parsers::Bytes p) noexcept {
    parsers::HttpRequest req;
    const parsers::ParseStatus st = parsers::parse_http_request(p, req);
    return st == parsers::ParseStatus::kOk || st == parsers::ParseStatus::kNeedMore;
}

} // namespace

Worker::Worker(const WorkerConfig& config, const ServiceClassifier* classifier, const ActionSchedule* actions,
               FlowSink* sink)
    : _config(config),
      _classifier(classifier),
      _actions(actions),
      _sink(sink),
      _table(config.max_flows),
      _flows(config.max_flows),
      _marks(config.live_tally ? ZeroedArray<TallyMark>(config.max_flows) : ZeroedArray<TallyMark>()),
      _details(config.detail_pool),
      _streams(config.stream_pool),
      _quic_decryptor(std::make_unique<parsers::QuicInitialDecryptor>()),
      _gquic(std::make_unique<parsers::GquicParser>()),
      _dns_message(std::make_unique<parsers::DnsMessage>()),
      _scratch_buf(parsers::limits::kMaxClientHelloSize),
      _dns_cache(config.dns_cache_entries),
      _tally(classifier != nullptr ? classifier->service_count() : 0, config.tally) {
    if (_classifier != nullptr) {
        _scratch = std::make_unique<ClassifierScratch>(*_classifier);
    }
    if (actions != nullptr) {
        allocate_action_tracks();
    } else {
        _action_from_ns = 0; // no actions: one stretch, all time, action 0
        _action_span_ns = std::numeric_limits<std::uint64_t>::max();
    }
    _interval_end_ns = config.interval_clock != nullptr ? 0 : std::numeric_limits<std::uint64_t>::max();
    if (config.interval_clock != nullptr) {
        _interval_tracks = ZeroedArray<IntervalTrack>(config.max_flows);
        _interval_log.reserve(kIntervalBatch);
        _next_flow_serial = config.first_flow_serial;
    }
    if (config.prefault) {
        _table.prefault();
        _flows.prefault();
        _marks.prefault();
        _dns_cache.prefault();
    }
    for (std::size_t i = config.detail_pool; i-- > 0;) {
        _free_details.push_back(static_cast<std::uint32_t>(i));
    }
    _detail_owner.assign(config.detail_pool, kNoIndex);
    _detail_reserve = config.detail_pool / 4;
    for (std::size_t i = config.stream_pool; i-- > 0;) {
        _free_streams.push_back(static_cast<std::uint32_t>(i));
    }
    _quic_states.reserve(config.quic_pool);
    for (std::size_t i = 0; i < config.quic_pool; ++i) {
        _quic_states.push_back(std::make_unique<parsers::QuicFlowState>());
    }
    for (std::size_t i = config.quic_pool; i-- > 0;) {
        _free_quic.push_back(static_cast<std::uint32_t>(i));
    }
}

Worker::~Worker() = default;

void Worker::allocate_action_tracks() {
    _tracks = ZeroedArray<ActionTrack>(_config.max_flows);
    _action_parts.resize(_config.action_parts);
    for (std::size_t i = _config.action_parts; i-- > 0;) {
        _action_parts[i].next = _free_action_part;
        _free_action_part = static_cast<std::uint32_t>(i);
    }
}

void Worker::set_live_action(const std::atomic<std::uint16_t>* action) {
    _live_action = action;
    if (_tracks.size() == 0) {
        allocate_action_tracks();
    }
    // Live, the action is read once per burst (process_burst): one stretch for all time.
    _action_from_ns = 0;
    _action_span_ns = std::numeric_limits<std::uint64_t>::max();
    _action_now = action->load(std::memory_order_relaxed);
}

void Worker::refresh_action(std::uint64_t ts_ns) noexcept {
    if (_actions == nullptr) {
        return;
    }
    const ActionSchedule::Span span = _actions->span_at(ts_ns);
    _action_now = span.action;
    _action_from_ns = span.from_ns;
    _action_span_ns = span.until_ns - span.from_ns;
}

void Worker::start_action_track(Flow& f, std::uint32_t index) noexcept {
    f.action = _action_now;
    if (_tracks.size() != 0) {
        ActionTrack& t = _tracks[index];
        t = ActionTrack{};
        t.opened_in = _action_now;
    }
}

void Worker::change_action(Flow& f, const parsers::DecodedPacket& pkt) noexcept {
    // Only data uses a connection in an action: ACKs, FINs and keep-alives without payload stay with
    // the stretch under way.
    if (pkt.l4_payload.empty() || _tracks.size() == 0) {
        return;
    }
    const auto index = static_cast<std::size_t>(&f - &_flows[0]);
    ActionTrack& t = _tracks[index];
    const bool has_handshake = f.key.proto == kIpProtoTcp || f.key.proto == kIpProtoUdp;
    if (has_handshake && t.opening && !t.counted && f.inspected == 0 && !(f.flags & kFlowAppDone)) {
        // The flow's first data: a connection belongs to the action its data starts in (a handshake
        // done just before a mark opens the next action's connection). Only TCP and UDP payload is
        // inspected: an ICMP or ESP flow's first packet is its data, so it opened where it began.
        t.opened_in = _action_now;
        f.action = _action_now;
        return;
    }
    if (_free_action_part != kNoIndex) {
        const std::uint32_t at = _free_action_part;
        ActionPart& part = _action_parts[at];
        _free_action_part = part.next;
        t.since_base(f, part.bytes_up, part.bytes_down, part.pkts_up, part.pkts_down);
        part.action = f.action;
        part.counted = t.counted;
        part.opening = t.opening;
        part.next = t.parts;
        t.parts = at;
        t.rebase(f);
    } else {
        // No room to wait for the flow's end: the stretch is tallied now, named as the flow is now.
        FlowDetail* d = detail_for_tally(f);
        finalize(f, d, _scratch.get());
        tally_action_parts(f, d, _tally);
        ++_counters.action_parts_early;
    }
    t.counted = false;
    t.opening = false;
    f.action = _action_now;
}

void Worker::log_interval(Flow& f, std::uint32_t index) noexcept {
    IntervalTrack& t = _interval_tracks[index];
    const std::uint64_t up = f.bytes_up - t.base_up;
    const std::uint64_t down = f.bytes_down - t.base_down;
    if ((up | down) != 0) {
        _interval_log.push_back(IntervalBytes{t.serial, t.interval, up, down});
        if (_interval_log.size() == kIntervalBatch) {
            flush_interval_log();
        }
    }
    t.interval = _interval_now;
    t.base_up = f.bytes_up;
    t.base_down = f.bytes_down;
}

void Worker::flush_interval_log() noexcept {
    if (_sink != nullptr && !_interval_log.empty()) {
        _sink->on_interval_bytes(_interval_log);
    }
    _interval_log.clear();
}

void Worker::tally_action_parts(Flow& f, const FlowDetail* d, CoreTally& into) noexcept {
    if (_tracks.size() == 0) {
        return;
    }
    ActionTrack& t = _tracks[static_cast<std::size_t>(&f - &_flows[0])];
    const auto use_of = [&t](bool counted, bool opening) {
        return counted ? ActionUse::kMore : opening ? ActionUse::kNew : ActionUse::kReused;
    };
    Flow part = f;
    for (std::uint32_t i = t.parts; i != kNoIndex;) {
        ActionPart& p = _action_parts[i];
        part.bytes_up = p.bytes_up;
        part.bytes_down = p.bytes_down;
        part.pkts_up = p.pkts_up;
        part.pkts_down = p.pkts_down;
        into.add_action_part(part, d, p.action, use_of(p.counted, p.opening), t.opened_in);
        const std::uint32_t next = p.next;
        p.next = _free_action_part;
        _free_action_part = i;
        i = next;
    }
    t.parts = kNoIndex;
    t.since_base(f, part.bytes_up, part.bytes_down, part.pkts_up, part.pkts_down);
    if (!t.counted || (part.pkts_up | part.pkts_down) != 0) {
        into.add_action_part(part, d, f.action, use_of(t.counted, t.opening), t.opened_in);
    }
    t.counted = true;
    t.rebase(f);
}

std::size_t Worker::memory_bytes() const noexcept {
    return _table.memory_bytes() + _flows.memory_bytes() + _marks.memory_bytes() + _tracks.memory_bytes() +
           _interval_tracks.memory_bytes() + _interval_log.capacity() * sizeof(IntervalBytes) +
           _action_parts.capacity() * sizeof(ActionPart) + _details.memory_bytes() +
           (_free_details.capacity() + _detail_owner.capacity()) * sizeof(std::uint32_t) + _streams.capacity() * sizeof(StreamAssembler) +
           _free_streams.capacity() * sizeof(std::uint32_t) + _quic_states.size() * sizeof(parsers::QuicFlowState) +
           _scratch_buf.capacity() + _dns_cache.memory_bytes() + _dns_outbox.capacity() * sizeof(DnsResolution) +
           _tally.memory_bytes();
}

void Worker::enable_dns_outbox(std::size_t capacity) {
    _dns_outbox.reserve(capacity);
    _dns_outbox_capacity = capacity;
}

std::uint64_t Worker::dispatch_hash(parsers::LinkType link, parsers::Bytes frame, std::uint32_t wire_len) noexcept {
    parsers::DecodedPacket pkt;
    if (parsers::decode_packet(link, frame, pkt, wire_len) != parsers::DecodeStatus::kOk) {
        return 0;
    }
    bool src_is_lo = false;
    FlowKey key;
    key_of(pkt, key, src_is_lo);
    return key.hash();
}


FlowDetail* Worker::detail_of(Flow& f) noexcept {
    return f.detail == kNoIndex ? nullptr : &_details[f.detail];
}

FlowDetail* Worker::ensure_detail(Flow& f) noexcept {
    if (f.detail != kNoIndex) {
        return &_details[f.detail];
    }
    if (_free_details.empty() && !reclaim_detail()) {
        ++_counters.detail_pool_exhausted;
        return nullptr;
    }
    f.detail = _free_details.back();
    _free_details.pop_back();
    _detail_owner[f.detail] = static_cast<std::uint32_t>(&f - &_flows[0]);
    return &_details.emplace(f.detail);
}

bool Worker::reclaim_detail() noexcept {
    const std::size_t n = _detail_owner.size();
    for (std::size_t k = 0; k < kReclaimWindow && k < n; ++k) {
        const std::size_t slot = _detail_hand;
        _detail_hand = _detail_hand + 1 == n ? 0 : _detail_hand + 1;
        const std::uint32_t owner = _detail_owner[slot];
        const Flow& g = _flows[owner];
        // Not a closed TCP flow: its last ACK is still to come (closed_linger_ns) and would open a new one.
        if ((g.flags & kFlowLive) && g.detail == slot && (dns_answered(g) || idle_past_timeout(g, _now_ns))) {
            ++_counters.flows_reclaimed;
            end_flow(owner);
            return !_free_details.empty();
        }
    }
    return false;
}

StreamAssembler* Worker::ensure_stream(Flow& f, FlowDetail& d, bool up) noexcept {
    std::uint32_t& idx = up ? d.stream_up : d.stream_down;
    if (idx != kNoIndex) {
        return &_streams[idx];
    }
    if (_free_streams.empty()) {
        ++_counters.stream_pool_exhausted;
        return nullptr;
    }
    idx = _free_streams.back();
    _free_streams.pop_back();
    StreamAssembler& s = _streams[idx];
    s.reset();
    if (up && (f.flags & kFlowSynSeen)) {
        s.set_base(f.isn_up + 1);
    } else if (!up && (f.flags & kFlowSynAckSeen)) {
        s.set_base(f.isn_down + 1);
    }
    return &s;
}

void Worker::release_resources(FlowDetail* d) noexcept {
    if (d == nullptr) {
        return;
    }
    if (d->stream_up != kNoIndex) {
        _free_streams.push_back(d->stream_up);
        d->stream_up = kNoIndex;
    }
    if (d->stream_down != kNoIndex) {
        _free_streams.push_back(d->stream_down);
        d->stream_down = kNoIndex;
    }
    if (d->quic != kNoIndex) {
        _free_quic.push_back(d->quic);
        d->quic = kNoIndex;
    }
}

void Worker::set_roles_on_create(Flow& f, const parsers::DecodedPacket& pkt) noexcept {
    const Endpoint src{pkt.src, pkt.src_port};
    const Endpoint dst{pkt.dst, pkt.dst_port};
    if (pkt.l4_proto == kIpProtoTcp && (pkt.tcp_flags & tcp_flags::kSyn)) {
        // RFC 9293 section 3.5: the SYN without ACK opens; a SYN+ACK answers.
        const bool syn_ack = (pkt.tcp_flags & tcp_flags::kAck) != 0;
        f.set_client(syn_ack ? dst : src);
        f.flags |= kFlowRoleFromSyn;
        return;
    }
    // No handshake seen: the sender is the client unless it sends from a service
    // port to an ephemeral one. Application evidence (ClientHello, DNS query,
    // QUIC Initial) may still correct this.
    f.set_client(is_service_port(pkt.src_port) && !is_service_port(pkt.dst_port) ? dst : src);
}

void Worker::swap_roles(Flow& f) noexcept {
    f.flags ^= kFlowClientIsHi;
    std::swap(f.pkts_up, f.pkts_down);
    std::swap(f.bytes_up, f.bytes_down);
    if (FlowDetail* d = detail_of(f)) {
        std::swap(d->stream_up, d->stream_down);
    }
    std::swap(f.isn_up, f.isn_down);
    const std::uint16_t syn = f.flags & kFlowSynSeen;
    const std::uint16_t synack = f.flags & kFlowSynAckSeen;
    const std::uint16_t cfin = f.flags & kFlowClientFin;
    const std::uint16_t sfin = f.flags & kFlowServerFin;
    const std::uint16_t updone = f.flags & kFlowUpDone;
    const std::uint16_t downdone = f.flags & kFlowDownDone;
    const std::uint16_t upunknown = f.flags & kFlowUpUnknown;
    const std::uint16_t downunknown = f.flags & kFlowDownUnknown;
    f.flags &= static_cast<std::uint16_t>(~(kFlowSynSeen | kFlowSynAckSeen | kFlowClientFin | kFlowServerFin |
                                             kFlowUpDone | kFlowDownDone | kFlowUpUnknown | kFlowDownUnknown));
    f.flags |= (syn ? kFlowSynAckSeen : 0) | (synack ? kFlowSynSeen : 0) | (cfin ? kFlowServerFin : 0) |
               (sfin ? kFlowClientFin : 0) | (updone ? kFlowDownDone : 0) | (downdone ? kFlowUpDone : 0) |
               (upunknown ? kFlowDownUnknown : 0) | (downunknown ? kFlowUpUnknown : 0);
}

std::uint32_t Worker::take_flow_record() noexcept {
    if (_free_flow_head != kNoIndex) {
        const std::uint32_t index = _free_flow_head;
        _free_flow_head = _flows[index].detail;
        return index;
    }
    if (_flows_touched < _flows.size()) {
        return _flows_touched++;
    }
    return kNoIndex;
}

void Worker::free_flow_record(std::uint32_t index) noexcept {
    Flow& f = _flows[index];
    f.flags = 0;
    f.detail = _free_flow_head;
    _free_flow_head = index;
}

std::uint32_t Worker::lookup_or_create(const parsers::DecodedPacket& pkt, const FlowKey& key, std::uint64_t hash,
                                       bool src_is_lo, std::uint64_t ts_ns, bool& from_client) noexcept {
    const std::uint32_t found =
        _table.find(hash, key, [this](std::uint32_t i) -> const FlowKey& { return _flows[i].key; });
    if (found != kNoFlow) {
        const Flow& f = _flows[found];
        const bool new_syn = pkt.l4_proto == kIpProtoTcp && (pkt.tcp_flags & (tcp_flags::kSyn | tcp_flags::kAck)) == tcp_flags::kSyn;
        if (!(new_syn && is_closing(f))) {
            from_client = src_is_lo == !(f.flags & kFlowClientIsHi);
            return found;
        }
        end_flow(found); // the tuple is reused by a new connection
    }
    if (_table.full() || (_free_flow_head == kNoIndex && _flows_touched == _flows.size())) {
        if (!evict_one(ts_ns)) {
            ++_counters.flow_table_full;
            return kNoIndex;
        }
    }
    const std::uint32_t index = take_flow_record();
    if (index == kNoIndex || !_table.insert(hash, index)) {
        if (index != kNoIndex) {
            free_flow_record(index);
        }
        ++_counters.flow_table_full;
        return kNoIndex;
    }
    Flow& f = _flows[index];
    f = Flow{};
    if (_config.live_tally) {
        _marks[index] = TallyMark{};
    }
    f.key = key;
    f.flags = kFlowLive;
    f.ts_first_ns = ts_ns;
    f.ts_last_ns = ts_ns;
    set_roles_on_create(f, pkt);
    from_client = src_is_lo == !(f.flags & kFlowClientIsHi);
    if (pkt.has_mac) {
        std::memcpy(f.client_mac, from_client ? pkt.src_mac.data() : pkt.dst_mac.data(), 6);
    }
    start_action_track(f, index);
    if (_interval_tracks.size() != 0) {
        _interval_tracks[index] = IntervalTrack{0, 0, _next_flow_serial, _interval_now}; // 2^32 flows a run
        _next_flow_serial += _config.flow_serial_step;
    }
    // Name the flow from DNS now, while the answer that led here is surely in the cache.
    if (_dns_cache.lookup(f.client().ip, f.server().ip, ts_ns) != nullptr) {
        if (FlowDetail* d = ensure_detail(f)) {
            resolve_name(f, *d);
        }
    }
    ++_counters.flows_created;
    return index;
}

bool Worker::idle_past_timeout(const Flow& f, std::uint64_t now_ns) const noexcept {
    std::uint64_t timeout = f.key.proto == kIpProtoTcp ? _config.tcp_idle_ns : _config.udp_idle_ns;
    if (is_closing(f)) {
        timeout = std::min(timeout, _config.closed_linger_ns);
    }
    return now_ns > f.ts_last_ns && now_ns - f.ts_last_ns > timeout;
}

bool Worker::dns_answered(const Flow& f) const noexcept {
    // A UDP DNS transaction is over once its answer resolved (RFC 1035 section 7.3: the resolver
    // matches one response to its query); a later query from the same port is a new exchange.
    const FlowDetail* d = f.detail == kNoIndex ? nullptr : &_details[f.detail];
    return (f.flags & kFlowAppDone) && f.key.proto == kIpProtoUdp && d != nullptr && d->app == AppProto::kDns &&
           d->dns.response_seen;
}

bool Worker::evict_one(std::uint64_t now_ns) noexcept {
    // Sampled LRU in constant time: of the next kEvictWindow records under the clock hand (sequential
    // lines, which the hardware prefetcher streams in), end the first past its timeout, else the first
    // complete one (closed, or a DNS exchange answered), else the one idle longest. The table is full
    // only when every record holds a flow, so the window always has candidates; no lap, no scan.
    const std::size_t n = _flows_touched;
    if (n == 0) {
        return false;
    }
    std::size_t victim = n;
    bool victim_complete = false;
    for (std::size_t k = 0; k < kEvictWindow; ++k) {
        const std::size_t i = _clock_hand >= n ? 0 : _clock_hand;
        _clock_hand = i + 1;
        const Flow& f = _flows[i];
        if (!(f.flags & kFlowLive)) {
            continue;
        }
        if (idle_past_timeout(f, now_ns)) {
            ++_counters.flows_idle_expired;
            end_flow(static_cast<std::uint32_t>(i));
            return true;
        }
        const bool complete = is_closing(f) || dns_answered(f);
        if (victim == n || (complete && !victim_complete) ||
            (complete == victim_complete && f.ts_last_ns < _flows[victim].ts_last_ns)) {
            victim = i;
            victim_complete = complete;
        }
    }
    if (victim == n) {
        return false;
    }
    ++_counters.flows_evicted;
    end_flow(static_cast<std::uint32_t>(victim));
    return true;
}

void Worker::expire(std::uint64_t now_ns, std::size_t budget) noexcept {
    // An idle worker's clock still moves (a flow waiting for its name is tallied once its grace is over).
    _now_ns = std::max(_now_ns, now_ns);
    // Only records ever used can hold a flow; the sweep stays within them.
    const std::size_t n = _flows_touched;
    if (n == 0) {
        return;
    }
    if (_clock_hand >= n) {
        _clock_hand = 0;
    }
    // Paced by packet time: a lap of the table every kExpireLapNs, which no timeout (30 s at the
    // least) notices, instead of `budget` records every burst: at a million flows and millions of
    // packets a second that swept the table twelve times a second and was 12 % of the worker's time.
    // `budget` still bounds one call (a burst's gap stays short); credit never exceeds one lap.
    if (now_ns > _expire_clock_ns) {
        const std::uint64_t elapsed = std::min(now_ns - _expire_clock_ns, kExpireLapNs);
        _expire_credit = std::min(_expire_credit + static_cast<double>(n) * static_cast<double>(elapsed) /
                                                       static_cast<double>(kExpireLapNs),
                                  static_cast<double>(n));
        _expire_clock_ns = now_ns;
    }
    const std::size_t due = std::min({budget, n, static_cast<std::size_t>(_expire_credit)});
    _expire_credit -= static_cast<double>(due);
    for (std::size_t k = 0; k < due; ++k) {
        const std::size_t i = _clock_hand;
        _clock_hand = (_clock_hand + 1) % n;
        if ((_flows[i].flags & kFlowLive) && idle_past_timeout(_flows[i], now_ns)) {
            ++_counters.flows_idle_expired;
            end_flow(static_cast<std::uint32_t>(i));
        }
    }
}

// ---- live tallies by packet time -------------------------------------------------------------

void Worker::begin_interval(CoreTally& spare, const ServiceClassifier*& classifier,
                            std::unique_ptr<ClassifierScratch>& scratch) noexcept {
    std::swap(_tally, spare);
    ClassifierScratch* old_scratch = _scratch.get();
    if (classifier != nullptr) {
        std::swap(_classifier, classifier);
        std::swap(_scratch, scratch);
    }
    if (!_config.live_tally) {
        return;
    }
    _retiring = &spare;
    _retiring_scratch = old_scratch;
    _retiring_epoch = _epoch;
    _epoch = static_cast<std::uint8_t>(_epoch == 255 ? 1 : _epoch + 1);
    _sweep = 0;
    _sweep_end = _flows_touched;
}

bool Worker::complete_interval(std::size_t budget) noexcept {
    if (_retiring == nullptr) {
        return true;
    }
    const std::size_t end = budget >= _sweep_end - _sweep ? _sweep_end : _sweep + budget;
    for (; _sweep < end; ++_sweep) {
        Flow& f = _flows[_sweep];
        if ((f.flags & kFlowLive) && f.tally_epoch == _retiring_epoch) {
            // A flow still waiting for its name stays untallied: its part goes to the new interval.
            f.tally_epoch = tally_part(f, *_retiring, _retiring_scratch, PartKind::kInterval) ? 0 : _epoch;
        }
    }
    if (_sweep < _sweep_end) {
        return false;
    }
    _retiring = nullptr;
    _retiring_scratch = nullptr;
    return true;
}

void Worker::enter_interval(Flow& f) noexcept {
    if (_retiring != nullptr && f.tally_epoch == _retiring_epoch) {
        // A flow still waiting for its name is not tallied: its part goes on into this interval.
        (void)tally_part(f, *_retiring, _retiring_scratch, PartKind::kInterval);
    }
    f.tally_epoch = _epoch;
}

// A part carries the packets and bytes since the flow's previous part. The first one counts the
// connection and its TLS facts (kOpening, or kWhole when it is also the last), so that a flow is
// counted once however many parts it has; the name is settled first (finalize), so a long
// download shows under its service while it runs.
FlowDetail* Worker::detail_for_tally(Flow& f) noexcept {
    FlowDetail* d = detail_of(f);
    if (d != nullptr) {
        return d;
    }
    // UDP payload we did not recognise took no detail record (inspect_udp), but such a flow is
    // still named by what its client resolved, as any flow whose payload was inspected is.
    if (f.key.proto == kIpProtoUdp && f.inspected > 0 &&
        _dns_cache.lookup(f.client().ip, f.server().ip, f.ts_first_ns) != nullptr) {
        return ensure_detail(f);
    }
    // Port 853 is DNS over TLS or QUIC (RFC 7858, RFC 9250) even when no payload passed: a refused
    // or unanswered attempt is what shows that a device tried encrypted DNS.
    if (f.server().port == kDotPort && (f.key.proto == kIpProtoTcp || f.key.proto == kIpProtoUdp)) {
        return ensure_detail(f);
    }
    return nullptr;
}

bool Worker::tally_part(Flow& f, CoreTally& into, ClassifierScratch* scratch, PartKind kind) noexcept {
    const bool last = kind == PartKind::kLast;
    FlowDetail* d = detail_for_tally(f);
    TallyMark& mark = _marks[static_cast<std::size_t>(&f - &_flows[0])];
    if (kind == PartKind::kInterval && !mark.any() && _now_ns - f.ts_first_ns < _config.naming_grace_ns) {
        bool named_for_good =
            (f.flags & kFlowAppDone) ||
            f.inspected >= (f.key.proto == kIpProtoTcp ? _config.max_inspected_segments : _config.max_inspected_datagrams);
        if (named_for_good && d != nullptr) {
            // A name no pattern knows may still be classified by its CNAME chain once the DNS answer
            // reaches this worker (a message from the worker that saw it): its first part waits too.
            finalize(f, d, scratch);
            named_for_good = f.service >= 0 || d->name.empty() || d->name_source == NameSource::kDnsQuery ||
                             !d->resolved_query.empty();
        }
        if (!named_for_good) {
            return false;
        }
    }
    finalize(f, d, scratch);
    Flow part = f;
    part.pkts_up = f.pkts_up - mark.pkts_up;
    part.pkts_down = f.pkts_down - mark.pkts_down;
    part.bytes_up = static_cast<std::uint32_t>(f.bytes_up) - mark.bytes_up;
    part.bytes_down = static_cast<std::uint32_t>(f.bytes_down) - mark.bytes_down;
    into.add_flow(part, d, !mark.any() ? (last ? TallyPart::kWhole : TallyPart::kOpening) : TallyPart::kContinuation);
    tally_action_parts(f, d, into);
    mark.pkts_up = f.pkts_up;
    mark.pkts_down = f.pkts_down;
    mark.bytes_up = static_cast<std::uint32_t>(f.bytes_up);
    mark.bytes_down = static_cast<std::uint32_t>(f.bytes_down);
    ++_counters.flow_parts_tallied;
    return true;
}

void Worker::flush_all() noexcept {
    for (std::size_t i = 0; i < _flows_touched; ++i) {
        if (_flows[i].flags & kFlowLive) {
            end_flow(static_cast<std::uint32_t>(i));
        }
    }
    flush_interval_log();
}

void Worker::end_flow(std::uint32_t index) noexcept {
    Flow& f = _flows[index];
    FlowDetail* d = detail_for_tally(f);
    if (_config.live_tally) {
        // What passed in the interval being completed goes to its tally, the rest to this one.
        if (_retiring != nullptr && f.tally_epoch == _retiring_epoch) {
            (void)tally_part(f, *_retiring, _retiring_scratch, PartKind::kInterval);
        }
        (void)tally_part(f, _tally, _scratch.get(), PartKind::kLast);
    } else {
        finalize(f, d, _scratch.get());
        _tally.add_flow(f, d);
        tally_action_parts(f, d, _tally);
    }
    if (_sink != nullptr) {
        std::string_view service;
        if (_classifier != nullptr && f.service >= 0) {
            service = _classifier->service_name(f.service);
        }
        if (_interval_tracks.size() != 0) {
            log_interval(f, index);
            _sink->on_flow_serial(_interval_tracks[index].serial, f, d, service);
        }
        _sink->on_flow_end(f, d, service, opened_in(index));
    }
    release_resources(d);
    if (f.detail != kNoIndex) {
        _free_details.push_back(f.detail);
        f.detail = kNoIndex;
    }
    _table.erase(f.key.hash(), index);
    free_flow_record(index);
    ++_counters.flows_ended;
}

void Worker::finalize(Flow& f, FlowDetail* d, ClassifierScratch* scratch) noexcept {
    if (d == nullptr) {
        return;
    }
    if (f.server().port == kDotPort) {
        if (f.key.proto == kIpProtoTcp && d->app == AppProto::kUnknown) {
            d->app = AppProto::kDot;
        } else if (f.key.proto == kIpProtoUdp && (d->app == AppProto::kUnknown || d->app == AppProto::kQuic)) {
            d->doq = true;
        }
    }
    // The ALPN names DNS over TLS or QUIC on any port (RFC 7858 section 3.1 allows another port
    // by agreement; RFC 9250 section 4.1.1, whose drafts used "doq-iNN" on UDP 784 and 8853).
    if (d->app == AppProto::kTls && offers_alpn_family(d->tls, kAlpnDot)) {
        d->app = AppProto::kDot;
    } else if (d->app == AppProto::kQuic && offers_alpn_family(d->tls, kAlpnDoq)) {
        d->doq = true;
    }
    // Issue #2 priority: SNI, then QUIC SNI, then HTTP Host, then (for DNS flows)
    // the query, then what this client resolved the server address from; ahead of them all, the
    // name a real ECH hello hides (issue #14).
    if (recover_ech_name(f, *d)) {
        // named kEchDns
    } else if (!d->sni.empty()) {
        d->name = d->sni;
        d->name_source = d->app == AppProto::kQuic ? NameSource::kQuicSni : NameSource::kSni;
    } else if (!d->http_host.empty()) {
        d->name = d->http_host;
        d->name_source = NameSource::kHttpHost;
    } else if (d->app == AppProto::kDns && !d->dns.query.empty()) {
        d->name = d->dns.query;
        d->name_source = NameSource::kDnsQuery;
    } else if (d->resolved_query.empty()) {
        resolve_name(f, *d);
    }
    if (d->name.empty() && !d->resolved_query.empty()) {
        d->name = d->resolved_query;
        d->name_source = NameSource::kDnsResolution;
    }
    // On an address several names share, the resolution this flow followed is the one whose question
    // or CNAME chain is the name it asked the server for (RFC 1034 section 3.6.2). Looked up again
    // here, not only when the flow began: with several workers the answer may have reached this
    // worker's cache (a message from the worker that saw it) only after the flow's first packet.
    if (d->name_source != NameSource::kDnsResolution && d->name_source != NameSource::kDnsQuery &&
        !d->name.empty() && !resolution_names(*d, d->name.view())) {
        resolve_name(f, *d, d->name.view());
    }
    // RFC 9849 section 6.2: a GREASE extension looks like a real one. The client resolved the
    // very name it sent in the SNI and was given no configuration for it: GREASE. Without DNS of
    // this client for the flow, it cannot be told.
    if (d->tls.ech_offered && d->tls.ech != EchKind::kReal) {
        d->tls.ech = !d->sni.empty() && resolution_names(*d, d->sni.view()) ? EchKind::kGrease : EchKind::kUnknown;
    }
    if (scratch != nullptr && !d->name.empty()) {
        const std::uint64_t scan_errors = scratch->scan_errors();
        f.service = scratch->classify(d->name.view());
        d->matched_by = 0;
        // A name no pattern knows is classified by where its CNAME chain leads (x.example.com ->
        // x.example.com.edgekey.net -> e1234.a.akamaiedge.net is Akamai), the nearest name first.
        // Only the part of a chain after the flow's own name counts: another name's resolution of a
        // shared address says nothing about this one.
        if (f.service < 0) {
            const NameChain& chain = name_chain(*d);
            const std::size_t from = chain_start_after_name(*d);
            std::size_t i = 0;
            for (std::string_view cname : chain) {
                if (i >= from && f.service < 0 && i + 2 <= 0xff) {
                    f.service = scratch->classify(cname);
                    d->matched_by = f.service >= 0 ? static_cast<std::uint8_t>(2 + i) : 0;
                }
                ++i;
            }
        }
        _counters.classifier_scan_errors += scratch->scan_errors() - scan_errors;
        // Nothing named it: a CDN's or cloud's address says who serves it (a binary search over
        // ranges built from the IP data off the data path; no IP data file is read here).
        d->inferred_asn = 0;
        if (f.service < 0) {
            f.service = scratch->classifier().service_for_address(f.server().ip, d->inferred_asn);
        }
    }
    // RFC 8484: DNS over HTTPS is HTTPS (TLS or QUIC) to a resolver: one the services name (category
    // "dns", by the name or its CNAME chain), or a public resolver's anycast address spoken to in
    // HTTP/2 or HTTP/3 (section 5.2), the way a browser's secure DNS set to a provider connects. The
    // same over port 853 is DNS over TLS or QUIC, and a DNS lookup of a resolver's name is neither.
    const bool https = (d->app == AppProto::kTls || d->app == AppProto::kQuic) && f.server().port != kDotPort &&
                       !d->doq;
    d->doh_endpoint =
        https && ((scratch != nullptr && f.service >= 0 &&
                   scratch->classifier().service_category(f.service) == kResolverCategory) ||
                  (is_public_resolver_address(f.server().ip) && (offers_alpn(d->tls, "h2") || offers_alpn(d->tls, "h3"))));
}

bool Worker::decode_stage(parsers::LinkType link, parsers::Bytes frame, std::uint32_t wire_len,
                          parsers::DecodedPacket& pkt) noexcept {
    ++_counters.packets;
    _counters.bytes += frame.size();
    const parsers::DecodeStatus st = parsers::decode_packet(link, frame, pkt, wire_len);
    if (st == parsers::DecodeStatus::kNotIp) {
        ++_counters.non_ip_packets;
        if (pkt.ethertype == parsers::kEtherTypeArpFrame) [[unlikely]] {
            learn_neighbours(pkt);
        }
        return false;
    }
    if (st != parsers::DecodeStatus::kOk) {
        ++_counters.decode_errors;
        ++_decode_drops[static_cast<std::size_t>(st)];
        return false;
    }
    ++_counters.ip_packets;
    if (pkt.fragmented) {
        ++_counters.fragments;
        if (!pkt.first_fragment) {
            ++_counters.non_first_fragments;
        }
    }
    // Neighbour Discovery, and DHCP between its two ports (RFC 2131 section 4.1): who is on the link.
    if (pkt.l4_proto == parsers::kIpProtoIcmpv6 ||
        (pkt.l4_proto == parsers::kIpProtoUdp && static_cast<std::uint16_t>(pkt.src_port - 67) <= 1 &&
         static_cast<std::uint16_t>(pkt.dst_port - 67) <= 1 && pkt.src_port != pkt.dst_port)) [[unlikely]] {
        learn_neighbours(pkt);
    }
    return true;
}

void Worker::learn_neighbours(const parsers::DecodedPacket& pkt) noexcept {
    if (pkt.tunneled || !pkt.has_mac || (pkt.fragmented && !pkt.first_fragment)) {
        return; // the link-layer addresses are not those of the messages' devices
    }
    const auto hint = [this](const parsers::MacAddress& mac, const IpAddr& address, DeviceHintSource source,
                             std::string_view host_name = {}, std::string_view vendor_class = {}) {
        if (std::all_of(mac.begin(), mac.end(), [](std::uint8_t b) { return b == 0; }) || (mac[0] & 1) != 0) {
            return; // no address, or a group address: no device
        }
        _tally.add_device_hint(DeviceHintKey{mac}, address, source, host_name, vendor_class);
        ++_counters.neighbour_hints;
    };
    if (pkt.ethertype == parsers::kEtherTypeArpFrame && pkt.status == parsers::DecodeStatus::kNotIp) {
        parsers::ArpMessage arp;
        if (parsers::parse_arp(pkt.l4_payload, arp) == parsers::ParseStatus::kOk) {
            // An ARP probe (RFC 5227) is sent from 0.0.0.0: it vouches for no address.
            hint(arp.sender_mac, parsers::is_unspecified(arp.sender_ip) ? IpAddr{} : arp.sender_ip, kHintArp);
        }
        return;
    }
    if (pkt.l4_proto == parsers::kIpProtoIcmpv6) {
        parsers::NdpMessage nd;
        if (parsers::parse_ndp(pkt.l4_payload, pkt.src, nd) == parsers::ParseStatus::kOk) {
            if (nd.has_mac) {
                hint(nd.mac, nd.address, kHintNdp);
            } else if (nd.type == 136 && nd.address.version != 0) {
                // A solicited advertisement may leave out its target's link-layer address (RFC 4861
                // section 7.2.4): the node that owns the target sent it.
                hint(pkt.src_mac, nd.address, kHintNdp);
            }
        }
        return;
    }
    parsers::DhcpMessage dhcp;
    if (parsers::parse_dhcp(pkt.l4_payload, dhcp) == parsers::ParseStatus::kOk && dhcp.has_client_mac) {
        hint(dhcp.client_mac, dhcp.address, kHintDhcp, dhcp.host_name.view(), dhcp.vendor_class.view());
    }
}

void Worker::process_packet(parsers::LinkType link, parsers::Bytes frame, std::uint64_t ts_ns,
                            std::uint32_t wire_len) noexcept {
    _now_ns = ts_ns;
    if (_live_action != nullptr) {
        _action_now = _live_action->load(std::memory_order_relaxed);
    }
    parsers::DecodedPacket pkt;
    if (!decode_stage(link, frame, wire_len, pkt)) {
        return;
    }
    bool src_is_lo = false;
    FlowKey key;
    key_of(pkt, key, src_is_lo);
    flow_stage(pkt, key, key.hash(), src_is_lo, ts_ns);
}

void Worker::process_burst(std::span<const FrameRef> frames) noexcept {
    if (_live_action != nullptr) {
        _action_now = _live_action->load(std::memory_order_relaxed); // a live mark holds from the next burst
    }
    // Per batch of kBurstBatch: decode every packet; then key, hash and prefetch every home bucket
    // (apart from decoding, so the key loads do not wait on the decoder's recent stores); then a
    // rolling stage kPrefetchDistance packets deep (the software pipelining of VPP's node loops):
    // packet i's bucket, on its way since the pass before, names the record to prefetch while
    // packet i - D, whose record has had D packets of work to arrive, goes through the flow stage.
    // A burst so pays about one memory latency instead of one per round of misses. Packets still go
    // through the flow stage in arrival order (a flow a packet creates is found by the next one; the
    // prefetches are only hints).
    constexpr std::size_t kDist = kPrefetchDistance;
    static_assert(kDist < kBurstBatch);
    for (std::size_t base = 0; base < frames.size(); base += kBurstBatch) {
        const std::size_t n = std::min(kBurstBatch, frames.size() - base);
        const FrameRef* batch = frames.data() + base;
        for (std::size_t i = 0; i < n; ++i) {
            _burst[i].to_flow = decode_stage(batch[i].link, batch[i].frame, batch[i].wire_len, _burst[i].pkt);
        }
        for (std::size_t i = 0; i < n; ++i) {
            BurstSlot& slot = _burst[i];
            if (slot.to_flow) {
                key_of(slot.pkt, slot.key, slot.src_is_lo);
                slot.hash = slot.key.hash();
                _table.prefetch(slot.hash);
            }
        }
        for (std::size_t i = 0; i < n + kDist; ++i) {
            if (i < n && _burst[i].to_flow) {
                const std::uint32_t c = _table.candidate(_burst[i].hash);
                if (c != kNoFlow) {
                    prefetch_flow(_flows[c]);
                }
            }
            if (i >= kDist) {
                const std::size_t k = i - kDist;
                _now_ns = batch[k].ts_ns;
                if (_burst[k].to_flow) {
                    flow_stage(_burst[k].pkt, _burst[k].key, _burst[k].hash, _burst[k].src_is_lo, batch[k].ts_ns);
                }
            }
        }
    }
}

void Worker::flow_stage(const parsers::DecodedPacket& pkt, const FlowKey& key, std::uint64_t hash, bool src_is_lo,
                        std::uint64_t ts_ns) noexcept {
    bool from_client = true;
    const std::uint16_t action = action_now(ts_ns);
    if (ts_ns >= _interval_end_ns) [[unlikely]] { // never without a clock (the end is then the largest time)
        // Past the interval the worker knows: ask the run's clock (the first packet starts it).
        IntervalClock& clock = *_config.interval_clock;
        if (!clock.started()) {
            clock.start(ts_ns);
        }
        _interval_now = clock.unit_at(ts_ns, _interval_end_ns);
    }
    const std::uint32_t index = lookup_or_create(pkt, key, hash, src_is_lo, ts_ns, from_client);
    if (index == kNoIndex) {
        return;
    }
    Flow& f = _flows[index];
    if (f.tally_epoch != _epoch && _config.live_tally) [[unlikely]] {
        enter_interval(f); // before this packet is counted: it belongs to the new interval
    }
    if (f.action != action) [[unlikely]] {
        change_action(f, pkt); // before this packet is counted: it belongs to the new action
    }
    if (_interval_tracks.size() != 0 && _interval_tracks[index].interval != _interval_now) [[unlikely]] {
        log_interval(f, index); // before this packet is counted: it belongs to the new interval
    }
    f.ts_last_ns = std::max(f.ts_last_ns, ts_ns);
    f.ts_first_ns = std::min(f.ts_first_ns, ts_ns);
    std::uint64_t& bytes = from_client ? f.bytes_up : f.bytes_down;
    const std::uint64_t bytes_before = bytes;
    bytes += pkt.ip_bytes;
    ++(from_client ? f.pkts_up : f.pkts_down);
    if (((bytes ^ bytes_before) >> 31) != 0 && _config.live_tally) [[unlikely]] {
        // Every 2 GiB a direction moves, a part is tallied: no part exceeds what TallyMark's 32 bits hold.
        (void)tally_part(f, _tally, _scratch.get(), PartKind::kForced);
    }
    if (pkt.l4_proto == kIpProtoTcp && (!pkt.fragmented || pkt.first_fragment)) {
        if (pkt.tcp_flags & tcp_flags::kSyn) {
            if (pkt.tcp_flags & tcp_flags::kAck) {
                if (!from_client && !(f.flags & kFlowSynAckSeen)) {
                    f.isn_down = pkt.tcp_seq;
                    f.flags |= kFlowSynAckSeen;
                }
            } else if (from_client && !(f.flags & kFlowSynSeen)) {
                f.isn_up = pkt.tcp_seq;
                f.flags |= kFlowSynSeen;
            }
        }
        if (pkt.tcp_flags & tcp_flags::kFin) {
            f.flags |= from_client ? kFlowClientFin : kFlowServerFin;
        }
        if (pkt.tcp_flags & tcp_flags::kRst) {
            f.flags |= kFlowRst;
        }
        if (!pkt.l4_payload.empty() && !(f.flags & kFlowAppDone)) {
            inspect_tcp(f, pkt, from_client);
        }
    } else if (pkt.l4_proto == kIpProtoUdp && !pkt.l4_payload.empty() && !(f.flags & kFlowAppDone) &&
               (!pkt.fragmented || pkt.first_fragment)) {
        inspect_udp(f, pkt, from_client, ts_ns);
    }
}

void Worker::inspect_tcp(Flow& f, const parsers::DecodedPacket& pkt, bool from_client) noexcept {
    if (f.inspected >= _config.max_inspected_segments) {
        f.flags |= kFlowAppDone;
        release_resources(detail_of(f));
        return;
    }
    ++f.inspected;
    if (f.flags & (from_client ? kFlowUpDone : kFlowDownDone)) {
        return;
    }
    FlowDetail* d = ensure_detail(f);
    if (d == nullptr) {
        f.flags |= kFlowAppDone;
        return;
    }
    const std::uint16_t unknown_flag = from_client ? kFlowUpUnknown : kFlowDownUnknown;
    StreamAssembler* s = ensure_stream(f, *d, from_client);
    if (f.flags & unknown_flag) {
        // The stream began with something we don't parse (a STARTTLS preamble, a stray
        // payload on an ACK). TLS or HTTP may still start at a later segment:
        // resynchronise on the first segment that opens a handshake record or a request.
        if (!starts_tls_handshake_record(pkt.l4_payload) && !starts_http_request(pkt.l4_payload)) {
            return;
        }
        f.flags &= static_cast<std::uint16_t>(~unknown_flag);
        if (s != nullptr) {
            s->reset();
            s->set_base(pkt.tcp_seq);
        }
    }
    parsers::Bytes stream;
    if (s != nullptr) {
        if (!s->add(pkt.tcp_seq, pkt.l4_payload) && s->contiguous().empty()) {
            return; // out of order: wait for the missing start
        }
        stream = s->contiguous();
    } else {
        stream = pkt.l4_payload; // no reassembly buffer: best effort on this segment
    }
    StreamVerdict verdict = StreamVerdict::kUnknown;
    bool up = from_client;
    if (from_client) {
        bool client_side_app = true;
        verdict = extract_client_stream(f, *d, stream, client_side_app);
        if (!client_side_app && verdict != StreamVerdict::kUnknown && !(f.flags & kFlowRoleFromSyn)) {
            swap_roles(f); // what we called the client sent a server's message
            up = false;
        }
    } else if (!(f.flags & kFlowRoleFromSyn) && d->app == AppProto::kUnknown) {
        // A ClientHello or request from the side we took for the server means the
        // guess was wrong (we saw the server's packet first).
        bool client_side_app = false;
        verdict = extract_client_stream(f, *d, stream, client_side_app);
        if (client_side_app) {
            swap_roles(f);
            f.flags |= kFlowRoleFromApp;
            up = true;
        } else if (verdict != StreamVerdict::kNeedMore) {
            verdict = extract_server_stream(f, *d, stream);
        }
    } else {
        verdict = extract_server_stream(f, *d, stream);
    }
    std::uint32_t& idx = up ? d->stream_up : d->stream_down;
    if (verdict == StreamVerdict::kUnknown) {
        f.flags |= up ? kFlowUpUnknown : kFlowDownUnknown;
    } else if (verdict == StreamVerdict::kDone || (s != nullptr && s->overflowed())) {
        f.flags |= up ? kFlowUpDone : kFlowDownDone;
        if (idx != kNoIndex) {
            _free_streams.push_back(idx);
            idx = kNoIndex;
        }
    }
    if ((f.flags & kFlowUpDone) && (f.flags & kFlowDownDone)) {
        f.flags |= kFlowAppDone;
        release_resources(d);
    }
}

void Worker::inspect_udp(Flow& f, const parsers::DecodedPacket& pkt, bool from_client, std::uint64_t ts_ns) noexcept {
    if (f.inspected >= _config.max_inspected_datagrams) {
        f.flags |= kFlowAppDone;
        release_resources(detail_of(f));
        return;
    }
    ++f.inspected;
    // Most UDP flows are neither DNS nor QUIC: they need no 3.9 KB detail record, and
    // taking one was most of what a new flow cost. (The same outcome as extract_quic's
    // for an unrecognised flow: done after its second datagram.)
    const bool dns_port = is_dns_port(pkt.src_port) || is_dns_port(pkt.dst_port);
    if (f.detail == kNoIndex && !dns_port && !announces_quic_version(pkt.l4_payload)) {
        if (f.inspected >= 2) {
            f.flags |= kFlowAppDone;
        }
        return;
    }
    // RFC 1035 section 4.1.1: a response repeats its query's question. When detail records run short,
    // a query is read from the packet alone and its flow takes a record with the answer, which names
    // it as well: the records go to exchanges that complete (and can then be reclaimed), not to
    // queries in flight, and only a query never answered loses its name.
    if (dns_port && f.detail == kNoIndex && _free_details.size() < _detail_reserve &&
        parsers::dns_header_says_query(pkt.l4_payload)) {
        learn_dns_in_place(pkt, ts_ns);
        return;
    }
    FlowDetail* d = ensure_detail(f);
    if (d == nullptr) {
        if (dns_port) {
            learn_dns_in_place(pkt, ts_ns); // a later datagram may still find a record free
        } else {
            f.flags |= kFlowAppDone;
        }
        return;
    }
    bool done = false;
    if (d->app == AppProto::kUnknown || d->app == AppProto::kDns) {
        if (dns_port) {
            done = extract_dns(f, *d, pkt.l4_payload, false, from_client, ts_ns);
            if (d->app == AppProto::kDns) {
                if (done) {
                    f.flags |= kFlowAppDone;
                }
                return;
            }
        }
    }
    if (d->app == AppProto::kUnknown || d->app == AppProto::kQuic) {
        done = extract_quic(f, *d, pkt.l4_payload, from_client);
    }
    if (done) {
        f.flags |= kFlowAppDone;
        release_resources(d);
    }
}

} // namespace wt::pipeline
