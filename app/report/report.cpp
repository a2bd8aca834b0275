#include "app/report/report.hpp"

#include "app/report/json_writer.hpp"
#include "app/report/names.hpp"
#include "parsers/net/packet.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <span>
#include <fmt/format.h>

namespace wt::app {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

namespace {

std::string service_label(const Report& r, std::int32_t service) {
    if (service < 0 || static_cast<std::size_t>(service) >= r.services.size()) {
        return "(unclassified)";
    }
    return r.services[static_cast<std::size_t>(service)];
}

// Keeps the beginning of a name: names read left to right and are never cut from the left. Only a
// name longer than its column's cap is clipped (tables size their columns to what they show).
std::string clip(std::string_view s, std::size_t width) {
    if (s.size() <= width) {
        return std::string(s);
    }
    if (width < 2) {
        return std::string(s.substr(0, width));
    }
    return std::string(s.substr(0, width - 1)) + "~";
}

// A name column as wide as the longest value it shows plus a space, within [min_width, max_width].
template <typename Range, typename Fn>
std::size_t column_width(const Range& rows, Fn&& text_of, std::size_t min_width, std::size_t max_width) {
    std::size_t w = min_width;
    for (const auto& row : rows) {
        w = std::max(w, std::string_view(text_of(row)).size() + 1);
    }
    return std::min(w, max_width);
}


} // namespace

namespace {

std::string utc_time(std::uint64_t ns) {
    const std::time_t t = static_cast<std::time_t>(ns / 1000000000ull);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::uint64_t total_bytes(const TransferStats& s) {
    return s.bytes_up + s.bytes_down;
}

// Fields that some JSON rows add to a TransferStats object (absent when null).
struct StatsExtras {
    const std::string* category = nullptr;
    const std::string* client = nullptr;
    const std::uint64_t* distinct_clients = nullptr;
    const std::string* domain = nullptr;
    const std::string* mac = nullptr;
    bool has_service = false;
    const std::string* service = nullptr; // nullptr with has_service: JSON null
};

// One member of a TransferStats object as the report writes it.
struct StatsMember {
    enum class Kind : std::uint8_t { kCount, kSeconds, kNull, kText, kAlpn, kCiphers, kTlsVersions };
    std::string_view key;
    Kind kind = Kind::kNull;
    std::uint64_t count = 0;
    double seconds = 0;
    const std::string* text = nullptr;
};

// One TransferStats object with its extras. The counts come from WT_TRANSFER_COUNTS; keys are
// written in byte order (see JsonWriter), so the members are gathered, then sorted.
void write_stats(JsonWriter& w, const TransferStats& s, const StatsExtras& x, SortedFields& scratch) {
    using Kind = StatsMember::Kind;
    std::array<StatsMember, 32> members;
    std::size_t n = 0;
    const auto add = [&](StatsMember m) { members[n++] = m; };
    s.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view, std::uint64_t v) {
        add({name, Kind::kCount, v});
    });
    add({"alpn", Kind::kAlpn});
    add({"ciphers", Kind::kCiphers});
    add({"tls_versions", Kind::kTlsVersions});
    if (s.connections != 0) {
        add({"first_seen", Kind::kSeconds, 0, static_cast<double>(s.first_ns) / 1e9});
        add({"last_seen", Kind::kSeconds, 0, static_cast<double>(s.last_ns) / 1e9});
    } else {
        add({"first_seen", Kind::kNull});
        add({"last_seen", Kind::kNull});
    }
    for (const auto& [key, text] : {std::pair{"category", x.category}, std::pair{"client", x.client},
                                    std::pair{"domain", x.domain}, std::pair{"mac", x.mac}}) {
        if (text != nullptr) {
            add({key, Kind::kText, 0, 0, text});
        }
    }
    if (x.distinct_clients != nullptr) {
        add({"distinct_clients", Kind::kCount, *x.distinct_clients});
    }
    if (x.has_service) {
        add({"service", x.service != nullptr ? Kind::kText : Kind::kNull, 0, 0, x.service});
    }
    std::sort(members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n),
              [](const StatsMember& a, const StatsMember& b) { return a.key < b.key; });

