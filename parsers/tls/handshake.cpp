#include "parsers/tls/handshake.hpp"

#include "parsers/common/limits.hpp"
#include "parsers/tls/tls_types.hpp"

#include <algorithm>
#include <cstring>

namespace wt::parsers {
namespace {

constexpr std::size_t kRecordHeaderSize = 5;   // RFC 8446 section 5.1: type, version, length
constexpr std::size_t kHandshakeHeaderSize = 4; // RFC 8446 section 4: msg_type, uint24 length

constexpr std::uint8_t kContentAlert = 21;   // RFC 8446 section 5.1
constexpr std::uint8_t kAlertLevelWarning = 1; // RFC 5246 section 7.2

// Checks one record header (or the part of it that has arrived). `first` selects
// kUnsupported (is this TLS at all?) over kMalformed (TLS that went wrong); before
// any handshake byte, alert records are accepted too (the caller handles them).
// Returns kOk with `type` and `length` set when all 5 bytes are present and valid.
ParseStatus check_record_header(Bytes rest, bool first, bool alert_ok, std::uint8_t& type,
                                std::size_t& length) noexcept {
    const ParseStatus not_tls = first ? ParseStatus::kUnsupported : ParseStatus::kMalformed;
    if (rest.empty()) {
        return ParseStatus::kNeedMore;
    }
    type = rest[0];
    if (type != tls::kContentHandshake && !(alert_ok && type == kContentAlert)) {
        return not_tls;
    }
    // legacy_record_version is 0x03xx for SSLv3 through TLS 1.3.
    if (rest.size() >= 2 && rest[1] != 0x03) {
        return not_tls;
    }
    if (rest.size() < kRecordHeaderSize) {
        return ParseStatus::kNeedMore;
    }
    length = load_u16(rest.data() + 3);
    // RFC 8446 section 5.1: no zero-length handshake fragments; length <= 2^14
    // (we tolerate the 2^14 + 256 of section 5.2).
    if (length == 0 || length > limits::kMaxTlsRecordLength) {
        return ParseStatus::kMalformed;
    }
    return ParseStatus::kOk;
}

} // namespace

ParseStatus tls_first_handshake(Bytes stream, std::uint8_t expected_type, std::span<std::uint8_t> scratch,
                                Bytes& message) noexcept {
    // Pass 1: walk the records, read the handshake header (which may itself be split
    // across records) and count how many message bytes have arrived.
    std::uint8_t header[kHandshakeHeaderSize] = {};
    std::size_t header_have = 0;
    std::size_t have = 0;  // message bytes available so far
    std::size_t total = 0; // message size once the header is known
    std::size_t off = 0;
    std::size_t records = 0;
    std::size_t first_length = 0;
    constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t first_offset = npos; // where the first handshake record starts
    for (; records < limits::kMaxTlsHandshakeRecords; ++records) {
        std::uint8_t type = 0;
        std::size_t length = 0;
        const ParseStatus st = check_record_header(stream.subspan(off), off == 0, have == 0, type, length);
        if (st != ParseStatus::kOk) {
            return st;
        }
        const std::size_t avail = std::min(length, stream.size() - off - kRecordHeaderSize);
        const Bytes fragment = stream.subspan(off + kRecordHeaderSize, avail);
        if (type == kContentAlert) {
            // A warning before the hello is legal and real: OpenSSL servers send
            // unrecognized_name (RFC 6066 section 3) ahead of a TLS 1.2 ServerHello.
            // Skip it. A fatal alert means no hello will follow.
            if (avail < 2) {
                return ParseStatus::kNeedMore;
            }
            if (length != 2) {
                return ParseStatus::kMalformed;
            }
            if (fragment[0] != kAlertLevelWarning) {
                return ParseStatus::kUnsupported;
            }
            off += kRecordHeaderSize + length;
            continue;
        }
        if (first_offset == npos) {
            first_offset = off;
        }
        for (std::size_t i = 0; header_have < kHandshakeHeaderSize && i < fragment.size(); ++i) {
            header[header_have++] = fragment[i];
            if (header_have == 1 && header[0] != expected_type) {
                return ParseStatus::kUnsupported;
            }
        }
        have += fragment.size();
        if (total == 0 && header_have == kHandshakeHeaderSize) {
            const std::size_t body =
                (std::size_t{header[1]} << 16) | (std::size_t{header[2]} << 8) | header[3];
            total = kHandshakeHeaderSize + body;
            if (total > limits::kMaxClientHelloSize) {
                return ParseStatus::kTooLarge;
            }
        }
        const bool first_handshake_record = (off == first_offset);
        if (first_handshake_record) {
            first_length = length;
        }
        if (total != 0 && first_handshake_record && fragment.size() >= total) {
            // RFC 8446 section 5.1: the whole message sits in the first record.
            message = fragment.first(total);
            return ParseStatus::kOk;
        }
        if (total != 0 && total > first_length && total > scratch.size()) {
            // It will need copying and cannot fit: say so now rather than after
            // buffering the rest of it.
            return ParseStatus::kTooLarge;
        }
        if (total != 0 && have >= total) {
            break;
        }
        if (avail < length) {
            return ParseStatus::kNeedMore; // this record has not fully arrived
        }
        off += kRecordHeaderSize + length;
    }
    if (records == limits::kMaxTlsHandshakeRecords) {
        return ParseStatus::kTooLarge;
    }

    // Pass 2: copy the fragments into scratch. The headers were validated in pass 1.
    std::size_t copied = 0;
    off = first_offset;
    for (std::size_t r = 0; r <= records && copied < total; ++r) {
        const std::size_t length = load_u16(stream.data() + off + 3);
        const std::size_t avail = std::min(length, stream.size() - off - kRecordHeaderSize);
        const std::size_t n = std::min(avail, total - copied);
        std::memcpy(scratch.data() + copied, stream.data() + off + kRecordHeaderSize, n);
        copied += n;
        off += kRecordHeaderSize + length;
    }
    message = Bytes(scratch.data(), total);
    return ParseStatus::kOk;
}

bool looks_like_tls_client_hello(Bytes s) noexcept {
    // RFC 8446 section 5.1 record header, then section 4 handshake header.
    if (s.size() < kRecordHeaderSize + 1) {
        return false;
    }
    const std::size_t record_len = load_u16(s.data() + 3);
    if (s[0] != tls::kContentHandshake || s[1] != 0x03 || s[2] > 0x04 || record_len == 0 ||
        record_len > limits::kMaxTlsRecordLength || s[5] != tls::kHandshakeClientHello) {
        return false;
    }
    // uint24 length: a ClientHello we accept is < 64 KB, so its top byte is 0.
    if (s.size() > 6 && s[6] != 0) {
        return false;
    }
    // ClientHello.legacy_version is 0x03xx.
    return s.size() <= 9 || s[9] == 0x03;
}

} // namespace wt::parsers
