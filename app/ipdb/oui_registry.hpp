// OuiRegistry: who made a network interface, from its MAC address: the IEEE registries of MAC
// address blocks (MA-L 24-bit, MA-M 28-bit, MA-S 36-bit prefixes) as Debian's ieee-data package
// ships them (/usr/share/ieee-data/{oui,mam,oui36}.csv). The longest assigned prefix wins. A
// locally administered address (IEEE 802 section 8.4: bit 1 of the first octet) has no vendor:
// phones use such random addresses per network, and the report says so instead of guessing.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wt::app {

class OuiRegistry {
public:
    // The directory ieee-data installs into.
    static constexpr std::string_view kDefaultDirectory = "/usr/share/ieee-data";

    // Reads the three registries found in `directory` (missing files are skipped: the vendor
    // column stays null). false with `error` ("FILE:LINE: reason") for a file that is not a
    // registry CSV.
    bool load_directory(const std::string& directory, std::string& error);
    // One registry CSV ("Registry,Assignment,Organization Name,Organization Address").
    bool load_csv(std::string_view text, std::string_view origin, std::string& error);

    // The organisation that was assigned the block holding `mac`; "" when unknown or locally
    // administered.
    [[nodiscard]] std::string_view vendor(const std::array<std::uint8_t, 6>& mac) const;
    [[nodiscard]] static bool locally_administered(const std::array<std::uint8_t, 6>& mac) noexcept {
        return (mac[0] & 0x02) != 0;
    }
    [[nodiscard]] std::size_t size() const noexcept { return _by_prefix.size(); }

private:
    // Key: prefix bits (left-aligned in 48 bits) | length << 48.
    std::unordered_map<std::uint64_t, std::string> _by_prefix;
};

} // namespace wt::app