    w.begin_object();
    for (std::size_t i = 0; i < n; ++i) {
        const StatsMember& m = members[i];
        w.key(m.key);
        switch (m.kind) {
        case Kind::kCount: w.value(m.count); break;
        case Kind::kSeconds: w.value(m.seconds); break;
        case Kind::kNull: w.null(); break;
        case Kind::kText: w.value(*m.text); break;
        case Kind::kAlpn:
            for (std::size_t a = 0; a < s.alpns.size(); ++a) {
                if (s.alpns[a] != 0) {
                    scratch.add(pipeline::to_string(static_cast<pipeline::AlpnSlot>(a)), s.alpns[a]);
                }
            }
            scratch.write(w);
            break;
        case Kind::kCiphers:
            for (std::size_t c = 0; c < pipeline::kCipherSlots; ++c) {
                if (s.cipher_counts[c] != 0) {
                    scratch.add(tls_cipher_text(s.cipher_ids[c]), s.cipher_counts[c]);
                }
            }
            if (s.cipher_other != 0) {
                scratch.add("other", s.cipher_other);
            }
            scratch.write(w);
            break;
        case Kind::kTlsVersions:
            for (std::size_t v = 0; v < s.tls_versions.size(); ++v) {
                if (s.tls_versions[v] != 0) {
                    scratch.add(pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(v)), s.tls_versions[v]);
                }
            }
            scratch.write(w);
            break;
        }
    }
    w.end_object();
}

} // namespace

// Services sorted by total bytes, largest first; unclassified last.
std::vector<std::int32_t> services_by_size(const Report& r) {
    std::vector<std::int32_t> order;
    for (std::size_t i = 1; i < r.tally.services.size(); ++i) {
        if (r.tally.services[i].stats.connections != 0) {
            order.push_back(static_cast<std::int32_t>(i - 1));
        }
    }
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        return total_bytes(r.tally.services[static_cast<std::size_t>(a + 1)].stats) >
               total_bytes(r.tally.services[static_cast<std::size_t>(b + 1)].stats);
    });
    if (!r.tally.services.empty() && r.tally.services[0].stats.connections != 0) {
        order.push_back(-1);
    }
    return order;
}

std::vector<const pipeline::MergedDomain*> domains_by_size(const Report& r) {
    std::vector<const pipeline::MergedDomain*> v;
    for (const auto& d : r.tally.domains) {
        v.push_back(&d);
    }
    std::stable_sort(v.begin(), v.end(), [](const auto* a, const auto* b) {
        const auto ta = total_bytes(a->m.stats);
        const auto tb = total_bytes(b->m.stats);
        return ta != tb ? ta > tb : a->name < b->name;
    });
    return v;
}

std::vector<std::pair<std::string, std::uint64_t>> drop_rows(const Report& r) {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    if (r.input.truncated_records) {
        rows.emplace_back("capture_truncated_records", r.input.truncated_records);
    }
    if (r.input.oversized_frames) {
        rows.emplace_back("capture_oversized_frames_clipped", r.input.oversized_frames);
    }
    for (std::size_t i = 0; i < r.decode_drops.size(); ++i) {
        if (r.decode_drops[i] != 0) {
            rows.emplace_back(std::string(parsers::to_string(static_cast<parsers::DecodeStatus>(i))), r.decode_drops[i]);
        }
    }
    const auto add = [&](const char* name, std::uint64_t v) {
        if (v != 0) {
            rows.emplace_back(name, v);
        }
    };
    add("tls_parse_errors", r.counters.tls_errors);
    add("quic_decrypt_or_parse_errors", r.counters.quic_errors);
    add("dns_parse_errors", r.counters.dns_errors);
    add("flow_table_full", r.counters.flow_table_full);
    add("flows_evicted", r.counters.flows_evicted);
    add("detail_pool_exhausted", r.counters.detail_pool_exhausted);
    add("stream_pool_exhausted", r.counters.stream_pool_exhausted);
    add("quic_pool_exhausted", r.counters.quic_pool_exhausted);
    add("multi_segment_mbuf_drops", r.mbuf.multi_segment_drops);
    add("tally_table_full", r.tally.table_full_drops);
    return rows;
}

