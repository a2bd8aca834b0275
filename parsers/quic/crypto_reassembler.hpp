// Reassembles the client's Initial CRYPTO stream (RFC 9000 section 19.6) far enough to hold
// its ClientHello, from fragments that may arrive out of order, overlap or repeat.
//
// Fixed storage (no allocation): limits::kMaxClientHelloSize bytes of data plus a one-bit-per-
// byte bitmap of what has been received. Bytes at offsets beyond the capacity are counted and
// dropped. Overlapping bytes are written again: RFC 9000 section 2.2 requires a retransmission
// to carry the same data, and a liar only spoils its own ClientHello.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace wt::parsers {

class QuicCryptoReassembler {
public:
    static constexpr std::size_t kCapacity = limits::kMaxClientHelloSize;
    static_assert(kCapacity % 64 == 0, "the bitmap is kept in 64-bit words");

    void reset() noexcept;

    // kOk, or kTooLarge when part of the fragment lay beyond kCapacity (that part is counted
    // in bytes_beyond_capacity() and dropped; the rest is kept).
    ParseStatus add(std::uint64_t offset, Bytes data) noexcept;

    // The received bytes from offset 0 up to the first gap.
    [[nodiscard]] Bytes contiguous() const noexcept { return {_data.data(), _contiguous}; }
    [[nodiscard]] std::uint64_t bytes_beyond_capacity() const noexcept { return _beyond; }
    [[nodiscard]] std::uint32_t fragments() const noexcept { return _fragments; }

    // RFC 8446 section 4: msg_type (1) = client_hello, then a u24 length.
    // kOk: the whole message is contiguous; kNeedMore: not yet; kMalformed: the stream does not
    // start with a ClientHello; kTooLarge: its declared length exceeds kCapacity.
    [[nodiscard]] ParseStatus client_hello_status() const noexcept;
    [[nodiscard]] bool client_hello_complete() const noexcept {
        return client_hello_status() == ParseStatus::kOk;
    }
    // The complete handshake message (header included), or empty until client_hello_complete().
    [[nodiscard]] Bytes client_hello() const noexcept;

private:
    void mark(std::size_t begin, std::size_t end) noexcept;
    void advance() noexcept;

    std::array<std::uint8_t, kCapacity> _data{};
    std::array<std::uint64_t, kCapacity / 64> _have{};
    std::uint32_t _contiguous = 0;
    std::uint32_t _fragments = 0;
    std::uint64_t _beyond = 0;
};

} // namespace wt::parsers
