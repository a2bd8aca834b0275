// Export to ClickHouse (issue #19). The stats side (the live stats core, or `analyze --export` at the end
// of a capture) hands over flow records and interval tables; they become batches of JSONEachRow rows
// (export_rows.hpp), which a thread of this class's own sends with one HTTP request each. Nothing here
// runs on a worker core, and the caller never waits on the network: a batch ClickHouse does not take
// goes to the on-disk spool (spool.hpp) and is sent again, oldest first, once it answers; while the spool
// holds batches, new ones queue behind them, so that ClickHouse receives batches in the order they were made.
//
// Counted: batches and rows sent, spooled, replayed from the spool, dropped (the spool full, or the
// in-memory queue full while the disk is too slow), and failed requests with the last error.
#pragma once

#include "app/config/config.hpp"
#include "app/export/export_rows.hpp"
#include "app/export/spool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace wt::app::clickhouse {

struct ExportStatus {
    std::uint64_t batches_sent = 0, rows_sent = 0, bytes_sent = 0;
    std::uint64_t batches_spooled = 0, rows_spooled = 0;
    std::uint64_t batches_replayed = 0, rows_replayed = 0;
    std::uint64_t batches_dropped = 0, rows_dropped = 0;
    std::uint64_t send_failures = 0;
    std::uint64_t queued_batches = 0;
    std::uint64_t spool_batches = 0, spool_rows = 0, spool_bytes = 0;
    std::uint64_t spool_foreign_files = 0;
    std::uint64_t last_sent_unix = 0; // 0: nothing sent yet
    std::string server_version;       // empty: not reached yet
    std::string url;                  // the server that took the last batch (or is tried next)
    std::string last_error;           // empty: none since the last success
};

// `ctl stats` "clickhouse" and the metrics read this form.
[[nodiscard]] nlohmann::json status_json(const ExportStatus& s);

// The server's version ("18.16.1"), parsed: whether it has insert_deduplication_token (22.2 and later).
[[nodiscard]] bool has_deduplication_token(std::string_view version) noexcept;

class ClickHouseExport {
public:
    ClickHouseExport(ClickHouseConfig config, RowOrigin origin);
    ~ClickHouseExport();
    ClickHouseExport(const ClickHouseExport&) = delete;
    ClickHouseExport& operator=(const ClickHouseExport&) = delete;

    // Reads the password file, opens the spool (what an earlier run left is replayed first) and starts
    // the sending thread; false with `error` ("FILE: reason") otherwise.
    bool start(std::string& error);

    // ---- the producer's side: one thread (the stats core) ----
    // One finished flow: a row of the open flows batch, sent when it has batch_rows rows or is
    // batch_interval old (poll()).
    void add_flow(const pipeline::FlowRecord& record, const FlowRowNames& names);
    // One interval's tables: a batch of its own, handed over at once.
    void add_intervals(const Report& interval, std::uint64_t start_s, std::uint64_t end_s);
    // Hands over a flows batch that has grown old; call it now and then (each stats interval).
    void poll(std::uint64_t now_ns);
    // Hands over the open batches, tries to send what is queued (while ClickHouse answers, at most
    // `drain` long), spools the rest and stops the thread. The spool is not replayed on the way out.
    void stop(std::chrono::milliseconds drain);

    [[nodiscard]] ExportStatus status() const;

private:
    void submit(Batch batch);
    void run();
    // One request: true when a server took the batch (the next URL is tried when one fails).
    bool send(const Batch& batch);
    bool send_to(const std::string& url, const Batch& batch, std::string& error);
    void learn_version(const std::string& url);
    void failed(std::string error);
    void spool_or_drop(const Batch& batch);
    void publish_spool();

    ClickHouseConfig _config;
    std::string _password;
    BatchWriter _flows;
    BatchWriter _intervals;
    Spool _spool; // the thread's alone after start()

    mutable std::mutex _mutex; // guards _queue, _queued_bytes, _stopping, _status
    std::condition_variable _wake;
    std::deque<Batch> _queue;
    std::size_t _queued_bytes = 0;
    bool _stopping = false;
    std::chrono::steady_clock::time_point _drain_until{};
    ExportStatus _status;
    std::thread _thread;

    // The thread's own.
    std::size_t _url_index = 0;
    std::chrono::steady_clock::time_point _retry_at{};
    std::chrono::milliseconds _backoff{0};
    std::string _announced_version; // the server last named on stderr
    std::string _announced_url;
};

} // namespace wt::app::clickhouse
