#include "app/control/client.hpp"
#include "app/control/commands.hpp"
#include "app/control/fd_guard.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <thread>

namespace wt::app {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCtlFooter = R"(The daemon renders the tables; --json prints its JSON result instead.

Exit codes:
  0   the daemon answered
  1   the daemon answered with an error
  64  usage error
  69  the control socket cannot be connected
  74  the answer cannot be written to stdout
  75  no complete answer within --timeout
  76  the answer is not one JSON line (protocol error))";

// Far above any real answer (the flows table of a full appliance is a few MB); only a runaway
// peer reaches it.
constexpr std::size_t kMaxAnswerBytes = std::size_t{1} << 30;
constexpr std::size_t kMinReadChunk = 64 * 1024;


enum class WaitResult { kReady, kTimeout, kError };

// Waits for `events` on fd until the deadline, restarting on EINTR.
WaitResult wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            return WaitResult::kTimeout;
        }
        pollfd pfd{fd, events, 0};
        const int rc = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        if (rc > 0) {
            return WaitResult::kReady; // POLLERR/POLLHUP too: the next recv/send reports what happened
        }
        if (rc < 0 && errno != EINTR) {
            return WaitResult::kError;
        }
    }
}

CLI::Validator non_empty() {
    return CLI::Validator(
        [](const std::string& value) { return value.empty() ? std::string("must not be empty") : std::string(); }, "");
}

CLI::Validator positive_seconds() {
    return CLI::Validator(
        [](const std::string& value) {
            double seconds = 0;
            const bool number = CLI::detail::lexical_cast(value, seconds);
            return number && seconds > 0 && seconds <= 1e6 ? std::string()
                                                           : std::string("must be seconds above 0, e.g. 0.5 or 30");
        },
        "");
}

std::string connect_failure(const std::string& path, int error_number) {
    return fmt::format("cannot connect to {}: {}; {}", path, errno_text(error_number),
                       error_number == EACCES ? "the socket is restricted to its owner and group: run as root or as "
                                                "a member of that group (see --socket)"
                                              : "is wiretally running? see --socket (or WIRETALLY_SOCKET)");
}

} // namespace

CLI::App* add_ctl_command(CLI::App& parent, CtlInvocation& inv) {
    CLI::App* ctl = parent.add_subcommand("ctl", "Query a running wiretally daemon over its control socket");
    ctl->add_option("--socket", inv.socket, "control socket of the daemon")
        ->type_name("PATH")
        ->envname("WIRETALLY_SOCKET")
        ->capture_default_str();
    ctl->add_flag("--json", inv.json, "print the daemon's JSON result (indented) instead of its table");
    ctl->add_option("--timeout", inv.timeout_s, "seconds to wait for the whole answer")
        ->type_name("SECONDS")
        ->check(positive_seconds())
        ->capture_default_str();
    // No command, or an unknown word, is reported by run_ctl with the list of commands (CLI11 would
    // only say "A subcommand is required").
    ctl->require_subcommand(0, 1);
    ctl->allow_extras();
    ctl->footer(kCtlFooter);

    // One subcommand per daemon command (control/commands.hpp). Options store into inv.args only
    // when given, so that the daemon applies its own defaults.
    for (const ControlCommand& c : kControlCommands) {
        const std::string name(c.name);
        CLI::App* command = ctl->add_subcommand(name, std::string(c.help));
        inv.commands.push_back(name);
        // Lets `ctl stats --json` work as well as `ctl --json stats`.
        command->fallthrough();
        command->callback([&inv, name] { inv.command = name; });
        if ((c.args & kArgTop) != 0) {
            command
                ->add_option_function<std::uint64_t>(
                    "--top", [&inv](const std::uint64_t& n) { inv.args["top"] = n; },
                    fmt::format("show the N largest {} (1 to 1000000)", c.rows))
                ->type_name("N")
                ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}).description(""));
        }
        if ((c.args & kArgService) != 0) {
            command
                ->add_option_function<std::string>(
                    "--service", [&inv](const std::string& v) { inv.args["service"] = v; }, "only this service")
                ->type_name("SERVICE")
                ->check(non_empty());
        }
        if ((c.args & kArgDevice) != 0) {
            command
                ->add_option_function<std::string>(
                    "--device", [&inv](const std::string& v) { inv.args["device"] = v; },
                    "only this device (its MAC, aa:bb:cc:dd:ee:ff), with the domains it talked to")
                ->type_name("MAC")
                ->check(non_empty());
        }
        if ((c.args & kArgLast) != 0) {
            command
                ->add_option_function<std::uint64_t>(
                    "--last", [&inv](const std::uint64_t& v) { inv.args["last"] = v; }, "only the last SECONDS")
                ->type_name("SECONDS")
                ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10} * 366 * 86400).description(""));
        }
        if ((c.args & kArgLabel) != 0) {
            command
                ->add_option_function<std::string>(
                    "LABEL", [&inv](const std::string& label) { inv.args["label"] = label; }, "the action's name")
                ->type_name("")
                ->required()
                ->check(non_empty());
        }
    }
    return ctl;
}

