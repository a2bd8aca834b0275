// The control plane's socket server, run by the appliance's stats thread: a Unix socket speaking
// newline-delimited JSON (`wiretally ctl`, scripts, socat, and the HTTP listener of
// http_gateway.hpp, which turns each HTTP request into one control request).
//
// Contract: one thread owns a ControlServer and calls poll(timeout_ms) in its loop. poll() never
// blocks beyond its timeout, handles a bounded amount of work per call (events, accepts, requests,
// bytes), and never lets an exception escape. Every client is bounded in memory: an input line
// beyond max_request_bytes is refused without being buffered, and a client that does not read its
// answers is cut off once max_pending_output bytes wait for it. Not thread-safe: the handlers run
// inside poll(), on the owning thread, so they may call counters() (but not poll() or close_all()).
// A slow handler slows poll() down: at most kMaxRequestsPerPoll handler calls are made per call.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wt::app {

struct ControlLimits {
    std::size_t max_clients = 64;             // open connections
    std::size_t max_request_bytes = 65536;    // one control line, newline excluded
    std::size_t max_pending_output = 16 << 20; // unsent bytes before a client is cut off; one answer
                                               // alone may exceed it (its size is the handler's)
    std::uint32_t idle_timeout_ms = 300000;   // no byte read or sent for this long: closed (0: never)
};

struct ControlServerCounters {
    std::uint64_t accepted = 0;            // connections admitted
    std::uint64_t rejected_too_many = 0;   // accepted only to be told "too many clients"
    std::uint64_t accept_errors = 0;       // accept() failures other than EAGAIN (EMFILE...)
    std::uint64_t requests = 0;            // control lines answered
    std::uint64_t handler_errors = 0;      // request handler threw; answered ok:false
    std::uint64_t oversized = 0;           // control lines over max_request_bytes
    std::uint64_t idle_closed = 0;         // no traffic for idle_timeout_ms
    std::uint64_t slow_closed = 0;         // answers not read: over max_pending_output
    std::uint64_t reset = 0;               // peer reset or socket error
    std::uint64_t open_connections = 0;    // gauge
    std::uint64_t pending_output_bytes = 0; // gauge, unsent answer bytes
};

nlohmann::json to_json(const ControlServerCounters& counters);

class ControlServer {
public:
    // Gets one request line (newline and a trailing '\r' stripped, never empty); returns one
    // response line without its newline. An exception becomes {"ok":false,"error":"internal error: ..."}.
    using RequestHandler = std::function<std::string(std::string_view line)>;

    // Work done by one poll() call is bounded by these, so the stats thread keeps its cadence
    // whatever the clients do; what is left over is picked up by the next call.
    static constexpr int kMaxEventsPerPoll = 64;
    static constexpr std::size_t kMaxAcceptsPerPoll = 16;
    static constexpr std::size_t kMaxRequestsPerPoll = 64; // control lines, all clients together

    explicit ControlServer(ControlLimits limits = {});
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    void set_request_handler(RequestHandler handler) { _request_handler = std::move(handler); }

    // Creates the parent directory if missing (0755), replaces a stale socket file (one nobody
    // answers), refuses one a live process answers, binds, applies mode and group (a name or a
    // numeric gid; empty: leave the process's group), then listens. One listener per server.
    bool listen_unix(const std::string& path, mode_t mode, const std::string& group, std::string& error);

    // Waits up to timeout_ms (less when a deadline or queued work is due) and handles what is ready.
    // Returns the number of events and requests handled, or -1 if epoll itself failed.
    int poll(int timeout_ms) noexcept;

    // Closes every connection and the listener and removes the socket file if it is still ours.
    void close_all() noexcept;

    ControlServerCounters counters() const noexcept;
    const std::string& unix_path() const noexcept { return _unix_path; }

private:
    using Clock = std::chrono::steady_clock;
    struct Connection;
    struct Listener {
        int fd = -1;
        std::uint64_t tag = 0; // epoll data; connection ids start above the listener tags
        std::size_t open_connections = 0;
        Clock::time_point paused_until{}; // after EMFILE: stop accepting for a moment
        bool paused = false;
    };

    enum class Received : std::uint8_t { kData, kEndOfInput, kNothing, kClosed };
    // Appends what the socket has (one chunk at most) to the connection's input; kClosed: a reset
    // or socket error closed it (counted), kNothing: no data yet.
    Received receive(Connection& c);
    // Functions taking a Connection& and returning bool return false when they closed it.
    void handle_listener(Listener& listener);
    void admit(Listener& listener, int fd);
    void reject(int fd);
    void handle_connection_event(std::uint64_t id, std::uint32_t events);
    bool read_control_lines(Connection& c);
    std::size_t answer_queued_lines(Connection& c, std::size_t budget);
    std::string call_request_handler(std::string_view line);
    bool refuse_oversized(Connection& c);
    bool queue_and_flush(Connection& c, std::string data);
    bool flush(Connection& c);
    bool finish_if_done(Connection& c);
    void enqueue(Connection& c);
    void touch(Connection& c, Clock::time_point now);
    void update_interest(Connection& c);
    void close_connection(std::uint64_t id);
    void expire_deadlines(Clock::time_point now);
    int wait_timeout_ms(int requested_ms, Clock::time_point now) const;
    void set_listener_interest(Listener& listener, bool accepting);
    void resume_paused_listeners(Clock::time_point now);
    Connection* find(std::uint64_t id);

    ControlLimits _limits;
    RequestHandler _request_handler;
    int _epoll_fd = -1;
    int _epoll_errno = 0;
    Listener _unix_listener;
    std::string _unix_path;
    dev_t _unix_dev = 0; // identify our socket file, so close_all() never removes a successor's
    ino_t _unix_ino = 0;
    std::uint64_t _next_id;
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> _connections;
    std::deque<std::uint64_t> _ready; // connections with complete lines not yet answered
    ControlServerCounters _counters;
};

} // namespace wt::app
