// Tests for app/config: the defaults, every key, each class of error with its exact
// "FILE:LINE: message" text, path resolution, the EAL argv and the JSON of effective values.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/config/config.hpp"

namespace wt::app {
namespace {

using namespace std::chrono_literals;
using Args = std::vector<std::string>;

// Two af_packet ports forwarding to each other: the smallest valid inline configuration.
constexpr std::string_view kPortPair = R"([eal]
vdevs = ["net_af_packet0,iface=veth0", "net_af_packet1,iface=veth1"]

[[port]]
name = "wan"
device = "net_af_packet0"
peer = "lan"

[[port]]
name = "lan"
device = "net_af_packet1"
peer = "wan"
)";

// kPortPair with more keys in its [eal] table (after the header line).
std::string port_pair_with_eal(std::string_view eal_keys) {
    std::string text(kPortPair);
    text.insert(text.find('\n') + 1, std::string(eal_keys) + "\n");
    return text;
}

// Returns the formatted error, or "<ok>" when the text loaded.
std::string load_error(std::string_view text) {
    const ConfigResult r = load_config_text(text, "t.toml", "");
    if (const auto* e = std::get_if<ConfigError>(&r)) {
        return e->format();
    }
    return "<ok>";
}

ApplianceConfig load_ok(std::string_view text, const std::string& base_dir = "") {
    ConfigResult r = load_config_text(text, "t.toml", base_dir);
    if (const auto* e = std::get_if<ConfigError>(&r)) {
        ADD_FAILURE() << e->format();
        return {};
    }
    return std::get<ApplianceConfig>(std::move(r));
}

ApplianceConfig load_file_ok(const std::string& path) {
    ConfigResult r = load_config_file(path);
    if (const auto* e = std::get_if<ConfigError>(&r)) {
        ADD_FAILURE() << e->format();
        return {};
    }
    return std::get<ApplianceConfig>(std::move(r));
}

// A fresh directory per test.
class TempDir {
public:
    TempDir() {
        const auto* info = testing::UnitTest::GetInstance()->current_test_info();
        _path = std::filesystem::path(testing::TempDir()) /
                (std::string("wt_config_") + info->test_suite_name() + "_" + info->name());
        std::filesystem::remove_all(_path);
        std::filesystem::create_directories(_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] std::string write(const std::string& name, std::string_view text) const {
        const std::filesystem::path p = _path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    [[nodiscard]] std::string path() const { return _path.string(); }

private:
    std::filesystem::path _path;
};

// ---- defaults and every key ----------------------------------------------------------------------

TEST(ConfigDefaults, EmptyFileNeedsAPort) {
    EXPECT_EQ(load_error(""), "t.toml: no [[port]]: at least one port is required");
}

TEST(ConfigDefaults, EveryKeyButThePortsHasItsDefault) {
    const ApplianceConfig c = load_ok(kPortPair);
    EXPECT_EQ(c.source, "t.toml");
    EXPECT_EQ(c.eal.cores, (std::vector<int>{0, 1}));
    EXPECT_TRUE(c.eal.hugepages);
    EXPECT_EQ(c.eal.memory_mb, 1024u);
    EXPECT_TRUE(c.eal.allow.empty());
    EXPECT_EQ(c.eal.file_prefix, "wiretally");
    EXPECT_TRUE(c.eal.args.empty());
    EXPECT_EQ(c.eal.log_level, "warning");
    EXPECT_EQ(c.run.mode, RunMode::kInline);
    EXPECT_EQ(c.run.workers, 0u);
    EXPECT_EQ(c.run.burst, 32);
    EXPECT_EQ(c.run.poll_sleep_us, 0u);  // pure polling unless asked
    EXPECT_EQ(c.run.mbufs, 0u);
    ASSERT_EQ(c.ports.size(), 2u);
    EXPECT_EQ(c.ports[0].name, "wan");
    EXPECT_EQ(c.ports[0].device, "net_af_packet0");
    EXPECT_EQ(c.ports[0].peer, "lan");
    EXPECT_EQ(c.ports[0].rx_descriptors, 1024);
    EXPECT_EQ(c.ports[0].tx_descriptors, 1024);
    EXPECT_TRUE(c.ports[0].promiscuous);
    EXPECT_EQ(c.ports[0].line, 4);
    EXPECT_EQ(c.ports[1].line, 9);
    EXPECT_EQ(c.flows.max_flows, 262144u);
    EXPECT_EQ(c.flows.tcp_idle, 600s);
    EXPECT_EQ(c.flows.udp_idle, 180s);
    EXPECT_EQ(c.flows.closed_linger, 30s);
    EXPECT_EQ(c.services.file, "");
    EXPECT_TRUE(c.hosting.ipdb.empty());
    EXPECT_TRUE(c.hosting.use_default);
    EXPECT_EQ(c.stats.interval, 1s);
    EXPECT_EQ(c.stats.history, 1h);
    EXPECT_EQ(c.control.socket, "/run/wiretally/wiretally.sock");
    EXPECT_EQ(c.control.mode, 0660u);
    EXPECT_EQ(c.control.group, "");
    EXPECT_EQ(c.control.max_clients, 64u);
    EXPECT_EQ(c.control.max_request_bytes, 65536u);
    EXPECT_EQ(c.control.idle_timeout, 300s);
    EXPECT_TRUE(c.control.telemetry);
    EXPECT_EQ(c.snapshot.file, "/var/lib/wiretally/snapshot.json");
    EXPECT_FALSE(c.snapshot.resume);
    EXPECT_EQ(c.snapshot.interval, 300s);
    EXPECT_EQ(c.http.listen, "127.0.0.1:9867");
    EXPECT_EQ(c.metrics.max_services, 256u);
    EXPECT_EQ(worker_count(c), 1u);
}

TEST(ConfigDefaults, DefaultPath) { EXPECT_EQ(default_config_path(), "/etc/wiretally/wiretally.toml"); }

TEST(ConfigKeys, EveryKeyIsRead) {
    const ApplianceConfig c = load_ok(R"(
[eal]
cores = [2, 5, 7]
hugepages = false
memory_mb = 512
allow = ["03:00.0", "0000:AF:1f.7,txq_inline_max=0"]
vdevs = ["net_null0", "net_ring0"]
file_prefix = "wt-test_1"
args = ["--iova-mode=va", "--huge-unlink"]
log_level = "debug"

[run]
mode = "inline"
workers = 4
burst = 64
mbufs = 100000
poll_sleep_us = 50

[[port]]
name = "a"
device = "0000:03:00.0"
peer = "b"
rx_descriptors = 4096
tx_descriptors = 64
promiscuous = false

[[port]]
name = "b"
device = "0000:af:1f.7"
peer = "a"

[[port]]
name = "c-1"
device = "net_null0"
peer = "d_2"

[[port]]
name = "d_2"
device = "net_ring0"
peer = "c-1"

[flows]
max_flows = 1024
tcp_idle = 90
udp_idle = "2m"
closed_linger = "0s"
active_timeout = 0

[services]
file = "/etc/wiretally/services.toml"

[hosting]
ipdb = ["/var/lib/ipdb/GeoLite2-ASN.mmdb", "country.mmdb"]
default = false

[stats]
interval = "500ms"
history = "2h"

[control]
socket = "/tmp/wt.sock"
mode = "640"
group = "wiretally"
max_clients = 4096
max_request_bytes = 256
idle_timeout = "1h"
telemetry = false

[snapshot]
file = ""
resume = false
interval = "0s"

[metrics]
max_services = 1

[http]
listen = "[::1]:0"
)");
    EXPECT_EQ(c.eal.cores, (std::vector<int>{2, 5, 7}));
    EXPECT_FALSE(c.eal.hugepages);
    EXPECT_EQ(c.eal.memory_mb, 512u);
    EXPECT_EQ(c.eal.allow, (Args{"0000:03:00.0", "0000:af:1f.7,txq_inline_max=0"}));
    EXPECT_EQ(c.eal.vdevs, (Args{"net_null0", "net_ring0"}));
    EXPECT_EQ(c.eal.file_prefix, "wt-test_1");
    EXPECT_EQ(c.eal.args, (Args{"--iova-mode=va", "--huge-unlink"}));
    EXPECT_EQ(c.eal.log_level, "debug");
    EXPECT_EQ(c.run.mode, RunMode::kInline);
    EXPECT_EQ(c.run.workers, 4u);
    EXPECT_EQ(c.run.burst, 64);
    EXPECT_EQ(c.run.mbufs, 100000u);
    EXPECT_EQ(c.run.poll_sleep_us, 50u);
    ASSERT_EQ(c.ports.size(), 4u);
    EXPECT_EQ(c.ports[0].device, "0000:03:00.0");
    EXPECT_EQ(c.ports[0].rx_descriptors, 4096);
    EXPECT_EQ(c.ports[0].tx_descriptors, 64);
    EXPECT_FALSE(c.ports[0].promiscuous);
    EXPECT_EQ(c.ports[1].device, "0000:af:1f.7");
    EXPECT_EQ(c.ports[2].name, "c-1");
    EXPECT_EQ(c.ports[2].peer, "d_2");
    EXPECT_EQ(c.ports[3].line, 37);
    EXPECT_EQ(c.flows.max_flows, 1024u);
    EXPECT_EQ(c.flows.tcp_idle, 90s);
    EXPECT_EQ(c.flows.udp_idle, 2min);
    EXPECT_EQ(c.flows.closed_linger, 0s);
    // active_timeout is obsolete: accepted, said, ignored.
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_EQ(c.warnings[0].format(), "t.toml:47: flows.active_timeout: no longer used and ignored: every flow's "
                                      "packets are tallied in the stats interval they pass in; remove it");
    EXPECT_EQ(c.services.file, "/etc/wiretally/services.toml");
    EXPECT_EQ(c.hosting.ipdb, (std::vector<std::string>{"/var/lib/ipdb/GeoLite2-ASN.mmdb", "country.mmdb"}));
    EXPECT_FALSE(c.hosting.use_default);
    EXPECT_EQ(c.stats.interval, 500ms);
    EXPECT_EQ(c.stats.history, 2h);
    EXPECT_EQ(c.control.socket, "/tmp/wt.sock");
    EXPECT_EQ(c.control.mode, 0640u);
    EXPECT_EQ(c.control.group, "wiretally");
    EXPECT_EQ(c.control.max_clients, 4096u);
    EXPECT_EQ(c.control.max_request_bytes, 256u);
    EXPECT_EQ(c.control.idle_timeout, 1h);
    EXPECT_FALSE(c.control.telemetry);
    EXPECT_EQ(c.snapshot.file, "");
    EXPECT_FALSE(c.snapshot.resume);
    EXPECT_EQ(c.snapshot.interval, 0s);
    EXPECT_EQ(c.http.listen, "[::1]:0");
    EXPECT_EQ(c.metrics.max_services, 1u);
    EXPECT_EQ(worker_count(c), 4u);
}

TEST(ConfigKeys, TapModeWithoutPeers) {
    const ApplianceConfig c = load_ok(R"([eal]
vdevs = ["net_pcap0,rx_pcap=x.pcap"]
[run]
mode = "tap"
[[port]]
name = "mirror"
device = "net_pcap0"
)");
    EXPECT_EQ(c.run.mode, RunMode::kTap);
    ASSERT_EQ(c.ports.size(), 1u);
    EXPECT_EQ(c.ports[0].peer, "");
}

TEST(ConfigKeys, DeviceDeclaredOnlyInEalArgs) {
    const ApplianceConfig c = load_ok(R"([eal]
args = ["--vdev=net_tap0,iface=wt0"]
[run]
mode = "tap"
[[port]]
name = "t"
device = "net_tap0"
)");
    EXPECT_EQ(c.ports[0].device, "net_tap0");
}

TEST(ConfigKeys, DurationForms) {
    const auto idle = [](std::string_view value) {
        return load_ok(std::string(kPortPair) + "[flows]\ntcp_idle = " + std::string(value) + "\n").flows.tcp_idle;
    };
    EXPECT_EQ(idle("1"), 1s);
    EXPECT_EQ(idle("\"1500ms\""), 1500ms);
    EXPECT_EQ(idle("\"45s\""), 45s);
    EXPECT_EQ(idle("\"10m\""), 10min);
    EXPECT_EQ(idle("\"24h\""), 24h);
}

TEST(ConfigKeys, FormatDurationUsesTheLargestExactUnit) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(10min), "10m");
    EXPECT_EQ(format_duration(2h), "2h");
}

TEST(ConfigKeys, DeployExamplesLoad) {
    for (const char* name : {"inline-2port.toml", "tap.toml", "laptop-af_packet.toml"}) {
        SCOPED_TRACE(name);
        const ApplianceConfig c = load_file_ok(std::string(WT_DEPLOY_CONFIGS) + "/" + name);
        EXPECT_FALSE(c.ports.empty());
    }
}

// ---- errors: each with its exact line ------------------------------------------------------------

TEST(ConfigErrors, UnknownKeyInATable) {
    EXPECT_EQ(load_error(std::string(kPortPair) + R"(
[flows]
max_flows = 2048
tcp_idel = "60s"
)"),
              "t.toml:16: flows.tcp_idel: unknown key; [flows] has max_flows, tcp_idle, udp_idle, closed_linger");
    EXPECT_EQ(load_error(R"([[port]]
name = "a"
devise = "x"
)"),
              "t.toml:3: port[0].devise: unknown key; [[port]] has name, device, peer, rx_descriptors, "
              "tx_descriptors, promiscuous");
}

TEST(ConfigErrors, UnknownTable) {
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[stat]\ninterval = \"1s\"\n"),
              "t.toml:14: stat: unknown table; expected [eal], [run], [[port]], [flows], [services], [hosting], "
              "[stats], [control], [snapshot], [metrics], [http], [fleet], [clickhouse] or [remote_write]");
    EXPECT_EQ(load_error("workers = 2\n"),
              "t.toml:1: workers: unknown top-level key; expected [eal], [run], [[port]], [flows], [services], "
              "[hosting], [stats], [control], [snapshot], [metrics], [http], [fleet], [clickhouse] or [remote_write]");
}

