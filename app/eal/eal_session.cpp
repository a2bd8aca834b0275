#include "app/eal/eal_session.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <unistd.h>

namespace wt::app {

namespace {

bool g_running = false;

// rte_eal_init over "wiretally" + args; logs at `log_level` from the start (EAL prints its
// banner at INFO: keep stdout for reports).
bool init_eal(std::vector<std::string> args, std::uint32_t log_level, std::string& error) {
    args.insert(args.begin(), "wiretally");
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    rte_log_set_global_level(log_level);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        error = fmt::format("DPDK EAL initialisation failed: {}", rte_strerror(rte_errno));
        return false;
    }
    g_running = true;
    return true;
}

} // namespace

bool EalSession::start_appliance(const std::vector<std::string>& eal_args, std::string& error) {
    if (g_running) {
        error = "DPDK EAL is already running in this process";
        return false;
    }
    if (!init_eal(eal_args, RTE_LOG_WARNING, error)) {
        error += fmt::format(" (EAL arguments: {})", fmt::join(eal_args, " "));
        return false;
    }
    return true;
}

void EalSession::stop() {
    if (g_running) {
        // Each run has its own prefix, so its runtime directory (/var/run/dpdk/wiretally-PID)
        // would otherwise be left behind by every analysis.
        const std::string runtime_dir = rte_eal_get_runtime_dir();
        rte_eal_cleanup();
        g_running = false;
        std::error_code ignored;
        if (runtime_dir.find(fmt::format("wiretally-{}", ::getpid())) != std::string::npos) {
            std::filesystem::remove_all(runtime_dir, ignored);
        }
    }
}

bool EalSession::running() {
    return g_running;
}

} // namespace wt::app
