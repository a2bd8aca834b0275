// An HTTP server (cpp-httplib) on a free loopback port, serving from a thread of its own for the duration of
// a test: stands in for ClickHouse, a Prometheus remote-write receiver, ... in the unit tests.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace wt::test {

class LocalHttpServer {
public:
    LocalHttpServer() = default;
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;
    ~LocalHttpServer() { stop(); }
    httplib::Server& routes() { return _server; }
    void start() {
        _port = _server.bind_to_any_port("127.0.0.1");
        _thread = std::thread([this] { _server.listen_after_bind(); });
        while (!_server.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    void stop() {
        if (_thread.joinable()) {
            _server.stop();
            _thread.join();
        }
    }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(_port); }

private:
    httplib::Server _server;
    int _port = 0;
    std::thread _thread;
};

} // namespace wt::test
