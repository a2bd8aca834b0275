#include "benches/generator/traffic.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace wt::gen {

struct TrafficGenerator::Flow {
    std::uint64_t id = 0;
    Rng rng;
    std::uint64_t gap_ns = 0;   // between data packets
    std::uint32_t name = 0;
    std::uint32_t rtt_ns = 0;
    std::uint32_t data_left = 0;
    std::uint32_t data_sent = 0;
    std::uint32_t seq_c = 0;    // next sequence number client -> server
    std::uint32_t seq_s = 0;
    std::uint16_t step = 0;
    std::uint8_t sub = 0;       // QUIC: index of the next client Initial
    std::uint8_t tmpl = 0;
    FlowKind kind = FlowKind::kTls;
    bool v6 = false;
};

namespace {

constexpr std::uint64_t kUs = 1000;
constexpr std::uint64_t kMs = 1000 * kUs;
constexpr std::uint32_t kRttMin = 5 * kMs;
constexpr std::uint32_t kRttMax = 60 * kMs;
constexpr std::size_t kRandomPool = 1u << 16;

constexpr std::array<std::string_view, kFlowKinds> kKindNames{"tls", "quic", "dns", "http", "bulk"};

// Data packets per flow (uniform in [lo, hi]).
constexpr std::array<std::array<std::uint32_t, 2>, kFlowKinds> kDataPackets{{{2, 30}, {4, 40}, {0, 0}, {1, 20}, {200, 800}}};

void put16(std::uint8_t* p, std::size_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

bool event_after(const auto& a, const auto& b) noexcept {
    return a.ts != b.ts ? a.ts > b.ts : a.slot > b.slot;
}

} // namespace

std::string_view to_string(FlowKind k) noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kFlowKinds ? kKindNames[i] : "?";
}

bool parse_mix(std::string_view text, std::array<std::uint32_t, kFlowKinds>& out) {
    std::array<std::uint32_t, kFlowKinds> mix{};
    while (!text.empty()) {
        const std::size_t comma = std::min(text.find(','), text.size());
        const std::string_view item = text.substr(0, comma);
        text.remove_prefix(std::min(comma + 1, text.size()));
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return false;
        }
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        const auto it = std::find(kKindNames.begin(), kKindNames.end(), key);
        std::uint32_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (it == kKindNames.end() || ec != std::errc{} || end != value.data() + value.size()) {
            return false;
        }
        mix[static_cast<std::size_t>(it - kKindNames.begin())] = v;
    }
    out = mix;
    return true;
}

bool parse_size_mode(std::string_view text, SizeMode& out) {
    if (text == "64") {
        out = SizeMode::k64;
    } else if (text == "imix") {
        out = SizeMode::kImix;
    } else if (text == "1500") {
        out = SizeMode::k1500;
    } else {
        return false;
    }
    return true;
}

