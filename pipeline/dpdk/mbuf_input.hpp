// The one place where DPDK mbufs become byte spans for the worker.
//
// Multi-segment mbufs are linearised into a per-input bounce buffer when they
// fit, else counted and skipped (STYLE lesson 12: never read pkt_len bytes from
// the first segment). Timestamps come from the standard Rx timestamp dynfield;
// the link type from a per-port table (a live port is Ethernet; an offline
// source stores each pcapng interface as its own "port").
#pragma once

#include "parsers/net/capture_file.hpp"
#include "pipeline/counters.hpp"
#include "pipeline/worker.hpp"

#include <array>
#include <cstdint>

struct rte_mbuf;

namespace wt::pipeline {

class MbufInput {
public:
    static constexpr std::size_t kMaxPorts = 64;

    // Registers (or looks up) the Rx timestamp dynfield. Returns false with a
    // reason when DPDK refuses.
    bool init(const char** error) noexcept;

    void set_link_type(std::uint16_t port, parsers::LinkType link) noexcept {
        _link_by_port[port % kMaxPorts] = link;
    }
    void set_timestamp(rte_mbuf* m, std::uint64_t ts_ns) const noexcept;
    // The frame's length on the wire when the capture cut it short (snaplen), so the
    // decoder can tell a snaplen cut from a lying IP length. Live ports never set it.
    void set_wire_length(rte_mbuf* m, std::uint32_t wire_len) const noexcept;

    // Live ports: packets are timed by the caller's clock at arrival, and the
    // offline-only wire-length field is never read (a PMD leaves dynfields unset;
    // a replayed capture's own timestamps would make every flow look idle for years).
    void set_live(bool live) noexcept { _live = live; }
    // A live af_packet port whose ring holds frames of at most `bytes`: a frame that long may have been
    // cut (a GRO super-frame longer than the ring's frames), so its IP header's length is believed for
    // up to 64 KB more, as for a capture's snaplen cut, and it is counted (ring_cut_frames). 0: none.
    void set_ring_limit(std::uint16_t port, std::uint32_t bytes) noexcept { _ring_limit_by_port[port % kMaxPorts] = bytes; }

    // Runs the burst through the worker. Does not free the mbufs: the caller
    // transmits them (inline) or frees them (tap, offline).
    void process_burst(Worker& worker, rte_mbuf* const* pkts, std::uint16_t n, std::uint64_t fallback_ts_ns) noexcept;

    [[nodiscard]] const MbufInputCounters& counters() const noexcept { return _counters; }

private:
    bool _live = false;
    int _ts_offset = -1;
    int _wire_len_offset = -1;
    std::uint64_t _ts_flag = 0;
    std::array<parsers::LinkType, kMaxPorts> _link_by_port = [] {
        std::array<parsers::LinkType, kMaxPorts> a{};
        a.fill(parsers::LinkType::kEthernet);
        return a;
    }();
    std::array<std::uint32_t, kMaxPorts> _ring_limit_by_port{};
    MbufInputCounters _counters;
    std::array<std::uint8_t, 65536> _bounce{};
};

} // namespace wt::pipeline
