// IpAddress construction and text (RFC 5952 through the C library's inet_ntop).
#include "parsers/net/packet.hpp"
#include "parsers/net/packet_decode.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace wt::parsers {

IpAddress make_ipv4(const std::uint8_t* p) noexcept {
    IpAddress a;
    packet_decode::set_ipv4(a, p);
    return a;
}

IpAddress make_ipv6(const std::uint8_t* p) noexcept {
    IpAddress a;
    packet_decode::set_ipv6(a, p);
    return a;
}

std::size_t format_ip(const IpAddress& a, char* buf, std::size_t cap) noexcept {
    char text[INET6_ADDRSTRLEN] = "-";
    if (a.version == 4 || a.version == 6) {
        const int family = a.version == 4 ? AF_INET : AF_INET6;
        if (::inet_ntop(family, a.bytes.data(), text, sizeof(text)) == nullptr) {
            std::strcpy(text, "-"); // cannot happen: the buffer fits any address
        }
    }
    const std::size_t length = std::strlen(text);
    if (cap == 0) {
        return 0;
    }
    const std::size_t kept = std::min(length, cap - 1);
    std::memcpy(buf, text, kept);
    buf[kept] = '\0';
    return kept;
}

IpString to_string(const IpAddress& a) noexcept {
    char buf[IpString::capacity() + 1];
    const std::size_t n = format_ip(a, buf, sizeof(buf));
    IpString s;
    s.assign(std::string_view(buf, n));
    return s;
}

} // namespace wt::parsers
