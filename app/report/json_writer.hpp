// JsonWriter: streams one JSON document into a fmt::memory_buffer, byte for byte
// as nlohmann::json::dump(indent, ' ', false, error_handler_t::replace) prints the
// same document built as a tree, without building the tree (one allocation per
// value and a std::map per object made the offline report cost more than the
// packets it describes).
//
// nlohmann's objects are std::maps, so dump() prints keys in byte order: the
// caller must write an object's keys in that order (the report and flow tests
// compare against nlohmann's own output). SortedFields does it for objects whose
// keys are only known at run time.
//
// The one JSON emitter of app/: the report, the --flows lines, the live views, snapshots
// and the timeline all write through JsonWriter or the three append_json_* functions below.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wt::app {

// A JSON string as nlohmann writes it with ensure_ascii off and the replace error handler:
// printable ASCII as is, escapes for '"', '\\' and control bytes, invalid UTF-8 replaced by
// U+FFFD. For names from configuration and from the wire that a person reads.
void append_json_string(fmt::memory_buffer& out, std::string_view s);

// A JSON string in which each byte is the code point of the same value (ASCII readable,
// anything else \u00XX): any byte string reads back exactly. Snapshots keep wire names so.
void append_json_byte_string(fmt::memory_buffer& out, std::string_view s);

// nlohmann's number text: the shortest round trip, "1.0" for integral values, "null" for
// NaN and infinities.
void append_json_double(fmt::memory_buffer& out, double v);

class JsonWriter {
public:
    // indent < 0: compact, as dump(-1); otherwise pretty, as dump(indent).
    explicit JsonWriter(fmt::memory_buffer& out, int indent = -1) : _out(out), _indent(indent) {}

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    // In an object: the key of the next value.
    void key(std::string_view k) {
        separate();
        string_literal(k);
        if (_indent >= 0) {
            append(": ");
        } else {
            _out.push_back(':');
        }
        _after_key = true;
    }

    void null() { scalar("null"); }
    void value(bool b) { scalar(b ? "true" : "false"); }
    void value(std::string_view s) {
        separate();
        string_literal(s);
    }
    void value(const char* s) { value(std::string_view(s)); }
    void value(const std::string& s) { value(std::string_view(s)); }
    template <typename T>
        requires std::is_integral_v<T> && (!std::is_same_v<T, bool>)
    void value(T v) {
        separate();
        const fmt::format_int text(v);
        _out.append(text.data(), text.data() + text.size());
    }
    void value(double v) {
        separate();
        append_json_double(_out, v);
    }

    template <typename T>
    void field(std::string_view k, const T& v) {
        key(k);
        value(v);
    }
    void null_field(std::string_view k) {
        key(k);
        null();
    }
    // A text that is absent when empty: JSON null then.
    void text_or_null_field(std::string_view k, std::string_view v) {
        if (v.empty()) {
            null_field(k);
        } else {
            field(k, v);
        }
    }
    // An array of numbers.
    template <typename Range>
    void number_array_field(std::string_view k, const Range& numbers) {
        key(k);
        begin_array();
        for (const auto n : numbers) {
            value(n);
        }
        end_array();
    }
    // An array of texts.
    template <typename Range>
    void text_array_field(std::string_view k, const Range& texts) {
        key(k);
        begin_array();
        for (const auto& t : texts) {
            value(std::string_view(t));
        }
        end_array();
    }

    void string_literal(std::string_view s) { append_json_string(_out, s); }

    [[nodiscard]] std::size_t depth() const noexcept { return _levels.size(); }

private:
    struct Level {
        std::size_t count = 0;
    };

    void append(std::string_view s) { _out.append(s.data(), s.data() + s.size()); }

    void scalar(std::string_view text) {
        separate();
        append(text);
    }

    // Before a key or a value: the comma and line break that precede it, unless
    // it is the value of the key just written.
    void separate() {
        if (_after_key) {
            _after_key = false;
            return;
        }
        if (_levels.empty()) {
            return;
        }
        Level& level = _levels.back();
        if (level.count++ != 0) {
            _out.push_back(',');
        }
        if (_indent >= 0) {
            newline(_levels.size());
        }
    }

    void newline(std::size_t depth) {
        _out.push_back('\n');
        _out.resize(_out.size() + depth * static_cast<std::size_t>(_indent));
        std::fill(_out.end() - static_cast<std::ptrdiff_t>(depth * static_cast<std::size_t>(_indent)), _out.end(),
                  ' ');
    }

    void open(char bracket) {
        separate();
        _out.push_back(bracket);
        _levels.push_back({});
    }

    void close(char bracket) {
        const bool empty = _levels.back().count == 0;
        _levels.pop_back();
        if (!empty && _indent >= 0) {
            newline(_levels.size());
        }
        _out.push_back(bracket);
    }

    fmt::memory_buffer& _out;
    int _indent;
    bool _after_key = false;
    std::vector<Level> _levels;
};

// An object whose keys are known only at run time (counters, cipher names):
// collect the fields, then write them sorted; a key given twice keeps its last
// value, as assigning to a nlohmann object does.
class SortedFields {
public:
    void add(std::string key, std::uint64_t v) { _fields.emplace_back(std::move(key), v); }
    void write(JsonWriter& w) {
        std::stable_sort(_fields.begin(), _fields.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        w.begin_object();
        for (std::size_t i = 0; i < _fields.size(); ++i) {
            if (i + 1 < _fields.size() && _fields[i + 1].first == _fields[i].first) {
                continue;
            }
            w.field(_fields[i].first, _fields[i].second);
        }
        w.end_object();
        _fields.clear();
    }

private:
    std::vector<std::pair<std::string, std::uint64_t>> _fields;
};

} // namespace wt::app
