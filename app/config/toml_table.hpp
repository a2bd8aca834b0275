// The TOML walker of wiretally.toml: one table at a time, each read checked against its type,
// range and value form (config_values.hpp), errors thrown as Invalid with the line they are about
// and turned into "FILE:LINE: reason" by load_config_text(). Internal to app/config.
#pragma once

#include "app/config/config.hpp"
#include "app/config/config_values.hpp"
#include "pipeline/classify/toml_text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml.hpp>

namespace wt::app::config_toml {

using config_values::Check;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using toml_text::line_of;
using toml_text::type_name;

// Thrown by the readers below and turned into the ConfigError by load_config_text(). Loading stops
// at the first problem, and throwing keeps each key to one line of the loader instead of an
// error check after every read.
struct Invalid {
    int line = 0;
    std::string message;
};

[[noreturn]] inline void fail(int line, std::string message) { throw Invalid{line, std::move(message)}; }

// The value as the file wrote it, for "key = value: why" messages.
inline std::string written(const toml::value& v) {
    switch (v.type()) {
        case toml::value_t::string: return fmt::format("{:?}", v.as_string().str);
        case toml::value_t::integer: return std::to_string(v.as_integer());
        case toml::value_t::boolean: return v.as_boolean() ? "true" : "false";
        default: return std::string(type_name(v.type()));
    }
}

template <typename T>
struct Located {
    T value;
    int line = 0;
    std::string key;  // dotted name, with the index for array elements
};

struct DurationRange {
    milliseconds min;
    milliseconds max;
    bool zero_allowed = false;  // 0 means "off" for this key
};

// One table of the file with its dotted name ("eal", "port[1]") and how a reader would write its
// header ("[eal]", "[[port]]"). An absent table reads as empty, so every key takes its default.
class Table {
public:
    Table(const toml::value* value, std::string name, std::string header)
        : _value(value), _name(std::move(name)), _header(std::move(header)) {}

    [[nodiscard]] int line() const { return _value != nullptr ? line_of(*_value) : 0; }
    [[nodiscard]] std::string key(std::string_view k) const { return fmt::format("{}.{}", _name, k); }

    [[nodiscard]] const toml::value* find(std::string_view k) const {
        if (_value == nullptr) {
            return nullptr;
        }
        const toml::table& t = _value->as_table();
        const auto it = t.find(std::string(k));
        return it == t.end() ? nullptr : &it->second;
    }

    /// The line of a key, or of the table when the key is absent (a missing key is the table's fault).
    [[nodiscard]] int line_of_key(std::string_view k) const {
        const toml::value* v = find(k);
        return v != nullptr ? line_of(*v) : line();
    }

    /// Throws for the first key, in file order, that is not in `known` (toml::table is unordered).
    void reject_unknown(std::span<const std::string_view> known) const {
        if (_value == nullptr) {
            return;
        }
        const std::pair<const std::string, toml::value>* unknown = nullptr;
        for (const auto& kv : _value->as_table()) {
            const bool is_known = std::find(known.begin(), known.end(), kv.first) != known.end();
            if (!is_known && (unknown == nullptr || line_of(kv.second) < line_of(unknown->second))) {
                unknown = &kv;
            }
        }
        if (unknown != nullptr) {
            fail(line_of(unknown->second),
                 fmt::format("{}: unknown key; {} has {}", key(unknown->first), _header, fmt::join(known, ", ")));
        }
    }

    [[nodiscard]] bool boolean(std::string_view k, bool fallback) const {
        const toml::value* v = find(k);
        return v == nullptr ? fallback : expect(*v, toml::value_t::boolean, key(k)).as_boolean();
    }

    [[nodiscard]] std::int64_t integer(std::string_view k, std::int64_t fallback, std::int64_t min,
                                       std::int64_t max) const {
        const toml::value* v = find(k);
        return v == nullptr ? fallback : in_range(*v, key(k), min, max);
    }

    [[nodiscard]] std::string string(std::string_view k, std::string fallback, const Check& check = {}) const {
        const toml::value* v = find(k);
        return v == nullptr ? std::move(fallback) : checked_string(*v, key(k), check);
    }

