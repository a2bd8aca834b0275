// `wiretally ctl`: its command line, its request line, and run_ctl() against a real ControlServer
// (or a deliberately broken peer) with each exit code.
#include "app/control/client.hpp"

#include "app/control/server.hpp"
#include "tests/app/control/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace wt::app {
namespace {

using namespace wt::app::test;

// ---- the command line --------------------------------------------------------------------------

struct Parsed {
    CtlInvocation inv;
    std::string error; // empty: parsed
};

Parsed parse(std::vector<std::string> words) {
    Parsed parsed;
    CLI::App app{"wiretally"};
    app.require_subcommand(1);
    add_ctl_command(app, parsed.inv);
    words.insert(words.begin(), "wiretally");
    std::vector<char*> argv;
    for (auto& word : words) {
        argv.push_back(word.data());
    }
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
        // As main() does: what no command took, then run_ctl's own usage check.
        parsed.inv.unexpected = app.get_subcommand("ctl")->remaining();
        parsed.error = ctl_usage_error(parsed.inv);
    } catch (const CLI::ParseError& e) {
        parsed.error = e.get_name() + ": " + e.what();
    }
    return parsed;
}

TEST(CtlCommandLine, CommandWithoutArguments) {
    const Parsed p = parse({"ctl", "stats"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.inv.command, "stats");
    EXPECT_EQ(p.inv.args, nlohmann::json::object());
    EXPECT_FALSE(p.inv.json);
    EXPECT_EQ(p.inv.timeout_s, 10);
}

TEST(CtlCommandLine, EveryCommandIsKnown) {
    for (const char* command : {"stats", "services", "domains", "clients", "flows", "timeline", "reload", "snapshot",
                                "version", "config", "help", "report", "metrics"}) {
        const Parsed p = parse({"ctl", command});
        EXPECT_EQ(p.error, "") << command;
        EXPECT_EQ(p.inv.command, command);
    }
    EXPECT_NE(parse({"ctl", "bogus"}).error, "");
    EXPECT_NE(parse({"ctl"}).error, "") << "a command is required";
    // The message names the word and the commands there are.
    EXPECT_EQ(parse({"ctl", "bogus"}).error,
              "unknown command 'bogus'; the commands are stats, services, domains, clients, servers, devices, dns, flows, timeline, mark, "
              "actions, report, metrics, reload, snapshot, version, config, help");
    EXPECT_EQ(parse({"ctl", "stats", "--top", "3"}).error, "unexpected argument '--top'; see wiretally ctl stats --help");
}

TEST(CtlCommandLine, OptionsBecomeArguments) {
    Parsed p = parse({"ctl", "flows", "--top", "5", "--service", "netflix"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.inv.args, (nlohmann::json{{"top", 5}, {"service", "netflix"}}));
    p = parse({"ctl", "timeline", "--service", "zoom", "--last", "600"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.inv.args, (nlohmann::json{{"service", "zoom"}, {"last", 600}}));
    p = parse({"ctl", "domains", "--top", "3"});
    EXPECT_EQ(p.inv.args, (nlohmann::json{{"top", 3}}));
    p = parse({"ctl", "clients", "--top", "7"});
    EXPECT_EQ(p.inv.args, (nlohmann::json{{"top", 7}}));
}

TEST(CtlCommandLine, MarkNeedsALabel) {
    Parsed p = parse({"ctl", "mark", "App launch"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.inv.command, "mark");
    EXPECT_EQ(p.inv.args, (nlohmann::json{{"label", "App launch"}}));
    EXPECT_NE(parse({"ctl", "mark"}).error, "");
    EXPECT_NE(parse({"ctl", "mark", ""}).error, "");
}

TEST(CtlCommandLine, BadValuesAreUsageErrors) {
    EXPECT_NE(parse({"ctl", "domains", "--top", "0"}).error, "");
    EXPECT_NE(parse({"ctl", "domains", "--top", "many"}).error, "");
    EXPECT_NE(parse({"ctl", "--timeout", "0", "stats"}).error, "");
    EXPECT_NE(parse({"ctl", "--timeout", "-1", "stats"}).error, "");
    EXPECT_NE(parse({"ctl", "stats", "--top", "3"}).error, "") << "stats takes no --top";
    EXPECT_NE(parse({"ctl", "timeline", "--last", "0"}).error, "");
    EXPECT_NE(parse({"ctl", "flows", "--service", ""}).error, "");
}

TEST(CtlCommandLine, GlobalOptionsGoBeforeOrAfterTheCommand) {
    Parsed p = parse({"ctl", "--json", "--timeout", "2.5", "--socket", "/x.sock", "services"});
    ASSERT_EQ(p.error, "");
    EXPECT_TRUE(p.inv.json);
    EXPECT_EQ(p.inv.timeout_s, 2.5);
    EXPECT_EQ(p.inv.socket, "/x.sock");
    p = parse({"ctl", "services", "--json", "--socket", "/y.sock"});
    ASSERT_EQ(p.error, "");
    EXPECT_TRUE(p.inv.json);
    EXPECT_EQ(p.inv.socket, "/y.sock");
}

TEST(CtlCommandLine, EnvironmentReplacesTheDefaultSocketButNotAnExplicitOne) {
    EXPECT_EQ(parse({"ctl", "stats"}).inv.socket, "/run/wiretally/wiretally.sock");
    ::setenv("WIRETALLY_SOCKET", "/env/wt.sock", 1);
    const Parsed from_env = parse({"ctl", "stats"});
    const Parsed explicit_path = parse({"ctl", "--socket", "/cli/wt.sock", "stats"});
    ::unsetenv("WIRETALLY_SOCKET");
    EXPECT_EQ(from_env.inv.socket, "/env/wt.sock");
    EXPECT_EQ(explicit_path.inv.socket, "/cli/wt.sock");
}

TEST(CtlCommandLine, HelpListsCommandsOptionsAndExitCodes) {
    CLI::App app{"wiretally"};
    CtlInvocation inv;
    CLI::App* ctl = add_ctl_command(app, inv);
    const std::string help = ctl->help();
    for (const char* expected : {"--socket", "--json", "--timeout", "WIRETALLY_SOCKET", "stats", "services", "domains",
                                 "clients", "flows", "timeline", "mark", "reload", "snapshot", "version", "config",
                                 "help", "69", "75", "76"}) {
        EXPECT_NE(help.find(expected), std::string::npos) << expected << "\n" << help;
    }
    const std::string flows_help = ctl->get_subcommand("flows")->help();
    EXPECT_NE(flows_help.find("--top"), std::string::npos) << flows_help;
    EXPECT_NE(flows_help.find("--service"), std::string::npos) << flows_help;
}

TEST(CtlRequest, IsOneJsonLineInTheDocumentedOrder) {
    CtlInvocation inv;
    inv.command = "services";
    inv.args = {{"top", 10}};
    EXPECT_EQ(ctl_request_line(inv), R"({"command":"services","args":{"top":10},"format":"table"})");
    inv.json = true;
    inv.args = nlohmann::json::object();
    EXPECT_EQ(ctl_request_line(inv), R"({"command":"services","args":{},"format":"json"})");
    inv.command = "mark";
    inv.args = {{"label", "caf\xc3\xa9\nline two"}};
    EXPECT_EQ(ctl_request_line(inv), R"({"command":"mark","args":{"label":"café\nline two"},"format":"json"})");
    inv.args = {{"label", "bad \xff utf8"}};
    EXPECT_NE(ctl_request_line(inv).find("bad \xef\xbf\xbd utf8"), std::string::npos);
}

// ---- run_ctl against a server ------------------------------------------------------------------

// Captures what run_ctl prints.
struct Output {
    Output() : out(std::tmpfile()), err(std::tmpfile()) {}
    ~Output() {
        std::fclose(out);
        std::fclose(err);
    }
    static std::string read(std::FILE* f) {
        std::fflush(f);
        std::rewind(f);
        std::string text;
        char chunk[65536];
        for (std::size_t n; (n = std::fread(chunk, 1, sizeof(chunk), f)) > 0;) {
            text.append(chunk, n);
        }
        return text;
    }
    std::string stdout_text() { return read(out); }
    std::string stderr_text() { return read(err); }
    std::FILE* out;
    std::FILE* err;
};

// A stand-in for the daemon's command handler.
std::string fake_daemon(std::string_view line) {
    const auto request = nlohmann::json::parse(line, nullptr, false);
    if (request.is_discarded()) {
        return R"({"ok":false,"error":"request is not JSON"})";
    }
    const std::string command = request.value("command", "");
    const bool table = request.value("format", "") == "table";
    if (command == "stats") {
        return table ? R"({"ok":true,"text":"packets   42\nflows      7\n"})"
                     : R"({"ok":true,"result":{"packets":42,"flows":7}})";
    }
    if (command == "echo") { // the arguments, as received
        return nlohmann::json{{"ok", true}, {"result", request["args"]}}.dump();
    }
    if (command == "big") {
        return nlohmann::json{{"ok", true}, {"text", std::string(5 << 20, 'x')}}.dump();
    }
    if (command == "garbage") {
        return "this is not json";
    }
    if (command == "array") {
        return "[1,2,3]";
    }
    return nlohmann::json{{"ok", false}, {"error", "unknown command '" + command + "'"}}.dump();
}

class CtlAgainstServer : public ::testing::Test {
protected:
    void SetUp() override {
        thread.server().set_request_handler(fake_daemon);
        std::string error;
        ASSERT_TRUE(thread.server().listen_unix(dir / "wt.sock", 0600, "", error)) << error;
        thread.start();
        inv.socket = dir / "wt.sock";
        inv.timeout_s = 2;
    }
    int run(const std::string& command) {
        inv.command = command;
        return run_ctl(inv, output.out, output.err);
    }
    TempDir dir;
    ServerThread thread;
    CtlInvocation inv;
    Output output;
};

TEST_F(CtlAgainstServer, TextModePrintsTheTableAsIs) {
    EXPECT_EQ(run("stats"), kCtlExitOk);
    EXPECT_EQ(output.stdout_text(), "packets   42\nflows      7\n");
    EXPECT_EQ(output.stderr_text(), "");
}

TEST_F(CtlAgainstServer, JsonModePrettyPrintsTheResult) {
    inv.json = true;
    EXPECT_EQ(run("stats"), kCtlExitOk);
    EXPECT_EQ(output.stdout_text(), "{\n  \"flows\": 7,\n  \"packets\": 42\n}\n");
}

TEST_F(CtlAgainstServer, ArgumentsReachTheDaemon) {
    inv.json = true;
    inv.args = {{"top", 3}, {"service", "zoom"}};
    EXPECT_EQ(run("echo"), kCtlExitOk);
    EXPECT_EQ(nlohmann::json::parse(output.stdout_text()), inv.args);
}

TEST_F(CtlAgainstServer, DaemonErrorExitsOne) {
    EXPECT_EQ(run("nonsense"), kCtlExitDaemonError);
    EXPECT_EQ(output.stdout_text(), "");
    EXPECT_EQ(output.stderr_text(), "wiretally ctl: unknown command 'nonsense'\n");
}

TEST_F(CtlAgainstServer, NonJsonAnswerIsAProtocolError) {
    EXPECT_EQ(run("garbage"), kCtlExitProtocol);
    EXPECT_NE(output.stderr_text().find("not a JSON object: this is not json"), std::string::npos)
        << output.stderr_text();
    EXPECT_EQ(run("array"), kCtlExitProtocol);
}

TEST_F(CtlAgainstServer, ReadsAMultiMegabyteAnswer) {
    const auto start = Clock::now();
    EXPECT_EQ(run("big"), kCtlExitOk);
    const double ms = elapsed_ms(start);
    EXPECT_EQ(output.stdout_text(), std::string(5 << 20, 'x') + "\n");
    std::printf("[ measured ] 5 MB answer read and printed in %.1f ms\n", ms);
}

TEST_F(CtlAgainstServer, RefusedForTooManyClientsReportsTheDaemonsReason) {
    thread.stop();
    ControlLimits limits;
    limits.max_clients = 1;
    ServerThread crowded(limits);
    crowded.server().set_request_handler(fake_daemon);
    std::string error;
    ASSERT_TRUE(crowded.server().listen_unix(dir / "crowded.sock", 0600, "", error)) << error;
    crowded.start();
    const int occupant = connect_unix(dir / "crowded.sock");
    ASSERT_GE(occupant, 0);
    // Accepted first (the backlog is first in, first out), so the ctl client is the one refused.
    inv.socket = dir / "crowded.sock";
    EXPECT_EQ(run("stats"), kCtlExitDaemonError);
    EXPECT_EQ(output.stderr_text(), "wiretally ctl: too many clients (1)\n");
    ::close(occupant);
}

// ---- run_ctl without a working daemon ----------------------------------------------------------

TEST(CtlFailures, NoSocketExits69WithAHint) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "absent.sock";
    inv.command = "stats";
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUnavailable);
    const std::string err = output.stderr_text();
    EXPECT_NE(err.find(inv.socket), std::string::npos) << err;
    EXPECT_NE(err.find("is wiretally running? see --socket"), std::string::npos) << err;
}

// With --json a script reads JSON on stdout whatever went wrong: the daemon's error form, plus the exit code.
TEST(CtlFailures, WithJsonEveryErrorIsJsonOnStdout) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "absent.sock";
    inv.command = "stats";
    inv.json = true;
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUnavailable);
    const auto reply = nlohmann::json::parse(output.stdout_text());
    EXPECT_EQ(reply["ok"], false);
    EXPECT_EQ(reply["exit_code"], kCtlExitUnavailable);
    EXPECT_NE(reply["error"].get<std::string>().find("is wiretally running?"), std::string::npos);
    EXPECT_NE(output.stderr_text().find("is wiretally running?"), std::string::npos) << "people still read stderr";

    Output usage;
    inv.unexpected = {"bogus"};
    inv.command.clear();
    EXPECT_EQ(run_ctl(inv, usage.out, usage.err), kCtlExitUsage);
    EXPECT_EQ(nlohmann::json::parse(usage.stdout_text())["exit_code"], kCtlExitUsage);
}