TEST(ConfigErrors, WrongType) {
    EXPECT_EQ(load_error(std::string(kPortPair) + "[run]\nburst = \"32\"\n"),
              "t.toml:14: run.burst: expected an integer, got a string");
    EXPECT_EQ(load_error("[eal]\ncores = [0,\n  \"1\"]\n"),
              "t.toml:3: eal.cores[1]: expected an integer, got a string");
    EXPECT_EQ(load_error("[eal]\nhugepages = \"no\"\n"), "t.toml:2: eal.hugepages: expected a boolean, got a string");
    EXPECT_EQ(load_error("eal = 3\n"), "t.toml:1: eal: expected a table [eal], got an integer");
    EXPECT_EQ(load_error("[port]\nname = \"a\"\n"),
              "t.toml:1: port: ports are an array of tables written [[port]], got a table");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[stats]\ninterval = 1.5\n"),
              "t.toml:14: stats.interval: expected a duration (an integer number of seconds or a string such as "
              "\"30s\"), got a float");
}

TEST(ConfigErrors, OutOfRange) {
    EXPECT_EQ(load_error("[eal]\nmemory_mb = 32\n"), "t.toml:2: eal.memory_mb = 32: must be between 64 and 1048576");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[run]\nburst = 513\n"),
              "t.toml:14: run.burst = 513: must be between 1 and 512");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[run]\npoll_sleep_us = 10001\n"),
              "t.toml:14: run.poll_sleep_us = 10001: must be between 0 and 10000");
    EXPECT_EQ(load_error("[eal]\nhugepages = false\nmemory_mb = 8192\n"),
              "t.toml:3: eal.memory_mb = 8192: at most 4096 without hugepages (eal.hugepages = false)");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[stats]\ninterval = \"5ms\"\n"),
              "t.toml:14: stats.interval = \"5ms\": must be between 10ms and 1m");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[snapshot]\ninterval = -5\n"),
              "t.toml:14: snapshot.interval = -5: must be 0 or between 1s and 24h");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[flows]\ntcp_idle = 0\n"),
              "t.toml:14: flows.tcp_idle = 0: must be between 1s and 24h");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[flows]\nudp_idle = \"99999999999999999999h\"\n"),
              "t.toml:14: flows.udp_idle = \"99999999999999999999h\": must be between 1s and 24h");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[stats]\ninterval = \"10ms\"\nhistory = \"1h\"\n"),
              "t.toml:15: stats.history = 1h: 360000 slots of stats.interval = 10ms; must be 1 to 86400");
}

