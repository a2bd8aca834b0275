// The aligned tables of a report (TableSection), offline and for the live `ctl` views.
#include "app/report/format.hpp"
#include "app/report/names.hpp"
#include "app/report/report.hpp"

#include <algorithm>
#include <cstdlib>
#include <array>
#include <span>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wt::app {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

namespace {

// The widths of the name columns, computed once for all the tables of a rendering. Every table
// fits TableOptions::width (100). Names keep their natural width up to a cap and are clipped on
// the right beyond it (never cut from the left); the SERVICE column is as wide as the longest
// service shown, or as the narrowest room any table leaves it, and the same in every table, so
// that one service reads the same everywhere.
struct TableLayout {
    std::size_t service = 0;
    std::size_t domain = 0;       // domains table
    std::size_t client = 0;       // clients table (address and MAC)
};

constexpr std::size_t kNameCap = 41;      // a domain or client column: 40 characters and a space
constexpr std::size_t kServiceMin = 12;   // "Public DNS~" at the narrowest
constexpr std::size_t kServiceTableFixed = 74, kDomainTableFixed = 37, kClientTableFixed = 29;

TableLayout layout_of(const Report& r, const TableOptions& opt) {
    TableLayout l;
    const auto domains = domains_by_size(r);
    const std::span<const pipeline::MergedDomain* const> domain_rows(domains.data(),
                                                                     std::min(domains.size(), opt.top_domains));
    l.domain = column_width(domain_rows, [](const auto* d) { return d->name; }, 7, kNameCap);
    const auto clients = clients_by_size(r);
    const std::span<const pipeline::MergedClient* const> client_rows(clients.data(),
                                                                     std::min(clients.size(), opt.top_clients));
    l.client = column_width(client_rows, [](const auto* c) { return client_text(*c); }, 7, kNameCap);

    std::size_t want = std::string_view("(unclassified)").size() + 1;
    for (std::size_t i = 1; i < r.tally.services.size(); ++i) {
        if (r.tally.services[i].stats.connections != 0) {
            want = std::max(want, service_label(r, static_cast<std::int32_t>(i - 1)).size() + 1);
        }
    }
    std::size_t room = opt.width - kServiceTableFixed;
    const auto leaves = [&](std::size_t used) { return used < opt.width ? opt.width - used : 0; };
    room = std::min(room, leaves(kDomainTableFixed + l.domain));
    room = std::min(room, leaves(kClientTableFixed + l.client));
    l.service = std::max(kServiceMin, std::min(want, room));
    return l;
}

void render_services_section(const Report& r, std::FILE* out, const TableLayout& l);
void render_domains_section(const Report& r, std::FILE* out, std::size_t top_domains, const TableLayout& l);
void render_clients_section(const Report& r, std::FILE* out, std::size_t top_clients, const TableLayout& l);
void render_actions_section(const Report& r, std::FILE* out, std::size_t top_rows);
void render_servers_section(const Report& r, std::FILE* out, std::size_t top_servers, std::size_t width);
void render_devices_section(const Report& r, std::FILE* out, std::size_t width, const std::string& device);
void render_tls_section(const TransferStats& tot, std::FILE* out);
void render_counters_section(const Report& r, std::FILE* out);

} // namespace

