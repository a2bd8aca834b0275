#include "app/export/fleet_query.hpp"

#include "app/exit_codes.hpp"
#include "app/export/clickhouse_schema.hpp"

#include "app/export/http_client.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace wt::app::clickhouse {

namespace {

using nlohmann::json;

const std::vector<std::string> kViews = {"services", "domains", "clients", "servers", "actions", "devices"};

std::string sql_string(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out + "'";
}

// ClickHouse writes 64-bit integers in JSON as strings (output_format_json_quote_64bit_integers).
std::uint64_t u64(const json& v) {
    if (v.is_number_unsigned() || v.is_number_integer()) {
        return v.get<std::uint64_t>();
    }
    if (v.is_string()) {
        return std::strtoull(v.get<std::string>().c_str(), nullptr, 10);
    }
    return 0;
}

std::string text(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

// A column of a row the store answered, or null: an answer of another shape (a proxy's page, a server that
// changed) reads as empty values, never out of bounds.
const json& at(const json& row, const char* key) {
    static const json kNull;
    if (!row.is_object()) {
        return kNull;
    }
    const auto it = row.find(key);
    return it == row.end() ? kNull : *it;
}
const json& element(const json& array, std::size_t i) {
    static const json kNull;
    return array.is_array() && i < array.size() ? array[i] : kNull;
}
std::size_t length(const json& array) { return array.is_array() ? array.size() : 0; }

// Each item of the comma-separated texts a groupUniqArray gave (server rows' name_sources, device rows'
// addresses).
template <typename Fn>
void for_each_listed(const json& texts, Fn&& fn) {
    for (const json& t : texts) {
        const std::string list = text(t);
        for (std::size_t start = 0; start < list.size();) {
            const std::size_t comma = std::min(list.find(',', start), list.size());
            fn(std::string_view(list).substr(start, comma - start));
            start = comma + 1;
        }
    }
}

pipeline::IpAddr parse_ip(const std::string& s) {
    pipeline::IpAddr ip;
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
        ip.version = 4;
    } else if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
        ip.version = 6;
    }
    return ip;
}

// The sums a row of any kind reads into a TransferStats: every count of WT_TRANSFER_COUNTS, the histograms.
std::string stats_columns() {
    std::string out;
    pipeline::TransferStats{}.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view,
                                                 std::uint64_t) { out += fmt::format("sum({0}) AS {0}, ", name); });
    out += "sumForEach(tls_versions) AS tls_versions, sumForEach(alpns) AS alpns, "
           "sumMap(cipher_ids, cipher_counts) AS ciphers, sum(cipher_other) AS cipher_other, "
           "sum(connections_reused) AS connections_reused, sum(dns_lookups) AS dns_lookups, "
           "sum(dns_failed) AS dns_failed, toUInt32(min(interval_start)) AS first_s, "
           "toUInt32(max(interval_end)) AS last_s";
    return out;
}

pipeline::TransferStats read_stats(const json& row) {
    pipeline::TransferStats s;
    s.for_each_count_field([&](std::string_view name, auto& field) {
        field = static_cast<std::remove_reference_t<decltype(field)>>(u64(at(row, std::string(name).c_str())));
    });
    const json& versions = at(row, "tls_versions");
    for (std::size_t i = 0; i < s.tls_versions.size() && i < length(versions); ++i) {
        s.tls_versions[i] = static_cast<std::uint32_t>(u64(element(versions, i)));
    }
    const json& alpns = at(row, "alpns");
    for (std::size_t i = 0; i < s.alpns.size() && i < length(alpns); ++i) {
        s.alpns[i] = static_cast<std::uint32_t>(u64(element(alpns, i)));
    }
    const json& ciphers = at(row, "ciphers"); // ([ids], [counts])
    const json& ids = element(ciphers, 0);
    const json& counts = element(ciphers, 1);
    for (std::size_t i = 0; i < length(ids) && i < length(counts); ++i) {
        s.add_cipher(static_cast<std::uint16_t>(u64(element(ids, i))), static_cast<std::uint32_t>(u64(element(counts, i))));
    }
    s.cipher_other += static_cast<std::uint32_t>(u64(at(row, "cipher_other")));
    s.first_ns = u64(at(row, "first_s")) * 1'000'000'000ull;
    s.last_ns = u64(at(row, "last_s")) * 1'000'000'000ull;
    return s;
}