TEST(ConfigErrors, BadDuration) {
    const std::string why =
        ": not a duration; write whole seconds as an integer, or a string such as \"500ms\", "
        "\"30s\", \"10m\", \"1h\"";
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[flows]\nudp_idle = \"3 min\"\n"),
              "t.toml:15: flows.udp_idle = \"3 min\"" + why);
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\nidle_timeout = \"1.5s\"\n"),
              "t.toml:14: control.idle_timeout = \"1.5s\"" + why);
    EXPECT_EQ(load_error(std::string(kPortPair) + "[stats]\nhistory = \"60\"\n"),
              "t.toml:14: stats.history = \"60\"" + why);
}

TEST(ConfigErrors, BadOctalMode) {
    const std::string why = ": not an octal permission mode such as \"0660\" (3 or 4 octal digits, at most 0777)";
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\nmode = \"0680\"\n"),
              "t.toml:14: control.mode = \"0680\"" + why);
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\nmode = \"4755\"\n"),
              "t.toml:14: control.mode = \"4755\"" + why);
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\nmode = 660\n"),
              "t.toml:14: control.mode: expected a string such as \"0660\" (octal), got an integer");
}

TEST(ConfigErrors, BadPciAddress) {
    const std::string why =
        ": not a PCI address DDDD:BB:DD.F or BB:DD.F (hex, device 00-1f, function 0-7), "
        "optionally followed by \",devargs\"";
    EXPECT_EQ(load_error("[eal]\nallow = [\"0000:03:00.0\",\n         \"0000:03:00\"]\n"),
              "t.toml:3: eal.allow[1] = \"0000:03:00\"" + why);
    EXPECT_EQ(load_error("[eal]\nallow = [\"03:00.8\"]\n"), "t.toml:2: eal.allow[0] = \"03:00.8\"" + why);
    EXPECT_EQ(load_error("[eal]\nallow = [\"03:20.0\"]\n"), "t.toml:2: eal.allow[0] = \"03:20.0\"" + why);
    EXPECT_EQ(load_error("[eal]\nallow = [\"0000:0g:00.0\"]\n"), "t.toml:2: eal.allow[0] = \"0000:0g:00.0\"" + why);
    EXPECT_EQ(load_error("[eal]\nallow = [\"03:00.0,\"]\n"), "t.toml:2: eal.allow[0] = \"03:00.0,\"" + why);
    EXPECT_EQ(load_error("[eal]\nallow = [\"03:00.0\", \"0000:03:00.0\"]\n"),
              "t.toml:2: eal.allow[1] = \"0000:03:00.0\": device 0000:03:00.0 listed twice (also eal.allow[0])");
}

