#include "parsers/quic/frames.hpp"

namespace wt::parsers {
namespace {

// RFC 9000 section 19 frame types that may appear in an Initial packet (section 12.4).
constexpr std::uint64_t kPadding = 0x00;
constexpr std::uint64_t kPing = 0x01;
constexpr std::uint64_t kAck = 0x02;
constexpr std::uint64_t kAckEcn = 0x03;
constexpr std::uint64_t kCrypto = 0x06;
constexpr std::uint64_t kConnectionCloseTransport = 0x1c;
constexpr std::uint64_t kMaxVarint = (std::uint64_t{1} << 62) - 1;

// RFC 9000 section 19.3: Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range,
// ranges of (Gap, ACK Range Length), then for type 0x03 the three ECN counts (19.3.2).
ParseStatus skip_ack(ByteReader& r, bool ecn) noexcept {
    std::uint64_t largest = 0;
    std::uint64_t delay = 0;
    std::uint64_t range_count = 0;
    std::uint64_t first_range = 0;
    if (!r.read_quic_varint(largest) || !r.read_quic_varint(delay) || !r.read_quic_varint(range_count) ||
        !r.read_quic_varint(first_range)) {
        return ParseStatus::kTruncated;
    }
    if (range_count > limits::kMaxQuicAckRanges) {
        return ParseStatus::kTooLarge;
    }
    for (std::uint64_t i = 0; i < range_count; ++i) {
        std::uint64_t gap = 0;
        std::uint64_t len = 0;
        if (!r.read_quic_varint(gap) || !r.read_quic_varint(len)) {
            return ParseStatus::kTruncated;
        }
    }
    if (ecn) {
        for (int i = 0; i < 3; ++i) {
            std::uint64_t count = 0;
            if (!r.read_quic_varint(count)) {
                return ParseStatus::kTruncated;
            }
        }
    }
    return ParseStatus::kOk;
}

} // namespace

ParseStatus read_initial_frame(ByteReader& reader, QuicInitialFrame& out) noexcept {
    out = QuicInitialFrame{};
    ByteReader r = reader; // commit only on success
    std::uint64_t type = 0;
    if (!r.read_quic_varint(type)) {
        return ParseStatus::kTruncated;
    }
    switch (type) {
    case kPadding: {
        // RFC 9000 section 19.1: a PADDING frame is a single 0x00 byte; a run is consumed at once.
        const Bytes rest = r.rest();
        std::size_t n = 0;
        while (n < rest.size() && rest[n] == 0) {
            ++n;
        }
        r.skip(n);
        out.kind = QuicFrameKind::kPadding;
        break;
    }
    case kPing:
        out.kind = QuicFrameKind::kPing;
        break;
    case kAck:
    case kAckEcn: {
        const ParseStatus st = skip_ack(r, type == kAckEcn);
        if (st != ParseStatus::kOk) {
            return st;
        }
        out.kind = QuicFrameKind::kAck;
        break;
    }
    case kCrypto: {
        // RFC 9000 section 19.6: Offset (i), Length (i), Crypto Data (..)
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
        if (!r.read_quic_varint(offset) || !r.read_quic_varint(length)) {
            return ParseStatus::kTruncated;
        }
        if (length > r.remaining()) {
            return ParseStatus::kTruncated;
        }
        // "The largest offset delivered on a stream -- the sum of the offset and data
        // length -- cannot exceed 2^62-1" (both terms are < 2^62, so the sum cannot wrap).
        if (offset + length > kMaxVarint) {
            return ParseStatus::kMalformed;
        }
        r.read_bytes(static_cast<std::size_t>(length), out.crypto_data);
        out.crypto_offset = offset;
        out.kind = QuicFrameKind::kCrypto;
        break;
    }
    case kConnectionCloseTransport: {
        // RFC 9000 section 19.19: Error Code (i), Frame Type (i), Reason Phrase Length (i), Reason Phrase
        std::uint64_t code = 0;
        std::uint64_t frame_type = 0;
        std::uint64_t reason_len = 0;
        if (!r.read_quic_varint(code) || !r.read_quic_varint(frame_type) || !r.read_quic_varint(reason_len) ||
            reason_len > r.remaining()) {
            return ParseStatus::kTruncated;
        }
        r.skip(static_cast<std::size_t>(reason_len));
        out.kind = QuicFrameKind::kConnectionClose;
        break;
    }
    default:
        return ParseStatus::kMalformed;
    }
    reader = r;
    return ParseStatus::kOk;
}

} // namespace wt::parsers
