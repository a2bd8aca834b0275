#include "app/control/server.hpp"
#include "app/control/fd_guard.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
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

namespace {

constexpr std::uint64_t kUnixListenerTag = 1;
constexpr std::uint64_t kHttpListenerTag = 2;
constexpr std::uint64_t kFirstConnectionId = 16;

constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes sent to one connection per flush: a multi-MB answer to a fast reader goes out over a few
// poll calls instead of holding the stats thread for the whole transfer.
constexpr std::size_t kWriteBudgetPerFlush = 1 << 20;
// Lines answered for one connection before the next ready connection gets its turn.
constexpr std::size_t kRequestsPerTurn = 8;
// After an HTTP answer the write side is shut and the rest of the request discarded until the
// client closes: closing a TCP socket with unread input sends a RST, which can destroy the answer
// (a 431 or 405) before the client reads it. Bounded in time and bytes.
constexpr auto kHttpLinger = std::chrono::milliseconds(2000);
constexpr std::size_t kLingerDiscardBudget = 256 * 1024;
// accept() failing with EMFILE would report the listener readable forever: pause it instead.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);


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

bool split_host_port(const std::string& host_port, std::string& host, std::string& port, std::string& error) {
    std::size_t colon;
    if (!host_port.empty() && host_port.front() == '[') {
        const auto close = host_port.find(']');
        if (close == std::string::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':') {
            error = fmt::format("'{}': expected [IPv6]:PORT", host_port);
            return false;
        }
        host = host_port.substr(1, close - 1);
        colon = close + 1;
    } else {
        colon = host_port.rfind(':');
        if (colon == std::string::npos) {
            error = fmt::format("'{}': expected HOST:PORT", host_port);
            return false;
        }
        host = host_port.substr(0, colon);
    }
    port = host_port.substr(colon + 1);
    const bool port_is_number = !port.empty() && port.size() <= 5 &&
                                std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (host.empty() || !port_is_number || std::stoul(port) > 65535) {
        error = fmt::format("'{}': expected HOST:PORT with a port from 0 to 65535", host_port);
        return false;
    }
    return true;
}

// RFC 9110 section 5.6.2: token = 1*tchar.
bool is_token(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
    });
}

bool is_request_target(std::string_view s) {
    return !s.empty() && std::none_of(s.begin(), s.end(), [](char ch) {
        return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f;
    });
}

struct RequestLine {
    std::string_view method;
    std::string_view path; // query and fragment removed
};

// RFC 9112 section 3: method SP request-target SP HTTP-version, single spaces.
bool parse_request_line(std::string_view line, RequestLine& out) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    const auto first_space = line.find(' ');
    if (first_space == std::string_view::npos) {
        return false;
    }
    const auto second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos) {
        return false;
    }
    const std::string_view method = line.substr(0, first_space);
    std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
    const std::string_view version = line.substr(second_space + 1);
    const bool version_ok = version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '0' &&
                            version[7] <= '9';
    if (!is_token(method) || !is_request_target(target) || !version_ok) {
        return false;
    }
    // Absolute form (RFC 9112 section 3.2.2), which servers must accept: keep the path.
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.substr(0, scheme.size()) == scheme) {
            const auto path_start = target.find('/', scheme.size());
            target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
        }
    }
    if (target.front() != '/' && target != "*") {
        return false;
    }
    out.method = method;
    out.path = target.substr(0, target.find_first_of("?#"));
    return true;
}

std::string http_response(int status, std::string_view reason, std::string_view content_type, std::string_view body,
                          bool include_body, std::string_view extra_headers = {}) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
                                  status, reason, content_type, body.size(), extra_headers);
    if (include_body) {
        out.append(body);
    }
    return out;
}

constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

} // namespace

struct ControlServer::Connection {
    std::uint64_t id = 0;
    int fd = -1;
    Listener* listener = nullptr;
    Protocol protocol = Protocol::kControlLines;

    std::string input;
    std::size_t input_begin = 0;   // first byte not yet consumed
    std::size_t newline_scan = 0;  // bytes before this offset hold no unconsumed '\n'

