#include "app/report/json_writer.hpp"

#include <cmath>
#include <iterator>

namespace wt::app {

void append_json_string(fmt::memory_buffer& out, std::string_view s) {
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
        out.push_back('"');
        out.append(s.data(), s.data() + s.size());
        out.push_back('"');
        return;
    }
    // Rare (escapes, UTF-8, malformed names): let nlohmann decide, so the replacement of
    // invalid sequences stays exactly its own.
    const std::string text =
        nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.append(text.data(), text.data() + text.size());
}

void append_json_byte_string(fmt::memory_buffer& out, std::string_view s) {
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out.append(std::string_view("\\\"")); break;
        case '\\': out.append(std::string_view("\\\\")); break;
        default:
            // RFC 8259 section 7: control characters must be escaped; DEL and bytes above
            // ASCII are escaped too so that the text stays 7-bit and each byte is one code point.
            if (c < 0x20 || c >= 0x7f) {
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
}

void append_json_double(fmt::memory_buffer& out, double v) {
    if (!std::isfinite(v)) {
        out.append(std::string_view("null"));
        return;
    }
    char buf[64];
    char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

} // namespace wt::app
