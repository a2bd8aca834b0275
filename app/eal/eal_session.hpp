// EalSession: DPDK's EAL for the live appliance, brought up once with the configuration's
// arguments and cleaned up once. (Offline analysis needs no EAL: it hands the worker spans.)
#pragma once

#include <string>
#include <vector>

namespace wt::app {

class EalSession {
public:
    // The live appliance: the configuration's EAL arguments as given (lcores, devices, memory);
    // the error names them.
    static bool start_appliance(const std::vector<std::string>& eal_args, std::string& error);
    // rte_eal_cleanup(), and the runtime directory of a per-process file prefix removed.
    static void stop();
    [[nodiscard]] static bool running();
};

} // namespace wt::app
