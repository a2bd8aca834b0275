// The HTTP client side the store's parts share: the ClickHouse export, `wiretally query` and Prometheus
// remote write (cpp-httplib's client).
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

namespace wt::app::http_client {

// A client of base_url ("http://HOST:PORT") with one timeout for connecting, sending and waiting for the
// answer, and Basic authentication unless the user is ClickHouse's password-less "default" (or none).
[[nodiscard]] std::unique_ptr<httplib::Client> client_for(const std::string& base_url, std::chrono::milliseconds timeout,
                                                          const std::string& user = {}, const std::string& password = {});

// A request that failed, in one line: the transport's error, or "HTTP STATUS: " and the first line of the
// answer (a server's error text), at most 300 characters of it.
[[nodiscard]] std::string failure_text(const httplib::Result& res);

// The first line of a password file, without its line end; false with `error` ("FILE: cannot read the
// password file") when it cannot be read.
bool read_password_file(const std::string& path, std::string& password, std::string& error);

// The wait before the next attempt after one more failure: `first`, then doubled up to `longest`.
[[nodiscard]] inline std::chrono::milliseconds next_backoff(std::chrono::milliseconds current,
                                                            std::chrono::milliseconds first,
                                                            std::chrono::milliseconds longest) noexcept {
    return current == std::chrono::milliseconds::zero() ? first : std::min(current * 2, longest);
}

} // namespace wt::app::http_client
