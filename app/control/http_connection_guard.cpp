#include "app/control/http_connection_guard.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace wt::app {

namespace {

thread_local std::atomic<std::int64_t>* tl_deadline = nullptr;
thread_local std::int64_t tl_deadline_step_ns = 0;

std::uint16_t local_port(int fd, bool& connected) {
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    connected = false;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
        (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
        return 0;
    }
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0; // false for a listener
    return ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(local).sin6_port
                                             : reinterpret_cast<const sockaddr_in&>(local).sin_port);
}

} // namespace

HttpConnectionGuard::HttpConnectionGuard(std::uint16_t listen_port, HttpGuardLimits limits, HttpGuardCounters& counters)
    : _port(listen_port), _limits(limits),
      _deadline_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(limits.request_deadline).count()),
      _counters(counters), _pool(static_cast<std::size_t>(limits.threads)) {
    _watchdog = std::thread([this] { watch(); });
}

HttpConnectionGuard::~HttpConnectionGuard() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    if (_watchdog.joinable()) {
        _watchdog.join();
    }
}

std::int64_t HttpConnectionGuard::now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void HttpConnectionGuard::request_answered() noexcept {
    if (tl_deadline != nullptr) {
        tl_deadline->store(now_ns() + tl_deadline_step_ns, std::memory_order_relaxed);
    }
}

std::shared_ptr<HttpConnectionGuard::Connection> HttpConnectionGuard::track_new_connection() {
    std::shared_ptr<Connection> found;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return found;
    }
    const int dir_fd = ::dirfd(dir);
    std::lock_guard lock(_mutex);
    while (!found) {
        const dirent* entry = ::readdir(dir);
        if (entry == nullptr) {
            break;
        }
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == dir_fd) {
            continue;
        }
        struct stat st {};
        if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        const bool known = std::any_of(_open.begin(), _open.end(),
                                       [&](const auto& c) { return c->inode == static_cast<unsigned long>(st.st_ino); });
        bool connected = false;
        if (known || local_port(static_cast<int>(fd), connected) != _port || !connected) {
            continue;
        }
        auto connection = std::make_shared<Connection>();
        connection->guard_fd = ::fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0);
        if (connection->guard_fd < 0) {
            continue;
        }
        connection->inode = static_cast<unsigned long>(st.st_ino);
        connection->deadline_ns = now_ns() + _deadline_ns;
        _open.push_back(connection);
        found = std::move(connection);
    }
    ::closedir(dir);
    return found;
}

void HttpConnectionGuard::finish(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(_mutex);
    _open.remove(connection);
    ::close(connection->guard_fd);
}

void HttpConnectionGuard::enqueue(std::function<void()> fn) {
    std::shared_ptr<Connection> connection = track_new_connection();
    if (!connection) {
        _counters.unguarded.fetch_add(1, std::memory_order_relaxed);
        _pool.enqueue(std::move(fn));
        return;
    }
    bool over_limit;
    {
        std::lock_guard lock(_mutex);
        over_limit = _open.size() > _limits.max_connections;
    }
    if (over_limit) {
        // Told why, then served at once on this thread: httplib reads end of input and closes the socket.
        static constexpr std::string_view kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nRetry-After: 1\r\n"
            "Connection: close\r\n\r\ntoo many clients\r\n";
        _counters.refused.fetch_add(1, std::memory_order_relaxed); // counted before the client can see it
        (void)::send(connection->guard_fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(connection->guard_fd, SHUT_RDWR);
        fn();
        finish(connection);
        return;
    }
    _pool.enqueue([this, connection, fn = std::move(fn)] {
        // The deadline runs from the accept, not from when a thread got free: time spent queued counts.
        tl_deadline = &connection->deadline_ns;
        tl_deadline_step_ns = _deadline_ns;
        fn();
        tl_deadline = nullptr;
        finish(connection);
    });
}

void HttpConnectionGuard::watch() {
    std::unique_lock lock(_mutex);
    while (!_stopping) {
        _wake.wait_for(lock, std::chrono::milliseconds(50));
        const std::int64_t now = now_ns();
        for (const auto& c : _open) {
            if (!c->cut && c->deadline_ns.load(std::memory_order_relaxed) <= now) {
                _counters.cut_off.fetch_add(1, std::memory_order_relaxed); // counted before the client can see it
                ::shutdown(c->guard_fd, SHUT_RDWR);
                c->cut = true;
            }
        }
    }
}

void HttpConnectionGuard::shutdown() {
    {
        std::lock_guard lock(_mutex);
        for (const auto& c : _open) {
            ::shutdown(c->guard_fd, SHUT_RDWR);
            c->cut = true;
        }
    }
    _pool.shutdown();
}

} // namespace wt::app
