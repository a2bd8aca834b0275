// Reading a snapshot: the document is validated as it is parsed (SAX-style callback,
// so a huge array is never held whole), every value range-checked, every error named by
// its path ("domains[3].stats.bytes_up").
#include "app/live/state/snapshot.hpp"
#include "parsers/common/text.hpp"
#include "app/live/state/snapshot_format.hpp"

#include "app/report/json_writer.hpp"
#include "app/report/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace wt::app::state {

namespace {

using nlohmann::json;
using namespace snapshot_format;

// ---------------------------------------------------------------------------------
// Reading

// A validation failure at `path` (e.g. "domains[3].stats.bytes_up").
struct FormatError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, std::string_view reason) {
    throw FormatError(path.empty() ? std::string(reason) : fmt::format("{}: {}", path, reason));
}

std::uint64_t as_unsigned(const json& v, const std::string& path, std::uint64_t max) {
    if (!v.is_number_unsigned()) {
        fail(path, "expected an unsigned integer");
    }
    const auto n = v.get<std::uint64_t>();
    if (n > max) {
        fail(path, fmt::format("{} is out of range (at most {})", n, max));
    }
    return n;
}

const std::string& as_string(const json& v, const std::string& path) {
    if (!v.is_string()) {
        fail(path, "expected a string");
    }
    return v.get_ref<const std::string&>();
}

const json& as_array(const json& v, const std::string& path) {
    if (!v.is_array()) {
        fail(path, "expected an array");
    }
    return v;
}

std::string element_path(const std::string& array_path, std::size_t i) {
    return fmt::format("{}[{}]", array_path, i);
}

// One JSON object being read. Keys are taken by name; finish() rejects any key that
// was not taken, so a misspelt or unexpected field is an error, not silently lost.
class Fields {
public:
    Fields(const json& j, std::string path) : _j(j), _path(std::move(path)) {
        if (!j.is_object()) {
            fail(_path, "expected an object");
        }
    }

    [[nodiscard]] std::string path_of(std::string_view key) const {
        return _path.empty() ? std::string(key) : fmt::format("{}.{}", _path, key);
    }

    const json* optional(std::string_view key) {
        const auto it = _j.find(std::string(key));
        if (it == _j.end()) {
            return nullptr;
        }
        _taken.emplace_back(key);
        return &*it;
    }
    const json& required(std::string_view key) {
        if (const json* v = optional(key)) {
            return *v;
        }
        fail(path_of(key), "missing");
    }
    std::uint64_t number(std::string_view key, std::uint64_t max) {
        return as_unsigned(required(key), path_of(key), max);
    }
    std::uint64_t number_or(std::string_view key, std::uint64_t fallback, std::uint64_t max) {
        const json* v = optional(key);
        return v == nullptr ? fallback : as_unsigned(*v, path_of(key), max);
    }
    const std::string& string(std::string_view key) { return as_string(required(key), path_of(key)); }
    const json& array(std::string_view key) { return as_array(required(key), path_of(key)); }

    void finish() const {
        if (_taken.size() == _j.size()) {
            return;
        }
        for (const auto& [key, value] : _j.items()) {
            if (std::find(_taken.begin(), _taken.end(), key) == _taken.end()) {
                fail(path_of(key), "unknown key");
            }
        }
    }

private:
    const json& _j;
    std::string _path;
    std::vector<std::string> _taken;
};

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kU16Max = std::numeric_limits<std::uint16_t>::max();

template <typename Slot, std::size_t N>
void read_histogram(const json& v, const std::string& path, std::array<std::uint32_t, N>& counts) {
    Fields f(v, path);
    for (std::size_t i = 0; i < N; ++i) {
        counts[i] = static_cast<std::uint32_t>(f.number_or(pipeline::to_string(static_cast<Slot>(i)), 0, kU32Max));
    }
    f.finish();
}

