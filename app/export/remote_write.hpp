// Prometheus remote write (issue #19), the metrics path for a fleet: the appliance's own /metrics
// exposition, every [remote_write] interval, as one WriteRequest (protobuf, snappy block compression:
// the Prometheus remote write specification 1.0) to each URL (Prometheus with
// --web.enable-remote-write-receiver at /api/v1/write, VictoriaMetrics at /api/v1/write), with the labels
// appliance and site added to every series. Sent by a thread of its own; a write a receiver does not
// take is tried again (oldest first) within a bounded queue, then dropped and counted.
#pragma once

#include "app/config/config.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace wt::app::remote_write {

struct Sample {
    std::vector<std::pair<std::string, std::string>> labels; // __name__ first as read; sorted by encode()
    double value = 0;
};

// The samples of a Prometheus text exposition (format 0.0.4): comments and blank lines skipped, label values
// unescaped (\\, \", \n). A line that does not parse is skipped and counted in `malformed`.
[[nodiscard]] std::vector<Sample> parse_exposition(std::string_view text, std::size_t* malformed = nullptr);

// WriteRequest { repeated TimeSeries timeseries = 1; } with TimeSeries { repeated Label labels = 1;
// repeated Sample samples = 2; }, Label { string name = 1; string value = 2; }, Sample { double value = 1;
// int64 timestamp = 2; } (milliseconds): one series a sample, its labels plus `extra`, sorted by name.
[[nodiscard]] std::string encode_write_request(const std::vector<Sample>& samples,
                                               const std::vector<std::pair<std::string, std::string>>& extra,
                                               std::int64_t timestamp_ms);

// Snappy's block format (the remote write body).
[[nodiscard]] std::string snappy_compress(std::string_view data);

struct Status {
    std::uint64_t writes_sent = 0;   // requests a receiver took (summed over URLs)
    std::uint64_t samples_sent = 0;
    std::uint64_t writes_failed = 0; // requests that failed (each attempt)
    std::uint64_t writes_dropped = 0;// writes given up: a URL's queue was full, or the receiver refused it (4xx)
    std::uint64_t queued = 0;        // writes waiting, over all URLs
    std::uint64_t last_sent_unix = 0;
    std::string last_error;
};
[[nodiscard]] nlohmann::json status_json(const Status& s);

class RemoteWriter {
public:
    RemoteWriter(RemoteWriteConfig config, std::vector<std::pair<std::string, std::string>> labels);
    ~RemoteWriter();
    RemoteWriter(const RemoteWriter&) = delete;
    RemoteWriter& operator=(const RemoteWriter&) = delete;

    void start();
    // One exposition, taken now; encoded, compressed and sent on the writer's thread. Never blocks on I/O.
    void submit(std::string exposition, std::int64_t timestamp_ms);
    // Sends what is queued (at most `drain` long), then stops the thread.
    void stop(std::chrono::milliseconds drain);
    [[nodiscard]] Status status() const;

private:
    struct Write {
        std::string body; // compressed
        std::size_t samples = 0;
    };
    void run();
    // true: the receiver took it; false with `rejected` when it refused it for good (4xx but 429).
    bool post(const std::string& url, const Write& write, std::string& error, bool& rejected);

    RemoteWriteConfig _config;
    std::vector<std::pair<std::string, std::string>> _labels;
    mutable std::mutex _mutex;
    std::condition_variable _wake;
    std::vector<std::pair<std::string, std::int64_t>> _incoming; // expositions to encode
    std::vector<std::deque<Write>> _queues;                       // per URL, oldest first (the thread's)
    bool _stopping = false;
    std::chrono::steady_clock::time_point _drain_until{};
    Status _status;
    std::thread _thread;
};

} // namespace wt::app::remote_write
