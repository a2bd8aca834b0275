#include "app/config/config.hpp"
#include "app/config/config_values.hpp"
#include "app/config/toml_table.hpp"

#include <arpa/inet.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml.hpp>

#include "pipeline/classify/toml_text.hpp"

namespace wt::app {
namespace {

using namespace config_values;
using namespace config_toml;
using toml_text::line_of;
using toml_text::type_name;

using std::chrono::milliseconds;
using namespace std::chrono_literals;
constexpr std::array kTopLevelTables = {"eal"sv,   "run"sv,     "port"sv,     "flows"sv,   "services"sv,
                                        "hosting"sv, "stats"sv, "control"sv, "snapshot"sv, "metrics"sv, "http"sv,
                                        "fleet"sv, "clickhouse"sv, "remote_write"sv};
constexpr std::array kEalKeys = {"cores"sv, "hugepages"sv,   "memory_mb"sv, "allow"sv,
                                 "vdevs"sv, "file_prefix"sv, "args"sv,      "log_level"sv};
constexpr std::array kRunKeys = {"mode"sv, "workers"sv, "burst"sv, "mbufs"sv, "poll_sleep_us"sv};
constexpr std::int64_t kMaxPollSleepUs = 10'000;  // beyond 10 ms a NIC ring of 1024 overflows at 100 kpps
constexpr std::array kPortKeys = {"name"sv,           "device"sv,         "peer"sv,
                                  "rx_descriptors"sv, "tx_descriptors"sv, "promiscuous"sv};
constexpr std::array kFlowsKeys = {"max_flows"sv, "tcp_idle"sv, "udp_idle"sv, "closed_linger"sv};
constexpr std::array kServicesKeys = {"file"sv};
constexpr std::array kHostingKeys = {"ipdb"sv, "default"sv};
constexpr std::array kStatsKeys = {"interval"sv, "history"sv};
constexpr std::array kControlKeys = {"socket"sv,       "mode"sv,     "group"sv, "max_clients"sv, "max_request_bytes"sv,
                                     "idle_timeout"sv, "telemetry"sv};
constexpr std::array kSnapshotKeys = {"file"sv, "resume"sv, "interval"sv};
constexpr std::array kMetricsKeys = {"listen"sv, "max_services"sv};
constexpr std::array kHttpKeys = {"listen"sv, "token"sv};
constexpr std::array kFleetKeys = {"appliance"sv, "site"sv};
constexpr std::array kClickHouseKeys = {"url"sv,      "database"sv,       "user"sv,     "password_file"sv,
                                        "batch_rows"sv, "batch_interval"sv, "interval"sv, "timeout"sv,
                                        "spool"sv,    "spool_max_mb"sv};
constexpr std::array kRemoteWriteKeys = {"url"sv, "interval"sv, "timeout"sv, "max_queued"sv};

// [fleet] names: what check_fleet_name accepts, and what default_appliance_name makes of a host name.
constexpr std::size_t kMaxFleetName = 64;
bool fits_fleet_name(char c) noexcept { return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '\''; }

bool is_power_of_two(std::int64_t v) noexcept { return v > 0 && (v & (v - 1)) == 0; }

class Loader {
public:
    Loader(std::string_view origin, std::string base_dir) : _origin(origin), _base_dir(std::move(base_dir)) {}

    ApplianceConfig load(const toml::value& root) {
        if (!root.is_table()) {
            fail(line_of(root), "the configuration must be a TOML table");
        }
        reject_unknown_tables(root.as_table());
        ApplianceConfig config;
        config.source = _origin;
        const toml::table& top = root.as_table();
        const Table eal = section(top, "eal");
        const Table run = section(top, "run");
        read_eal(eal, config.eal);
        read_run(run, config.run);
        check_lcores(eal, run, config);
        const std::vector<Table> port_tables = read_ports(top, config.ports);
        check_ports(run, port_tables, config);
        read_flows(section(top, "flows"), config.flows, config.warnings);
        read_services(section(top, "services"), config.services);
        read_hosting(section(top, "hosting"), config.hosting);
        read_stats(section(top, "stats"), config.stats);
        read_control(section(top, "control"), config.control);
        read_snapshot(section(top, "snapshot"), config.snapshot);
        const Table metrics = section(top, "metrics");
        read_metrics(metrics, config.metrics);
        read_http(section(top, "http"), config.http);
        adopt_old_metrics_listen(metrics, config);
        read_fleet(section(top, "fleet"), config.fleet);
        read_clickhouse(section(top, "clickhouse"), config.clickhouse);
        read_remote_write(section(top, "remote_write"), config.remote_write);
        return config;
    }

private:
    static void reject_unknown_tables(const toml::table& top) {
        const std::pair<const std::string, toml::value>* unknown = nullptr;
        for (const auto& kv : top) {
            const bool known =
                std::find(kTopLevelTables.begin(), kTopLevelTables.end(), kv.first) != kTopLevelTables.end();
            if (!known && (unknown == nullptr || line_of(kv.second) < line_of(unknown->second))) {
                unknown = &kv;
            }
        }
        if (unknown == nullptr) {
            return;
        }
        const std::string_view what = unknown->second.is_table() ? "unknown table" : "unknown top-level key";
        fail(line_of(unknown->second),
             fmt::format("{}: {}; expected [eal], [run], [[port]], [flows], [services], [hosting], [stats], [control], "
                         "[snapshot], [metrics], [http], [fleet], [clickhouse] or [remote_write]",
                         unknown->first, what));
    }

