#include "app/ipdb/ip_database.hpp"

#include <fmt/format.h>
#include <maxminddb.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#ifndef WIRETALLY_IPDB_DIR
#define WIRETALLY_IPDB_DIR "/usr/local/share/wiretally/ipdb"
#endif

namespace wt::app {

struct IpDatabases::Database {
    MMDB_s mmdb{};
    ~Database() { MMDB_close(&mmdb); }
};

namespace {

// The value at `path` (a null-terminated list of map keys) when it is a string or a number.
std::optional<std::string> text_at(MMDB_entry_s& entry, const char* const* path) {
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) {
        return std::nullopt;
    }
    switch (data.type) {
    case MMDB_DATA_TYPE_UTF8_STRING: return std::string(data.utf8_string, data.data_size);
    case MMDB_DATA_TYPE_UINT16: return std::to_string(data.uint16);
    case MMDB_DATA_TYPE_UINT32: return std::to_string(data.uint32);
    case MMDB_DATA_TYPE_UINT64: return std::to_string(data.uint64);
    case MMDB_DATA_TYPE_INT32: return std::to_string(data.int32);
    default: return std::nullopt;
    }
}

// "13335" or "AS13335" (IPinfo) -> 13335; anything else -> nullopt.
std::optional<std::uint32_t> parse_asn(std::string_view text) {
    if (text.size() > 2 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's')) {
        text.remove_prefix(2);
    }
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

std::string epoch_date(std::uint64_t epoch) {
    const std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    if (epoch == 0 || gmtime_r(&t, &tm) == nullptr) {
        return {};
    }
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string english_description(const MMDB_s& mmdb) {
    for (std::size_t i = 0; i < mmdb.metadata.description.count; ++i) {
        const MMDB_description_s* d = mmdb.metadata.description.descriptions[i];
        if (d != nullptr && d->language != nullptr && std::strcmp(d->language, "en") == 0 && d->description != nullptr) {
            return d->description;
        }
    }
    return {};
}

} // namespace

std::string_view address_scope(const pipeline::IpAddr& address) noexcept {
    const auto* b = address.bytes.data();
    if (address.version == 4) {
        if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168)) {
            return "private";
        }
        if (b[0] == 100 && (b[1] & 0xc0) == 64) {
            return "shared";
        }
        if (b[0] == 127) {
            return "loopback";
        }
        if (b[0] == 169 && b[1] == 254) {
            return "link-local";
        }
        if ((b[0] & 0xf0) == 224) {
            return "multicast";
        }
        if ((b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
            (b[0] == 203 && b[1] == 0 && b[2] == 113)) {
            return "documentation";
        }
        if (b[0] == 0) {
            return "unspecified";
        }
        return {};
    }
    if (address.version != 6) {
        return {};
    }
    static constexpr std::uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::uint8_t kUnspecified[16] = {};
    if (std::memcmp(b, kLoopback, 16) == 0) {
        return "loopback";
    }
    if (std::memcmp(b, kUnspecified, 16) == 0) {
        return "unspecified";
    }
    if ((b[0] & 0xfe) == 0xfc) {
        return "private";
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        return "link-local";
    }
    if (b[0] == 0xff) {
        return "multicast";
    }
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
        return "documentation";
    }
    return {};
}

IpDatabases::IpDatabases() = default;
IpDatabases::~IpDatabases() = default;
IpDatabases::IpDatabases(IpDatabases&&) noexcept = default;
IpDatabases& IpDatabases::operator=(IpDatabases&&) noexcept = default;

bool IpDatabases::empty() const noexcept {
    return _dbs.empty();
}

bool IpDatabases::add_file(const std::string& path, std::string& error) {
    auto db = std::make_unique<Database>();
    const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb);
    if (status != MMDB_SUCCESS) {
        const int err = errno;
        error = status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR
                    ? fmt::format("{}: {}", path, std::strerror(err))
                                        : fmt::format("{}: not a MaxMind DB file ({})", path, MMDB_strerror(status));
        db.release(); // MMDB_open cleans up after itself on failure: nothing to close
        return false;
    }
    IpDataSet set;
    set.path = path;
    set.name = db->mmdb.metadata.database_type != nullptr ? db->mmdb.metadata.database_type : "";
    set.date = epoch_date(db->mmdb.metadata.build_epoch);
    set.description = english_description(db->mmdb);
    _dbs.push_back(std::move(db));
    _sets.push_back(std::move(set));
    return true;
}