std::string ctl_request_line(const CtlInvocation& inv) {
    // Ordered as documented, so a request read in a trace or typed into socat looks the same.
    nlohmann::ordered_json request;
    request["command"] = inv.command;
    request["args"] = inv.args.is_object() ? nlohmann::ordered_json(inv.args) : nlohmann::ordered_json::object();
    request["format"] = inv.json ? "json" : "table";
    // replace: a label with invalid UTF-8 is sent with U+FFFD instead of throwing.
    return request.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ctl_usage_error(const CtlInvocation& inv) {
    const std::string known = fmt::format("{}", fmt::join(inv.commands, ", "));
    if (!inv.unexpected.empty()) {
        const std::string& word = inv.unexpected.front();
        return inv.command.empty() && !word.starts_with("-")
                   ? fmt::format("unknown command '{}'; the commands are {}", word, known)
                   : fmt::format("unexpected argument '{}'; see wiretally ctl {}--help", word,
                                 inv.command.empty() ? "" : inv.command + " ");
    }
    if (inv.command.empty()) {
        return fmt::format("no command given; the commands are {}", known);
    }
    return {};
}

int exchange_control_line(const std::string& socket, const std::string& request_line, double timeout_s,
                          std::string& answer, std::string& error) {
    const auto fail = [&](int code, std::string message) {
        error = std::move(message);
        return code;
    };
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.empty() || socket.size() >= sizeof(addr.sun_path)) {
        return fail(kCtlExitUsage, fmt::format("'{}': a socket path must have 1 to {} bytes", socket,
                                               sizeof(addr.sun_path) - 1));
    }
    std::memcpy(addr.sun_path, socket.data(), socket.size());
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
    auto timed_out = [&](const char* what) {
        return fail(kCtlExitTimeout, fmt::format("{} within {:g} s ({}; see --timeout)", what, timeout_s, socket));
    };

    FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return fail(kCtlExitUnavailable, connect_failure(socket, errno));
    }
    // A non-blocking Unix connect either succeeds at once or fails; EAGAIN means the daemon's
    // backlog is full, so retry until the deadline.
    for (;;) {
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EINPROGRESS) {
            return fail(kCtlExitUnavailable, connect_failure(socket, errno));
        }
        if (Clock::now() >= deadline) {
            return timed_out("the daemon accepted no connection");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    const std::string request = request_line + '\n';
    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            const WaitResult wait = wait_for(fd.get(), POLLOUT, deadline);
            if (wait == WaitResult::kTimeout) {
                return timed_out("the request could not be sent");
            }
            if (wait == WaitResult::kError) {
                return fail(kCtlExitUnavailable, fmt::format("poll: {}", errno_text(errno)));
            }
            continue;
        }
        // EPIPE, ECONNRESET: the daemon hung up (too many clients, shutting down); its reason may
        // already be waiting to be read.
        break;
    }

    answer.clear();
    std::size_t newline = std::string::npos;
    while (newline == std::string::npos) {
        if (answer.size() >= kMaxAnswerBytes) {
            return fail(kCtlExitProtocol, fmt::format("the answer exceeds {} bytes without a newline", kMaxAnswerBytes));
        }
        const std::size_t old_size = answer.size();
        // Grow geometrically: a multi-MB answer takes a few dozen reads, not thousands.
        const std::size_t chunk = std::min(std::max(kMinReadChunk, old_size), kMaxAnswerBytes - old_size);
        answer.resize(old_size + chunk);
        const ssize_t n = ::recv(fd.get(), answer.data() + old_size, chunk, 0);
        answer.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n > 0) {
            const auto* found = static_cast<const char*>(std::memchr(answer.data() + old_size, '\n', static_cast<std::size_t>(n)));
            if (found != nullptr) {
                newline = static_cast<std::size_t>(found - answer.data());
            }
            continue;
        }
        if (n == 0) {
            return fail(kCtlExitProtocol, fmt::format("{} closed the connection before a complete answer ({} bytes received)",
                       socket, answer.size()));
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            const WaitResult wait = wait_for(fd.get(), POLLIN, deadline);
            if (wait == WaitResult::kTimeout) {
                return timed_out(answer.empty() ? "no answer" : "no complete answer");
            }
            if (wait == WaitResult::kError) {
                return fail(kCtlExitUnavailable, fmt::format("poll: {}", errno_text(errno)));
            }
            continue;
        }
        return fail(kCtlExitProtocol, fmt::format("reading from {}: {} ({} bytes received)", socket, errno_text(errno),
                   answer.size()));
    }
    answer.resize(newline);
    if (!answer.empty() && answer.back() == '\r') {
        answer.pop_back();
    }
    return kCtlExitOk;
}