    static Table section(const toml::table& top, std::string_view name) {
        const auto it = top.find(std::string(name));
        if (it == top.end()) {
            return Table(nullptr, std::string(name), fmt::format("[{}]", name));
        }
        if (!it->second.is_table()) {
            fail(line_of(it->second),
                 fmt::format("{}: expected a table [{}], got {}", name, name, type_name(it->second.type())));
        }
        return Table(&it->second, std::string(name), fmt::format("[{}]", name));
    }

    // Relative paths are relative to the configuration file, not to wherever the daemon was started.
    [[nodiscard]] std::string resolve(const std::string& path) const {
        if (path.empty() || _base_dir.empty() || std::filesystem::path(path).is_absolute()) {
            return path;
        }
        return (std::filesystem::path(_base_dir) / path).lexically_normal().string();
    }

    static void read_eal(const Table& t, EalConfig& eal) {
        t.reject_unknown(kEalKeys);
        constexpr std::array<std::int64_t, 2> kDefaultCores = {0, 1};
        eal.cores.clear();
        std::unordered_map<std::int64_t, std::string> seen_cpus;
        for (const auto& cpu : t.integers("cores", kDefaultCores, 0, kMaxCpuId)) {
            if (const auto [first, inserted] = seen_cpus.emplace(cpu.value, cpu.key); !inserted) {
                fail(cpu.line, fmt::format("{} = {}: CPU listed twice (also {})", cpu.key, cpu.value, first->second));
            }
            eal.cores.push_back(static_cast<int>(cpu.value));
        }
        if (eal.cores.empty()) {
            fail(t.line_of_key("cores"), fmt::format("{}: lists no CPU", t.key("cores")));
        }
        eal.hugepages = t.boolean("hugepages", eal.hugepages);
        eal.memory_mb = static_cast<std::uint32_t>(t.integer("memory_mb", eal.memory_mb, 64, 1048576));
        if (!eal.hugepages && eal.memory_mb > kMaxMemoryMbWithoutHugepages) {
            fail(t.line_of_key("memory_mb"),
                 fmt::format("{} = {}: at most {} without hugepages ({} = false)", t.key("memory_mb"), eal.memory_mb,
                             kMaxMemoryMbWithoutHugepages, t.key("hugepages")));
        }

        std::unordered_map<std::string, std::string> seen_devices;
        auto claim_device = [&](const std::string& device, const Located<std::string>& entry) {
            if (const auto [first, inserted] = seen_devices.emplace(device, entry.key); !inserted) {
                fail(entry.line, fmt::format("{} = {:?}: device {} listed twice (also {})", entry.key, entry.value,
                                             device, first->second));
            }
        };
        for (const auto& entry : t.strings("allow", check_allow)) {
            AllowEntry allow = *parse_allow_entry(entry.value);
            claim_device(allow.address, entry);
            eal.allow.push_back(allow.devargs.empty() ? allow.address
                                                      : fmt::format("{},{}", allow.address, allow.devargs));
            eal.allow_lines.push_back(entry.line);
        }
        for (const auto& entry : t.strings("vdevs", check_vdev)) {
            claim_device(std::string(vdev_name(entry.value)), entry);
            eal.vdevs.push_back(entry.value);
            eal.vdev_lines.push_back(entry.line);
        }
        eal.memory_line = t.find("memory_mb") != nullptr ? t.line_of_key("memory_mb") : t.find("hugepages") != nullptr
                                                                                          ? t.line_of_key("hugepages")
                                                                                          : 0;
        eal.file_prefix = t.string("file_prefix", eal.file_prefix, check_file_prefix);
        for (auto& arg : t.strings("args")) {
            eal.args.push_back(std::move(arg.value));
        }
        eal.log_level = t.string("log_level", eal.log_level, check_log_level);
    }

