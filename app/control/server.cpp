#include "app/control/server.hpp"
#include "app/control/server_internal.hpp"
#include "app/control/fd_guard.hpp"

#include <fmt/format.h>

#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>
#include <vector>

namespace wt::app {

using namespace control_server;

namespace {

bool resolve_group(const std::string& group, gid_t& gid, std::string& error) {
    if (std::all_of(group.begin(), group.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        errno = 0;
        char* end = nullptr;
        const unsigned long value = std::strtoul(group.c_str(), &end, 10);
        if (errno == 0 && value <= static_cast<unsigned long>(static_cast<gid_t>(-1) - 1)) {
            gid = static_cast<gid_t>(value);
            return true;
        }
        error = fmt::format("group id {} is out of range", group);
        return false;
    }
    const long size_hint = ::sysconf(_SC_GETGR_R_SIZE_MAX);
    std::vector<char> buffer(size_hint > 0 ? static_cast<std::size_t>(size_hint) : 4096);
    struct group entry {};
    struct group* found = nullptr;
    int rc;
    // ERANGE: a group with many members needs a bigger buffer.
    while ((rc = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < (1u << 20)) {
        buffer.resize(buffer.size() * 2);
    }
    if (rc != 0) {
        error = fmt::format("cannot look up group '{}': {}", group, errno_text(rc));
        return false;
    }
    if (found == nullptr) {
        error = fmt::format("group '{}' does not exist", group);
        return false;
    }
    gid = found->gr_gid;
    return true;
}

// mkdir -p of the socket's directory; directories created here get 0755 whatever the umask, so
// that the group given to the socket can reach it.
bool make_parent_dirs(const std::string& socket_path, std::string& error) {
    const auto slash = socket_path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return true;
    }
    const std::string parent = socket_path.substr(0, slash);
    for (std::size_t pos = 1; pos <= parent.size(); ++pos) {
        if (pos != parent.size() && parent[pos] != '/') {
            continue;
        }
        const std::string prefix = parent.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0755) == 0) {
            if (::chmod(prefix.c_str(), 0755) != 0) {
                error = fmt::format("chmod {}: {}", prefix, errno_text(errno));
                return false;
            }
        } else if (errno != EEXIST) {
            error = fmt::format("cannot create directory {}: {}", prefix, errno_text(errno));
            return false;
        }
    }
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0) {
        error = fmt::format("{}: {}", parent, errno_text(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        error = fmt::format("{} is not a directory", parent);
        return false;
    }
    return true;
}

bool fill_unix_address(const std::string& path, sockaddr_un& addr, std::string& error) {
    addr = {};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        error = fmt::format("'{}': a Unix socket path must have 1 to {} bytes", path, sizeof(addr.sun_path) - 1);
        return false;
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return true;
}

// A socket file left by a crashed daemon is replaced; one that a process still answers is not,
// so a second daemon cannot silently take the control socket of the first.
bool remove_stale_socket(const std::string& path, const sockaddr_un& addr, std::string& error) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return true;
        }
        error = fmt::format("{}: {}", path, errno_text(errno));
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        error = fmt::format("{} exists and is not a socket; refusing to replace it", path);
        return false;
    }
    FdGuard probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (probe.get() < 0) {
        error = fmt::format("socket: {}", errno_text(errno));
        return false;
    }
    int rc;
    do {
        rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc == 0 || errno == EAGAIN) { // EAGAIN: a live listener whose backlog is full
        error = fmt::format("{} is in use: another process answers on it (is wiretally already running?)", path);
        return false;
    }
    if (errno == ENOENT) {
        return true; // removed meanwhile
    }
    if (errno != ECONNREFUSED) {
        error = fmt::format("cannot probe existing socket {}: {}", path, errno_text(errno));
        return false;
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        error = fmt::format("cannot remove stale socket {}: {}", path, errno_text(errno));
        return false;
    }
    return true;
}

} // namespace

nlohmann::json to_json(const ControlServerCounters& c) {
    return {
        {"accepted", c.accepted},
        {"rejected_too_many", c.rejected_too_many},
        {"accept_errors", c.accept_errors},
        {"requests", c.requests},
        {"handler_errors", c.handler_errors},
        {"oversized", c.oversized},
        {"idle_closed", c.idle_closed},
        {"slow_closed", c.slow_closed},
        {"reset", c.reset},
        {"open_connections", c.open_connections},
        {"pending_output_bytes", c.pending_output_bytes},
    };
}

ControlServer::ControlServer(ControlLimits limits) : _limits(limits), _next_id(kFirstConnectionId) {
    _epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (_epoll_fd < 0) {
        _epoll_errno = errno; // reported by listen_*(); the constructor does not throw
    }
    _unix_listener.tag = kUnixListenerTag;
}

