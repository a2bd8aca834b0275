// ControlServer from real sockets: a server thread polls in a loop, the test plays the clients.
#include "app/control/server.hpp"

#include "tests/app/control/test_support.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

namespace wt::app {
namespace {

using namespace wt::app::test;

std::string echo(std::string_view line) { return "echo:" + std::string(line); }

constexpr mode_t kMode = 0660;

// A server on <tmp>/ctl.sock with the echo handler, already polling.
struct EchoServer {
    explicit EchoServer(ControlLimits limits = {}) : thread(limits) {
        thread.server().set_request_handler(echo);
        std::string error;
        EXPECT_TRUE(thread.server().listen_unix(path, kMode, "", error)) << error;
        thread.start();
    }
    TempDir dir;
    std::string path = dir / "ctl.sock";
    ServerThread thread;
};

struct Fd {
    explicit Fd(int value) : fd(value) {}
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    operator int() const { return fd; }
    int fd;
};

std::size_t rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            std::size_t kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(4096, '\n');
    }
    return 0;
}

// ---- the line protocol -------------------------------------------------------------------------

TEST(ControlServer, AnswersARequest) {
    EchoServer s;
    Fd fd(connect_unix(s.path));
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, "{\"command\":\"stats\"}\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:{\"command\":\"stats\"}");
    const auto counters = s.thread.stop_and_count();
    EXPECT_EQ(counters.requests, 1u);
    EXPECT_EQ(counters.accepted, 1u);
    EXPECT_EQ(counters.open_connections, 1u);
}

TEST(ControlServer, AnswersPipelinedRequestsInOrder) {
    EchoServer s;
    Fd fd(connect_unix(s.path));
    ASSERT_GE(fd, 0);
    std::string batch;
    constexpr int kRequests = 1000; // many times the per-poll budget
    for (int i = 0; i < kRequests; ++i) {
        batch += "r" + std::to_string(i) + "\n";
    }
    ASSERT_TRUE(send_all(fd, batch));
    LineReader reader(fd);
    for (int i = 0; i < kRequests; ++i) {
        ASSERT_EQ(reader.line(), "echo:r" + std::to_string(i));
    }
}

TEST(ControlServer, ServesSeveralClientsInterleaved) {
    EchoServer s;
    constexpr int kClients = 8;
    std::vector<std::unique_ptr<Fd>> fds;
    std::vector<LineReader> readers;
    for (int c = 0; c < kClients; ++c) {
        fds.push_back(std::make_unique<Fd>(connect_unix(s.path)));
        ASSERT_GE(*fds.back(), 0);
        readers.emplace_back(*fds.back());
    }
    for (int round = 0; round < 5; ++round) {
        for (int c = kClients - 1; c >= 0; --c) {
            ASSERT_TRUE(send_all(*fds[c], "c" + std::to_string(c) + "r" + std::to_string(round) + "\n"));
        }
        for (int c = 0; c < kClients; ++c) {
            EXPECT_EQ(readers[c].line(), "echo:c" + std::to_string(c) + "r" + std::to_string(round));
        }
    }
}

TEST(ControlServer, IgnoresEmptyLinesAndStripsCarriageReturns) {
    EchoServer s;
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, "\n\r\nA\r\n\n\nB\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:A");
    EXPECT_EQ(reader.line(), "echo:B");
    ASSERT_TRUE(send_all(fd, "C\n"));
    EXPECT_EQ(reader.line(), "echo:C"); // nothing was answered for the empty lines
}

TEST(ControlServer, RequestSplitAcrossWritesIsOneRequest) {
    EchoServer s;
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, "{\"comm"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let the server read the first half
    ASSERT_TRUE(send_all(fd, "and\":1}\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:{\"command\":1}");
}

TEST(ControlServer, AnswersALastLineWithoutNewlineThenCloses) {
    EchoServer s;
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, "A\nlast"));
    ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:A");
    EXPECT_EQ(reader.line(), "echo:last");
    EXPECT_TRUE(reader.at_end());
}