TransferStats read_stats(const json& v, const std::string& path) {
    Fields f(v, path);
    TransferStats s;
    s.for_each_count_field([&](std::string_view name, auto& field) {
        using Field = std::remove_reference_t<decltype(field)>;
        field = static_cast<Field>(f.number_or(name, 0, std::numeric_limits<Field>::max()));
    });
    s.cipher_other = static_cast<std::uint32_t>(f.number_or("cipher_other", 0, kU32Max));
    s.first_ns = f.number_or("first_ns", kNoFirstSeen, kU64Max);
    s.last_ns = f.number_or("last_ns", 0, kU64Max);
    if (const json* h = f.optional("tls_versions")) {
        read_histogram<TlsVersionSlot>(*h, f.path_of("tls_versions"), s.tls_versions);
    }
    if (const json* h = f.optional("alpn")) {
        read_histogram<AlpnSlot>(*h, f.path_of("alpn"), s.alpns);
    }
    if (const json* c = f.optional("ciphers")) {
        const std::string cpath = f.path_of("ciphers");
        const json& list = as_array(*c, cpath);
        if (list.size() > pipeline::kCipherSlots) {
            fail(cpath, fmt::format("{} ciphers, at most {} slots", list.size(), pipeline::kCipherSlots));
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            Fields e(list[i], element_path(cpath, i));
            const auto id = static_cast<std::uint16_t>(e.number("id", kU16Max));
            const auto count = static_cast<std::uint32_t>(e.number("count", kU32Max));
            e.finish();
            // Slots are filled in order and a zero count marks a free slot (add_cipher).
            if (count == 0) {
                fail(e.path_of("count"), "a cipher slot needs a non-zero count");
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (s.cipher_ids[j] == id) {
                    fail(e.path_of("id"), fmt::format("cipher {} is listed twice", id));
                }
            }
            s.cipher_ids[i] = id;
            s.cipher_counts[i] = count;
        }
    }
    f.finish();
    return s;
}

// Inverse of append_wire_name: every code point must be one byte value.
std::string read_wire_bytes(const json& v, const std::string& path) {
    const std::string& utf8 = as_string(v, path);
    std::string bytes;
    bytes.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c < 0x80) {
            bytes.push_back(static_cast<char>(c));
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
            // U+0080..U+00FF: two bytes 110000xx 10xxxxxx (the parser checked the UTF-8).
            bytes.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f)));
            ++i;
        } else {
            fail(path, "a name character above U+00FF (names are stored one byte per character)");
        }
    }
    return bytes;
}

pipeline::DomainName read_wire_name(const json& v, const std::string& path) {
    const std::string bytes = read_wire_bytes(v, path);
    if (bytes.empty()) {
        fail(path, "empty name");
    }
    pipeline::DomainName name;
    if (!name.assign(bytes)) {
        fail(path, fmt::format("name of {} bytes, at most {}", bytes.size(), pipeline::DomainName::capacity()));
    }
    return name;
}

IpAddr read_ip(const json& v, const std::string& path) {
    const std::string& text = as_string(v, path);
    IpAddr ip;
    if (text == "-") {
        return ip; // unset address, as parsers::to_string writes it
    }
    if (text.find(':') != std::string::npos) {
        if (::inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
            ip.version = 6;
            return ip;
        }
    } else if (::inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
        ip.version = 4;
        return ip;
    }
    fail(path, fmt::format("\"{}\" is not an IP address", text));
}

// A MAC in the writer's form (mac_text: colons).
std::array<std::uint8_t, 6> read_mac(const json& v, const std::string& path) {
    const std::string& text = as_string(v, path);
    const auto mac = parse_mac(text);
    if (!mac || text[2] != ':') {
        fail(path, fmt::format("\"{}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", text));
    }
    return *mac;
}

// Names -> ids for one load. Entries may refer to a name before (or without) the
// list that declares it: the name gets the next id on first sight, either way.
class NameIndex {
public:
    explicit NameIndex(std::vector<std::string>& names) : _names(names) {}

    std::size_t id_of(const std::string& name) {
        const auto [it, fresh] = _ids.try_emplace(name, _names.size());
        if (fresh) {
            _names.push_back(name);
        }
        return it->second;
    }
    // For the declaring list: false when the list already had the name.
    bool declare(const std::string& name) { return _declared.insert(name).second; }

private:
    std::vector<std::string>& _names;
    std::unordered_map<std::string, std::size_t> _ids;
    std::unordered_set<std::string> _declared;
};

// The document's top-level keys, all required.
enum class TopKey : std::uint8_t {
    kFormat, kVersion, kMeta, kServices, kUnclassified, kTotal, kTableFullDrops, kActionLabels,
    kDomains, kClients, kClientDomains, kActions, kServerNames, kDeviceHints, kCount
};
constexpr std::string_view kTopKeyNames[] = {"format", "version", "meta", "services", "unclassified", "total",
                                             "table_full_drops", "action_labels", "domains", "clients",
                                             "client_domains", "actions", "server_names", "device_hints"};