ControlServer::~ControlServer() {
    close_all();
    if (_epoll_fd >= 0) {
        ::close(_epoll_fd);
    }
}

bool ControlServer::listen_unix(const std::string& path, mode_t mode, const std::string& group, std::string& error) {
    if (_epoll_fd < 0) {
        error = fmt::format("epoll_create1: {}", errno_text(_epoll_errno));
        return false;
    }
    if (_unix_listener.fd >= 0) {
        error = fmt::format("already listening on {}", _unix_path);
        return false;
    }
    sockaddr_un addr{};
    if (!fill_unix_address(path, addr, error)) {
        return false;
    }
    gid_t gid = 0;
    // Resolved before anything is created, so a typo in the group leaves no file behind.
    if (!group.empty() && !resolve_group(group, gid, error)) {
        return false;
    }
    if (!make_parent_dirs(path, error) || !remove_stale_socket(path, addr, error)) {
        return false;
    }
    FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        error = fmt::format("socket: {}", errno_text(errno));
        return false;
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        error = errno == EADDRINUSE
                    ? fmt::format("{} is in use: another process created it meanwhile", path)
                    : fmt::format("bind {}: {}", path, errno_text(errno));
        return false;
    }
    // The file exists from here on; remove it if a later step fails. Nobody can connect before
    // listen(), so applying mode and group after bind() opens no window.
    auto fail = [&](std::string message) {
        error = std::move(message);
        ::unlink(path.c_str());
        return false;
    };
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return fail(fmt::format("stat {}: {}", path, errno_text(errno)));
    }
    if (::chmod(path.c_str(), mode & 07777) != 0) {
        return fail(fmt::format("chmod {:o} {}: {}", mode & 07777, path, errno_text(errno)));
    }
    if (!group.empty() && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
        return fail(fmt::format("chgrp {} {}: {}", group, path, errno_text(errno)));
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) {
        return fail(fmt::format("listen {}: {}", path, errno_text(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kUnixListenerTag;
    if (::epoll_ctl(_epoll_fd, EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
        return fail(fmt::format("epoll_ctl: {}", errno_text(errno)));
    }
    _unix_listener.fd = fd.release();
    _unix_path = path;
    _unix_dev = st.st_dev;
    _unix_ino = st.st_ino;
    return true;
}

int ControlServer::poll(int timeout_ms) noexcept {
    if (_epoll_fd < 0) {
        return -1;
    }
    int handled = 0;
    try {
        resume_paused_listeners(Clock::now());
        epoll_event events[kMaxEventsPerPoll];
        int ready_events = ::epoll_wait(_epoll_fd, events, kMaxEventsPerPoll, wait_timeout_ms(timeout_ms, Clock::now()));
        if (ready_events < 0) {
            if (errno != EINTR) {
                return -1;
            }
            ready_events = 0;
        }
        for (int i = 0; i < ready_events; ++i) {
            const std::uint64_t tag = events[i].data.u64;
            if (tag == kUnixListenerTag) {
                handle_listener(_unix_listener);
            } else {
                try {
                    handle_connection_event(tag, events[i].events);
                } catch (...) { // out of memory for this client's buffers: drop the client, not the thread
                    ++_counters.reset;
                    close_connection(tag);
                }
            }
            ++handled;
        }
        // Answer queued lines round robin, within the budget of this call.
        std::size_t budget = kMaxRequestsPerPoll;
        while (budget > 0 && !_ready.empty()) {
            const std::uint64_t id = _ready.front();
            _ready.pop_front();
            Connection* c = find(id);
            if (c == nullptr) {
                continue;
            }
            c->queued = false;
            try {
                const std::size_t used = answer_queued_lines(*c, std::min(budget, kRequestsPerTurn));
                budget -= std::min(budget, used);
                handled += static_cast<int>(used);
            } catch (...) {
                ++_counters.reset;
                close_connection(id);
            }
        }
        expire_deadlines(Clock::now());
    } catch (...) {
        // Only bookkeeping allocations can throw here; the next call starts afresh.
    }
    return handled;
}

void ControlServer::handle_listener(Listener& listener) {
    for (std::size_t attempt = 0; attempt < kMaxAcceptsPerPoll; ++attempt) {
        const int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EINTR:
            case ECONNABORTED: // the client gave up while queued
            case EPROTO:
            case ENETDOWN:
            case ENOPROTOOPT:
            case EHOSTDOWN:
            case ENONET:
            case EHOSTUNREACH:
            case ENETUNREACH:
                continue;
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return;
            default: // EMFILE, ENFILE, ENOBUFS, ENOMEM: out of resources, try again a little later
                ++_counters.accept_errors;
                set_listener_interest(listener, false);
                listener.paused = true;
                listener.paused_until = Clock::now() + kAcceptPause;
                return;
            }
        }
        if (listener.open_connections >= _limits.max_clients) {
            reject(fd);
        } else {
            admit(listener, fd);
        }
    }
}

void ControlServer::admit(Listener& listener, int fd) {
    auto connection = std::make_unique<Connection>();
    connection->id = _next_id++;
    connection->fd = fd;
    connection->listener = &listener;
    connection->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = connection->id;
    if (::epoll_ctl(_epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ++_counters.accept_errors;
        ::close(fd);
        return;
    }
    touch(*connection, Clock::now());
    const std::uint64_t id = connection->id;
    try {
        _connections.emplace(id, std::move(connection));
    } catch (...) {
        ::epoll_ctl(_epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        throw;
    }
    ++listener.open_connections;
    ++_counters.accepted;
}

// The refused client learns why at once instead of hanging in the backlog.
void ControlServer::reject(int fd) {
    ++_counters.rejected_too_many;
    const std::string message = fmt::format("{{\"ok\":false,\"error\":\"too many clients ({})\"}}\n", _limits.max_clients);
    // A fresh socket's send buffer is empty, so one non-blocking send takes the whole message.
    ssize_t sent;
    do {
        sent = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    // Read what already arrived: closing with unread input would make TCP reset the connection
    // and could destroy the message.
    char discard[4096];
    for (int reads = 0; reads < 16 && ::recv(fd, discard, sizeof(discard), MSG_DONTWAIT) > 0; ++reads) {
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

ControlServer::Received ControlServer::receive(Connection& c) {
    const std::size_t old_size = c.input.size();
    c.input.resize(old_size + kReadChunk);
    ssize_t n;
    do {
        n = ::recv(c.fd, c.input.data() + old_size, kReadChunk, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    c.input.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Received::kNothing;
        }
        ++_counters.reset;
        close_connection(c.id);
        return Received::kClosed;
    }
    return n == 0 ? Received::kEndOfInput : Received::kData;
}

void ControlServer::handle_connection_event(std::uint64_t id, std::uint32_t events) {
    Connection* c = find(id);
    if (c == nullptr) {
        return; // closed earlier in this batch
    }
    if ((events & EPOLLERR) != 0) {
        ++_counters.reset;
        close_connection(id);
        return;
    }
    if ((events & EPOLLOUT) != 0 && !flush(*c)) {
        return;
    }
    if ((events & EPOLLIN) != 0) {
        read_control_lines(*c);
        return;
    }
    if ((events & EPOLLHUP) != 0) {
        // Both directions are shut: nobody will read an answer.
        close_connection(id);
    }
}

bool ControlServer::queue_and_flush(Connection& c, std::string data) {
    if (data.empty()) {
        return true;
    }
    c.output_bytes += data.size();
    c.output.push_back(std::move(data));
    if (!flush(c)) {
        return false;
    }
    // A client that sends requests but does not read the answers: one answer may be larger than
    // the limit (its size is the handler's business), but answers do not pile up behind it.
    if (c.output_bytes > _limits.max_pending_output && c.output.size() > 1) {
        ++_counters.slow_closed;
        close_connection(c.id);
        return false;
    }
    return true;
}

bool ControlServer::flush(Connection& c) {
    std::size_t sent_total = 0;
    while (c.output_bytes > 0 && sent_total < kWriteBudgetPerFlush) {
        const std::string& front = c.output.front();
        const std::size_t chunk = std::min(front.size() - c.output_offset, kWriteBudgetPerFlush - sent_total);
        const ssize_t sent = ::send(c.fd, front.data() + c.output_offset, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            ++_counters.reset; // EPIPE, ECONNRESET: the client is gone
            close_connection(c.id);
            return false;
        }
        const auto n = static_cast<std::size_t>(sent);
        sent_total += n;
        c.output_bytes -= n;
        c.output_offset += n;
        if (c.output_offset == front.size()) {
            c.output.pop_front();
            c.output_offset = 0;
        }
    }
    if (sent_total > 0) {
        touch(c, Clock::now());
    }
    update_interest(c);
    return finish_if_done(c);
}

bool ControlServer::finish_if_done(Connection& c) {
    if (!c.close_after_flush || c.output_bytes > 0) {
        return true;
    }
    // A Unix socket keeps what was sent readable after we close, even with unread input.
    close_connection(c.id);
    return false;
}

void ControlServer::enqueue(Connection& c) {
    if (!c.queued) {
        c.queued = true;
        _ready.push_back(c.id);
    }
}

void ControlServer::touch(Connection& c, Clock::time_point now) {
    c.deadline = _limits.idle_timeout_ms == 0 ? Clock::time_point::max()
                                              : now + std::chrono::milliseconds(_limits.idle_timeout_ms);
}

void ControlServer::update_interest(Connection& c) {
    std::uint32_t wanted = 0;
    if (!c.close_after_flush && !c.queued && !c.input_closed) {
        wanted |= EPOLLIN; // queued lines are answered before more input is read: bounded buffers
    }
    if (c.output_bytes > 0) {
        wanted |= EPOLLOUT;
    }
    if (wanted == c.interest) {
        return;
    }
    epoll_event ev{};
    ev.events = wanted;
    ev.data.u64 = c.id;
    // Can fail only for lack of kernel memory; the old interest then stays and the connection's
    // deadline still bounds it.
    if (::epoll_ctl(_epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) == 0) {
        c.interest = wanted;
    }
}

void ControlServer::close_connection(std::uint64_t id) {
    const auto it = _connections.find(id);
    if (it == _connections.end()) {
        return;
    }
    Connection& c = *it->second;
    ::epoll_ctl(_epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr); // close() would drop it too; be explicit
    ::close(c.fd);
    --c.listener->open_connections;
    _connections.erase(it);
}

void ControlServer::expire_deadlines(Clock::time_point now) {
    std::vector<std::uint64_t> expired;
    for (const auto& [id, c] : _connections) {
        if (c->deadline <= now) {
            expired.push_back(id);
            ++_counters.idle_closed;
        }
    }
    for (const std::uint64_t id : expired) {
        close_connection(id);
    }
}

int ControlServer::wait_timeout_ms(int requested_ms, Clock::time_point now) const {
    if (!_ready.empty()) {
        return 0;
    }
    Clock::time_point earliest = Clock::time_point::max();
    for (const auto& entry : _connections) {
        earliest = std::min(earliest, entry.second->deadline);
    }
    if (_unix_listener.paused) {
        earliest = std::min(earliest, _unix_listener.paused_until);
    }
    if (earliest == Clock::time_point::max()) {
        return requested_ms;
    }
    const auto until_deadline = std::chrono::ceil<std::chrono::milliseconds>(earliest - now).count();
    const int capped = static_cast<int>(std::clamp<long long>(until_deadline, 0, INT_MAX));
    return requested_ms < 0 ? capped : std::min(requested_ms, capped);
}

void ControlServer::set_listener_interest(Listener& listener, bool accepting) {
    epoll_event ev{};
    ev.events = accepting ? std::uint32_t{EPOLLIN} : 0u;
    ev.data.u64 = listener.tag;
    // On failure (ENOMEM) the listener keeps reporting; accepts stay bounded per poll() anyway.
    ::epoll_ctl(_epoll_fd, EPOLL_CTL_MOD, listener.fd, &ev);
}

void ControlServer::resume_paused_listeners(Clock::time_point now) {
    if (_unix_listener.paused && _unix_listener.paused_until <= now) {
        _unix_listener.paused = false;
        set_listener_interest(_unix_listener, true);
    }
}

ControlServer::Connection* ControlServer::find(std::uint64_t id) {
    const auto it = _connections.find(id);
    return it == _connections.end() ? nullptr : it->second.get();
}

void ControlServer::close_all() noexcept {
    for (auto& entry : _connections) {
        ::close(entry.second->fd);
    }
    _connections.clear();
    _ready.clear();
    _unix_listener.open_connections = 0;
    if (_unix_listener.fd >= 0) {
        ::epoll_ctl(_epoll_fd, EPOLL_CTL_DEL, _unix_listener.fd, nullptr);
        ::close(_unix_listener.fd);
        _unix_listener.fd = -1;
        _unix_listener.paused = false;
    }
    if (!_unix_path.empty()) {
        // Only our own file: a successor daemon may already have replaced it.
        struct stat st {};
        if (::lstat(_unix_path.c_str(), &st) == 0 && st.st_dev == _unix_dev && st.st_ino == _unix_ino) {
            ::unlink(_unix_path.c_str());
        }
        _unix_path.clear();
    }
}

ControlServerCounters ControlServer::counters() const noexcept {
    ControlServerCounters snapshot = _counters;
    snapshot.open_connections = _connections.size();
    for (const auto& entry : _connections) {
        snapshot.pending_output_bytes += entry.second->output_bytes;
    }
    return snapshot;
}

} // namespace wt::app