TEST(ControlServer, HandlerExceptionBecomesAnErrorAnswer) {
    ServerThread thread;
    thread.server().set_request_handler([](std::string_view line) -> std::string {
        if (line == "throw") {
            throw std::runtime_error("boom \"quoted\"");
        }
        return "fine";
    });
    TempDir dir;
    std::string error;
    ASSERT_TRUE(thread.server().listen_unix(dir / "s", 0600, "", error)) << error;
    thread.start();
    Fd fd(connect_unix(dir / "s"));
    ASSERT_TRUE(send_all(fd, "throw\nok\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), R"({"ok":false,"error":"internal error: boom \"quoted\""})");
    EXPECT_EQ(reader.line(), "fine"); // the connection survives
    EXPECT_EQ(thread.stop_and_count().handler_errors, 1u);
}

TEST(ControlServer, NewlinesInAnAnswerCannotBreakFraming) {
    ServerThread thread;
    thread.server().set_request_handler([](std::string_view) { return std::string("{\n  \"a\": 1\n}"); });
    TempDir dir;
    std::string error;
    ASSERT_TRUE(thread.server().listen_unix(dir / "s", 0600, "", error)) << error;
    thread.start();
    Fd fd(connect_unix(dir / "s"));
    ASSERT_TRUE(send_all(fd, "x\ny\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "{   \"a\": 1 }");
    EXPECT_EQ(reader.line(), "{   \"a\": 1 }");
}

// ---- request size limit ------------------------------------------------------------------------

ControlLimits small_requests() {
    ControlLimits limits;
    limits.max_request_bytes = 1024;
    return limits;
}

TEST(ControlServer, LineOfExactlyTheLimitIsAnswered) {
    EchoServer s(small_requests());
    Fd fd(connect_unix(s.path));
    const std::string line(1024, 'a');
    ASSERT_TRUE(send_all(fd, line + "\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:" + line);
    ASSERT_TRUE(send_all(fd, "next\n"));
    EXPECT_EQ(reader.line(), "echo:next");
}

TEST(ControlServer, LineOneByteOverTheLimitIsRefusedAndClosed) {
    EchoServer s(small_requests());
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, std::string(1025, 'a') + "\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), R"({"ok":false,"error":"request exceeds 1024 bytes"})");
    EXPECT_TRUE(reader.at_end());
    EXPECT_EQ(s.thread.stop_and_count().oversized, 1u);
}

TEST(ControlServer, OverlongLineIsRefusedBeforeItsNewlineArrives) {
    EchoServer s(small_requests());
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, std::string(1025, 'a'))); // no newline, and none will come
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), R"({"ok":false,"error":"request exceeds 1024 bytes"})");
    EXPECT_TRUE(reader.at_end());
}

TEST(ControlServer, RequestsBeforeAnOverlongLineAreAnsweredFirst) {
    EchoServer s(small_requests());
    Fd fd(connect_unix(s.path));
    ASSERT_TRUE(send_all(fd, "A\nB\n" + std::string(5000, 'x') + "\nC\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:A");
    EXPECT_EQ(reader.line(), "echo:B");
    EXPECT_EQ(reader.line(), R"({"ok":false,"error":"request exceeds 1024 bytes"})");
    EXPECT_TRUE(reader.at_end()); // C is never answered
}

TEST(ControlServer, TenMegabyteLineIsRefusedWithoutBeingBuffered) {
    const std::string payload(10 << 20, 'x'); // allocated and touched before the baseline
    EchoServer s;                              // default limit: 64 KiB
    const std::size_t rss_before = rss_kib();
    Fd fd(connect_unix(s.path));
    const auto start = Clock::now();
    std::atomic<std::size_t> bytes_sent{0};
    std::thread sender([&] {
        std::string_view rest(payload);
        while (!rest.empty()) {
            const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return; // EPIPE / ECONNRESET once the server has hung up
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
            bytes_sent += static_cast<std::size_t>(n);
        }
    });
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), R"({"ok":false,"error":"request exceeds 65536 bytes"})");
    EXPECT_TRUE(reader.at_end());
    const double refused_after_ms = elapsed_ms(start);
    sender.join();
    EXPECT_LT(bytes_sent.load(), payload.size()) << "the server read the whole line";

    // The server is still serving.
    Fd next(connect_unix(s.path));
    ASSERT_TRUE(send_all(next, "after\n"));
    LineReader next_reader(next);
    EXPECT_EQ(next_reader.line(), "echo:after");

    const std::size_t rss_growth_kib = rss_kib() - std::min(rss_kib(), rss_before);
    EXPECT_LT(rss_growth_kib, 4096u) << "memory grew with the line";
    const auto counters = s.thread.stop_and_count();
    EXPECT_EQ(counters.oversized, 1u);
    std::printf("[ measured ] 10 MB line: refused and closed after %.1f ms, client got %zu bytes in before the "
                "hang-up, process RSS growth %zu KiB\n",
                refused_after_ms, bytes_sent.load(), rss_growth_kib);
}

