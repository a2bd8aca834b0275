#include "pipeline/flow.hpp"

#include <arpa/inet.h>

namespace wt::pipeline {

void format_ip(const IpAddr& ip, FixedString<46>& out) noexcept {
    char buf[INET6_ADDRSTRLEN] = {};
    const int family = ip.version == 6 ? AF_INET6 : AF_INET;
    if (::inet_ntop(family, ip.bytes.data(), buf, sizeof(buf)) == nullptr) {
        out.assign("?");
        return;
    }
    out.assign(buf);
}

} // namespace wt::pipeline
