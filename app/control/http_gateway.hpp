// The appliance's HTTP listener ([http] listen): HTTP parsed by cpp-httplib (Debian's libcpp-httplib-dev),
// on threads of its own, never on a worker core nor on the stats core. It holds no state of the
// appliance: every request becomes a control request on the daemon's Unix socket (exchange_control_line),
// so the stats core answers it with the same bounded, hardened code that answers `wiretally ctl`.
//
//   GET  /             the report page (app/report/html), which reads api/report every few seconds
//   GET  /metrics      `ctl metrics`: the Prometheus text exposition
//   GET  /api/report   `ctl report --json`: the report, the timeline, flow lanes, the action under way
//   POST /api/mark     {"label":"..."}: `ctl mark LABEL`; needs "Authorization: Bearer TOKEN" with the
//                      token of the configuration ([http] token), and without one marking is off (403)
#pragma once

#include "app/control/http_connection_guard.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace wt::app {

struct HttpGatewayCounters {
    std::uint64_t requests = 0; // answered, whatever the status
    std::uint64_t errors = 0;   // of those, answered 4xx or 5xx
    std::uint64_t cut_off = 0;  // connections shut down: a request not read and answered within the deadline
    std::uint64_t refused = 0;  // connections beyond the limit: 503 and closed
    std::uint64_t unguarded = 0; // connections served without those bounds (their socket was not found)
};

struct HttpGatewayOptions {
    std::string listen;          // "host:port" or "[v6]:port"; port 0: any free port
    std::string control_socket;  // the daemon's Unix control socket
    std::string token;           // empty: read-only (POST /api/mark refused)
    double control_timeout_s = 5; // a control request not answered within this: 504
    HttpGuardLimits limits;       // threads, connections, the per-request deadline
};

class HttpGateway {
public:
    static constexpr std::size_t kMaxBodyBytes = 4096;      // POST bodies (a mark's label)
    static constexpr int kReadTimeoutSeconds = 5;           // a request head and body must arrive within it
    static constexpr std::size_t kMaxLabelBytes = 64;

    HttpGateway();
    ~HttpGateway();
    HttpGateway(const HttpGateway&) = delete;
    HttpGateway& operator=(const HttpGateway&) = delete;

    // Binds and starts serving on a thread of its own; false with the reason in `error`.
    bool start(const HttpGatewayOptions& options, std::string& error);
    // Stops accepting, finishes the requests under way and joins the thread. Idempotent.
    void stop();
    // The bound port (after start; useful with port 0).
    [[nodiscard]] int port() const noexcept { return _port; }
    // Read from any thread (the stats core's `ctl stats`).
    [[nodiscard]] HttpGatewayCounters counters() const noexcept {
        return {_requests.load(std::memory_order_relaxed), _errors.load(std::memory_order_relaxed),
                _guard.cut_off.load(std::memory_order_relaxed), _guard.refused.load(std::memory_order_relaxed),
                _guard.unguarded.load(std::memory_order_relaxed)};
    }

private:
    void add_routes();

    HttpGatewayOptions _options;
    std::unique_ptr<httplib::Server> _server;
    std::thread _thread;
    std::atomic<bool> _finished{false}; // the accept loop returned
    std::atomic<std::uint64_t> _requests{0};
    std::atomic<std::uint64_t> _errors{0};
    HttpGuardCounters _guard;
    int _port = 0;
};

} // namespace wt::app