void render_table(const Report& r, std::FILE* out, const TableOptions& opt) {
    const double duration = r.input.last_ns > r.input.first_ns
                                ? static_cast<double>(r.input.last_ns - r.input.first_ns) / 1e9
                                : 0.0;
    const TransferStats& tot = r.tally.total.stats;
    if (opt.sections & kSectionHeader) {
        // A long path keeps its end (the file's name) and the table its width.
        const std::string_view file = r.input.file;
        if (file.size() <= opt.width) {
            fmt::print(out, "{}\n", file);
        } else {
            fmt::print(out, "~{}\n", file.substr(file.size() - (opt.width - 1)));
        }
        fmt::print(out, "{}, {} packets, {:.1f} s", r.input.format, r.input.records, duration);
        if (r.input.records != 0) {
            fmt::print(out, ", from {} UTC", utc_time(r.input.first_ns));
        }
        fmt::print(out, "\n");
        if (!r.input.marks.empty()) {
            fmt::print(out, "actions from {}\n", r.input.marks);
        }
        // Devices, where they are known (a phone's IPv4 and IPv6 addresses are one), then client addresses.
        std::size_t device_addresses = 0;
        for (const Device& d : r.devices) {
            device_addresses += d.addresses.size();
        }
        const std::string who = r.devices.empty()
                                    ? fmt::format("clients {}", r.tally.total.distinct_clients)
                                    : fmt::format("devices {} ({} addresses)", r.devices.size(), device_addresses);
        fmt::print(out, "flows {}  {}  bytes up {}  down {}  services: {}\n\n", tot.connections, who,
                   human_bytes(tot.bytes_up), human_bytes(tot.bytes_down), r.services_origin);
    }
    const TableLayout layout = layout_of(r, opt);
    if (opt.sections & kSectionServices) {
        render_services_section(r, out, layout);
    }
    if (opt.sections & kSectionDomains) {
        render_domains_section(r, out, opt.top_domains, layout);
    }
    if (opt.sections & kSectionServers) {
        render_servers_section(r, out, opt.top_servers, opt.width);
    }
    if (opt.sections & kSectionDevices) {
        render_devices_section(r, out, opt.width, opt.device);
    }
    if (opt.sections & kSectionClients) {
        render_clients_section(r, out, opt.top_clients, layout);
    }
    if (opt.sections & kSectionActions) {
        render_actions_section(r, out, opt.top_domains);
    }
    if (opt.sections & kSectionTls) {
        render_tls_section(tot, out);
    }
    if (opt.sections & kSectionEncryptedDns) {
        fmt::print(out, "\nEncrypted DNS\n");
        for (const std::string& sentence : encrypted_dns_view(r).summary) {
            for (const std::string& line : wrap_words(sentence, opt.width - 2, 2)) {
                fmt::print(out, "  {}\n", line);
            }
        }
    }
    if (opt.sections & kSectionCounters) {
        render_counters_section(r, out);
    }
}

namespace {

void render_services_section(const Report& r, std::FILE* out, const TableLayout& l) {
    // CONNS counts every flow named after the service, its DNS lookups included (column DNS).
    // SERVICE(w) CONNS(7) CLIENTS(8) UP(11) DOWN(11) TLS1.3(7) TLS1.2(7) QUIC(5) DNS(5) ECH(4) DoT(4) HTTP(5) = w + 74
    const std::size_t w = l.service;
    fmt::print(out, "{:<{}}{:>7}{:>8}{:>11}{:>11}{:>7}{:>7}{:>5}{:>5}{:>4}{:>4}{:>5}\n", "SERVICE", w, "CONNS",
               "CLIENTS", "BYTES UP", "BYTES DOWN", "TLS1.3", "TLS1.2", "QUIC", "DNS", "ECH", "DoT", "HTTP");
    for (std::int32_t s : services_by_size(r)) {
        const MergedStats& m = r.tally.services[static_cast<std::size_t>(s + 1)];
        const TransferStats& t = m.stats;
        fmt::print(out, "{:<{}}{:>7}{:>8}{:>11}{:>11}{:>7}{:>7}{:>5}{:>5}{:>4}{:>4}{:>5}\n",
                   clip(service_label(r, s), w - 1), w, t.connections, m.distinct_clients, human_bytes(t.bytes_up),
                   human_bytes(t.bytes_down), t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls13)],
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls12)], t.quic, t.dns,
                   t.ech_real, t.dot, t.cleartext_http);
    }
}

void render_domains_section(const Report& r, std::FILE* out, std::size_t top_domains, const TableLayout& l) {
    const auto domains = domains_by_size(r);
    if (!domains.empty()) {
        // DOMAIN(n) SERVICE(w) CONNS(7) UP(11) DOWN(11) CLIENTS(8)
        const std::size_t n = l.domain;
        const std::size_t w = l.service;
        fmt::print(out, "\n{:<{}}{:<{}}{:>7}{:>11}{:>11}{:>8}\n", "DOMAIN", n, "SERVICE", w, "CONNS", "BYTES UP",
                   "BYTES DOWN", "CLIENTS");
        std::size_t shown = 0;
        for (const auto* d : domains) {
            if (shown++ == top_domains) {
                fmt::print(out, "... {} more domains (the JSON output lists them all)\n", domains.size() - top_domains);
                break;
            }
            // A service matched through the name's CNAME chain is marked "<" (the JSON names the CNAME),
            // one inferred from who hosts the address "*" (the JSON gives the AS; "~" ends a name cut at the right).
            const std::string service = service_label(r, d->service) + (!d->matched_by.empty() ? " <"
                                                                         : d->inferred_asn != 0 ? " *"
                                                                                                : "");
            fmt::print(out, "{:<{}}{:<{}}{:>7}{:>11}{:>11}{:>8}\n", clip(d->name, n - 1), n,
                       clip(service, w - 1), w,
                       d->m.stats.connections, human_bytes(d->m.stats.bytes_up), human_bytes(d->m.stats.bytes_down),
                       d->m.distinct_clients);
            // Where the name led in DNS, whole names (RFC 1034 section 3.6.2), on a line of its own.
            if (!d->cnames.empty()) {
                std::string chain;
                for (const std::string& c : pipeline::cname_chain_names(d->cnames)) {
                    chain += " -> " + c;
                }
                fmt::print(out, "  CNAME{}\n", chain);
            }
        }
        if (std::any_of(domains.begin(), domains.end(), [](const auto* d) { return !d->matched_by.empty(); })) {
            fmt::print(out, "< the service matched a name in the domain's CNAME chain (JSON: matched_by)\n");
        }
        if (std::any_of(domains.begin(), domains.end(), [](const auto* d) { return d->inferred_asn != 0; })) {
            fmt::print(out, "* no pattern names the domain: the service was inferred from the AS that hosts its "
                            "server (JSON: inferred_asn)\n");
        }
    }
}

