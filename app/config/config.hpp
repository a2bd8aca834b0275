// The configuration of `wiretally run`: one TOML file (default /etc/wiretally/wiretally.toml,
// annotated examples in deploy/configs/), loaded and validated before anything is started.
//
// Tables: [eal] [run] [[port]] [flows] [services] [hosting] [stats] [control] [snapshot] [metrics] [http] [fleet]
// [clickhouse] [remote_write]. Every key
// has a default (the member initializers below); only [[port]] must be written, at least once.
// An unknown table or key, a wrong type, a value out of range or a broken cross-field rule is an
// error naming the file, the line, the key's dotted name ("eal.cores[1]", "port[0].peer") and why.
//
// Value forms:
//   durations  an integer number of seconds, or a string "<integer><unit>" with unit ms, s, m or h
//              ("500ms", "30s", "10m", "1h"); stored in milliseconds.
//   paths      services.file, snapshot.file and control.socket may be relative: they are resolved
//              against the directory of the configuration file.
//   PCI        "DDDD:BB:DD.F" or "BB:DD.F" (hex), optionally followed by ",devargs" in eal.allow;
//              stored in DPDK's canonical form "0000:03:00.0" (lowercase, with the domain), which
//              is the name rte_eth_dev_get_port_by_name() knows the port by.
//
// Cross-field rules:
//   - port names and devices are unique; a port's device is a PCI address listed in eal.allow, the
//     name of one of eal.vdevs (the part before the first comma), or a name that eal.args mention
//     (the expert's escape hatch, e.g. "--vdev=net_tap0,iface=x");
//   - inline mode: every port names a peer, and its peer names it back (so ports come in pairs);
//     tap mode: no port has a peer;
//   - eal.cores: unique CPU ids, at least two (the stats core and one worker) unless run.workers is
//     set; run.workers may exceed the worker CPUs (lcores then share CPUs round-robin) but may not
//     leave a listed CPU unused.
//
// Loading never throws (except std::bad_alloc): every problem becomes one ConfigError.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace wt::app {

enum class RunMode : std::uint8_t {
    kInline,  ///< ports forward to their peer after counting (bump in the wire)
    kTap,     ///< receive only; every packet is freed after counting (mirror port, passive tap)
};

struct EalConfig {
    std::vector<int> cores = {0, 1};  ///< CPU ids; cores[0] runs the stats core and the control socket
    bool hugepages = true;            ///< false: --no-huge --no-shconf (ordinary 4 KiB pages)
    std::uint32_t memory_mb = 1024;   ///< -m
    std::vector<std::string> allow;   ///< PCI addresses (canonical form, ",devargs" kept); empty: --no-pci
    std::vector<std::string> vdevs;   ///< --vdev=... each, verbatim
    std::string file_prefix = "wiretally";
    std::vector<std::string> args;  ///< appended verbatim after the generated arguments
    std::string log_level = "warning";
    // Where the values were written (0: the default), for the checks of `run --check` that look at
    // the machine after loading (check_environment).
    std::vector<int> allow_lines;
    std::vector<int> vdev_lines;
    int memory_line = 0;
};

struct RunConfig {
    RunMode mode = RunMode::kInline;
    std::uint32_t workers = 0;  ///< as written; 0 = one per CPU after the first (see worker_count())
    std::uint16_t burst = 32;
    std::uint32_t mbufs = 0;  ///< per port pool; 0 = sized by the daemon from the descriptors
    /// A worker whose poll of every port came back empty sleeps this long before polling again; 0 = pure
    /// polling (a core at 100 % whatever the load). For boxes whose CPUs are shared: VMs, laptops.
    std::uint32_t poll_sleep_us = 0;
};

struct PortConfig {
    std::string name;    ///< the label in stats, metrics and logs
    std::string device;  ///< DPDK device name: canonical PCI address or vdev name
    std::string peer;    ///< inline: the port this one forwards to; tap: empty
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    bool promiscuous = true;
    int line = 0;  ///< line of its [[port]] header, for messages
};

