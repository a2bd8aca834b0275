// app/config/environment: what `run --check` finds missing on the machine, each as FILE:LINE with the
// fix. sysfs and /proc/mounts are a temporary copy where a test needs a machine it does not have (PCI
// devices, hugepages); interfaces, sockets and ports are this machine's own.
#include "app/config/environment.hpp"

#include "app/control/fd_guard.hpp"
#include "app/control/server.hpp"
#include "app/control/tcp_listen.hpp"
#include "tests/app/control/test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

namespace wt::app {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

ApplianceConfig load(const std::string& text) {
    ConfigResult r = load_config_text(text, "t.toml", "");
    if (const auto* e = std::get_if<ConfigError>(&r)) {
        ADD_FAILURE() << e->format();
        return {};
    }
    return std::get<ApplianceConfig>(std::move(r));
}

// A tap port on `iface`, the control socket in `dir`, the HTTP listener at `listen`, and optional [eal] lines.
std::string tap_config(const std::string& iface, const std::string& dir, const std::string& listen,
                       const std::string& eal_lines = "hugepages = false\nmemory_mb = 256") {
    return "[eal]\n" + eal_lines + "\nvdevs = [\"net_af_packet0,iface=" + iface +
           ",qpairs=1\"]\n[run]\nmode = \"tap\"\n[[port]]\nname = \"p\"\ndevice = \"net_af_packet0\"\n"
           "[control]\nsocket = \"" + dir + "/wt.sock\"\n[http]\nlisten = \"" + listen + "\"\n";
}

std::string joined(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const ConfigError& e : errors) {
        out += e.format() + "\n";
    }
    return out;
}

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

TEST(Environment, AfPacketInterfaceOfAVdev) {
    EXPECT_EQ(af_packet_interface("net_af_packet0,iface=eth1,qpairs=2"), "eth1");
    EXPECT_EQ(af_packet_interface("net_af_packet3,qpairs=2,iface=wlp0s20f3"), "wlp0s20f3");
    EXPECT_EQ(af_packet_interface("net_af_packet0"), "");
    EXPECT_EQ(af_packet_interface("net_pcap0,iface=eth0"), "") << "only af_packet is checked here";
}

TEST(Environment, AnExistingInterfaceAndAFreeAddressPass) {
    TempDir dir;
    const auto errors = check_environment(load(tap_config("lo", dir.path(), "127.0.0.1:0")));
    EXPECT_TRUE(errors.empty()) << joined(errors);
}

TEST(Environment, AMissingInterfaceIsNamedAtItsLine) {
    TempDir dir;
    const auto errors = check_environment(load(tap_config("nosuch0", dir.path(), "127.0.0.1:0")));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].format(), "t.toml:4: eal.vdevs[0] = \"net_af_packet0,iface=nosuch0,qpairs=1\" (port 'p'): there is "
                                  "no interface 'nosuch0' here (`ip link` lists them; a namespace's interfaces are seen "
                                  "only from inside it)");
}

TEST(Environment, APcapFileThatCannotBeRead) {
    TempDir dir;
    const std::string text = "[eal]\nhugepages = false\nmemory_mb = 256\nvdevs = [\"net_pcap0,rx_pcap=" + dir.path() +
                             "/none.pcap\"]\n[run]\nmode = \"tap\"\n[[port]]\nname = \"m\"\ndevice = \"net_pcap0\"\n"
                             "[control]\nsocket = \"" + dir.path() + "/wt.sock\"\n[http]\nlisten = \"\"\n";
    const auto errors = check_environment(load(text));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].format(), "t.toml:4: eal.vdevs[0] = \"net_pcap0,rx_pcap=" + dir.path() + "/none.pcap\" (port "
                                  "'m'): rx_pcap " + dir.path() + "/none.pcap cannot be read (No such file or directory)");
}

TEST(Environment, AnHttpAddressInUse) {
    TempDir dir;
    std::string error;
    std::uint16_t port = 0;
    const FdGuard holder(listen_tcp("127.0.0.1:0", port, error));
    ASSERT_GE(holder.get(), 0) << error;
    const std::string taken = "127.0.0.1:" + std::to_string(port);
    const auto errors = check_environment(load(tap_config("lo", dir.path(), taken)));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].format().find("t.toml:13: http.listen = \"" + taken + "\": bind " + taken +
                                      ": Address already in use"),
              std::string::npos)
        << errors[0].format();
}

TEST(Environment, ADaemonAlreadyOnTheSocket) {
    TempDir dir;
    ControlServer other;
    std::string error;
    ASSERT_TRUE(other.listen_unix(dir.path() + "/wt.sock", 0660, "", error)) << error;
    const auto errors = check_environment(load(tap_config("lo", dir.path(), "127.0.0.1:0")));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].format().find("t.toml:11: control.socket = \"" + dir.path() +
                                      "/wt.sock\": another wiretally answers there"),
              std::string::npos)
        << errors[0].format();
}

