// TrafficGenerator: synthetic traffic for benchmarks, as a stream of timestamped Ethernet frames.
//
// Flows start at a chosen rate (exponential gaps, so new flows arrive as a Poisson process of
// capture time) and each lasts long enough that about `flows` are alive at once (Little's law:
// concurrent = rate x lifetime). Kinds, in the proportions of `mix`:
//   tls   TCP 443: handshake, a recorded ClientHello (tests/parsers/tls/vectors.hpp) with the
//         SNI rewritten, its ServerHello, application-data records both ways, FIN/FIN/ACK.
//   quic  UDP 443: a recorded QUIC v1 client's ClientHello (tests/parsers/quic/vectors.hpp) with
//         the SNI rewritten, in Initials protected for a fresh DCID (RFC 9001), the server's
//         Initial and Handshake, then short-header packets.
//   dns   UDP 53: an A query (AAAA over IPv6) and its answer: the name's server address, half the
//         time behind one or two CNAMEs. The address is the one the other flows to that name use.
//   http  TCP 80: GET with Host, a 200 response, body, close.
//   bulk  a TLS connection as above carrying a 200-800-segment download.
// Every flow names a server from `names`; each name has its own server address (198.18.0.0/15,
// 2001:db8::/32), clients are 10.0.0.0/8 and fd00:77::/32. Data segments follow `size`; handshake
// packets keep their natural sizes. Everything derives from `seed`: each flow has its own
// random stream, so a flow's packets do not depend on the others.
//
// Streaming: memory is the live flows (56 bytes each plus a 16-byte heap entry), never
// the output. next() hands out one frame at a time, in timestamp order.
#pragma once

#include "benches/generator/frame_builder.hpp"
#include "benches/generator/payloads.hpp"
#include "benches/generator/rng.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wt::gen {

enum class FlowKind : std::uint8_t { kTls, kQuic, kDns, kHttp, kBulk, kCount };
inline constexpr std::size_t kFlowKinds = static_cast<std::size_t>(FlowKind::kCount);
[[nodiscard]] std::string_view to_string(FlowKind k) noexcept;

// Ethernet frame sizes with the 4-byte FCS, as RFC 2544 and IMIX count them; the capture holds
// each frame without it (a "64-byte" frame is a 60-byte record, a 1518-byte one 1514).
enum class SizeMode : std::uint8_t {
    k64,   ///< 64-byte frames
    kImix, ///< 64, 594 and 1518 bytes in proportions 7:4:1 (mean 353 bytes)
    k1500, ///< 1500-byte frames
};

struct TrafficConfig {
    std::uint64_t flows = 10000;  ///< concurrent flows once the first ones have ended
    double new_flows_per_s = 0;   ///< flows started per second of capture time; 0: flows / 5
    std::array<std::uint32_t, kFlowKinds> mix{40, 20, 20, 5, 15}; ///< tls, quic, dns, http, bulk weights
    SizeMode size = SizeMode::kImix;
    // Limits: generation stops at the first one reached. With none set, 10 s of capture time.
    double duration_s = 0;         ///< seconds of capture time
    std::uint64_t max_bytes = 0;   ///< size of the equivalent pcap file (24 + 16 per record + frames)
    std::uint64_t max_packets = 0;
    std::uint64_t total_flows = 0; ///< start this many flows, then let them finish (0: keep starting)
    std::uint64_t seed = 1;
    std::uint32_t ipv6_percent = 10; ///< share of flows over IPv6
    std::uint32_t clients = 1000;    ///< client addresses
    std::vector<std::string> names;  ///< server names; empty: default_names(1000)
    std::uint64_t start_ns = 1700000000ull * 1000000000ull; ///< timestamp of the first flow
};

struct Packet {
    std::uint64_t ts_ns = 0;
    std::span<const std::uint8_t> frame; ///< valid until the next call to next()
    FlowKind kind = FlowKind::kCount;
    std::uint64_t flow = 0;              ///< flow number, in order of start
};