static_assert(std::size(kTopKeyNames) == static_cast<std::size_t>(TopKey::kCount));

constexpr bool is_entry_array(TopKey k) noexcept {
    return k == TopKey::kServices || k == TopKey::kActionLabels || k == TopKey::kDomains || k == TopKey::kClients ||
           k == TopKey::kClientDomains || k == TopKey::kActions || k == TopKey::kServerNames ||
           k == TopKey::kDeviceHints;
}

// Reads the document while nlohmann parses it (parser callback): each element of
// an entry array is validated, restored into the tally and discarded as soon as it
// is complete, so a load never holds the whole document as a DOM (a 37 MB snapshot
// costs ~330 MB as a DOM). Keys may come in any order; the writer puts format and
// version first so that a newer file reports its version before anything else.
class DocumentReader {
public:
    explicit DocumentReader(SnapshotContent& out) : _out(out), _services(out.service_names), _actions(out.action_labels) {}

    bool on_event(int depth, json::parse_event_t event, json& parsed) {
        using E = json::parse_event_t;
        if (depth == 0) {
            if (event == E::object_start) {
                return true;
            }
            if (event == E::object_end) {
                return false; // everything was taken on the way; nothing to keep
            }
            fail("", "expected an object");
        }
        if (depth == 1) {
            switch (event) {
            case E::key: begin_key(parsed.get_ref<const std::string&>()); return true;
            case E::array_start: _in_entry_array = is_entry_array(_key); return true;
            case E::object_start: _in_entry_array = false; return true;
            case E::array_end:
                _in_entry_array = false;
                end_value(parsed);
                return false;
            case E::object_end:
            case E::value: end_value(parsed); return false;
            }
        }
        if (depth == 2 && _in_entry_array &&
            (event == E::object_end || event == E::array_end || event == E::value)) {
            read_entry(parsed, _entry_index++);
            return false;
        }
        return true;
    }

    void finish() {
        for (std::size_t k = 0; k < _seen.size(); ++k) {
            // server_names came with the servers view, device_hints with the devices: older snapshots have none.
            if (!_seen[k] && static_cast<TopKey>(k) != TopKey::kServerNames &&
                static_cast<TopKey>(k) != TopKey::kDeviceHints) {
                fail(std::string(kTopKeyNames[k]), "missing");
            }
        }
        // Names that only entries used get their (empty) service slots too.
        if (_out.tally.services().size() < _out.service_names.size() + 1) {
            _out.tally.resize_services(_out.service_names.size());
        }
    }

private:
    void begin_key(const std::string& key) {
        const auto* it = std::find(std::begin(kTopKeyNames), std::end(kTopKeyNames), key);
        if (it == std::end(kTopKeyNames)) {
            fail(key, "unknown key");
        }
        const auto index = static_cast<std::size_t>(it - std::begin(kTopKeyNames));
        if (_seen[index]) {
            fail(key, "listed twice");
        }
        _seen[index] = true;
        _key = static_cast<TopKey>(index);
        _entry_index = 0;
    }

    // A complete top-level value. Entry arrays arrive here emptied (their elements
    // were read one by one); only their type is left to check.
    void end_value(const json& v) {
        const std::string path(kTopKeyNames[static_cast<std::size_t>(_key)]);
        if (is_entry_array(_key)) {
            as_array(v, path);
            return;
        }
        switch (_key) {
        case TopKey::kFormat:
            if (as_string(v, path) != kSnapshotFormat) {
                fail(path, fmt::format("not a wiretally snapshot (expected \"{}\")", kSnapshotFormat));
            }
            break;
        case TopKey::kVersion:
            if (const std::uint64_t version = as_unsigned(v, path, kU64Max); version != kSnapshotVersion) {
                fail(path, fmt::format("unsupported snapshot version {} (this build reads version {})", version,
                                       kSnapshotVersion));
            }
            break;
        case TopKey::kMeta: read_meta(v); break;
        case TopKey::kUnclassified: _out.tally.restore_service(-1, read_stats(v, path)); break;
        case TopKey::kTotal: _out.tally.restore_total(read_stats(v, path)); break;
        case TopKey::kTableFullDrops: _out.tally.restore_table_full_drops(as_unsigned(v, path, kU64Max)); break;
        default: break;
        }
    }

