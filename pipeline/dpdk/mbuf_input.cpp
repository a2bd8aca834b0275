#include "pipeline/dpdk/mbuf_input.hpp"

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

namespace wt::pipeline {

bool MbufInput::init(const char** error) noexcept {
    int offset = -1;
    std::uint64_t flag = 0;
    if (rte_mbuf_dyn_rx_timestamp_register(&offset, &flag) != 0) {
        if (error != nullptr) {
            *error = "cannot register the mbuf Rx timestamp field";
        }
        return false;
    }
    _ts_offset = offset;
    _ts_flag = flag;
    static const rte_mbuf_dynfield kWireLen = {"wiretally_dynfield_wire_len", sizeof(std::uint32_t),
                                               alignof(std::uint32_t), 0};
    _wire_len_offset = rte_mbuf_dynfield_register(&kWireLen);
    if (_wire_len_offset < 0) {
        if (error != nullptr) {
            *error = "cannot register the mbuf wire-length field";
        }
        return false;
    }
    return true;
}

void MbufInput::set_wire_length(rte_mbuf* m, std::uint32_t wire_len) const noexcept {
    *RTE_MBUF_DYNFIELD(m, _wire_len_offset, std::uint32_t*) = wire_len;
}

void MbufInput::set_timestamp(rte_mbuf* m, std::uint64_t ts_ns) const noexcept {
    *RTE_MBUF_DYNFIELD(m, _ts_offset, std::uint64_t*) = ts_ns;
    m->ol_flags |= _ts_flag;
}

void MbufInput::process_burst(Worker& worker, rte_mbuf* const* pkts, std::uint16_t n,
                              std::uint64_t fallback_ts_ns) noexcept {
    // The frames go to the worker as one burst (its stages overlap their cache misses);
    // the data of every frame is prefetched first, since decoding reads it.
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));
    }
    std::array<FrameRef, Worker::kBurstBatch> frames;
    std::size_t pending = 0;
    std::uint64_t last_ts = fallback_ts_ns;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        FrameRef& ref = frames[pending];
        ref.ts_ns = fallback_ts_ns;
        if (_live) {
            // arrival time from the caller's clock
        } else if (_ts_offset >= 0 && (m->ol_flags & _ts_flag)) {
            ref.ts_ns = *RTE_MBUF_DYNFIELD(m, _ts_offset, const std::uint64_t*);
        } else {
            ++_counters.missing_timestamp;
        }
        last_ts = ref.ts_ns;
        // 0 = "the frame is complete" unless an offline source recorded a longer wire length.
        ref.wire_len = 0;
        if (_wire_len_offset >= 0 && !_live) {
            ref.wire_len = *RTE_MBUF_DYNFIELD(m, _wire_len_offset, const std::uint32_t*);
        }
        ref.link = _link_by_port[m->port % kMaxPorts];
        if (const std::uint32_t limit = _ring_limit_by_port[m->port % kMaxPorts]; limit != 0 && m->pkt_len >= limit)
            [[unlikely]] {
            ref.wire_len = m->pkt_len + 65535;
            ++_counters.ring_cut_frames;
        }
        if (m->nb_segs == 1) {
            ref.frame = {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
            if (++pending == frames.size()) {
                worker.process_burst({frames.data(), pending});
                pending = 0;
            }
            continue;
        }
        // Multi-segment: linearised into the one bounce buffer, so the frames before it
        // go first and this one alone.
        if (m->pkt_len > _bounce.size()) {
            ++_counters.multi_segment_drops;
            continue;
        }
        const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, _bounce.data());
        if (p == nullptr) {
            ++_counters.multi_segment_drops;
            continue;
        }
        ++_counters.multi_segment;
        worker.process_burst({frames.data(), pending});
        pending = 0;
        worker.process_packet(ref.link, {static_cast<const std::uint8_t*>(p), m->pkt_len}, ref.ts_ns, ref.wire_len);
    }
    worker.process_burst({frames.data(), pending});
    worker.expire(last_ts);
}

} // namespace wt::pipeline
