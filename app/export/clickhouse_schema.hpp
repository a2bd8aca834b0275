// The tables wiretally writes in ClickHouse (issue #19), declared once: `wiretally schema` prints their
// CREATE TABLE statements from these lists, the row writers (export_rows.hpp) write exactly these
// columns (a unit test holds them to it), and `wiretally query` reads them.
//
// Two tables, each keyed for deduplication by (appliance, batch_id, row): a batch that ClickHouse
// stored although the client saw an error, then sent again from the spool, is the same rows again, and
// a ReplacingMergeTree keeps one of each (read with FINAL; ClickHouse 18.16 has no
// insert_deduplication_token, non-replicated tables no insert deduplication at all).
//   flows      one row per finished flow
//   intervals  one row per key per interval: kind 'service', 'domain', 'client', 'server', 'action'
//              or 'device', with the tally's counts of what passed in [interval_start, interval_end);
//              and 'client_domain' (no counts): a client that used a name in the interval
//
// Kept to types both ClickHouse 18.16 (Debian 12) and current releases accept: String, not IPv4/IPv6 or
// LowCardinality; DateTime('UTC') in whole seconds, not DateTime64; times with fractions as Float64.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wt::app::clickhouse {

struct Column {
    std::string_view name;
    std::string_view type;
    std::string_view meaning;
};

enum class Table : std::uint8_t { kFlows, kIntervals };

[[nodiscard]] std::string_view table_name(Table t) noexcept;
[[nodiscard]] std::span<const Column> columns(Table t) noexcept;

// The kinds of interval rows, as the `kind` column holds them.
inline constexpr std::string_view kKindService = "service";
inline constexpr std::string_view kKindDomain = "domain";
inline constexpr std::string_view kKindClient = "client";
inline constexpr std::string_view kKindServer = "server";
inline constexpr std::string_view kKindAction = "action";
inline constexpr std::string_view kKindDevice = "device";
inline constexpr std::string_view kKindClientDomain = "client_domain";

struct SchemaOptions {
    std::string database = "wiretally";
    // Non-empty: a cluster from the servers' <remote_servers>. Each server gets the local tables
    // (TABLE_local) and a Distributed table (TABLE) over them, sharded by the batch so that a batch
    // sent twice lands on one shard, where FINAL finds both copies.
    std::string cluster;
};

// The statements, each ending in ";\n", in the order to run them (database first). Run them on every
// server of a cluster (ON CLUSTER needs ZooKeeper, which a plain cluster of 18.16 servers lacks).
[[nodiscard]] std::string create_statements(const SchemaOptions& options);

// The table rows are inserted into: TABLE (the Distributed one on a cluster).
[[nodiscard]] std::string insert_target(std::string_view database, Table t);

} // namespace wt::app::clickhouse
