// Frames of a decrypted Initial packet (RFC 9000 section 19), walked only to find CRYPTO data.
//
// RFC 9000 section 12.4 (Table 3) allows PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE
// (type 0x1c) in Initial packets; anything else is a PROTOCOL_VIOLATION, so the walk stops
// there with kMalformed, after the CRYPTO frames before it have been delivered.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"

#include <cstddef>
#include <cstdint>

namespace wt::parsers {

enum class QuicFrameKind : std::uint8_t { kPadding, kPing, kAck, kCrypto, kConnectionClose, kCount };

struct QuicInitialFrame {
    QuicFrameKind kind = QuicFrameKind::kCount;
    std::uint64_t crypto_offset = 0; ///< CRYPTO only
    Bytes crypto_data;               ///< CRYPTO only: a view into the plaintext
};

// Reads one frame; a run of PADDING bytes is read as a single frame.
// kOk, kTruncated (the frame runs off the payload), kMalformed (a frame type not allowed in
// Initial packets, or a CRYPTO offset + length beyond 2^62 - 1, RFC 9000 section 19.6),
// kTooLarge (an ACK with more than limits::kMaxQuicAckRanges ranges).
// On failure the reader does not advance.
[[nodiscard]] ParseStatus read_initial_frame(ByteReader& reader, QuicInitialFrame& out) noexcept;

// Calls on_frame(std::uint64_t offset, Bytes data) for every CRYPTO frame in order of appearance.
// kOk when the whole payload was walked; otherwise the first error of read_initial_frame(), or
// kTooLarge beyond limits::kMaxQuicCryptoFrames CRYPTO frames or limits::kMaxQuicInitialFrames
// frames. Frames delivered before an error stay delivered.
template <typename F>
ParseStatus for_each_crypto_frame(Bytes plaintext, F&& on_frame) noexcept {
    ByteReader reader(plaintext);
    std::size_t crypto_frames = 0;
    for (std::size_t i = 0; i < limits::kMaxQuicInitialFrames; ++i) {
        if (reader.empty()) {
            return ParseStatus::kOk;
        }
        QuicInitialFrame frame;
        const ParseStatus st = read_initial_frame(reader, frame);
        if (st != ParseStatus::kOk) {
            return st;
        }
        if (frame.kind == QuicFrameKind::kCrypto) {
            if (++crypto_frames > limits::kMaxQuicCryptoFrames) {
                return ParseStatus::kTooLarge;
            }
            on_frame(frame.crypto_offset, frame.crypto_data);
        }
    }
    return reader.empty() ? ParseStatus::kOk : ParseStatus::kTooLarge;
}

} // namespace wt::parsers