bool IpDatabases::add_directory(const std::string& dir, std::string& error) {
    namespace fs = std::filesystem;
    const fs::path manifest = fs::path(dir) / "datasets.json";
    std::ifstream in(manifest);
    if (!in) {
        return true; // no default data installed: hosting columns stay null
    }
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
    if (doc.is_discarded() || !doc.is_array()) {
        error = fmt::format("{}: not a JSON array of data sets", manifest.string());
        return false;
    }
    for (std::size_t i = 0; i < doc.size(); ++i) {
        const nlohmann::json& entry = doc[i];
        const auto field = [&](const char* key) -> std::string {
            if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string()) {
                return {};
            }
            return entry[key].get<std::string>();
        };
        const std::string file = field("file");
        if (file.empty() || file.find('/') != std::string::npos) {
            error = fmt::format("{}: data set {} has no \"file\" (a name in the same directory)", manifest.string(), i);
            return false;
        }
        if (!add_file((fs::path(dir) / file).string(), error)) {
            return false;
        }
        IpDataSet& set = _sets.back();
        if (const std::string name = field("name"); !name.empty()) {
            set.name = name;
        }
        set.source = field("source");
        set.licence = field("licence");
        if (const std::string date = field("date"); !date.empty()) {
            set.date = date;
        }
    }
    return true;
}

Hosting IpDatabases::lookup(const pipeline::IpAddr& address) const {
    Hosting h;
    sockaddr_storage storage{};
    if (address.version == 4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, address.bytes.data(), 4);
    } else if (address.version == 6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
    } else {
        return h;
    }
    static constexpr const char* kAsn[] = {"autonomous_system_number", nullptr};
    static constexpr const char* kAsnIpinfo[] = {"asn", nullptr};
    static constexpr const char* kOrg[] = {"autonomous_system_organization", nullptr};
    static constexpr const char* kOrgIpinfo[] = {"as_name", nullptr};
    static constexpr const char* kCountry[] = {"country", "iso_code", nullptr};
    static constexpr const char* kRegisteredCountry[] = {"registered_country", "iso_code", nullptr};
    static constexpr const char* kCountryCode[] = {"country_code", nullptr};
    for (const auto& db : _dbs) {
        int mmdb_error = MMDB_SUCCESS;
        MMDB_lookup_result_s result =
            MMDB_lookup_sockaddr(&db->mmdb, reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
        if (mmdb_error != MMDB_SUCCESS || !result.found_entry) {
            continue; // an IPv6 address in an IPv4-only file, or no entry
        }
        if (!h.asn) {
            for (const char* const* path : {kAsn, kAsnIpinfo}) {
                if (const auto text = text_at(result.entry, path)) {
                    h.asn = parse_asn(*text);
                    if (h.asn) {
                        break;
                    }
                }
            }
        }
        if (h.as_org.empty()) {
            for (const char* const* path : {kOrg, kOrgIpinfo}) {
                if (auto text = text_at(result.entry, path); text && !text->empty()) {
                    h.as_org = std::move(*text);
                    break;
                }
            }
        }
        if (h.country.empty()) {
            for (const char* const* path : {kCountry, kCountryCode, kRegisteredCountry}) {
                if (auto text = text_at(result.entry, path); text && text->size() == 2) {
                    h.country = std::move(*text);
                    break;
                }
            }
        }
    }
    return h;
}