void render_clients_section(const Report& r, std::FILE* out, std::size_t top_clients, const TableLayout& l) {
    const auto rows = clients_by_size(r);
    // CLIENT and MAC(n) SERVICE(w) CONNS(7) UP(11) DOWN(11)
    const std::size_t n = l.client;
    const std::size_t w = l.service;
    fmt::print(out, "\n{:<{}}{:<{}}{:>7}{:>11}{:>11}\n", "CLIENT", n, "SERVICE", w, "CONNS", "BYTES UP", "BYTES DOWN");
    std::size_t shown = 0;
    for (const auto* c : rows) {
        if (shown++ == top_clients) {
            fmt::print(out, "... {} more (client, service) rows (the JSON output lists them all)\n", rows.size() - top_clients);
            break;
        }
        fmt::print(out, "{:<{}}{:<{}}{:>7}{:>11}{:>11}\n", clip(client_text(*c), n - 1), n,
                   clip(service_label(r, c->service), w - 1), w,
                   c->stats.connections, human_bytes(c->stats.bytes_up), human_bytes(c->stats.bytes_down));
    }
}

// A row per server address, then the names it was used by on the lines below it, whole
// (wrapped between names, never cut), so names behind one load balancer read together.
// One row per device (its MAC, vendor, flows, bytes), then its addresses and its services, wrapped.
// device: one device's MAC (mac_text form), shown alone with the domains it talked to; "" for all.
void render_devices_section(const Report& r, std::FILE* out, std::size_t width, const std::string& device) {
    if (r.devices.empty()) {
        return;
    }
    // DEVICE(18) VENDOR(rest) FLOWS(7) UP(11) DOWN(11)
    const std::size_t fixed = 18 + 7 + 11 + 11;
    const std::size_t vendor_width = width > fixed + 12 ? width - fixed : 12;
    fmt::print(out, "\n{:<18}{:<{}}{:>7}{:>11}{:>11}\n", "DEVICE", "VENDOR", vendor_width, "FLOWS", "BYTES UP",
               "BYTES DOWN");
    const auto wrapped = [&](std::string_view head, const std::vector<std::string>& items) {
        std::string line = std::string(head);
        for (const std::string& item : items) {
            if (line.size() > head.size() && line.size() + 2 + item.size() > width) {
                fmt::print(out, "{}\n", line);
                line = std::string(head.size(), ' ');
            }
            line += line.size() > head.size() && line.find_first_not_of(' ', head.size()) != std::string::npos
                        ? ", " + item
                        : item;
        }
        fmt::print(out, "{}\n", line);
    };
    for (const Device& d : r.devices) {
        if (!device.empty() && (!d.has_mac || mac_text(d.mac.data()) != device)) {
            continue;
        }
        const std::string vendor = d.randomized        ? "(randomised address)"
                                   : !d.vendor.empty() ? d.vendor
                                   : d.has_mac         ? "-"
                                                       : "(no MAC in the capture)";
        fmt::print(out, "{:<18}{:<{}}{:>7}{:>11}{:>11}\n", d.has_mac ? mac_text(d.mac.data()) : "-",
                   clip(vendor, vendor_width - 1), vendor_width, d.stats.connections, human_bytes(d.stats.bytes_up),
                   human_bytes(d.stats.bytes_down));
        std::vector<std::string> addresses;
        for (const auto& a : d.addresses) {
            addresses.push_back(ip_text(a));
        }
        wrapped("    addresses: ", addresses);
        if (!d.host_name.empty() || !d.dhcp_vendor_class.empty()) {
            fmt::print(out, "    DHCP: {}{}{}\n", d.host_name.empty() ? "(no host name)" : d.host_name,
                       d.dhcp_vendor_class.empty() ? "" : ", vendor class ", d.dhcp_vendor_class);
        }
        std::vector<std::string> services;
        for (const std::int32_t s : d.services) {
            if (s >= 0) { // as in the JSON: unclassified traffic is no service
                services.push_back(service_label(r, s));
            }
        }
        if (!services.empty()) {
            wrapped("    services: ", services);
        }
        if (!device.empty() && !d.domains.empty()) {
            wrapped("    domains: ", d.domains);
        }
    }
}