    void read_entry(const json& v, std::size_t index) {
        const std::string path = element_path(std::string(kTopKeyNames[static_cast<std::size_t>(_key)]), index);
        switch (_key) {
        case TopKey::kServices: read_service(v, path); break;
        case TopKey::kActionLabels: read_action_label(v, path); break;
        case TopKey::kDomains: read_domain(v, path); break;
        case TopKey::kClients: read_client(v, path); break;
        case TopKey::kClientDomains: read_client_domain_group(v, path); break;
        case TopKey::kActions: read_action(v, path); break;
        case TopKey::kServerNames: read_server_name(v, path); break;
        case TopKey::kDeviceHints: read_device_hint(v, path); break;
        default: break;
        }
    }

    void read_meta(const json& v) {
        Fields f(v, "meta");
        _out.meta.saved_at_s = f.number("saved_at", kU64Max);
        _out.meta.started_at_s = f.number("started_at", kU64Max);
        _out.meta.version = f.string("wiretally_version");
        f.finish();
    }

    void read_service(const json& v, const std::string& path) {
        Fields f(v, path);
        const std::string& name = f.string("name");
        if (name.empty()) {
            fail(f.path_of("name"), "empty service name");
        }
        if (!_services.declare(name)) {
            fail(f.path_of("name"), fmt::format("service \"{}\" is listed twice", name));
        }
        const std::int32_t id = service_id(name, f.path_of("name"));
        const json* stats = f.optional("stats");
        _out.tally.restore_service(id, stats ? read_stats(*stats, f.path_of("stats")) : TransferStats{});
        f.finish();
    }

    void read_action_label(const json& v, const std::string& path) {
        const std::string& label = as_string(v, path);
        if (label.empty()) {
            fail(path, "empty action label");
        }
        if (!_actions.declare(label)) {
            fail(path, fmt::format("action \"{}\" is listed twice", label));
        }
        action_of(label, path);
    }

    std::int32_t service_id(const std::string& name, const std::string& path) {
        const std::size_t id = _services.id_of(name);
        if (id >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
            fail(path, "too many services");
        }
        return static_cast<std::int32_t>(id);
    }

    // Tallies carry actions as 16-bit 1-based indices.
    std::uint16_t action_of(const std::string& label, const std::string& path) {
        const std::size_t index = _actions.id_of(label);
        if (index >= kU16Max) {
            fail(path, fmt::format("more than {} action labels", kU16Max));
        }
        return static_cast<std::uint16_t>(index + 1);
    }

    std::int32_t service_of(Fields& f) {
        const json& v = f.required("service");
        if (v.is_null()) {
            return -1;
        }
        const std::string& name = as_string(v, f.path_of("service"));
        if (name.empty()) {
            fail(f.path_of("service"), "empty service name (null means unclassified)");
        }
        return service_id(name, f.path_of("service"));
    }

    void count_restored(bool restored) {
        if (!restored) {
            ++_out.entries_not_restored;
        }
    }

    void read_domain(const json& v, const std::string& path) {
        Fields f(v, path);
        DomainKey key{read_wire_name(f.required("name"), f.path_of("name"))};
        DomainTally tally;
        tally.service = service_of(f);
        if (const json* matched = f.optional("matched_by")) {
            tally.matched_by = read_wire_name(*matched, f.path_of("matched_by"));
        }
        if (const json* cnames = f.optional("cnames")) {
            if (!tally.cnames.assign_text(read_wire_bytes(*cnames, f.path_of("cnames")))) {
                fail(f.path_of("cnames"), "not a CNAME chain (names separated by one space, at most 511 characters)");
            }
        }
        if (const json* asn = f.optional("inferred_asn")) {
            tally.inferred_asn = static_cast<std::uint32_t>(as_unsigned(*asn, f.path_of("inferred_asn"), 0xffffffffu));
        }
        tally.stats = read_stats(f.required("stats"), f.path_of("stats"));
        f.finish();
        count_restored(_out.tally.restore_domain(key, tally));
    }

    void read_client(const json& v, const std::string& path) {
        Fields f(v, path);
        ClientServiceKey key;
        key.client = read_ip(f.required("ip"), f.path_of("ip"));
        key.service = service_of(f);
        ClientTally tally;
        if (const json* mac = f.optional("mac")) {
            const auto bytes = read_mac(*mac, f.path_of("mac"));
            std::copy(bytes.begin(), bytes.end(), std::begin(tally.mac));
            tally.has_mac = true;
        }
        tally.stats = read_stats(f.required("stats"), f.path_of("stats"));
        f.finish();
        count_restored(_out.tally.restore_client(key, tally));
    }