namespace {

// The AS number of a data record, without allocating: GeoLite2's and DB-IP's
// autonomous_system_number (uint32), or IPinfo's asn ("AS13335"); 0 when it has neither.
std::uint32_t asn_of_entry(MMDB_entry_s entry) {
    MMDB_entry_data_s data{};
    if (MMDB_get_value(&entry, &data, "autonomous_system_number", nullptr) == MMDB_SUCCESS && data.has_data) {
        switch (data.type) {
        case MMDB_DATA_TYPE_UINT32: return data.uint32;
        case MMDB_DATA_TYPE_UINT16: return data.uint16;
        case MMDB_DATA_TYPE_UINT64: return data.uint64 <= 0xffffffffu ? static_cast<std::uint32_t>(data.uint64) : 0;
        case MMDB_DATA_TYPE_UTF8_STRING:
            return parse_asn(std::string_view(data.utf8_string, data.data_size)).value_or(0);
        default: return 0;
        }
    }
    if (MMDB_get_value(&entry, &data, "asn", nullptr) == MMDB_SUCCESS && data.has_data &&
        data.type == MMDB_DATA_TYPE_UTF8_STRING) {
        return parse_asn(std::string_view(data.utf8_string, data.data_size)).value_or(0);
    }
    return 0;
}

using U128 = unsigned __int128;

// Data record offset -> AS number, for the walk: open addressing with linear probing (a node-based
// map's pointer chasing was most of the walk's time). Grows at half load.
class AsnByOffset {
public:
    // The slot for `offset`: found (true) or where to insert it (false).
    std::pair<std::uint32_t*, bool> find_or_slot(std::uint32_t offset) {
        if ((_used + 1) * 2 > _keys.size()) {
            grow();
        }
        const std::size_t mask = _keys.size() - 1;
        for (std::size_t i = (offset * 0x9e3779b1u) & mask;; i = (i + 1) & mask) {
            if (_keys[i] == kEmpty) {
                _keys[i] = offset;
                ++_used;
                return {&_asns[i], false};
            }
            if (_keys[i] == offset) {
                return {&_asns[i], true};
            }
        }
    }
    [[nodiscard]] std::size_t size() const noexcept { return _used; }

private:
    static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
    void grow() {
        std::vector<std::uint32_t> keys(std::max<std::size_t>(1024, _keys.size() * 2), kEmpty);
        std::vector<std::uint32_t> asns(keys.size(), 0);
        const std::size_t mask = keys.size() - 1;
        for (std::size_t j = 0; j < _keys.size(); ++j) {
            if (_keys[j] == kEmpty) {
                continue;
            }
            std::size_t i = (_keys[j] * 0x9e3779b1u) & mask;
            while (keys[i] != kEmpty) {
                i = (i + 1) & mask;
            }
            keys[i] = _keys[j];
            asns[i] = _asns[j];
        }
        _keys.swap(keys);
        _asns.swap(asns);
    }
    std::vector<std::uint32_t> _keys;
    std::vector<std::uint32_t> _asns;
    std::size_t _used = 0;
};

// A file whose first data records carry no AS number (a country or city file) is not walked on:
// in an ASN file every record has one.
constexpr std::size_t kRecordsToTellAnAsnFile = 16;

pipeline::IpAddr address_of(U128 word, int bits) {
    pipeline::IpAddr a;
    a.version = bits == 32 ? 4 : 6;
    const int bytes = bits / 8;
    for (int i = bytes - 1; i >= 0; --i) {
        a.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(word);
        word >>= 8;
    }
    return a;
}

} // namespace

