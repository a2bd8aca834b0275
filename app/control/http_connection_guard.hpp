// Bounds on the HTTP listener's connections that cpp-httplib does not give (issue #16). httplib serves a
// connection on a pool thread with blocking reads, each bounded only by its own timeout, so a client that
// trickles a header byte every few seconds (slowloris) would hold a thread forever, and its queue of
// accepted connections is unbounded. The guard is httplib's task queue, so it sees every connection as
// it is accepted:
//   - each request must be read and answered within request_deadline of the previous answer (or of the
//     accept); past it the watchdog shuts the socket down, which ends httplib's blocking read or write;
//   - beyond max_connections open at once, a new connection gets 503 and is closed at once.
// httplib hands the queue a closure, not the socket: enqueue() runs on httplib's accept thread right
// after accept(), so the one connected socket on the listener's port that the guard does not know yet is
// that connection. The guard keeps a dup() of it, so its shutdown() can never hit a descriptor number
// that httplib closed and the process reused.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace wt::app {

struct HttpGuardCounters {
    std::atomic<std::uint64_t> cut_off{0};  // a request not done within the deadline: socket shut down
    std::atomic<std::uint64_t> refused{0};  // over max_connections: 503 and closed
    std::atomic<std::uint64_t> unguarded{0}; // accepted sockets the guard could not find: served without bounds
};

struct HttpGuardLimits {
    int threads = 4;
    std::size_t max_connections = 32;  // open at once, served or waiting for a thread
    std::chrono::milliseconds request_deadline{10000};
};

class HttpConnectionGuard final : public httplib::TaskQueue {
public:
    HttpConnectionGuard(std::uint16_t listen_port, HttpGuardLimits limits, HttpGuardCounters& counters);
    ~HttpConnectionGuard() override;

    void enqueue(std::function<void()> fn) override;
    // Cuts every connection still open, then lets the pool finish and joins it.
    void shutdown() override;

    // From the logger, on the thread serving the request: the connection's next request gets a new deadline.
    static void request_answered() noexcept;

private:
    struct Connection {
        int guard_fd = -1;        // our dup() of httplib's socket
        unsigned long inode = 0;  // identifies the socket among the process's descriptors
        std::atomic<std::int64_t> deadline_ns{0};
        bool cut = false;         // under _mutex
    };
    using Clock = std::chrono::steady_clock;
    static std::int64_t now_ns() noexcept;

    // The connected socket on our port that is not tracked yet (the one just accepted), now tracked;
    // null if there is none.
    std::shared_ptr<Connection> track_new_connection();
    void finish(const std::shared_ptr<Connection>& connection);
    void watch();

    std::uint16_t _port;
    HttpGuardLimits _limits;
    std::int64_t _deadline_ns; // _limits.request_deadline
    HttpGuardCounters& _counters;
    httplib::ThreadPool _pool;
    std::mutex _mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    std::list<std::shared_ptr<Connection>> _open; // under _mutex
    std::thread _watchdog;
};

} // namespace wt::app