void render_servers_section(const Report& r, std::FILE* out, std::size_t top_servers, std::size_t width) {
    const auto rows = servers_by_size(r);
    if (rows.empty()) {
        return;
    }
    // SERVER(a) CONNS(7) UP(11) DOWN(11) ASN(8) CC(4) ORGANISATION(rest, at least 12)
    const std::size_t shown_rows = std::min(rows.size(), top_servers);
    const std::span<const std::size_t> shown(rows.data(), shown_rows);
    const std::size_t a = column_width(shown, [&r](std::size_t i) { return ip_text(r.tally.servers[i].address); }, 7, 40);
    const std::size_t fixed = a + 7 + 11 + 11 + 8 + 4;
    const std::size_t org = width > fixed + 12 ? width - fixed : 12;
    fmt::print(out, "\n{:<{}}{:>7}{:>11}{:>11}{:>8}  {:<2}  {}\n", "SERVER", a, "CONNS", "BYTES UP", "BYTES DOWN", "ASN",
               "CC", "ORGANISATION");
    for (const std::size_t i : shown) {
        const pipeline::MergedServer& s = r.tally.servers[i];
        const Hosting* h = i < r.server_hosting.size() ? &r.server_hosting[i] : nullptr;
        const std::string asn = h != nullptr && h->asn ? std::to_string(*h->asn) : "-";
        const std::string cc = h != nullptr && !h->country.empty() ? h->country : "-";
        const std::string_view scope = address_scope(s.address);
        const std::string as_org = h != nullptr && !h->as_org.empty() ? clip(h->as_org, org)
                                   : !scope.empty()                   ? fmt::format("({} address)", scope)
                                                                      : "-";
        fmt::print(out, "{:<{}}{:>7}{:>11}{:>11}{:>8}  {:<2}  {}\n", ip_text(s.address), a, s.stats.connections,
                   human_bytes(s.stats.bytes_up), human_bytes(s.stats.bytes_down), asn, cc, as_org);
        std::string line = "    ";
        for (const std::string& name : server_name_labels(s)) {
            if (line.size() > 4 && line.size() + 2 + name.size() > width) {
                fmt::print(out, "{}\n", line);
                line = "    ";
            }
            line += line.size() > 4 ? ", " + name : name;
        }
        if (line.size() > 4) {
            fmt::print(out, "{}\n", line);
        }
    }
    if (rows.size() > shown_rows) {
        fmt::print(out, "... {} more servers (the JSON output lists them all)\n", rows.size() - shown_rows);
    }
    if (r.ipdb.empty()) {
        fmt::print(out, "hosting: no IP data (install it with scripts/ipdb/install.sh, or give --ipdb FILE)\n");
    }
    for (const IpDataSet& set : r.ipdb) {
        fmt::print(out, "hosting: {}{}{}\n", set.name.empty() ? set.path : set.name,
                   set.date.empty() ? "" : fmt::format(" of {}", set.date),
                   set.licence.empty() ? "" : fmt::format(", {}", set.licence));
    }
}

// The analyst's table (issue #15): one block per action, its names largest first, notes last;
// at most top_rows names per action.
void render_actions_section(const Report& r, std::FILE* out, std::size_t top_rows) {
    const std::vector<ActionBlock> blocks = action_view(r);
    if (blocks.empty()) {
        return;
    }
    // ACTION(l) DOMAIN(n) NEW(5) REUSED(7) DNS(5) UP(11) DOWN(11) TLS(t) NOTES
    std::size_t l = 7, n = 7, t = 4;
    for (const ActionBlock& b : blocks) {
        l = std::max(l, b.label.size() + 1);
        for (const ActionRow& row : b.rows) {
            n = std::max(n, row.label.size() + 1);
            t = std::max(t, row.tls.size() + 1);
        }
    }
    l = std::min<std::size_t>(l, 21);
    n = std::min(n, kNameCap);
    t = std::min<std::size_t>(t, 52); // "1.2 " and the longest IANA cipher names
    fmt::print(out, "\n{:<{}}{:<{}}{:>5}{:>7}{:>5}{:>11}{:>11} {:<{}}{}\n", "ACTION", l, "DOMAIN", n, "NEW", "REUSED", "DNS",
               "BYTES UP", "BYTES DOWN", "TLS", t, "NOTES");
    for (const ActionBlock& b : blocks) {
        bool first = true;
        for (std::size_t i = 0; i < b.rows.size() && i < top_rows; ++i) {
            const ActionRow& row = b.rows[i];
            const pipeline::MergedActionDomain& a = *row.row;
            fmt::print(out, "{:<{}}{:<{}}{:>5}{:>7}{:>5}{:>11}{:>11} {:<{}}{}\n", first ? clip(b.label, l - 1) : "", l,
                       clip(row.label, n - 1), n, a.stats.connections, a.connections_reused, a.dns_lookups,
                       human_bytes(a.stats.bytes_up), human_bytes(a.stats.bytes_down), clip(row.tls, t - 1), t,
                       fmt::join(row.notes, "; "));
            first = false;
        }
        if (b.rows.size() > top_rows) {
            fmt::print(out, "{:<{}}... {} more in this action (the JSON output lists them all)\n", "", l,
                       b.rows.size() - top_rows);
        }
    }
}