    static void read_run(const Table& t, RunConfig& run) {
        t.reject_unknown(kRunKeys);
        const std::string mode = t.string("mode", "inline", [](std::string_view m) {
            return m == "inline" || m == "tap" ? std::string() : std::string("expected \"inline\" or \"tap\"");
        });
        run.mode = mode == "tap" ? RunMode::kTap : RunMode::kInline;
        run.workers = static_cast<std::uint32_t>(t.integer("workers", run.workers, 0, kMaxWorkers));
        run.burst = static_cast<std::uint16_t>(t.integer("burst", run.burst, 1, 512));
        const std::int64_t mbufs = t.integer("mbufs", run.mbufs, 0, std::numeric_limits<std::uint32_t>::max());
        run.mbufs = static_cast<std::uint32_t>(mbufs);
        run.poll_sleep_us = static_cast<std::uint32_t>(t.integer("poll_sleep_us", run.poll_sleep_us, 0, kMaxPollSleepUs));
    }

    static void check_lcores(const Table& eal, const Table& run, const ApplianceConfig& config) {
        const std::size_t cpus = config.eal.cores.size();
        if (config.run.workers == 0) {
            if (cpus < 2) {
                fail(eal.line_of_key("cores"),
                     fmt::format("{}: needs at least two CPUs, the stats core and one worker (or set {} to run "
                                 "workers on the same CPU)",
                                 eal.key("cores"), run.key("workers")));
            }
            if (cpus > static_cast<std::size_t>(kMaxLcores)) {
                fail(eal.line_of_key("cores"),
                     fmt::format("{}: {} CPUs, but DPDK runs at most {} lcores", eal.key("cores"), cpus, kMaxLcores));
            }
            return;
        }
        // More workers than worker CPUs share them; fewer would leave a listed CPU idle, which is
        // always a mistake (it was isolated for a worker, or the count is wrong).
        const std::size_t worker_cpus = cpus - 1;
        if (config.run.workers < worker_cpus) {
            std::vector<int> idle(config.eal.cores.begin() + 1 + config.run.workers, config.eal.cores.end());
            fail(run.line_of_key("workers"),
                 fmt::format("{} = {}: leaves CPU{} {} of {} unused; remove {} from {} or set workers = 0",
                             run.key("workers"), config.run.workers, idle.size() > 1 ? "s" : "", fmt::join(idle, ", "),
                             eal.key("cores"), idle.size() > 1 ? "them" : "it", eal.key("cores")));
        }
    }

    static std::vector<Table> read_ports(const toml::table& top, std::vector<PortConfig>& ports) {
        const auto it = top.find("port");
        if (it == top.end()) {
            fail(0, "no [[port]]: at least one port is required");
        }
        if (!it->second.is_array()) {
            fail(line_of(it->second), fmt::format("port: ports are an array of tables written [[port]], got {}",
                                                  type_name(it->second.type())));
        }
        const toml::array& items = it->second.as_array();
        if (items.empty()) {
            fail(line_of(it->second), "port: at least one [[port]] is required");
        }
        std::vector<Table> tables;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const std::string name = fmt::format("port[{}]", i);
            if (!items[i].is_table()) {
                fail(line_of(items[i]),
                     fmt::format("{}: ports are tables written [[port]], got {}", name, type_name(items[i].type())));
            }
            tables.emplace_back(&items[i], name, "[[port]]");
            ports.push_back(read_port(tables.back()));
        }
        return tables;
    }

    static PortConfig read_port(const Table& t) {
        t.reject_unknown(kPortKeys);
        PortConfig port;
        port.line = t.line();
        for (const std::string_view required : {"name"sv, "device"sv}) {
            if (t.find(required) == nullptr) {
                fail(t.line(), fmt::format("{}: required", t.key(required)));
            }
        }
        port.name = t.string("name", "", check_port_name);
        port.device = t.string("device", "", [](std::string_view device) {
            if (device.empty() || device.size() > kMaxDeviceNameLength) {
                return fmt::format("a device name is 1 to {} bytes", kMaxDeviceNameLength);
            }
            return std::string();
        });
        if (auto pci = canonical_pci_address(port.device)) {
            port.device = *std::move(pci);
        }
        port.peer = t.string("peer", "");
        const auto descriptors = [&t](std::string_view key) {
            // Rings are powers of two in every PMD we ship; 64..16384 covers their limits.
            const std::int64_t n = t.integer(key, 1024, 64, 16384);
            if (!is_power_of_two(n)) {
                fail(t.line_of_key(key), fmt::format("{} = {}: must be a power of two", t.key(key), n));
            }
            return static_cast<std::uint16_t>(n);
        };
        port.rx_descriptors = descriptors("rx_descriptors");
        port.tx_descriptors = descriptors("tx_descriptors");
        port.promiscuous = t.boolean("promiscuous", port.promiscuous);
        return port;
    }

