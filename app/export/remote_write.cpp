#include "app/export/remote_write.hpp"

#include "app/export/http_client.hpp"

#include <snappy-c.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fmt/format.h>

namespace wt::app::remote_write {

namespace {

using namespace std::chrono_literals;
constexpr auto kIdleWake = 500ms;
constexpr auto kFirstRetry = 1000ms;
constexpr auto kLongestRetry = 30'000ms;

// ---- protobuf, the few pieces WriteRequest needs (proto3 wire format) ----
void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, unsigned field, unsigned wire_type) { put_varint(out, (field << 3) | wire_type); }
void put_bytes(std::string& out, unsigned field, std::string_view bytes) {
    put_tag(out, field, 2);
    put_varint(out, bytes.size());
    out.append(bytes);
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':'; }
bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::optional<double> parse_value(std::string_view text) {
    if (text == "+Inf") {
        return HUGE_VAL;
    }
    if (text == "-Inf") {
        return -HUGE_VAL;
    }
    if (text == "NaN") {
        return std::nan("");
    }
    const std::string copy(text);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size()) {
        return std::nullopt;
    }
    return v;
}

// `name{a="x",b="y"} value [timestamp]`
std::optional<Sample> parse_line(std::string_view line) {
    Sample s;
    std::size_t i = 0;
    if (line.empty() || !is_name_start(line[0])) {
        return std::nullopt;
    }
    while (i < line.size() && is_name_char(line[i])) {
        ++i;
    }
    s.labels.emplace_back("__name__", std::string(line.substr(0, i)));
    if (i < line.size() && line[i] == '{') {
        ++i;
        for (;;) {
            while (i < line.size() && (line[i] == ' ' || line[i] == ',')) {
                ++i;
            }
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            const std::size_t name_start = i;
            while (i < line.size() && is_name_char(line[i])) {
                ++i;
            }
            if (i == name_start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
                return std::nullopt;
            }
            std::string name(line.substr(name_start, i - name_start));
            i += 2;
            std::string value;
            for (;;) {
                if (i >= line.size()) {
                    return std::nullopt;
                }
                const char c = line[i++];
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (i >= line.size()) {
                        return std::nullopt;
                    }
                    const char e = line[i++];
                    value.push_back(e == 'n' ? '\n' : e);
                } else {
                    value.push_back(c);
                }
            }
            s.labels.emplace_back(std::move(name), std::move(value));
        }
    }
    while (i < line.size() && line[i] == ' ') {
        ++i;
    }
    std::string_view rest = line.substr(i);
    const std::size_t space = rest.find(' ');
    const std::optional<double> v = parse_value(rest.substr(0, space));
    if (!v) {
        return std::nullopt;
    }
    s.value = *v;
    return s;
}

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

} // namespace

std::vector<Sample> parse_exposition(std::string_view text, std::size_t* malformed) {
    std::vector<Sample> out;
    std::size_t bad = 0;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        if (std::optional<Sample> s = parse_line(line)) {
            out.push_back(std::move(*s));
        } else {
            ++bad;
        }
    }
    if (malformed != nullptr) {
        *malformed = bad;
    }
    return out;
}

std::string encode_write_request(const std::vector<Sample>& samples,
                                 const std::vector<std::pair<std::string, std::string>>& extra,
                                 std::int64_t timestamp_ms) {
    std::string out;
    std::string series;
    std::string part;
    for (const Sample& s : samples) {
        std::vector<std::pair<std::string, std::string>> labels = s.labels;
        for (const auto& [name, value] : extra) {
            // A receiver takes an empty label as no label; one the exposition has already is left as it is.
            if (!value.empty() && std::none_of(labels.begin(), labels.end(), [&](const auto& l) { return l.first == name; })) {
                labels.emplace_back(name, value);
            }
        }
        // Remote write 1.0: a series' labels sorted by name.
        std::sort(labels.begin(), labels.end());
        series.clear();
        for (const auto& [name, value] : labels) {
            part.clear();
            put_bytes(part, 1, name);
            put_bytes(part, 2, value);
            put_bytes(series, 1, part);
        }
        part.clear();
        put_tag(part, 1, 1); // double, 64-bit little-endian
        const auto bits = std::bit_cast<std::uint64_t>(s.value);
        for (int b = 0; b < 8; ++b) {
            part.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
        }
        put_tag(part, 2, 0);
        put_varint(part, static_cast<std::uint64_t>(timestamp_ms));
        put_bytes(series, 2, part);
        put_bytes(out, 1, series);
    }
    return out;
}

std::string snappy_compress(std::string_view data) {
    std::string out(snappy_max_compressed_length(data.size()), '\0');
    std::size_t length = out.size();
    if (::snappy_compress(data.data(), data.size(), out.data(), &length) != SNAPPY_OK) {
        return {};
    }
    out.resize(length);
    return out;
}