class Store {
public:
    Store(const QueryOptions& o, std::string password) : _o(o), _password(std::move(password)) {}

    // The rows of `sql FORMAT JSONEachRow`; false with `error`.
    bool rows(const std::string& sql, std::vector<json>& out, std::string& error) const {
        const auto res = http_client::client_for(_o.url, _o.timeout, _o.user, _password)
                             ->Post("/?database=" + _o.database, sql + " FORMAT JSONEachRow", "text/plain");
        if (!res || res->status != 200) {
            error = fmt::format("{}: {}", _o.url, http_client::failure_text(res));
            return false;
        }
        std::size_t start = 0;
        const std::string& body = res->body;
        while (start < body.size()) {
            std::size_t end = body.find('\n', start);
            if (end == std::string::npos) {
                end = body.size();
            }
            if (end > start) {
                json row = json::parse(body.begin() + static_cast<std::ptrdiff_t>(start),
                                       body.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
                if (row.is_discarded()) {
                    error = fmt::format("{}: an answer that is not JSON", _o.url);
                    return false;
                }
                out.push_back(std::move(row));
            }
            start = end + 1;
        }
        return true;
    }

    // FROM ... FINAL WHERE kind = ... and the time, site and appliance asked for.
    [[nodiscard]] std::string from(std::string_view kind) const {
        const auto now = static_cast<std::uint64_t>(std::time(nullptr));
        const auto since = static_cast<std::uint64_t>(_o.since.count());
        const std::uint64_t cutoff = since < now ? now - since : 0;
        std::string where = fmt::format("kind = {} AND interval_start >= toDateTime({})", sql_string(kind), cutoff);
        if (!_o.site.empty()) {
            where += " AND site = " + sql_string(_o.site);
        }
        if (!_o.appliance.empty()) {
            where += " AND appliance = " + sql_string(_o.appliance);
        }
        return fmt::format(" FROM {} FINAL WHERE {} ", insert_target(_o.database, Table::kIntervals), where);
    }

private:
    const QueryOptions& _o;
    std::string _password;
};

// The report's service index of a name (services are numbered as the store names them).
std::int32_t service_index(Report& r, std::map<std::string, std::int32_t>& ids, const json& name) {
    if (!name.is_string()) {
        return -1;
    }
    const std::string s = name.get<std::string>();
    const auto [it, added] = ids.emplace(s, static_cast<std::int32_t>(r.services.size()));
    if (added) {
        r.services.push_back(s);
        r.categories.emplace_back();
    }
    return it->second;
}

} // namespace

const std::vector<std::string>& query_views() { return kViews; }

