// HTTP/1.x request head parser (RFC 9112 sections 2-5) for cleartext flows: finds the method,
// the request-target, the version, the Host header and the User-Agent.
//
// Contract: noexcept, allocation-free, never reads outside the given span, every loop bounded by
// a constant from parsers/common/limits.hpp. `method` and `target` are views into the input;
// `host` and `user_agent` are copies.
//
// Decisions:
//   - Methods are matched case-sensitively (RFC 9110 section 9.1) against the RFC 9110 methods,
//     PATCH (RFC 5789) and the WebDAV/CalDAV/DeltaV ones; any other token is kUnsupported, as is
//     HTTP/0.9 (no version) and any version other than HTTP/1.x (e.g. the HTTP/2 preface).
//   - Lines end in CRLF or a bare LF (RFC 9112 section 2.2 allows recipients to accept LF).
//     Up to limits::kMaxHttpLeadingEmptyLines empty lines before the request-line are skipped.
//   - Field names are matched case-insensitively (RFC 9110 section 5.1). Whitespace between a
//     field name and the colon is kMalformed (RFC 9112 section 5.1), as is a line without colon.
//   - obs-fold continuation lines (RFC 9112 section 5.2) are tolerated and skipped: they are not
//     joined to the previous value.
//   - Host (RFC 9112 section 3.2): surrounding whitespace trimmed, ASCII lowercased, ":port"
//     stripped; an IPv6 literal keeps its brackets ("[2001:db8::1]"); a value with several colons
//     and no brackets is kept whole. Bytes outside 0x21..0x7e and '\' are written as "\DDD"/"\\"
//     (same convention as the DNS parser) so the text is printable ASCII. An empty Host value is
//     legal (has_host with an empty host). A second Host field is kMalformed (the first is kept).
//   - User-Agent: trimmed, bytes outside 0x20..0x7e replaced by '?', cut at 256 characters.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wt::parsers {

struct HttpRequest {
    std::string_view method;          ///< view into the input
    std::string_view target;          ///< request-target, view into the input
    std::uint8_t version_minor = 0;   ///< HTTP/1.<version_minor>
    DomainName host;
    bool has_host = false;
    bool host_truncated = false;      ///< the Host text did not fit `host` (prefix kept)
    FixedString<256> user_agent;
    bool has_user_agent = false;
    bool head_complete = false;       ///< the empty line ending the head was seen
    std::size_t head_length = 0;      ///< bytes up to and including that empty line (when head_complete)
};

// Returns
//   kOk          the request-line and the Host field were seen (the complete lines after Host that
//                are present are still scanned for User-Agent), or the head ended without Host;
//   kNeedMore    every byte so far is a valid prefix of a request head without Host: the caller
//                should call again with more bytes of the same stream (concatenated from the start);
//   kUnsupported not an HTTP/1.x request;
//   kMalformed   an HTTP/1.x request-line followed by an invalid field line (fields seen before
//                it, including Host, stay filled);
//   kTooLarge    a line longer than limits::kMaxHttpLineLength, or more than
//                limits::kMaxHttpHeaderLines field lines without Host or the end of the head.
// `out` is reset first.
ParseStatus parse_http_request(Bytes data, HttpRequest& out) noexcept;

// True when `data` starts with "HTTP/1." (RFC 9112 section 4 status-line); false when shorter.
bool looks_like_http_response(Bytes data) noexcept;

} // namespace wt::parsers