TEST(ConfigErrors, PortDeviceMustBeDeclared) {
    EXPECT_EQ(load_error(R"([eal]
allow = ["0000:03:00.0"]
[run]
mode = "tap"
[[port]]
name = "a"
device = "03:00.1"
)"),
              "t.toml:7: port[0].device = \"0000:03:00.1\": PCI device not in eal.allow (0000:03:00.0), so EAL would "
              "not probe it");
    EXPECT_EQ(load_error(R"([run]
mode = "tap"
[[port]]
name = "a"
device = "0000:03:00.0"
)"),
              "t.toml:5: port[0].device = \"0000:03:00.0\": PCI device not in eal.allow (empty: --no-pci), so EAL "
              "would not probe it");
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0"]
[run]
mode = "tap"
[[port]]
name = "a"
device = "net_null1"
)"),
              "t.toml:7: port[0].device = \"net_null1\": neither a PCI address nor the name of one of eal.vdevs "
              "(net_null0)");
}

TEST(ConfigErrors, AsymmetricPeers) {
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0", "net_null1", "net_null2"]
[[port]]
name = "a"
device = "net_null0"
peer = "b"
[[port]]
name = "b"
device = "net_null1"
peer = "c"
[[port]]
name = "c"
device = "net_null2"
peer = "b"
)"),
              "t.toml:6: port[0].peer = \"b\": but port \"b\" (line 7) has peer \"c\"; peers must name each other");
}

TEST(ConfigErrors, InlinePeerMissingUnknownOrSelf) {
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0"]
[[port]]
name = "a"
device = "net_null0"
)"),
              "t.toml:3: port[0].peer: required in inline mode, naming the port this one forwards to (or set "
              "run.mode = \"tap\" to receive only)");
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0"]
[[port]]
name = "a"
device = "net_null0"
peer = "z"
)"),
              "t.toml:6: port[0].peer = \"z\": no port has that name");
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0"]
[[port]]
name = "a"
device = "net_null0"
peer = "a"
)"),
              "t.toml:6: port[0].peer = \"a\": a port cannot be its own peer");
}

TEST(ConfigErrors, TapWithPeer) {
    EXPECT_EQ(load_error(std::string(kPortPair) + "[run]\nmode = \"tap\"\n"),
              "t.toml:7: port[0].peer: tap mode does not forward, so ports have no peer (remove it, or set "
              "run.mode = \"inline\")");
}

TEST(ConfigErrors, DuplicatePortNameAndDevice) {
    EXPECT_EQ(load_error(R"([eal]
vdevs = ["net_null0", "net_null1"]
[run]
mode = "tap"
[[port]]
name = "a"
device = "net_null0"

[[port]]
name = "a"
device = "net_null1"
)"),
              "t.toml:10: port[1].name = \"a\": duplicate port name, first used at line 5");
    EXPECT_EQ(load_error(R"([eal]
allow = ["03:00.0"]
[run]
mode = "tap"
[[port]]
name = "a"
device = "03:00.0"
[[port]]
name = "b"
device = "0000:03:00.0"
)"),
              "t.toml:10: port[1].device = \"0000:03:00.0\": device already used by port \"a\"");
}

TEST(ConfigErrors, PortKeys) {
    EXPECT_EQ(load_error("[run]\nmode = \"tap\"\n\n[[port]]\ndevice = \"x\"\n"), "t.toml:4: port[0].name: required");
    EXPECT_EQ(load_error("[[port]]\nname = \"way too long a name for a port label\"\ndevice = \"x\"\n"),
              "t.toml:2: port[0].name = \"way too long a name for a port label\": a port name is 1 to 32 letters, "
              "digits, '_' or '-'");
    EXPECT_EQ(load_error("[[port]]\nname = \"a\"\ndevice = \"x\"\nrx_descriptors = 1000\n"),
              "t.toml:4: port[0].rx_descriptors = 1000: must be a power of two");
}