namespace {

std::string client_text(const pipeline::MergedClient& c) {
    std::string who = ip_text(c.client);
    if (c.has_mac) {
        who += fmt::format(" {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", c.mac[0], c.mac[1], c.mac[2], c.mac[3], c.mac[4],
                           c.mac[5]);
    }
    return who;
}

std::string action_label(const Report& r, std::uint16_t action) {
    return action >= 1 && action <= r.actions.size() ? r.actions[action - 1] : std::string("-");
}

std::vector<const pipeline::MergedClient*> clients_by_size(const Report& r) {
    std::vector<const pipeline::MergedClient*> rows;
    rows.reserve(r.tally.clients.size());
    for (const auto& c : r.tally.clients) {
        rows.push_back(&c);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
        return total_bytes(a->stats) > total_bytes(b->stats);
    });
    return rows;
}

// The widths of the name columns, computed once for all the tables of a rendering. Every table
// fits TableOptions::width (100). Names keep their natural width up to a cap and are clipped on
// the right beyond it (never cut from the left); the SERVICE column is as wide as the longest
// service shown, or as the narrowest room any table leaves it, and the same in every table, so
// that one service reads the same everywhere.
struct TableLayout {
    std::size_t service = 0;
    std::size_t domain = 0;       // domains table
    std::size_t client = 0;       // clients table (address and MAC)
    std::size_t action = 0;       // actions table: the label
    std::size_t action_domain = 0;
};

constexpr std::size_t kNameCap = 41;      // a domain or client column: 40 characters and a space
constexpr std::size_t kServiceMin = 12;   // "Public DNS~" at the narrowest
constexpr std::size_t kServiceTableFixed = 74, kDomainTableFixed = 37, kClientTableFixed = 29, kActionTableFixed = 28;

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
    l.action = column_width(r.tally.actions, [&r](const auto& a) { return action_label(r, a.action); }, 7, 19);
    l.action_domain = column_width(r.tally.actions, [](const auto& a) { return a.name; }, 7, kNameCap);

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
    if (!r.tally.actions.empty()) {
        room = std::min(room, leaves(kActionTableFixed + l.action + l.action_domain));
    }
    l.service = std::max(kServiceMin, std::min(want, room));
    return l;
}

void render_services_section(const Report& r, std::FILE* out, const TableLayout& l);
void render_domains_section(const Report& r, std::FILE* out, std::size_t top_domains, const TableLayout& l);
void render_clients_section(const Report& r, std::FILE* out, std::size_t top_clients, const TableLayout& l);
void render_actions_section(const Report& r, std::FILE* out, const TableLayout& l);
void render_tls_section(const TransferStats& tot, std::FILE* out);
void render_counters_section(const Report& r, std::FILE* out);

} // namespace

std::string human_bytes(std::uint64_t n) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = static_cast<double>(n);
    std::size_t u = 0;
    while (v >= 1000.0 && u + 1 < std::size(kUnits)) {
        v /= 1000.0;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

void render_table(const Report& r, std::FILE* out, const TableOptions& opt) {
    const double duration = r.input.last_ns > r.input.first_ns
                                ? static_cast<double>(r.input.last_ns - r.input.first_ns) / 1e9
                                : 0.0;
    const TransferStats& tot = r.tally.total.stats;
    if (opt.sections & kSectionHeader) {
        // A long path keeps its end (the file's name) and the table its width.
        fmt::print(out, "{}\n", r.input.file.size() <= opt.width
                                    ? r.input.file
                                    : "~" + r.input.file.substr(r.input.file.size() - (opt.width - 1)));
        fmt::print(out, "{}, {} packets, {:.1f} s", r.input.format, r.input.records, duration);
        if (r.input.records != 0) {
            fmt::print(out, ", from {} UTC", utc_time(r.input.first_ns));
        }
        fmt::print(out, "\n");
        fmt::print(out, "flows {}  clients {}  bytes up {}  down {}  services: {}\n\n", tot.connections,
                   r.tally.total.distinct_clients, human_bytes(tot.bytes_up), human_bytes(tot.bytes_down),
                   r.services_origin);
    }
    const TableLayout layout = layout_of(r, opt);
    if (opt.sections & kSectionServices) {
        render_services_section(r, out, layout);
    }
    if (opt.sections & kSectionDomains) {
        render_domains_section(r, out, opt.top_domains, layout);
    }
    if (opt.sections & kSectionClients) {
        render_clients_section(r, out, opt.top_clients, layout);
    }
    if (opt.sections & kSectionActions) {
        render_actions_section(r, out, layout);
    }
    if (opt.sections & kSectionTls) {
        render_tls_section(tot, out);
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
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls12)], t.quic, t.dns, t.ech,
                   t.dot, t.cleartext_http);
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
            fmt::print(out, "{:<{}}{:<{}}{:>7}{:>11}{:>11}{:>8}\n", clip(d->name, n - 1), n,
                       clip(service_label(r, d->service), w - 1), w,
                       d->m.stats.connections, human_bytes(d->m.stats.bytes_up), human_bytes(d->m.stats.bytes_down),
                       d->m.distinct_clients);
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

