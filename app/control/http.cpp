// The HTTP side of ControlServer: `GET /metrics` for Prometheus (RFC 9112 request heads, bounded
// in size and time), answers with Connection: close, then a bounded linger before closing.
#include "app/control/server_internal.hpp"

#include <fmt/format.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wt::app {

using namespace control_server;

namespace {

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

constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

} // namespace

namespace control_server {

std::string http_response(int status, std::string_view reason, std::string_view content_type, std::string_view body,
                          bool include_body, std::string_view extra_headers) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
                                  status, reason, content_type, body.size(), extra_headers);
    if (include_body) {
        out.append(body);
    }
    return out;
}

} // namespace control_server

bool ControlServer::read_http(Connection& c) {
    const std::size_t old_size = c.input.size();
    const Received received = receive(c);
    if (received == Received::kClosed || received == Received::kNothing) {
        return received == Received::kNothing;
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
    if (received == Received::kEndOfInput) {
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
    ++_counters.http_requests;
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
            if (!_metrics_handler) {
                status = 503;
                response = http_response(status, "Service Unavailable", kPlainText, "no metrics yet\n", include_body);
            } else {
                try {
                    response = http_response(status, "OK", kPrometheusText, _metrics_handler(), include_body);
                } catch (const std::exception& e) {
                    ++_counters.handler_errors;
                    status = 500;
                    response = http_response(status, "Internal Server Error", kPlainText,
                                             fmt::format("metrics failed: {}\n", e.what()), include_body);
                } catch (...) {
                    ++_counters.handler_errors;
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
        ++_counters.http_errors;
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

} // namespace wt::app