TEST(ConfigErrors, SocketPathTooLong) {
    const std::string long_path = "/run/" + std::string(103, 'x');  // 108 bytes: one too many
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\nsocket = \"" + long_path + "\"\n"),
              "t.toml:14: control.socket = \"" + long_path + "\": 108 bytes, but a Unix socket path is at most 107");
    const ConfigResult r = load_config_text(
        std::string(kPortPair) + "[control]\nsocket = \"" + std::string(100, 's') + "\"\n", "t.toml", "/etc/wiretally");
    ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
    EXPECT_EQ(std::get<ConfigError>(r).format(),
              "t.toml:14: control.socket = \"" + std::string(100, 's') +
                  "\": resolves to 115 bytes, but a Unix socket path is at most 107");
    const std::string longest = "/run/" + std::string(102, 'x');
    EXPECT_EQ(load_ok(std::string(kPortPair) + "[control]\nsocket = \"" + longest + "\"\n").control.socket, longest);
}

TEST(ConfigErrors, CoresAndWorkers) {
    EXPECT_EQ(load_error("[eal]\ncores = [0, 1,\n  1]\n"),
              "t.toml:3: eal.cores[2] = 1: CPU listed twice (also eal.cores[1])");
    EXPECT_EQ(load_error("[eal]\ncores = [-1]\n"), "t.toml:2: eal.cores[0] = -1: must be between 0 and 1023");
    EXPECT_EQ(load_error("[eal]\ncores = []\n"), "t.toml:2: eal.cores: lists no CPU");
    EXPECT_EQ(load_error("[eal]\ncores = [3]\n"),
              "t.toml:2: eal.cores: needs at least two CPUs, the stats core and one worker (or set run.workers to "
              "run workers on the same CPU)");
    EXPECT_EQ(load_error("[eal]\ncores = [0, 1, 2, 3]\n[run]\nworkers = 1\n"),
              "t.toml:4: run.workers = 1: leaves CPUs 2, 3 of eal.cores unused; remove them from eal.cores or set "
              "workers = 0");
    EXPECT_EQ(load_error("[run]\nworkers = 128\n"), "t.toml:2: run.workers = 128: must be between 0 and 127");
}

TEST(ConfigErrors, OtherValues) {
    EXPECT_EQ(load_error(std::string(kPortPair) + "[run]\nmode = \"bridge\"\n"),
              "t.toml:14: run.mode = \"bridge\": expected \"inline\" or \"tap\"");
    EXPECT_EQ(load_error("[eal]\nlog_level = \"warn\"\n"),
              "t.toml:2: eal.log_level = \"warn\": expected one of emergency, alert, critical, error, warning, "
              "notice, info, debug");
    EXPECT_EQ(load_error("[eal]\nfile_prefix = \"../x\"\n"),
              "t.toml:2: eal.file_prefix = \"../x\": a file prefix is 1 to 64 letters, digits, '_' or '-'");
    EXPECT_EQ(load_error("[eal]\nvdevs = [\"net af_packet0\"]\n"),
              "t.toml:2: eal.vdevs[0] = \"net af_packet0\": a vdev is NAME[,key=value...] with NAME made of letters, "
              "digits and '_' (e.g. \"net_af_packet0,iface=eth0\")");
    EXPECT_EQ(load_error("[eal]\nvdevs = [\"net_null0\", \"net_null0,size=64\"]\n"),
              "t.toml:2: eal.vdevs[1] = \"net_null0,size=64\": device net_null0 listed twice (also eal.vdevs[0])");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[metrics]\nlisten = \"::1:9867\"\n"),
              "t.toml:14: metrics.listen = \"::1:9867\": write an IPv6 address in brackets: [::1]:9867");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[metrics]\nlisten = \"localhost:99999\"\n"),
              "t.toml:14: metrics.listen = \"localhost:99999\": expected HOST:PORT or [IPV6]:PORT with a port from 0 "
              "to 65535");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[control]\ngroup = \"-wheel\"\n"),
              "t.toml:14: control.group = \"-wheel\": a group is a name or gid of 1 to 32 letters, digits, '.', '_' "
              "or '-' (not first)");
    EXPECT_EQ(load_error(std::string(kPortPair) + "[snapshot]\nfile = \"\"\nresume = true\n"),
              "t.toml:15: snapshot.resume = true: there is nothing to resume from, snapshot.file is \"\"");
}

TEST(ConfigErrors, TomlSyntax) {
    EXPECT_EQ(load_error("[eal]\nmemory_mb = \n"),
              "t.toml:2: TOML syntax error: missing value after key-value separator '=' (expected value, but got "
              "nothing)");
    EXPECT_EQ(load_error("[eal]\nmemory_mb = 64\nmemory_mb = 128\n"),
              "t.toml:3: TOML syntax error: value (\"memory_mb\") already exists (value defined twice)");
}

TEST(ConfigErrors, UnreadableFileHasNoLine) {
    TempDir dir;
    const std::string missing = dir.path() + "/missing.toml";
    ConfigResult r = load_config_file(missing);
    ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
    const ConfigError& e = std::get<ConfigError>(r);
    EXPECT_EQ(e.line, 0);
    EXPECT_EQ(e.format(), missing + ": cannot read the configuration file: No such file or directory");
    r = load_config_file(dir.path());
    ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
    EXPECT_EQ(std::get<ConfigError>(r).format(), dir.path() + ": cannot read the configuration file: Is a directory");
}

TEST(ConfigErrors, FileErrorsNameTheFile) {
    TempDir dir;
    const std::string path = dir.write("bad.toml", "[eal]\n\nmemory_mb = 1\n");
    const ConfigResult r = load_config_file(path);
    ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
    EXPECT_EQ(std::get<ConfigError>(r).format(), path + ":3: eal.memory_mb = 1: must be between 64 and 1048576");
}

// ---- paths ---------------------------------------------------------------------------------------

TEST(ConfigPaths, RelativePathsResolveAgainstTheConfigDirectory) {
    TempDir dir;
    const std::string path = dir.write("etc/wiretally.toml", std::string(kPortPair) + R"(
[services]
file = "services/mine.toml"
[snapshot]
file = "../state/./snapshot.json"
[control]
socket = "wt.sock"
)");
    const ApplianceConfig c = load_file_ok(path);
    EXPECT_EQ(c.source, path);
    EXPECT_EQ(c.services.file, dir.path() + "/etc/services/mine.toml");
    EXPECT_EQ(c.snapshot.file, dir.path() + "/state/snapshot.json");
    EXPECT_EQ(c.control.socket, dir.path() + "/etc/wt.sock");
}

