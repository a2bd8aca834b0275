#include "app/export/export_rows.hpp"

#include "app/report/json_writer.hpp"
#include "app/report/names.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>

namespace wt::app::clickhouse {

namespace {

std::uint64_t wall_clock_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

double seconds(std::uint64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string_view service_or_empty(const Report& r, std::int32_t service) {
    if (service < 0 || static_cast<std::size_t>(service) >= r.services.size()) {
        return {};
    }
    return r.services[static_cast<std::size_t>(service)];
}

void hosting_fields(JsonWriter& w, const Hosting* h) {
    if (h != nullptr && h->asn.has_value()) {
        w.field("asn", *h->asn);
    } else {
        w.null_field("asn");
    }
    w.text_or_null_field("as_org", h != nullptr ? std::string_view(h->as_org) : std::string_view());
    w.text_or_null_field("country", h != nullptr ? std::string_view(h->country) : std::string_view());
}

// The counts every interval row has (clickhouse_schema.cpp: WT_TRANSFER_COUNTS, then the histograms).
void count_fields(JsonWriter& w, const pipeline::TransferStats& s, std::uint64_t reused = 0, std::uint64_t lookups = 0,
                  std::uint64_t failed = 0) {
    s.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view, std::uint64_t value) {
        w.field(name, value);
    });
    w.field("connections_reused", reused);
    w.field("dns_lookups", lookups);
    w.field("dns_failed", failed);
    w.number_array_field("tls_versions", s.tls_versions);
    w.number_array_field("alpns", s.alpns);
    w.key("cipher_ids");
    w.begin_array();
    for (std::size_t i = 0; i < s.cipher_ids.size(); ++i) {
        if (s.cipher_counts[i] != 0) {
            w.value(s.cipher_ids[i]);
        }
    }
    w.end_array();
    w.key("cipher_counts");
    w.begin_array();
    for (const std::uint32_t n : s.cipher_counts) {
        if (n != 0) {
            w.value(n);
        }
    }
    w.end_array();
    w.field("cipher_other", s.cipher_other);
}

bool moved_anything(const pipeline::TransferStats& s) noexcept {
    return s.connections != 0 || s.pkts_up != 0 || s.pkts_down != 0;
}

} // namespace

