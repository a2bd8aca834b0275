#include "parsers/http/http_request.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace wt::parsers {
namespace {

// RFC 9110 section 9 (and 18.2 registry), RFC 5789 (PATCH), RFC 4918 (WebDAV), RFC 3253 (DeltaV),
// RFC 4791 (CalDAV), RFC 5323 (SEARCH), RFC 3744 (ACL), RFC 5842 (BIND).
constexpr std::array<std::string_view, 27> kMethods{
    "GET",        "POST",      "HEAD",   "PUT",      "DELETE",   "OPTIONS",    "PATCH",
    "CONNECT",    "TRACE",     "PROPFIND", "PROPPATCH", "MKCOL",  "COPY",       "MOVE",
    "LOCK",       "UNLOCK",    "SEARCH", "REPORT",   "MKCALENDAR", "MKACTIVITY", "CHECKOUT",
    "CHECKIN",    "MERGE",     "VERSION-CONTROL", "ACL", "BIND",  "UNBIND"};

static_assert(std::all_of(kMethods.begin(), kMethods.end(),
                          [](std::string_view m) { return m.size() <= limits::kMaxHttpMethodLength; }));

constexpr std::string_view kVersionPrefix = "HTTP/1.";

bool is_method(std::string_view token) noexcept {
    return std::find(kMethods.begin(), kMethods.end(), token) != kMethods.end();
}

bool is_method_prefix(std::string_view partial) noexcept {
    return std::any_of(kMethods.begin(), kMethods.end(),
                       [partial](std::string_view m) { return m.substr(0, partial.size()) == partial; });
}

// RFC 9110 section 5.6.2: tchar.
struct TcharTable {
    std::array<bool, 256> ok{};
    constexpr TcharTable() {
        for (unsigned c = '0'; c <= '9'; ++c) {
            ok[c] = true;
        }
        for (unsigned c = 'a'; c <= 'z'; ++c) {
            ok[c] = true;
            ok[c - 0x20] = true;
        }
        for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
            ok[static_cast<unsigned char>(c)] = true;
        }
    }
};
constexpr TcharTable kTchar{};

constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
}

bool iequals(std::string_view a, std::string_view lower) noexcept {
    if (a.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != lower[i]) {
            return false;
        }
    }
    return true;
}

// RFC 9110 section 5.6.3: OWS is SP / HTAB.
std::string_view trim_ows(std::string_view v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
        v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.remove_suffix(1);
    }
    return v;
}

void set_host(std::string_view value, HttpRequest& out) noexcept {
    std::string_view v = value;
    // RFC 9110 section 7.2 / RFC 3986 section 3.2.2: uri-host [ ":" port ]; an IP-literal is bracketed.
    if (!v.empty() && v.front() == '[') {
        const std::size_t close = v.find(']');
        if (close != std::string_view::npos) {
            v = v.substr(0, close + 1);
        }
    } else {
        const std::size_t colon = v.find(':');
        if (colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos) {
            v = v.substr(0, colon);
        }
    }
    out.has_host = true;
    // Built in a local buffer, then one assign: no per-character length store into `out`.
    constexpr std::size_t kCap = DomainName::capacity();
    std::array<char, kCap + 4> buf;  // + room for one escape that crosses the capacity
    std::size_t n = 0;
    std::size_t i = 0;
    for (; i < v.size() && n < kCap; ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c > 0x20 && c < 0x7f && c != '\\') {
            buf[n++] = to_lower(v[i]);
        } else if (c == '\\') {
            buf[n++] = '\\';
            buf[n++] = '\\';
        } else {
            buf[n++] = '\\';
            buf[n++] = static_cast<char>('0' + c / 100);
            buf[n++] = static_cast<char>('0' + (c / 10) % 10);
            buf[n++] = static_cast<char>('0' + c % 10);
        }
    }
    const bool fit = out.host.assign(std::string_view(buf.data(), n));
    out.host_truncated = !fit || i < v.size();
}