nlohmann::json status_json(const Status& s) {
    return nlohmann::json{
        {"writes_sent", s.writes_sent},
        {"samples_sent", s.samples_sent},
        {"writes_failed", s.writes_failed},
        {"writes_dropped", s.writes_dropped},
        {"queued", s.queued},
        {"last_sent_unix", s.last_sent_unix == 0 ? nlohmann::json(nullptr) : nlohmann::json(s.last_sent_unix)},
        {"last_error", s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)},
    };
}

RemoteWriter::RemoteWriter(RemoteWriteConfig config, std::vector<std::pair<std::string, std::string>> labels)
    : _config(std::move(config)), _labels(std::move(labels)), _queues(_config.urls.size()) {}

RemoteWriter::~RemoteWriter() { stop(0ms); }

void RemoteWriter::start() { _thread = std::thread([this] { run(); }); }

void RemoteWriter::submit(std::string exposition, std::int64_t timestamp_ms) {
    {
        std::lock_guard lock(_mutex);
        _incoming.emplace_back(std::move(exposition), timestamp_ms);
    }
    _wake.notify_one();
}

void RemoteWriter::stop(std::chrono::milliseconds drain) {
    if (!_thread.joinable()) {
        return;
    }
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
        _drain_until = std::chrono::steady_clock::now() + drain;
    }
    _wake.notify_one();
    _thread.join();
}

Status RemoteWriter::status() const {
    std::lock_guard lock(_mutex);
    return _status;
}

bool RemoteWriter::post(const std::string& url, const Write& write, std::string& error, bool& rejected) {
    rejected = false;
    // http://HOST:PORT/PATH
    const std::size_t path_at = url.find('/', 7);
    const httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                      {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                                      {"User-Agent", "wiretally"}};
    const auto res = http_client::client_for(url.substr(0, path_at), _config.timeout)
                         ->Post(url.substr(path_at), headers, write.body, "application/x-protobuf");
    if (res && res->status >= 200 && res->status < 300) {
        return true;
    }
    // Remote write 1.0: a 4xx other than 429 will fail again the same way; it is dropped, not retried.
    rejected = res && res->status >= 400 && res->status < 500 && res->status != 429;
    error = fmt::format("{}: {}", url, http_client::failure_text(res));
    return false;
}

void RemoteWriter::run() {
    std::vector<std::chrono::steady_clock::time_point> retry_at(_config.urls.size());
    std::vector<std::chrono::milliseconds> backoff(_config.urls.size(), 0ms);
    std::unique_lock lock(_mutex);
    for (;;) {
        const bool stopping = _stopping;
        std::vector<std::pair<std::string, std::int64_t>> incoming;
        incoming.swap(_incoming);
        lock.unlock();

        for (auto& [text, timestamp] : incoming) {
            const std::vector<Sample> samples = parse_exposition(text);
            Write write{snappy_compress(encode_write_request(samples, _labels, timestamp)), samples.size()};
            for (std::deque<Write>& q : _queues) {
                q.push_back(write);
                if (q.size() > _config.max_queued) {
                    q.pop_front();
                    std::lock_guard status_lock(_mutex);
                    ++_status.writes_dropped;
                }
            }
        }
        for (std::size_t u = 0; u < _queues.size(); ++u) {
            std::deque<Write>& q = _queues[u];
            while (!q.empty() && std::chrono::steady_clock::now() >= retry_at[u] &&
                   (!stopping || std::chrono::steady_clock::now() < _drain_until)) {
                std::string error;
                bool rejected = false;
                const bool ok = post(_config.urls[u], q.front(), error, rejected);
                std::lock_guard status_lock(_mutex);
                if (ok) {
                    ++_status.writes_sent;
                    _status.samples_sent += q.front().samples;
                    _status.last_sent_unix = unix_now();
                    _status.last_error.clear();
                    backoff[u] = 0ms;
                    q.pop_front();
                } else if (rejected) {
                    ++_status.writes_failed;
                    ++_status.writes_dropped;
                    _status.last_error = std::move(error);
                    q.pop_front();
                } else {
                    ++_status.writes_failed;
                    _status.last_error = std::move(error);
                    backoff[u] = http_client::next_backoff(backoff[u], kFirstRetry, kLongestRetry);
                    retry_at[u] = std::chrono::steady_clock::now() + backoff[u];
                    break;
                }
            }
        }
        std::uint64_t queued = 0;
        for (const auto& q : _queues) {
            queued += q.size();
        }
        lock.lock();
        _status.queued = queued;
        if (stopping) {
            return;
        }
        _wake.wait_for(lock, kIdleWake, [&] { return !_incoming.empty() || _stopping; });
    }
}

} // namespace wt::app::remote_write
