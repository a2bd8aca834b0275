// The EAL command line of `wiretally run`, from a loaded configuration: lcores and their CPUs,
// memory, devices, the file prefix and the log level (config.hpp documents each choice).
#include "app/config/config.hpp"
#include "app/config/config_values.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wt::app {
namespace {

using config_values::kMaxLcores;

// Lcore l runs on cpus[l]: lcore 0, the stats core, on cores[0]; the workers round-robin over the
// other CPUs, or all share cores[0] when it is the only one.
std::vector<int> lcore_cpus(const ApplianceConfig& config) {
    const std::vector<int>& cores = config.eal.cores;
    std::vector<int> cpus = {cores.empty() ? 0 : cores.front()};
    const std::size_t worker_cpus = cores.size() > 1 ? cores.size() - 1 : 0;
    for (std::size_t w = 0; w < worker_count(config); ++w) {
        cpus.push_back(worker_cpus == 0 ? cpus.front() : cores[1 + w % worker_cpus]);
    }
    return cpus;
}

}  // namespace

std::size_t worker_count(const ApplianceConfig& config) {
    if (config.run.workers != 0) {
        return config.run.workers;
    }
    return config.eal.cores.size() > 1 ? config.eal.cores.size() - 1 : 0;
}

std::string with_super_frame_ring(std::string_view vdev) {
    const bool af_packet = vdev.starts_with("net_af_packet") || vdev.starts_with("eth_af_packet");
    if (!af_packet || vdev.find("framesz=") != std::string_view::npos || vdev.find("blocksz=") != std::string_view::npos) {
        return std::string(vdev); // not af_packet, or the operator chose the ring
    }
    return fmt::format("{},blocksz={},framesz={},framecnt={}", vdev, kAfPacketBlockSize, kAfPacketFrameSize,
                       kAfPacketFrameCount);
}

std::optional<std::string> eal_runtime_base(const char* runtime_directory, std::string_view file_prefix) {
    if (runtime_directory == nullptr) {
        return std::nullopt;
    }
    const std::string_view list(runtime_directory);
    if (list.find(':') == std::string_view::npos) {
        return std::nullopt;  // one directory: what DPDK expects
    }
    const std::string suffix = fmt::format("/dpdk/{}", file_prefix);
    std::size_t start = 0;
    while (start <= list.size()) {  // each colon-separated entry once
        const std::size_t end = std::min(list.find(':', start), list.size());
        const std::string_view entry = list.substr(start, end - start);
        if (entry.size() > suffix.size() && entry.ends_with(suffix)) {
            return std::string(entry.substr(0, entry.size() - suffix.size()));
        }
        start = end + 1;
    }
    return std::string();
}

std::vector<std::string> eal_arguments(const ApplianceConfig& config) {
    const EalConfig& eal = config.eal;
    const std::vector<int> cpus = lcore_cpus(config);
    std::vector<std::string> args;
    // `-l` makes each CPU id its lcore id; when CPUs are shared, or too high to be lcore ids,
    // --lcores numbers the lcores 0..n and pins each to its CPU.
    std::vector<int> sorted = cpus;
    std::sort(sorted.begin(), sorted.end());
    const bool one_cpu_each = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    if (one_cpu_each && sorted.back() < kMaxLcores) {
        args.insert(args.end(),
                    {"-l", fmt::format("{}", fmt::join(cpus, ",")), fmt::format("--main-lcore={}", cpus.front())});
    } else {
        std::vector<std::string> placement;
        for (std::size_t lcore = 0; lcore < cpus.size(); ++lcore) {
            placement.push_back(fmt::format("{}@{}", lcore, cpus[lcore]));
        }
        args.insert(args.end(), {fmt::format("--lcores={}", fmt::join(placement, ",")), "--main-lcore=0"});
    }
    args.insert(args.end(), {"-m", std::to_string(eal.memory_mb)});
    if (!eal.hugepages) {
        // --no-shconf: nothing for a secondary process to attach to without hugepage files.
        // Not --in-memory: it also changes how hugepages would be handled, which we do not use here.
        args.insert(args.end(), {"--no-huge", "--no-shconf"});
    }
    if (eal.allow.empty()) {
        args.emplace_back("--no-pci");
    }
    for (const std::string& address : eal.allow) {
        args.insert(args.end(), {"-a", address});
    }
    for (const std::string& vdev : eal.vdevs) {
        args.push_back(fmt::format("--vdev={}", with_super_frame_ring(vdev)));
    }
    args.push_back(fmt::format("--file-prefix={}", eal.file_prefix));
    if (!config.control.telemetry) {
        args.emplace_back("--no-telemetry");
    }
    args.push_back(fmt::format("--log-level=*:{}", eal.log_level));
    args.insert(args.end(), eal.args.begin(), eal.args.end());
    return args;
}

}  // namespace wt::app
