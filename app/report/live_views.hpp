// The live appliance's own views for people: `ctl stats` and `ctl flows` as tables, from
// the JSON results the same commands answer with --json (so both always agree). The views
// the offline report also has (services, domains, clients) are report_table.cpp's.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace wt::app {

// `ctl stats`: ports, workers, flows, parse errors, offloads, the control server.
[[nodiscard]] std::string render_stats_table(const nlohmann::json& stats);

// `ctl flows`: one row a flow, columns sized to what they show within 100 characters.
[[nodiscard]] std::string render_flows_table(const nlohmann::json& flows);

} // namespace wt::app