void render_actions_section(const Report& r, std::FILE* out, const TableLayout& lay) {
    if (!r.tally.actions.empty()) {
        auto rows = r.tally.actions;
        std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            if (a.action != b.action) {
                return a.action < b.action;
            }
            return a.bytes_up + a.bytes_down > b.bytes_up + b.bytes_down;
        });
        // ACTION(l) DOMAIN(n) SERVICE(w) CONNS(6) UP(11) DOWN(11)
        const std::size_t l = lay.action;
        const std::size_t n = lay.action_domain;
        const std::size_t w = lay.service;
        fmt::print(out, "\n{:<{}}{:<{}}{:<{}}{:>6}{:>11}{:>11}\n", "ACTION", l, "DOMAIN", n, "SERVICE", w, "CONNS",
                   "BYTES UP", "BYTES DOWN");
        std::uint16_t last = 0xffff;
        for (const auto& a : rows) {
            fmt::print(out, "{:<{}}{:<{}}{:<{}}{:>6}{:>11}{:>11}\n", a.action == last ? "" : clip(action_label(r, a.action), l - 1),
                       l, clip(a.name, n - 1), n, clip(service_label(r, a.service), w - 1), w, a.connections,
                       human_bytes(a.bytes_up), human_bytes(a.bytes_down));
            last = a.action;
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
                   tot.quic, tot.ech, tot.dot, tot.doh, tot.tls_without_sni, tot.cleartext_http);
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

