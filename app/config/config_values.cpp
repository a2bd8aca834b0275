#include "app/config/config_values.hpp"

#include <cctype>
#include "parsers/common/text.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wt::app::config_values {

using std::chrono::milliseconds;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

namespace {


// Reads `digits` hex digits at text[pos]; -1 if one is not hex.
int read_hex(std::string_view text, std::size_t pos, std::size_t digits) noexcept {
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const int d = parsers::hex_digit_value(text[pos + i]);
        if (d < 0) {
            return -1;
        }
        value = value * 16 + d;
    }
    return value;
}

bool all_of_chars(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }

bool is_name_char(char c) noexcept { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; }
bool is_identifier_char(char c) noexcept { return is_alpha(c) || is_digit(c) || c == '_'; }

} // namespace

std::optional<std::string> canonical_pci_address(std::string_view text) {
    int domain = 0;
    if (text.size() == 12) {
        if (text[4] != ':') {
            return std::nullopt;
        }
        domain = read_hex(text, 0, 4);
        text.remove_prefix(5);
    }
    if (text.size() != 7 || text[2] != ':' || text[5] != '.' || domain < 0) {
        return std::nullopt;
    }
    const int bus = read_hex(text, 0, 2);
    const int device = read_hex(text, 3, 2);
    const int function = read_hex(text, 6, 1);
    if (bus < 0 || device < 0 || device > 0x1f || function < 0 || function > 7) {
        return std::nullopt;
    }
    return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, device, function);
}

std::optional<AllowEntry> parse_allow_entry(std::string_view text) {
    const std::size_t comma = text.find(',');
    auto address = canonical_pci_address(text.substr(0, comma));
    if (!address) {
        return std::nullopt;
    }
    AllowEntry entry{*std::move(address), {}};
    if (comma != std::string_view::npos) {
        entry.devargs = std::string(text.substr(comma + 1));
        if (entry.devargs.empty()) {
            return std::nullopt;
        }
    }
    return entry;
}

std::string_view vdev_name(std::string_view vdev) { return vdev.substr(0, vdev.find(',')); }

std::optional<milliseconds> parse_duration(std::string_view text) {
    constexpr std::int64_t kSaturation = std::int64_t{1} << 40;  // times 3,600,000 still fits in 63 bits
    std::size_t digits = 0;
    std::int64_t count = 0;
    while (digits < text.size() && is_digit(text[digits])) {  // bounded by the text length
        count = std::min(count * 10 + (text[digits] - '0'), kSaturation);
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(digits);
    std::int64_t unit_ms = 0;
    if (unit == "ms") {
        unit_ms = 1;
    } else if (unit == "s") {
        unit_ms = 1000;
    } else if (unit == "m") {
        unit_ms = 60'000;
    } else if (unit == "h") {
        unit_ms = 3'600'000;
    } else {
        return std::nullopt;
    }
    if (count == kSaturation) {
        return milliseconds::max();
    }
    return milliseconds(count * unit_ms);
}

std::string check_port_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxPortNameLength || !all_of_chars(name, is_name_char)) {
        return fmt::format("a port name is 1 to {} letters, digits, '_' or '-'", kMaxPortNameLength);
    }
    return {};
}

std::string check_allow(std::string_view entry) {
    if (!parse_allow_entry(entry)) {
        return "not a PCI address DDDD:BB:DD.F or BB:DD.F (hex, device 00-1f, function 0-7), optionally "
               "followed by \",devargs\"";
    }
    return {};
}

std::string check_vdev(std::string_view vdev) {
    const std::string_view name = vdev_name(vdev);
    if (name.empty() || name.size() > kMaxDeviceNameLength || !is_alpha(name.front()) ||
        !all_of_chars(name, is_identifier_char) || vdev.size() == name.size() + 1 /* "name," */) {
        return "a vdev is NAME[,key=value...] with NAME made of letters, digits and '_' "
               "(e.g. \"net_af_packet0,iface=eth0\")";
    }
    return {};
}

