// `wiretally run`: the live appliance.
//
//   worker lcores (one RX/TX queue pair on every port each, run to completion):
//     rx burst -> MbufInput -> Worker (parse, flow, extract, classify, tally) -> tx burst (inline) / free (tap)
//   main lcore = the stats core:
//     every interval: hands each worker a cleared spare tally; the worker swaps it in
//     between two bursts and publishes its counters; the retired tally is absorbed into
//     the cumulative one, the timeline gets the interval's per-service sums. The stats
//     core never reads a table a worker is writing, and a worker never waits for it.
//     It also answers the control socket (and through it the HTTP listener) and DPDK telemetry, and
//     applies `mark`, `reload` (new classifier handed over the same way) and snapshots.
#pragma once

#include "app/config/config.hpp"
#include "app/live/ports.hpp"
#include "pipeline/worker.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <vector>

namespace wt::app {

struct RunSettings {
    std::string config_source;           // the configuration file, for messages
    nlohmann::json config_json;          // the effective configuration (`ctl config`)
    std::vector<std::string> eal_args;   // without argv[0]
    bool inline_mode = true;
    std::size_t workers = 1;
    std::uint16_t burst = 32;
    std::uint32_t poll_sleep_us = 0;  ///< [run] poll_sleep_us: a worker's sleep after an empty round of polls
    unsigned mbufs = 0;                  // per port; 0 = sized from descriptors
    std::vector<PortSpec> ports;
    std::vector<int> peers;              // inline: index of the port each forwards to
    pipeline::WorkerConfig worker;
    std::string services_file;           // "" = embedded default
    std::vector<std::string> ipdb_files; // MaxMind DB files for hosting; empty: the default data set
    bool use_default_ipdb = true;
    std::uint64_t stats_interval_ns = 1'000'000'000ull;
    std::uint64_t history_ns = 3600ull * 1'000'000'000ull;
    std::string socket_path;
    mode_t socket_mode = 0660;
    std::string socket_group;
    std::size_t max_clients = 64;
    std::size_t max_request_bytes = 65536;
    std::uint32_t idle_timeout_ms = 300000;
    bool telemetry = true;
    std::string snapshot_file;
    bool resume = false;
    std::uint64_t snapshot_interval_ns = 0;
    std::size_t metrics_max_services = 256;
    std::string http_listen; // the dashboard, /api and /metrics; empty: off
    std::string http_token;  // POST /api/mark's token; empty: read-only
    FleetConfig fleet;           // who this appliance is, on exported rows
    ClickHouseConfig clickhouse; // export to ClickHouse; urls empty: off
    RemoteWriteConfig remote_write; // Prometheus remote write; urls empty: off
};

// Runs until SIGINT/SIGTERM; returns a sysexits code (0 after a clean drain and snapshot).
int run_appliance(const RunSettings& settings);

} // namespace wt::app