struct FlowsConfig {
    std::uint32_t max_flows = 262144;  ///< per worker
    std::chrono::milliseconds tcp_idle{600'000};
    std::chrono::milliseconds udp_idle{180'000};
    std::chrono::milliseconds closed_linger{30'000};   ///< after FIN both ways or RST
};

struct ServicesConfig {
    std::string file;  ///< resolved path; empty: the embedded default services
};

/// Who hosts each server address: MaxMind DB files (AS, country or city data), asked in order.
struct HostingConfig {
    std::vector<std::string> ipdb;  ///< resolved paths; empty: the default data set (if use_default)
    bool use_default = true;        ///< scripts/ipdb/install.sh's data set when ipdb is empty
};

struct StatsConfig {
    std::chrono::milliseconds interval{1'000};
    std::chrono::milliseconds history{3'600'000};  ///< timeline depth: history / interval slots
};

struct ControlConfig {
    std::string socket = "/run/wiretally/wiretally.sock";  ///< resolved path, shorter than 108 bytes
    std::uint32_t mode = 0660;                             ///< permission bits of the socket file
    std::string group;                                     ///< group name or numeric gid; empty: the process's group
    std::uint32_t max_clients = 64;
    std::uint32_t max_request_bytes = 65536;
    std::chrono::milliseconds idle_timeout{300'000};  ///< 0: never
    bool telemetry = true;                            ///< false: --no-telemetry
    int socket_line = 0;                              ///< where socket was written (0: the default)
};

struct SnapshotConfig {
    std::string file = "/var/lib/wiretally/snapshot.json";  ///< resolved path; empty: no snapshots
    bool resume = false;                                    ///< load the snapshot at start
    std::chrono::milliseconds interval{300'000};            ///< 0: only at exit
};

// What GET /metrics shows. Where it is served is [http] listen (an older `[metrics] listen` is read as
// that, with a warning).
struct MetricsConfig {
    std::uint32_t max_services = 256;       ///< services beyond it are summed into service="other"
};

// The appliance's one HTTP listener: the dashboard (GET /, /api/report, POST /api/mark) and /metrics.
struct HttpConfig {
    std::string listen = "127.0.0.1:9867"; ///< "host:port" or "[v6]:port" (port 0: any free port); empty: off
    std::string token;                     ///< what POST /api/mark must send (Authorization: Bearer); empty: read-only
    int listen_line = 0;                   ///< where listen was written (0: the default)
};

// Who this appliance is in a fleet: on every row it exports and every series it remote-writes.
struct FleetConfig {
    std::string appliance; ///< resolved: the host name when not written
    std::string site;      ///< free text ("hq", "lab-2"); empty: none
};

// Export to ClickHouse (issue #19): flow records and interval rows, batched over its HTTP interface by a
// thread of its own; what cannot be sent waits in an on-disk spool.
struct ClickHouseConfig {
    std::vector<std::string> urls;  ///< "http://host:port" each, tried in order; empty: no export
    std::string database = "wiretally";
    std::string user = "default";
    std::string password_file;      ///< resolved path; its first line is the password; empty: no password
    std::uint32_t batch_rows = 50'000;                 ///< a batch is sent when it has this many rows ...
    std::chrono::milliseconds batch_interval{5'000};   ///< ... or is this old
    std::chrono::milliseconds interval{60'000};        ///< the period of the interval rows
    std::chrono::milliseconds timeout{10'000};         ///< one HTTP request, connect to answer
    std::string spool = "/var/lib/wiretally/spool";    ///< resolved directory of batches not sent yet
    std::uint64_t spool_max_mb = 1024;                 ///< the spool's bound; beyond it the oldest batches go
    [[nodiscard]] bool enabled() const noexcept { return !urls.empty(); }
};

// Prometheus remote write (issue #19): the /metrics exposition pushed to each URL every interval.
struct RemoteWriteConfig {
    std::vector<std::string> urls;               ///< each receives every write; empty: off
    std::chrono::milliseconds interval{15'000};
    std::chrono::milliseconds timeout{10'000};
    std::uint32_t max_queued = 240;              ///< writes kept per URL while it does not answer (an hour at 15 s)
    [[nodiscard]] bool enabled() const noexcept { return !urls.empty(); }
};

struct ConfigError {
    std::string file;
    int line = 0;  ///< 0 when the problem is not tied to a line (unreadable file, no [[port]])
    std::string message;

    /// "FILE:LINE: message", or "FILE: message" when line is 0.
    [[nodiscard]] std::string format() const;
};

struct ApplianceConfig {
    EalConfig eal;
    RunConfig run;
    std::vector<PortConfig> ports;  ///< file order
    FlowsConfig flows;
    ServicesConfig services;
    HostingConfig hosting;
    StatsConfig stats;
    ControlConfig control;
    SnapshotConfig snapshot;
    MetricsConfig metrics;
    HttpConfig http;
    FleetConfig fleet;
    ClickHouseConfig clickhouse;
    RemoteWriteConfig remote_write;
    std::string source;  ///< the file path, or the origin given to load_config_text
    /// Keys that are accepted but have no effect any more, each with why (printed by `run`).
    std::vector<ConfigError> warnings;
};


using ConfigResult = std::variant<ApplianceConfig, ConfigError>;

/// Reads and validates a configuration file; relative paths in it are resolved against the
/// absolute directory of `path`.
[[nodiscard]] ConfigResult load_config_file(const std::string& path);

/// Same, from text. `origin` is used as FILE in errors and as ApplianceConfig::source; base_dir
/// resolves relative paths ("" leaves them relative to the current directory).
[[nodiscard]] ConfigResult load_config_text(std::string_view text, std::string_view origin,
                                            const std::string& base_dir);

/// af_packet rings hold whole super-frames: a Linux interface with offloads on (every veth, most NICs)
/// hands a packet socket TCP/UDP frames of up to 64 KB (TSO, GSO, GRO, UDP_SEGMENT), which the PMD's
/// default 2 KB frames would cut. The PMD copies a frame into one mbuf, so the frame is bounded by
/// the largest mbuf (a 16-bit data room, less DPDK's headroom): 65,408 bytes of frame slot hold
/// frames of up to 65,342 bytes (the kernel puts its header and the MAC header's alignment first).
/// The PMD reads frame i at i * framesz, so a block must hold whole frames back to back, and the
/// kernel wants whole pages in a block: 32 frames make 2,093,056 bytes, 511 pages. 256 frames a ring:
/// 16 MB for RX and 16 MB for TX per queue.
inline constexpr unsigned kAfPacketFrameSize = 65408;
inline constexpr unsigned kAfPacketBlockSize = kAfPacketFrameSize * 32;
inline constexpr unsigned kAfPacketFrameCount = 256;
inline constexpr unsigned kAfPacketLargestFrame = kAfPacketFrameSize - 66;
/// An af_packet vdev (without framesz= or blocksz= of its own) with the super-frame ring; others as given.
[[nodiscard]] std::string with_super_frame_ring(std::string_view vdev);

/// The argv for rte_eal_init() without argv[0], for DPDK 22.11, in this order: -l LIST or
/// --lcores=MAP, --main-lcore=N, -m MB, [--no-huge --no-shconf], --no-pci or -a ADDR..., --vdev=... (af_packet
/// ones with_super_frame_ring),
/// --file-prefix=P, [--no-telemetry], --log-level=*:LEVEL, then eal.args.
/// Lcore 0 (or cores[0] with -l) is the main lcore; worker lcores follow in order.
[[nodiscard]] std::vector<std::string> eal_arguments(const ApplianceConfig& config);

/// What RUNTIME_DIRECTORY should hold for EAL, given its value in the environment (null: unset) and the file
/// prefix: systemd sets it, for a unit with several RuntimeDirectory= entries, to their colon-separated list,
/// and DPDK 22.11 takes the whole value as its base directory ("BASE/dpdk/PREFIX"), which fails. The entry
/// that is "BASE/dpdk/PREFIX" gives BASE; a list without such an entry gives "" (unset it: EAL's default,
/// /var/run/dpdk/PREFIX for root, where dpdk-telemetry.py -f PREFIX looks). A single path is kept as it is.
[[nodiscard]] std::optional<std::string> eal_runtime_base(const char* runtime_directory, std::string_view file_prefix);

/// The number of worker lcores: run.workers, or one per CPU after the first when it is 0.
[[nodiscard]] std::size_t worker_count(const ApplianceConfig& config);

/// Every effective value, keyed like the TOML (durations in their canonical text form, paths
/// resolved, run.workers as worker_count()), plus "source" and "eal_arguments".
[[nodiscard]] nlohmann::json config_to_json(const ApplianceConfig& config);

/// "/etc/wiretally/wiretally.toml".
[[nodiscard]] std::string default_config_path();

/// [fleet] appliance when not written: the host name, made fit for a fleet name (64 printable characters
/// without spaces, quotes or backslashes).
[[nodiscard]] std::string default_appliance_name();

/// "inline" / "tap".
[[nodiscard]] std::string_view to_string(RunMode mode) noexcept;

/// Canonical text of a duration: the largest unit of h, m, s, ms that divides it ("90s", "10m", "0s").
[[nodiscard]] std::string format_duration(std::chrono::milliseconds duration);

}  // namespace wt::app
