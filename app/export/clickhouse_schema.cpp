#include "app/export/clickhouse_schema.hpp"

#include "pipeline/tally/tally.hpp"

#include <array>
#include <fmt/format.h>

namespace wt::app::clickhouse {

namespace {

// Who wrote a row, and its place in the batch: the key that makes a row sent twice one row.
#define WT_ROW_IDENTITY                                                                                     \
    Column{"appliance", "String", "the appliance ([fleet] appliance; the host name by default)"},          \
        Column{"site", "String", "[fleet] site; empty: none"},                                              \
        Column{"batch_id", "UInt64", "the batch: unique per appliance (nanoseconds of its making)"},       \
        Column{"row", "UInt32", "the row's number in its batch"}

constexpr std::array kFlowColumns = {
    WT_ROW_IDENTITY,
    Column{"start", "DateTime('UTC')", "the first packet, whole seconds (the partition key)"},
    Column{"ts_first", "Float64", "the first packet, epoch seconds"},
    Column{"ts_last", "Float64", "the last packet, epoch seconds"},
    Column{"proto", "String", "tcp, udp, ..."},
    Column{"client", "String", "the client's address"},
    Column{"client_port", "UInt16", ""},
    Column{"server", "String", "the server's address"},
    Column{"server_port", "UInt16", ""},
    Column{"vlan", "UInt16", "the outer VLAN id; 0: none"},
    Column{"pkts_up", "UInt64", "packets from client to server"},
    Column{"pkts_down", "UInt64", "packets from server to client"},
    Column{"bytes_up", "UInt64", "IP bytes from client to server"},
    Column{"bytes_down", "UInt64", "IP bytes from server to client"},
    Column{"app", "Nullable(String)", "tls, quic, dns, http, ...; null: not recognised"},
    Column{"name", "Nullable(String)", "the flow's name (SNI, Host, DNS question, the name its client resolved)"},
    Column{"name_source", "Nullable(String)", "how the name was learnt: sni, quic_sni, http_host, dns, ..."},
    Column{"service", "Nullable(String)", "the service the name (or its CNAME chain, or its AS) belongs to"},
    Column{"action", "Nullable(String)", "the on-screen action the flow was opened in"},
    Column{"tls_version", "Nullable(String)", "negotiated (ServerHello); null: none seen"},
    Column{"cipher", "Nullable(String)", "negotiated cipher suite"},
    Column{"alpn", "Nullable(String)", "negotiated ALPN, else the first offered"},
    Column{"ech", "String", "encrypted_client_hello offered: none, real, grease, unknown"},
    Column{"doh", "UInt8", "1: to a DNS-over-HTTPS endpoint"},
    Column{"quic_version", "Nullable(String)", ""},
    Column{"sni", "Nullable(String)", "the ClientHello's server_name (with real ECH: the outer, public name)"},
    Column{"ja4", "Nullable(String)", "the ClientHello's JA4 fingerprint"},
    Column{"client_tls_version", "Nullable(String)", "the ClientHello's legacy_version"},
    Column{"ech_config_id", "Nullable(UInt8)", "an outer ECH extension's config id"},
    Column{"doq", "UInt8", "1: DNS over QUIC (UDP 853)"},
    Column{"inferred_asn", "Nullable(UInt32)", "the service was inferred from this AS hosting the server"},
    Column{"dns_qtype", "Nullable(String)", "DNS flows: the question's type"},
    Column{"dns_rcode", "Nullable(String)", "DNS flows: the answer's RCODE; null: no answer seen"},
    Column{"dns_answers", "Array(String)", "DNS flows: the addresses the answer gave"},
    Column{"cnames", "Array(String)", "the CNAME chain: a DNS flow's answer, else the resolution its client followed"},
    Column{"resolved_query", "Nullable(String)", "the question this client resolved the server address from"},
    Column{"asn", "Nullable(UInt32)", "the AS announcing the server address (the IP data); null: unknown"},
    Column{"as_org", "Nullable(String)", "that AS's organisation"},
    Column{"country", "Nullable(String)", "the server address's country, ISO 3166-1 alpha-2"},
};

#define WT_COUNT_COLUMN(name, type, role, desc) Column{#name, "UInt64", desc},

constexpr std::array kIntervalColumns = {
    WT_ROW_IDENTITY,
    Column{"interval_start", "DateTime('UTC')", "the interval's start (the partition key)"},
    Column{"interval_end", "DateTime('UTC')", "its end: the row counts what passed in [start, end)"},
    Column{"kind", "String", "service, domain, client, server, action, device or client_domain"},
    Column{"service", "Nullable(String)", "the row's service; null: unclassified (and device rows)"},
    Column{"category", "String", "service rows: the service's category"},
    Column{"name", "String", "domain, action and client_domain rows: the name; server rows: a name used for the address"},
    Column{"address", "String", "client and client_domain rows: the client; server rows: the server; action rows "
                                "without a name: the server; device rows: the addresses, comma-separated"},
    Column{"action", "Nullable(String)", "action rows: the action"},
    Column{"mac", "Nullable(String)", "client and device rows: the MAC address, when the link showed it"},
    Column{"cnames", "String", "domain rows: the CNAME chain after the name, names separated by spaces"},
    Column{"matched_by", "String", "domain rows: the chain name the service matched; empty: the name itself"},
    Column{"name_sources", "String", "server rows: how the name was learnt, comma-separated"},
    Column{"host_name", "String", "device rows: the DHCP host name"},
    Column{"vendor", "String", "device rows: the MAC's IEEE registrant"},
    Column{"asn", "Nullable(UInt32)", "server rows: the AS announcing the address; domain rows: the AS the "
                                      "service was inferred from"},
    Column{"as_org", "Nullable(String)", "server rows: the AS's organisation"},
    Column{"country", "Nullable(String)", "server rows: the address's country"},
    WT_TRANSFER_COUNTS(WT_COUNT_COLUMN)
    Column{"connections_reused", "UInt64", "action rows: connections opened in an earlier action"},
    Column{"dns_lookups", "UInt64", "action rows: DNS lookups of the name"},
    Column{"dns_failed", "UInt64", "action rows: of them, answered with an error"},
    Column{"tls_versions", "Array(UInt64)", "TLS flows by negotiated version: none, SSL3, 1.0, 1.1, 1.2, 1.3, other"},
    Column{"alpns", "Array(UInt64)", "flows by ALPN: h2, http/1.1, h3, http/1.0, dot, other"},
    Column{"cipher_ids", "Array(UInt16)", "cipher suites seen (IANA values) ..."},
    Column{"cipher_counts", "Array(UInt64)", "... and their flows"},
    Column{"cipher_other", "UInt64", "flows with a cipher beyond the first 12 distinct"},
};

#undef WT_COUNT_COLUMN
#undef WT_ROW_IDENTITY

std::string column_list(std::span<const Column> cols) {
    std::string out;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        out += fmt::format("    `{}` {}{}\n", cols[i].name, cols[i].type, i + 1 < cols.size() ? "," : "");
    }
    return out;
}

std::string_view partition_column(Table t) noexcept { return t == Table::kFlows ? "start" : "interval_start"; }

} // namespace

