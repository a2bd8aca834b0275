// The whole worker path on DPDK mbufs, no I/O: pre-built bursts of 32 through
// MbufInput::process_burst (decode, flow lookup, extraction, classification, tally, and the
// per-burst Worker::expire it runs), exactly the call the appliance's worker loop makes per
// rx burst (app/live/appliance.cpp: live input, the burst's arrival time as its timestamp).
//
// Workloads (one benchmark per line of the report; sizes are Ethernet frames with FCS):
//   established/flows:N/SIZE  N concurrent flows from the traffic generator (tls 40, quic 20,
//       http 5; no DNS and no bulk: they are a short exchange and a TLS flow with more
//       segments, and would only make the set-up long). All N flows start within 1 s of
//       capture time and live 3-9 s; the first ~1.5 s (handshakes, names extracted, flows
//       classified) runs through the worker untimed. The ring then holds, for every flow, its
//       first data packet after that cut (TCP with payload and no SYN/FIN/RST, QUIC short
//       header), in generated order: N mbufs (1M flows: 1M mbufs). Timed: the ring replayed in
//       bursts of 32, lap after lap (the mbufs are reused, never freed), the clock advancing
//       1 us per burst so that nothing idles out. The flow table (max_flows = N + 25% + 1024,
//       detail pool as large, so every flow keeps its names) must still hold every flow at the
//       end, with no flow created, evicted or expired: else the benchmark fails.
//       N = 1k is the cache-resident table; 10k fits L2/L3; 1M is DRAM-bound (the ring's
//       mbufs too: a NIC's DDIO would deliver packet data to the LLC instead).
//   established/flows:N/64B/rx:cache  the same ring, but each burst's frames are first copied (not
//       timed) into 32 mbufs that stay in cache, as a NIC's receive path delivers them (DDIO writes
//       the data into the LLC, the driver has just written the mbuf headers): what remains in DRAM is
//       the flow table and its records, the appliance's case.
//   new_flows/udp/capacity:C/SIZE  every packet a UDP datagram (port 443, QUIC short-header
//       first byte, random payload) with a 5-tuple never seen before, into a table of
//       C = max_flows at steady fill. A ring of 64k mbufs whose client address and port are
//       rewritten between laps (outside the timed region). The clock advances per burst so
//       that a flow idles out (udp_idle, 180 s) after about C/4 packets and the per-burst
//       expire (64 slots) ends it: the table settles about half full (counter `fill`), every
//       packet creates a flow and, in the long run, ends one (classification and tally run at
//       its end). Evictions (the table full) are counted (evicted/pkt), not failed.
//   new_flows/tcp_syn/capacity:C/64B  the same with TCP SYNs (64 B only; tcp_idle, 600 s).
//   flood/dns/capacity:C  issue #17's flood: every flow a DNS exchange never seen before, a query
//       (client -> resolver:53) and its answer (one A record), 73-89 B frames, as `wt-gen --mix dns=100`
//       makes them; 2M flows per second of packet time, so nothing idles out. The appliance's detail
//       pool (C/8, at least 4096): a query waits for its answer without a detail record when they run
//       short, and the answer takes one back from an answered exchange, which ends it (reclaimed/pkt
//       ~0.5, so the table holds about a detail pool of flows and none is evicted); names lost:
//       unnamed/flow (flows that ended without a name).
//       Read against established/flows:C/64B: the issue asks for at least half its packet rate.
//
// Counters (all per core, over the timed bursts only):
//   cycles/pkt      rte_rdtsc() delta around the bursts / packets (wall clock: on a shared core
//                   it includes time the thread was not running);
//   cpu_cycles/pkt  the thread's CPU time over the same bursts, in TSC cycles per packet: equal to
//                   cycles/pkt on an idle core, and the figure to read when the core is shared
//                   (Time > CPU in the report);
//   Mpps            packets per CPU-second; new_flows/s: flows created per CPU-second;
//   flows           flows in the table at the end; created/pkt, evicted/pkt, expired/pkt: flow
//                   events per packet; fill: flows / max_flows at the end.
// items_per_second is Google Benchmark's own (CPU time of the whole loop).
//
// Run pinned to one core:
//   taskset -c 1 build/benches/pipeline/pipeline_bench --benchmark_repetitions=3 --benchmark_min_time=0.2
// Smoke mode (WT_BENCH_SMOKE=1, which `meson test --benchmark` sets): the 1M-flow cases run
// with 32k flows, and their names say so. Set-up (warm-up, rings) is done once per workload and
// reported on stderr; it is never timed.
#include "benches/generator/traffic.hpp"
#include "benches/support/bench_main.hpp"
#include "parsers/net/capture_file.hpp"
#include "parsers/net/packet.hpp"
#include "pipeline/classify/classifier.hpp"
#include "pipeline/dpdk/mbuf_input.hpp"
#include "pipeline/classify/services.hpp"
#include "pipeline/tally/actions.hpp"
#include "pipeline/worker.hpp"
#include "tests/support/packet_builder.hpp"

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace wt;
namespace tb = wt::testing;

