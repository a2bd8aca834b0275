#include "app/control/tcp_listen.hpp"

#include "app/control/fd_guard.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace wt::app {

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

int listen_tcp(const std::string& host_port, std::uint16_t& bound_port, std::string& error) {
    std::string host;
    std::string port;
    if (!split_host_port(host_port, host, port, error)) {
        return -1;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* addresses = nullptr;
    const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses);
    if (gai != 0) {
        error = fmt::format("{}: {}", host_port, gai == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(gai));
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(addresses, &::freeaddrinfo);
    error = fmt::format("{}: no usable address", host_port);
    for (const addrinfo* ai = addresses; ai != nullptr; ai = ai->ai_next) {
        FdGuard fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
        if (fd.get() < 0) {
            error = fmt::format("socket: {}", errno_text(errno));
            continue;
        }
        // A restarted daemon must rebind while old connections sit in TIME_WAIT. Never SO_REUSEPORT:
        // with it a second appliance could bind the same port and take half of the requests.
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
        bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(bound).sin6_port
                                                       : reinterpret_cast<const sockaddr_in&>(bound).sin_port);
        error.clear();
        return fd.release();
    }
    return -1;
}

} // namespace wt::app