    std::deque<std::string> output; // one chunk per answer, so big answers are moved, not copied
    std::size_t output_offset = 0;  // bytes of output.front() already sent
    std::size_t output_bytes = 0;   // unsent bytes, all chunks

    Clock::time_point deadline = Clock::time_point::max(); // idle (or linger) deadline
    bool input_closed = false;      // the peer sent EOF
    bool close_after_flush = false; // answered for the last time
    bool lingering = false;         // HTTP: write side shut, discarding input until EOF
    std::size_t lingering_discarded = 0;
    bool queued = false;            // in ready_: complete lines wait for an answer
    std::uint32_t interest = 0;     // events registered with epoll
};

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
        {"http_requests", c.http_requests},
        {"http_errors", c.http_errors},
        {"open_connections", c.open_connections},
        {"pending_output_bytes", c.pending_output_bytes},
    };
}

ControlServer::ControlServer(ControlLimits limits) : limits_(limits), next_id_(kFirstConnectionId) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        epoll_errno_ = errno; // reported by listen_*(); the constructor does not throw
    }
    unix_listener_.tag = kUnixListenerTag;
    unix_listener_.protocol = Protocol::kControlLines;
    http_listener_.tag = kHttpListenerTag;
    http_listener_.protocol = Protocol::kHttp;
}

ControlServer::~ControlServer() {
    close_all();
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

bool ControlServer::listen_unix(const std::string& path, mode_t mode, const std::string& group, std::string& error) {
    if (epoll_fd_ < 0) {
        error = fmt::format("epoll_create1: {}", errno_text(epoll_errno_));
        return false;
    }
    if (unix_listener_.fd >= 0) {
        error = fmt::format("already listening on {}", unix_path_);
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
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
        return fail(fmt::format("epoll_ctl: {}", errno_text(errno)));
    }
    unix_listener_.fd = fd.release();
    unix_path_ = path;
    unix_dev_ = st.st_dev;
    unix_ino_ = st.st_ino;
    return true;
}

bool ControlServer::listen_http(const std::string& host_port, std::string& error) {
    if (epoll_fd_ < 0) {
        error = fmt::format("epoll_create1: {}", errno_text(epoll_errno_));
        return false;
    }
    if (http_listener_.fd >= 0) {
        error = fmt::format("already listening for HTTP on port {}", http_port_);
        return false;
    }
    std::string host;
    std::string port;
    if (!split_host_port(host_port, host, port, error)) {
        return false;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* addresses = nullptr;
    const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses);
    if (gai != 0) {
        error = fmt::format("{}: {}", host_port, gai == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(gai));
        return false;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(addresses, &::freeaddrinfo);
    error = fmt::format("{}: no usable address", host_port);
    for (const addrinfo* ai = addresses; ai != nullptr; ai = ai->ai_next) {
        FdGuard fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
        if (fd.get() < 0) {
            error = fmt::format("socket: {}", errno_text(errno));
            continue;
        }
        // A restarted daemon must rebind while old connections sit in TIME_WAIT.
        const int one = 1;
        if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
            error = fmt::format("setsockopt SO_REUSEADDR: {}", errno_text(errno));
            continue;
        }
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            error = fmt::format("bind {}: {}", host_port, errno_text(errno));
            continue;
        }
        if (::listen(fd.get(), SOMAXCONN) != 0) {
            error = fmt::format("listen {}: {}", host_port, errno_text(errno));
            continue;
        }
        sockaddr_storage bound{};
        socklen_t bound_len = sizeof(bound);
        if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
            error = fmt::format("getsockname: {}", errno_text(errno));
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kHttpListenerTag;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
            error = fmt::format("epoll_ctl: {}", errno_text(errno));
            continue;
        }
        http_port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(bound).sin6_port
                                                       : reinterpret_cast<const sockaddr_in&>(bound).sin_port);
        http_listener_.fd = fd.release();
        error.clear();
        return true;
    }
    return false;
}