std::string_view table_name(Table t) noexcept { return t == Table::kFlows ? "flows" : "intervals"; }

std::span<const Column> columns(Table t) noexcept {
    if (t == Table::kFlows) {
        return kFlowColumns;
    }
    return kIntervalColumns;
}

std::string insert_target(std::string_view database, Table t) {
    return fmt::format("`{}`.`{}`", database, table_name(t));
}

std::string create_statements(const SchemaOptions& options) {
    std::string out = fmt::format("CREATE DATABASE IF NOT EXISTS `{}`;\n", options.database);
    for (const Table t : {Table::kFlows, Table::kIntervals}) {
        const std::string_view name = table_name(t);
        const std::string local = options.cluster.empty() ? std::string(name) : fmt::format("{}_local", name);
        // ORDER BY is the deduplication key of a ReplacingMergeTree: (appliance, batch_id, row) is one row
        // however often it was sent. Monthly partitions by the row's time: dropping a month is one command.
        out += fmt::format("CREATE TABLE IF NOT EXISTS `{}`.`{}`\n(\n{})\nENGINE = ReplacingMergeTree()\n"
                           "PARTITION BY toYYYYMM({})\nORDER BY (appliance, batch_id, row);\n",
                           options.database, local, column_list(columns(t)), partition_column(t));
        if (!options.cluster.empty()) {
            out += fmt::format("CREATE TABLE IF NOT EXISTS `{0}`.`{1}` AS `{0}`.`{2}`\n"
                               "ENGINE = Distributed({3}, {0}, {2}, cityHash64(appliance, batch_id));\n",
                               options.database, name, local, options.cluster);
        }
    }
    return out;
}

} // namespace wt::app::clickhouse
