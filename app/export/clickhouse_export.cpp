#include "app/export/clickhouse_export.hpp"

#include "app/export/http_client.hpp"

#include <charconv>
#include <ctime>
#include <fmt/format.h>

namespace wt::app::clickhouse {

namespace {

using namespace std::chrono_literals;

// The in-memory queue between the producer and the sending thread. It is only long while the spool's disk
// is slower than the rows arrive: then the oldest batches go, counted.
constexpr std::size_t kMaxQueuedBytes = 64u << 20;
constexpr auto kFirstRetry = 1000ms;
constexpr auto kLongestRetry = 10'000ms;
constexpr auto kIdleWake = 200ms;

std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

} // namespace

nlohmann::json status_json(const ExportStatus& s) {
    return nlohmann::json{
        {"url", s.url},
        {"server_version", s.server_version.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.server_version)},
        {"batches_sent", s.batches_sent},
        {"rows_sent", s.rows_sent},
        {"bytes_sent", s.bytes_sent},
        {"batches_spooled", s.batches_spooled},
        {"rows_spooled", s.rows_spooled},
        {"batches_replayed", s.batches_replayed},
        {"rows_replayed", s.rows_replayed},
        {"batches_dropped", s.batches_dropped},
        {"rows_dropped", s.rows_dropped},
        {"send_failures", s.send_failures},
        {"queued_batches", s.queued_batches},
        {"spool_batches", s.spool_batches},
        {"spool_rows", s.spool_rows},
        {"spool_bytes", s.spool_bytes},
        {"spool_foreign_files", s.spool_foreign_files},
        {"last_sent_unix", s.last_sent_unix == 0 ? nlohmann::json(nullptr) : nlohmann::json(s.last_sent_unix)},
        {"last_error", s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)},
    };
}

bool has_deduplication_token(std::string_view version) noexcept {
    unsigned major = 0;
    unsigned minor = 0;
    const char* p = version.data();
    const char* end = version.data() + version.size();
    auto r = std::from_chars(p, end, major);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') {
        return false;
    }
    r = std::from_chars(r.ptr + 1, end, minor);
    if (r.ec != std::errc()) {
        return false;
    }
    return major > 22 || (major == 22 && minor >= 2);
}

ClickHouseExport::ClickHouseExport(ClickHouseConfig config, RowOrigin origin)
    : _config(std::move(config)),
      _flows(Table::kFlows, origin),
      _intervals(Table::kIntervals, origin),
      _spool(_config.spool, _config.spool_max_mb * 1024 * 1024) {
    _status.url = _config.urls.empty() ? std::string() : _config.urls.front();
}

ClickHouseExport::~ClickHouseExport() { stop(0ms); }

bool ClickHouseExport::start(std::string& error) {
    if (!_config.password_file.empty() && !http_client::read_password_file(_config.password_file, _password, error)) {
        return false;
    }
    if (!_spool.open(error)) {
        return false;
    }
    publish_spool();
    _thread = std::thread([this] { run(); });
    return true;
}

void ClickHouseExport::add_flow(const pipeline::FlowRecord& record, const FlowRowNames& names) {
    _flows.add_flow(record, names);
    if (_flows.rows() >= _config.batch_rows) {
        submit(_flows.take());
    }
}

void ClickHouseExport::add_intervals(const Report& interval, std::uint64_t start_s, std::uint64_t end_s) {
    _intervals.add_intervals(interval, start_s, end_s);
    if (_intervals.rows() != 0) {
        submit(_intervals.take());
    }
}

void ClickHouseExport::poll(std::uint64_t now_ns) {
    const std::uint64_t opened = _flows.opened_ns();
    const auto age = static_cast<std::uint64_t>(std::chrono::nanoseconds(_config.batch_interval).count());
    if (opened != 0 && now_ns >= opened + age) {
        submit(_flows.take());
    }
}

void ClickHouseExport::submit(Batch batch) {
    if (batch.rows == 0) {
        return;
    }
    {
        std::lock_guard lock(_mutex);
        _queued_bytes += batch.body.size();
        _queue.push_back(std::move(batch));
        while (_queued_bytes > kMaxQueuedBytes && _queue.size() > 1) {
            ++_status.batches_dropped;
            _status.rows_dropped += _queue.front().rows;
            _queued_bytes -= _queue.front().body.size();
            _queue.pop_front();
        }
        _status.queued_batches = _queue.size();
    }
    _wake.notify_one();
}

void ClickHouseExport::stop(std::chrono::milliseconds drain) {
    if (!_thread.joinable()) {
        return;
    }
    if (_flows.rows() != 0) {
        submit(_flows.take());
    }
    if (_intervals.rows() != 0) {
        submit(_intervals.take());
    }
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
        _drain_until = std::chrono::steady_clock::now() + drain;
    }
    _wake.notify_one();
    _thread.join();
}

ExportStatus ClickHouseExport::status() const {
    std::lock_guard lock(_mutex);
    return _status;
}

void ClickHouseExport::publish_spool() {
    std::lock_guard lock(_mutex);
    _status.spool_batches = _spool.batches();
    _status.spool_rows = _spool.rows();
    _status.spool_bytes = _spool.bytes();
    _status.spool_foreign_files = _spool.counters().foreign_files;
}

void ClickHouseExport::failed(std::string error) {
    _backoff = http_client::next_backoff(_backoff, kFirstRetry, kLongestRetry);
    _retry_at = std::chrono::steady_clock::now() + _backoff;
    std::lock_guard lock(_mutex);
    ++_status.send_failures;
    _status.last_error = std::move(error);
}