int ControlServer::poll(int timeout_ms) noexcept {
    if (epoll_fd_ < 0) {
        return -1;
    }
    int handled = 0;
    try {
        resume_paused_listeners(Clock::now());
        epoll_event events[kMaxEventsPerPoll];
        int ready_events = ::epoll_wait(epoll_fd_, events, kMaxEventsPerPoll, wait_timeout_ms(timeout_ms, Clock::now()));
        if (ready_events < 0) {
            if (errno != EINTR) {
                return -1;
            }
            ready_events = 0;
        }
        for (int i = 0; i < ready_events; ++i) {
            const std::uint64_t tag = events[i].data.u64;
            if (tag == kUnixListenerTag) {
                handle_listener(unix_listener_);
            } else if (tag == kHttpListenerTag) {
                handle_listener(http_listener_);
            } else {
                try {
                    handle_connection_event(tag, events[i].events);
                } catch (...) { // out of memory for this client's buffers: drop the client, not the thread
                    ++counters_.reset;
                    close_connection(tag);
                }
            }
            ++handled;
        }
        // Answer queued lines round robin, within the budget of this call.
        std::size_t budget = kMaxRequestsPerPoll;
        while (budget > 0 && !ready_.empty()) {
            const std::uint64_t id = ready_.front();
            ready_.pop_front();
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
                ++counters_.reset;
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
                ++counters_.accept_errors;
                set_listener_interest(listener, false);
                listener.paused = true;
                listener.paused_until = Clock::now() + kAcceptPause;
                return;
            }
        }
        if (listener.open_connections >= limits_.max_clients) {
            reject(listener, fd);
        } else {
            admit(listener, fd);
        }
    }
}

void ControlServer::admit(Listener& listener, int fd) {
    auto connection = std::make_unique<Connection>();
    connection->id = next_id_++;
    connection->fd = fd;
    connection->listener = &listener;
    connection->protocol = listener.protocol;
    connection->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = connection->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ++counters_.accept_errors;
        ::close(fd);
        return;
    }
    touch(*connection, Clock::now());
    const std::uint64_t id = connection->id;
    try {
        connections_.emplace(id, std::move(connection));
    } catch (...) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        throw;
    }
    ++listener.open_connections;
    ++counters_.accepted;
}