TrafficGenerator::TrafficGenerator(TrafficConfig config) : _config(std::move(config)), _sealer(std::make_unique<QuicSealer>()) {
    if (_config.names.empty()) {
        _config.names = default_names(1000);
    }
    for (const auto& n : _config.names) {
        if (n.empty() || n.size() > 253) {
            throw std::invalid_argument("server names must have 1 to 253 characters: '" + n + "'");
        }
    }
    if (_config.flows == 0) {
        throw std::invalid_argument("flows must be at least 1");
    }
    if (_config.clients == 0) {
        throw std::invalid_argument("clients must be at least 1");
    }
    for (std::size_t i = 0; i < kFlowKinds; ++i) {
        _mix_total += _config.mix[i];
        _mix_cumulative[i] = _mix_total;
    }
    if (_mix_total == 0) {
        throw std::invalid_argument("the mix has no flows");
    }
    if (tls_templates().empty() || quic_templates().empty()) {
        throw std::invalid_argument("no TLS or QUIC template could be read from the test vectors");
    }
    const double rate = _config.new_flows_per_s > 0 ? _config.new_flows_per_s : static_cast<double>(_config.flows) / 5.0;
    _config.new_flows_per_s = rate;
    _mean_gap_ns = 1e9 / rate;
    // Little's law: concurrent = rate x mean lifetime. DNS flows last about one round trip, so
    // the other kinds make up the rest.
    const double lifetime_s = static_cast<double>(_config.flows) / rate;
    const double dns_share = static_cast<double>(_config.mix[static_cast<std::size_t>(FlowKind::kDns)]) / _mix_total;
    const double rtt_mean_s = (kRttMin + kRttMax) / 2.0 / 1e9;
    const double long_s = dns_share < 1.0 ? (lifetime_s - dns_share * rtt_mean_s) / (1.0 - dns_share) : 0.0;
    _long_lifetime_ns = std::max(long_s, 4 * rtt_mean_s) * 1e9;

    if (_config.duration_s <= 0 && _config.max_bytes == 0 && _config.max_packets == 0 && _config.total_flows == 0) {
        _config.duration_s = 10;
    }
    if (_config.duration_s > 0) {
        _end_ns = _config.start_ns + static_cast<std::uint64_t>(_config.duration_s * 1e9);
    }
    _arrivals = Rng(Rng::derive(_config.seed, ~0ull));
    _next_arrival_ns = _config.start_ns;
    _name_emitted.assign(_config.names.size(), 0);
    _random_pool.resize(kRandomPool + kFrameBuffer);
    Rng fill(Rng::derive(_config.seed, ~1ull));
    for (std::size_t i = 0; i < _random_pool.size(); i += 8) {
        const std::uint64_t v = fill.next();
        std::memcpy(&_random_pool[i], &v, std::min<std::size_t>(8, _random_pool.size() - i));
    }
}

TrafficGenerator::~TrafficGenerator() = default;

std::vector<std::string> TrafficGenerator::names_emitted() const {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < _name_emitted.size(); ++i) {
        if (_name_emitted[i] != 0) {
            v.push_back(_config.names[i]);
        }
    }
    return v;
}

std::array<std::uint8_t, 16> TrafficGenerator::server_address(std::uint32_t index, bool v6) const noexcept {
    std::array<std::uint8_t, 16> a{};
    if (v6) {
        // 2001:db8::/32 (RFC 3849), the name's index in the last 32 bits.
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        const std::uint32_t v = index + 1;
        a[12] = static_cast<std::uint8_t>(v >> 24);
        a[13] = static_cast<std::uint8_t>(v >> 16);
        a[14] = static_cast<std::uint8_t>(v >> 8);
        a[15] = static_cast<std::uint8_t>(v);
        return a;
    }
    // 198.18.0.0/15 (RFC 2544 benchmarking), skipping .0 and the top address.
    const std::uint32_t v = index % 131070 + 1;
    a[0] = 198;
    a[1] = static_cast<std::uint8_t>(18 + (v >> 16));
    a[2] = static_cast<std::uint8_t>(v >> 8);
    a[3] = static_cast<std::uint8_t>(v);
    return a;
}

Endpoints TrafficGenerator::endpoints(const Flow& f) const noexcept {
    Endpoints e;
    e.v6 = f.v6;
    const std::uint32_t c = static_cast<std::uint32_t>(f.id % _config.clients) + 1;
    if (f.v6) {
        e.client[0] = 0xfd; // fd00:77::/32
        e.client[3] = 0x77;
        e.client[12] = static_cast<std::uint8_t>(c >> 24);
        e.client[13] = static_cast<std::uint8_t>(c >> 16);
        e.client[14] = static_cast<std::uint8_t>(c >> 8);
        e.client[15] = static_cast<std::uint8_t>(c);
    } else {
        e.client[0] = 10;
        e.client[1] = static_cast<std::uint8_t>(c >> 16);
        e.client[2] = static_cast<std::uint8_t>(c >> 8);
        e.client[3] = static_cast<std::uint8_t>(c);
    }
    if (f.kind == FlowKind::kDns) {
        if (f.v6) {
            e.server = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}; // 2001:db8:53::53
        } else {
            e.server = {192, 0, 2, 53}; // TEST-NET-1 (RFC 5737)
        }
    } else {
        e.server = server_address(f.name, f.v6);
    }
    e.client_mac = {0x02, 0xc1, static_cast<std::uint8_t>(c >> 24), static_cast<std::uint8_t>(c >> 16),
                    static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
    e.server_mac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}; // the gateway
    // Sequential ports per client: a 5-tuple comes back only after clients x 64000 flows.
    e.client_port = static_cast<std::uint16_t>(1024 + (f.id / _config.clients) % 64000);
    switch (f.kind) {
    case FlowKind::kDns:
        e.server_port = 53;
        break;
    case FlowKind::kHttp:
        e.server_port = 80;
        break;
    default:
        e.server_port = 443;
        break;
    }
    return e;
}

