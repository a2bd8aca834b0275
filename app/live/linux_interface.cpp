#include "app/live/linux_interface.hpp"

#include "app/control/fd_guard.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace wt::app {

namespace {

bool ethtool(int fd, const std::string& name, void* data) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(data);
    return ::ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

// One of the legacy get commands (ETHTOOL_GGRO, ...): still answered by every kernel since 2.6.
bool ethtool_flag(int fd, const std::string& name, std::uint32_t cmd, std::uint32_t mask = ~0u) {
    ethtool_value v{};
    v.cmd = cmd;
    return ethtool(fd, name, &v) && (v.data & mask) != 0;
}

} // namespace

std::string InterfaceFacts::offloads_text() const {
    std::vector<const char*> on;
    for (const auto& [flag, text] : {std::pair{gro, "GRO"}, std::pair{lro, "LRO"}, std::pair{gso, "GSO"},
                                     std::pair{tso, "TSO"}, std::pair{tx_checksum, "tx checksum"}}) {
        if (flag) {
            on.push_back(text);
        }
    }
    if (on.empty()) {
        return "none";
    }
    std::string out;
    for (const char* t : on) {
        out += (out.empty() ? "" : ", ") + std::string(t);
    }
    return out;
}

InterfaceFacts read_interface(const std::string& name) {
    InterfaceFacts f;
    if (name.empty() || name.size() >= IFNAMSIZ || ::if_nametoindex(name.c_str()) == 0) {
        return f;
    }
    FdGuard fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return f;
    }
    f.found = true;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), SIOCGIFMTU, &ifr) == 0) {
        f.mtu = ifr.ifr_mtu;
    }
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    if (ethtool(fd.get(), name, &info)) {
        f.driver = std::string(info.driver, strnlen(info.driver, sizeof(info.driver)));
    }
    f.gro = ethtool_flag(fd.get(), name, ETHTOOL_GGRO);
    f.gso = ethtool_flag(fd.get(), name, ETHTOOL_GGSO);
    f.tso = ethtool_flag(fd.get(), name, ETHTOOL_GTSO);
    f.tx_checksum = ethtool_flag(fd.get(), name, ETHTOOL_GTXCSUM);
    f.lro = ethtool_flag(fd.get(), name, ETHTOOL_GFLAGS, ETH_FLAG_LRO);
    return f;
}

} // namespace wt::app
