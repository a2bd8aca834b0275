// Shared by the control tests: a temporary directory, a server polled by its own thread, and
// blocking client sockets with a receive timeout so that a failing test fails instead of hanging.
#pragma once

#include "app/control/server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace wt::app::test {

using Clock = std::chrono::steady_clock;

inline double elapsed_ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/wtctl.XXXXXX"; // short: Unix socket paths are limited to 107 bytes
        const char* made = ::mkdtemp(pattern);
        if (made == nullptr) {
            ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
        } else {
            path_ = made;
        }
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Runs poll() in a loop on its own thread, as the stats thread does. The server may be touched
// from the test only while the thread is stopped.
class ServerThread {
public:
    explicit ServerThread(ControlLimits limits = {}) : server_(limits) {}
    ~ServerThread() { stop(); }
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;

    ControlServer& server() { return server_; }

    void start() {
        stop_ = false;
        thread_ = std::thread([this] {
            while (!stop_.load(std::memory_order_relaxed)) {
                server_.poll(5);
            }
        });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    // Stops the thread and returns the counters (the server is single-threaded by contract).
    ControlServerCounters stop_and_count() {
        stop();
        return server_.counters();
    }

private:
    ControlServer server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

inline void set_receive_timeout(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

// A blocking client socket (receive timeout 2 s), or -1.
inline int connect_unix(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    set_receive_timeout(fd, 2000);
    return fd;
}

inline int connect_tcp(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;
    if (v6) {
        sockaddr_in6 addr{};
        addr.sin6_family = AF_INET6;
        addr.sin6_port = htons(port);
        ::inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr);
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    } else {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    }
    if (rc != 0) {
        ::close(fd);
        return -1;
    }
    set_receive_timeout(fd, 2000);
    return fd;
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads '\n'-terminated lines from a blocking socket.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // The next line without its newline; false on EOF, error or the 2 s receive timeout.
    bool next(std::string& line) {
        for (;;) {
            const auto newline = buffer_.find('\n');
            if (newline != std::string::npos) {
                line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return true;
            }
            char chunk[65536];
            const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return false;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }
    std::string line() {
        std::string out;
        if (!next(out)) {
            return "<no line>";
        }
        return out;
    }
    // True once the peer closed (EOF or reset) with nothing else to read.
    bool at_end() {
        char byte;
        for (;;) {
            const ssize_t n = ::recv(fd_, &byte, 1, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
                return buffer_.empty();
            }
            return false; // data, or timeout (EAGAIN)
        }
    }

private:
    int fd_;
    std::string buffer_;
};

// Reads until EOF (or reset / timeout).
inline std::string read_all(int fd) {
    std::string out;
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return out;
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
}

} // namespace wt::app::test