std::string check_file_prefix(std::string_view prefix) {
    // EAL builds /run/dpdk/<prefix>/ and hugepage file names from it.
    if (prefix.empty() || prefix.size() > kMaxFilePrefixLength || !all_of_chars(prefix, is_name_char)) {
        return fmt::format("a file prefix is 1 to {} letters, digits, '_' or '-'", kMaxFilePrefixLength);
    }
    return {};
}

std::string check_log_level(std::string_view level) {
    if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end()) {
        return fmt::format("expected one of {}", fmt::join(kLogLevels, ", "));
    }
    return {};
}

std::string check_mode_text(std::string_view mode) {
    if (mode.size() < 3 || mode.size() > 4 || !all_of_chars(mode, [](char c) { return c >= '0' && c <= '7'; }) ||
        (mode.size() == 4 && mode.front() != '0')) {
        return "not an octal permission mode such as \"0660\" (3 or 4 octal digits, at most 0777)";
    }
    return {};
}

std::string check_group(std::string_view group) {
    // The shadow-utils rule for portable names; a numeric gid passes too.
    if (group.empty()) {
        return {};
    }
    if (group.size() > kMaxGroupNameLength || group.front() == '-' ||
        !all_of_chars(group, [](char c) { return is_name_char(c) || c == '.'; })) {
        return fmt::format("a group is a name or gid of 1 to {} letters, digits, '.', '_' or '-' (not first)",
                           kMaxGroupNameLength);
    }
    return {};
}

std::string check_path(std::string_view path) {
    if (path.find('\0') != std::string_view::npos) {
        return "a path cannot contain a NUL character";
    }
    return {};
}

std::string check_sql_identifier(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return "1 to 64 characters";
    }
    for (const char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return "letters, digits and '_' only";
        }
    }
    return std::isdigit(static_cast<unsigned char>(name.front())) ? "must not start with a digit" : "";
}

std::string check_http_url(std::string_view url) {
    if (!url.starts_with("http://")) {
        return "expected http://HOST:PORT (ClickHouse's HTTP interface; https is not supported: put a TLS "
               "proxy on the box)";
    }
    const std::string_view rest = url.substr(7);
    if (rest.empty() || rest.find_first_of(" ?#@") != std::string_view::npos) {
        return "expected http://HOST:PORT with no user, query or fragment (the user is [clickhouse] user)";
    }
    return {};
}

std::string check_listen(std::string_view listen) {
    if (listen.empty()) {
        return {};
    }
    constexpr std::string_view kForm = "expected HOST:PORT or [IPV6]:PORT with a port from 0 to 65535";
    std::string_view host;
    std::string_view port;
    bool bracketed = false;
    if (listen.front() == '[') {
        const std::size_t close = listen.find(']');
        if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
            return std::string(kForm);
        }
        host = listen.substr(1, close - 1);
        port = listen.substr(close + 2);
        bracketed = true;
    } else {
        const std::size_t colon = listen.rfind(':');
        if (colon == std::string_view::npos) {
            return std::string(kForm);
        }
        host = listen.substr(0, colon);
        port = listen.substr(colon + 1);
    }
    if (host.empty() || port.empty() || port.size() > 5 || !all_of_chars(port, is_digit) ||
        std::stoul(std::string(port)) > 65535) {
        return std::string(kForm);
    }
    if (bracketed) {
        std::array<unsigned char, 16> address{};
        if (inet_pton(AF_INET6, std::string(host).c_str(), address.data()) != 1) {
            return "not an IPv6 address between the brackets";
        }
    } else if (host.find(':') != std::string_view::npos) {
        return "write an IPv6 address in brackets: [::1]:9867";
    } else if (!all_of_chars(host, [](char c) { return is_alpha(c) || is_digit(c) || c == '.' || c == '-'; })) {
        return "the host is an IPv4 address or a host name";
    }
    return {};
}

} // namespace wt::app::config_values