void set_user_agent(std::string_view value, HttpRequest& out) noexcept {
    out.has_user_agent = true;
    std::array<char, decltype(out.user_agent)::capacity()> buf;
    const std::size_t n = std::min(value.size(), buf.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        buf[i] = (c >= 0x20 && c < 0x7f) ? value[i] : '?';
    }
    out.user_agent.assign(std::string_view(buf.data(), n));
}

void reset(HttpRequest& out) noexcept {
    out.method = {};
    out.target = {};
    out.version_minor = 0;
    out.host.clear();
    out.has_host = false;
    out.host_truncated = false;
    out.user_agent.clear();
    out.has_user_agent = false;
    out.head_complete = false;
    out.head_length = 0;
}

// Compares the available part of `data` from `pos` with `expected`: kOk when all of `expected`
// is there, kNeedMore when the available bytes are a proper prefix, kUnsupported otherwise.
ParseStatus match_literal(std::string_view data, std::size_t pos, std::string_view expected) noexcept {
    const std::size_t avail = std::min(data.size() - pos, expected.size());
    if (data.substr(pos, avail) != expected.substr(0, avail)) {
        return ParseStatus::kUnsupported;
    }
    return avail == expected.size() ? ParseStatus::kOk : ParseStatus::kNeedMore;
}

// Request-line (RFC 9112 section 3): method SP request-target SP HTTP-version line-end.
// On kOk, `pos` is at the first field line.
ParseStatus parse_request_line(std::string_view s, std::size_t& pos, HttpRequest& out) noexcept {
    const std::size_t line_start = pos;
    // Every known method starts with an upper-case letter: rejects TLS, SSH, binary protocols
    // on the first byte.
    if (pos < s.size() && (s[pos] < 'A' || s[pos] > 'Z')) {
        return ParseStatus::kUnsupported;
    }
    const std::size_t method_scan = std::min(s.size(), pos + limits::kMaxHttpMethodLength + 1);
    const std::size_t sp1 = s.substr(0, method_scan).find(' ', pos);
    if (sp1 == std::string_view::npos) {
        const bool more_possible = method_scan == s.size() && is_method_prefix(s.substr(pos));
        return more_possible ? ParseStatus::kNeedMore : ParseStatus::kUnsupported;
    }
    if (!is_method(s.substr(pos, sp1 - pos))) {
        return ParseStatus::kUnsupported;
    }
    out.method = s.substr(pos, sp1 - pos);

    // request-target: visible characters up to the next SP (section 3.2). Bytes >= 0x80 are
    // tolerated (seen in the wild); controls are not.
    // RFC 9112 section 3: "recipients MAY instead parse on whitespace-delimited word
    // boundaries"; some clients pad the request line with several SP.
    const std::size_t line_scan = std::min(s.size(), line_start + limits::kMaxHttpLineLength);
    std::size_t target_start = sp1 + 1;
    while (target_start < line_scan && s[target_start] == ' ') {
        ++target_start;
    }
    std::size_t i = target_start;
    for (; i < line_scan; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == ' ') {
            break;
        }
        if (c == '\r' || c == '\n') {
            return ParseStatus::kUnsupported; // HTTP/0.9 simple request (no version)
        }
        if (c < 0x20 || c == 0x7f) {
            return ParseStatus::kMalformed;
        }
    }
    if (i == line_scan) {
        return line_scan == s.size() ? ParseStatus::kNeedMore : ParseStatus::kTooLarge;
    }
    if (i == target_start) {
        return ParseStatus::kMalformed;
    }
    out.target = s.substr(target_start, i - target_start);

    // HTTP-version = "HTTP/" DIGIT "." DIGIT (section 2.3); only major version 1 is handled here.
    std::size_t v = i + 1;
    while (v < line_scan && s[v] == ' ') {
        ++v;
    }
    const ParseStatus prefix = match_literal(s, v, kVersionPrefix);
    if (prefix != ParseStatus::kOk) {
        return prefix;
    }
    v += kVersionPrefix.size();
    if (v == s.size()) {
        return ParseStatus::kNeedMore;
    }
    if (s[v] < '0' || s[v] > '9') {
        return ParseStatus::kUnsupported;
    }
    out.version_minor = static_cast<std::uint8_t>(s[v] - '0');
    ++v;
    if (v == s.size()) {
        return ParseStatus::kNeedMore;
    }
    if (s[v] == '\r') {
        ++v;
        if (v == s.size()) {
            return ParseStatus::kNeedMore;
        }
    }
    if (s[v] != '\n') {
        return ParseStatus::kMalformed;
    }
    pos = v + 1;
    return ParseStatus::kOk;
}

} // namespace

