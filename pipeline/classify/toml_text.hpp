// What TOML error messages say about a value, shared by the two TOML readers
// (app/config for wiretally.toml, pipeline/classify/services for the services file) so that
// both word "expected X, got Y" and "FILE:LINE" the same way.
#pragma once

#include <string_view>

#include <toml.hpp>

namespace wt::toml_text {

// "a boolean", "an integer", ...: the article fits "expected ..., got ...".
[[nodiscard]] inline std::string_view type_name(toml::value_t t) noexcept {
    switch (t) {
        case toml::value_t::boolean: return "a boolean";
        case toml::value_t::integer: return "an integer";
        case toml::value_t::floating: return "a float";
        case toml::value_t::string: return "a string";
        case toml::value_t::offset_datetime:
        case toml::value_t::local_datetime:
        case toml::value_t::local_date:
        case toml::value_t::local_time: return "a date/time";
        case toml::value_t::array: return "an array";
        case toml::value_t::table: return "a table";
        default: return "empty";
    }
}

[[nodiscard]] inline int line_of(const toml::value& v) { return static_cast<int>(v.location().line()); }

} // namespace wt::toml_text
