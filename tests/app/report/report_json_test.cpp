// The offline report's JSON writer (app/report/json_writer.hpp, write_report_json) against
// the nlohmann tree it replaced: `reference_report` below is that code, kept
// verbatim, and every document must come out byte for byte as nlohmann dumps it.
#include "app/report/json_writer.hpp"
#include "app/report/names.hpp"
#include "app/report/report.hpp"
#include "parsers/net/packet.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace wt::app {
namespace {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

// ---- reference: the nlohmann implementation the writer replaced ----------------
std::string reference_service_label(const Report& r, std::int32_t service) {
    if (service < 0 || static_cast<std::size_t>(service) >= r.services.size()) {
        return "(unclassified)";
    }
    return r.services[static_cast<std::size_t>(service)];
}

json stats_json(const TransferStats& s) {
    json j;
    s.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view, std::uint64_t v) {
        j[std::string(name)] = v;
    });
    j["first_seen"] = s.connections ? json(static_cast<double>(s.first_ns) / 1e9) : json(nullptr);
    j["last_seen"] = s.connections ? json(static_cast<double>(s.last_ns) / 1e9) : json(nullptr);
    json versions = json::object();
    for (std::size_t i = 0; i < s.tls_versions.size(); ++i) {
        if (s.tls_versions[i] != 0) {
            versions[pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(i))] = s.tls_versions[i];
        }
    }
    j["tls_versions"] = versions;
    json ciphers = json::object();
    for (std::size_t i = 0; i < pipeline::kCipherSlots; ++i) {
        if (s.cipher_counts[i] != 0) {
            ciphers[tls_cipher_text(s.cipher_ids[i])] = s.cipher_counts[i];
        }
    }
    if (s.cipher_other != 0) {
        ciphers["other"] = s.cipher_other;
    }
    j["ciphers"] = ciphers;
    json alpns = json::object();
    for (std::size_t i = 0; i < s.alpns.size(); ++i) {
        if (s.alpns[i] != 0) {
            alpns[pipeline::to_string(static_cast<pipeline::AlpnSlot>(i))] = s.alpns[i];
        }
    }
    j["alpn"] = alpns;
    return j;
}

// The row order and selection (services_by_size, domains_by_size, drop_rows) come from
// app/report: they are shared by every rendering, not what this test compares.