constexpr std::uint16_t kBurst = 32;
constexpr int kBurstsPerIteration = 32; // 1024 packets between two rte_rdtsc() reads
// Live tallies (the appliance's stats intervals): a new interval every this many packets, about a
// second at the rates measured here (7-16 Mpps); the old one is completed 64 flow records per burst,
// as the appliance's worker loop does.
constexpr std::uint64_t kLiveIntervalPackets = std::uint64_t{1} << 23;
constexpr std::size_t kLiveSweepPerBurst = 64;
constexpr std::uint64_t kMs = 1000000;
constexpr std::size_t kSmokeFlows = 32768;
constexpr std::size_t kNewFlowRing = 65536;

bool g_smoke = false;
double g_tsc_hz = 1;
std::unique_ptr<pipeline::ServiceClassifier> g_classifier;

std::size_t effective_flows(std::size_t flows) { return g_smoke ? std::min(flows, kSmokeFlows) : flows; }

const char* size_name(gen::SizeMode m) {
    switch (m) {
    case gen::SizeMode::k64:
        return "64B";
    case gen::SizeMode::kImix:
        return "IMIX";
    case gen::SizeMode::k1500:
        return "1500B";
    }
    return "?";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Owns a mempool; frees its mbufs (the ring's, never freed by process_burst) and the pool.
class Pool {
public:
    Pool(std::size_t count, gen::SizeMode size, std::string& error) {
        static int serial = 0;
        const std::string name = "wtb" + std::to_string(serial++);
        // 64 B mode: the largest data frame is an IPv6 one of 80 bytes; the others reach 1514.
        const std::uint16_t room = size == gen::SizeMode::k64 ? RTE_PKTMBUF_HEADROOM + 256 : RTE_MBUF_DEFAULT_BUF_SIZE;
        _pool = rte_pktmbuf_pool_create(name.c_str(), static_cast<unsigned>(count), 0, 0, room, SOCKET_ID_ANY);
        if (_pool == nullptr) {
            error = std::string("rte_pktmbuf_pool_create: ") + rte_strerror(rte_errno);
        }
    }
    ~Pool() {
        for (rte_mbuf* m : _held) {
            rte_pktmbuf_free(m);
        }
        rte_mempool_free(_pool);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    [[nodiscard]] rte_mempool* get() const noexcept { return _pool; }
    // A single-segment mbuf holding `frame`, kept until the pool goes; nullptr when it does not fit.
    rte_mbuf* hold(std::span<const std::uint8_t> frame) {
        rte_mbuf* m = rte_pktmbuf_alloc(_pool);
        if (m == nullptr) {
            return nullptr;
        }
        if (frame.size() > rte_pktmbuf_tailroom(m)) {
            rte_pktmbuf_free(m);
            return nullptr;
        }
        std::memcpy(rte_pktmbuf_mtod(m, void*), frame.data(), frame.size());
        m->data_len = static_cast<std::uint16_t>(frame.size());
        m->pkt_len = static_cast<std::uint32_t>(frame.size());
        _held.push_back(m);
        return m;
    }

private:
    rte_mempool* _pool = nullptr;
    std::vector<rte_mbuf*> _held;
};

pipeline::WorkerConfig worker_config(std::size_t max_flows) {
    // The appliance's sizing but for the detail pool, which holds every flow here so that all of them
    // keep their names (the appliance's is max_flows / 8).
    pipeline::WorkerConfig w = pipeline::appliance_worker_config(max_flows);
    w.detail_pool = max_flows;
    return w;
}

// Ring pointers with the first burst repeated at the end, so a burst can start anywhere.
struct Ring {
    std::vector<rte_mbuf*> ptrs;
    std::size_t size = 0;
    std::size_t next = 0;

    void seal() {
        size = ptrs.size();
        for (std::size_t i = 0; i < kBurst && size != 0; ++i) {
            ptrs.push_back(ptrs[i % size]);
        }
    }
    rte_mbuf* const* take() noexcept {
        rte_mbuf* const* p = &ptrs[next];
        next += kBurst;
        if (next >= size) {
            next -= size;
        }
        return p;
    }
};

struct Measure {
    std::uint64_t cycles = 0;  // TSC, around the bursts
    std::uint64_t cpu_ns = 0;  // this thread's CPU time, around the same bursts plus two reads
    std::uint64_t packets = 0;
    pipeline::WorkerCounters before;
};

// The DNS flood's sink: how many flows ended, and how many of them without a name.
struct NameCount final : pipeline::FlowSink {
    std::uint64_t ended = 0;
    std::uint64_t unnamed = 0;
    void on_flow_end(const pipeline::Flow&, const pipeline::FlowDetail* d, std::string_view, std::uint16_t) override {
        ++ended;
        unnamed += d == nullptr || d->name.empty() ? 1 : 0;
    }
};

// A fixture lives until a benchmark with other parameters needs the memory.
struct Fixture {
    std::string key;
    std::string error;
    std::unique_ptr<pipeline::ActionSchedule> actions; // established_actions: the marks (outlives the worker)
    std::unique_ptr<pipeline::Worker> worker;
    pipeline::MbufInput input;
    std::unique_ptr<Pool> pool;
    Ring ring;
    std::uint64_t ts = 0;
    std::uint64_t ts_step = 0;
    std::size_t table_flows = 0; // established: the flows the table must keep
    // live tallies: the spare interval tally and when the next interval begins
    std::unique_ptr<pipeline::CoreTally> spare;
    std::uint64_t since_interval = 0;
    std::uint64_t intervals = 0;
    // issue #16, analyze's timeline: the clock the interval log files bytes by (null: no log)
    std::unique_ptr<pipeline::IntervalClock> interval_clock;
    // new flows: the tuple rewrite between laps
    bool rewrite = false;
    // established/.../rx:cache: a burst of mbufs the ring's frames are copied into before each burst
    // (not timed), as a NIC's receive path leaves them: data and headers in cache
    std::array<rte_mbuf*, kBurst> rx_cache{};
    bool pairs = false; // DNS flood: two frames per flow
    NameCount names;    // DNS flood: the flows' names
    std::uint64_t lap = 0;

    virtual ~Fixture() = default;
};

std::unique_ptr<Fixture> g_fixture;

std::uint64_t counter_delta(const pipeline::WorkerCounters& now, const pipeline::WorkerCounters& then,
                            std::uint64_t pipeline::WorkerCounters::* field) {
    return now.*field - then.*field;
}

// ---------------------------------------------------------------- established flows

bool is_data_packet(std::span<const std::uint8_t> frame) {
    parsers::DecodedPacket d;
    if (parsers::decode_packet(parsers::LinkType::kEthernet, frame, d) != parsers::DecodeStatus::kOk ||
        d.l4_payload.empty()) {
        return false;
    }
    if (d.l4_proto == 6) {
        return (d.tcp_flags & (tb::kSyn | tb::kFin | tb::kRst)) == 0;
    }
    return d.l4_proto == 17 && (d.l4_payload[0] & 0x80) == 0; // QUIC short header
}

// mark_every_ns: issue #15's per-action attribution, with a mark every so much capture time from
// the first flow's start for 30 s (0: no marks, no attribution).
// interval_log: issue #16's interval log (analyze's timeline) on a clock of the packets' time.
std::unique_ptr<Fixture> build_established(std::size_t flows, gen::SizeMode size, bool live,
                                           std::uint64_t mark_every_ns = 0, bool interval_log = false) {
    const auto t0 = std::chrono::steady_clock::now();
    auto fx = std::make_unique<Fixture>();
    const std::size_t capacity = flows + flows / 4 + 1024;
    pipeline::WorkerConfig wc = worker_config(capacity);
    wc.live_tally = live;
    if (interval_log) {
        fx->interval_clock = std::make_unique<pipeline::IntervalClock>();
        wc.interval_clock = fx->interval_clock.get();
    }
    if (mark_every_ns != 0) {
        std::vector<std::pair<std::uint64_t, std::string>> marks;
        const std::uint64_t start = gen::TrafficConfig{}.start_ns;
        for (std::uint64_t t = start, i = 0; t < start + 30 * 1000 * kMs && i < 60000; t += mark_every_ns, ++i) {
            marks.emplace_back(t, "action " + std::to_string(i));
        }
        fx->actions = std::make_unique<pipeline::ActionSchedule>(pipeline::ActionSchedule::from_timed_labels(std::move(marks)));
        fx->actions->anchor(start);
    }
    fx->worker = std::make_unique<pipeline::Worker>(wc, g_classifier.get(), fx->actions.get(), nullptr);
    if (live) {
        fx->spare = std::make_unique<pipeline::CoreTally>(g_classifier->service_count(), wc.tally);
    }
    const char* why = nullptr;
    if (!fx->input.init(&why)) {
        fx->error = why;
        return fx;
    }

    constexpr double kWindowS = 1.0;   // every flow starts within this much capture time
    constexpr double kLifetimeS = 6.0; // mean; each flow lives 0.5x to 1.5x this
    gen::TrafficConfig tc;
    tc.mix = {40, 20, 0, 5, 0};
    tc.size = size;
    tc.total_flows = flows;
    tc.new_flows_per_s = static_cast<double>(flows) / kWindowS;
    tc.flows = static_cast<std::uint64_t>(static_cast<double>(flows) * kLifetimeS / kWindowS);
    tc.clients = static_cast<std::uint32_t>(std::max<std::size_t>(1000, flows / 16));
    tc.seed = 4;
    gen::TrafficGenerator traffic(tc);

    // Warm-up: everything up to 0.5 s after the last flow started, through the same call,
    // with the generator's timestamps (an offline input, as `wiretally analyze` runs).
    std::string error;
    Pool warm(256, gen::SizeMode::k1500, error);
    fx->pool = std::make_unique<Pool>(flows + 64, size, error);
    if (!error.empty()) {
        fx->error = error;
        return fx;
    }
    std::array<rte_mbuf*, kBurst> burst{};
    std::uint16_t n = 0;
    std::uint64_t warm_packets = 0;
    const auto flush = [&] {
        fx->input.process_burst(*fx->worker, burst.data(), n, 0);
        rte_pktmbuf_free_bulk(burst.data(), n);
        warm_packets += n;
        n = 0;
    };
    gen::Packet p;
    std::uint64_t cut = 0;
    bool more = false;
    while ((more = traffic.next(p))) {
        if (cut == 0 && p.flow + 1 == flows) {
            cut = p.ts_ns + 500 * kMs;
        }
        if (cut != 0 && p.ts_ns >= cut) {
            break;
        }
        rte_mbuf* m = rte_pktmbuf_alloc(warm.get());
        if (m == nullptr) {
            fx->error = "set-up: the warm-up pool ran dry";
            return fx;
        }
        std::memcpy(rte_pktmbuf_mtod(m, void*), p.frame.data(), p.frame.size());
        m->data_len = static_cast<std::uint16_t>(p.frame.size());
        m->pkt_len = static_cast<std::uint32_t>(p.frame.size());
        fx->input.set_timestamp(m, p.ts_ns);
        burst[n++] = m;
        if (n == kBurst) {
            flush();
        }
    }
    if (n != 0) {
        flush();
    }
    fx->table_flows = fx->worker->active_flows();

    // The ring: each flow's first data packet after the cut, in generated order.
    std::vector<std::uint8_t> taken(flows, 0);
    std::size_t covered = 0;
    std::uint64_t last_ts = cut;
    std::size_t not_fitting = 0;
    for (; more && covered < flows && p.ts_ns < cut + 8000 * kMs; more = traffic.next(p)) {
        last_ts = p.ts_ns;
        if (p.flow >= flows || taken[p.flow] || !is_data_packet(p.frame)) {
            continue;
        }
        taken[p.flow] = 1;
        if (rte_mbuf* m = fx->pool->hold(p.frame)) {
            fx->ring.ptrs.push_back(m);
            ++covered;
        } else {
            ++not_fitting;
        }
    }
    fx->ring.seal();
    fx->input.set_live(true);
    fx->ts = last_ts + kMs;
    fx->ts_step = 1000; // 1 us per burst
    const pipeline::WorkerCounters& c = fx->worker->counters();
    std::fprintf(stderr,
                 "[set-up] established flows=%zu %s: warm-up %llu packets, table %zu flows (created %llu, "
                 "names: tls %llu quic %llu http %llu), ring %zu mbufs (%zu did not fit), %.1f s\n",
                 flows, size_name(size), static_cast<unsigned long long>(warm_packets), fx->table_flows,
                 static_cast<unsigned long long>(c.flows_created),
                 static_cast<unsigned long long>(c.tls_client_hellos),
                 static_cast<unsigned long long>(c.quic_initials),
                 static_cast<unsigned long long>(c.http_requests), fx->ring.size, not_fitting, seconds_since(t0));
    if (fx->ring.size < flows * 99 / 100 || fx->table_flows < flows * 99 / 100) {
        fx->error = "set-up: the ring or the table holds fewer than 99% of the flows";
    } else if (c.flows_evicted != 0 || c.flow_table_full != 0 || c.detail_pool_exhausted != 0) {
        fx->error = "set-up: flows evicted, table full or detail pool exhausted during the warm-up";
    }
    return fx;
}

// ---------------------------------------------------------------- new flows

enum class NewKind { kUdp, kSyn, kDnsFlood };

constexpr std::size_t kIpSrc = 14 + 12;  // Ethernet, IPv4 source address
constexpr std::size_t kL4Src = 14 + 20;  // TCP/UDP source port
constexpr std::size_t kIpDst = 14 + 16;  // IPv4 destination address
constexpr std::size_t kL4Dst = 14 + 22;  // TCP/UDP destination port

// Lap `lap`'s tuples: client 10.x.y.z and port from a counter that never repeats. With
// `pairs` (the DNS flood), frames 2k and 2k+1 are one flow's query and answer: the answer's
// destination is the client.
void rewrite_tuples(Fixture& fx) {
    const std::size_t per_flow = fx.pairs ? 2 : 1;
    const std::uint64_t base = fx.lap * fx.ring.size / per_flow;
    for (std::size_t i = 0; i < fx.ring.size; ++i) {
        const std::uint64_t id = base + i / per_flow;
        auto* b = rte_pktmbuf_mtod(fx.ring.ptrs[i], std::uint8_t*);
        const bool to_client = fx.pairs && (i & 1) != 0;
        const std::size_t ip = to_client ? kIpDst : kIpSrc;
        const std::size_t l4 = to_client ? kL4Dst : kL4Src;
        b[ip] = 10;
        b[ip + 1] = static_cast<std::uint8_t>(id >> 16);
        b[ip + 2] = static_cast<std::uint8_t>(id >> 8);
        b[ip + 3] = static_cast<std::uint8_t>(id);
        const auto port = static_cast<std::uint16_t>(1024 + (id >> 24) % 64000);
        b[l4] = static_cast<std::uint8_t>(port >> 8);
        b[l4 + 1] = static_cast<std::uint8_t>(port);
    }
    ++fx.lap;
}

std::unique_ptr<Fixture> build_new_flows(std::size_t capacity, NewKind kind, gen::SizeMode size) {
    const auto t0 = std::chrono::steady_clock::now();
    auto fx = std::make_unique<Fixture>();
    pipeline::WorkerConfig wc = worker_config(capacity);
    if (kind == NewKind::kDnsFlood) {
        wc.detail_pool = pipeline::appliance_worker_config(capacity).detail_pool;
    }
    fx->worker = std::make_unique<pipeline::Worker>(wc, g_classifier.get(), nullptr,
                                                    kind == NewKind::kDnsFlood ? &fx->names : nullptr);
    const char* why = nullptr;
    if (!fx->input.init(&why)) {
        fx->error = why;
        return fx;
    }
    fx->input.set_live(true);
    std::string error;
    fx->pool = std::make_unique<Pool>(kNewFlowRing + 64, size, error);
    if (!error.empty()) {
        fx->error = error;
        return fx;
    }
    // Frame lengths without FCS: 60, 590, 1514; IMIX 7:4:1 in a fixed shuffled order.
    std::vector<std::size_t> lengths;
    std::mt19937 rng(7);
    for (std::size_t i = 0; i < kNewFlowRing; i += 12) {
        std::array<std::size_t, 12> imix{60, 60, 60, 60, 60, 60, 60, 590, 590, 590, 590, 1514};
        std::shuffle(imix.begin(), imix.end(), rng);
        for (std::size_t len : imix) {
            lengths.push_back(size == gen::SizeMode::kImix ? len : size == gen::SizeMode::k64 ? 60 : 1514);
        }
    }
    const tb::Endpoint server{tb::ip4(198, 18, 0, 1), 443};
    const tb::Endpoint client{tb::ip4(10, 0, 0, 0), 1024};
    const std::vector<std::string> dns_names = gen::default_names(1000);
    for (std::size_t i = 0; i < kNewFlowRing; ++i) {
        std::vector<std::uint8_t> frame;
        if (kind == NewKind::kSyn) {
            frame = tb::tcp(client, server, static_cast<std::uint32_t>(rng()), 0, tb::kSyn);
            frame.resize(60, 0); // Ethernet padding: the IP length says 40
        } else if (kind == NewKind::kDnsFlood) {
            const tb::Endpoint resolver{tb::ip4(198, 18, 0, 53), 53};
            const std::string& name = dns_names[(i / 2) % dns_names.size()];
            const auto id = static_cast<std::uint16_t>(i / 2);
            std::array<std::uint8_t, 512> message{};
            const std::array<std::uint8_t, 4> address{198, 18, static_cast<std::uint8_t>(i >> 9), static_cast<std::uint8_t>(i >> 1)};
            const std::size_t len = (i & 1) == 0 ? gen::write_dns_query(message, id, name, 1)
                                                 : gen::write_dns_response(message, id, name, 1, {}, address);
            const std::vector<std::uint8_t> payload(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(len));
            frame = (i & 1) == 0 ? tb::udp(client, resolver, payload) : tb::udp(resolver, client, payload);
        } else {
            std::vector<std::uint8_t> payload(lengths[i] - 42);
            for (auto& b : payload) {
                b = static_cast<std::uint8_t>(rng());
            }
            payload[0] = 0x40 | (payload[0] & 0x3f); // QUIC short header (RFC 9000 17.3)
            frame = tb::udp(client, server, payload);
        }
        rte_mbuf* m = fx->pool->hold(frame);
        if (m == nullptr) {
            fx->error = "set-up: a frame does not fit the mbuf";
            return fx;
        }
        fx->ring.ptrs.push_back(m);
    }
    fx->ring.seal();
    fx->rewrite = true;
    fx->pairs = kind == NewKind::kDnsFlood;
    // A flow idles out after about capacity/4 packets (capacity/128 bursts of 32) and the
    // expire hand (64 slots a burst) sweeps the table every capacity/2 packets: the table
    // settles about half full, with room to spare (at capacity/2 idle, it ran 90-100% full).
    const std::uint64_t idle = kind == NewKind::kSyn ? wc.tcp_idle_ns : wc.udp_idle_ns;
    fx->ts_step = idle * 128 / capacity + 1;
    if (kind == NewKind::kDnsFlood) {
        fx->ts_step = 8000; // 16 exchanges a burst at 2M a second: none idles out, the table stays full
    }
    fx->ts = 1700000000ull * 1000000000ull;

    // Warm-up: three table fills, untimed, to reach the steady fill.
    const std::size_t warm_bursts = 3 * capacity / kBurst;
    for (std::size_t b = 0; b < warm_bursts; ++b) {
        if (fx->ring.next < kBurst) {
            rewrite_tuples(*fx);
        }
        fx->input.process_burst(*fx->worker, fx->ring.take(), kBurst, fx->ts);
        fx->ts += fx->ts_step;
    }
    const pipeline::WorkerCounters& c = fx->worker->counters();
    std::fprintf(stderr,
                 "[set-up] new flows %s capacity=%zu %s: warm-up %zu packets, table %zu flows (%.0f%%), "
                 "evicted %llu, expired %llu, %.1f s\n",
                 kind == NewKind::kSyn ? "tcp_syn" : kind == NewKind::kDnsFlood ? "dns flood" : "udp", capacity, size_name(size), warm_bursts * kBurst,
                 fx->worker->active_flows(),
                 100.0 * static_cast<double>(fx->worker->active_flows()) / static_cast<double>(capacity),
                 static_cast<unsigned long long>(c.flows_evicted),
                 static_cast<unsigned long long>(c.flows_idle_expired), seconds_since(t0));
    return fx;
}

// ---------------------------------------------------------------- the timed loop

Fixture* fixture_for(const std::string& key, const std::function<std::unique_ptr<Fixture>()>& build) {
    if (!g_fixture || g_fixture->key != key) {
        g_fixture.reset(); // free the previous workload's memory first
        g_fixture = build();
        g_fixture->key = key;
    }
    return g_fixture.get();
}

std::uint64_t thread_cpu_ns() noexcept {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(t.tv_nsec);
}

// The fixture's rx_cache mbufs, from its pool (sized with room to spare); false when it ran dry.
bool ensure_rx_cache(Fixture& fx) {
    for (rte_mbuf*& m : fx.rx_cache) {
        if (m == nullptr && (m = rte_pktmbuf_alloc(fx.pool->get())) == nullptr) {
            return false;
        }
    }
    return true;
}

// Copies the frames of a ring burst into the fixture's rx_cache mbufs (ensure_rx_cache) and returns
// those: what a NIC's receive path hands the worker, its data written by DMA into the cache (DDIO)
// and the mbuf headers just written by the driver.
rte_mbuf* const* copy_to_rx_cache(Fixture& fx, rte_mbuf* const* burst) {
    for (std::size_t i = 0; i < kBurst; ++i) {
        rte_mbuf* m = fx.rx_cache[i];
        const rte_mbuf* src = burst[i];
        std::memcpy(rte_pktmbuf_mtod(m, void*), rte_pktmbuf_mtod(src, const void*), src->data_len);
        m->data_len = src->data_len;
        m->pkt_len = src->pkt_len;
        m->port = src->port;
        m->ol_flags = src->ol_flags;
    }
    return fx.rx_cache.data();
}

Measure run(benchmark::State& state, Fixture& fx, bool rx_cache = false) {
    Measure m;
    m.before = fx.worker->counters();
    pipeline::Worker& worker = *fx.worker;
    for (auto _ : state) {
        if (fx.rewrite && (fx.ring.next == 0 || fx.ring.next + kBurst * kBurstsPerIteration > fx.ring.size)) {
            // The last lap ended, or would end within this iteration: a new lap of tuples, from
            // the start (skipping the ring's tail only makes the tuples newer).
            state.PauseTiming();
            rewrite_tuples(fx);
            fx.ring.next = 0;
            state.ResumeTiming();
        }
        std::uint64_t c0 = thread_cpu_ns();
        std::uint64_t t0 = rte_rdtsc();
        for (int b = 0; b < kBurstsPerIteration; ++b) {
            rte_mbuf* const* burst = fx.ring.take();
            if (rx_cache) {
                // Not timed: the copy's cycles leave both clocks (the thread's CPU clock is a system
                // call, too slow to read around every burst).
                const std::uint64_t copy_start = rte_rdtsc();
                burst = copy_to_rx_cache(fx, burst);
                const std::uint64_t copy_cycles = rte_rdtsc() - copy_start;
                t0 += copy_cycles;
                c0 += static_cast<std::uint64_t>(static_cast<double>(copy_cycles) * 1e9 / g_tsc_hz);
            }
            fx.input.process_burst(worker, burst, kBurst, fx.ts);
            fx.ts += fx.ts_step;

            if (fx.spare) {
                // The appliance's worker loop: complete the old interval a slice per burst, and begin
                // a new one when the stats core asks (here: every kLiveIntervalPackets).
                (void)worker.complete_interval(kLiveSweepPerBurst);
                fx.since_interval += kBurst;
                if (fx.since_interval >= kLiveIntervalPackets && worker.interval_complete()) {
                    // The stats core clears the retired tally on its own core: not timed.
                    m.cycles += rte_rdtsc() - t0;
                    m.cpu_ns += thread_cpu_ns() - c0;
                    fx.spare->clear();
                    c0 = thread_cpu_ns();
                    t0 = rte_rdtsc();
                    const pipeline::ServiceClassifier* same = nullptr;
                    std::unique_ptr<pipeline::ClassifierScratch> no_scratch;
                    worker.begin_interval(*fx.spare, same, no_scratch);
                    fx.since_interval = 0;
                    ++fx.intervals;
                }
            }
        }
        m.cycles += rte_rdtsc() - t0;
        m.cpu_ns += thread_cpu_ns() - c0;
        m.packets += kBurst * kBurstsPerIteration;
    }
    return m;
}

void report(benchmark::State& state, const Fixture& fx, const Measure& m) {
    const double packets = static_cast<double>(m.packets);
    const double cpu_s = static_cast<double>(m.cpu_ns) / 1e9;
    state.SetItemsProcessed(static_cast<std::int64_t>(m.packets));
    state.counters["cycles/pkt"] = packets > 0 ? static_cast<double>(m.cycles) / packets : 0;
    state.counters["cpu_cycles/pkt"] = packets > 0 ? cpu_s * g_tsc_hz / packets : 0;
    state.counters["Mpps"] = cpu_s > 0 ? packets / cpu_s / 1e6 : 0;
    state.counters["flows"] = static_cast<double>(fx.worker->active_flows());
}

void established(benchmark::State& state, std::size_t flows, gen::SizeMode size, bool live,
                 std::uint64_t mark_every_ns = 0, bool interval_log = false, bool rx_cache = false) {
    const std::string key = std::string(live ? "live/" : "est/") + std::to_string(flows) + "/" + size_name(size) +
                            "/marks:" + std::to_string(mark_every_ns) + (interval_log ? "/log" : "");
    Fixture& fx = *fixture_for(key, [&] { return build_established(flows, size, live, mark_every_ns, interval_log); });
    if (!fx.error.empty()) {
        state.SkipWithError(fx.error.c_str());
        return;
    }
    if (rx_cache && !ensure_rx_cache(fx)) {
        state.SkipWithError("no mbufs left in the fixture's pool for the rx:cache burst");
        return;
    }
    const std::uint64_t intervals_before = fx.intervals;
    const Measure m = run(state, fx, rx_cache);
    report(state, fx, m);
    if (live) {
        state.counters["intervals"] = static_cast<double>(fx.intervals - intervals_before);
        state.counters["parts/pkt"] = static_cast<double>(fx.worker->counters().flow_parts_tallied -
                                                          m.before.flow_parts_tallied) /
                                      static_cast<double>(std::max<std::uint64_t>(m.packets, 1));
    }
    const pipeline::WorkerCounters& now = fx.worker->counters();
    using C = pipeline::WorkerCounters;
    if (fx.actions) {
        state.counters["early_parts/pkt"] = static_cast<double>(counter_delta(now, m.before, &C::action_parts_early)) /
                                            static_cast<double>(std::max<std::uint64_t>(m.packets, 1));
    }
    if (fx.worker->active_flows() != fx.table_flows || counter_delta(now, m.before, &C::flows_created) != 0 ||
        counter_delta(now, m.before, &C::flows_evicted) != 0 ||
        counter_delta(now, m.before, &C::flows_idle_expired) != 0 ||
        counter_delta(now, m.before, &C::flow_table_full) != 0 ||
        counter_delta(now, m.before, &C::flows_ended) != 0) {
        fx.error = "flows were lost, created or ended in steady state (table " +
                   std::to_string(fx.worker->active_flows()) + " of " + std::to_string(fx.table_flows) + ")";
        state.SkipWithError(fx.error.c_str());
    }
}

void new_flows(benchmark::State& state, std::size_t capacity, NewKind kind, gen::SizeMode size) {
    const std::string key = std::string(kind == NewKind::kSyn ? "syn/" : kind == NewKind::kDnsFlood ? "flood/" : "udp/") +
                            std::to_string(capacity) + "/" + size_name(size);
    Fixture& fx = *fixture_for(key, [&] { return build_new_flows(capacity, kind, size); });
    if (!fx.error.empty()) {
        state.SkipWithError(fx.error.c_str());
        return;
    }
    const NameCount names_before = fx.names;
    const Measure m = run(state, fx);
    report(state, fx, m);
    const pipeline::WorkerCounters& now = fx.worker->counters();
    using C = pipeline::WorkerCounters;
    const double packets = static_cast<double>(std::max<std::uint64_t>(m.packets, 1));
    const double created = static_cast<double>(counter_delta(now, m.before, &C::flows_created));
    const double cpu_s = static_cast<double>(m.cpu_ns) / 1e9;
    state.counters["new_flows/s"] = cpu_s > 0 ? created / cpu_s : 0;
    state.counters["created/pkt"] = created / packets;
    state.counters["evicted/pkt"] = static_cast<double>(counter_delta(now, m.before, &C::flows_evicted)) / packets;
    state.counters["expired/pkt"] = static_cast<double>(counter_delta(now, m.before, &C::flows_idle_expired)) / packets;
    state.counters["fill"] = static_cast<double>(fx.worker->active_flows()) / static_cast<double>(capacity);
    const double per_flow = kind == NewKind::kDnsFlood ? 2.0 : 1.0;
    if (kind == NewKind::kDnsFlood) {
        state.counters["reclaimed/pkt"] = static_cast<double>(counter_delta(now, m.before, &C::flows_reclaimed)) / packets;
        state.counters["detail_exhausted/pkt"] =
            static_cast<double>(counter_delta(now, m.before, &C::detail_pool_exhausted)) / packets;
        // Every exchange is answered, so each flow ended unnamed is a name lost.
        const std::uint64_t ended = fx.names.ended - names_before.ended;
        state.counters["unnamed/flow"] =
            static_cast<double>(fx.names.unnamed - names_before.unnamed) / static_cast<double>(std::max<std::uint64_t>(ended, 1));
    }
    if (counter_delta(now, m.before, &C::flow_table_full) != 0) {
        state.SkipWithError("packets found the flow table full even after eviction");
    } else if (m.packets != 0 && created < 0.99 * packets / per_flow) {
        state.SkipWithError("fewer new flows than packets: tuples were seen before");
    }
}

void register_all() {
    const gen::SizeMode sizes[] = {gen::SizeMode::k64, gen::SizeMode::kImix, gen::SizeMode::k1500};
    const auto add = [](const std::string& name, auto fn) {
        benchmark::RegisterBenchmark(name.c_str(), fn)->Unit(benchmark::kMicrosecond);
    };
    for (std::size_t flows : {std::size_t{1000}, std::size_t{10000}, std::size_t{1000000}}) {
        const std::size_t n = effective_flows(flows);
        for (gen::SizeMode s : sizes) {
            add("established/flows:" + std::to_string(n) + "/" + size_name(s),
                [n, s](benchmark::State& st) { established(st, n, s, false); });
        }
    }
    // The same 64 B packets, each burst first copied (untimed) into a few mbufs that stay in cache, as a
    // NIC's receive path delivers them; the flow table and records are what remains in DRAM (issue #17).
    for (std::size_t flows : {std::size_t{1000}, std::size_t{1000000}}) {
        const std::size_t n = effective_flows(flows);
        add("established/flows:" + std::to_string(n) + "/64B/rx:cache",
            [n](benchmark::State& st) { established(st, n, gen::SizeMode::k64, false, 0, false, true); });
    }
    // The same with the appliance's live tallies: each interval's parts of every flow (issue #12).
    for (std::size_t flows : {std::size_t{1000}, std::size_t{10000}, std::size_t{1000000}}) {
        const std::size_t n = effective_flows(flows);
        add("established_live/flows:" + std::to_string(n) + "/64B",
            [n](benchmark::State& st) { established(st, n, gen::SizeMode::k64, true); });
    }
    // Issue #15: the same with actions marked. marks:30s is the analyst's pace (no mark falls in the
    // timed part: the figure is the per-packet check); marks:1ms changes every flow's action every
    // few of its packets (the worst case: the pool of parts runs dry and stretches are tallied at once).
    for (const auto& [every, name] : {std::pair{30 * 1000 * kMs, "30s"}, std::pair{kMs, "1ms"}}) {
        const std::size_t n = effective_flows(10000);
        add("established_actions/flows:" + std::to_string(n) + "/64B/marks:" + name,
            [n, every](benchmark::State& st) { established(st, n, gen::SizeMode::k64, false, every); });
    }
    // Issue #16: analyze's timeline logs each flow's bytes once per interval of the packets' clock it is
    // active in (intervals of 10 ms widening to keep 150 over the capture so far; the steady state here
    // runs for minutes of capture time, so they are seconds wide).
    {
        const std::size_t n = effective_flows(10000);
        add("established_timeline/flows:" + std::to_string(n) + "/64B",
            [n](benchmark::State& st) { established(st, n, gen::SizeMode::k64, false, 0, true); });
    }
    for (std::size_t capacity : {std::size_t{10000}, std::size_t{1000000}}) {
        const std::size_t c = effective_flows(capacity);
        for (gen::SizeMode s : sizes) {
            add("new_flows/udp/capacity:" + std::to_string(c) + "/" + size_name(s),
                [c, s](benchmark::State& st) { new_flows(st, c, NewKind::kUdp, s); });
        }
        add("new_flows/tcp_syn/capacity:" + std::to_string(c) + "/64B",
            [c](benchmark::State& st) { new_flows(st, c, NewKind::kSyn, gen::SizeMode::k64); });
        add("flood/dns/capacity:" + std::to_string(c),
            [c](benchmark::State& st) { new_flows(st, c, NewKind::kDnsFlood, gen::SizeMode::k64); });
    }
}

// lcore 0 on every CPU this process may run on, so that `taskset -c N` keeps its meaning.
std::string lcore_map() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string cpus;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                if (!cpus.empty()) {
                    cpus += ',';
                }
                cpus += std::to_string(c);
            }
        }
    }
    if (cpus.empty()) {
        return "0";
    }
    std::string map = "0@(";
    map.append(cpus).append(")");
    return map;
}

} // namespace