bool fleet_report(const QueryOptions& o, const std::string& password, Report& r, std::string& error) {
    const Store store(o, password);
    const std::string stats = stats_columns();
    std::map<std::string, std::int32_t> ids;
    std::vector<json> rows;

    // Who is in the answer, and when: the header.
    if (!store.rows("SELECT groupUniqArray(appliance) AS appliances, groupUniqArray(site) AS sites, "
                    "toUInt32(min(interval_start)) AS first_s, toUInt32(max(interval_end)) AS last_s, "
                    "sum(pkts_up + pkts_down) AS packets" + store.from(kKindService),
                    rows, error)) {
        return false;
    }
    std::vector<std::string> appliances;
    std::vector<std::string> sites;
    if (!rows.empty()) {
        for (const json& a : at(rows[0], "appliances")) {
            appliances.push_back(text(a));
        }
        for (const json& s : at(rows[0], "sites")) {
            if (!text(s).empty()) {
                sites.push_back(text(s));
            }
        }
        r.input.first_ns = u64(at(rows[0], "first_s")) * 1'000'000'000ull;
        r.input.last_ns = u64(at(rows[0], "last_s")) * 1'000'000'000ull;
        r.input.records = u64(at(rows[0], "packets"));
    }
    std::sort(appliances.begin(), appliances.end());
    std::sort(sites.begin(), sites.end());
    // One line that is not cut: a long fleet is named by its first appliances and sites and counted.
    const auto some = [](const std::vector<std::string>& names) {
        constexpr std::size_t kNamed = 3;
        std::vector<std::string> shown(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(kNamed, names.size())));
        std::string out = fmt::format("{}", fmt::join(shown, ", "));
        if (names.size() > kNamed) {
            out += fmt::format(" and {} more", names.size() - kNamed);
        }
        return out;
    };
    r.input.file = fmt::format("fleet: {} appliance{} ({}){}", appliances.size(), appliances.size() == 1 ? "" : "s",
                               some(appliances),
                               sites.empty() ? std::string() : fmt::format(", site{} {}", sites.size() == 1 ? "" : "s", some(sites)));
    r.input.format = "fleet";
    r.services_origin = fmt::format("as each appliance named them; store {} {}", o.url, o.database);

    // Services, with their distinct clients.
    rows.clear();
    if (!store.rows("SELECT service, any(category) AS category, " + stats + store.from(kKindService) + "GROUP BY service",
                    rows, error)) {
        return false;
    }
    std::vector<std::pair<std::int32_t, pipeline::TransferStats>> services;
    for (const json& row : rows) {
        const std::int32_t s = service_index(r, ids, at(row, "service"));
        if (s >= 0) {
            r.categories[static_cast<std::size_t>(s)] = text(at(row, "category"));
        }
        services.emplace_back(s, read_stats(row));
    }
    std::vector<json> clients;
    if (!store.rows("SELECT service, uniqExact(address) AS clients" + store.from(kKindClient) + "GROUP BY service",
                    clients, error)) {
        return false;
    }
    std::vector<json> all_clients;
    if (!store.rows("SELECT uniqExact(address) AS clients" + store.from(kKindClient), all_clients, error)) {
        return false;
    }
    r.tally.services.resize(r.services.size() + 1);
    for (const auto& [s, st] : services) {
        r.tally.services[static_cast<std::size_t>(s + 1)].stats.merge(st);
        r.tally.total.stats.merge(st);
    }
    for (const json& row : clients) {
        const std::int32_t s = service_index(r, ids, at(row, "service"));
        if (static_cast<std::size_t>(s + 1) >= r.tally.services.size()) {
            r.tally.services.resize(static_cast<std::size_t>(s + 2));
        }
        r.tally.services[static_cast<std::size_t>(s + 1)].distinct_clients = u64(at(row, "clients"));
    }
    r.tally.total.distinct_clients = all_clients.empty() ? 0 : u64(at(all_clients[0], "clients"));

    const std::string& view = o.view;
    if (view == "domains") {
        rows.clear();
        if (!store.rows("SELECT name, argMax(service, interval_end) AS service, argMax(matched_by, interval_end) AS "
                        "matched_by, argMax(cnames, length(cnames)) AS cnames, max(asn) AS asn, " +
                            stats + store.from(kKindDomain) + "GROUP BY name",
                        rows, error)) {
            return false;
        }
        std::vector<json> pairs;
        if (!store.rows("SELECT name, uniqExact(address) AS clients" + store.from(kKindClientDomain) + "GROUP BY name",
                        pairs, error)) {
            return false;
        }
        std::map<std::string, std::uint64_t> clients_of;
        for (const json& p : pairs) {
            clients_of[text(at(p, "name"))] = u64(at(p, "clients"));
        }
        for (const json& row : rows) {
            pipeline::MergedDomain d;
            d.name = text(at(row, "name"));
            d.service = service_index(r, ids, at(row, "service"));
            d.matched_by = text(at(row, "matched_by"));
            d.cnames = text(at(row, "cnames"));
            d.inferred_asn = static_cast<std::uint32_t>(u64(at(row, "asn")));
            d.m.stats = read_stats(row);
            d.m.distinct_clients = clients_of[d.name];
            r.tally.domains.push_back(std::move(d));
        }
    } else if (view == "clients") {
        rows.clear();
        if (!store.rows("SELECT address, service, any(mac) AS mac, " + stats + store.from(kKindClient) +
                            "GROUP BY address, service",
                        rows, error)) {
            return false;
        }
        for (const json& row : rows) {
            pipeline::MergedClient c;
            c.client = parse_ip(text(at(row, "address")));
            c.service = service_index(r, ids, at(row, "service"));
            if (const auto mac = parse_mac(text(at(row, "mac")))) {
                std::copy(mac->begin(), mac->end(), c.mac);
                c.has_mac = true;
            }
            c.stats = read_stats(row);
            r.tally.clients.push_back(c);
        }
    } else if (view == "servers") {
        rows.clear();
        if (!store.rows("SELECT address, name, argMax(service, interval_end) AS service, "
                        "groupUniqArray(name_sources) AS sources, any(asn) AS asn, any(as_org) AS as_org, "
                        "any(country) AS country, " +
                            stats + store.from(kKindServer) + "GROUP BY address, name ORDER BY address",
                        rows, error)) {
            return false;
        }
        std::map<std::string, std::size_t> index;
        for (const json& row : rows) {
            const std::string address = text(at(row, "address"));
            auto [it, added] = index.emplace(address, r.tally.servers.size());
            if (added) {
                pipeline::MergedServer s;
                s.address = parse_ip(address);
                r.tally.servers.push_back(std::move(s));
                Hosting h;
                if (!at(row, "asn").is_null()) {
                    h.asn = static_cast<std::uint32_t>(u64(at(row, "asn")));
                }
                h.as_org = text(at(row, "as_org"));
                h.country = text(at(row, "country"));
                r.server_hosting.push_back(std::move(h));
            }
            pipeline::MergedServer& server = r.tally.servers[it->second];
            pipeline::MergedServerName n;
            n.name = text(at(row, "name"));
            n.service = service_index(r, ids, at(row, "service"));
            for_each_listed(at(row, "sources"), [&](std::string_view one) {
                for (std::size_t k = 0; k < static_cast<std::size_t>(pipeline::NameSource::kCount); ++k) {
                    if (pipeline::to_string(static_cast<pipeline::NameSource>(k)) == one) {
                        n.name_sources |= static_cast<std::uint8_t>(1u << k);
                    }
                }
            });
            n.stats = read_stats(row);
            server.stats.merge(n.stats);
            server.names.push_back(std::move(n));
        }
        for (pipeline::MergedServer& s : r.tally.servers) {
            std::sort(s.names.begin(), s.names.end(), [](const auto& a, const auto& b) {
                return total_bytes(a.stats) != total_bytes(b.stats) ? total_bytes(a.stats) > total_bytes(b.stats)
                                                                    : a.name < b.name;
            });
        }
        if (r.server_hosting.empty()) {
            r.server_hosting.clear();
        }
    } else if (view == "actions") {
        rows.clear();
        if (!store.rows("SELECT action, name, address, argMax(service, interval_end) AS service, " + stats +
                            store.from(kKindAction) + "GROUP BY action, name, address ORDER BY first_s, action",
                        rows, error)) {
            return false;
        }
        std::map<std::string, std::uint16_t> labels;
        for (const json& row : rows) {
            const std::string label = text(at(row, "action"));
            auto [it, added] = labels.emplace(label, static_cast<std::uint16_t>(r.actions.size() + 1));
            if (added) {
                r.actions.push_back(label);
            }
            pipeline::MergedActionDomain a;
            a.action = it->second;
            a.name = text(at(row, "name"));
            if (a.name.empty()) {
                a.server = parse_ip(text(at(row, "address")));
            }
            a.service = service_index(r, ids, at(row, "service"));
            a.connections_reused = static_cast<std::uint32_t>(u64(at(row, "connections_reused")));
            a.dns_lookups = static_cast<std::uint32_t>(u64(at(row, "dns_lookups")));
            a.dns_failed = static_cast<std::uint32_t>(u64(at(row, "dns_failed")));
            a.stats = read_stats(row);
            r.tally.actions.push_back(std::move(a));
        }
    } else if (view == "devices") {
        rows.clear();
        if (!store.rows("SELECT if(mac IS NULL, address, mac) AS device, any(mac) AS device_mac, "
                        "groupUniqArray(address) AS addresses, argMax(host_name, interval_end) AS host_name, "
                        "any(vendor) AS vendor, " +
                            stats + store.from(kKindDevice) + "GROUP BY device",
                        rows, error)) {
            return false;
        }
        // Each device's services, by connections (its clients' rows: a device is its MAC, else its address).
        std::vector<json> uses;
        if (!store.rows("SELECT if(mac IS NULL, address, mac) AS device, service, sum(connections) AS connections" +
                            store.from(kKindClient) + "GROUP BY device, service ORDER BY connections DESC",
                        uses, error)) {
            return false;
        }
        std::map<std::string, std::vector<std::int32_t>> services_of;
        for (const json& use : uses) {
            services_of[text(at(use, "device"))].push_back(service_index(r, ids, at(use, "service")));
        }
        for (const json& row : rows) {
            Device d;
            if (const auto mac = parse_mac(text(at(row, "device_mac")))) {
                d.mac = *mac;
                d.has_mac = true;
                d.randomized = OuiRegistry::locally_administered(d.mac);
            }
            d.services = services_of[text(at(row, "device"))];
            std::set<std::string> addresses;
            for_each_listed(at(row, "addresses"), [&](std::string_view a) { addresses.emplace(a); });
            for (const std::string& a : addresses) {
                d.addresses.push_back(parse_ip(a));
            }
            d.host_name = text(at(row, "host_name"));
            d.vendor = text(at(row, "vendor"));
            d.stats = read_stats(row);
            r.devices.push_back(std::move(d));
        }
        std::sort(r.devices.begin(), r.devices.end(),
                  [](const Device& a, const Device& b) { return total_bytes(a.stats) > total_bytes(b.stats); });
    }
    return true;
}