struct TrafficStats {
    std::uint64_t packets = 0;
    std::uint64_t frame_bytes = 0;
    std::uint64_t pcap_bytes = 24; ///< the same frames as a pcap file
    std::uint64_t flows_started = 0;
    std::uint64_t flows_finished = 0;
    std::uint64_t max_active = 0;
    std::array<std::uint64_t, kFlowKinds> flows{};
    std::array<std::uint64_t, kFlowKinds> kind_packets{};
    std::uint64_t first_ns = 0;
    std::uint64_t last_ns = 0;
};

class TrafficGenerator {
public:
    // Throws std::invalid_argument for a configuration it cannot run (no flows, all-zero mix,
    // no names, a name over 253 characters).
    explicit TrafficGenerator(TrafficConfig config);
    ~TrafficGenerator();
    TrafficGenerator(const TrafficGenerator&) = delete;
    TrafficGenerator& operator=(const TrafficGenerator&) = delete;

    // The next frame in timestamp order; false once a limit is reached or every flow ended.
    bool next(Packet& out);

    template <class F>
    void for_each(F&& f) {
        Packet p;
        while (next(p)) {
            f(p);
        }
    }

    [[nodiscard]] const TrafficStats& stats() const noexcept { return _stats; }
    [[nodiscard]] const TrafficConfig& config() const noexcept { return _config; }
    [[nodiscard]] std::size_t active_flows() const noexcept { return _heap.size(); }
    // Names whose naming packet (ClientHello, QUIC Initial, GET, DNS query) was emitted so far.
    [[nodiscard]] std::vector<std::string> names_emitted() const;

    // The address flows to name `index` use (4 or 16 bytes).
    [[nodiscard]] std::array<std::uint8_t, 16> server_address(std::uint32_t index, bool v6) const noexcept;

private:
    struct Flow;
    struct Event {
        std::uint64_t ts;
        std::uint32_t slot;
    };

    void start_flow(std::uint64_t ts);
    // Writes the flow's next packet into _frame; returns its length and sets `delay_ns` to the
    // time until the one after, or returns with `done` set after its last packet.
    std::size_t emit(Flow& f, std::uint64_t& delay_ns, bool& done);
    std::size_t emit_tcp(Flow& f, std::uint64_t& delay_ns, bool& done);
    std::size_t emit_quic(Flow& f, std::uint64_t& delay_ns, bool& done);
    std::size_t emit_dns(Flow& f, std::uint64_t& delay_ns, bool& done);
    Endpoints endpoints(const Flow& f) const noexcept;
    std::size_t data_payload(Flow& f, bool v6, std::uint8_t proto, std::size_t min_payload) noexcept;
    void fill_random(Flow& f, std::uint8_t* p, std::size_t n) noexcept;
    std::array<std::uint8_t, kQuicCidLength> cid(const Flow& f, std::uint64_t which) const noexcept;

    TrafficConfig _config;
    std::array<std::uint32_t, kFlowKinds> _mix_cumulative{};
    std::uint32_t _mix_total = 0;
    double _mean_gap_ns = 0;      // between flow starts
    double _long_lifetime_ns = 0; // mean lifetime of the flows that are not DNS
    std::uint64_t _end_ns = 0;    // 0: no time limit
    std::uint64_t _next_arrival_ns = 0;
    bool _arrivals_open = true;
    bool _finished = false;
    Rng _arrivals;
    std::vector<Flow> _flows; // slots
    std::vector<std::uint32_t> _free;
    std::vector<Event> _heap;
    std::vector<std::uint8_t> _name_emitted;
    std::vector<std::uint8_t> _random_pool;
    std::unique_ptr<QuicSealer> _sealer;
    std::array<std::uint8_t, 4096> _hello{};
    alignas(64) std::array<std::uint8_t, kFrameBuffer> _frame{};
    TrafficStats _stats;
};

// Parses "tls=40,quic=20,dns=20,http=5,bulk=15" (kinds left out get 0). Returns false on an
// unknown kind or a bad number.
bool parse_mix(std::string_view text, std::array<std::uint32_t, kFlowKinds>& out);
// "64", "imix" or "1500".
bool parse_size_mode(std::string_view text, SizeMode& out);

// The first `max_packets` frames of `config`, in memory (for benchmarks that replay them).
std::vector<std::vector<std::uint8_t>> generate_frames(const TrafficConfig& config, std::size_t max_packets);

} // namespace wt::gen