// ---- connection limit --------------------------------------------------------------------------

TEST(ControlServer, ClientsBeyondTheLimitAreToldAndClosed) {
    ControlLimits limits;
    limits.max_clients = 64;
    EchoServer s(limits);
    constexpr int kConnections = 200;
    std::vector<std::unique_ptr<Fd>> fds;
    const auto start = Clock::now();
    for (int i = 0; i < kConnections; ++i) {
        fds.push_back(std::make_unique<Fd>(connect_unix(s.path)));
        ASSERT_GE(*fds.back(), 0) << "connection " << i;
    }
    // The backlog is first in, first out: the first 64 are admitted.
    for (int i = 64; i < kConnections; ++i) {
        LineReader reader(*fds[i]);
        ASSERT_EQ(reader.line(), R"x({"ok":false,"error":"too many clients (64)"})x") << "connection " << i;
        ASSERT_TRUE(reader.at_end());
    }
    const double rejections_ms = elapsed_ms(start);

    // An admitted connection is answered at once despite the crowd.
    const auto request_start = Clock::now();
    ASSERT_TRUE(send_all(*fds[63], "real\n"));
    LineReader admitted(*fds[63]);
    EXPECT_EQ(admitted.line(), "echo:real");
    const double answer_ms = elapsed_ms(request_start);
    EXPECT_LT(answer_ms, 200.0);

    // A freed slot is given to the next client (once the server has seen the close: retry).
    fds[0].reset();
    std::unique_ptr<Fd> fresh;
    std::string line;
    const auto retry_deadline = Clock::now() + std::chrono::seconds(1);
    bool served = false;
    while (!served && Clock::now() < retry_deadline) {
        fresh = std::make_unique<Fd>(connect_unix(s.path));
        send_all(*fresh, "fresh\n"); // a refused client may get EPIPE here; its reader sees the refusal
        LineReader reader(*fresh);
        served = reader.next(line) && line == "echo:fresh";
    }
    EXPECT_TRUE(served);
    const auto counters = s.thread.stop_and_count();
    EXPECT_GE(counters.rejected_too_many, 136u);
    EXPECT_EQ(counters.open_connections, 64u);
    std::printf("[ measured ] 200 connections, limit 64: 136 refusals read in %.1f ms; a request on an admitted "
                "connection answered in %.2f ms\n",
                rejections_ms, answer_ms);
}

// ---- a client that does not read ---------------------------------------------------------------

TEST(ControlServer, ClientThatNeverReadsIsCutOffAndOthersAreServed) {
    ControlLimits limits;
    limits.max_pending_output = 1 << 20;
    ServerThread thread(limits);
    const std::string big_answer(64 * 1024, 'b');
    thread.server().set_request_handler([&](std::string_view line) {
        return line == "big" ? big_answer : "echo:" + std::string(line);
    });
    TempDir dir;
    std::string error;
    ASSERT_TRUE(thread.server().listen_unix(dir / "s", 0600, "", error)) << error;
    thread.start();

    Fd hog(connect_unix(dir / "s"));
    Fd other(connect_unix(dir / "s"));
    LineReader other_reader(other);
    const auto start = Clock::now();
    int requests_sent = 0;
    bool cut_off = false;
    while (!cut_off && elapsed_ms(start) < 2000) {
        const ssize_t n = ::send(hog, "big\n", 4, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == 4) {
            ++requests_sent;
        } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            cut_off = true;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (requests_sent % 8 == 0) { // meanwhile, another client is answered
            ASSERT_TRUE(send_all(other, "ping\n"));
            ASSERT_EQ(other_reader.line(), "echo:ping");
        }
    }
    const double cut_off_ms = elapsed_ms(start);
    EXPECT_TRUE(cut_off);
    ASSERT_TRUE(send_all(other, "still here\n"));
    EXPECT_EQ(other_reader.line(), "echo:still here");
    const auto counters = thread.stop_and_count();
    EXPECT_EQ(counters.slow_closed, 1u);
    EXPECT_EQ(counters.open_connections, 1u);
    std::printf("[ measured ] client never reading 64 KiB answers, limit 1 MiB: cut off after %d requests, %.1f ms\n",
                requests_sent, cut_off_ms);
}