TEST(ConfigPaths, AbsoluteAndEmptyPathsAreKept) {
    const ApplianceConfig c = load_ok(std::string(kPortPair) + R"(
[services]
file = "/srv/services.toml"
[snapshot]
file = ""
)",
                                      "/etc/wiretally");
    EXPECT_EQ(c.services.file, "/srv/services.toml");
    EXPECT_EQ(c.snapshot.file, "");
    EXPECT_EQ(c.control.socket, "/run/wiretally/wiretally.sock");
}

TEST(ConfigPaths, TextWithoutBaseDirKeepsRelativePaths) {
    const ApplianceConfig c = load_ok(std::string(kPortPair) + "[services]\nfile = \"s.toml\"\n");
    EXPECT_EQ(c.services.file, "s.toml");
}

// ---- EAL arguments -------------------------------------------------------------------------------

TEST(ConfigEal, DefaultsWithHugepages) {
    const ApplianceConfig c = load_ok(kPortPair);
    EXPECT_EQ(eal_arguments(c),
              (Args{"-l", "0,1", "--main-lcore=0", "-m", "1024", "--no-pci",
                    "--vdev=net_af_packet0,iface=veth0,blocksz=2093056,framesz=65408,framecnt=256",
                    "--vdev=net_af_packet1,iface=veth1,blocksz=2093056,framesz=65408,framecnt=256",
                    "--file-prefix=wiretally", "--log-level=*:warning"}));
}

TEST(ConfigEal, TapNoHugeVdev) {
    const ApplianceConfig c = load_ok(R"([eal]
cores = [3, 1]
hugepages = false
memory_mb = 256
vdevs = ["net_af_packet0,iface=eth0,qpairs=1"]
file_prefix = "wiretally-laptop"
args = ["--iova-mode=va"]
log_level = "info"
[run]
mode = "tap"
[[port]]
name = "eth0"
device = "net_af_packet0"
[control]
telemetry = false
)");
    EXPECT_EQ(worker_count(c), 1u);
    EXPECT_EQ(eal_arguments(c),
              (Args{"-l", "3,1", "--main-lcore=3", "-m", "256", "--no-huge", "--no-shconf", "--no-pci",
                    "--vdev=net_af_packet0,iface=eth0,qpairs=1,blocksz=2093056,framesz=65408,framecnt=256",
                    "--file-prefix=wiretally-laptop", "--no-telemetry",
                    "--log-level=*:info", "--iova-mode=va"}));
}

// af_packet rings are sized for whole super-frames unless the operator chose the ring.
TEST(ConfigEal, AfPacketVdevsGetTheSuperFrameRing) {
    EXPECT_EQ(with_super_frame_ring("net_af_packet0,iface=eth0"),
              "net_af_packet0,iface=eth0,blocksz=2093056,framesz=65408,framecnt=256");
    EXPECT_EQ(with_super_frame_ring("net_af_packet0,iface=eth0,framesz=2048"), "net_af_packet0,iface=eth0,framesz=2048");
    EXPECT_EQ(with_super_frame_ring("net_af_packet0,iface=eth0,blocksz=4096"), "net_af_packet0,iface=eth0,blocksz=4096");
    EXPECT_EQ(with_super_frame_ring("net_pcap0,iface=eth0"), "net_pcap0,iface=eth0");
}

TEST(ConfigEal, OversubscribedWorkersShareCpusRoundRobin) {
    ApplianceConfig c = load_ok(std::string(kPortPair) + "[run]\nworkers = 2\n");
    EXPECT_EQ(worker_count(c), 2u);
    EXPECT_EQ(eal_arguments(c), (Args{"--lcores=0@0,1@1,2@1", "--main-lcore=0", "-m", "1024", "--no-pci",
                                      "--vdev=net_af_packet0,iface=veth0,blocksz=2093056,framesz=65408,framecnt=256",
                                      "--vdev=net_af_packet1,iface=veth1,blocksz=2093056,framesz=65408,framecnt=256",
                                      "--file-prefix=wiretally", "--log-level=*:warning"}));

    c = load_ok(port_pair_with_eal("cores = [4, 6, 7]") + "[run]\nworkers = 5\n");
    EXPECT_EQ(eal_arguments(c).front(), "--lcores=0@4,1@6,2@7,3@6,4@7,5@6");
}

TEST(ConfigEal, OneCpuRunsEverythingWhenWorkersAreSet) {
    const ApplianceConfig c = load_ok(port_pair_with_eal("cores = [2]") + "[run]\nworkers = 2\n");
    EXPECT_EQ(worker_count(c), 2u);
    const Args args = eal_arguments(c);
    EXPECT_EQ((Args{args[0], args[1]}), (Args{"--lcores=0@2,1@2,2@2", "--main-lcore=0"}));
}

TEST(ConfigEal, CpusBeyondTheLcoreLimitUseLcoresMapping) {
    const ApplianceConfig c = load_ok(port_pair_with_eal("cores = [0, 200]"));
    const Args args = eal_arguments(c);
    EXPECT_EQ((Args{args[0], args[1]}), (Args{"--lcores=0@0,1@200", "--main-lcore=0"}));
}

TEST(ConfigEal, PciAllowList) {
    const ApplianceConfig c = load_ok(R"([eal]
cores = [0, 1, 2, 3]
allow = ["0000:03:00.0", "03:00.1,rx_low_latency=1"]
[[port]]
name = "wan"
device = "0000:03:00.0"
peer = "lan"
[[port]]
name = "lan"
device = "0000:03:00.1"
peer = "wan"
)");
    EXPECT_EQ(worker_count(c), 3u);
    EXPECT_EQ(eal_arguments(c),
              (Args{"-l", "0,1,2,3", "--main-lcore=0", "-m", "1024", "-a", "0000:03:00.0", "-a",
                    "0000:03:00.1,rx_low_latency=1", "--file-prefix=wiretally", "--log-level=*:warning"}));
}

