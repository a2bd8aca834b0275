// `wiretally run`: configuration to RunSettings, then the appliance.
#include "app/live/run_command.hpp"

#include "app/exit_codes.hpp"
#include "app/live/appliance.hpp"
#include "app/config/config.hpp"
#include "app/config/environment.hpp"
#include "app/config/services_loader.hpp"
#include "pipeline/classify/classifier.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace wt::app {

namespace {

std::uint64_t to_ns(std::chrono::milliseconds d) {
    return static_cast<std::uint64_t>(d.count()) * 1'000'000ull;
}

RunSettings settings_from_config(const ApplianceConfig& c) {
    RunSettings s;
    s.config_source = c.source;
    s.config_json = config_to_json(c);
    s.eal_args = eal_arguments(c);
    s.inline_mode = c.run.mode == RunMode::kInline;
    s.workers = worker_count(c);
    s.burst = c.run.burst;
    s.poll_sleep_us = c.run.poll_sleep_us;
    s.mbufs = c.run.mbufs;
    for (const PortConfig& p : c.ports) {
        s.ports.push_back(PortSpec{p.name, p.device, p.rx_descriptors, p.tx_descriptors, p.promiscuous});
    }
    for (const PortConfig& p : c.ports) {
        int peer = -1;
        for (std::size_t i = 0; i < c.ports.size(); ++i) {
            if (c.ports[i].name == p.peer) {
                peer = static_cast<int>(i);
            }
        }
        s.peers.push_back(peer);
    }
    s.worker = pipeline::appliance_worker_config(c.flows.max_flows);
    pipeline::WorkerConfig& w = s.worker;
    w.prefault = true; // page faults belong at start, not on the data path
    w.tcp_idle_ns = to_ns(c.flows.tcp_idle);
    w.udp_idle_ns = to_ns(c.flows.udp_idle);
    w.closed_linger_ns = to_ns(c.flows.closed_linger);
    w.live_tally = true; // each stats interval gets the bytes that passed in it
    s.services_file = c.services.file;
    s.ipdb_files = c.hosting.ipdb;
    s.use_default_ipdb = c.hosting.use_default;
    s.stats_interval_ns = to_ns(c.stats.interval);
    s.history_ns = to_ns(c.stats.history);
    s.socket_path = c.control.socket;
    s.socket_mode = static_cast<mode_t>(c.control.mode);
    s.socket_group = c.control.group;
    s.max_clients = c.control.max_clients;
    s.max_request_bytes = c.control.max_request_bytes;
    s.idle_timeout_ms = static_cast<std::uint32_t>(c.control.idle_timeout.count());
    s.telemetry = c.control.telemetry;
    s.snapshot_file = c.snapshot.file;
    s.resume = c.snapshot.resume;
    s.snapshot_interval_ns = to_ns(c.snapshot.interval);
    s.metrics_max_services = c.metrics.max_services;
    s.http_listen = c.http.listen;
    s.http_token = c.http.token;
    s.fleet = c.fleet;
    s.clickhouse = c.clickhouse;
    s.remote_write = c.remote_write;
    return s;
}

} // namespace

int run_command(const RunOptions& options) {
    const std::string path = options.config.empty() ? default_config_path() : options.config;
    ConfigResult loaded = load_config_file(path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        fmt::print(stderr, "wiretally: {}\n", e->format());
        return kExitConfig;
    }
    const ApplianceConfig& config = std::get<ApplianceConfig>(loaded);
    for (const ConfigError& warning : config.warnings) {
        fmt::print(stderr, "wiretally: warning: {}\n", warning.format());
    }
    // The services file is part of the configuration: a bad one is the same class of
    // error (78, FILE:LINE), found before any port is touched.
    {
        LoadedServices services;
        std::string error;
        if (!load_services(config.services.file, services, error)) {
            fmt::print(stderr, "wiretally: {}\n", error);
            return kExitConfig;
        }
    }
    // What the machine must provide for this configuration, checked before anything starts: one line
    // each (FILE:LINE and the fix), the same for --check and for run.
    // A check beside the running instance (reconfiguring or upgrading the service) must not fail on what that
    // instance holds; a start must.
    const bool beside_running = options.check && instance_answers(config);
    if (beside_running) {
        fmt::print(stderr, "wiretally: a wiretally answers on {}: what it holds (that socket, the HTTP address, "
                           "hugepages) is not checked, the rest is\n", config.control.socket);
    }
    const std::vector<ConfigError> problems = check_environment(config, {}, beside_running);
    for (const ConfigError& problem : problems) {
        fmt::print(stderr, "wiretally: {}\n", problem.format());
    }
    if (options.check) {
        fmt::print("{}\n", config_to_json(config).dump(2));
        if (!problems.empty()) {
            fmt::print(stderr, "wiretally: {}: the configuration is valid, but this machine lacks {} thing(s) it needs "
                               "(above)\n", path, problems.size());
            return kExitConfig;
        }
        fmt::print(stderr, "wiretally: {}: configuration OK ({} mode, {} port(s), {} worker(s)); interfaces, PCI "
                           "devices, hugepages, the control socket's folder and the HTTP address checked\n",
                   path, to_string(config.run.mode), config.ports.size(), worker_count(config));
        return kExitOk;
    }
    if (!problems.empty()) {
        return kExitConfig;
    }
    // Under systemd with several RuntimeDirectory= entries, EAL would take their list as one path.
    if (const auto base = eal_runtime_base(std::getenv("RUNTIME_DIRECTORY"), config.eal.file_prefix)) {
        if (base->empty()) {
            ::unsetenv("RUNTIME_DIRECTORY");
        } else {
            ::setenv("RUNTIME_DIRECTORY", base->c_str(), 1);
        }
    }
    return run_appliance(settings_from_config(config));
}

} // namespace wt::app