TEST(ControlServer, OneAnswerLargerThanThePendingLimitStillGoesOut) {
    ControlLimits limits;
    limits.max_pending_output = 64 * 1024;
    ServerThread thread(limits);
    const std::string big_answer(1 << 20, 'b');
    thread.server().set_request_handler([&](std::string_view) { return big_answer; });
    TempDir dir;
    std::string error;
    ASSERT_TRUE(thread.server().listen_unix(dir / "s", 0600, "", error)) << error;
    thread.start();
    Fd fd(connect_unix(dir / "s"));
    ASSERT_TRUE(send_all(fd, "flows\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line().size(), big_answer.size());
}

// ---- idle timeout ------------------------------------------------------------------------------

TEST(ControlServer, IdleConnectionIsClosedAndActiveOneIsNot) {
    ControlLimits limits;
    limits.idle_timeout_ms = 100;
    EchoServer s(limits);
    Fd idle(connect_unix(s.path));
    Fd active(connect_unix(s.path));
    LineReader active_reader(active);
    const auto start = Clock::now();
    auto last_activity = Clock::now();
    for (int i = 0; i < 6; ++i) { // 240 ms of traffic, 40 ms apart
        ASSERT_TRUE(send_all(active, "tick\n"));
        ASSERT_EQ(active_reader.line(), "echo:tick");
        last_activity = Clock::now();
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    LineReader idle_reader(idle);
    EXPECT_TRUE(idle_reader.at_end()); // closed long ago; this returns at once
    const double active_for_ms = elapsed_ms(start);

    EXPECT_TRUE(active_reader.at_end()); // now quiet: closed 100 ms after its last answer
    const double closed_after_ms = elapsed_ms(last_activity);
    EXPECT_GE(closed_after_ms, 95.0);
    EXPECT_LT(closed_after_ms, 400.0);
    const auto counters = s.thread.stop_and_count();
    EXPECT_EQ(counters.idle_closed, 2u);
    std::printf("[ measured ] idle timeout 100 ms: active connection kept %.0f ms; closed %.1f ms after its last "
                "answer\n",
                active_for_ms, closed_after_ms);
}

// ---- the socket file ---------------------------------------------------------------------------

TEST(ControlServer, StaleSocketFileIsReplaced) {
    TempDir dir;
    const std::string path = dir / "s";
    {
        // A crashed daemon: the file stays, nobody listens.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
        ::close(fd);
    }
    ServerThread thread;
    thread.server().set_request_handler(echo);
    std::string error;
    ASSERT_TRUE(thread.server().listen_unix(path, 0600, "", error)) << error;
    thread.start();
    Fd fd(connect_unix(path));
    ASSERT_TRUE(send_all(fd, "hi\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:hi");
}

TEST(ControlServer, LiveSocketIsNotStolen) {
    EchoServer first;
    {
        ControlServer second;
        std::string error;
        EXPECT_FALSE(second.listen_unix(first.path, 0600, "", error));
        EXPECT_NE(error.find(first.path), std::string::npos) << error;
        EXPECT_NE(error.find("in use"), std::string::npos) << error;
    } // the second server's destructor must not remove the first one's file
    Fd fd(connect_unix(first.path));
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, "still mine\n"));
    LineReader reader(fd);
    EXPECT_EQ(reader.line(), "echo:still mine");
}

TEST(ControlServer, FileThatIsNotASocketIsLeftAlone) {
    TempDir dir;
    const std::string path = dir / "s";
    std::ofstream(path) << "precious";
    ControlServer server;
    std::string error;
    EXPECT_FALSE(server.listen_unix(path, 0600, "", error));
    EXPECT_NE(error.find("not a socket"), std::string::npos) << error;
    std::ifstream in(path);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

TEST(ControlServer, ModeAndGroupAreApplied) {
    TempDir dir;
    const group* own_group = ::getgrgid(::getegid());
    ASSERT_NE(own_group, nullptr);
    for (const mode_t mode : {mode_t{0660}, mode_t{0600}, mode_t{0666}}) {
        ControlServer server;
        std::string error;
        const std::string path = dir / ("s" + std::to_string(mode));
        ASSERT_TRUE(server.listen_unix(path, mode, own_group->gr_name, error)) << error;
        struct stat st {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, mode);
        EXPECT_EQ(st.st_gid, own_group->gr_gid);
    }
}

TEST(ControlServer, UnknownGroupIsAnErrorAndLeavesNoFile) {
    TempDir dir;
    const std::string path = dir / "s";
    ControlServer server;
    std::string error;
    EXPECT_FALSE(server.listen_unix(path, 0660, "no-such-group-wiretally", error));
    EXPECT_NE(error.find("no-such-group-wiretally"), std::string::npos) << error;
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ControlServer, MissingParentDirectoriesAreCreated) {
    TempDir dir;
    const std::string path = dir / "run/wiretally/ctl.sock";
    const mode_t old_umask = ::umask(077); // a strict umask must not make the directory private
    ControlServer server;
    std::string error;
    const bool listening = server.listen_unix(path, 0660, "", error);
    ::umask(old_umask);
    ASSERT_TRUE(listening) << error;
    struct stat st {};
    ASSERT_EQ(::stat((dir / "run/wiretally").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST(ControlServer, TooLongPathIsAnError) {
    ControlServer server;
    std::string error;
    EXPECT_FALSE(server.listen_unix("/tmp/" + std::string(200, 'p'), 0600, "", error));
    EXPECT_NE(error.find("107"), std::string::npos) << error;
}

TEST(ControlServer, CloseRemovesItsOwnSocketFileOnly) {
    TempDir dir;
    const std::string path = dir / "s";
    {
        ControlServer server;
        std::string error;
        ASSERT_TRUE(server.listen_unix(path, 0600, "", error)) << error;
        ASSERT_TRUE(std::filesystem::exists(path));
    }
    EXPECT_FALSE(std::filesystem::exists(path));

    ControlServer old_server;
    std::string error;
    ASSERT_TRUE(old_server.listen_unix(path, 0600, "", error)) << error;
    // An operator removes the file and a new daemon takes the path.
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ControlServer new_server;
    ASSERT_TRUE(new_server.listen_unix(path, 0600, "", error)) << error;
    old_server.close_all();
    EXPECT_TRUE(std::filesystem::exists(path)) << "the old server removed its successor's socket";
}

// ---- poll() itself -----------------------------------------------------------------------------

TEST(ControlServer, PollHandlesABoundedNumberOfRequestsPerCall) {
    ControlServer server;
    std::size_t handled = 0;
    server.set_request_handler([&](std::string_view) {
        ++handled;
        return std::string("k");
    });
    TempDir dir;
    std::string error;
    ASSERT_TRUE(server.listen_unix(dir / "s", 0600, "", error)) << error;
    Fd fd(connect_unix(dir / "s"));
    std::string batch;
    for (int i = 0; i < 1000; ++i) {
        batch += "r\n";
    }
    ASSERT_TRUE(send_all(fd, batch));
    int calls = 0;
    while (handled < 1000 && calls < 100) {
        const std::size_t before = handled;
        server.poll(50);
        ++calls;
        EXPECT_LE(handled - before, ControlServer::kMaxRequestsPerPoll);
    }
    EXPECT_EQ(handled, 1000u);
    EXPECT_LE(calls, 20);
}

TEST(ControlServer, PollWaitsNoLongerThanItsTimeout) {
    ControlServer server;
    TempDir dir;
    std::string error;
    ASSERT_TRUE(server.listen_unix(dir / "s", 0600, "", error)) << error;
    const auto start = Clock::now();
    EXPECT_EQ(server.poll(30), 0);
    const double waited = elapsed_ms(start);
    EXPECT_GE(waited, 25.0);
    EXPECT_LT(waited, 200.0);
    EXPECT_EQ(ControlServer().poll(0), 0); // no listener at all: nothing to do, no error
}

} // namespace
} // namespace wt::app