// `run --check` beside the running service (a config edit, an upgrade): the socket, the HTTP address and the
// hugepages that instance holds are not held against the new config; everything else still is.
TEST(Environment, ACheckBesideTheRunningInstance) {
    TempDir dir;
    ControlServer running;
    std::string error;
    ASSERT_TRUE(running.listen_unix(dir.path() + "/wt.sock", 0660, "", error)) << error;
    std::uint16_t port = 0;
    const FdGuard http(listen_tcp("127.0.0.1:0", port, error));
    ASSERT_GE(http.get(), 0) << error;
    const ApplianceConfig config = load(tap_config("lo", dir.path(), "127.0.0.1:" + std::to_string(port)));
    EXPECT_TRUE(instance_answers(config));
    EXPECT_EQ(check_environment(config).size(), 2u) << joined(check_environment(config));
    EXPECT_TRUE(check_environment(config, {}, true).empty()) << joined(check_environment(config, {}, true));
    const ApplianceConfig bad_iface = load(tap_config("wt-no-such-if", dir.path(), "127.0.0.1:" + std::to_string(port)));
    ASSERT_EQ(check_environment(bad_iface, {}, true).size(), 1u) << joined(check_environment(bad_iface, {}, true));
    EXPECT_NE(check_environment(bad_iface, {}, true)[0].format().find("wt-no-such-if"), std::string::npos);
}

TEST(Environment, ASocketFolderThatIsAFile) {
    TempDir dir;
    write_file(fs::path(dir.path()) / "file", "x");
    const auto errors = check_environment(load(tap_config("lo", dir.path() + "/file/sub", "127.0.0.1:0")));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].format().find("/file is not a folder"), std::string::npos) << errors[0].format();
}

TEST(Environment, PciDevicesMustExistAndBeBoundForDpdk) {
    TempDir dir;
    const fs::path sys = fs::path(dir.path()) / "sys";
    const fs::path devices = sys / "bus/pci/devices";
    fs::create_directories(sys / "bus/pci/drivers/ixgbe");
    fs::create_directories(sys / "bus/pci/drivers/vfio-pci");
    fs::create_directories(devices / "0000:03:00.0");
    fs::create_directories(devices / "0000:03:00.1");
    fs::create_symlink(sys / "bus/pci/drivers/ixgbe", devices / "0000:03:00.0/driver");
    fs::create_symlink(sys / "bus/pci/drivers/vfio-pci", devices / "0000:03:00.1/driver");
    const std::string text = "[eal]\nhugepages = false\nmemory_mb = 256\nallow = [\"03:00.0\", \"03:00.1\", "
                             "\"0000:04:00.0\"]\n[run]\nmode = \"tap\"\n[[port]]\nname = \"a\"\ndevice = "
                             "\"0000:03:00.0\"\n[control]\nsocket = \"" + dir.path() +
                             "/wt.sock\"\n[http]\nlisten = \"\"\n";
    const auto errors = check_environment(load(text), EnvironmentRoots{sys.string(), "/proc/mounts"});
    ASSERT_EQ(errors.size(), 2u) << joined(errors);
    EXPECT_EQ(errors[0].format(), "t.toml:4: eal.allow[0] = \"0000:03:00.0\" (port 'a'): 0000:03:00.0 is bound to the "
                                  "kernel's ixgbe driver, which DPDK cannot use; bind it to vfio-pci with "
                                  "`deploy/check-box.sh --bind 0000:03:00.0`");
    EXPECT_EQ(errors[1].format(), "t.toml:4: eal.allow[2] = \"0000:04:00.0\": no PCI device 0000:04:00.0 on this "
                                  "machine (`lspci -D` lists them; deploy/check-box.sh shows the NICs)");
}

TEST(Environment, HugepagesMustBeMountedAndFree) {
    TempDir dir;
    const fs::path sys = fs::path(dir.path()) / "sys";
    write_file(sys / "kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "100\n"); // 200 MB
    write_file(sys / "kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
    const fs::path mounted = fs::path(dir.path()) / "mounts";
    write_file(mounted, "proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n");
    const fs::path unmounted = fs::path(dir.path()) / "mounts-none";
    write_file(unmounted, "proc /proc proc rw 0 0\n");

    const auto with = [&](std::uint32_t mb, const fs::path& mounts) {
        return check_environment(
            load(tap_config("lo", dir.path(), "", "hugepages = true\nmemory_mb = " + std::to_string(mb))),
            EnvironmentRoots{sys.string(), mounts.string(), dir.path()});
    };
    EXPECT_TRUE(with(128, mounted).empty()) << joined(with(128, mounted));
    auto errors = with(256, mounted);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].format(), "t.toml:3: eal.memory_mb = 256 with hugepages: only 200 MB of hugepages are free; "
                                  "reserve them with deploy/hugepages.sh, or set eal.hugepages = false (ordinary "
                                  "pages, at most 4096 MB)");
    errors = with(128, unmounted);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].format().find("no hugetlbfs is mounted"), std::string::npos) << errors[0].format();

    // A restart: the last run with this file prefix left 64 MB of hugepage files, which EAL takes back at
    // start; another prefix's files stay someone else's.
    const std::string prefix = load(tap_config("lo", dir.path(), "", "hugepages = true")).eal.file_prefix;
    for (int i = 0; i < 32; ++i) {
        write_file(fs::path(dir.path()) / "dev/hugepages" / fmt::format("{}map_{}", prefix, i), "");
        fs::resize_file(fs::path(dir.path()) / "dev/hugepages" / fmt::format("{}map_{}", prefix, i), 2u << 20);
        write_file(fs::path(dir.path()) / "dev/hugepages" / fmt::format("othermap_{}", i), "");
        fs::resize_file(fs::path(dir.path()) / "dev/hugepages" / fmt::format("othermap_{}", i), 2u << 20);
    }
    EXPECT_TRUE(with(256, mounted).empty()) << joined(with(256, mounted));  // 200 free + 64 of our own
    errors = with(300, mounted);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].format().find("only 264 MB of hugepages are free"), std::string::npos) << errors[0].format();
}

} // namespace
} // namespace wt::app