json reference_report(const Report& r) {
    json j;
    j["input"] = {{"file", r.input.file},
                  {"format", r.input.format},
                  {"records", r.input.records},
                  {"truncated_records", r.input.truncated_records},
                  {"first_ts", static_cast<double>(r.input.first_ns) / 1e9},
                  {"last_ts", static_cast<double>(r.input.last_ns) / 1e9},
                  {"stopped_early", r.input.stopped_early.empty() ? json(nullptr) : json(r.input.stopped_early)},
                  {"marks", r.input.marks.empty() ? json(nullptr) : json(r.input.marks)}};
    j["services_file"] = r.services_origin;
    j["workers"] = r.workers;
    j["total"] = stats_json(r.tally.total.stats);
    j["total"]["distinct_clients"] = r.tally.total.distinct_clients;
    json services = json::array();
    for (std::int32_t s : services_by_size(r)) {
        const MergedStats& m = r.tally.services[static_cast<std::size_t>(s + 1)];
        json e = stats_json(m.stats);
        e["service"] = s < 0 ? json(nullptr) : json(reference_service_label(r, s));
        if (s >= 0 && static_cast<std::size_t>(s) < r.categories.size() && !r.categories[static_cast<std::size_t>(s)].empty()) {
            e["category"] = r.categories[static_cast<std::size_t>(s)];
        }
        e["distinct_clients"] = m.distinct_clients;
        services.push_back(e);
    }
    j["services"] = services;
    json domains = json::array();
    for (const auto* d : domains_by_size(r)) {
        json e = stats_json(d->m.stats);
        e["domain"] = d->name;
        e["matched_by"] = d->matched_by.empty() ? json(nullptr) : json(d->matched_by);
        json chain = json::array();
        for (std::size_t from = 0; from < d->cnames.size();) {
            const std::size_t space = std::min(d->cnames.find(' ', from), d->cnames.size());
            chain.push_back(d->cnames.substr(from, space - from));
            from = space + 1;
        }
        e["cnames"] = chain.empty() ? json(nullptr) : chain;
        e["inferred_asn"] = d->inferred_asn != 0 ? json(d->inferred_asn) : json(nullptr);
        e["service"] = d->service < 0 ? json(nullptr) : json(reference_service_label(r, d->service));
        e["distinct_clients"] = d->m.distinct_clients;
        domains.push_back(e);
    }
    j["domains"] = domains;
    json clients = json::array();
    for (const auto& c : r.tally.clients) {
        json e = stats_json(c.stats);
        e["client"] = ip_text(c.client);
        if (c.has_mac) {
            e["mac"] = fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", c.mac[0], c.mac[1], c.mac[2], c.mac[3],
                                   c.mac[4], c.mac[5]);
        }
        e["service"] = c.service < 0 ? json(nullptr) : json(reference_service_label(r, c.service));
        clients.push_back(e);
    }
    j["clients"] = clients;
    // The blocks, their row order and notes come from action_view (shared by every rendering).
    json actions = json::array();
    for (const ActionBlock& b : action_view(r)) {
        json rows = json::array();
        for (const ActionRow& row : b.rows) {
            const pipeline::MergedActionDomain& a = *row.row;
            const json stats = stats_json(a.stats);
            rows.push_back(
                {{"name", a.name.empty() ? json(nullptr) : json(a.name)},
                 {"server", a.name.empty() ? json(ip_text(a.server)) : json(nullptr)},
                 {"service", a.service < 0 ? json(nullptr) : json(reference_service_label(r, a.service))},
                 {"connections_new", a.stats.connections},
                 {"connections_reused", a.connections_reused},
                 {"reused_from", a.connections_reused == 0 || a.reused_from == pipeline::kNoAction ? json(nullptr)
                                 : a.reused_from == 0 ? json("(before the first mark)")
                                                      : json(action_label(r, a.reused_from))},
                 {"dns_lookups", a.dns_lookups},
                 {"bytes_up", a.stats.bytes_up},
                 {"bytes_down", a.stats.bytes_down},
                 {"tls_versions", stats["tls_versions"]},
                 {"ciphers", stats["ciphers"]},
                 {"notes", row.notes}});
        }
        actions.push_back({{"action", b.label},
                           {"bytes_up", b.stats.bytes_up},
                           {"bytes_down", b.stats.bytes_down},
                           {"connections_new", b.stats.connections},
                           {"connections_reused", b.connections_reused},
                           {"dns_lookups", b.dns_lookups},
                           {"domains", rows}});
    }
    j["actions"] = actions;
    json counters = json::object();
    r.counters.for_each([&](std::string_view name, std::string_view, std::uint64_t v) { counters[std::string(name)] = v; });
    counters["multi_segment_mbufs"] = r.mbuf.multi_segment;
    j["counters"] = counters;
    json drops = json::object();
    for (const auto& [name, n] : drop_rows(r)) {
        drops[name] = n;
    }
    j["drops"] = drops;
    json devices = json::array();
    for (const Device& d : r.devices) {
        json addresses = json::array();
        for (const auto& a : d.addresses) {
            addresses.push_back(ip_text(a));
        }
        json services = json::array();
        for (const std::int32_t s : d.services) {
            if (s >= 0) { // as in servers[].services, unclassified traffic is no service
                services.push_back(reference_service_label(r, s));
            }
        }
        char mac[18];
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", d.mac[0], d.mac[1], d.mac[2], d.mac[3], d.mac[4],
                      d.mac[5]);
        devices.push_back({{"addresses", addresses},
                           {"bytes_down", d.stats.bytes_down},
                           {"bytes_up", d.stats.bytes_up},
                           {"domains", d.domains},
                           {"dhcp_vendor_class", d.dhcp_vendor_class.empty() ? json(nullptr) : json(d.dhcp_vendor_class)},
                           {"host_name", d.host_name.empty() ? json(nullptr) : json(d.host_name)},
                           {"learned_from", d.learned_from},
                           {"flows", d.stats.connections},
                           {"mac", d.has_mac ? json(mac) : json(nullptr)},
                           {"randomized", d.randomized},
                           {"services", services},
                           {"vendor", d.vendor.empty() ? json(nullptr) : json(d.vendor)}});
    }
    j["devices"] = devices;
    json ipdb = json::array();
    const auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    for (const IpDataSet& set : r.ipdb) {
        ipdb.push_back({{"file", set.path},
                        {"name", text_or_null(set.name)},
                        {"source", text_or_null(set.source)},
                        {"licence", text_or_null(set.licence)},
                        {"date", text_or_null(set.date)},
                        {"description", text_or_null(set.description)}});
    }
    j["ipdb"] = ipdb;
    // Issue #16: the pictures' data, and what a bounded page left out.
    if (r.timeline) {
        const Timeline& t = *r.timeline;
        const auto series = [](const std::vector<TimelineSeries>& list) {
            json a = json::array();
            for (const TimelineSeries& s : list) {
                a.push_back({{"name", s.name}, {"total", s.total}, {"bytes_up", s.bytes_up}, {"bytes_down", s.bytes_down}});
            }
            return a;
        };
        json marks = json::array();
        for (const auto& [ts, label] : t.marks) {
            marks.push_back({{"t", static_cast<double>(ts) / 1e9}, {"action", label}});
        }
        j["timeline"] = {{"start", static_cast<double>(t.start_ns) / 1e9},
                         {"interval_s", static_cast<double>(t.interval_ns) / 1e9},
                         {"intervals", t.intervals},
                         {"services", series(t.services)},
                         {"domains", series(t.domains)},
                         {"domains_total", t.domains_total},
                         {"marks", marks}};
    } else {
        j["timeline"] = nullptr;
    }
    if (r.flow_lanes) {
        json flows = json::array();
        for (const FlowLane& l : r.flow_lanes->lanes) {
            flows.push_back({{"first_ts", static_cast<double>(l.first_ns) / 1e9},
                             {"last_ts", static_cast<double>(l.last_ns) / 1e9},
                             {"bytes_up", l.bytes_up},
                             {"bytes_down", l.bytes_down},
                             {"name", text_or_null(l.name)},
                             {"service", text_or_null(l.service)},
                             {"client", l.client},
                             {"server", l.server},
                             {"server_port", l.server_port},
                             {"proto", l.proto == 6 ? "tcp" : l.proto == 58 ? "icmpv6" : "(not in this test)"},
                             {"app", text_or_null(l.app)},
                             {"tls_version", text_or_null(l.tls_version)},
                             {"action", l.opened_in == 0 || r.actions.empty() ? json(nullptr) : json(action_label(r, l.opened_in))}});
        }
        j["flow_lanes"] = {{"cap", r.flow_lanes->cap}, {"total", r.flow_lanes->flows_total}, {"flows", flows}};
    } else {
        j["flow_lanes"] = nullptr;
    }
    j["left_out"] = r.left_out ? json{{"domains", r.left_out->domains}, {"clients", r.left_out->clients},
                                      {"servers", r.left_out->servers}, {"devices", r.left_out->devices},
                                      {"action_rows", r.left_out->action_rows}}
                               : json(nullptr);
    json servers = json::array();
    for (const std::size_t i : servers_by_size(r)) {
        const pipeline::MergedServer& s = r.tally.servers[i];
        const Hosting hosting = i < r.server_hosting.size() ? r.server_hosting[i] : Hosting{};
        json names = json::array();
        json services = json::array();
        std::vector<std::int32_t> seen;
        for (const auto& n : s.names) {
            if (std::find(seen.begin(), seen.end(), n.service) == seen.end()) {
                seen.push_back(n.service);
                if (n.service >= 0) {
                    services.push_back(reference_service_label(r, n.service));
                }
            }
            if (n.name.empty()) {
                continue;
            }
            json sources = json::array();
            for (unsigned b = 1; b < static_cast<unsigned>(pipeline::NameSource::kCount); ++b) {
                if ((n.name_sources & (1u << b)) != 0) {
                    sources.push_back(pipeline::to_string(static_cast<pipeline::NameSource>(b)));
                }
            }
            names.push_back({{"name", n.name},
                             {"service", n.service < 0 ? json(nullptr) : json(reference_service_label(r, n.service))},
                             {"sources", sources},
                             {"flows", n.stats.connections},
                             {"bytes_up", n.stats.bytes_up},
                             {"bytes_down", n.stats.bytes_down}});
        }
        servers.push_back({{"address", ip_text(s.address)},
                           {"names", names},
                           {"services", services},
                           {"flows", s.stats.connections},
                           {"bytes_up", s.stats.bytes_up},
                           {"bytes_down", s.stats.bytes_down},
                           {"asn", hosting.asn ? json(*hosting.asn) : json(nullptr)},
                           {"as_org", text_or_null(hosting.as_org)},
                           {"country", text_or_null(hosting.country)},
                           {"scope", address_scope(s.address).empty() ? json(nullptr)
                                                                      : json(std::string(address_scope(s.address)))}});
    }
    j["servers"] = servers;
    const EncryptedDnsView v = encrypted_dns_view(r);
    const auto dns_servers = [](const std::vector<EncryptedDnsServer>& rows, bool dot) {
        json out = json::array();
        for (const EncryptedDnsServer& e : rows) {
            json names = json::array();
            for (const auto& n : e.server->names) {
                if (!n.name.empty()) {
                    names.push_back(n.name);
                }
            }
            json row = {{"address", ip_text(e.server->address)}, {"names", names}};
            if (dot) {
                row["attempts"] = e.stats.dot;
                row["refused"] = e.stats.dot_refused;
                row["unanswered"] = e.stats.dot_unanswered;
                row["answered"] = e.stats.dot - e.stats.dot_refused - e.stats.dot_unanswered;
            } else {
                row["flows"] = e.stats.connections;
            }
            out.push_back(row);
        }
        return out;
    };
    j["encrypted_dns"] = {
        {"dot", {{"attempts", v.dot}, {"answered", v.dot_answered}, {"refused", v.dot_refused},
                 {"unanswered", v.dot_unanswered}, {"servers", dns_servers(v.dot_servers, true)}}},
        {"doh", {{"flows", v.doh}, {"servers", dns_servers(v.doh_servers, false)}}},
        {"doq", {{"flows", v.doq}, {"servers", dns_servers(v.doq_servers, false)}}},
        {"plain_dns", v.plain_dns},
        {"plain_dns_servers_after_failed_dot",
         [&v] {
             json a = json::array();
             for (const auto* s : v.plain_dns_after_dot) {
                 a.push_back(ip_text(s->address));
             }
             return a;
         }()},
        {"sni_without_dns", v.sni_without_dns},
        {"tls_and_quic_flows", v.named_flows},
        {"summary", v.summary}};
    return j;
}


