#include "app/config/environment.hpp"

#include "app/control/fd_guard.hpp"
#include "app/control/server.hpp"
#include "app/control/tcp_listen.hpp"

#include <fmt/format.h>

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace wt::app {

namespace {

namespace fs = std::filesystem;

// The drivers through which DPDK's PCI drivers reach a NIC (the kernel's own driver hides it from DPDK).
constexpr std::array<std::string_view, 3> kDpdkPciDrivers = {"vfio-pci", "uio_pci_generic", "igb_uio"};

// " (port 'wan')" for the port that uses `device`, or "" when no port does.
std::string used_by(const ApplianceConfig& c, std::string_view device) {
    for (const PortConfig& p : c.ports) {
        if (p.device == device) {
            return fmt::format(" (port '{}')", p.name);
        }
    }
    return {};
}

// The value of `key=` in a vdev's argument list ("" when absent).
std::string vdev_arg(std::string_view vdev, std::string_view key) {
    for (std::size_t start = vdev.find(','); start != std::string_view::npos;) {
        const std::size_t end = vdev.find(',', start + 1);
        const std::string_view kv = vdev.substr(start + 1, end == std::string_view::npos ? end : end - start - 1);
        if (kv.size() > key.size() && kv.starts_with(key) && kv[key.size()] == '=') {
            return std::string(kv.substr(key.size() + 1));
        }
        start = end;
    }
    return {};
}

std::string vdev_name(std::string_view vdev) { return std::string(vdev.substr(0, vdev.find(','))); }

std::string read_line(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// af_packet and pcap vdevs name interfaces and files that must be there before DPDK probes them.
void check_vdevs(const ApplianceConfig& c, std::vector<ConfigError>& out) {
    for (std::size_t i = 0; i < c.eal.vdevs.size(); ++i) {
        const std::string& vdev = c.eal.vdevs[i];
        const int line = i < c.eal.vdev_lines.size() ? c.eal.vdev_lines[i] : 0;
        const std::string port = used_by(c, vdev_name(vdev));
        const std::string pcap_iface = vdev.starts_with("net_pcap") ? vdev_arg(vdev, "iface") : std::string();
        for (const std::string& iface : {af_packet_interface(vdev), pcap_iface}) {
            if (!iface.empty() && ::if_nametoindex(iface.c_str()) == 0) {
                out.push_back({c.source, line,
                               fmt::format("eal.vdevs[{}] = {:?}{}: there is no interface '{}' here (`ip link` lists "
                                           "them; a namespace's interfaces are seen only from inside it)",
                                           i, vdev, port, iface)});
            }
        }
        const std::string rx_pcap = vdev.starts_with("net_pcap") ? vdev_arg(vdev, "rx_pcap") : std::string();
        if (!rx_pcap.empty() && ::access(rx_pcap.c_str(), R_OK) != 0) {
            out.push_back({c.source, line,
                           fmt::format("eal.vdevs[{}] = {:?}{}: rx_pcap {} cannot be read ({})", i, vdev, port, rx_pcap,
                                       std::strerror(errno))});
        }
    }
}

void check_pci(const ApplianceConfig& c, const EnvironmentRoots& roots, std::vector<ConfigError>& out) {
    for (std::size_t i = 0; i < c.eal.allow.size(); ++i) {
        const std::string address = c.eal.allow[i].substr(0, c.eal.allow[i].find(','));
        const int line = i < c.eal.allow_lines.size() ? c.eal.allow_lines[i] : 0;
        const fs::path device = fs::path(roots.sysfs) / "bus/pci/devices" / address;
        std::error_code ec;
        if (!fs::exists(device, ec)) {
            out.push_back({c.source, line,
                           fmt::format("eal.allow[{}] = {:?}{}: no PCI device {} on this machine (`lspci -D` lists "
                                       "them; deploy/check-box.sh shows the NICs)",
                                       i, c.eal.allow[i], used_by(c, address), address)});
            continue;
        }
        const fs::path driver_link = device / "driver";
        const std::string driver = fs::is_symlink(driver_link, ec) ? fs::read_symlink(driver_link, ec).filename().string()
                                                                   : std::string();
        bool usable = false;
        for (std::string_view d : kDpdkPciDrivers) {
            usable = usable || driver == d;
        }
        if (!usable) {
            out.push_back({c.source, line,
                           fmt::format("eal.allow[{}] = {:?}{}: {} is {}, which DPDK cannot use; bind it to vfio-pci "
                                       "with `deploy/check-box.sh --bind {}`",
                                       i, c.eal.allow[i], used_by(c, address), address,
                                       driver.empty() ? std::string("bound to no driver")
                                                      : fmt::format("bound to the kernel's {} driver", driver),
                                       address)});
        }
    }
}

void check_hugepages(const ApplianceConfig& c, const EnvironmentRoots& roots, std::vector<ConfigError>& out) {
    if (!c.eal.hugepages) {
        return;
    }
    std::vector<fs::path> hugetlbfs;
    {
        std::ifstream mounts(roots.proc_mounts);
        std::string device, mount_point, type;
        std::string rest;
        while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
            if (type == "hugetlbfs") {
                hugetlbfs.emplace_back(mount_point);
            }
        }
    }
    const bool mounted = !hugetlbfs.empty();
    std::uint64_t free_bytes = 0;
    std::error_code ec;
    // Pages held by the hugepage files an earlier run with this file prefix left (EAL keeps them unless
    // --huge-unlink): EAL takes them back at start, so they count as free. Without this a restart (systemd's
    // ExecStartPre runs this check) found its own previous pages "in use" and refused to start.
    const std::string own_files = c.eal.file_prefix + "map_";
    for (const fs::path& mount : hugetlbfs) {
        for (const auto& e : fs::directory_iterator(fs::path(roots.hugetlbfs_root) / mount.relative_path(), ec)) {
            if (e.path().filename().string().starts_with(own_files) && e.is_regular_file(ec)) {
                free_bytes += e.file_size(ec);
            }
        }
    }
    const fs::path pools = fs::path(roots.sysfs) / "kernel/mm/hugepages";
    for (const auto& e : fs::directory_iterator(pools, ec)) {
        // hugepages-2048kB, hugepages-1048576kB
        const std::string name = e.path().filename().string();
        const std::size_t kb = std::strtoull(name.c_str() + std::min<std::size_t>(name.size(), 10), nullptr, 10);
        free_bytes += kb * 1024 * std::strtoull(read_line(e.path() / "free_hugepages").c_str(), nullptr, 10);
    }
    const std::uint64_t want = std::uint64_t{c.eal.memory_mb} << 20;
    if (!mounted || free_bytes < want) {
        out.push_back({c.source, c.eal.memory_line,
                       fmt::format("eal.memory_mb = {} with hugepages: {}; reserve them with deploy/hugepages.sh, "
                                   "or set eal.hugepages = false (ordinary pages, at most 4096 MB)",
                                   c.eal.memory_mb,
                                   !mounted ? std::string("no hugetlbfs is mounted")
                                            : fmt::format("only {} MB of hugepages are free", free_bytes >> 20))});
    }
}

bool a_daemon_answers(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
        return false;
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return fd.get() >= 0 && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

void check_socket(const ApplianceConfig& c, std::vector<ConfigError>& out) {
    const std::string& path = c.control.socket;
    if (a_daemon_answers(path)) {
        out.push_back({c.source, c.control.socket_line,
                       fmt::format("control.socket = {:?}: another wiretally answers there (stop it, or give this "
                                   "one its own socket and eal.file_prefix)",
                                   path)});
        return;
    }
    // The folder is created when missing: the nearest folder that exists must let us write.
    fs::path folder = fs::path(path).parent_path();
    std::error_code ec;
    while (!folder.empty() && !fs::exists(folder, ec) && folder != folder.parent_path()) {
        folder = folder.parent_path();
    }
    if (folder.empty()) {
        folder = ".";
    }
    if (!fs::is_directory(folder, ec)) {
        out.push_back({c.source, c.control.socket_line,
                       fmt::format("control.socket = {:?}: {} is not a folder", path, folder.string())});
    } else if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        out.push_back({c.source, c.control.socket_line,
                       fmt::format("control.socket = {:?}: {} is not writable by this user ({}); run as root or "
                                   "choose a folder it may write",
                                   path, folder.string(), std::strerror(errno))});
    }
}

void check_http(const ApplianceConfig& c, std::vector<ConfigError>& out) {
    if (c.http.listen.empty()) {
        return;
    }
    // Bound and released at once, by the code that tells why the daemon's listener could not bind.
    std::string error;
    std::uint16_t port = 0;
    const int fd = listen_tcp(c.http.listen, port, error);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    out.push_back({c.source, c.http.listen_line,
                   fmt::format("http.listen = {:?}: {} (is another wiretally or exporter using it? choose another "
                               "port, or \"\" to turn the HTTP listener off)",
                               c.http.listen, error)});
}

} // namespace

std::string af_packet_interface(std::string_view vdev) {
    if (!vdev.starts_with("net_af_packet") && !vdev.starts_with("eth_af_packet")) {
        return {};
    }
    return vdev_arg(vdev, "iface");
}

std::vector<ConfigError> check_environment(const ApplianceConfig& config, const EnvironmentRoots& roots,
                                           bool beside_running) {
    std::vector<ConfigError> out;
    check_vdevs(config, out);
    check_pci(config, roots, out);
    if (!beside_running) {
        check_hugepages(config, roots, out);
        check_socket(config, out);
        check_http(config, out);
    }
    return out;
}

bool instance_answers(const ApplianceConfig& config) {
    return a_daemon_answers(config.control.socket);
}

} // namespace wt::app
