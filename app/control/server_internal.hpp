// What the two parts of ControlServer share (server.cpp: sockets, the event loop, output and
// deadlines; control_lines.cpp: the control protocol): the connection record and the bounds on each
// poll()'s work. Internal to app/control.
#pragma once

#include "app/control/server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace wt::app::control_server {

constexpr std::uint64_t kUnixListenerTag = 1;
constexpr std::uint64_t kFirstConnectionId = 16;

constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes sent to one connection per flush: a multi-MB answer to a fast reader goes out over a few
// poll calls instead of holding the stats thread for the whole transfer.
constexpr std::size_t kWriteBudgetPerFlush = 1 << 20;
// Lines answered for one connection before the next ready connection gets its turn.
constexpr std::size_t kRequestsPerTurn = 8;
// accept() failing with EMFILE would report the listener readable forever: pause it instead.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

} // namespace wt::app::control_server

namespace wt::app {

struct ControlServer::Connection {
    std::uint64_t id = 0;
    int fd = -1;
    Listener* listener = nullptr;

    std::string input;
    std::size_t input_begin = 0;   // first byte not yet consumed
    std::size_t newline_scan = 0;  // bytes before this offset hold no unconsumed '\n'

    std::deque<std::string> output; // one chunk per answer, so big answers are moved, not copied
    std::size_t output_offset = 0;  // bytes of output.front() already sent
    std::size_t output_bytes = 0;   // unsent bytes, all chunks

    Clock::time_point deadline = Clock::time_point::max(); // idle deadline
    bool input_closed = false;      // the peer sent EOF
    bool close_after_flush = false; // answered for the last time
    bool queued = false;            // in _ready: complete lines wait for an answer
    std::uint32_t interest = 0;     // events registered with epoll
};

} // namespace wt::app
