#include "app/eal/eal_session.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <sched.h>
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

bool EalSession::start(const std::vector<std::string>& extra_args, std::string& error) {
    if (g_running) {
        return true;
    }
    std::vector<std::string> args = {
        "--no-huge",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "-m", "64",
        "-l", "0",
        "--log-level=*:warning",
        "--log-level=lib.eal:error",
        fmt::format("--file-prefix=wiretally-{}", ::getpid()),
    };
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    cpu_set_t before;
    const bool have_affinity = ::sched_getaffinity(0, sizeof before, &before) == 0;
    if (!init_eal(std::move(args), RTE_LOG_ERR, error)) {
        return false;
    }
    // `-l 0` pins this thread to CPU 0. Nothing here polls a NIC, and on a shared
    // machine the pin made the analysis queue for CPU 0 while another CPU was idle:
    // let the scheduler place it again (rte_lcore_id() stays 0).
    if (have_affinity) {
        ::sched_setaffinity(0, sizeof before, &before);
    }
    return true;
}

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

rte_mempool* create_offline_pool(const char* name, unsigned count, std::string& error) {
    constexpr std::uint16_t kDataRoom = RTE_PKTMBUF_HEADROOM;
    rte_mempool* pool = rte_pktmbuf_pool_create(name, count, 0, 0, kDataRoom, SOCKET_ID_ANY);
    if (pool == nullptr) {
        error = fmt::format("cannot create the mbuf pool: {}", rte_strerror(rte_errno));
    }
    return pool;
}

} // namespace wt::app