    static void check_ports(const Table& run, const std::vector<Table>& tables, const ApplianceConfig& config) {
        const std::vector<PortConfig>& ports = config.ports;
        std::unordered_map<std::string, std::size_t> by_name;
        std::unordered_map<std::string, std::size_t> by_device;
        for (std::size_t i = 0; i < ports.size(); ++i) {
            const Table& t = tables[i];
            if (const auto [first, inserted] = by_name.emplace(ports[i].name, i); !inserted) {
                fail(t.line_of_key("name"), fmt::format("{} = {:?}: duplicate port name, first used at line {}",
                                                        t.key("name"), ports[i].name, ports[first->second].line));
            }
            if (const auto [first, inserted] = by_device.emplace(ports[i].device, i); !inserted) {
                fail(t.line_of_key("device"), fmt::format("{} = {:?}: device already used by port {:?}",
                                                          t.key("device"), ports[i].device, ports[first->second].name));
            }
            check_device_declared(t, ports[i].device, config.eal);
        }

        const bool inline_mode = config.run.mode == RunMode::kInline;
        for (std::size_t i = 0; i < ports.size(); ++i) {
            const Table& t = tables[i];
            const PortConfig& port = ports[i];
            if (!inline_mode) {
                if (t.find("peer") != nullptr) {
                    fail(t.line_of_key("peer"), fmt::format("{}: tap mode does not forward, so ports have no peer "
                                                            "(remove it, or set {} = \"inline\")",
                                                            t.key("peer"), run.key("mode")));
                }
                continue;
            }
            if (port.peer.empty()) {
                fail(t.line_of_key("peer"),
                     fmt::format("{}: required in inline mode, naming the port this one forwards to (or set {} = "
                                 "\"tap\" to receive only)",
                                 t.key("peer"), run.key("mode")));
            }
            const auto peer = by_name.find(port.peer);
            if (peer == by_name.end()) {
                fail(t.line_of_key("peer"), fmt::format("{} = {:?}: no port has that name", t.key("peer"), port.peer));
            }
            if (peer->second == i) {
                fail(t.line_of_key("peer"),
                     fmt::format("{} = {:?}: a port cannot be its own peer", t.key("peer"), port.peer));
            }
            const PortConfig& other = ports[peer->second];
            if (other.peer != port.name) {
                fail(t.line_of_key("peer"),
                     fmt::format("{} = {:?}: but port {:?} (line {}) has peer {:?}; peers must name each other",
                                 t.key("peer"), port.peer, other.name, other.line, other.peer));
            }
        }
    }

