// The control protocol's commands, declared once: the daemon's request dispatcher and its
// `help` answer, and the `wiretally ctl` subcommands with their options, come from
// kControlCommands.
//
// Wire protocol (one line each way, UTF-8 JSON, '\n'-terminated):
//   request  {"command":"domains","args":{"top":10},"format":"table"|"json"}
//   answer   {"ok":true,"text":"<table rendered by the daemon>"}   for format "table"
//            {"ok":true,"result":<any JSON>}                       for format "json"
//            {"ok":false,"error":"message"}
// The daemon renders tables itself (as vppctl does), so live tables and the offline report
// share one renderer (app/report) and the client stays a thin pipe.
//
// A new command: a row in kControlCommands, a method on ControlResponder and its case in
// answer_control_request() (commands.cpp), the method in the live appliance
// (app/live/control_answers.cpp), and its table in app/report when it has one.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace wt::app {

// The arguments a command takes ("--top N" on the ctl command line is "args":{"top":N}).
enum ControlArg : unsigned {
    kArgNone = 0,
    kArgTop = 1u << 0,     // --top N: rows shown, largest first
    kArgService = 1u << 1, // --service S: one service, by name (case-insensitive)
    kArgLast = 1u << 2,    // --last SECONDS: only the newest intervals
    kArgLabel = 1u << 3,   // LABEL: an action's name
    kArgDevice = 1u << 4,  // --device MAC: one device
};

struct ControlCommand {
    std::string_view name;
    unsigned args;         // ControlArg bits
    std::string_view usage; // the arguments as a ctl user types them
    std::string_view help;  // one line: the daemon's `help` and `ctl --help`
    std::string_view rows;  // what --top counts, for its help ("domains")
};

inline constexpr std::array<ControlCommand, 18> kControlCommands = {{
    {"stats", kArgNone, "",
     "ports (rx/tx, drops, imissed, rx_nombuf), workers (pps, busy share), flow tables, parse errors", ""},
    {"services", kArgNone, "", "per-service connections, clients, bytes each way, TLS versions, QUIC, DNS, ECH, DoT, HTTP",
     ""},
    {"domains", kArgTop, "[--top N]", "per-domain connections, bytes and clients, largest first", "domains"},
    {"clients", kArgTop, "[--top N]", "per (client, service) connections and bytes, largest first", "clients"},
    {"servers", kArgTop, "[--top N]",
     "per server address: the names used for it, flows, bytes each way, AS, organisation, country", "servers"},
    {"devices", kArgTop | kArgDevice, "[--top N] [--device MAC]",
     "clients grouped by MAC address: vendor (IEEE registry) or randomised, addresses, flows, bytes, services; "
     "with --device, that device alone with the domains it talked to",
     "devices"},
    {"dns", kArgNone, "",
     "encrypted DNS: DoT attempts and their fate, DoH and DoQ per server, plain DNS after a failed DoT attempt", ""},
    {"flows", kArgTop | kArgService, "[--top N] [--service S]", "flows in progress and recently ended, largest first",
     "flows"},
    {"timeline", kArgService | kArgLast, "[--service S] [--last SECONDS]",
     "per-service bytes and flows per stats interval", ""},
    {"mark", kArgLabel, "LABEL",
     "the action under way from now on: connections opened from now on are new in it, and the bytes of every flow "
     "(new or reused) count in it while they pass", ""},
    {"actions", kArgTop, "[--top N]",
     "the action under way and the labels marked so far; per action, its N largest names (or unnamed servers): "
     "connections new and reused, DNS lookups, bytes moved during the action, TLS versions, ciphers and notes",
     "rows"},
    {"report", kArgLast, "[--last SECONDS]",
     "the whole report as analyze writes it (JSON: services, domains, servers, actions, devices, encrypted DNS), with "
     "the timeline of the last SECONDS by service, the lanes of the largest flows in progress and recently ended, and "
     "the action under way: what the dashboard draws", ""},
    {"metrics", kArgNone, "",
     "the Prometheus text exposition, as the HTTP listener serves it on GET /metrics", ""},
    {"reload", kArgNone, "", "re-read the configuration's [services]; on error the current services stay", ""},
    {"snapshot", kArgNone, "", "write the tallies to the snapshot file now", ""},
    {"version", kArgNone, "", "wiretally and DPDK versions, uptime", ""},
    {"config", kArgNone, "", "the effective configuration", ""},
    {"help", kArgNone, "", "this list", ""},
}};

// Defaults of the arguments when a request leaves them out.
inline constexpr std::size_t kDefaultTopRows = 40;
inline constexpr std::size_t kDefaultTimelineSeconds = 300;

// A request once parsed and checked; arguments a command does not take are left at their defaults.
struct ControlRequest {
    const ControlCommand* command = nullptr;
    bool table = false; // "format":"table"
    std::size_t top = kDefaultTopRows;
    std::size_t last_s = kDefaultTimelineSeconds;
    std::string service; // "" = all
    std::string label;
    std::string device; // a MAC as given; "" = all
};

// Answer lines.
[[nodiscard]] std::string control_result(const nlohmann::json& result);
// A result already written as JSON text (a large one, written without a DOM).
[[nodiscard]] std::string control_result_json_text(std::string_view json_text);
[[nodiscard]] std::string control_text(std::string text);
[[nodiscard]] std::string control_error(std::string_view message);

// What answers the commands: the live appliance, on its stats core. Each method returns an
// answer line made with the functions above; `help` is answered here from kControlCommands.
class ControlResponder {
public:
    virtual ~ControlResponder() = default;
    virtual std::string stats(const ControlRequest& request) = 0;
    virtual std::string services(const ControlRequest& request) = 0;
    virtual std::string domains(const ControlRequest& request) = 0;
    virtual std::string clients(const ControlRequest& request) = 0;
    virtual std::string servers(const ControlRequest& request) = 0;
    virtual std::string dns(const ControlRequest& request) = 0;
    virtual std::string flows(const ControlRequest& request) = 0;
    virtual std::string timeline(const ControlRequest& request) = 0;
    virtual std::string mark(const ControlRequest& request) = 0;
    virtual std::string actions(const ControlRequest& request) = 0;
    virtual std::string devices(const ControlRequest& request) = 0;
    virtual std::string report(const ControlRequest& request) = 0;
    virtual std::string metrics(const ControlRequest& request) = 0;
    virtual std::string reload(const ControlRequest& request) = 0;
    virtual std::string snapshot(const ControlRequest& request) = 0;
    virtual std::string version(const ControlRequest& request) = 0;
    virtual std::string config(const ControlRequest& request) = 0;
};

// One request line in, one answer line out; a malformed request or argument is answered with
// ok:false and the reason. Never throws a JSON error (a value JSON cannot hold as asked, such as
// 1e400 for an integer, is a bad request).
[[nodiscard]] std::string answer_control_request(std::string_view line, ControlResponder& responder);

} // namespace wt::app
