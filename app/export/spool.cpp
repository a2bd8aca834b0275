#include "app/export/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <vector>

namespace wt::app::clickhouse {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = ".jsonl";

template <typename T>
bool parse_number(std::string_view text, T& out) {
    if (text.empty()) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

struct ParsedName {
    std::uint64_t sequence = 0;
    Table table = Table::kFlows;
    std::uint32_t rows = 0;
    std::uint64_t id = 0;
};

// SEQUENCE-TABLE-ROWS-BATCHID.jsonl
std::optional<ParsedName> parse_name(std::string_view name) {
    if (!name.ends_with(kSuffix)) {
        return std::nullopt;
    }
    name.remove_suffix(kSuffix.size());
    std::string_view parts[4];
    for (int i = 0; i < 3; ++i) {
        const std::size_t dash = name.find('-');
        if (dash == std::string_view::npos) {
            return std::nullopt;
        }
        parts[i] = name.substr(0, dash);
        name.remove_prefix(dash + 1);
    }
    parts[3] = name;
    ParsedName p;
    if (!parse_number(parts[0], p.sequence) || !parse_number(parts[2], p.rows) || !parse_number(parts[3], p.id)) {
        return std::nullopt;
    }
    if (parts[1] == table_name(Table::kFlows)) {
        p.table = Table::kFlows;
    } else if (parts[1] == table_name(Table::kIntervals)) {
        p.table = Table::kIntervals;
    } else {
        return std::nullopt;
    }
    return p;
}

bool write_whole(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

Spool::Spool(std::string directory, std::uint64_t max_bytes) : _directory(std::move(directory)), _max_bytes(max_bytes) {}

bool Spool::open(std::string& error) {
    if (_max_bytes == 0 || _directory.empty()) {
        _usable = false;
        return true;
    }
    std::error_code ec;
    fs::create_directories(_directory, ec);
    if (ec) {
        error = fmt::format("{}: cannot create the spool folder: {}", _directory, ec.message());
        return false;
    }
    std::vector<std::pair<ParsedName, Entry>> found;
    for (fs::directory_iterator it(_directory, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.ends_with(".tmp")) {
            fs::remove(it->path(), ec); // a batch a crash cut short: never renamed, never counted
            ec.clear();
            continue;
        }
        const std::optional<ParsedName> parsed = parse_name(name);
        std::error_code size_ec;
        const std::uintmax_t size = it->is_regular_file(size_ec) ? it->file_size(size_ec) : 0;
        if (!parsed || size_ec) {
            ++_counters.foreign_files;
            continue;
        }
        found.push_back({*parsed, Entry{it->path().string(), parsed->table, parsed->rows, parsed->id, size}});
    }
    if (ec) {
        error = fmt::format("{}: cannot read the spool folder: {}", _directory, ec.message());
        return false;
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first.sequence < b.first.sequence; });
    for (auto& [parsed, entry] : found) {
        _next_sequence = parsed.sequence + 1;
        _bytes += entry.bytes;
        _rows += entry.rows;
        _files.push_back(std::move(entry));
    }
    _usable = true;
    // A smaller bound than the last run's: the oldest go now.
    while (_bytes > _max_bytes && !_files.empty()) {
        drop_oldest();
    }
    return true;
}

void Spool::drop_oldest() {
    const Entry& e = _files.front();
    std::error_code ec;
    fs::remove(e.path, ec);
    ++_counters.batches_dropped;
    _counters.rows_dropped += e.rows;
    _bytes -= e.bytes;
    _rows -= e.rows;
    _files.pop_front();
}

bool Spool::push(const Batch& batch) {
    if (!_usable || batch.body.size() > _max_bytes) {
        ++_counters.batches_dropped;
        _counters.rows_dropped += batch.rows;
        if (_usable) {
            _last_error = fmt::format("a batch of {} bytes is larger than the whole spool ({} bytes)",
                                      batch.body.size(), _max_bytes);
        }
        return false;
    }
    while (_bytes + batch.body.size() > _max_bytes && !_files.empty()) {
        drop_oldest();
    }
    const std::string name = fmt::format("{:020}-{}-{}-{}{}", _next_sequence, table_name(batch.table), batch.rows,
                                         batch.id, kSuffix);
    const std::string path = (fs::path(_directory) / name).string();
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    bool ok = fd >= 0 && write_whole(fd, batch.body) && ::fdatasync(fd) == 0;
    const int saved = errno;
    if (fd >= 0) {
        ok = ::close(fd) == 0 && ok;
    }
    if (ok && ::rename(temporary.c_str(), path.c_str()) != 0) {
        ok = false;
    }
    if (!ok) {
        _last_error = fmt::format("{}: cannot write a batch: {}", temporary, std::strerror(saved != 0 ? saved : errno));
        ::unlink(temporary.c_str());
        ++_counters.write_errors;
        ++_counters.batches_dropped;
        _counters.rows_dropped += batch.rows;
        return false;
    }
    ++_next_sequence;
    _files.push_back(Entry{path, batch.table, batch.rows, batch.id, batch.body.size()});
    _bytes += batch.body.size();
    _rows += batch.rows;
    return true;
}

std::optional<Batch> Spool::front() {
    while (!_files.empty()) {
        const Entry& e = _files.front();
        std::string body;
        std::error_code ec;
        const int fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
        bool ok = fd >= 0;
        if (ok) {
            body.resize(e.bytes);
            std::size_t got = 0;
            while (got < body.size()) {
                const ssize_t n = ::read(fd, body.data() + got, body.size() - got);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    break;
                }
                got += static_cast<std::size_t>(n);
            }
            ok = got == body.size();
            ::close(fd);
        }
        if (ok) {
            return Batch{e.table, e.id, e.rows, std::move(body)};
        }
        _last_error = fmt::format("{}: cannot read a spooled batch: {}", e.path, std::strerror(errno));
        drop_oldest();
    }
    return std::nullopt;
}

void Spool::pop() {
    if (_files.empty()) {
        return;
    }
    const Entry& e = _files.front();
    std::error_code ec;
    fs::remove(e.path, ec);
    _bytes -= e.bytes;
    _rows -= e.rows;
    _files.pop_front();
}

} // namespace wt::app::clickhouse
