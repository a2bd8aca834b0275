// JSON text written directly with fmt, for documents too large to build as a DOM
// first (snapshots, timeline queries). Internal to app/state.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace wt::app::state::json_text {

// Text from the configuration (service names, labels): UTF-8 is kept; a byte that
// is not valid UTF-8 becomes U+FFFD, so the document is always valid JSON.
void append_text(fmt::memory_buffer& b, std::string_view s);

// Names from the wire (any bytes): each byte is written as the code point of the
// same value (ASCII readable, anything else \u00XX), so it reads back exactly.
void append_wire_name(fmt::memory_buffer& b, std::string_view s);

// A JSON number that reads as a float ("1.0", "0.25", "1700000000.5").
void append_double(fmt::memory_buffer& b, double v);

} // namespace wt::app::state::json_text