    [[nodiscard]] milliseconds duration(std::string_view k, milliseconds fallback, const DurationRange& range) const {
        const toml::value* v = find(k);
        if (v == nullptr) {
            return fallback;
        }
        const std::string subject = fmt::format("{} = {}", key(k), written(*v));
        milliseconds value{};
        if (v->is_integer()) {
            // Whole seconds; a negative count is reported by the range check below.
            const std::int64_t seconds = v->as_integer();
            constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / 1000;
            value = seconds > kLimit ? milliseconds::max() : milliseconds(std::max<std::int64_t>(seconds, -1) * 1000);
        } else if (v->is_string()) {
            const auto parsed = config_values::parse_duration(v->as_string().str);
            if (!parsed) {
                fail(line_of(*v), fmt::format("{}: not a duration; write whole seconds as an integer, or a string "
                                              "such as \"500ms\", \"30s\", \"10m\", \"1h\"",
                                              subject));
            }
            value = *parsed;
        } else {
            fail(line_of(*v), fmt::format("{}: expected a duration (an integer number of seconds or a string "
                                          "such as \"30s\"), got {}",
                                          key(k), type_name(v->type())));
        }
        if (range.zero_allowed && value == 0ms) {
            return value;
        }
        if (value < range.min || value > range.max) {
            fail(line_of(*v), fmt::format("{}: must be {}between {} and {}", subject, range.zero_allowed ? "0 or " : "",
                                          format_duration(range.min), format_duration(range.max)));
        }
        return value;
    }

    /// A string array; absent is empty.
    [[nodiscard]] std::vector<Located<std::string>> strings(std::string_view k, const Check& check = {}) const {
        std::vector<Located<std::string>> out;
        const toml::value* v = find(k);
        if (v == nullptr) {
            return out;
        }
        const toml::array& items = expect(*v, toml::value_t::array, key(k)).as_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
            std::string element = fmt::format("{}[{}]", key(k), i);
            std::string value = checked_string(items[i], element, check);
            out.push_back({std::move(value), line_of(items[i]), std::move(element)});
        }
        return out;
    }

    [[nodiscard]] std::vector<Located<std::int64_t>> integers(std::string_view k,
                                                              std::span<const std::int64_t> fallback, std::int64_t min,
                                                              std::int64_t max) const {
        std::vector<Located<std::int64_t>> out;
        const toml::value* v = find(k);
        if (v == nullptr) {
            for (const std::int64_t value : fallback) {
                out.push_back({value, 0, key(k)});
            }
            return out;
        }
        const toml::array& items = expect(*v, toml::value_t::array, key(k)).as_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
            std::string element = fmt::format("{}[{}]", key(k), i);
            const std::int64_t value = in_range(items[i], element, min, max);
            out.push_back({value, line_of(items[i]), std::move(element)});
        }
        return out;
    }

private:
    static const toml::value& expect(const toml::value& v, toml::value_t type, const std::string& name) {
        if (v.type() != type) {
            fail(line_of(v), fmt::format("{}: expected {}, got {}", name, type_name(type), type_name(v.type())));
        }
        return v;
    }

    static std::int64_t in_range(const toml::value& v, const std::string& name, std::int64_t min, std::int64_t max) {
        const std::int64_t value = expect(v, toml::value_t::integer, name).as_integer();
        if (value < min || value > max) {
            fail(line_of(v), fmt::format("{} = {}: must be between {} and {}", name, value, min, max));
        }
        return value;
    }

    static std::string checked_string(const toml::value& v, const std::string& name, const Check& check) {
        const std::string& value = expect(v, toml::value_t::string, name).as_string().str;
        if (check) {
            if (std::string why = check(value); !why.empty()) {
                fail(line_of(v), fmt::format("{} = {:?}: {}", name, value, why));
            }
        }
        return value;
    }

    const toml::value* _value;
    std::string _name;
    std::string _header;
};

} // namespace wt::app::config_toml
