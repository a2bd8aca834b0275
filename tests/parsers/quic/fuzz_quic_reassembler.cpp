// libFuzzer target: a sequence of CRYPTO fragments against QuicCryptoReassembler, checked
// against a byte-per-byte shadow model.
// Each record: offset u16 (big-endian), length u8 (bit 7 set: offset is moved 2^40 up, far
// beyond capacity), then `length & 0x7f` bytes of data taken from the input.
#include "parsers/quic/crypto_reassembler.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace wt::parsers;

namespace {
void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto* r = new QuicCryptoReassembler();
    static auto* shadow = new std::vector<int>(QuicCryptoReassembler::kCapacity);
    r->reset();
    std::fill(shadow->begin(), shadow->end(), -1);
    std::uint64_t beyond = 0;
    std::size_t at = 0;
    for (std::size_t rec = 0; rec < 4096 && at + 3 <= size; ++rec) {
        std::uint64_t offset = (std::uint64_t{data[at]} << 8) | data[at + 1];
        const std::uint8_t lb = data[at + 2];
        at += 3;
        if ((lb & 0x80) != 0) {
            offset += std::uint64_t{1} << 40;
        }
        // Short data scaled up to reach the capacity edge with few input bytes.
        const std::size_t len = std::min<std::size_t>(lb & 0x7f, size - at);
        const Bytes frag(data + at, len);
        at += len;
        const ParseStatus st = r->add(offset, frag);
        for (std::size_t i = 0; i < len; ++i) {
            const std::uint64_t o = offset + i;
            if (o < QuicCryptoReassembler::kCapacity) {
                (*shadow)[o] = frag[i];
            } else {
                ++beyond;
            }
        }
        check(r->bytes_beyond_capacity() == beyond);
        check((st == ParseStatus::kOk) == (len == 0 || offset + len <= QuicCryptoReassembler::kCapacity));
        std::size_t expect = 0;
        while (expect < shadow->size() && (*shadow)[expect] >= 0) {
            ++expect;
        }
        const Bytes c = r->contiguous();
        check(c.size() == expect);
        for (std::size_t i = 0; i < expect; ++i) {
            check(c[i] == (*shadow)[i]);
        }
        const ParseStatus hs = r->client_hello_status();
        if (hs == ParseStatus::kOk) {
            check(r->client_hello().size() <= c.size());
        } else {
            check(r->client_hello().empty());
        }
    }
    return 0;
}
