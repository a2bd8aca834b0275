// What `wiretally run --check` checks on the machine, after the configuration itself is valid, and
// what `run` checks before it starts anything (so that a failure names its cause in one line instead
// of surfacing as DPDK's noise):
//
//   - every interface an af_packet vdev names (iface=) exists;
//   - every PCI address of eal.allow exists and is bound to a driver DPDK can use (vfio-pci,
//     uio_pci_generic, igb_uio);
//   - with hugepages = true, hugetlbfs is mounted and enough hugepages are free for eal.memory_mb;
//   - the control socket's folder exists or can be created, and no daemon answers on the socket;
//   - the HTTP listener's address can be bound (nothing else listens there).
//
// Each problem is a ConfigError pointing at the line that asks for the thing the machine lacks, with
// the fix. Nothing is created, bound for longer than the check, or changed.
#pragma once

#include "app/config/config.hpp"

#include <string>
#include <vector>

namespace wt::app {

// Where the kernel's views are read from: the real ones, or a test's copy.
struct EnvironmentRoots {
    std::string sysfs = "/sys";
    std::string proc_mounts = "/proc/mounts";
    std::string hugetlbfs_root = "/";  ///< prefixed to the hugetlbfs mount points /proc/mounts names (tests)
};

/// What `run` needs of this machine: interfaces, PCI devices, hugepages, the control socket, the HTTP address.
/// BESIDE_RUNNING (`run --check` while a wiretally answers on the config's socket, e.g. the service being
/// reconfigured or upgraded): what that instance holds and gives back when it stops (the socket, the HTTP
/// address, hugepages) is not checked.
[[nodiscard]] std::vector<ConfigError> check_environment(const ApplianceConfig& config,
                                                         const EnvironmentRoots& roots = {},
                                                         bool beside_running = false);

/// A wiretally (any daemon) accepts connections on the config's control socket.
[[nodiscard]] bool instance_answers(const ApplianceConfig& config);

// The interface an af_packet vdev names ("net_af_packet0,iface=eth1,qpairs=2" -> "eth1"), or "" when
// the vdev is not af_packet or names none.
[[nodiscard]] std::string af_packet_interface(std::string_view vdev);

}  // namespace wt::app
