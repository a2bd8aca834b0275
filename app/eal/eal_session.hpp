// EalSession: DPDK's EAL for this process, brought up once and cleaned up once: memory-only
// for a process that needs no NIC and no hugepages (offline analysis, tests), or with the
// configuration's arguments for the live appliance.
#pragma once

#include <string>
#include <vector>

struct rte_mempool;

namespace wt::app {

class EalSession {
public:
    // Memory-only EAL: --no-huge --no-pci --no-shconf, one lcore, quiet logs,
    // a per-process file prefix so that parallel runs never collide. The calling
    // thread is lcore 0 but keeps the CPU affinity it had (EAL would pin it).
    static bool start(const std::vector<std::string>& extra_args, std::string& error);
    // The live appliance: the configuration's EAL arguments as given (lcores, devices, memory);
    // the error names them.
    static bool start_appliance(const std::vector<std::string>& eal_args, std::string& error);
    // rte_eal_cleanup(), and the runtime directory of a per-process file prefix removed.
    static void stop();
    [[nodiscard]] static bool running();
};

// A packet mbuf pool for offline reading: few mbufs, each with only a headroom of
// its own, because analyze attaches the frames in the mapped capture to them as
// external buffers instead of copying (64 KiB data rooms cost 16 MB, and freeing
// the pool wrote all of it: DPDK zeroes memory on free).
rte_mempool* create_offline_pool(const char* name, unsigned count, std::string& error);

} // namespace wt::app
