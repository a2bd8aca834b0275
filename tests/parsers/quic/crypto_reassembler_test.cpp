// parsers/quic/crypto_reassembler: out-of-order, overlapping and oversized CRYPTO data.
#include "parsers/quic/crypto_reassembler.hpp"

#include "tests/parsers/quic/vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace wt::parsers {
namespace {

namespace tv = test_vectors;

// The RFC 9001 A.2 ClientHello: CRYPTO frame header is 4 bytes (06 00 40f1), 241 bytes of data.
Bytes rfc_client_hello() { return Bytes(tv::kA2PlaintextPrefix).subspan(4, 241); }

// The object is 18 KB: keep it off the test's stack frame like the pipeline keeps it in flow state.
std::unique_ptr<QuicCryptoReassembler> make() { return std::make_unique<QuicCryptoReassembler>(); }

void expect_hello(const QuicCryptoReassembler& r, Bytes ch) {
    ASSERT_EQ(r.client_hello_status(), ParseStatus::kOk);
    const Bytes got = r.client_hello();
    ASSERT_EQ(got.size(), ch.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), ch.begin()));
}

TEST(QuicCryptoReassembler, Empty) {
    auto r = make();
    EXPECT_TRUE(r->contiguous().empty());
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kNeedMore);
    EXPECT_TRUE(r->client_hello().empty());
    EXPECT_EQ(r->add(0, {}), ParseStatus::kOk);
    EXPECT_EQ(r->fragments(), 0u);
}

TEST(QuicCryptoReassembler, InOrderWhole) {
    const Bytes ch = rfc_client_hello();
    ASSERT_EQ(ch[0], 0x01);
    ASSERT_EQ(ch.size(), 4u + ((ch[1] << 16) | (ch[2] << 8) | ch[3]));
    auto r = make();
    EXPECT_EQ(r->add(0, ch), ParseStatus::kOk);
    expect_hello(*r, ch);
    EXPECT_EQ(r->contiguous().size(), ch.size());
}

TEST(QuicCryptoReassembler, OneByteAtATime) {
    const Bytes ch = rfc_client_hello();
    auto r = make();
    for (std::size_t i = 0; i < ch.size(); ++i) {
        EXPECT_EQ(r->client_hello_status(), ParseStatus::kNeedMore) << i;
        EXPECT_EQ(r->add(i, ch.subspan(i, 1)), ParseStatus::kOk);
        EXPECT_EQ(r->contiguous().size(), i + 1);
    }
    expect_hello(*r, ch);
}

TEST(QuicCryptoReassembler, ReverseOrder) {
    const Bytes ch = rfc_client_hello();
    for (std::size_t piece : {1u, 7u, 64u, 100u, 240u}) {
        auto r = make();
        std::size_t end = ch.size();
        while (end > 0) {
            const std::size_t begin = end > piece ? end - piece : 0;
            EXPECT_EQ(r->contiguous().size(), 0u); // nothing from offset 0 yet
            r->add(begin, ch.subspan(begin, end - begin));
            end = begin;
        }
        expect_hello(*r, ch);
    }
}

TEST(QuicCryptoReassembler, OverlappingAndDuplicateShuffled) {
    const Bytes ch = rfc_client_hello();
    std::mt19937 rng(0xBABED011);
    for (int round = 0; round < 200; ++round) {
        // Random overlapping fragments that together cover everything, fed in random order.
        std::vector<std::pair<std::size_t, std::size_t>> frags;
        for (std::size_t at = 0; at < ch.size();) {
            const std::size_t len = 1 + rng() % 60;
            const std::size_t back = std::min<std::size_t>(at, rng() % 20);
            const std::size_t b = at - back;
            const std::size_t e = std::min(ch.size(), at + len);
            frags.emplace_back(b, e);
            at = e;
        }
        frags.push_back(frags[rng() % frags.size()]); // a duplicate
        std::shuffle(frags.begin(), frags.end(), rng);
        auto r = make();
        for (const auto& [b, e] : frags) {
            EXPECT_EQ(r->add(b, ch.subspan(b, e - b)), ParseStatus::kOk);
        }
        expect_hello(*r, ch);
    }
}