TEST(CtlFailures, StaleSocketFileExits69) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "stale.sock";
    inv.command = "stats";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, inv.socket.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd); // bound, never listened: connect is refused
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUnavailable);
    EXPECT_NE(output.stderr_text().find("Connection refused"), std::string::npos) << output.stderr_text();
}

// A peer that accepts and reads, then answers `reply` (if any) and closes or stays silent.
class FakePeer {
public:
    FakePeer(const std::string& path, std::string reply, bool close_after) {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        EXPECT_EQ(::bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::listen(listener_, 4), 0);
        thread_ = std::thread([this, reply = std::move(reply), close_after] {
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) {
                return;
            }
            LineReader reader(fd);
            std::string request;
            reader.next(request);
            send_all(fd, reply);
            if (!close_after) {
                std::unique_lock lock(mutex_);
                done_.wait(lock, [this] { return finished_; });
            }
            ::close(fd);
        });
    }
    ~FakePeer() {
        {
            std::lock_guard lock(mutex_);
            finished_ = true;
        }
        done_.notify_all();
        ::shutdown(listener_, SHUT_RDWR); // wakes a pending accept()
        thread_.join();
        ::close(listener_);
    }

private:
    int listener_ = -1;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable done_;
    bool finished_ = false;
};

TEST(CtlFailures, SilentDaemonTimesOutWith75) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "silent.sock";
    inv.command = "stats";
    inv.timeout_s = 0.2;
    FakePeer peer(inv.socket, "", false);
    Output output;
    const auto start = Clock::now();
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitTimeout);
    const double ms = elapsed_ms(start);
    EXPECT_GE(ms, 190.0);
    EXPECT_LT(ms, 600.0);
    EXPECT_NE(output.stderr_text().find("no answer"), std::string::npos) << output.stderr_text();
    std::printf("[ measured ] silent daemon, --timeout 0.2: exit 75 after %.1f ms\n", ms);
}

