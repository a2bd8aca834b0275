// `wiretally ctl`: one request to a running daemon over its control socket, one answer printed.
// The commands and the wire protocol are in commands.hpp.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace wt::app {

struct CtlInvocation {
    std::string socket = "/run/wiretally/wiretally.sock"; // WIRETALLY_SOCKET overrides this default
    bool json = false;
    double timeout_s = 10;
    std::string command;
    nlohmann::json args = nlohmann::json::object();
    std::vector<std::string> commands;   // every command ctl knows, for messages (set by add_ctl_command)
    std::vector<std::string> unexpected; // words the command line had that no command or option takes
};

// sysexits.h codes, plus 1 for "the daemon answered with an error".
enum CtlExitCode : int {
    kCtlExitOk = 0,
    kCtlExitDaemonError = 1,  // the daemon answered ok:false
    kCtlExitUsage = 64,       // EX_USAGE
    kCtlExitUnavailable = 69, // EX_UNAVAILABLE: the socket cannot be connected
    kCtlExitIoError = 74,     // EX_IOERR: the answer cannot be written to stdout
    kCtlExitTimeout = 75,     // EX_TEMPFAIL: no complete answer within --timeout
    kCtlExitProtocol = 76,    // EX_PROTOCOL: the answer is not one JSON object line
};

// Adds "ctl" with one subcommand per daemon command; after parsing, the chosen command and its
// arguments are in `inv` (which must outlive parsing), and what no command took is in the returned
// subcommand's remaining() (for inv.unexpected). Returns the "ctl" subcommand.
CLI::App* add_ctl_command(CLI::App& parent, CtlInvocation& inv);

// What is wrong with the command line before anything is sent: an unknown command, no command, an
// argument no option takes ("" when nothing is). run_ctl reports it as a usage error (64).
std::string ctl_usage_error(const CtlInvocation& inv);

// The request line sent for `inv`, without its newline.
std::string ctl_request_line(const CtlInvocation& inv);

// One request line to the daemon's control socket, and its answer line (newline removed), within
// timeout_s: kCtlExitOk, or another CtlExitCode with the reason in `error`. What ctl and the HTTP
// gateway (http_gateway.hpp) both send requests with.
int exchange_control_line(const std::string& socket, const std::string& request_line, double timeout_s,
                          std::string& answer, std::string& error);

// Sends the request, waits at most inv.timeout_s for the answer and prints it; returns a CtlExitCode.
int run_ctl(const CtlInvocation& inv, std::FILE* out, std::FILE* err);
inline int run_ctl(const CtlInvocation& inv) { return run_ctl(inv, stdout, stderr); }

} // namespace wt::app