// The refused client learns why at once instead of hanging in the backlog.
void ControlServer::reject(const Listener& listener, int fd) {
    ++counters_.rejected_too_many;
    const std::string reason = fmt::format("too many clients ({})", limits_.max_clients);
    const std::string message =
        listener.protocol == Protocol::kHttp
            ? http_response(503, "Service Unavailable", kPlainText, reason + "\n", true, "Retry-After: 1\r\n")
            : fmt::format("{{\"ok\":false,\"error\":\"{}\"}}\n", reason);
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

void ControlServer::handle_connection_event(std::uint64_t id, std::uint32_t events) {
    Connection* c = find(id);
    if (c == nullptr) {
        return; // closed earlier in this batch
    }
    if ((events & EPOLLERR) != 0) {
        ++counters_.reset;
        close_connection(id);
        return;
    }
    if ((events & EPOLLOUT) != 0 && !flush(*c)) {
        return;
    }
    if ((events & EPOLLIN) != 0) {
        if (c->lingering) {
            drain_lingering(*c);
        } else if (c->protocol == Protocol::kHttp) {
            read_http(*c);
        } else {
            read_control_lines(*c);
        }
        return;
    }
    if ((events & EPOLLHUP) != 0) {
        // Both directions are shut: nobody will read an answer.
        close_connection(id);
    }
}

bool ControlServer::read_control_lines(Connection& c) {
    const std::size_t old_size = c.input.size();
    c.input.resize(old_size + kReadChunk);
    ssize_t n;
    do {
        n = ::recv(c.fd, c.input.data() + old_size, kReadChunk, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    c.input.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        }
        ++counters_.reset;
        close_connection(c.id);
        return false;
    }
    if (n == 0) {
        c.input_closed = true;
    } else {
        touch(c, Clock::now());
    }
    const std::size_t scan_from = std::max(c.newline_scan, c.input_begin);
    const bool has_line =
        std::memchr(c.input.data() + scan_from, '\n', c.input.size() - scan_from) != nullptr;
    c.newline_scan = has_line ? c.input_begin : c.input.size();
    if (has_line || c.input_closed) {
        enqueue(c); // answered in order by answer_queued_lines(), which also handles EOF
    } else if (c.input.size() - c.input_begin > limits_.max_request_bytes) {
        // No newline within the limit: refuse now instead of buffering the rest of the line.
        return refuse_oversized(c);
    }
    update_interest(c);
    return true;
}

std::size_t ControlServer::answer_queued_lines(Connection& c, std::size_t budget) {
    std::size_t used = 0;
    while (used < budget && !c.close_after_flush) {
        const char* begin = c.input.data() + c.input_begin;
        const std::size_t available = c.input.size() - c.input_begin;
        const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
        if (newline == nullptr) {
            break;
        }
        const auto length = static_cast<std::size_t>(newline - begin);
        ++used;
        if (length > limits_.max_request_bytes) {
            refuse_oversized(c);
            return used;
        }
        std::string_view line(begin, length);
        c.input_begin += length + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            continue;
        }
        // The view points into c.input, which nothing below touches until the handler returns.
        std::string response = call_request_handler(line);
        ++counters_.requests;
        if (!queue_and_flush(c, std::move(response))) {
            return used;
        }
    }
    if (c.close_after_flush) {
        return used;
    }
    if (std::memchr(c.input.data() + c.input_begin, '\n', c.input.size() - c.input_begin) != nullptr) {
        enqueue(c); // more lines than this turn's budget: back of the queue
        update_interest(c);
        return used;
    }
    // Every complete line is answered: keep only the unterminated tail.
    c.input.erase(0, c.input_begin);
    c.input_begin = 0;
    c.newline_scan = c.input.size();
    if (c.input.size() > limits_.max_request_bytes) {
        refuse_oversized(c);
        return used;
    }
    if (c.input.empty() && c.input.capacity() > 2 * kReadChunk) {
        std::string().swap(c.input);
    }
    if (c.input_closed) {
        // The peer shut its side: a last line without a newline is still a request.
        if (!c.input.empty() && used < budget) {
            ++used;
            std::string_view line(c.input);
            if (line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (!line.empty()) {
                std::string response = call_request_handler(line);
                ++counters_.requests;
                c.input.clear();
                if (!queue_and_flush(c, std::move(response))) {
                    return used;
                }
            }
        } else if (!c.input.empty()) {
            enqueue(c);
            return used;
        }
        c.input.clear();
        c.close_after_flush = true;
        update_interest(c);
        finish_if_done(c);
        return used;
    }
    update_interest(c);
    return used;
}

std::string ControlServer::call_request_handler(std::string_view line) {
    std::string response;
    if (!request_handler_) {
        response = R"({"ok":false,"error":"no request handler"})";
    } else {
        try {
            response = request_handler_(line);
        } catch (const std::exception& e) {
            ++counters_.handler_errors;
            response = nlohmann::ordered_json{{"ok", false}, {"error", std::string("internal error: ") + e.what()}}.dump(
                -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        } catch (...) {
            ++counters_.handler_errors;
            response = R"({"ok":false,"error":"internal error"})";
        }
    }
    // One answer is one line: a newline from the handler would desynchronise the client.
    for (auto pos = response.find('\n'); pos != std::string::npos; pos = response.find('\n', pos + 1)) {
        response[pos] = ' ';
    }
    response.push_back('\n');
    return response;
}

bool ControlServer::refuse_oversized(Connection& c) {
    ++counters_.oversized;
    c.input.clear();
    std::string().swap(c.input);
    c.input_begin = 0;
    c.newline_scan = 0;
    c.close_after_flush = true;
    return queue_and_flush(
        c, fmt::format("{{\"ok\":false,\"error\":\"request exceeds {} bytes\"}}\n", limits_.max_request_bytes));
}

bool ControlServer::read_http(Connection& c) {
    const std::size_t old_size = c.input.size();
    c.input.resize(old_size + kReadChunk);
    ssize_t n;
    do {
        n = ::recv(c.fd, c.input.data() + old_size, kReadChunk, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    c.input.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        }
        ++counters_.reset;
        close_connection(c.id);
        return false;
    }
    // Reading does not call touch(): a request trickled byte by byte must still arrive within
    // the idle timeout of the accept (slowloris); only answering moves an HTTP deadline.
    const std::string_view input(c.input);
    std::size_t head_end = input.find("\r\n\r\n", old_size >= 3 ? old_size - 3 : 0);
    if (head_end == std::string_view::npos) {
        head_end = input.find("\n\n", old_size >= 1 ? old_size - 1 : 0);
    }
    if (head_end != std::string_view::npos) {
        if (head_end > kMaxHttpHeaderBytes) {
            return answer_http(c, {});
        }
        return answer_http(c, input.substr(0, head_end));
    }
    if (input.size() > kMaxHttpHeaderBytes) {
        return answer_http(c, {});
    }
    if (n == 0) {
        close_connection(c.id); // the client gave up before finishing its request
        return false;
    }
    // A complete but malformed request line is refused at once rather than at the timeout.
    const auto line_end = input.find('\n');
    RequestLine request;
    if (line_end != std::string_view::npos && !parse_request_line(input.substr(0, line_end), request)) {
        return answer_http(c, input.substr(0, line_end + 1));
    }
    return true;
}

// `head` is the request line and headers; empty means they exceeded kMaxHttpHeaderBytes.
bool ControlServer::answer_http(Connection& c, std::string_view head) {
    ++counters_.http_requests;
    RequestLine request;
    std::string response;
    int status = 200;
    bool include_body = true;
    if (head.empty()) {
        status = 431;
        response = http_response(status, "Request Header Fields Too Large", kPlainText,
                                 fmt::format("request headers exceed {} bytes\n", kMaxHttpHeaderBytes), true);
    } else if (!parse_request_line(head.substr(0, head.find('\n')), request)) {
        status = 400;
        response = http_response(status, "Bad Request", kPlainText, "malformed request line\n", true);
    } else if (request.method != "GET" && request.method != "HEAD") {
        status = 405;
        response = http_response(status, "Method Not Allowed", kPlainText, "only GET and HEAD are served\n", true,
                                 "Allow: GET, HEAD\r\n");
    } else {
        include_body = request.method == "GET";
        if (request.path == "/metrics") {
            if (!metrics_handler_) {
                status = 503;
                response = http_response(status, "Service Unavailable", kPlainText, "no metrics yet\n", include_body);
            } else {
                try {
                    response = http_response(status, "OK", kPrometheusText, metrics_handler_(), include_body);
                } catch (const std::exception& e) {
                    ++counters_.handler_errors;
                    status = 500;
                    response = http_response(status, "Internal Server Error", kPlainText,
                                             fmt::format("metrics failed: {}\n", e.what()), include_body);
                } catch (...) {
                    ++counters_.handler_errors;
                    status = 500;
                    response = http_response(status, "Internal Server Error", kPlainText, "metrics failed\n",
                                             include_body);
                }
            }
        } else if (request.path == "/") {
            response = http_response(status, "OK", "text/html; charset=utf-8",
                                     "<html><head><title>wiretally</title></head><body>\n"
                                     "<h1>wiretally</h1>\n<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n",
                                     include_body);
        } else {
            status = 404;
            response = http_response(status, "Not Found", kPlainText, "not found; try /metrics\n", include_body);
        }
    }
    if (status >= 400) {
        ++counters_.http_errors;
    }
    std::string().swap(c.input);
    c.close_after_flush = true;
    return queue_and_flush(c, std::move(response));
}

bool ControlServer::drain_lingering(Connection& c) {
    char discard[16384];
    for (int reads = 0; reads < 4; ++reads) {
        const ssize_t n = ::recv(c.fd, discard, sizeof(discard), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        c.lingering_discarded += static_cast<std::size_t>(std::max<ssize_t>(n, 0));
        if (n <= 0 || c.lingering_discarded > kLingerDiscardBudget) {
            close_connection(c.id);
            return false;
        }
    }
    return true;
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
    if (c.output_bytes > limits_.max_pending_output && c.output.size() > 1) {
        ++counters_.slow_closed;
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
            ++counters_.reset; // EPIPE, ECONNRESET: the client is gone
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
    if (!c.close_after_flush || c.output_bytes > 0 || c.lingering) {
        return true;
    }
    if (c.protocol == Protocol::kHttp && !c.input_closed) {
        // Send our FIN, then wait for the client's (see kHttpLinger).
        ::shutdown(c.fd, SHUT_WR);
        c.lingering = true;
        c.deadline = Clock::now() + kHttpLinger;
        update_interest(c);
        return true;
    }
    // A Unix socket keeps what was sent readable after we close, even with unread input.
    close_connection(c.id);
    return false;
}

void ControlServer::enqueue(Connection& c) {
    if (!c.queued) {
        c.queued = true;
        ready_.push_back(c.id);
    }
}

void ControlServer::touch(Connection& c, Clock::time_point now) {
    if (c.lingering) {
        return; // the linger deadline is fixed
    }
    c.deadline = limits_.idle_timeout_ms == 0 ? Clock::time_point::max()
                                              : now + std::chrono::milliseconds(limits_.idle_timeout_ms);
}

void ControlServer::update_interest(Connection& c) {
    std::uint32_t wanted = 0;
    if (c.lingering || (!c.close_after_flush && !c.queued && !c.input_closed)) {
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
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) {
        c.interest = wanted;
    }
}

void ControlServer::close_connection(std::uint64_t id) {
    const auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    Connection& c = *it->second;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr); // close() would drop it too; be explicit
    ::close(c.fd);
    --c.listener->open_connections;
    connections_.erase(it);
}

void ControlServer::expire_deadlines(Clock::time_point now) {
    std::vector<std::uint64_t> expired;
    for (const auto& [id, c] : connections_) {
        if (c->deadline <= now) {
            expired.push_back(id);
            if (!c->lingering) {
                ++counters_.idle_closed;
            }
        }
    }
    for (const std::uint64_t id : expired) {
        close_connection(id);
    }
}

int ControlServer::wait_timeout_ms(int requested_ms, Clock::time_point now) const {
    if (!ready_.empty()) {
        return 0;
    }
    Clock::time_point earliest = Clock::time_point::max();
    for (const auto& entry : connections_) {
        earliest = std::min(earliest, entry.second->deadline);
    }
    for (const Listener* listener : {&unix_listener_, &http_listener_}) {
        if (listener->paused) {
            earliest = std::min(earliest, listener->paused_until);
        }
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
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener.fd, &ev);
}

void ControlServer::resume_paused_listeners(Clock::time_point now) {
    for (Listener* listener : {&unix_listener_, &http_listener_}) {
        if (listener->paused && listener->paused_until <= now) {
            listener->paused = false;
            set_listener_interest(*listener, true);
        }
    }
}

ControlServer::Connection* ControlServer::find(std::uint64_t id) {
    const auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : it->second.get();
}

void ControlServer::close_all() noexcept {
    for (auto& entry : connections_) {
        ::close(entry.second->fd);
    }
    connections_.clear();
    ready_.clear();
    unix_listener_.open_connections = 0;
    http_listener_.open_connections = 0;
    for (Listener* listener : {&unix_listener_, &http_listener_}) {
        if (listener->fd >= 0) {
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener->fd, nullptr);
            ::close(listener->fd);
            listener->fd = -1;
            listener->paused = false;
        }
    }
    if (!unix_path_.empty()) {
        // Only our own file: a successor daemon may already have replaced it.
        struct stat st {};
        if (::lstat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_dev_ && st.st_ino == unix_ino_) {
            ::unlink(unix_path_.c_str());
        }
        unix_path_.clear();
    }
    http_port_ = 0;
}

ControlServerCounters ControlServer::counters() const noexcept {
    ControlServerCounters snapshot = counters_;
    snapshot.open_connections = connections_.size();
    for (const auto& entry : connections_) {
        snapshot.pending_output_bytes += entry.second->output_bytes;
    }
    return snapshot;
}

} // namespace wt::app
