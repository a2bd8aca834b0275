// The value forms of wiretally.toml, each checked once: PCI addresses, devices, durations,
// names, modes, listen addresses, and the limits that bound them. Internal to app/config
// (config.cpp reads keys with them, eal_arguments.cpp writes EAL's argv from what they accepted).
#pragma once

#include <arpa/inet.h>
#include <sys/un.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wt::app::config_values {

using namespace std::string_view_literals;

// The DPDK 22.11 build we link has RTE_MAX_LCORE 128 (rte_build_config.h): lcore ids stay below it,
// and `-l` uses CPU ids as lcore ids, so higher CPUs need the --lcores form.
inline constexpr int kMaxLcores = 128;
inline constexpr std::int64_t kMaxWorkers = kMaxLcores - 1;  // lcore 0 is the stats core
// CPU_SETSIZE - 1: the highest CPU an affinity mask, and so EAL's --lcores, can name.
inline constexpr std::int64_t kMaxCpuId = 1023;
// Without hugepages EAL maps -m as one region of 4 KiB pages for the whole run, which is only good
// for tests and af_packet laptops; a large value there is a mistake, not a tuning.
inline constexpr std::int64_t kMaxMemoryMbWithoutHugepages = 4096;
// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
inline constexpr std::size_t kMaxSocketPathLength = sizeof(sockaddr_un::sun_path) - 1;
// DPDK device names are at most RTE_DEV_NAME_MAX_LEN (64) bytes including the NUL.
inline constexpr std::size_t kMaxDeviceNameLength = 63;
inline constexpr std::size_t kMaxPortNameLength = 32;
inline constexpr std::size_t kMaxFilePrefixLength = 64;
// POSIX LOGIN_NAME_MAX-style limit that useradd/groupadd apply to group names.
inline constexpr std::size_t kMaxGroupNameLength = 32;
// A configuration is a few kilobytes; a file this large is the wrong file.
inline constexpr std::size_t kMaxFileSize = std::size_t{1} << 20;
// The timeline keeps history / interval slots per service.
inline constexpr std::int64_t kMaxHistorySlots = 86400;
// rte_log priorities by the names eal_parse_log_priority() accepts, most severe first.
inline constexpr std::array kLogLevels = {"emergency"sv, "alert"sv,  "critical"sv, "error"sv,
                                   "warning"sv,   "notice"sv, "info"sv,     "debug"sv};

[[nodiscard]] bool is_digit(char c) noexcept;
[[nodiscard]] bool is_alpha(char c) noexcept;

// "DDDD:BB:DD.F" or "BB:DD.F" in hex (device 00-1f, function 0-7), the forms DPDK's PCI bus parses;
// returns "dddd:bb:dd.f", the name DPDK gives the device, or nullopt.
[[nodiscard]] std::optional<std::string> canonical_pci_address(std::string_view text);

// An eal.allow entry: a PCI address, optionally followed by ",devargs" for the driver.
struct AllowEntry {
    std::string address;  // canonical
    std::string devargs;  // without the comma; empty when none
};
[[nodiscard]] std::optional<AllowEntry> parse_allow_entry(std::string_view text);

// The device name of a vdev argument "net_af_packet0,iface=eth0" is the part before the first comma.
[[nodiscard]] std::string_view vdev_name(std::string_view vdev);

// "500ms", "30s", "10m", "1h". A count too large to represent saturates, so that the range check
// reports it as out of range rather than as malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Each reason below completes "key = value: <reason>"; an empty reason means the value is fine.
using Check = std::function<std::string(std::string_view)>;

[[nodiscard]] std::string check_port_name(std::string_view name);
[[nodiscard]] std::string check_allow(std::string_view entry);
[[nodiscard]] std::string check_vdev(std::string_view vdev);
[[nodiscard]] std::string check_file_prefix(std::string_view prefix);
[[nodiscard]] std::string check_log_level(std::string_view level);
[[nodiscard]] std::string check_mode_text(std::string_view mode);
[[nodiscard]] std::string check_group(std::string_view group);
[[nodiscard]] std::string check_path(std::string_view path);
[[nodiscard]] std::string check_listen(std::string_view listen);
// A name written into SQL unquoted (a ClickHouse database or cluster): letters, digits, '_'.
[[nodiscard]] std::string check_sql_identifier(std::string_view name);
// A ClickHouse HTTP URL: http://HOST:PORT (no user, query or fragment).
[[nodiscard]] std::string check_http_url(std::string_view url);

} // namespace wt::app::config_values