int run_ctl(const CtlInvocation& inv, std::FILE* out, std::FILE* err) {
    // Every failure: one line on stderr, and with --json also the daemon's own error form on stdout,
    // so that a script reading JSON gets JSON whatever happened.
    const auto fail = [&](int code, const std::string& message) {
        fmt::print(err, "wiretally ctl: {}\n", message);
        if (inv.json) {
            fmt::print(out, "{}\n",
                       nlohmann::json{{"ok", false}, {"error", message}, {"exit_code", code}}.dump(
                           2, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        return code;
    };
    if (const std::string usage = ctl_usage_error(inv); !usage.empty()) {
        return fail(kCtlExitUsage, usage);
    }
    if (!(inv.timeout_s > 0) || inv.timeout_s > 1e6) {
        return fail(kCtlExitUsage, "--timeout must be between 0 and 1000000 seconds");
    }
    std::string answer;
    std::string error;
    if (const int code = exchange_control_line(inv.socket, ctl_request_line(inv), inv.timeout_s, answer, error);
        code != kCtlExitOk) {
        return fail(code, error);
    }

    const nlohmann::json reply = nlohmann::json::parse(answer, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) {
        return fail(kCtlExitProtocol, fmt::format("the answer is not a JSON object: {:.80}{}", answer,
                   answer.size() > 80 ? "..." : ""));
    }
    const auto ok = reply.find("ok");
    if (ok == reply.end() || !ok->is_boolean()) {
        return fail(kCtlExitProtocol, fmt::format("the answer has no boolean \"ok\": {:.80}{}", answer,
                   answer.size() > 80 ? "..." : ""));
    }
    const auto dump = [](const nlohmann::json& value) {
        return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    if (!ok->get<bool>()) {
        const auto error = reply.find("error");
        const std::string message = error == reply.end()  ? std::string("the daemon reported an error")
                                    : error->is_string() ? error->get<std::string>()
                                                         : dump(*error);
        return fail(kCtlExitDaemonError, fmt::format("{}", message));
    }
    // Print what the daemon sent, whichever form it chose.
    std::string printed;
    const auto text = reply.find("text");
    const auto result = reply.find("result");
    if (inv.json && result != reply.end()) {
        printed = dump(*result);
    } else if (text != reply.end() && text->is_string()) {
        printed = text->get<std::string>();
    } else if (result != reply.end()) {
        printed = dump(*result);
    }
    if (!printed.empty() && printed.back() != '\n') {
        printed.push_back('\n'); // keep the shell prompt on its own line
    }
    if ((!printed.empty() && std::fwrite(printed.data(), 1, printed.size(), out) != printed.size()) ||
        std::fflush(out) != 0) {
        return fail(kCtlExitIoError, fmt::format("cannot write the answer: {}", errno_text(errno)));
    }
    return kCtlExitOk;
}

} // namespace wt::app