std::string datetime_text(std::uint64_t epoch_s) {
    const std::time_t t = static_cast<std::time_t>(epoch_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

Batch BatchWriter::take() {
    _last_bytes = std::max(_last_bytes, _batch.body.size());
    Batch out = std::move(_batch);
    _batch = Batch{};
    _batch.table = _table;
    out.table = _table;
    return out;
}

void BatchWriter::begin_row(JsonWriter& w) {
    if (_batch.rows == 0) {
        const std::uint64_t now = _now_ns != nullptr ? _now_ns() : wall_clock_ns();
        _last_id = now > _last_id ? now : _last_id + 1;
        _batch.id = _last_id;
        _batch.table = _table;
        // The size the last batch reached: the body grows without copying itself over and over.
        _batch.body.reserve(_last_bytes);
    }
    w.begin_object();
    w.field("appliance", _origin.appliance);
    w.field("site", _origin.site);
    w.field("batch_id", _batch.id);
    w.field("row", _batch.rows);
}

void BatchWriter::end_row(JsonWriter& w) {
    w.end_object();
    _batch.body.append(_line.data(), _line.size());
    _batch.body.push_back('\n');
    ++_batch.rows;
}

const std::string& BatchWriter::start_text(std::uint64_t epoch_s) {
    if (epoch_s != _start_s) {
        _start_s = epoch_s;
        _start_text = datetime_text(epoch_s);
    }
    return _start_text;
}

void BatchWriter::add_flow(const pipeline::FlowRecord& r, const FlowRowNames& names) {
    const pipeline::Flow& f = r.flow;
    _line.clear();
    JsonWriter w(_line);
    begin_row(w);
    w.field("start", start_text(f.ts_first_ns / 1'000'000'000ull));
    w.field("ts_first", seconds(f.ts_first_ns));
    w.field("ts_last", seconds(f.ts_last_ns));
    w.field("proto", ip_proto_text(f.key.proto));
    w.field("client", ip_text(f.client().ip));
    w.field("client_port", f.client().port);
    const pipeline::Endpoint server = f.server();
    w.field("server", ip_text(server.ip));
    w.field("server_port", server.port);
    w.field("vlan", f.key.vlan);
    w.field("pkts_up", f.pkts_up);
    w.field("pkts_down", f.pkts_down);
    w.field("bytes_up", f.bytes_up);
    w.field("bytes_down", f.bytes_down);
    w.text_or_null_field("app", r.app == pipeline::AppProto::kUnknown ? std::string_view() : pipeline::to_string(r.app));
    w.text_or_null_field("name", r.name.view());
    w.text_or_null_field("name_source",
                 r.name_source == pipeline::NameSource::kNone ? std::string_view() : pipeline::to_string(r.name_source));
    w.text_or_null_field("service", names.service);
    w.text_or_null_field("action", names.action);
    w.text_or_null_field("tls_version", r.server_hello ? tls_version_text(r.tls_version) : std::string());
    w.text_or_null_field("cipher", r.server_hello ? tls_cipher_text(r.cipher) : std::string());
    w.text_or_null_field("alpn", r.alpn.view());
    w.field("ech", pipeline::to_string(r.ech));
    w.field("doh", r.doh ? 1 : 0);
    w.text_or_null_field("quic_version", r.quic_version != 0 ? quic_version_text(r.quic_version) : std::string());
    w.text_or_null_field("sni", r.sni.view());
    w.text_or_null_field("ja4", r.ja4.view());
    w.text_or_null_field("client_tls_version", r.client_version != 0 ? tls_version_text(r.client_version) : std::string());
    if (r.ech_outer) {
        w.field("ech_config_id", r.ech_config_id);
    } else {
        w.null_field("ech_config_id");
    }
    w.field("doq", r.doq ? 1 : 0);
    if (r.inferred_asn != 0) {
        w.field("inferred_asn", r.inferred_asn);
    } else {
        w.null_field("inferred_asn");
    }
    w.text_or_null_field("dns_qtype", r.dns_query_seen ? dns_type_text(r.dns_qtype) : std::string());
    w.text_or_null_field("dns_rcode", r.dns_response_seen ? dns_rcode_text(r.dns_rcode) : std::string());
    w.key("dns_answers");
    w.begin_array();
    for (std::size_t i = 0; i < r.dns_answer_count && i < r.dns_answers.size(); ++i) {
        w.value(ip_text(r.dns_answers[i]));
    }
    w.end_array();
    w.text_array_field("cnames", r.cnames);
    w.text_or_null_field("resolved_query", r.resolved_query.view());
    hosting_fields(w, names.hosting);
    end_row(w);
}

void BatchWriter::add_intervals(const Report& r, std::uint64_t start_s, std::uint64_t end_s) {
    const std::string start = datetime_text(start_s);
    const std::string end = datetime_text(end_s);
    // Every row: identity, interval, kind, then the descriptive columns (absent ones empty or null), then
    // the counts.
    struct Descriptive {
        std::string_view service;
        std::string_view category;
        std::string_view name;
        std::string address;
        std::string_view action;
        std::string mac;
        std::string_view cnames;
        std::string_view matched_by;
        std::string name_sources;
        std::string_view host_name;
        std::string_view vendor;
        const Hosting* hosting = nullptr;
        std::optional<std::uint32_t> asn; // without hosting: the AS a domain's service was inferred from
    };
    const auto row = [&](std::string_view kind, const Descriptive& d, const pipeline::TransferStats& s,
                         std::uint64_t reused = 0, std::uint64_t lookups = 0, std::uint64_t failed = 0) {
        _line.clear();
        JsonWriter w(_line);
        begin_row(w);
        w.field("interval_start", start);
        w.field("interval_end", end);
        w.field("kind", kind);
        w.text_or_null_field("service", d.service);
        w.field("category", d.category);
        w.field("name", d.name);
        w.field("address", d.address);
        w.text_or_null_field("action", d.action);
        w.text_or_null_field("mac", d.mac);
        w.field("cnames", d.cnames);
        w.field("matched_by", d.matched_by);
        w.field("name_sources", d.name_sources);
        w.field("host_name", d.host_name);
        w.field("vendor", d.vendor);
        if (d.hosting != nullptr) {
            hosting_fields(w, d.hosting);
        } else {
            if (d.asn.has_value()) {
                w.field("asn", *d.asn);
            } else {
                w.null_field("asn");
            }
            w.null_field("as_org");
            w.null_field("country");
        }
        count_fields(w, s, reused, lookups, failed);
        end_row(w);
    };

    for (std::size_t i = 0; i < r.tally.services.size(); ++i) {
        const pipeline::TransferStats& s = r.tally.services[i].stats;
        if (moved_anything(s)) {
            const auto service = static_cast<std::int32_t>(i) - 1;
            row(kKindService,
                {.service = service_or_empty(r, service),
                 .category = service >= 0 && static_cast<std::size_t>(service) < r.categories.size()
                                 ? std::string_view(r.categories[static_cast<std::size_t>(service)])
                                 : std::string_view()},
                s);
        }
    }
    for (const pipeline::MergedDomain& d : r.tally.domains) {
        Descriptive desc{.service = service_or_empty(r, d.service), .name = d.name, .cnames = d.cnames,
                         .matched_by = d.matched_by};
        if (d.inferred_asn != 0) {
            desc.asn = d.inferred_asn;
        }
        row(kKindDomain, desc, d.m.stats);
    }
    for (const pipeline::MergedClient& c : r.tally.clients) {
        row(kKindClient,
            {.service = service_or_empty(r, c.service), .address = ip_text(c.client),
             .mac = c.has_mac ? mac_text(c.mac) : std::string()},
            c.stats);
    }
    for (std::size_t i = 0; i < r.tally.servers.size(); ++i) {
        const pipeline::MergedServer& server = r.tally.servers[i];
        const Hosting* hosting = i < r.server_hosting.size() ? &r.server_hosting[i] : nullptr;
        const std::string address = ip_text(server.address);
        for (const pipeline::MergedServerName& n : server.names) {
            std::string sources;
            for (const std::string_view source : name_source_list(n.name_sources)) {
                sources += sources.empty() ? "" : ",";
                sources += source;
            }
            row(kKindServer,
                {.service = service_or_empty(r, n.service), .name = n.name, .address = address,
                 .name_sources = sources, .hosting = hosting},
                n.stats);
        }
    }
    for (const pipeline::MergedActionDomain& a : r.tally.actions) {
        const std::string_view label =
            a.action >= 1 && a.action <= r.actions.size() ? std::string_view(r.actions[a.action - 1u]) : std::string_view();
        row(kKindAction,
            {.service = service_or_empty(r, a.service), .name = a.name,
             .address = a.name.empty() ? ip_text(a.server) : std::string(), .action = label},
            a.stats, a.connections_reused, a.dns_lookups, a.dns_failed);
    }
    const pipeline::TransferStats none;
    for (const auto& [client, name] : r.tally.client_domains) {
        row(kKindClientDomain, {.name = name, .address = ip_text(client)}, none);
    }
    for (const Device& d : r.devices) {
        std::string addresses;
        for (const pipeline::IpAddr& a : d.addresses) {
            addresses += addresses.empty() ? "" : ",";
            addresses += ip_text(a);
        }
        row(kKindDevice,
            {.address = addresses, .mac = d.has_mac ? mac_text(d.mac.data()) : std::string(),
             .host_name = d.host_name, .vendor = d.vendor},
            d.stats);
    }
}

} // namespace wt::app::clickhouse