TEST(QuicCryptoReassembler, GapStopsContiguous) {
    const Bytes ch = rfc_client_hello();
    auto r = make();
    r->add(0, ch.first(10));
    r->add(11, ch.subspan(11));
    EXPECT_EQ(r->contiguous().size(), 10u);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kNeedMore);
    r->add(10, ch.subspan(10, 1));
    expect_hello(*r, ch);
}

TEST(QuicCryptoReassembler, WordBoundaries) {
    // Fragments ending and starting exactly on and around 64-bit bitmap words.
    std::vector<std::uint8_t> data(1000);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i * 7);
    }
    for (std::size_t cut : {63u, 64u, 65u, 127u, 128u, 129u, 191u}) {
        auto r = make();
        r->add(cut, Bytes(data).subspan(cut));
        EXPECT_EQ(r->contiguous().size(), 0u);
        r->add(0, Bytes(data).first(cut));
        EXPECT_EQ(r->contiguous().size(), data.size()) << cut;
    }
}

TEST(QuicCryptoReassembler, BeyondCapacityIsCountedAndDropped) {
    constexpr std::size_t kCap = QuicCryptoReassembler::kCapacity;
    std::vector<std::uint8_t> data(kCap + 100, 0x42);
    auto r = make();
    EXPECT_EQ(r->add(kCap, Bytes(data).first(10)), ParseStatus::kTooLarge);
    EXPECT_EQ(r->bytes_beyond_capacity(), 10u);
    EXPECT_EQ(r->add(UINT64_MAX - 5, Bytes(data).first(3)), ParseStatus::kTooLarge);
    EXPECT_EQ(r->bytes_beyond_capacity(), 13u);
    // Straddling the end: the part inside is kept.
    EXPECT_EQ(r->add(kCap - 50, Bytes(data).first(100)), ParseStatus::kTooLarge);
    EXPECT_EQ(r->bytes_beyond_capacity(), 63u);
    EXPECT_EQ(r->contiguous().size(), 0u);
    EXPECT_EQ(r->add(0, Bytes(data).first(kCap - 50)), ParseStatus::kOk);
    EXPECT_EQ(r->contiguous().size(), kCap);
}

TEST(QuicCryptoReassembler, NotAClientHello) {
    auto r = make();
    const std::uint8_t server_hello[] = {0x02, 0x00, 0x00, 0x01, 0x00};
    r->add(0, server_hello);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kMalformed);
    EXPECT_TRUE(r->client_hello().empty());
    r->reset();
    const std::uint8_t first_byte_only[] = {0x16};
    r->add(0, first_byte_only);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kMalformed);
}

TEST(QuicCryptoReassembler, DeclaredLengthBeyondCapacity) {
    auto r = make();
    const std::uint32_t body = QuicCryptoReassembler::kCapacity - 3; // 4 + body > capacity
    const std::uint8_t hdr[] = {0x01, static_cast<std::uint8_t>(body >> 16), static_cast<std::uint8_t>(body >> 8),
                                static_cast<std::uint8_t>(body)};
    r->add(0, hdr);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kTooLarge);
    r->reset();
    const std::uint32_t fits = QuicCryptoReassembler::kCapacity - 4;
    const std::uint8_t hdr2[] = {0x01, static_cast<std::uint8_t>(fits >> 16), static_cast<std::uint8_t>(fits >> 8),
                                 static_cast<std::uint8_t>(fits)};
    r->add(0, hdr2);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kNeedMore);
    std::vector<std::uint8_t> body_bytes(fits, 0x11);
    r->add(4, body_bytes);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kOk);
    EXPECT_EQ(r->client_hello().size(), QuicCryptoReassembler::kCapacity);
}

TEST(QuicCryptoReassembler, ResetForgetsEverything) {
    const Bytes ch = rfc_client_hello();
    auto r = make();
    r->add(0, ch);
    r->add(QuicCryptoReassembler::kCapacity, ch);
    r->reset();
    EXPECT_TRUE(r->contiguous().empty());
    EXPECT_EQ(r->bytes_beyond_capacity(), 0u);
    EXPECT_EQ(r->client_hello_status(), ParseStatus::kNeedMore);
    r->add(1, ch.subspan(1));
    EXPECT_EQ(r->contiguous().size(), 0u);
}

} // namespace
} // namespace wt::parsers