// ---- fixtures -------------------------------------------------------------------

Report rich_report() {
    pipeline::CoreTally a(4, pipeline::TallyLimits{});
    pipeline::CoreTally b(4, pipeline::TallyLimits{});
    pipeline::test::feed_realistic_flows(a, 0, 90);
    pipeline::test::feed_realistic_flows(b, 7, 40);
    Report r;
    r.tally = pipeline::merge_tallies({&a, &b});
    // Names that need escaping or are not ASCII, one invalid UTF-8 (replaced by U+FFFD).
    for (std::string name : {std::string("quo\"te.example"), std::string("back\\slash.example"),
                             std::string("tab\there.example"), std::string("\x01\x1f.ctl.example"),
                             std::string("b\xc3\xbc" "cher.example"), std::string("bad\xff\xfe.example"),
                             std::string("del\x7f.example")}) {
        pipeline::MergedDomain d;
        d.name = name;
        d.service = name.size() % 2 == 0 ? 5 : -1; // 5: beyond the service names
        if (name.size() % 3 == 0) {
            d.cnames = name + ".edgekey.net e1.a.akamaiedge.net"; // a chain of two, in NameChain::text form
        } else if (name.size() % 3 == 1) {
            d.inferred_asn = 20940;
        }
        d.m.stats.connections = name.size();
        d.m.stats.bytes_up = 7 * name.size();
        d.m.stats.first_ns = 1'700'000'000'123'456'789ull;
        d.m.stats.last_ns = 1'700'000'009'000'000'000ull;
        d.m.stats.add_cipher(0x1301, 2);
        d.m.stats.add_cipher(0xfefe, 1); // unknown: numeric name
        d.m.distinct_clients = 3;
        r.tally.domains.push_back(d);
        pipeline::MergedActionDomain act;
        act.action = static_cast<std::uint16_t>(name.size() % 6); // 0 and 5: no label
        act.name = name;
        act.service = d.service;
        act.stats.connections = 1;
        act.stats.bytes_down = 100 * name.size();
        act.stats.add_cipher(0x1301, 1);
        act.stats.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls13)] = 1;
        if (name.size() % 2 == 0) {
            act.connections_reused = 2;
            act.reused_from = static_cast<std::uint16_t>(name.size() % 3);
            act.dns_lookups = 1;
        }
        r.tally.actions.push_back(act);
        if (name.size() % 4 == 1) {
            pipeline::MergedActionDomain bare; // a flow without a name, under its server
            bare.action = act.action;
            bare.server.version = 4;
            bare.server.bytes[0] = 203;
            bare.server.bytes[3] = static_cast<std::uint8_t>(name.size());
            bare.stats.connections = 1;
            bare.stats.bytes_up = 5;
            r.tally.actions.push_back(bare);
        }
    }
    // A cipher histogram that overflowed into "other".
    TransferStats& total = r.tally.total.stats;
    for (std::uint16_t c = 0x1301; c < 0x1301 + pipeline::kCipherSlots + 3; ++c) {
        total.add_cipher(c, 1);
    }
    r.input.file = "capture \"1\".pcap";
    r.input.format = "pcapng";
    r.input.records = 1234;
    r.input.truncated_records = 1;
    r.input.oversized_frames = 2;
    r.input.first_ns = 1'700'000'000'000'000'000ull;
    r.input.last_ns = 1'700'000'007'946'972'000ull;
    r.input.stopped_early = "record at offset 99: bad block";
    r.input.marks = "3 pcapng packet comments";
    r.counters.packets = 1234;
    r.counters.tls_errors = 3;
    r.decode_drops[1] = 5;
    r.mbuf.multi_segment = 2;
    r.services = {"Maps", "Video", "Example \"API\"", "Unused"};
    r.categories = {"google", "", "vendor"};
    r.actions = {"App launch", "Climate", "Location"};
    r.services_origin = "services.toml";
    r.workers = 2;
    // Hosting for every other server, one with an organisation that needs escaping.
    for (std::size_t i = 0; i < r.tally.servers.size(); ++i) {
        Hosting h;
        if (i % 2 == 0) {
            h.asn = static_cast<std::uint32_t>(64500 + i);
            h.as_org = i == 0 ? "Example \"Cloud\", Inc." : "Example CDN";
            h.country = "NL";
        }
        r.server_hosting.push_back(h);
    }
    r.ipdb.push_back(IpDataSet{"/usr/share/ipdb/asn.mmdb", "ip-location-db asn", "npm @ip-location-db/asn 2.3",
                               "CC BY 4.0", "2026-06-17", ""});
    r.ipdb.push_back(IpDataSet{"user.mmdb", "", "", "", "", "GeoLite2 ASN"});
    // Devices from the clients, with a registry that knows one maker (a vendor that needs escaping).
    OuiRegistry registry;
    std::string error;
    EXPECT_TRUE(registry.load_csv("Registry,Assignment,Organization Name\nMA-L,BACADA,\"Maker \"\"B\"\", Inc\"\n",
                                  "oui.csv", error))
        << error;
    // What ARP and DHCP said: a device seen only there (a host name that needs escaping), and an
    // address for a device with flows.
    pipeline::MergedDeviceHint dhcp;
    dhcp.mac = {0xba, 0xca, 0xda, 0, 0, 9};
    dhcp.addresses = {pipeline::IpAddr{{192, 168, 1, 77}, 4}};
    dhcp.sources = pipeline::kHintDhcp | pipeline::kHintArp;
    dhcp.host_name = "Lucas \"iMac\"";
    dhcp.vendor_class = "dhcpcd-5.5.6";
    r.tally.device_hints.push_back(dhcp);
    if (!r.tally.clients.empty() && r.tally.clients[0].has_mac) {
        pipeline::MergedDeviceHint arp;
        std::copy(std::begin(r.tally.clients[0].mac), std::end(r.tally.clients[0].mac), arp.mac.begin());
        arp.addresses = {pipeline::IpAddr{{10, 9, 8, 7}, 4}};
        arp.sources = pipeline::kHintArp;
        r.tally.device_hints.push_back(arp);
    }
    add_devices(r, registry);
    EXPECT_FALSE(r.devices.empty());
    // The pictures' data (issue #16), with names that need escaping in JSON and in HTML.
    Timeline t;
    t.start_ns = r.input.first_ns;
    t.interval_ns = 100'000'000;
    t.intervals = 3;
    t.services = {TimelineSeries{"Video", {1, 0, 7}, {100, 0, 2000}, 2108}, TimelineSeries{"(unclassified)", {5, 0, 0}, {0, 0, 9}, 14}};
    t.domains = {TimelineSeries{"a</script>b.example", {1, 0, 7}, {100, 0, 2000}, 2108}};
    t.domains_total = 7;
    t.marks = {{r.input.first_ns + 50'000'000, "App \"launch\""}, {r.input.first_ns + 150'000'000, "Climate"}};
    r.timeline = t;
    FlowLanes lanes;
    lanes.cap = 2000;
    lanes.flows_total = 12;
    FlowLane lane;
    lane.first_ns = r.input.first_ns + 1;
    lane.last_ns = r.input.first_ns + 250'000'000;
    lane.bytes_up = 107;
    lane.bytes_down = 2100;
    lane.name = "a</script>b.example";
    lane.service = "Video";
    lane.client = "10.0.0.2";
    lane.server = "2001:db8::1";
    lane.server_port = 443;
    lane.proto = 6;
    lane.app = "tls";
    lane.tls_version = "TLSv1.3";
    lane.opened_in = 2;
    lanes.lanes.push_back(lane);
    lane.name.clear();
    lane.service.clear();
    lane.app.clear();
    lane.tls_version.clear();
    lane.proto = 58;
    lane.opened_in = 0;
    lanes.lanes.push_back(lane);
    r.flow_lanes = lanes;
    r.left_out = Report::LeftOut{1, 2, 3, 4, 5};
    return r;
}

