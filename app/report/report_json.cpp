// The report as one JSON document, written straight into a buffer (JsonWriter).
#include "app/report/json_writer.hpp"
#include "app/report/names.hpp"
#include "app/report/report.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace wt::app {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

namespace {

// Fields that some JSON rows add to a TransferStats object (absent when null).
struct StatsExtras {
    const std::string* category = nullptr;
    const std::string* client = nullptr;
    const std::uint64_t* distinct_clients = nullptr;
    const std::string* domain = nullptr;
    const std::string* mac = nullptr;
    bool has_matched_by = false;
    const std::string* matched_by = nullptr; // nullptr with has_matched_by: JSON null
    bool has_inferred_asn = false;
    const std::uint64_t* inferred_asn = nullptr; // nullptr with has_inferred_asn: JSON null
    bool has_cnames = false;
    const std::vector<std::string>* cnames = nullptr; // nullptr with has_cnames: JSON null
    bool has_service = false;
    const std::string* service = nullptr; // nullptr with has_service: JSON null
};

// One member of a TransferStats object as the report writes it.
struct StatsMember {
    enum class Kind : std::uint8_t { kCount, kSeconds, kNull, kText, kTextList, kAlpn, kCiphers, kTlsVersions };
    std::string_view key;
    Kind kind = Kind::kNull;
    std::uint64_t count = 0;
    double seconds = 0;
    const std::string* text = nullptr;
    const std::vector<std::string>* list = nullptr;
};

// A TransferStats' ciphers and TLS versions as objects name -> count.
void write_ciphers(JsonWriter& w, const TransferStats& s, SortedFields& scratch) {
    for (std::size_t c = 0; c < pipeline::kCipherSlots; ++c) {
        if (s.cipher_counts[c] != 0) {
            scratch.add(tls_cipher_text(s.cipher_ids[c]), s.cipher_counts[c]);
        }
    }
    if (s.cipher_other != 0) {
        scratch.add("other", s.cipher_other);
    }
    scratch.write(w);
}
void write_tls_versions(JsonWriter& w, const TransferStats& s, SortedFields& scratch) {
    for (std::size_t v = 0; v < s.tls_versions.size(); ++v) {
        if (s.tls_versions[v] != 0) {
            scratch.add(pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(v)), s.tls_versions[v]);
        }
    }
    scratch.write(w);
}

// One TransferStats object with its extras. The counts come from WT_TRANSFER_COUNTS; keys are
// written in byte order (see JsonWriter), so the members are gathered, then sorted.
void write_stats(JsonWriter& w, const TransferStats& s, const StatsExtras& x, SortedFields& scratch) {
    using Kind = StatsMember::Kind;
    // The counts, then at most 15 others: alpn, ciphers, tls_versions, first_seen, last_seen,
    // category, client, domain, mac, matched_by, cnames, inferred_asn, distinct_clients, service.
    std::array<StatsMember, TransferStats::kCountFields + 15> members;
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
    if (x.has_matched_by) {
        add({"matched_by", x.matched_by != nullptr ? Kind::kText : Kind::kNull, 0, 0, x.matched_by});
    }
    if (x.has_inferred_asn) {
        add({"inferred_asn", x.inferred_asn != nullptr ? Kind::kCount : Kind::kNull, x.inferred_asn != nullptr ? *x.inferred_asn : 0});
    }
    if (x.has_cnames) {
        add({"cnames", x.cnames != nullptr ? Kind::kTextList : Kind::kNull, 0, 0, nullptr, x.cnames});
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
        case Kind::kTextList:
            w.begin_array();
            for (const std::string& t : *m.list) {
                w.value(t);
            }
            w.end_array();
            break;
        case Kind::kAlpn:
            for (std::size_t a = 0; a < s.alpns.size(); ++a) {
                if (s.alpns[a] != 0) {
                    scratch.add(pipeline::to_string(static_cast<pipeline::AlpnSlot>(a)), s.alpns[a]);
                }
            }
            scratch.write(w);
            break;
        case Kind::kCiphers: write_ciphers(w, s, scratch); break;
        case Kind::kTlsVersions: write_tls_versions(w, s, scratch); break;
        }
    }
    w.end_object();
}