ParseStatus parse_http_request(Bytes data, HttpRequest& out) noexcept {
    reset(out);
    const std::string_view s = as_string_view(data);
    std::size_t pos = 0;
    // RFC 9112 section 2.2: ignore empty lines received before the request-line.
    for (std::size_t i = 0; i < limits::kMaxHttpLeadingEmptyLines; ++i) {
        if (s.substr(pos, 2) == "\r\n") {
            pos += 2;
        } else if (s.substr(pos, 1) == "\n") {
            pos += 1;
        } else if (s.substr(pos) == "\r") {
            return ParseStatus::kNeedMore;
        } else {
            break;
        }
    }
    const ParseStatus line_status = parse_request_line(s, pos, out);
    if (line_status != ParseStatus::kOk) {
        return line_status;
    }

    // Field lines (RFC 9112 section 5) up to the empty line.
    for (std::size_t line = 0; line <= limits::kMaxHttpHeaderLines; ++line) {
        const std::size_t remaining = s.size() - pos;
        const std::size_t scan = std::min(remaining, limits::kMaxHttpLineLength + 1);
        const void* lf_ptr = scan == 0 ? nullptr : std::memchr(s.data() + pos, '\n', scan);
        if (lf_ptr == nullptr) {
            if (remaining > limits::kMaxHttpLineLength) {
                return out.has_host ? ParseStatus::kOk : ParseStatus::kTooLarge;
            }
            return out.has_host ? ParseStatus::kOk : ParseStatus::kNeedMore;
        }
        const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(lf_ptr) - s.data());
        std::string_view text = s.substr(pos, lf - pos);
        if (!text.empty() && text.back() == '\r') {
            text.remove_suffix(1);
        }
        pos = lf + 1;
        if (text.empty()) {
            out.head_complete = true;
            out.head_length = pos;
            return ParseStatus::kOk;
        }
        if (line == limits::kMaxHttpHeaderLines) {
            // One line more than the bound and still no end of the head.
            return out.has_host ? ParseStatus::kOk : ParseStatus::kTooLarge;
        }
        if (text.front() == ' ' || text.front() == '\t') {
            continue; // obs-fold (section 5.2): tolerated, not joined
        }
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return ParseStatus::kMalformed;
        }
        const std::string_view name = text.substr(0, colon);
        for (const char c : name) {
            if (!kTchar.ok[static_cast<unsigned char>(c)]) {
                return ParseStatus::kMalformed; // includes whitespace before the colon (section 5.1)
            }
        }
        const std::string_view value = trim_ows(text.substr(colon + 1));
        if (iequals(name, "host")) {
            if (out.has_host) {
                return ParseStatus::kMalformed; // section 3.2: more than one Host field line
            }
            set_host(value, out);
        } else if (iequals(name, "user-agent")) {
            set_user_agent(value, out);
        }
    }
    return out.has_host ? ParseStatus::kOk : ParseStatus::kTooLarge;
}

bool looks_like_http_response(Bytes data) noexcept {
    return as_string_view(data).substr(0, kVersionPrefix.size()) == kVersionPrefix;
}

} // namespace wt::parsers