    // A port's device must be one EAL will create: a probed PCI device (eal.allow; without it EAL
    // gets --no-pci), a vdev, or something the expert's eal.args mention.
    static void check_device_declared(const Table& t, const std::string& device, const EalConfig& eal) {
        const auto mentioned_in_args = std::any_of(eal.args.begin(), eal.args.end(), [&device](const std::string& arg) {
            return arg.find(device) != std::string::npos;
        });
        if (mentioned_in_args) {
            return;
        }
        if (canonical_pci_address(device)) {
            const bool allowed = std::any_of(eal.allow.begin(), eal.allow.end(), [&device](const std::string& a) {
                return parse_allow_entry(a)->address == device;
            });
            if (!allowed) {
                fail(
                    t.line_of_key("device"),
                    fmt::format("{} = {:?}: PCI device not in eal.allow ({}), so EAL would not probe it",
                                t.key("device"), device,
                                eal.allow.empty() ? "empty: --no-pci" : fmt::format("{}", fmt::join(eal.allow, ", "))));
            }
            return;
        }
        const bool is_vdev = std::any_of(eal.vdevs.begin(), eal.vdevs.end(),
                                         [&device](const std::string& v) { return vdev_name(v) == device; });
        if (!is_vdev) {
            std::vector<std::string_view> names;
            for (const std::string& v : eal.vdevs) {
                names.push_back(vdev_name(v));
            }
            fail(t.line_of_key("device"),
                 fmt::format("{} = {:?}: neither a PCI address nor the name of one of eal.vdevs ({})", t.key("device"),
                             device, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
        }
    }

    void read_flows(const Table& t, FlowsConfig& flows, std::vector<ConfigError>& warnings) const {
        // Obsolete since the live tallies became per interval: accepted (old files still start), said.
        if (const toml::value* obsolete = t.find("active_timeout"); obsolete != nullptr) {
            warnings.push_back({_origin, line_of(*obsolete),
                                fmt::format("{}: no longer used and ignored: every flow's packets are tallied in the "
                                            "stats interval they pass in; remove it",
                                            t.key("active_timeout"))});
        }
        std::vector<std::string_view> accepted(kFlowsKeys.begin(), kFlowsKeys.end());
        if (t.find("active_timeout") != nullptr) {
            accepted.push_back("active_timeout");
        }
        t.reject_unknown(accepted);
        flows.max_flows = static_cast<std::uint32_t>(t.integer("max_flows", flows.max_flows, 1024, 67108864));
        flows.tcp_idle = t.duration("tcp_idle", flows.tcp_idle, {1s, 24h});
        flows.udp_idle = t.duration("udp_idle", flows.udp_idle, {1s, 24h});
        flows.closed_linger = t.duration("closed_linger", flows.closed_linger, {1s, 1h, true});
    }

    void read_services(const Table& t, ServicesConfig& services) const {
        t.reject_unknown(kServicesKeys);
        services.file = resolve(t.string("file", services.file, check_path));
    }

    void read_hosting(const Table& t, HostingConfig& hosting) const {
        t.reject_unknown(kHostingKeys);
        for (const auto& entry : t.strings("ipdb", check_path)) {
            hosting.ipdb.push_back(resolve(entry.value));
        }
        hosting.use_default = t.boolean("default", hosting.use_default);
    }

    static void read_stats(const Table& t, StatsConfig& stats) {
        t.reject_unknown(kStatsKeys);
        stats.interval = t.duration("interval", stats.interval, {10ms, 60s});
        stats.history = t.duration("history", stats.history, {10ms, 24h * 365});
        const std::int64_t slots = stats.history / stats.interval;
        if (slots < 1 || slots > kMaxHistorySlots) {
            fail(t.line_of_key("history"),
                 fmt::format("{} = {}: {} slots of {} = {}; must be 1 to {}", t.key("history"),
                             format_duration(stats.history), slots, t.key("interval"), format_duration(stats.interval),
                             kMaxHistorySlots));
        }
    }

    void read_control(const Table& t, ControlConfig& control) const {
        t.reject_unknown(kControlKeys);
        const std::string given = t.string("socket", control.socket, [](std::string_view path) {
            return path.empty() ? std::string("the control socket needs a path") : check_path(path);
        });
        control.socket = resolve(given);
        control.socket_line = t.find("socket") != nullptr ? t.line_of_key("socket") : 0;
        if (control.socket.size() > kMaxSocketPathLength) {
            fail(t.line_of_key("socket"),
                 fmt::format("{} = {:?}: {}{} bytes, but a Unix socket path is at most {}", t.key("socket"), given,
                             control.socket == given ? "" : "resolves to ", control.socket.size(),
                             kMaxSocketPathLength));
        }
        if (const toml::value* mode = t.find("mode"); mode != nullptr && !mode->is_string()) {
            fail(line_of(*mode), fmt::format("{}: expected a string such as \"0660\" (octal), got {}", t.key("mode"),
                                             type_name(mode->type())));
        }
        control.mode = static_cast<std::uint32_t>(std::stoul(t.string("mode", "0660", check_mode_text), nullptr, 8));
        control.group = t.string("group", control.group, check_group);
        control.max_clients = static_cast<std::uint32_t>(t.integer("max_clients", control.max_clients, 1, 4096));
        control.max_request_bytes =
            static_cast<std::uint32_t>(t.integer("max_request_bytes", control.max_request_bytes, 256, 16777216));
        control.idle_timeout = t.duration("idle_timeout", control.idle_timeout, {1s, 24h, true});
        control.telemetry = t.boolean("telemetry", control.telemetry);
    }

    void read_snapshot(const Table& t, SnapshotConfig& snapshot) const {
        t.reject_unknown(kSnapshotKeys);
        snapshot.file = resolve(t.string("file", snapshot.file, check_path));
        snapshot.resume = t.boolean("resume", snapshot.resume);
        snapshot.interval = t.duration("interval", snapshot.interval, {1s, 24h, true});
        if (snapshot.resume && snapshot.file.empty()) {
            fail(t.line_of_key("resume"),
                 fmt::format("{} = true: there is nothing to resume from, {} is \"\"", t.key("resume"), t.key("file")));
        }
    }

    static void read_metrics(const Table& t, MetricsConfig& metrics) {
        t.reject_unknown(kMetricsKeys);
        metrics.max_services = static_cast<std::uint32_t>(t.integer("max_services", metrics.max_services, 1, 65536));
    }

    // Before the dashboard, /metrics had a listener of its own, `[metrics] listen`. One listener serves both
    // now; an old file still starts (its address becomes [http] listen's) and is told to move the line.
    void adopt_old_metrics_listen(const Table& metrics, ApplianceConfig& config) const {
        if (metrics.find("listen") == nullptr) {
            return;
        }
        const int line = metrics.line_of_key("listen");
        const std::string old_listen = metrics.string("listen", "", check_listen);
        if (config.http.listen_line != 0) {
            fail(line, fmt::format("{} = {:?}: /metrics is served by [http] listen (line {}) now; remove this line",
                                   metrics.key("listen"), old_listen, config.http.listen_line));
        }
        config.http.listen = old_listen;
        config.http.listen_line = line;
        config.warnings.push_back({_origin, line,
                                   fmt::format("{} = {:?}: read as [http] listen, which serves /metrics, the dashboard "
                                               "and /api now; rename it",
                                               metrics.key("listen"), old_listen)});
    }

    // The dashboard's token: printable ASCII without spaces (it travels in an Authorization header).
    static std::string check_token(std::string_view token) {
        if (token.size() > 256) {
            return "a token has at most 256 characters";
        }
        for (const char c : token) {
            if (c <= 0x20 || c >= 0x7f) {
                return "a token is printable ASCII without spaces";
            }
        }
        return {};
    }

    static void read_http(const Table& t, HttpConfig& http) {
        t.reject_unknown(kHttpKeys);
        http.listen = t.string("listen", http.listen, check_listen);
        http.listen_line = t.find("listen") != nullptr ? t.line_of_key("listen") : 0;
        // Checked here rather than by t.string's check, whose message quotes the value: a token is a secret.
        http.token = t.string("token", http.token);
        if (const std::string why = check_token(http.token); !why.empty()) {
            fail(t.line_of_key("token"), fmt::format("{}: {} (the value is not repeated: it is a secret)", t.key("token"), why));
        }
    }

    // A fleet name goes into ClickHouse rows and Prometheus labels: printable, no quotes, bounded.
    static std::string check_fleet_name(std::string_view name) {
        if (name.size() > kMaxFleetName) {
            return "at most 64 characters";
        }
        if (!std::all_of(name.begin(), name.end(), fits_fleet_name)) {
            return "printable ASCII without spaces, quotes or backslashes";
        }
        return {};
    }

    static void read_fleet(const Table& t, FleetConfig& fleet) {
        t.reject_unknown(kFleetKeys);
        fleet.appliance = t.string("appliance", "", check_fleet_name);
        fleet.site = t.string("site", "", check_fleet_name);
        if (fleet.appliance.empty()) {
            fleet.appliance = default_appliance_name();
        }
    }

    // `url`: one string or an array of them.
    static std::vector<std::string> read_urls(const Table& t, const Check& check) {
        std::vector<std::string> urls;
        if (const toml::value* url = t.find("url"); url != nullptr) {
            if (url->is_string()) {
                urls.push_back(t.string("url", "", check));
            } else {
                for (auto& u : t.strings("url", check)) {
                    urls.push_back(std::move(u.value));
                }
            }
        }
        return urls;
    }

    void read_remote_write(const Table& t, RemoteWriteConfig& rw) const {
        t.reject_unknown(kRemoteWriteKeys);
        rw.urls = read_urls(t, [](std::string_view url) {
            const std::string why = check_http_url(url);
            if (!why.empty()) {
                return std::string("expected http://HOST:PORT/PATH (Prometheus: /api/v1/write with "
                                   "--web.enable-remote-write-receiver; VictoriaMetrics: /api/v1/write)");
            }
            return url.substr(7).find('/') == std::string_view::npos
                       ? std::string("the URL needs the receiver's path, such as /api/v1/write")
                       : std::string();
        });
        rw.interval = t.duration("interval", rw.interval, {1s, 1h});
        rw.timeout = t.duration("timeout", rw.timeout, {100ms, 10min});
        rw.max_queued = static_cast<std::uint32_t>(t.integer("max_queued", rw.max_queued, 1, 100'000));
    }

    void read_clickhouse(const Table& t, ClickHouseConfig& ch) const {
        t.reject_unknown(kClickHouseKeys);
        ch.urls = read_urls(t, check_http_url);
        for (std::string& u : ch.urls) {
            while (u.ends_with('/')) {
                u.pop_back();
            }
        }
        ch.database = t.string("database", ch.database, check_sql_identifier);
        ch.user = t.string("user", ch.user, [](std::string_view user) {
            return user.empty() || user.size() > 64 || user.find_first_of(" \t\r\n") != std::string_view::npos
                       ? std::string("1 to 64 characters without spaces")
                       : std::string();
        });
        ch.password_file = resolve(t.string("password_file", ch.password_file, check_path));
        ch.batch_rows = static_cast<std::uint32_t>(t.integer("batch_rows", ch.batch_rows, 1, 1'000'000));
        ch.batch_interval = t.duration("batch_interval", ch.batch_interval, {100ms, 10min});
        ch.interval = t.duration("interval", ch.interval, {1s, 24h});
        ch.timeout = t.duration("timeout", ch.timeout, {100ms, 10min});
        ch.spool = resolve(t.string("spool", ch.spool, check_path));
        ch.spool_max_mb = static_cast<std::uint64_t>(t.integer("spool_max_mb", static_cast<std::int64_t>(ch.spool_max_mb),
                                                               0, 1'048'576));
        if (ch.interval.count() % 1000 != 0) {
            fail(t.line_of_key("interval"), fmt::format("{} = {}: whole seconds (ClickHouse DateTime has seconds)",
                                                       t.key("interval"), format_duration(ch.interval)));
        }
        if (!ch.urls.empty() && ch.spool.empty() && ch.spool_max_mb != 0) {
            fail(t.line_of_key("spool"), fmt::format("{} = \"\": batches that cannot be sent need a folder; to "
                                                    "keep none, set {} = 0",
                                                    t.key("spool"), t.key("spool_max_mb")));
        }
    }

    std::string _origin;
    std::string _base_dir;
};

// toml11 3.7 formats a syntax error as "[error] toml::parse_xxx: reason\n --> file\n ... N | text\n
// | ^--- note" with one or more excerpts; the exception's location is the last one, where parsing
// stopped. We keep the reason and that excerpt's note.
ConfigError from_syntax_error(const toml::exception& e, const std::string& origin) {
    const std::string_view what = e.what();
    std::string_view reason = what.substr(0, what.find('\n'));
    if (reason.starts_with("[error] ")) {
        reason.remove_prefix(8);
    }
    if (reason.starts_with("toml::")) {
        if (const std::size_t colon = reason.find(": "); colon != std::string_view::npos) {
            reason.remove_prefix(colon + 2);
        }
    }
    while (!reason.empty() && (reason.back() == '.' || reason.back() == ' ')) {
        reason.remove_suffix(1);
    }
    // The note of the last excerpt: the text after the "^---" or "~~~" marker under its source line.
    std::string_view note;
    std::size_t pos = 0;
    while (pos < what.size()) {  // bounded by the message length
        std::size_t end = what.find('\n', pos);
        if (end == std::string_view::npos) {
            end = what.size();
        }
        std::string_view line = what.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t bar = line.find('|');
        if (bar == std::string_view::npos) {
            continue;
        }
        line.remove_prefix(bar + 1);
        const std::size_t marker = line.find_first_not_of(' ');
        if (marker == std::string_view::npos || (line[marker] != '^' && line[marker] != '~')) {
            continue;
        }
        line.remove_prefix(marker);
        const std::size_t text = line.find_first_not_of("^~- ");
        note = text == std::string_view::npos ? std::string_view() : line.substr(text);
    }
    ConfigError error{origin, static_cast<int>(e.location().line()), fmt::format("TOML syntax error: {}", reason)};
    if (!note.empty()) {
        error.message += fmt::format(" ({})", note);
    }
    return error;
}

// Reads a whole file; on failure returns the reason.
std::optional<std::string> read_file(const std::string& path, std::string& out) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return std::string(std::strerror(EISDIR));
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return std::string(std::strerror(errno));
    }
    out.clear();
    std::array<char, 16384> buf{};
    std::optional<std::string> failure;
    for (;;) {  // bounded by kMaxFileSize
        const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
        out.append(buf.data(), n);
        if (out.size() > kMaxFileSize) {
            failure = fmt::format("larger than {} KiB, not a configuration file", kMaxFileSize >> 10);
            break;
        }
        if (n < buf.size()) {
            if (std::ferror(f) != 0) {
                failure = std::string(std::strerror(errno));
            }
            break;
        }
    }
    std::fclose(f);
    return failure;
}

}  // namespace

std::string ConfigError::format() const {
    if (line > 0) {
        return fmt::format("{}:{}: {}", file, line, message);
    }
    return fmt::format("{}: {}", file, message);
}

std::string_view to_string(RunMode mode) noexcept { return mode == RunMode::kTap ? "tap" : "inline"; }

std::string default_appliance_name() {
    std::array<char, 256> buffer{};
    if (gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
        return "wiretally";
    }
    std::string name(buffer.data());
    std::replace_if(name.begin(), name.end(), [](char c) { return !fits_fleet_name(c); }, '-');
    return name.substr(0, kMaxFleetName);
}

std::string format_duration(milliseconds duration) {
    const std::int64_t ms = duration.count();
    if (ms == 0) {
        return "0s";
    }
    if (ms % 3'600'000 == 0) {
        return fmt::format("{}h", ms / 3'600'000);
    }
    if (ms % 60'000 == 0) {
        return fmt::format("{}m", ms / 60'000);
    }
    if (ms % 1000 == 0) {
        return fmt::format("{}s", ms / 1000);
    }
    return fmt::format("{}ms", ms);
}

std::string default_config_path() { return "/etc/wiretally/wiretally.toml"; }

ConfigResult load_config_text(std::string_view text, std::string_view origin, const std::string& base_dir) {
    const std::string origin_name(origin);
    toml::value root;
    try {
        std::istringstream in{std::string(text)};
        root = toml::parse(in, origin_name);
    } catch (const toml::exception& e) {
        return from_syntax_error(e, origin_name);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        return ConfigError{origin_name, 0, fmt::format("cannot parse TOML: {}", e.what())};
    }
    try {
        Loader loader(origin, base_dir);
        return loader.load(root);
    } catch (const Invalid& invalid) {
        return ConfigError{origin_name, invalid.line, invalid.message};
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        // A bug in the checks above, not a user error; still reported as one line, not a crash.
        return ConfigError{origin_name, 0, fmt::format("internal error while loading: {}", e.what())};
    }
}

ConfigResult load_config_file(const std::string& path) {
    std::string text;
    if (auto why = read_file(path, text)) {
        return ConfigError{path, 0, fmt::format("cannot read the configuration file: {}", *why)};
    }
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    const std::string base_dir = (ec ? std::filesystem::path(path) : absolute).parent_path().string();
    return load_config_text(text, path, base_dir);
}

nlohmann::json config_to_json(const ApplianceConfig& config) {
    nlohmann::json ports = nlohmann::json::array();
    for (const PortConfig& port : config.ports) {
        nlohmann::json p = {
            {"name", port.name},
            {"device", port.device},
            {"rx_descriptors", port.rx_descriptors},
            {"tx_descriptors", port.tx_descriptors},
            {"promiscuous", port.promiscuous},
        };
        if (!port.peer.empty()) {
            p["peer"] = port.peer;
        }
        ports.push_back(std::move(p));
    }
    const EalConfig& eal = config.eal;
    const ControlConfig& control = config.control;
    return {
        {"source", config.source},
        {"eal",
         {{"cores", eal.cores},
          {"hugepages", eal.hugepages},
          {"memory_mb", eal.memory_mb},
          {"allow", eal.allow},
          {"vdevs", eal.vdevs},
          {"file_prefix", eal.file_prefix},
          {"args", eal.args},
          {"log_level", eal.log_level}}},
        {"run",
         {{"mode", to_string(config.run.mode)},
          {"workers", worker_count(config)},
          {"burst", config.run.burst},
          {"mbufs", config.run.mbufs},
          {"poll_sleep_us", config.run.poll_sleep_us}}},
        {"port", std::move(ports)},
        {"flows",
         {{"max_flows", config.flows.max_flows},
          {"tcp_idle", format_duration(config.flows.tcp_idle)},
          {"udp_idle", format_duration(config.flows.udp_idle)},
          {"closed_linger", format_duration(config.flows.closed_linger)}}},
        {"services", {{"file", config.services.file}}},
        {"hosting", {{"ipdb", config.hosting.ipdb}, {"default", config.hosting.use_default}}},
        {"stats",
         {{"interval", format_duration(config.stats.interval)}, {"history", format_duration(config.stats.history)}}},
        {"control",
         {{"socket", control.socket},
          {"mode", fmt::format("{:04o}", control.mode)},
          {"group", control.group},
          {"max_clients", control.max_clients},
          {"max_request_bytes", control.max_request_bytes},
          {"idle_timeout", format_duration(control.idle_timeout)},
          {"telemetry", control.telemetry}}},
        {"snapshot",
         {{"file", config.snapshot.file},
          {"resume", config.snapshot.resume},
          {"interval", format_duration(config.snapshot.interval)}}},
        {"metrics", {{"max_services", config.metrics.max_services}}},
        {"http", {{"listen", config.http.listen}, {"token", config.http.token.empty() ? "" : "(set)"}}},
        {"fleet", {{"appliance", config.fleet.appliance}, {"site", config.fleet.site}}},
        {"clickhouse",
         {{"url", config.clickhouse.urls},
          {"database", config.clickhouse.database},
          {"user", config.clickhouse.user},
          {"password_file", config.clickhouse.password_file},
          {"batch_rows", config.clickhouse.batch_rows},
          {"batch_interval", format_duration(config.clickhouse.batch_interval)},
          {"interval", format_duration(config.clickhouse.interval)},
          {"timeout", format_duration(config.clickhouse.timeout)},
          {"spool", config.clickhouse.spool},
          {"spool_max_mb", config.clickhouse.spool_max_mb}}},
        {"remote_write",
         {{"url", config.remote_write.urls},
          {"interval", format_duration(config.remote_write.interval)},
          {"timeout", format_duration(config.remote_write.timeout)},
          {"max_queued", config.remote_write.max_queued}}},
        {"eal_arguments", eal_arguments(config)},
    };
}

}  // namespace wt::app
