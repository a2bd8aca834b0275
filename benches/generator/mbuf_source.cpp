#include "benches/generator/mbuf_source.hpp"

#include <rte_mbuf.h>

#include <cstring>

namespace wt::gen {

std::uint16_t next_burst(TrafficGenerator& gen, rte_mempool* pool, rte_mbuf** out, std::uint16_t n,
                         std::uint64_t* timestamps) {
    std::uint16_t filled = 0;
    Packet p;
    while (filled < n && gen.next(p)) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) {
            break;
        }
        if (p.frame.size() > rte_pktmbuf_tailroom(m)) {
            rte_pktmbuf_free(m);
            continue; // larger than the pool's data room: skip it
        }
        std::memcpy(rte_pktmbuf_mtod(m, void*), p.frame.data(), p.frame.size());
        m->data_len = static_cast<std::uint16_t>(p.frame.size());
        m->pkt_len = static_cast<std::uint32_t>(p.frame.size());
        if (timestamps != nullptr) {
            timestamps[filled] = p.ts_ns;
        }
        out[filled++] = m;
    }
    return filled;
}

} // namespace wt::gen