std::string written(const Report& r, int indent) {
    fmt::memory_buffer out;
    write_report_json(r, out, indent);
    return fmt::to_string(out);
}

std::string reference(const Report& r, int indent) {
    return reference_report(r).dump(indent, ' ', false, json::error_handler_t::replace);
}

TEST(ReportJson, RichReportMatchesNlohmannPretty) {
    const Report r = rich_report();
    ASSERT_GT(r.tally.clients.size(), 10u);
    ASSERT_FALSE(r.tally.actions.empty());
    EXPECT_EQ(written(r, 2), reference(r, 2));
}

TEST(ReportJson, RichReportMatchesNlohmannCompactAndIndent4) {
    const Report r = rich_report();
    EXPECT_EQ(written(r, -1), reference(r, -1));
    EXPECT_EQ(written(r, 4), reference(r, 4));
}

TEST(ReportJson, EmptyReportMatchesNlohmann) {
    Report r;
    r.tally.services.resize(3);
    r.services = {"A", "B"};
    EXPECT_EQ(written(r, 2), reference(r, 2));
}

TEST(ReportJson, TreeIsTheSameDocument) {
    const Report r = rich_report();
    EXPECT_EQ(report_to_json(r).dump(2, ' ', false, json::error_handler_t::replace), reference(r, 2));
}