std::array<std::uint8_t, kQuicCidLength> TrafficGenerator::cid(const Flow& f, std::uint64_t which) const noexcept {
    const std::uint64_t v = Rng::derive(_config.seed ^ (which * 0x9e3779b97f4a7c15ull), f.id);
    std::array<std::uint8_t, kQuicCidLength> c{};
    std::memcpy(c.data(), &v, c.size());
    return c;
}

void TrafficGenerator::fill_random(Flow& f, std::uint8_t* p, std::size_t n) noexcept {
    std::memcpy(p, &_random_pool[f.rng.below(kRandomPool)], std::min(n, kFrameBuffer));
}

std::size_t TrafficGenerator::data_payload(Flow& f, bool v6, std::uint8_t proto, std::size_t min_payload) noexcept {
    std::size_t frame = 0; // without the FCS
    switch (_config.size) {
    case SizeMode::k64:
        frame = 60;
        break;
    case SizeMode::k1500:
        frame = 1496;
        break;
    case SizeMode::kImix: {
        const std::uint32_t r = f.rng.below(12);
        frame = r < 7 ? 60 : r < 11 ? 590 : 1514;
        break;
    }
    }
    const std::size_t headers = payload_offset(v6, proto);
    const std::size_t payload = frame > headers ? frame - headers : 0;
    return std::clamp(payload, min_payload, max_payload(v6, proto));
}

void TrafficGenerator::start_flow(std::uint64_t ts) {
    std::uint32_t slot = 0;
    if (!_free.empty()) {
        slot = _free.back();
        _free.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(_flows.size());
        _flows.emplace_back();
    }
    Flow& f = _flows[slot];
    f = Flow();
    f.id = _stats.flows_started++;
    f.rng = Rng(Rng::derive(_config.seed, f.id));
    const std::uint32_t k = f.rng.below(_mix_total);
    std::size_t kind = 0;
    while (k >= _mix_cumulative[kind]) {
        ++kind;
    }
    f.kind = static_cast<FlowKind>(kind);
    f.name = f.rng.below(static_cast<std::uint32_t>(_config.names.size()));
    f.v6 = f.rng.below(100) < _config.ipv6_percent;
    f.rtt_ns = f.rng.between(kRttMin, kRttMax);
    const std::size_t templates = f.kind == FlowKind::kQuic ? quic_templates().size() : tls_templates().size();
    f.tmpl = static_cast<std::uint8_t>(f.rng.below(static_cast<std::uint32_t>(templates)));
    f.data_left = f.rng.between(kDataPackets[kind][0], kDataPackets[kind][1]);
    f.seq_c = static_cast<std::uint32_t>(f.rng.next());
    f.seq_s = static_cast<std::uint32_t>(f.rng.next());
    const double lifetime = _long_lifetime_ns * (0.5 + f.rng.unit());
    const double handshake = 3.0 * f.rtt_ns;
    f.gap_ns = static_cast<std::uint64_t>(std::max(10.0 * kUs, (lifetime - handshake) / (f.data_left + 1)));
    ++_stats.flows[kind];
    _heap.push_back({ts, slot});
    std::push_heap(_heap.begin(), _heap.end(), [](const Event& a, const Event& b) { return event_after(a, b); });
    _stats.max_active = std::max<std::uint64_t>(_stats.max_active, _heap.size());
}

