#include "app/control/http_gateway.hpp"

#include "app/control/client.hpp"
#include "app/control/tcp_listen.hpp"
#include "app/report/html_report.hpp"

#include <httplib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>

#include <sys/socket.h>
#include <unistd.h>

namespace wt::app {

namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr const char* kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

void send_error(httplib::Response& res, int status, std::string_view message) {
    res.status = status;
    res.set_content(json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

// Both sides of a comparison are read whole, so that the time taken does not tell how much of a
// guessed token was right.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    }
    return diff == 0;
}

} // namespace

HttpGateway::HttpGateway() = default;

HttpGateway::~HttpGateway() { stop(); }

bool HttpGateway::start(const HttpGatewayOptions& options, std::string& error) {
    _options = options;
    std::string host;
    std::string port_text;
    if (!split_host_port(options.listen, host, port_text, error)) {
        return false;
    }
    const int port = std::stoi(port_text);
    _server = std::make_unique<httplib::Server>();
    _server->set_payload_max_length(kMaxBodyBytes);
    _server->set_read_timeout(kReadTimeoutSeconds, 0);
    _server->set_write_timeout(kReadTimeoutSeconds, 0);
    _server->set_keep_alive_max_count(100);
    _server->set_keep_alive_timeout(1); // an idle browser connection holds a thread (and a stop) 1 s at most
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second appliance could bind the
    // same port and take half of the requests instead of failing to start.
    _server->set_socket_options([](int sock) {
        const int yes = 1;
        (void)::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    _server->set_default_headers({{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}});
    // Called once a request is answered, refused ones included.
    _server->set_logger([this](const httplib::Request&, const httplib::Response& res) {
        HttpConnectionGuard::request_answered();
        _requests.fetch_add(1, std::memory_order_relaxed);
        if (res.status >= 400) {
            _errors.fetch_add(1, std::memory_order_relaxed);
        }
    });
    add_routes();
    if (port == 0) {
        _port = _server->bind_to_any_port(host);
        if (_port < 0) {
            error = fmt::format("cannot listen on {}", options.listen);
            return false;
        }
    } else {
        if (!_server->bind_to_port(host, port)) {
            // httplib says only that it failed; binding the address once more tells why.
            std::uint16_t ignored = 0;
            const int probe = listen_tcp(options.listen, ignored, error);
            if (probe >= 0) {
                ::close(probe);
                error = fmt::format("cannot listen on {}", options.listen);
            }
            return false;
        }
        _port = port;
    }
    // Created by httplib when its accept loop starts, once the port is known.
    _server->new_task_queue = [this] {
        return new HttpConnectionGuard(static_cast<std::uint16_t>(_port), _options.limits, _guard);
    };
    _finished = false;
    _thread = std::thread([this] {
        _server->listen_after_bind();
        _finished = true;
    });
    // httplib's stop() does nothing until the accept loop runs (is_running): wait for it, so that a stop
    // right after start cannot leave the loop running and the join waiting forever.
    while (!_server->is_running()) {
        if (_finished) {
            _thread.join();
            error = fmt::format("the listener on {} stopped as it started", options.listen);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

void HttpGateway::stop() {
    if (_server) {
        _server->stop();
    }
    if (_thread.joinable()) {
        _thread.join();
    }
}

void HttpGateway::add_routes() {
    // The daemon's answer line to one control request; false once `res` says why there is none (503: the
    // daemon is gone, 504: it did not answer in time).
    const auto exchange = [this](const std::string& request_line, httplib::Response& res, std::string& answer) {
        std::string error;
        const int code = exchange_control_line(_options.control_socket, request_line, _options.control_timeout_s,
                                               answer, error);
        if (code != kCtlExitOk) {
            send_error(res, code == kCtlExitTimeout ? 504 : 503, error);
            return false;
        }
        return true;
    };
    // A control request's result as the response, or the daemon's error as 4xx/5xx.
    const auto ask = [exchange](const json& request, httplib::Response& res, int refused_status) {
        std::string answer;
        if (!exchange(request.dump(-1, ' ', false, json::error_handler_t::replace), res, answer)) {
            return;
        }
        // {"ok":true,"result":...}: the result is passed on as the daemon wrote it (a report is megabytes:
        // parsing it here only to write it again would cost more than building it).
        constexpr std::string_view kOk = R"({"ok":true,"result":)";
        if (answer.size() > kOk.size() && answer.compare(0, kOk.size(), kOk) == 0 && answer.back() == '}') {
            res.status = 200;
            res.set_content(answer.substr(kOk.size(), answer.size() - kOk.size() - 1), kJson);
            return;
        }
        // {"ok":false,"error":"..."} (or anything else): read it.
        const json reply = json::parse(answer, nullptr, false);
        if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok")) {
            send_error(res, 502, "the daemon's answer is not a control answer");
            return;
        }
        if (!reply.value("ok", false)) {
            send_error(res, refused_status, reply.value("error", std::string("refused")));
            return;
        }
        res.status = 200;
        res.set_content(reply["result"].dump(-1, ' ', false, json::error_handler_t::replace), kJson);
    };

    _server->Get("/", [](const httplib::Request&, httplib::Response& res) {
        fmt::memory_buffer page;
        write_html_dashboard(page);
        res.set_content(std::string(page.data(), page.size()), "text/html; charset=utf-8");
    });
    // `ctl metrics` in table form: {"ok":true,"text":"..."}, the exposition as the stats core wrote it.
    _server->Get("/metrics", [exchange](const httplib::Request&, httplib::Response& res) {
        std::string answer;
        if (!exchange(R"({"command":"metrics","format":"table"})", res, answer)) {
            return;
        }
        const json reply = json::parse(answer, nullptr, false);
        if (reply.is_discarded() || !reply.is_object() || !reply.value("ok", false) || !reply.contains("text") ||
            !reply["text"].is_string()) {
            send_error(res, 502, reply.is_object() && reply.contains("error") && reply["error"].is_string()
                                     ? reply["error"].get<std::string>()
                                     : std::string("the daemon's answer is not a metrics answer"));
            return;
        }
        res.set_content(reply["text"].get<std::string>(), kPrometheusText);
    });
    // Browsers ask for it on every page: no icon, and no error either.
    _server->Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    _server->Get("/api/report", [ask](const httplib::Request& req, httplib::Response& res) {
        json args = json::object();
        if (req.has_param("last")) {
            const std::string text = req.get_param_value("last");
            std::size_t last = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), last);
            if (ec != std::errc() || end != text.data() + text.size() || last == 0 || last > 86400) {
                send_error(res, 400, "last: seconds, 1 to 86400");
                return;
            }
            args["last"] = last;
        }
        ask(json{{"command", "report"}, {"args", args}}, res, 500);
    });
    _server->Post("/api/mark", [this, ask](const httplib::Request& req, httplib::Response& res) {
        if (_options.token.empty()) {
            send_error(res, 403, "marking is off: the configuration's [http] token is not set");
            return;
        }
        const std::string authorization = req.get_header_value("Authorization");
        constexpr std::string_view kBearer = "Bearer ";
        if (authorization.size() <= kBearer.size() || authorization.compare(0, kBearer.size(), kBearer) != 0 ||
            !same_secret(std::string_view(authorization).substr(kBearer.size()), _options.token)) {
            res.set_header("WWW-Authenticate", "Bearer");
            send_error(res, 401, "marking needs Authorization: Bearer TOKEN with the [http] token");
            return;
        }
        const json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("label") || !body["label"].is_string()) {
            send_error(res, 400, "the body is {\"label\": \"...\"}");
            return;
        }
        ask(json{{"command", "mark"}, {"args", {{"label", body["label"]}}}}, res, 400);
    });
    _server->set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) {
            send_error(res, res.status, res.status == 404 ? "not found: /, /metrics, /api/report, POST /api/mark" : "refused");
        }
    });
    _server->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, 500, "internal error");
    });
}

} // namespace wt::app