int run_query(const QueryOptions& o) {
    std::string password;
    std::string error;
    if (!o.password_file.empty() && !http_client::read_password_file(o.password_file, password, error)) {
        fmt::print(stderr, "wiretally: query: {}\n", error);
        return kExitNoInput;
    }
    Report r;
    if (!fleet_report(o, password, r, error)) {
        fmt::print(stderr, "wiretally: query: {}\n", error);
        return kExitUnavailable;
    }
    struct Section {
        unsigned sections;
        const char* key;
    };
    const std::map<std::string, Section> sections = {
        {"services", {kSectionHeader | kSectionServices | kSectionTls, "services"}},
        {"domains", {kSectionDomains, "domains"}},
        {"clients", {kSectionClients, "clients"}},
        {"servers", {kSectionServers, "servers"}},
        {"actions", {kSectionActions, "actions"}},
        {"devices", {kSectionDevices, "devices"}},
    };
    const Section& s = sections.at(o.view);
    if (!o.json) {
        TableOptions opt;
        opt.sections = s.sections;
        opt.top_domains = o.top;
        opt.top_clients = o.top;
        opt.top_servers = o.top;
        fmt::print("{}", render_table_text(r, opt));
        return kExitOk;
    }
    const json full = report_to_json(r);
    json out = {{s.key, full[s.key]}, {"input", full["input"]}};
    if (o.view == "services") {
        out["total"] = full["total"];
    }
    fmt::print("{}\n", out.dump(2, ' ', false, json::error_handler_t::replace));
    return kExitOk;
}

} // namespace wt::app::clickhouse
