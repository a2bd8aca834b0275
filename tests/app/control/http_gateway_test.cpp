// The dashboard's HTTP listener (issue #16): HTTP by cpp-httplib, every request a control request on the
// daemon's socket (here a real ControlServer whose handler records the lines and answers as the daemon
// would). What a browser, a script and a hostile client each get.
#include "app/control/http_gateway.hpp"
#include "tests/app/control/test_support.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace wt::app {
namespace {

using nlohmann::json;
using test::ServerThread;
using test::TempDir;

constexpr const char* kMetrics = "# TYPE wiretally_packets_total counter\nwiretally_packets_total 42\n";

class Gateway : public ::testing::Test {
protected:
    void SetUp() override { start_daemon(); }
    void start_daemon() {
        daemon_.server().set_request_handler([this](std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
            const json request = json::parse(line);
            if (request["command"] == "report") {
                return std::string(R"({"ok":true,"result":{"current_action":null,"labels":[],"report":{"total":{"connections":3}}}})");
            }
            if (request["command"] == "metrics") {
                if (request.value("format", "") != "table") {
                    return std::string(R"({"ok":false,"error":"the gateway asks for the text form"})");
                }
                return metrics_answer_;
            }
            if (request["command"] == "mark") {
                const std::string label = request["args"]["label"];
                return label.empty() ? std::string(R"({"ok":false,"error":"a mark label is 1 to 64 characters"})")
                                     : json{{"ok", true}, {"result", {{"action", label}}}}.dump();
            }
            return std::string(R"({"ok":false,"error":"unexpected"})");
        });
        std::string error;
        ASSERT_TRUE(daemon_.server().listen_unix(dir_ / "wt.sock", 0600, "", error)) << error;
        daemon_.start();
    }
    void start_gateway(std::string token, std::string socket = "", HttpGuardLimits limits = {}) {
        std::string error;
        ASSERT_TRUE(gateway_.start(HttpGatewayOptions{"127.0.0.1:0", socket.empty() ? dir_ / "wt.sock" : socket,
                                                      std::move(token), 1.0, limits},
                                   error))
            << error;
        client_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_.port());
        client_->set_read_timeout(10, 0);
    }
    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }

    TempDir dir_;
    ServerThread daemon_;
    HttpGateway gateway_;
    std::unique_ptr<httplib::Client> client_;
    std::mutex mutex_;
    std::vector<std::string> lines_;
    std::string metrics_answer_ = json{{"ok", true}, {"text", kMetrics}}.dump();
};

TEST_F(Gateway, ServesThePageAndTheReport) {
    start_gateway("");
    const auto page = client_->Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page->body.find(R"(<script type="application/json" id="wiretally-report">null</script>)"), std::string::npos);
    const auto report = client_->Get("/api/report?last=60");
    ASSERT_TRUE(report);
    EXPECT_EQ(report->status, 200);
    EXPECT_EQ(json::parse(report->body)["report"]["total"]["connections"], 3);
    ASSERT_EQ(lines().size(), 1u);
    EXPECT_EQ(json::parse(lines()[0]), (json{{"command", "report"}, {"args", {{"last", 60}}}}));
    EXPECT_EQ(client_->Get("/api/report?last=0")->status, 400);
    EXPECT_EQ(client_->Get("/api/report?last=1e9")->status, 400);
    EXPECT_EQ(client_->Get("/favicon.ico")->status, 204);
    const auto missing = client_->Get("/etc/passwd");
    EXPECT_EQ(missing->status, 404);
    EXPECT_NE(missing->body.find("not found"), std::string::npos);
    EXPECT_EQ(lines().size(), 1u) << "refused requests never reach the daemon";
}

// Prometheus scrapes the same listener: `ctl metrics` as text, with the exposition format's content type.
TEST_F(Gateway, ServesMetricsForPrometheus) {
    start_gateway("");
    const auto metrics = client_->Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(metrics->body, kMetrics);
    EXPECT_EQ(client_->Get("/metrics?name[]=x")->body, kMetrics) << "the query is ignored";
    const auto head = client_->Head("/metrics");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->body, "");
    ASSERT_EQ(lines().size(), 3u);
    EXPECT_EQ(json::parse(lines()[0]), (json{{"command", "metrics"}, {"format", "table"}}));
    // The daemon failing to render them is the scraper's error, with the daemon's reason.
    {
        std::lock_guard lock(mutex_);
        metrics_answer_ = R"({"ok":false,"error":"internal error: tally busy"})";
    }
    const auto failed = client_->Get("/metrics");
    EXPECT_EQ(failed->status, 502);
    EXPECT_NE(failed->body.find("tally busy"), std::string::npos);
    EXPECT_EQ(client_->Post("/metrics", "x", "text/plain")->status, 404);
    // httplib counts a request once its answer is written: the client may read it a moment before.
    for (int i = 0; i < 100 && gateway_.counters().requests < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const HttpGatewayCounters counters = gateway_.counters();
    EXPECT_EQ(counters.requests, 5u);
    EXPECT_EQ(counters.errors, 2u);
}