// ---- JsonWriter on its own ----------------------------------------------------

std::string dump_writer(int indent, const std::function<void(JsonWriter&)>& body) {
    fmt::memory_buffer out;
    JsonWriter w(out, indent);
    body(w);
    EXPECT_EQ(w.depth(), 0u);
    return fmt::to_string(out);
}

TEST(JsonWriter, NumbersAsNlohmann) {
    const std::vector<double> values = {0.0, -0.0, 1.0, 0.1, 1e-7, 123456789.125, 1.7e9, 1e15, 1e16, 1e21, 1e300,
                                        -2.5, std::numeric_limits<double>::denorm_min(),
                                        std::numeric_limits<double>::quiet_NaN(),
                                        std::numeric_limits<double>::infinity()};
    json ref = json::array();
    for (double v : values) {
        ref.push_back(v);
    }
    ref.push_back(std::numeric_limits<std::uint64_t>::max());
    ref.push_back(std::int64_t{-42});
    ref.push_back(std::uint8_t{7});
    ref.push_back(true);
    ref.push_back(nullptr);
    for (int indent : {-1, 0, 2}) {
        EXPECT_EQ(dump_writer(indent,
                              [&](JsonWriter& w) {
                                  w.begin_array();
                                  for (double v : values) {
                                      w.value(v);
                                  }
                                  w.value(std::numeric_limits<std::uint64_t>::max());
                                  w.value(std::int64_t{-42});
                                  w.value(std::uint8_t{7});
                                  w.value(true);
                                  w.null();
                                  w.end_array();
                              }),
                  ref.dump(indent))
            << "indent " << indent;
    }
}