bool TrafficGenerator::next(Packet& out) {
    const auto after = [](const Event& a, const Event& b) { return event_after(a, b); };
    while (!_finished) {
        if (_config.max_packets != 0 && _stats.packets >= _config.max_packets) {
            break;
        }
        if (_heap.empty() && !_arrivals_open) {
            break;
        }
        const bool arrival = _arrivals_open && (_heap.empty() || _next_arrival_ns <= _heap.front().ts);
        const std::uint64_t ts = arrival ? _next_arrival_ns : _heap.front().ts;
        if (_end_ns != 0 && ts > _end_ns) {
            break;
        }
        if (arrival) {
            start_flow(ts);
            // Exponential gaps: a Poisson process of flow starts.
            const double gap = -std::log(1.0 - _arrivals.unit()) * _mean_gap_ns;
            _next_arrival_ns = ts + static_cast<std::uint64_t>(gap);
            if (_config.total_flows != 0 && _stats.flows_started >= _config.total_flows) {
                _arrivals_open = false;
            }
            continue;
        }
        std::pop_heap(_heap.begin(), _heap.end(), after);
        const std::uint32_t slot = _heap.back().slot;
        _heap.pop_back();
        Flow& f = _flows[slot];
        std::uint64_t delay = 0;
        bool done = false;
        const std::uint16_t step_before = f.step;
        const std::size_t len = emit(f, delay, done);
        // The packet that carries the name: ClientHello or GET (step 3), first Initial or query (step 0).
        const bool naming = f.kind == FlowKind::kTls || f.kind == FlowKind::kBulk || f.kind == FlowKind::kHttp
                                ? step_before == 3
                                : step_before == 0 && (f.kind == FlowKind::kDns || f.sub <= 1);
        const FlowKind kind = f.kind;
        const std::uint64_t id = f.id;
        const std::uint32_t name = f.name;
        if (done) {
            _free.push_back(slot);
            ++_stats.flows_finished;
        } else {
            _heap.push_back({ts + delay, slot});
            std::push_heap(_heap.begin(), _heap.end(), after);
        }
        if (len == 0) {
            continue;
        }
        if (_config.max_bytes != 0 && _stats.pcap_bytes + 16 + len > _config.max_bytes) {
            break;
        }
        if (naming) {
            _name_emitted[name] = 1;
        }
        if (_stats.packets == 0) {
            _stats.first_ns = ts;
        }
        _stats.last_ns = ts;
        ++_stats.packets;
        ++_stats.kind_packets[static_cast<std::size_t>(kind)];
        _stats.frame_bytes += len;
        _stats.pcap_bytes += 16 + len;
        out.ts_ns = ts;
        out.frame = {_frame.data(), len};
        out.kind = kind;
        out.flow = id;
        return true;
    }
    _finished = true;
    return false;
}

std::size_t TrafficGenerator::emit(Flow& f, std::uint64_t& delay_ns, bool& done) {
    switch (f.kind) {
    case FlowKind::kQuic:
        return emit_quic(f, delay_ns, done);
    case FlowKind::kDns:
        return emit_dns(f, delay_ns, done);
    default:
        return emit_tcp(f, delay_ns, done);
    }
}