void ClickHouseExport::spool_or_drop(const Batch& batch) {
    const std::uint64_t dropped_before = _spool.counters().batches_dropped;
    const std::uint64_t rows_dropped_before = _spool.counters().rows_dropped;
    const bool kept = _spool.push(batch);
    std::lock_guard lock(_mutex);
    // The spool may have pushed out older batches to make room, or refused this one.
    _status.batches_dropped += _spool.counters().batches_dropped - dropped_before;
    _status.rows_dropped += _spool.counters().rows_dropped - rows_dropped_before;
    if (kept) {
        ++_status.batches_spooled;
        _status.rows_spooled += batch.rows;
    } else if (!_spool.last_error().empty()) {
        _status.last_error = _spool.last_error();
    }
}

void ClickHouseExport::learn_version(const std::string& url) {
    const auto res = http_client::client_for(url, _config.timeout, _config.user, _password)
                         ->Get("/?query=" + percent_encode("SELECT version()"));
    if (res && res->status == 200) {
        std::string version = res->body;
        while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) {
            version.pop_back();
        }
        std::lock_guard lock(_mutex);
        if (_announced_version != version || _announced_url != url) {
            // Once per server: what it is and how rows sent twice are kept once there.
            fmt::print(stderr, "wiretally: clickhouse: {} answers, version {}; rows sent twice are kept once by the "
                               "ReplacingMergeTree key (appliance, batch_id, row), read with FINAL{}\n",
                       url, version,
                       has_deduplication_token(version) ? ", and dropped at insert by insert_deduplication_token" : "");
            _announced_version = version;
            _announced_url = url;
        }
        _status.server_version = version;
    }
}

bool ClickHouseExport::send_to(const std::string& url, const Batch& batch, std::string& error) {
    std::string version;
    {
        std::lock_guard lock(_mutex);
        version = _status.server_version;
    }
    if (version.empty()) {
        learn_version(url);
        std::lock_guard lock(_mutex);
        version = _status.server_version;
    }
    std::string path = "/?query=" + percent_encode(fmt::format("INSERT INTO {} FORMAT JSONEachRow",
                                                               insert_target(_config.database, batch.table)));
    // A batch stored although the answer was lost, then sent again: servers that have the token drop the
    // copy at insert time; every server's ReplacingMergeTree keeps one row of each key (FINAL).
    if (has_deduplication_token(version)) {
        path += "&insert_deduplication_token=" +
                percent_encode(fmt::format("{}-{}", table_name(batch.table), batch.id));
    }
    const auto res = http_client::client_for(url, _config.timeout, _config.user, _password)
                         ->Post(path, batch.body, "application/x-ndjson");
    if (res && res->status == 200) {
        return true;
    }
    error = fmt::format("{}: {}", url, http_client::failure_text(res));
    return false;
}

bool ClickHouseExport::send(const Batch& batch) {
    std::string error;
    for (std::size_t tried = 0; tried < _config.urls.size(); ++tried) {
        const std::string& url = _config.urls[_url_index];
        if (send_to(url, batch, error)) {
            _backoff = 0ms;
            std::lock_guard lock(_mutex);
            ++_status.batches_sent;
            _status.rows_sent += batch.rows;
            _status.bytes_sent += batch.body.size();
            _status.last_sent_unix = unix_now();
            _status.url = url;
            _status.last_error.clear();
            return true;
        }
        _url_index = (_url_index + 1) % _config.urls.size();
        std::lock_guard lock(_mutex);
        _status.url = _config.urls[_url_index];
        _status.server_version.clear(); // the next server may be another version
    }
    failed(std::move(error));
    return false;
}

void ClickHouseExport::run() {
    std::unique_lock lock(_mutex);
    for (;;) {
        const bool stopping = _stopping;
        std::deque<Batch> incoming;
        incoming.swap(_queue);
        _queued_bytes = 0;
        _status.queued_batches = 0;
        lock.unlock();

        for (Batch& batch : incoming) {
            const auto now = std::chrono::steady_clock::now();
            const bool may_send = _spool.empty() && now >= _retry_at && (!stopping || now < _drain_until);
            if (!may_send || !send(batch)) {
                spool_or_drop(batch);
            }
        }
        // Replay, oldest first, while the server answers (not on the way out: the next start does it).
        while (!stopping && !_spool.empty() && std::chrono::steady_clock::now() >= _retry_at) {
            std::optional<Batch> batch = _spool.front();
            if (!batch) {
                break;
            }
            if (!send(*batch)) {
                break;
            }
            _spool.pop();
            std::lock_guard status_lock(_mutex);
            ++_status.batches_replayed;
            _status.rows_replayed += batch->rows;
            if (!_queue.empty()) {
                break; // new batches wait behind the spool: take them in, then go on
            }
        }
        publish_spool();

        lock.lock();
        if (stopping && _queue.empty()) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        auto wait = kIdleWake;
        if (!_spool.empty() && _retry_at > now) {
            wait = std::min<std::chrono::milliseconds>(
                kIdleWake, std::chrono::duration_cast<std::chrono::milliseconds>(_retry_at - now) + 1ms);
        } else if (!_spool.empty()) {
            wait = 0ms;
        }
        if (wait > 0ms) {
            _wake.wait_for(lock, wait, [&] { return !_queue.empty() || _stopping != stopping; });
        }
    }
}

} // namespace wt::app::clickhouse
