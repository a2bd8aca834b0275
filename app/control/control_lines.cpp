// The control protocol of ControlServer: newline-delimited JSON requests read, answered in
// order through the request handler, and refused when a line outgrows max_request_bytes.
#include "app/control/server_internal.hpp"

#include <fmt/format.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wt::app {

using namespace control_server;

bool ControlServer::read_control_lines(Connection& c) {
    const Received received = receive(c);
    if (received == Received::kClosed || received == Received::kNothing) {
        return received == Received::kNothing;
    }
    if (received == Received::kEndOfInput) {
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
    } else if (c.input.size() - c.input_begin > _limits.max_request_bytes) {
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
        if (length > _limits.max_request_bytes) {
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
        ++_counters.requests;
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
    if (c.input.size() > _limits.max_request_bytes) {
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
                ++_counters.requests;
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
    if (!_request_handler) {
        response = R"({"ok":false,"error":"no request handler"})";
    } else {
        try {
            response = _request_handler(line);
        } catch (const std::exception& e) {
            ++_counters.handler_errors;
            response = nlohmann::ordered_json{{"ok", false}, {"error", std::string("internal error: ") + e.what()}}.dump(
                -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        } catch (...) {
            ++_counters.handler_errors;
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
    ++_counters.oversized;
    c.input.clear();
    std::string().swap(c.input);
    c.input_begin = 0;
    c.newline_scan = 0;
    c.close_after_flush = true;
    return queue_and_flush(
        c, fmt::format("{{\"ok\":false,\"error\":\"request exceeds {} bytes\"}}\n", _limits.max_request_bytes));
}

} // namespace wt::app
