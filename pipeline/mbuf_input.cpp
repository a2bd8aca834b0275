#include "pipeline/mbuf_input.hpp"

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
    return true;
}

void MbufInput::set_timestamp(rte_mbuf* m, std::uint64_t ts_ns) const noexcept {
    *RTE_MBUF_DYNFIELD(m, _ts_offset, std::uint64_t*) = ts_ns;
    m->ol_flags |= _ts_flag;
}

void MbufInput::process_burst(Worker& worker, rte_mbuf* const* pkts, std::uint16_t n,
                              std::uint64_t fallback_ts_ns) noexcept {
    std::uint64_t last_ts = fallback_ts_ns;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (i + 1 < n) {
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], const void*));
        }
        std::uint64_t ts = fallback_ts_ns;
        if (_ts_offset >= 0 && (m->ol_flags & _ts_flag)) {
            ts = *RTE_MBUF_DYNFIELD(m, _ts_offset, const std::uint64_t*);
        } else {
            ++_counters.missing_timestamp;
        }
        last_ts = ts;
        parsers::Bytes frame;
        if (m->nb_segs == 1) {
            frame = {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
        } else if (m->pkt_len <= _bounce.size()) {
            const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, _bounce.data());
            if (p == nullptr) {
                ++_counters.multi_segment_drops;
                continue;
            }
            ++_counters.multi_segment;
            frame = {static_cast<const std::uint8_t*>(p), m->pkt_len};
        } else {
            ++_counters.multi_segment_drops;
            continue;
        }
        worker.process_packet(_link_by_port[m->port % kMaxPorts], frame, ts);
    }
    worker.expire(last_ts);
}

} // namespace wt::pipeline
