// TLS record layer (RFC 8446 section 5.1) as seen by a passive observer: find the
// first handshake message of one direction of a TCP connection.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/status.hpp"

#include <cstdint>
#include <span>

namespace wt::parsers {

// `stream` is the contiguous beginning of one direction of a TCP connection (the
// caller reassembles and calls again when more bytes arrive; nothing is kept between
// calls). Returns in `message` the first handshake message (4-byte header + body)
// when it is complete and of `expected_type` (1 ClientHello, 2 ServerHello):
//   - a view into `stream` when the message lies inside the first record;
//   - otherwise a view into `scratch`, into which the fragments of several records
//     were copied (RFC 8446 section 5.1 allows a handshake message to span records:
//     large post-quantum ClientHellos do).
// Status:
//   kOk          `message` is set.
//   kNeedMore    a valid prefix; call again with more bytes.
//   kUnsupported not TLS: first byte is not handshake (22) or alert (21), record
//                major version is not 3 (SSLv2-compatible hellos included), the first
//                handshake message is of another type, or a fatal alert came first.
// Warning alerts (2-byte alert records of level 1) before the first handshake byte
// are skipped: OpenSSL servers send unrecognized_name ahead of a TLS 1.2 ServerHello.
//   kTooLarge    the message is longer than limits::kMaxClientHelloSize, or than
//                `scratch` when it has to be copied, or spans more than
//                limits::kMaxTlsHandshakeRecords records.
//   kMalformed   a later record is not a handshake record, an alert record is not 2
//                bytes long, or a record length is 0 or above limits::kMaxTlsRecordLength.
[[nodiscard]] ParseStatus tls_first_handshake(Bytes stream, std::uint8_t expected_type,
                                              std::span<std::uint8_t> scratch, Bytes& message) noexcept;

// Cheap test on the first bytes of a TCP payload: a handshake record header with a
// plausible length followed by a ClientHello header. Needs at least 6 bytes; checks
// more fields when they are present. No false negatives for tls_first_handshake's
// accepted ClientHellos; false positives are possible (it is a filter).
[[nodiscard]] bool looks_like_tls_client_hello(Bytes first_segment) noexcept;

} // namespace wt::parsers