TEST(CtlFailures, HalfAnAnswerThenSilenceTimesOutWith75) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "half.sock";
    inv.command = "stats";
    inv.timeout_s = 0.2;
    FakePeer peer(inv.socket, R"({"ok":tr)", false);
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitTimeout);
    EXPECT_NE(output.stderr_text().find("no complete answer"), std::string::npos) << output.stderr_text();
}

TEST(CtlFailures, ConnectionClosedBeforeTheNewlineIs76) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "closing.sock";
    inv.command = "stats";
    FakePeer peer(inv.socket, R"({"ok":true,"text":"trunc)", true);
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitProtocol);
    EXPECT_NE(output.stderr_text().find("closed the connection before a complete answer"), std::string::npos)
        << output.stderr_text();
}

TEST(CtlFailures, AnswerWithoutOkIs76) {
    TempDir dir;
    CtlInvocation inv;
    inv.socket = dir / "nook.sock";
    inv.command = "stats";
    FakePeer peer(inv.socket, "{\"result\":1}\n", true);
    Output output;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitProtocol);
}

TEST(CtlFailures, UsageErrorsExit64) {
    Output output;
    CtlInvocation inv;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUsage) << "no command";
    inv.unexpected = {"bogus"};
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUsage) << "unknown command";
    inv.unexpected.clear();
    inv.command = "stats";
    inv.socket = "/tmp/" + std::string(200, 's');
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUsage) << "path too long";
    inv.socket = "/tmp/x.sock";
    inv.timeout_s = 0;
    EXPECT_EQ(run_ctl(inv, output.out, output.err), kCtlExitUsage) << "zero timeout";
}

} // namespace
} // namespace wt::app
