// The appliance's one TCP listener address ("127.0.0.1:9867", "[::1]:9867", "0.0.0.0:9867"): parsed and
// bound in one place, for the HTTP listener (http_gateway.cpp) and for the pre-start check that the
// address is free (app/config/environment.cpp), so both say the same thing about the same address.
#pragma once

#include <cstdint>
#include <string>

namespace wt::app {

// "host:port" or "[v6]:port", the port 0 to 65535: the host without brackets, and the port's digits.
bool split_host_port(const std::string& host_port, std::string& host, std::string& port, std::string& error);

// A listening socket (SO_REUSEADDR, non-blocking, close-on-exec) on the first of the address's
// resolutions that binds; -1 with "bind 127.0.0.1:9867: Address already in use" and the like in
// `error`. `bound_port` is the port it got (port 0 picks a free one).
int listen_tcp(const std::string& host_port, std::uint16_t& bound_port, std::string& error);

} // namespace wt::app