TEST(JsonWriter, NestingAndEmptyContainersAsNlohmann) {
    const json ref = {{"a", json::array()},
                      {"b", json::object()},
                      {"c", {{"d", json::array({json::object(), json::array({1, 2}), "x"})}}},
                      {"e", "\"\\\b\f\n\r\t\x01 \xc3\xa9 \xff"}};
    for (int indent : {-1, 2, 3}) {
        EXPECT_EQ(dump_writer(indent,
                              [](JsonWriter& w) {
                                  w.begin_object();
                                  w.key("a");
                                  w.begin_array();
                                  w.end_array();
                                  w.key("b");
                                  w.begin_object();
                                  w.end_object();
                                  w.key("c");
                                  w.begin_object();
                                  w.key("d");
                                  w.begin_array();
                                  w.begin_object();
                                  w.end_object();
                                  w.begin_array();
                                  w.value(1);
                                  w.value(2);
                                  w.end_array();
                                  w.value("x");
                                  w.end_array();
                                  w.end_object();
                                  w.field("e", std::string_view("\"\\\b\f\n\r\t\x01 \xc3\xa9 \xff"));
                                  w.end_object();
                              }),
                  ref.dump(indent, ' ', false, json::error_handler_t::replace))
            << "indent " << indent;
    }
}