void render_tls_section(const TransferStats& tot, std::FILE* out) {
    // TLS summary over all flows.
    std::string versions;
    for (std::size_t i = 0; i < tot.tls_versions.size(); ++i) {
        if (tot.tls_versions[i] != 0) {
            versions += fmt::format("{}{} {}", versions.empty() ? "" : ", ",
                                    pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(i)), tot.tls_versions[i]);
        }
    }
    if (!versions.empty()) {
        fmt::print(out, "\nTLS versions (negotiated; none = no ServerHello seen): {}\n", versions);
        std::vector<std::pair<std::uint32_t, std::uint16_t>> ciphers;
        for (std::size_t i = 0; i < pipeline::kCipherSlots; ++i) {
            if (tot.cipher_counts[i] != 0) {
                ciphers.emplace_back(tot.cipher_counts[i], tot.cipher_ids[i]);
            }
        }
        std::sort(ciphers.rbegin(), ciphers.rend());
        for (const auto& [n, id] : ciphers) {
            fmt::print(out, "  {:<60}{:>8}\n", tls_cipher_text(id), n);
        }
        std::string alpns;
        for (std::size_t i = 0; i < tot.alpns.size(); ++i) {
            if (tot.alpns[i] != 0) {
                alpns += fmt::format("{}{} {}", alpns.empty() ? "" : ", ",
                                     pipeline::to_string(static_cast<pipeline::AlpnSlot>(i)), tot.alpns[i]);
            }
        }
        if (!alpns.empty()) {
            fmt::print(out, "ALPN offered: {}\n", alpns);
        }
        fmt::print(out, "QUIC {}  ECH {}  DNS over TLS {}  DNS over HTTPS endpoints {}  TLS without SNI {}  "
                        "cleartext HTTP {}\n",
                   tot.quic, tot.ech_real, tot.dot, tot.doh, tot.tls_without_sni, tot.cleartext_http);
        if (tot.ech != 0 || tot.esni != 0) {
            fmt::print(out, "ECH offered {}: real {} (hidden name recovered from DNS), GREASE {}, cannot tell {}{}\n",
                       tot.ech, tot.ech_real, tot.ech_grease, tot.ech - tot.ech_real - tot.ech_grease,
                       tot.esni != 0 ? fmt::format("; legacy ESNI {}", tot.esni) : std::string());
        }
    }
}

void render_counters_section(const Report& r, std::FILE* out) {
    const pipeline::WorkerCounters& c = r.counters;
    fmt::print(out, "\npackets {}  ip {}  non-ip {}  fragments {}  decode errors {}\n", c.packets, c.ip_packets,
               c.non_ip_packets, c.fragments, c.decode_errors);
    const auto drops = drop_rows(r);
    if (drops.empty()) {
        fmt::print(out, "drops and errors: none\n");
    } else {
        fmt::print(out, "drops and errors:\n");
        for (const auto& [name, n] : drops) {
            fmt::print(out, "  {:<40}{:>12}\n", name, n);
        }
    }
    if (!r.input.stopped_early.empty()) {
        fmt::print(out, "input stopped early: {}\n", r.input.stopped_early);
    }
}

} // namespace

std::string render_table_text(const Report& r, const TableOptions& opt) {
    char* buffer = nullptr;
    std::size_t size = 0;
    std::FILE* out = open_memstream(&buffer, &size);
    if (out == nullptr) {
        return "cannot render: out of memory\n";
    }
    render_table(r, out, opt);
    std::fclose(out);
    std::string text(buffer, size);
    std::free(buffer);
    return text;
}

} // namespace wt::app
