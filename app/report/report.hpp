// The offline report: one model, three renderings (aligned table for people,
// one JSON document or one CSV table for machines).
#pragma once

#include "app/ipdb/ip_database.hpp"
#include "app/ipdb/oui_registry.hpp"
#include "pipeline/counters.hpp"
#include "pipeline/tally/tally.hpp"
#include "pipeline/worker.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wt::app {

struct InputSummary {
    std::string file;
    std::string format; // "pcap" / "pcapng"
    std::uint64_t records = 0;
    std::uint64_t truncated_records = 0;
    std::uint64_t oversized_frames = 0; // clipped to the mbuf size
    std::uint64_t first_ns = 0;
    std::uint64_t last_ns = 0;
    std::string stopped_early; // error that ended reading before the end, if any
    std::string marks;         // where the actions came from ("marks.csv", "3 pcapng packet comments"); empty: none
};

// A device: the client addresses seen with one MAC address (a phone's IPv4 and IPv6 addresses
// together), or one address seen without a MAC (raw IP captures, tunnels).
struct Device {
    bool has_mac = false;
    std::array<std::uint8_t, 6> mac{};
    std::string vendor;      // IEEE registry organisation; empty: unknown or randomised
    bool randomized = false; // a locally administered MAC (IEEE 802: phones' private addresses)
    std::vector<pipeline::IpAddr> addresses;
    pipeline::TransferStats stats;
    std::vector<std::int32_t> services; // by connections, largest first
    std::vector<std::string> domains;   // the names its addresses talked to, sorted
    std::string host_name;              // DHCP option 12; empty: none seen
    std::string dhcp_vendor_class;      // DHCP option 60; empty: none seen
    std::vector<std::string> learned_from; // "flows", "dhcp", "arp", "nd": where its addresses came from
};

// Issue #16: what the pictures draw. The bytes that passed in each interval of the capture, by
// service and by the busiest names (the same parts the live appliance's timeline is made of), and
// one lane per connection.
struct TimelineSeries {
    std::string name;                    // a service label, or a domain name
    std::vector<std::uint64_t> bytes_up; // one value per interval
    std::vector<std::uint64_t> bytes_down;
    std::uint64_t total = 0;
};
struct Timeline {
    std::uint64_t start_ns = 0;    // the first interval's start (epoch ns)
    std::uint64_t interval_ns = 0; // widened (doubling from 1 s) so that a capture has at most kMaxIntervals
    std::size_t intervals = 0;
    std::vector<TimelineSeries> services; // largest first; "(unclassified)" for flows no service named
    std::vector<TimelineSeries> domains;  // the largest names, largest first
    std::size_t domains_total = 0;        // names with bytes in the capture
    std::vector<std::pair<std::uint64_t, std::string>> marks; // each mark's time and the action it begins
};
// One connection: what its lane shows. The largest by bytes are kept (FlowLaneCollector).
struct FlowLane {
    std::uint64_t first_ns = 0;
    std::uint64_t last_ns = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::string name;    // empty: unnamed
    std::string service; // empty: unclassified
    std::string client;
    std::string server;
    std::uint16_t server_port = 0;
    std::uint8_t proto = 0;
    std::string app;         // "tls", "quic", "dns", "http", ...; empty: not recognised
    std::string tls_version; // negotiated; empty: none seen
    std::uint16_t opened_in = 0;
};
struct FlowLanes {
    std::vector<FlowLane> lanes; // by first packet
    std::uint64_t flows_total = 0;
    std::size_t cap = 0;
};

struct Report {
    InputSummary input;
    pipeline::WorkerCounters counters;
    pipeline::DecodeDropCounts decode_drops{};
    pipeline::MbufInputCounters mbuf;
    pipeline::MergedTally tally;
    std::vector<std::string> services;   // by service index
    std::vector<std::string> categories; // by service index
    std::vector<std::string> actions;    // by action index (1-based in flows)
    std::string services_origin;
    std::size_t workers = 1;
    std::vector<Hosting> server_hosting; // one per tally.servers entry; empty when no IP data was given
    std::vector<IpDataSet> ipdb;         // the IP data sets the hosting came from
    std::vector<Device> devices;         // add_devices: largest first
    std::optional<Timeline> timeline;    // analyze --timeline (and --format html/png)
    std::optional<FlowLanes> flow_lanes; // the same
    // Rows a bounded rendering (the HTML page, kPageRows) left out of each table; nullopt: none cut.
    struct LeftOut {
        std::size_t action_rows = 0;
        std::size_t clients = 0;
        std::size_t devices = 0;
        std::size_t domains = 0;
        std::size_t servers = 0;
    };
    std::optional<LeftOut> left_out;
};

// Groups the report's clients into devices by MAC address, with each MAC's vendor from the IEEE
// registries (registry may be empty: vendors stay unknown). Off the packet path.
void add_devices(Report& r, const OuiRegistry& registry);
// "aa:bb:cc:dd:ee:ff".
[[nodiscard]] std::string mac_text(const std::uint8_t* mac);
// A MAC address written with ':' or '-' between six hex pairs, either case; nullopt otherwise.
[[nodiscard]] std::optional<std::array<std::uint8_t, 6>> parse_mac(std::string_view text);

// Looks up who hosts each server of the report (AS, organisation, country). Off the packet
// path: offline after the capture, live when a view is built.
void add_hosting(Report& r, const IpDatabases& databases);