TEST(JsonWriter, SortedFieldsSortAndKeepTheLastOfADuplicateKey) {
    json ref = json::object();
    ref["zeta"] = 1;
    ref["alpha"] = 2;
    ref["mid"] = 3;
    ref["alpha"] = 4;
    const std::string got = dump_writer(2, [](JsonWriter& w) {
        SortedFields f;
        f.add("zeta", 1);
        f.add("alpha", 2);
        f.add("mid", 3);
        f.add("alpha", 4);
        f.write(w);
    });
    EXPECT_EQ(got, ref.dump(2));
}

} // namespace
} // namespace wt::app

namespace wt::app {
namespace {

// `ctl devices --device MAC` takes a MAC as people write it.
TEST(ParseMac, ColonsOrDashesEitherCaseAndNothingElse) {
    const std::array<std::uint8_t, 6> want{0x02, 0x77, 0x00, 0xab, 0xcd, 0xef};
    EXPECT_EQ(parse_mac("02:77:00:ab:cd:ef"), want);
    EXPECT_EQ(parse_mac("02-77-00-AB-CD-EF"), want);
    EXPECT_EQ(mac_text(parse_mac("02:77:00:AB:cd:EF")->data()), "02:77:00:ab:cd:ef");
    for (const char* bad : {"", "02:77:00:ab:cd", "02:77:00:ab:cd:ef:", "02:77-00:ab:cd:ef", "02:77:00:ab:cd:eg",
                            "0277.00ab.cdef", "02:77:00:ab:cd:e"}) {
        EXPECT_FALSE(parse_mac(bad).has_value()) << bad;
    }
}

} // namespace
} // namespace wt::app
