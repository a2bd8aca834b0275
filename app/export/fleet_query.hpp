// `wiretally query` (issue #19): the tables `ctl` prints, across every appliance that exports to one
// ClickHouse store, from SQL on its interval rows (clickhouse_schema.hpp). The rows of the interval tables
// are summed per key over the time asked for (read with FINAL: a batch stored twice counts once) and
// become a Report, which the same renderer as `ctl` and `analyze` prints.
#pragma once

#include "app/report/report.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace wt::app::clickhouse {

struct QueryOptions {
    std::string url;                  ///< http://HOST:PORT
    std::string database = "wiretally";
    std::string user = "default";
    std::string password_file;        ///< first line: the password; empty: none
    std::string view;                 ///< services, domains, clients, servers, actions, devices
    std::chrono::seconds since{3600}; ///< rows of intervals that began at most this long ago
    std::string site;                 ///< empty: every site
    std::string appliance;            ///< empty: every appliance
    bool json = false;
    std::size_t top = 40;
    std::chrono::milliseconds timeout{30'000};
};

// The views and the table sections they print, in the order --help lists them.
[[nodiscard]] const std::vector<std::string>& query_views();

// The fleet's Report for one view (only the tables the view needs are read), as `options.user` with
// `password` (read from options.password_file by the caller); false with `error` ("URL: reason") when the
// store cannot be read.
bool fleet_report(const QueryOptions& options, const std::string& password, Report& out, std::string& error);

// Prints the view (a table, or with json its rows as `ctl --json` gives them); returns an exit code:
// 0, 69 (the store cannot be reached or refused the query), 66 (the password file cannot be read).
int run_query(const QueryOptions& options);

} // namespace wt::app::clickhouse