// curl from PATH (scripts/packages.txt), as a user checks the endpoint; a missing curl fails the test.
TEST_F(Gateway, RealCurlScrapesMetrics) {
    start_gateway("");
    const std::string command = "curl -sS --max-time 5 -w '\\n%{http_code} %{content_type}' http://127.0.0.1:" +
                                std::to_string(gateway_.port()) + "/metrics 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char chunk[4096];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0;) {
        output.append(chunk, n);
    }
    EXPECT_EQ(::pclose(pipe), 0) << output;
    EXPECT_EQ(output, std::string(kMetrics) + "\n200 text/plain; version=0.0.4; charset=utf-8");
}

// What a scanner or a confused client sends: an answer with a status, never a hang or a crash.
TEST_F(Gateway, MalformedRequestsAreRefused) {
    start_gateway("");
    const auto exchange = [&](const std::string& request) {
        const int fd = test::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(gateway_.port()));
        if (fd < 0 || !test::send_all(fd, request)) {
            return std::string("<connect or send failed>");
        }
        // The status line is enough: httplib keeps even a refused connection open for its keep-alive second.
        std::string answer;
        char chunk[4096];
        ssize_t n;
        while (answer.find("\r\n") == std::string::npos && (n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0) {
            answer.append(chunk, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return answer.substr(0, answer.find("\r\n"));
    };
    EXPECT_EQ(exchange("garbage\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(exchange("GET /metrics HTTP/2.0\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(exchange("\x16\x03\x01 TLS hello\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(20000, 'f') + "\r\n\r\n").substr(0, 10),
              "HTTP/1.1 4") << "headers beyond httplib's bound";
    EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"), "HTTP/1.1 200 OK") << "still serving";
}

// A client trickling its request byte by byte (slowloris) holds one of httplib's threads only until the
// request deadline: then its socket is shut down, and the listener serves others meanwhile.
TEST_F(Gateway, ASlowRequestIsCutOffAtTheDeadline) {
    HttpGuardLimits limits;
    limits.threads = 2;
    limits.request_deadline = std::chrono::milliseconds(300);
    start_gateway("", "", limits);
    const int slow = test::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(gateway_.port()));
    ASSERT_GE(slow, 0);
    const auto started = test::Clock::now();
    ASSERT_TRUE(test::send_all(slow, "GET /metrics HTTP/1.1\r\n"));
    bool closed = false;
    while (!closed && test::elapsed_ms(started) < 3000) { // a header byte every 20 ms, never finishing
        closed = !test::send_all(slow, "X");
        pollfd pfd{slow, POLLIN, 0};
        closed = closed || ::poll(&pfd, 1, 20) > 0;
        if (!closed && test::elapsed_ms(started) > 100 && test::elapsed_ms(started) < 130) {
            EXPECT_EQ(client_->Get("/metrics")->status, 200) << "others are served meanwhile";
        }
    }
    const double closed_ms = test::elapsed_ms(started);
    ::close(slow);
    EXPECT_TRUE(closed);
    EXPECT_GE(closed_ms, 250.0);
    EXPECT_LT(closed_ms, 1000.0);
    EXPECT_EQ(gateway_.counters().cut_off, 1u);
    std::printf("[ measured ] HTTP request trickled byte by byte, deadline 300 ms: cut off after %.1f ms\n", closed_ms);
    // A request that completes in time is not cut, however long the connection is kept alive.
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
    EXPECT_EQ(gateway_.counters().cut_off, 1u);
}

// Connections beyond the limit are told so at once (503) and closed, rather than queued without bound.
TEST_F(Gateway, ConnectionsBeyondTheLimitGet503) {
    HttpGuardLimits limits;
    limits.threads = 1;
    limits.max_connections = 2;
    limits.request_deadline = std::chrono::milliseconds(2000);
    start_gateway("", "", limits);
    const auto port = static_cast<std::uint16_t>(gateway_.port());
    // Two connections that send nothing: one holds the only thread, one waits for it.
    const int a = test::connect_tcp("127.0.0.1", port);
    const int b = test::connect_tcp("127.0.0.1", port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // both accepted
    const int c = test::connect_tcp("127.0.0.1", port);
    ASSERT_GE(c, 0);
    ASSERT_TRUE(test::send_all(c, "GET /metrics HTTP/1.1\r\n\r\n"));
    const std::string refused = test::read_all(c);
    EXPECT_EQ(refused.substr(0, refused.find("\r\n")), "HTTP/1.1 503 Service Unavailable");
    EXPECT_NE(refused.find("too many clients"), std::string::npos);
    EXPECT_EQ(gateway_.counters().refused, 1u);
    ::close(a);
    ::close(b);
    ::close(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(client_->Get("/metrics")->status, 200) << "served again once they left";
}

TEST_F(Gateway, MarkingNeedsTheToken) {
    start_gateway("");
    EXPECT_EQ(client_->Post("/api/mark", R"({"label":"Climate"})", "application/json")->status, 403) << "no token: read-only";
    gateway_.stop();
    start_gateway("t0ken");
    EXPECT_EQ(client_->Post("/api/mark", R"({"label":"Climate"})", "application/json")->status, 401);
    httplib::Headers wrong = {{"Authorization", "Bearer t0kem"}};
    EXPECT_EQ(client_->Post("/api/mark", wrong, R"({"label":"Climate"})", "application/json")->status, 401);
    httplib::Headers basic = {{"Authorization", "Basic t0ken"}};
    EXPECT_EQ(client_->Post("/api/mark", basic, R"({"label":"Climate"})", "application/json")->status, 401);
    EXPECT_TRUE(lines().empty());
    httplib::Headers right = {{"Authorization", "Bearer t0ken"}};
    const auto ok = client_->Post("/api/mark", right, R"({"label":"Climate"})", "application/json");
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(json::parse(ok->body)["action"], "Climate");
    ASSERT_EQ(lines().size(), 1u);
    EXPECT_EQ(json::parse(lines()[0]), (json{{"command", "mark"}, {"args", {{"label", "Climate"}}}}));
    // Bad bodies: a clear 400, and the daemon's own refusal passed on.
    EXPECT_EQ(client_->Post("/api/mark", right, "not json", "application/json")->status, 400);
    EXPECT_EQ(client_->Post("/api/mark", right, R"({"label":7})", "application/json")->status, 400);
    const auto empty = client_->Post("/api/mark", right, R"({"label":""})", "application/json");
    EXPECT_EQ(empty->status, 400);
    EXPECT_EQ(json::parse(empty->body)["error"], "a mark label is 1 to 64 characters");
    // A body over the bound is refused before any handler runs.
    const auto huge = client_->Post("/api/mark", right, std::string(HttpGateway::kMaxBodyBytes + 1, 'x'), "application/json");
    EXPECT_EQ(huge->status, 413);
    EXPECT_EQ(lines().size(), 2u);
}

TEST_F(Gateway, ADaemonThatIsGoneOrSilentIsAnErrorNotAHang) {
    start_gateway("", dir_ / "no-such.sock");
    const auto gone = client_->Get("/api/report");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 503);
    gateway_.stop();
    // A control socket that accepts and never answers: 504 after the control timeout (1 s here).
    const std::string silent_path = dir_ / "silent.sock";
    const int silent = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, silent_path.c_str(), silent_path.size());
    ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::listen(silent, 4), 0);
    start_gateway("", silent_path);
    const auto started = test::Clock::now();
    const auto timed_out = client_->Get("/api/report");
    ASSERT_TRUE(timed_out);
    EXPECT_EQ(timed_out->status, 504);
    EXPECT_LT(test::elapsed_ms(started), 3000);
    ::close(silent);
}

TEST_F(Gateway, APortInUseIsAnError) {
    start_gateway("");
    HttpGateway second;
    std::string error;
    EXPECT_FALSE(second.start(HttpGatewayOptions{"127.0.0.1:" + std::to_string(gateway_.port()), dir_ / "wt.sock", "", 1.0, {}}, error));
    EXPECT_EQ(error, "bind 127.0.0.1:" + std::to_string(gateway_.port()) + ": Address already in use");
}

} // namespace
} // namespace wt::app