void write_series(JsonWriter& w, const std::vector<TimelineSeries>& list) {
    w.begin_array();
    for (const TimelineSeries& s : list) {
        w.begin_object();
        w.number_array_field("bytes_down", s.bytes_down);
        w.number_array_field("bytes_up", s.bytes_up);
        w.field("name", s.name);
        w.field("total", s.total);
        w.end_object();
    }
    w.end_array();
}

void write_timeline(JsonWriter& w, const Timeline& t) {
    w.begin_object();
    w.key("domains");
    write_series(w, t.domains);
    w.field("domains_total", t.domains_total);
    w.field("interval_s", static_cast<double>(t.interval_ns) / 1e9);
    w.field("intervals", t.intervals);
    w.key("marks");
    w.begin_array();
    for (const auto& [ts_ns, label] : t.marks) {
        w.begin_object();
        w.field("action", label);
        w.field("t", static_cast<double>(ts_ns) / 1e9);
        w.end_object();
    }
    w.end_array();
    w.key("services");
    write_series(w, t.services);
    w.field("start", static_cast<double>(t.start_ns) / 1e9);
    w.end_object();
}

void write_flow_lanes(JsonWriter& w, const Report& r, const FlowLanes& lanes) {
    w.begin_object();
    w.field("cap", lanes.cap);
    w.key("flows");
    w.begin_array();
    for (const FlowLane& l : lanes.lanes) {
        w.begin_object();
        if (l.opened_in == 0 || r.actions.empty()) {
            w.null_field("action");
        } else {
            w.field("action", action_label(r, l.opened_in));
        }
        w.text_or_null_field("app", l.app);
        w.field("bytes_down", l.bytes_down);
        w.field("bytes_up", l.bytes_up);
        w.field("client", l.client);
        w.field("first_ts", static_cast<double>(l.first_ns) / 1e9);
        w.field("last_ts", static_cast<double>(l.last_ns) / 1e9);
        w.text_or_null_field("name", l.name);
        w.field("proto", ip_proto_text(l.proto));
        w.field("server", l.server);
        w.field("server_port", l.server_port);
        w.text_or_null_field("service", l.service);
        w.text_or_null_field("tls_version", l.tls_version);
        w.end_object();
    }
    w.end_array();
    w.field("total", lanes.flows_total);
    w.end_object();
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
    w.begin_object();
    // Issue #15: one object per action, its names by bytes moved during it (action_view).
    w.key("actions");
    w.begin_array();
    for (const ActionBlock& b : action_view(r)) {
        w.begin_object();
        w.field("action", b.label);
        w.field("bytes_down", b.stats.bytes_down);
        w.field("bytes_up", b.stats.bytes_up);
        w.field("connections_new", b.stats.connections);
        w.field("connections_reused", b.connections_reused);
        w.field("dns_lookups", b.dns_lookups);
        w.key("domains");
        w.begin_array();
        for (const ActionRow& row : b.rows) {
            const pipeline::MergedActionDomain& a = *row.row;
            w.begin_object();
            w.field("bytes_down", a.stats.bytes_down);
            w.field("bytes_up", a.stats.bytes_up);
            w.key("ciphers");
            write_ciphers(w, a.stats, scratch);
            w.field("connections_new", a.stats.connections);
            w.field("connections_reused", a.connections_reused);
            w.field("dns_lookups", a.dns_lookups);
            w.text_or_null_field("name", a.name);
            w.text_array_field("notes", row.notes);
            if (a.connections_reused == 0 || a.reused_from == pipeline::kNoAction) {
                w.null_field("reused_from");
            } else {
                w.field("reused_from", a.reused_from == 0 ? std::string("(before the first mark)") : action_label(r, a.reused_from));
            }
            if (a.name.empty()) {
                w.field("server", ip_text(a.server));
            } else {
                w.null_field("server");
            }
            if (const std::string* l = label(a.service)) {
                w.field("service", *l);
            } else {
                w.null_field("service");
            }
            w.key("tls_versions");
            write_tls_versions(w, a.stats, scratch);
            w.end_object();
        }
        w.end_array();
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
            mac = mac_text(c.mac);
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

    w.key("devices");
    w.begin_array();
    for (const Device& d : r.devices) {
        w.begin_object();
        w.key("addresses");
        w.begin_array();
        for (const auto& a : d.addresses) {
            w.value(ip_text(a));
        }
        w.end_array();
        w.field("bytes_down", d.stats.bytes_down);
        w.field("bytes_up", d.stats.bytes_up);
        w.text_or_null_field("dhcp_vendor_class", d.dhcp_vendor_class);
        w.text_array_field("domains", d.domains);
        w.field("flows", d.stats.connections);
        w.text_or_null_field("host_name", d.host_name);
        w.text_array_field("learned_from", d.learned_from);
        if (d.has_mac) {
            w.field("mac", mac_text(d.mac.data()));
        } else {
            w.null_field("mac");
        }
        w.field("randomized", d.randomized);
        w.key("services");
        w.begin_array();
        for (const std::int32_t service : d.services) {
            if (const std::string* l = label(service)) {
                w.value(*l);
            }
        }
        w.end_array();
        w.text_or_null_field("vendor", d.vendor);
        w.end_object();
    }
    w.end_array();

    w.key("domains");
    w.begin_array();
    std::vector<std::string> cnames;
    std::uint64_t inferred_asn = 0;
    for (const auto* d : domains_by_size(r)) {
        cnames = pipeline::cname_chain_names(d->cnames);
        inferred_asn = d->inferred_asn;
        StatsExtras x;
        x.has_inferred_asn = true;
        x.inferred_asn = d->inferred_asn != 0 ? &inferred_asn : nullptr;
        x.has_cnames = true;
        x.cnames = cnames.empty() ? nullptr : &cnames;
        x.distinct_clients = &d->m.distinct_clients;
        x.domain = &d->name;
        x.has_matched_by = true;
        x.matched_by = d->matched_by.empty() ? nullptr : &d->matched_by;
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

    w.key("encrypted_dns");
    {
        const EncryptedDnsView v = encrypted_dns_view(r);
        const auto servers = [&](const std::vector<EncryptedDnsServer>& rows, bool dot) {
            w.key("servers");
            w.begin_array();
            for (const EncryptedDnsServer& e : rows) {
                w.begin_object();
                w.field("address", ip_text(e.server->address));
                if (dot) {
                    w.field("answered", std::uint64_t{e.stats.dot} - e.stats.dot_refused - e.stats.dot_unanswered);
                    w.field("attempts", std::uint64_t{e.stats.dot});
                } else {
                    w.field("flows", std::uint64_t{e.stats.connections});
                }
                w.key("names");
                w.begin_array();
                for (const auto& n : e.server->names) {
                    if (!n.name.empty()) {
                        w.value(n.name);
                    }
                }
                w.end_array();
                if (dot) {
                    w.field("refused", std::uint64_t{e.stats.dot_refused});
                    w.field("unanswered", std::uint64_t{e.stats.dot_unanswered});
                }
                w.end_object();
            }
            w.end_array();
        };
        w.begin_object();
        w.key("doh");
        w.begin_object();
        w.field("flows", v.doh);
        servers(v.doh_servers, false);
        w.end_object();
        w.key("doq");
        w.begin_object();
        w.field("flows", v.doq);
        servers(v.doq_servers, false);
        w.end_object();
        w.key("dot");
        w.begin_object();
        w.field("answered", v.dot_answered);
        w.field("attempts", v.dot);
        w.field("refused", v.dot_refused);
        servers(v.dot_servers, true);
        w.field("unanswered", v.dot_unanswered);
        w.end_object();
        w.field("plain_dns", v.plain_dns);
        w.key("plain_dns_servers_after_failed_dot");
        w.begin_array();
        for (const auto* s : v.plain_dns_after_dot) {
            w.value(ip_text(s->address));
        }
        w.end_array();
        w.field("sni_without_dns", v.sni_without_dns);
        w.text_array_field("summary", v.summary);
        w.field("tls_and_quic_flows", v.named_flows);
        w.end_object();
    }

    w.key("flow_lanes");
    if (r.flow_lanes) {
        write_flow_lanes(w, r, *r.flow_lanes);
    } else {
        w.null();
    }

    w.key("input");
    w.begin_object();
    w.field("file", r.input.file);
    w.field("first_ts", static_cast<double>(r.input.first_ns) / 1e9);
    w.field("format", r.input.format);
    w.field("last_ts", static_cast<double>(r.input.last_ns) / 1e9);
    w.text_or_null_field("marks", r.input.marks);
    w.field("records", r.input.records);
    w.text_or_null_field("stopped_early", r.input.stopped_early);
    w.field("truncated_records", r.input.truncated_records);
    w.end_object();

    w.key("ipdb");
    w.begin_array();
    for (const IpDataSet& set : r.ipdb) {
        w.begin_object();
        w.text_or_null_field("date", set.date);
        w.text_or_null_field("description", set.description);
        w.field("file", set.path);
        w.text_or_null_field("licence", set.licence);
        w.text_or_null_field("name", set.name);
        w.text_or_null_field("source", set.source);
        w.end_object();
    }
    w.end_array();

    w.key("left_out");
    if (r.left_out) {
        w.begin_object();
        w.field("action_rows", r.left_out->action_rows);
        w.field("clients", r.left_out->clients);
        w.field("devices", r.left_out->devices);
        w.field("domains", r.left_out->domains);
        w.field("servers", r.left_out->servers);
        w.end_object();
    } else {
        w.null();
    }

    w.key("servers");
    w.begin_array();
    for (const std::size_t i : servers_by_size(r)) {
        const pipeline::MergedServer& server = r.tally.servers[i];
        const Hosting* hosting = i < r.server_hosting.size() ? &r.server_hosting[i] : nullptr;
        w.begin_object();
        w.field("address", ip_text(server.address));
        if (hosting != nullptr && !hosting->as_org.empty()) {
            w.field("as_org", hosting->as_org);
        } else {
            w.null_field("as_org");
        }
        if (hosting != nullptr && hosting->asn) {
            w.field("asn", std::uint64_t{*hosting->asn});
        } else {
            w.null_field("asn");
        }
        w.field("bytes_down", server.stats.bytes_down);
        w.field("bytes_up", server.stats.bytes_up);
        if (hosting != nullptr && !hosting->country.empty()) {
            w.field("country", hosting->country);
        } else {
            w.null_field("country");
        }
        w.field("flows", server.stats.connections);
        w.key("names");
        w.begin_array();
        std::vector<std::int32_t> services;
        for (const auto& n : server.names) {
            if (std::find(services.begin(), services.end(), n.service) == services.end()) {
                services.push_back(n.service);
            }
            if (n.name.empty()) {
                continue;
            }
            w.begin_object();
            w.field("bytes_down", n.stats.bytes_down);
            w.field("bytes_up", n.stats.bytes_up);
            w.field("flows", n.stats.connections);
            w.field("name", n.name);
            if (const std::string* l = label(n.service)) {
                w.field("service", *l);
            } else {
                w.null_field("service");
            }
            w.key("sources");
            w.begin_array();
            for (const std::string_view source : name_source_list(n.name_sources)) {
                w.value(source);
            }
            w.end_array();
            w.end_object();
        }
        w.end_array();
        if (const std::string_view scope = address_scope(server.address); !scope.empty()) {
            w.field("scope", scope);
        } else {
            w.null_field("scope");
        }
        w.key("services");
        w.begin_array();
        for (const std::int32_t service : services) {
            if (const std::string* l = label(service)) {
                w.value(*l);
            }
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();

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
    w.key("timeline");
    if (r.timeline) {
        write_timeline(w, *r.timeline);
    } else {
        w.null();
    }

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

} // namespace wt::app