// Sections of the table report. The offline report prints them all; each live
// `ctl` command prints the ones it is about, with the same renderer.
enum TableSection : unsigned {
    kSectionHeader = 1u << 0,
    kSectionServices = 1u << 1,
    kSectionDomains = 1u << 2,
    kSectionActions = 1u << 3,
    kSectionTls = 1u << 4,
    kSectionCounters = 1u << 5,
    kSectionClients = 1u << 6,
    kSectionServers = 1u << 7,
    kSectionEncryptedDns = 1u << 8,
    kSectionDevices = 1u << 9,
    kAllSections = kSectionHeader | kSectionServices | kSectionDomains | kSectionServers | kSectionDevices |
                   kSectionActions |
                   kSectionTls | kSectionEncryptedDns | kSectionCounters,
};

struct TableOptions {
    std::size_t top_domains = 40;
    std::size_t width = 100;
    unsigned sections = kAllSections;
    std::size_t top_clients = 40;
    std::size_t top_servers = 40;
    std::string device; // a MAC (mac_text form): the devices section shows that device only, with its domains
};

void render_table(const Report& r, std::FILE* out, const TableOptions& opt);
// The same tables as text (the live `ctl` views).
[[nodiscard]] std::string render_table_text(const Report& r, const TableOptions& opt);
// The JSON report, as report_to_json(r).dump(indent, ' ', false, replace) prints
// it, written straight into `out` (indent < 0: one line).
void write_report_json(const Report& r, fmt::memory_buffer& out, int indent);
// The same document as a tree, for callers that pick parts of it (live `ctl`).
nlohmann::json report_to_json(const Report& r);
void render_csv(const Report& r, std::FILE* out);

// The row order and selection every rendering (table, JSON, CSV) shares.
// Services by total bytes, largest first, unclassified (-1) last; only services with connections.
std::vector<std::int32_t> services_by_size(const Report& r);
// Domains by total bytes, largest first, then by name.
std::vector<const pipeline::MergedDomain*> domains_by_size(const Report& r);
// The non-zero drop and error counters, as (name, count) in report order.
std::vector<std::pair<std::string, std::uint64_t>> drop_rows(const Report& r);
// Servers (indices into tally.servers) by total bytes, largest first, then by address.
std::vector<std::size_t> servers_by_size(const Report& r);
// Encrypted DNS as the report tells it (the table's section and the JSON's encrypted_dns): which
// servers got DNS over TLS, HTTPS and QUIC, what became of the DoT attempts, and the plain DNS
// and SNI-only naming that show whether names were hidden from DNS.
struct EncryptedDnsServer {
    const pipeline::MergedServer* server = nullptr;
    pipeline::TransferStats stats; // the flows of this kind to the server
};
struct EncryptedDnsView {
    std::uint64_t dot = 0, dot_answered = 0, dot_refused = 0, dot_unanswered = 0;
    std::uint64_t doh = 0, doq = 0;
    std::vector<EncryptedDnsServer> dot_servers, doh_servers, doq_servers; // by address
    std::uint64_t plain_dns = 0;            // DNS flows (port 53 and the like)
    std::vector<const pipeline::MergedServer*> plain_dns_after_dot; // DNS servers used after the first failed DoT attempt
    std::uint64_t named_flows = 0;          // TLS and QUIC flows
    std::uint64_t sni_without_dns = 0;      // of them, named by SNI with no plain-DNS answer for their server
    std::vector<std::string> summary;       // the same in sentences
};
[[nodiscard]] EncryptedDnsView encrypted_dns_view(const Report& r);

// The action table as the analyst writes it (issue #15): one block per action, in the order the
// actions were first marked; in each, its names (and unnamed servers) by bytes moved during the
// action, largest first, with notes written from what the capture shows.
struct ActionRow {
    const pipeline::MergedActionDomain* row = nullptr;
    std::string label;              // the name, or "(no name) ADDRESS"
    std::string tls;                // the usual TLS version and cipher, e.g. "1.3 TLS_AES_128_GCM_SHA256"; empty: none
    std::vector<std::string> notes; // new / reused from, hosting, CNAME target, shared address, ECH, ...
};
struct ActionBlock {
    std::uint16_t action = 0;
    std::string label;
    pipeline::TransferStats stats; // the rows' sum
    std::uint64_t connections_reused = 0;
    std::uint64_t dns_lookups = 0;
    std::vector<ActionRow> rows;
};
[[nodiscard]] std::vector<ActionBlock> action_view(const Report& r);
// A hosting's short text: "Akamai International B.V. (AS20940)"; "(private address)" for an address
// no AS announces; empty when unknown.
[[nodiscard]] std::string hosting_text(const Hosting* h, const pipeline::IpAddr& address);

// The names a server was used by (empty names left out), as "name (sni, dns)".
std::vector<std::string> server_name_labels(const pipeline::MergedServer& s);
// The ways a name was learnt (bits 1 << NameSource), e.g. {"sni", "dns"}.
std::vector<std::string_view> name_source_list(std::uint8_t mask);
// Clients by total bytes, largest first.
std::vector<const pipeline::MergedClient*> clients_by_size(const Report& r);

// A service index's name; "(unclassified)" for -1 or an index the report has no name for.
std::string service_label(const Report& r, std::int32_t service);
// An action index's label (1-based); "-" for none.
std::string action_label(const Report& r, std::uint16_t action);
// A client's address, and its MAC when the capture had one.
std::string client_text(const pipeline::MergedClient& c);

[[nodiscard]] inline std::uint64_t total_bytes(const pipeline::TransferStats& s) noexcept {
    return s.bytes_up + s.bytes_down;
}

} // namespace wt::app