int main(int argc, char** argv) {
    g_smoke = wt::bench::smoke_mode();
    // EAL without hugepages (the only mode this host allows). Memory: the largest ring,
    // 1M mbufs of 2.3 KB, plus headroom; 4 KiB pages are faulted in as they are used.
    std::vector<std::string> args = {
        "pipeline_bench", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
        "-m", g_smoke ? "512" : "4096",
        "--lcores=" + lcore_map(),
        "--log-level=error",
        "--file-prefix=wt-pipeline-bench-" + std::to_string(::getpid()),
    };
    std::vector<char*> eal_argv;
    for (std::string& a : args) {
        eal_argv.push_back(a.data());
    }
    eal_argv.push_back(nullptr);
    rte_log_set_global_level(RTE_LOG_ERR);
    if (rte_eal_init(static_cast<int>(args.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "pipeline_bench: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    g_tsc_hz = static_cast<double>(rte_get_tsc_hz());

    auto loaded = pipeline::load_default_services();
    auto built = pipeline::ServiceClassifier::build(std::get<pipeline::ServiceCatalog>(loaded));
    g_classifier =
        std::make_unique<pipeline::ServiceClassifier>(std::move(std::get<pipeline::ServiceClassifier>(built)));

    std::fprintf(stderr, "pipeline_bench: TSC %.3f GHz, bursts of %u, %s\n", g_tsc_hz / 1e9, kBurst,
                 g_smoke ? "SMOKE mode: the 1M-flow cases run with 32768 flows" : "full sizes");
    const int rc = wt::bench::run_benchmarks(argc, argv, register_all);

    g_fixture.reset();
    g_classifier.reset();
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ignored;
    if (runtime_dir.find("wt-pipeline-bench-") != std::string::npos) {
        std::filesystem::remove_all(runtime_dir, ignored);
    }
    return rc;
}