pipeline::HostingRanges IpDatabases::asn_ranges(std::span<const std::uint32_t> asns) const {
    pipeline::HostingRanges ranges;
    if (asns.empty()) {
        return ranges;
    }
    const auto fn = [&ranges](const pipeline::IpAddr& first, const pipeline::IpAddr& last, std::uint32_t asn) {
        ranges.add(first, last, asn);
    };
    std::vector<std::uint32_t> wanted(asns.begin(), asns.end());
    std::sort(wanted.begin(), wanted.end());
    for (const auto& db : _dbs) {
        const MMDB_s& mmdb = db->mmdb;
        const std::uint32_t node_count = mmdb.metadata.node_count;
        const int bits = mmdb.metadata.ip_version == 6 ? 128 : 32;
        // The node at ::/96 roots IPv4 in an IPv6 tree; other records that point to it are aliases.
        std::uint64_t ipv4_root = std::numeric_limits<std::uint64_t>::max();
        if (bits == 128) {
            std::uint64_t n = 0;
            for (int depth = 0; depth < 96 && n < node_count; ++depth) {
                MMDB_search_node_s node{};
                if (MMDB_read_node(&mmdb, static_cast<std::uint32_t>(n), &node) != MMDB_SUCCESS ||
                    node.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
                    n = std::numeric_limits<std::uint64_t>::max();
                    break;
                }
                n = node.left_record;
            }
            ipv4_root = n;
        }
        AsnByOffset asn_at; // data offset -> AS number (0: none)
        struct Item {
            std::uint32_t node;
            U128 prefix;
            int depth;
        };
        std::vector<Item> stack{{0, 0, 0}};
        bool any_asn = false;
        std::uint32_t last_offset = std::numeric_limits<std::uint32_t>::max();
        std::uint32_t last_asn = 0;
        bool last_wanted = false;
        // A well-formed tree has node_count nodes, each reached once (aliases skipped). A crafted file
        // whose records point back or share children could make the walk loop or explode: depth is
        // bounded by the address size, and the nodes visited by twice the node count.
        std::uint64_t budget = 2 * std::uint64_t{node_count} + 1024;
        while (!stack.empty() && budget-- != 0 && (any_asn || asn_at.size() < kRecordsToTellAnAsnFile)) {
            const Item it = stack.back();
            stack.pop_back();
            MMDB_search_node_s node{};
            if (it.depth >= bits || MMDB_read_node(&mmdb, it.node, &node) != MMDB_SUCCESS) {
                continue;
            }
            for (int side = 0; side < 2; ++side) {
                const int depth = it.depth + 1;
                const U128 prefix = it.prefix | (side == 1 ? U128{1} << (bits - depth) : U128{0});
                const std::uint8_t type = side == 1 ? node.right_record_type : node.left_record_type;
                const std::uint64_t record = side == 1 ? node.right_record : node.left_record;
                if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
                    if (record == ipv4_root && !(depth == 96 && prefix == 0)) {
                        continue; // ::ffff:0:0/96, 2002::/16...: the IPv4 tree again
                    }
                    stack.push_back({static_cast<std::uint32_t>(record), prefix, depth});
                    continue;
                }
                if (type != MMDB_RECORD_TYPE_DATA) {
                    continue;
                }
                const MMDB_entry_s entry = side == 1 ? node.right_record_entry : node.left_record_entry;
                // Neighbouring leaves mostly share one record (one AS's adjacent prefixes).
                if (entry.offset != last_offset) {
                    auto [asn, known] = asn_at.find_or_slot(entry.offset);
                    if (!known) {
                        *asn = asn_of_entry(entry);
                        any_asn |= *asn != 0;
                    }
                    last_offset = entry.offset;
                    last_asn = *asn;
                    last_wanted = last_asn != 0 && std::binary_search(wanted.begin(), wanted.end(), last_asn);
                }
                if (!last_wanted) {
                    continue;
                }
                const U128 host_bits = depth >= bits ? U128{0} : (U128{1} << (bits - depth)) - 1;
                if (bits == 128 && depth >= 96 && (prefix >> 32) == 0) {
                    fn(address_of(prefix, 32), address_of(prefix | host_bits, 32), last_asn);
                } else if (bits == 128 && depth < 96 && (prefix >> 32) == 0) {
                    continue; // a range over ::/96 itself: not an IPv4 range, not a real IPv6 one
                } else {
                    fn(address_of(prefix, bits), address_of(prefix | host_bits, bits), last_asn);
                }
            }
        }
    }
    ranges.finish();
    return ranges;
}

bool open_ip_databases(const std::vector<std::string>& files, bool use_default, IpDatabases& out, std::string& error) {
    for (const std::string& file : files) {
        if (!out.add_file(file, error)) {
            return false;
        }
    }
    if (files.empty() && use_default) {
        return out.add_directory(default_ipdb_directory(), error);
    }
    return true;
}

std::string default_ipdb_directory() {
    if (const char* env = std::getenv("WIRETALLY_IPDB_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return WIRETALLY_IPDB_DIR;
}

} // namespace wt::app