// ---- JSON ----------------------------------------------------------------------------------------

TEST(ConfigJson, EveryEffectiveValue) {
    const ApplianceConfig c = load_ok(std::string(kPortPair) + R"(
[flows]
tcp_idle = 120
[control]
mode = "600"
)",
                                      "/etc/wiretally");
    const nlohmann::json j = config_to_json(c);
    EXPECT_EQ(j["source"], "t.toml");
    EXPECT_EQ(j["eal"]["cores"], nlohmann::json::parse("[0, 1]"));
    EXPECT_EQ(j["eal"]["memory_mb"], 1024);
    EXPECT_EQ(j["run"]["mode"], "inline");
    EXPECT_EQ(j["run"]["workers"], 1);  // effective, not the 0 written
    ASSERT_EQ(j["port"].size(), 2u);
    EXPECT_EQ(j["port"][0]["name"], "wan");
    EXPECT_EQ(j["port"][0]["peer"], "lan");
    EXPECT_EQ(j["port"][1]["rx_descriptors"], 1024);
    EXPECT_EQ(j["flows"]["tcp_idle"], "2m");
    EXPECT_FALSE(j["flows"].contains("active_timeout"));
    EXPECT_EQ(j["stats"]["history"], "1h");
    EXPECT_EQ(j["control"]["mode"], "0600");
    EXPECT_EQ(j["control"]["telemetry"], true);
    EXPECT_EQ(j["snapshot"]["file"], "/var/lib/wiretally/snapshot.json");
    EXPECT_EQ(j["http"]["listen"], "127.0.0.1:9867");
    EXPECT_FALSE(j["metrics"].contains("listen"));
    EXPECT_EQ(j["eal_arguments"].get<Args>(), eal_arguments(c));
    EXPECT_EQ(j["hosting"]["default"], true);
    EXPECT_TRUE(j["hosting"]["ipdb"].empty());
    for (const char* table : {"eal", "run", "flows", "services", "hosting", "stats", "control", "snapshot", "metrics"}) {
        EXPECT_TRUE(j.contains(table)) << table;
    }
    EXPECT_EQ(j["eal"].size(), 8u);
    EXPECT_EQ(j["flows"].size(), 4u);
    EXPECT_EQ(j["control"].size(), 7u);
}

TEST(ConfigJson, TapPortsHaveNoPeer) {
    const ApplianceConfig c = load_ok(
        "[eal]\nvdevs = [\"net_null0\"]\n[run]\nmode = \"tap\"\n"
        "[[port]]\nname = \"m\"\ndevice = \"net_null0\"\n");
    const nlohmann::json j = config_to_json(c);
    EXPECT_EQ(j["run"]["mode"], "tap");
    EXPECT_FALSE(j["port"][0].contains("peer"));
}

}  // namespace
}  // namespace wt::app

namespace wt::app {
namespace {

// The one HTTP listener (dashboard, /api, /metrics), on localhost by default, read-only unless a token is set.
TEST(HttpConfig, DefaultsToLocalhostAndReadOnly) {
    const ApplianceConfig c = load_ok(kPortPair);
    EXPECT_EQ(c.http.listen, "127.0.0.1:9867");
    EXPECT_EQ(c.http.token, "");
    const ApplianceConfig set = load_ok(std::string(kPortPair) + "\n[http]\nlisten = \"[::1]:8080\"\ntoken = \"Ab_9-x\"\n");
    EXPECT_EQ(set.http.listen, "[::1]:8080");
    EXPECT_EQ(set.http.token, "Ab_9-x");
    EXPECT_EQ(load_ok(std::string(kPortPair) + "\n[http]\nlisten = \"\"\n").http.listen, "") << "off";
}

TEST(HttpConfig, BadValuesNameTheLine) {
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[http]\nlisten = \"localhost\"\n"),
              "t.toml:15: http.listen = \"localhost\": expected HOST:PORT or [IPV6]:PORT with a port from 0 to 65535");
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[http]\ntoken = \"two words\"\n"),
              "t.toml:15: http.token: a token is printable ASCII without spaces (the value is not repeated: it is a secret)");
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[http]\ntokn = \"x\"\n"),
              "t.toml:15: http.tokn: unknown key; [http] has listen, token");
}

// /metrics had a listener of its own, [metrics] listen: an old file still starts, on that address, and says so.
TEST(HttpConfig, TheOldMetricsListenBecomesHttpListenWithAWarning) {
    const ApplianceConfig old = load_ok(std::string(kPortPair) + "\n[metrics]\nlisten = \"0.0.0.0:9100\"\n");
    EXPECT_EQ(old.http.listen, "0.0.0.0:9100");
    ASSERT_EQ(old.warnings.size(), 1u);
    EXPECT_EQ(old.warnings[0].format(),
              "t.toml:15: metrics.listen = \"0.0.0.0:9100\": read as [http] listen, which serves /metrics, the "
              "dashboard and /api now; rename it");
    EXPECT_EQ(load_ok(std::string(kPortPair) + "\n[metrics]\nlisten = \"\"\n").http.listen, "") << "off stays off";
    EXPECT_EQ(load_error(std::string(kPortPair) + "\n[metrics]\nlisten = \"127.0.0.1:9000\"\n[http]\nlisten = \"127.0.0.1:9001\"\n"),
              "t.toml:15: metrics.listen = \"127.0.0.1:9000\": /metrics is served by [http] listen (line 17) now; "
              "remove this line");
}