void write_report_json(const Report& r, fmt::memory_buffer& out, int indent) {
    JsonWriter w(out, indent);
    SortedFields scratch;
    // Service labels once: a row per (client, service) would otherwise copy one per row.
    std::vector<std::string> labels;
    labels.reserve(r.services.size());
    for (std::size_t i = 0; i < r.services.size(); ++i) {
        labels.push_back(service_label(r, static_cast<std::int32_t>(i)));
    }
    const auto label = [&](std::int32_t service) -> const std::string* {
        if (service < 0) {
            return nullptr;
        }
        static const std::string kUnclassified = "(unclassified)";
        return static_cast<std::size_t>(service) < labels.size() ? &labels[static_cast<std::size_t>(service)]
                                                                 : &kUnclassified;
    };
    static const std::string kNoAction;

    w.begin_object();
    w.key("actions");
    w.begin_array();
    for (const auto& a : r.tally.actions) {
        w.begin_object();
        w.field("action", a.action >= 1 && a.action <= r.actions.size() ? r.actions[a.action - 1] : kNoAction);
        w.field("bytes_down", a.bytes_down);
        w.field("bytes_up", a.bytes_up);
        w.field("connections", a.connections);
        w.field("domain", a.name);
        if (const std::string* l = label(a.service)) {
            w.field("service", *l);
        } else {
            w.null_field("service");
        }
        w.end_object();
    }
    w.end_array();

    w.key("clients");
    w.begin_array();
    for (const auto& c : r.tally.clients) {
        const std::string client = ip_text(c.client);
        std::string mac;
        StatsExtras x;
        x.client = &client;
        if (c.has_mac) {
            mac = fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", c.mac[0], c.mac[1], c.mac[2], c.mac[3],
                              c.mac[4], c.mac[5]);
            x.mac = &mac;
        }
        x.has_service = true;
        x.service = label(c.service);
        write_stats(w, c.stats, x, scratch);
    }
    w.end_array();

    w.key("counters");
    r.counters.for_each([&](std::string_view name, std::string_view, std::uint64_t v) { scratch.add(std::string(name), v); });
    scratch.add("multi_segment_mbufs", r.mbuf.multi_segment);
    scratch.write(w);

    w.key("domains");
    w.begin_array();
    for (const auto* d : domains_by_size(r)) {
        StatsExtras x;
        x.distinct_clients = &d->m.distinct_clients;
        x.domain = &d->name;
        x.has_service = true;
        x.service = label(d->service);
        write_stats(w, d->m.stats, x, scratch);
    }
    w.end_array();

    w.key("drops");
    for (auto& [name, n] : drop_rows(r)) {
        scratch.add(std::move(name), n);
    }
    scratch.write(w);

    w.key("input");
    w.begin_object();
    w.field("file", r.input.file);
    w.field("first_ts", static_cast<double>(r.input.first_ns) / 1e9);
    w.field("format", r.input.format);
    w.field("last_ts", static_cast<double>(r.input.last_ns) / 1e9);
    w.field("records", r.input.records);
    if (r.input.stopped_early.empty()) {
        w.null_field("stopped_early");
    } else {
        w.field("stopped_early", r.input.stopped_early);
    }
    w.field("truncated_records", r.input.truncated_records);
    w.end_object();

    w.key("services");
    w.begin_array();
    for (std::int32_t s : services_by_size(r)) {
        const MergedStats& m = r.tally.services[static_cast<std::size_t>(s + 1)];
        StatsExtras x;
        if (s >= 0 && static_cast<std::size_t>(s) < r.categories.size() &&
            !r.categories[static_cast<std::size_t>(s)].empty()) {
            x.category = &r.categories[static_cast<std::size_t>(s)];
        }
        x.distinct_clients = &m.distinct_clients;
        x.has_service = true;
        x.service = label(s);
        write_stats(w, m.stats, x, scratch);
    }
    w.end_array();

    w.field("services_file", r.services_origin);
    w.key("total");
    StatsExtras total;
    total.distinct_clients = &r.tally.total.distinct_clients;
    write_stats(w, r.tally.total.stats, total, scratch);
    w.field("workers", r.workers);
    w.end_object();
}

json report_to_json(const Report& r) {
    fmt::memory_buffer text;
    write_report_json(r, text, -1);
    return json::parse(text.begin(), text.end());
}

void render_csv(const Report& r, std::FILE* out) {
    // One table: a row per service (largest first), exact numbers.
    fmt::print(out, "service,connections,distinct_clients,pkts_up,pkts_down,bytes_up,bytes_down,tls,tls13,tls12,"
                    "quic,ech,dot,doh,cleartext_http,first_seen,last_seen\n");
    const auto csv_field = [](std::string_view s) {
        if (s.find_first_of(",\"\n") == std::string_view::npos) {
            return std::string(s);
        }
        std::string q = "\"";
        for (char ch : s) {
            if (ch == '"') {
                q += '"';
            }
            q += ch;
        }
        return q + "\"";
    };
    for (std::int32_t s : services_by_size(r)) {
        const MergedStats& m = r.tally.services[static_cast<std::size_t>(s + 1)];
        const TransferStats& t = m.stats;
        fmt::print(out, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{:.6f}\n",
                   csv_field(s < 0 ? "" : service_label(r, s)), t.connections, m.distinct_clients, t.pkts_up,
                   t.pkts_down, t.bytes_up, t.bytes_down, t.tls,
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls13)],
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls12)], t.quic, t.ech, t.dot,
                   t.doh, t.cleartext_http, static_cast<double>(t.first_ns) / 1e9, static_cast<double>(t.last_ns) / 1e9);
    }
}

} // namespace wt::app