    void read_client_domain_group(const json& v, const std::string& path) {
        Fields f(v, path);
        const json* domain = f.optional("domain");
        const json* raw_hash = f.optional("domain_hash");
        if ((domain == nullptr) == (raw_hash == nullptr)) {
            fail(path, "needs exactly one of \"domain\" and \"domain_hash\"");
        }
        const std::uint64_t hash = domain != nullptr
                                       ? DomainKeyHash{}(DomainKey{read_wire_name(*domain, f.path_of("domain"))})
                                       : as_unsigned(*raw_hash, f.path_of("domain_hash"), kU64Max);
        const std::string clients_path = f.path_of("clients");
        const json& clients = f.array("clients");
        f.finish();
        for (std::size_t c = 0; c < clients.size(); ++c) {
            const IpAddr ip = read_ip(clients[c], element_path(clients_path, c));
            count_restored(_out.tally.restore_client_domain(ClientDomainKey{ip, hash}));
        }
    }

    void read_action(const json& v, const std::string& path) {
        Fields f(v, path);
        const std::string& label = f.string("action");
        if (label.empty()) {
            fail(f.path_of("action"), "empty action label");
        }
        ActionDomainKey key;
        key.action = action_of(label, f.path_of("action"));
        if (const json& domain = f.required("domain"); !domain.is_null()) {
            key.name = read_wire_name(domain, f.path_of("domain"));
        } else {
            const json* server = f.optional("server");
            if (server == nullptr) {
                fail(path, "an entry without a domain needs its \"server\"");
            }
            key.server = read_ip(*server, f.path_of("server"));
        }
        ActionDomainTally tally;
        tally.service = service_of(f);
        if (const json* stats = f.optional("stats")) {
            tally.stats = read_stats(*stats, f.path_of("stats"));
            tally.connections_reused = static_cast<std::uint32_t>(f.number("connections_reused", 0xffffffffu));
            tally.dns_lookups = static_cast<std::uint32_t>(f.number("dns_lookups", 0xffffffffu));
            tally.dns_failed = static_cast<std::uint32_t>(f.number("dns_failed", tally.dns_lookups));
            tally.dns_failed_rcode = static_cast<std::uint8_t>(f.number("dns_failed_rcode", 15));
            if (const json& from = f.required("reused_from"); !from.is_null()) {
                const std::string& text = as_string(from, f.path_of("reused_from"));
                tally.reused_from = text.empty() ? 0 : action_of(text, f.path_of("reused_from"));
            }
        } else {
            // Snapshots from before issue #15 kept a connection count and bytes per action.
            tally.stats.connections = f.number("connections", kU64Max);
            tally.stats.bytes_up = f.number("bytes_up", kU64Max);
            tally.stats.bytes_down = f.number("bytes_down", kU64Max);
        }
        f.finish();
        count_restored(_out.tally.restore_action(key, tally));
    }

