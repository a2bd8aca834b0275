// The DPDK edge of the generator: generated frames copied into mbufs, a burst at a time, so a
// benchmark or a test port can feed the worker exactly as a NIC queue would. The generator
// itself has no DPDK dependency; only this file does.
#pragma once

#include "benches/generator/traffic.hpp"

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace wt::gen {

// Fills up to `n` mbufs from `pool` with the generator's next frames (single segment,
// data_len = pkt_len = frame length). `timestamps`, when not null, receives each frame's
// capture time in ns. Returns how many were filled: fewer than `n` when the generator ended
// or the pool ran dry (then the frame that did not fit is lost).
std::uint16_t next_burst(TrafficGenerator& gen, rte_mempool* pool, rte_mbuf** out, std::uint16_t n,
                         std::uint64_t* timestamps = nullptr);

} // namespace wt::gen