// SYN, SYN-ACK, ACK, request (ClientHello or GET), response (ServerHello or HTTP head), data
// segments, FIN from each side, last ACK. Sequence numbers follow the bytes sent.
std::size_t TrafficGenerator::emit_tcp(Flow& f, std::uint64_t& delay_ns, bool& done) {
    const Endpoints e = endpoints(f);
    std::uint8_t* buf = _frame.data();
    std::uint8_t* payload = buf + payload_offset(e.v6, kProtoTcp);
    const std::span<std::uint8_t> room(payload, max_payload(e.v6, kProtoTcp));
    const bool tls = f.kind != FlowKind::kHttp;
    bool from_client = true;
    std::uint8_t flags = kAck;
    std::size_t len = 0;
    switch (f.step) {
    case 0:
        flags = kSyn;
        delay_ns = f.rtt_ns;
        break;
    case 1:
        from_client = false;
        flags = kSyn | kAck;
        delay_ns = 50 * kUs;
        break;
    case 2:
        delay_ns = 30 * kUs;
        break;
    case 3: {
        flags = kPsh | kAck;
        const std::string_view name = _config.names[f.name];
        if (tls) {
            std::array<std::uint8_t, 32> random{};
            fill_random(f, random.data(), random.size());
            len = write_tls_client_hello(room, tls_templates()[f.tmpl], name, random.data());
        } else {
            len = write_http_get(room, name, static_cast<std::uint32_t>(f.rng.below(100000)));
        }
        delay_ns = f.rtt_ns;
        break;
    }
    case 4: {
        from_client = false;
        flags = kPsh | kAck;
        if (tls) {
            const parsers::Bytes server = tls_templates()[f.tmpl].server;
            len = std::min(server.size(), room.size());
            std::memcpy(payload, server.data(), len);
        } else {
            len = write_http_response_head(room);
        }
        delay_ns = f.gap_ns;
        if (f.data_left == 0) {
            f.step = 5; // straight to the FINs
        }
        break;
    }
    case 5: {
        // Data: TLS application-data records (RFC 8446 section 5.2), or an HTTP body.
        if (f.kind == FlowKind::kBulk) {
            from_client = f.data_sent % 8 == 7; // the client acknowledges now and then
        } else if (f.kind == FlowKind::kTls) {
            from_client = f.rng.below(4) == 0;
        } else {
            from_client = false;
        }
        if (!(f.kind == FlowKind::kBulk && from_client)) {
            len = data_payload(f, e.v6, kProtoTcp, tls ? 6 : 1);
            fill_random(f, payload, len);
            if (tls) {
                payload[0] = 23; // application_data
                payload[1] = 3;
                payload[2] = 3;
                put16(payload + 3, len - 5);
            }
            flags = kPsh | kAck;
        }
        ++f.data_sent;
        delay_ns = f.gap_ns;
        if (--f.data_left != 0) {
            --f.step; // stay on this step
        }
        break;
    }
    case 6: // the client closes; an HTTP server (Connection: close) closes first
        from_client = tls;
        flags = kFin | kAck;
        delay_ns = f.rtt_ns / 2;
        break;
    case 7:
        from_client = !tls;
        flags = kFin | kAck;
        delay_ns = 50 * kUs;
        break;
    default:
        from_client = tls;
        done = true;
        break;
    }
    ++f.step;
    std::uint32_t& seq = from_client ? f.seq_c : f.seq_s;
    TcpFields t;
    t.seq = seq;
    t.ack = flags == kSyn ? 0 : (from_client ? f.seq_s : f.seq_c);
    t.flags = flags;
    seq += static_cast<std::uint32_t>(len) + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
    return finish_tcp(buf, e, from_client, t, len, static_cast<std::uint16_t>(f.rng.next()));
}

// Client Initial(s), the server's Initial, the client's Handshake, then 1-RTT short-header
// packets (RFC 9000 section 17.3) both ways.
std::size_t TrafficGenerator::emit_quic(Flow& f, std::uint64_t& delay_ns, bool& done) {
    const Endpoints e = endpoints(f);
    std::uint8_t* buf = _frame.data();
    std::uint8_t* payload = buf + payload_offset(e.v6, kProtoUdp);
    const std::span<std::uint8_t> room(payload, max_payload(e.v6, kProtoUdp));
    const auto client_scid = cid(f, 2);
    const auto server_cid = cid(f, 3);
    bool from_client = true;
    std::size_t len = 0;
    const auto long_header = [&](std::uint8_t type_bits, const auto& dcid, const auto& scid, std::size_t total) {
        // Flags with the type, version 1, CIDs, (Initial: empty token), Length, then opaque bytes.
        std::size_t n = 0;
        payload[n++] = static_cast<std::uint8_t>(0xc0 | type_bits | f.rng.below(16));
        payload[n++] = 0;
        payload[n++] = 0;
        payload[n++] = 0;
        payload[n++] = 1;
        payload[n++] = kQuicCidLength;
        std::memcpy(payload + n, dcid.data(), kQuicCidLength);
        n += kQuicCidLength;
        payload[n++] = kQuicCidLength;
        std::memcpy(payload + n, scid.data(), kQuicCidLength);
        n += kQuicCidLength;
        if (type_bits == 0x00) {
            payload[n++] = 0; // token length
        }
        put16(payload + n, 0x4000 | (total - n - 2));
        n += 2;
        fill_random(f, payload + n, total - n);
        return total;
    };
    switch (f.step) {
    case 0: {
        const std::size_t hello = quic_templates()[f.tmpl].hello.write(_hello, _config.names[f.name], nullptr);
        if (hello == 0) {
            done = true;
            return 0;
        }
        len = write_quic_client_initial(*_sealer, {_hello.data(), hello}, cid(f, 1), client_scid, f.sub, room);
        ++f.sub;
        if (f.sub < quic_client_initial_count(hello)) {
            delay_ns = 20 * kUs;
            return finish_udp(buf, e, true, len, static_cast<std::uint16_t>(f.rng.next()));
        }
        delay_ns = f.rtt_ns;
        break;
    }
    case 1:
        from_client = false;
        len = long_header(0x00, client_scid, server_cid, kQuicInitialDatagram);
        delay_ns = 200 * kUs;
        break;
    case 2:
        len = long_header(0x20, server_cid, client_scid, 80); // Handshake: the client's Finished
        delay_ns = f.gap_ns;
        break;
    case 3: {
        from_client = f.rng.below(10) < 3;
        len = data_payload(f, e.v6, kProtoUdp, 1 + kQuicCidLength + 1 + 16);
        fill_random(f, payload, len);
        payload[0] = static_cast<std::uint8_t>(0x40 | (payload[0] & 0x3f)); // short header, fixed bit
        std::memcpy(payload + 1, from_client ? server_cid.data() : client_scid.data(), kQuicCidLength);
        delay_ns = f.gap_ns;
        if (--f.data_left != 0) {
            --f.step;
        } else {
            done = true;
        }
        break;
    }
    default:
        done = true;
        return 0;
    }
    ++f.step;
    return finish_udp(buf, e, from_client, len, static_cast<std::uint16_t>(f.rng.next()));
}