    void read_device_hint(const json& v, const std::string& path) {
        Fields f(v, path);
        DeviceHintKey key;
        key.mac = read_mac(f.required("mac"), f.path_of("mac"));
        DeviceHint hint;
        const std::string addresses_path = f.path_of("addresses");
        const json& addresses = f.array("addresses");
        if (addresses.size() > DeviceHint::kMaxAddresses) {
            fail(addresses_path, fmt::format("more than {} addresses", DeviceHint::kMaxAddresses));
        }
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            hint.add_address(read_ip(addresses[i], element_path(addresses_path, i)));
        }
        const std::string sources_path = f.path_of("sources");
        const json& sources = f.array("sources");
        for (std::size_t i = 0; i < sources.size(); ++i) {
            const std::string& text = as_string(sources[i], element_path(sources_path, i));
            std::uint8_t bit = 0;
            for (const auto& [source, name] : pipeline::kDeviceHintSources) {
                bit = text == name ? static_cast<std::uint8_t>(source) : bit;
            }
            if (bit == 0) {
                fail(element_path(sources_path, i), fmt::format("unknown source \"{}\" (dhcp, arp, nd)", text.substr(0, 32)));
            }
            hint.sources |= bit;
        }
        for (const auto& [name, field] : {std::pair{"host_name", &hint.host_name}, std::pair{"vendor_class", &hint.vendor_class}}) {
            if (const json& value = f.required(name); !value.is_null()) {
                const std::string& text = as_string(value, f.path_of(name));
                if (text.size() > field->capacity()) {
                    fail(f.path_of(name), fmt::format("longer than {} characters", field->capacity()));
                }
                field->assign(text);
            }
        }
        f.finish();
        count_restored(_out.tally.restore_device_hint(key, hint));
    }

    void read_server_name(const json& v, const std::string& path) {
        Fields f(v, path);
        const IpAddr server = read_ip(f.required("server"), f.path_of("server"));
        if (server.version == 0) {
            fail(f.path_of("server"), "a server needs an address");
        }
        ServerNameTally tally;
        if (const json& name = f.required("name"); !name.is_null()) {
            tally.name = read_wire_name(name, f.path_of("name"));
        }
        tally.service = service_of(f);
        const std::string sources_path = f.path_of("sources");
        const json& sources = f.array("sources");
        for (std::size_t i = 0; i < sources.size(); ++i) {
            const std::string& text = as_string(sources[i], element_path(sources_path, i));
            unsigned found = 0;
            for (unsigned s = 1; s < static_cast<unsigned>(pipeline::NameSource::kCount); ++s) {
                if (text == pipeline::to_string(static_cast<pipeline::NameSource>(s))) {
                    found = s;
                }
            }
            if (found == 0) {
                fail(element_path(sources_path, i), fmt::format("unknown name source \"{}\"", text));
            }
            tally.name_sources |= static_cast<std::uint8_t>(1u << found);
        }
        tally.stats = read_stats(f.required("stats"), f.path_of("stats"));
        f.finish();
        count_restored(_out.tally.restore_server_name(server, tally));
    }

    SnapshotContent& _out;
    NameIndex _services;
    NameIndex _actions;
    std::array<bool, static_cast<std::size_t>(TopKey::kCount)> _seen{};
    TopKey _key = TopKey::kCount;
    bool _in_entry_array = false;
    std::size_t _entry_index = 0;
};

void reset(SnapshotContent& out) {
    out.meta = SnapshotMeta{};
    out.service_names.clear();
    out.action_labels.clear();
    out.tally.clear();
    out.tally.resize_services(0);
    out.entries_not_restored = 0;
}

// "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> "line 1, column 5: ...".
std::string_view parse_error_detail(std::string_view what) {
    static constexpr std::string_view kAt = "parse error at ";
    if (const auto at = what.find(kAt); at != std::string_view::npos) {
        return what.substr(at + kAt.size());
    }
    return what;
}

} // namespace

LoadStatus parse_snapshot(std::string_view text, std::string_view origin, SnapshotContent& out, std::string& error) {
    reset(out);
    try {
        DocumentReader reader(out);
        const json::parser_callback_t callback = [&reader](int depth, json::parse_event_t event, json& parsed) {
            return reader.on_event(depth, event, parsed);
        };
        [[maybe_unused]] const json emptied = json::parse(text.begin(), text.end(), callback);
        reader.finish();
        return LoadStatus::kLoaded;
    } catch (const json::parse_error& e) {
        error = fmt::format("{}: invalid JSON at byte {}, {}", origin, e.byte, parse_error_detail(e.what()));
    } catch (const FormatError& e) {
        error = fmt::format("{}: {}", origin, e.what());
    } catch (const std::exception& e) {
        error = fmt::format("{}: {}", origin, e.what());
    }
    reset(out);
    return LoadStatus::kError;
}

LoadStatus load_snapshot(const std::string& path, SnapshotContent& out, std::string& error) {
    reset(out);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        error = fmt::format("{}: {}", path, errno_text(err));
        return err == ENOENT ? LoadStatus::kMissing : LoadStatus::kError;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        error = fmt::format("{}: {}", path, S_ISDIR(st.st_mode) ? "is a directory, not a snapshot file"
                                                                  : errno_text(err));
        return LoadStatus::kError;
    }
    if (static_cast<std::uint64_t>(st.st_size) > kMaxSnapshotBytes) {
        ::close(fd);
        error = fmt::format("{}: {} bytes, larger than any snapshot ({} at most)", path, st.st_size, kMaxSnapshotBytes);
        return LoadStatus::kError;
    }
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            error = fmt::format("{}: read failed: {}", path, errno_text(err));
            return LoadStatus::kError;
        }
        if (n == 0) {
            break; // shrank while reading: parse what is there, the parser will object
        }
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    return parse_snapshot(text, path, out, error);
}

} // namespace wt::app::state
