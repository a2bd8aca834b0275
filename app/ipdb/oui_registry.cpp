#include "app/ipdb/oui_registry.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace wt::app {

namespace {

// One RFC 4180 record from `text` (advanced past it): commas separate fields, double quotes enclose
// a field holding commas or line breaks (the registries have addresses over two lines), and a
// doubled quote inside one is a quote. `lines` counts the line breaks consumed.
std::vector<std::string> next_record(std::string_view& text, std::size_t& lines) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    std::size_t i = 0;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                fields.back().push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                lines += c == '\n' ? 1 : 0;
                fields.back().push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c == '\n') {
            ++lines;
            ++i;
            break;
        } else if (c != '\r') {
            fields.back().push_back(c);
        }
    }
    text.remove_prefix(i);
    return fields;
}

std::uint64_t key_of(std::uint64_t prefix_bits, unsigned length) noexcept {
    return prefix_bits | std::uint64_t{length} << 48;
}

} // namespace

bool OuiRegistry::load_csv(std::string_view text, std::string_view origin, std::string& error) {
    std::size_t line_no = 1; // the line the next record starts on
    bool header = true;
    while (!text.empty()) {
        const std::size_t record_line = line_no;
        const std::vector<std::string> f = next_record(text, line_no);
        if (f.size() == 1 && f[0].empty()) {
            continue; // a blank line
        }
        if (header) {
            header = false;
            if (f.size() < 3 || f[0] != "Registry" || f[1] != "Assignment") {
                error = fmt::format("{}:{}: not an IEEE registry CSV (expected the header Registry,Assignment,...)",
                                    origin, record_line);
                return false;
            }
            continue;
        }
        if (f.size() < 3) {
            error = fmt::format("{}:{}: expected Registry,Assignment,Organization Name,...", origin, record_line);
            return false;
        }
        const std::size_t line_no_of_record = record_line;
        // MA-L: 6 hex digits (24 bits), MA-M: 7 (28), MA-S and IAB: 9 (36).
        const std::string& hex = f[1];
        if (hex.size() != 6 && hex.size() != 7 && hex.size() != 9) {
            error = fmt::format("{}:{}: assignment '{}' is not 6, 7 or 9 hex digits", origin, line_no_of_record, hex);
            return false;
        }
        std::uint64_t bits = 0;
        for (const char c : hex) {
            const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (v < 0) {
                error = fmt::format("{}:{}: assignment '{}' is not hexadecimal", origin, line_no_of_record, hex);
                return false;
            }
            bits = bits << 4 | static_cast<std::uint64_t>(v);
        }
        const unsigned length = static_cast<unsigned>(hex.size() * 4);
        _by_prefix[key_of(bits << (48 - length), length)] = f[2];
    }
    return true;
}

bool OuiRegistry::load_directory(const std::string& directory, std::string& error) {
    for (const char* name : {"oui.csv", "mam.csv", "oui36.csv"}) {
        const std::filesystem::path path = std::filesystem::path(directory) / name;
        std::ifstream in(path);
        if (!in) {
            continue;
        }
        std::stringstream text;
        text << in.rdbuf();
        if (!load_csv(text.str(), path.string(), error)) {
            return false;
        }
    }
    return true;
}

std::string_view OuiRegistry::vendor(const std::array<std::uint8_t, 6>& mac) const {
    if (locally_administered(mac)) {
        return {};
    }
    std::uint64_t bits = 0;
    for (const std::uint8_t b : mac) {
        bits = bits << 8 | b;
    }
    for (const unsigned length : {36u, 28u, 24u}) {
        const std::uint64_t prefix = bits >> (48 - length) << (48 - length);
        if (const auto it = _by_prefix.find(key_of(prefix, length)); it != _by_prefix.end()) {
            return it->second;
        }
    }
    return {};
}

} // namespace wt::app