// systemd gives a unit with `RuntimeDirectory=wiretally dpdk/wiretally` RUNTIME_DIRECTORY=
// "/run/wiretally:/run/dpdk/wiretally"; DPDK 22.11 would make "/run/wiretally:/run/dpdk/wiretally/dpdk/..."
// of it (seen in the emulated box: EAL refused to start).
TEST(ConfigEal, RuntimeDirectoryFromSystemd) {
    EXPECT_EQ(eal_runtime_base(nullptr, "wiretally"), std::nullopt);
    EXPECT_EQ(eal_runtime_base("/run/wiretally", "wiretally"), std::nullopt);  // one directory: DPDK's to use
    EXPECT_EQ(eal_runtime_base("/run/wiretally:/run/dpdk/wiretally", "wiretally"), std::optional<std::string>("/run"));
    EXPECT_EQ(eal_runtime_base("/run/dpdk/box:/run/wiretally", "box"), std::optional<std::string>("/run"));
    // No entry for this prefix: unset, EAL's default.
    EXPECT_EQ(eal_runtime_base("/run/wiretally:/run/dpdk/other", "wiretally"), std::optional<std::string>(""));
    EXPECT_EQ(eal_runtime_base(":", "wiretally"), std::optional<std::string>(""));
    EXPECT_EQ(eal_runtime_base("/dpdk/wiretally:/x", "wiretally"), std::optional<std::string>(""));  // no base
}

} // namespace
} // namespace wt::app

// ---- [fleet] and [clickhouse] (issue #19) ---------------------------------------------------------

namespace wt::app {
namespace {

TEST(ConfigClickHouse, OffByDefaultAndTheApplianceIsTheHostName) {
    const ApplianceConfig c = load_ok(kPortPair);
    EXPECT_FALSE(c.clickhouse.enabled());
    EXPECT_FALSE(c.fleet.appliance.empty());
    EXPECT_EQ(c.fleet.site, "");
    EXPECT_EQ(c.clickhouse.database, "wiretally");
    EXPECT_EQ(c.clickhouse.interval, std::chrono::seconds(60));
}

TEST(ConfigClickHouse, EveryKeyIsRead) {
    TempDir dir;
    const std::string path = dir.write("wiretally.toml", std::string(kPortPair) + R"(
[fleet]
appliance = "box-7"
site = "hq"

[clickhouse]
url = ["http://10.0.0.5:8123/", "http://10.0.0.6:8123"]
database = "net_fleet"
user = "writer"
password_file = "ch.pass"
batch_rows = 1000
batch_interval = "2s"
interval = "5m"
timeout = "3s"
spool = "spool"
spool_max_mb = 64
)");
    const ApplianceConfig c = load_file_ok(path);
    EXPECT_EQ(c.fleet.appliance, "box-7");
    EXPECT_EQ(c.fleet.site, "hq");
    EXPECT_EQ(c.clickhouse.urls, (std::vector<std::string>{"http://10.0.0.5:8123", "http://10.0.0.6:8123"}));
    EXPECT_EQ(c.clickhouse.database, "net_fleet");
    EXPECT_EQ(c.clickhouse.user, "writer");
    EXPECT_EQ(c.clickhouse.password_file, dir.path() + "/ch.pass");
    EXPECT_EQ(c.clickhouse.batch_rows, 1000u);
    EXPECT_EQ(c.clickhouse.batch_interval, std::chrono::seconds(2));
    EXPECT_EQ(c.clickhouse.interval, std::chrono::minutes(5));
    EXPECT_EQ(c.clickhouse.timeout, std::chrono::seconds(3));
    EXPECT_EQ(c.clickhouse.spool, dir.path() + "/spool");
    EXPECT_EQ(c.clickhouse.spool_max_mb, 64u);
    const nlohmann::json j = config_to_json(c);
    EXPECT_EQ(j["clickhouse"]["interval"], "5m");
    EXPECT_EQ(j["fleet"]["site"], "hq");
}

TEST(ConfigClickHouse, BadValuesNameTheLineAndTheReason) {
    const std::string base(kPortPair);
    const int first = static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 2;
    EXPECT_EQ(load_error(base + "\n[clickhouse]\nurl = \"https://ch:8443\"\n"),
              fmt::format("t.toml:{}: clickhouse.url = \"https://ch:8443\": expected http://HOST:PORT (ClickHouse's HTTP "
                          "interface; https is not supported: put a TLS proxy on the box)",
                          first + 1));
    EXPECT_EQ(load_error(base + "\n[clickhouse]\ndatabase = \"net-fleet\"\n"),
              fmt::format("t.toml:{}: clickhouse.database = \"net-fleet\": letters, digits and '_' only", first + 1));
    EXPECT_EQ(load_error(base + "\n[clickhouse]\ninterval = \"1500ms\"\n"),
              fmt::format("t.toml:{}: clickhouse.interval = 1500ms: whole seconds (ClickHouse DateTime has seconds)",
                          first + 1));
    EXPECT_EQ(load_error(base + "\n[clickhouse]\nbatch_rows = 0\n"),
              fmt::format("t.toml:{}: clickhouse.batch_rows = 0: must be between 1 and 1000000", first + 1));
    EXPECT_EQ(load_error(base + "\n[clickhouse]\nurl = \"http://a:1\"\nspool = \"\"\n"),
              fmt::format("t.toml:{}: clickhouse.spool = \"\": batches that cannot be sent need a folder; to keep none, "
                          "set clickhouse.spool_max_mb = 0",
                          first + 2));
    EXPECT_EQ(load_error(base + "\n[fleet]\nsite = \"two words\"\n"),
              fmt::format("t.toml:{}: fleet.site = \"two words\": printable ASCII without spaces, quotes or backslashes",
                          first + 1));
    EXPECT_EQ(load_error(base + "\n[clickhouse]\ncolour = 1\n"),
              fmt::format("t.toml:{}: clickhouse.colour: unknown key; [clickhouse] has url, database, user, "
                          "password_file, batch_rows, batch_interval, interval, timeout, spool, spool_max_mb",
                          first + 1));
}

} // namespace
} // namespace wt::app
