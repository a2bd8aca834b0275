// EalSession: brings up DPDK's EAL for a process that needs no NIC and no
// hugepages (offline analysis, tests), and tears it down on scope exit.
#pragma once

#include <string>
#include <vector>

struct rte_mempool;

namespace wt::app {

class EalSession {
public:
    // Memory-only EAL: --no-huge --no-pci --no-shconf, one lcore, quiet logs,
    // a per-process file prefix so that parallel runs never collide.
    static bool start(const std::vector<std::string>& extra_args, std::string& error);
    static void stop();
    [[nodiscard]] static bool running();
};

// A packet mbuf pool sized for offline reading: few mbufs, each large enough for
// any frame a capture can hold (up to 64 KiB: GRO/TSO super-frames included).
rte_mempool* create_offline_pool(const char* name, unsigned count, std::string& error);

} // namespace wt::app
