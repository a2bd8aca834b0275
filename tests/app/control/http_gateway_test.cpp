// The dashboard's HTTP listener (issue #16): HTTP by cpp-httplib, every request a control request on the
// daemon's socket (here a real ControlServer whose handler records the lines and answers as the daemon
// would). What a browser, a script and a hostile client each get.
#include "app/control/http_gateway.hpp"
#include "tests/app/control/test_support.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <vector>

namespace wt::app {
namespace {

using nlohmann::json;
using test::ServerThread;
using test::TempDir;

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
    void start_gateway(std::string token, std::string socket = "") {
        std::string error;
        ASSERT_TRUE(gateway_.start(HttpGatewayOptions{"127.0.0.1:0", socket.empty() ? dir_ / "wt.sock" : socket,
                                                      std::move(token), 1.0},
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
    EXPECT_FALSE(second.start(HttpGatewayOptions{"127.0.0.1:" + std::to_string(gateway_.port()), dir_ / "wt.sock", "", 1.0}, error));
    EXPECT_NE(error.find("cannot listen on 127.0.0.1:"), std::string::npos) << error;
}

} // namespace
} // namespace wt::app