// A query and its answer; half of the answers go through CNAMEs first.
std::size_t TrafficGenerator::emit_dns(Flow& f, std::uint64_t& delay_ns, bool& done) {
    const Endpoints e = endpoints(f);
    std::uint8_t* buf = _frame.data();
    std::uint8_t* payload = buf + payload_offset(e.v6, kProtoUdp);
    const std::span<std::uint8_t> room(payload, max_payload(e.v6, kProtoUdp));
    const std::string_view name = _config.names[f.name];
    const auto id = static_cast<std::uint16_t>(Rng::derive(_config.seed ^ 0x53, f.id));
    const std::uint16_t qtype = f.v6 ? 28 : 1;
    std::size_t len = 0;
    if (f.step == 0) {
        len = write_dns_query(room, id, name, qtype);
        delay_ns = f.rtt_ns;
        f.step = 1;
        return finish_udp(buf, e, true, len, static_cast<std::uint16_t>(f.rng.next()));
    }
    char edge[300];
    char akamai[64];
    std::array<std::string_view, 2> chain{};
    const std::uint64_t shape = Rng::derive(_config.seed ^ 0xc4, f.id) % 4;
    std::size_t links = 0;
    if (shape >= 2 && name.size() <= 240) {
        const int n = std::snprintf(edge, sizeof edge, "%.*s.edgekey.net", static_cast<int>(name.size()), name.data());
        chain[links++] = {edge, static_cast<std::size_t>(n)};
        if (shape == 3) {
            const int m = std::snprintf(akamai, sizeof akamai, "e%u.a.akamaiedge.net", f.name % 10000);
            chain[links++] = {akamai, static_cast<std::size_t>(m)};
        }
    }
    const auto address = server_address(f.name, f.v6);
    len = write_dns_response(room, id, name, qtype, {chain.data(), links}, {address.data(), f.v6 ? 16u : 4u});
    done = true;
    return finish_udp(buf, e, false, len, static_cast<std::uint16_t>(f.rng.next()));
}

std::vector<std::vector<std::uint8_t>> generate_frames(const TrafficConfig& config, std::size_t max_packets) {
    TrafficConfig c = config;
    if (c.max_packets == 0 || c.max_packets > max_packets) {
        c.max_packets = max_packets;
    }
    TrafficGenerator g(std::move(c));
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(max_packets);
    g.for_each([&](const Packet& p) { frames.emplace_back(p.frame.begin(), p.frame.end()); });
    return frames;
}

} // namespace wt::gen
