#include "parsers/quic/crypto_reassembler.hpp"

#include <algorithm>
#include <bit>

namespace wt::parsers {
namespace {
constexpr std::size_t kHandshakeHeader = 4; // RFC 8446 section 4: msg_type u8, length u24
constexpr std::uint8_t kClientHello = 1;
constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};
} // namespace

void QuicCryptoReassembler::reset() noexcept {
    _have.fill(0);
    _contiguous = 0;
    _fragments = 0;
    _beyond = 0;
}

ParseStatus QuicCryptoReassembler::add(std::uint64_t offset, Bytes data) noexcept {
    if (data.empty()) {
        return ParseStatus::kOk;
    }
    ++_fragments;
    if (offset >= kCapacity) {
        _beyond += data.size();
        return ParseStatus::kTooLarge;
    }
    const std::size_t begin = static_cast<std::size_t>(offset);
    const std::size_t keep = std::min(data.size(), kCapacity - begin);
    std::copy_n(data.data(), keep, _data.data() + begin);
    mark(begin, begin + keep);
    advance();
    if (keep < data.size()) {
        _beyond += data.size() - keep;
        return ParseStatus::kTooLarge;
    }
    return ParseStatus::kOk;
}

void QuicCryptoReassembler::mark(std::size_t begin, std::size_t end) noexcept {
    // [begin, end) with end <= kCapacity: whole words at once, partial words masked.
    for (std::size_t w = begin / 64; w < _have.size() && w * 64 < end; ++w) {
        const std::size_t lo = std::max(begin, w * 64) - w * 64;
        const std::size_t hi = std::min(end, (w + 1) * 64) - w * 64; // 1..64
        const std::uint64_t upto = hi == 64 ? kAllOnes : ((std::uint64_t{1} << hi) - 1);
        _have[w] |= upto & (kAllOnes << lo);
    }
}

void QuicCryptoReassembler::advance() noexcept {
    // Bounded by the number of bitmap words.
    while (_contiguous < kCapacity) {
        const std::size_t w = _contiguous / 64;
        const unsigned bit = _contiguous % 64;
        const std::uint64_t rest = _have[w] >> bit;
        const unsigned ones = static_cast<unsigned>(std::countr_one(rest));
        const unsigned avail = 64 - bit;
        _contiguous += std::min(ones, avail);
        if (ones < avail) {
            break;
        }
    }
}

ParseStatus QuicCryptoReassembler::client_hello_status() const noexcept {
    if (_contiguous >= 1 && _data[0] != kClientHello) {
        return ParseStatus::kMalformed;
    }
    if (_contiguous < kHandshakeHeader) {
        return ParseStatus::kNeedMore;
    }
    const std::size_t total = kHandshakeHeader + (load_u32(_data.data()) & 0x00ffffffu);
    if (total > kCapacity) {
        return ParseStatus::kTooLarge;
    }
    return _contiguous >= total ? ParseStatus::kOk : ParseStatus::kNeedMore;
}

Bytes QuicCryptoReassembler::client_hello() const noexcept {
    if (client_hello_status() != ParseStatus::kOk) {
        return {};
    }
    const std::size_t total = kHandshakeHeader + (load_u32(_data.data()) & 0x00ffffffu);
    return {_data.data(), total};
}

} // namespace wt::parsers
