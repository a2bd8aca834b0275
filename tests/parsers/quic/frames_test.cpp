// parsers/quic/frames: the Initial frame walk (RFC 9000 sections 12.4 and 19).
#include "parsers/quic/frames.hpp"

#include "tests/parsers/quic/quic_test_util.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace wt::parsers {
namespace {

using test::put_crypto;
using test::put_varint;
using Seen = std::vector<std::pair<std::uint64_t, std::string>>;

ParseStatus walk(Bytes payload, Seen& seen) {
    seen.clear();
    return for_each_crypto_frame(payload, [&seen](std::uint64_t off, Bytes data) {
        seen.emplace_back(off, std::string(as_string_view(data)));
    });
}

Bytes str(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// Every frame type an Initial may carry, the way Chrome mixes them.
std::vector<std::uint8_t> mixed_payload() {
    std::vector<std::uint8_t> p;
    p.push_back(0x01);                    // PING
    put_crypto(p, 5, str("world"));       // CRYPTO out of order
    p.insert(p.end(), 3, 0x00);           // PADDING x3
    p.push_back(0x03);                    // ACK with ECN counts (RFC 9000 section 19.3)
    put_varint(p, 1000);                  //   Largest Acknowledged
    put_varint(p, 25);                    //   ACK Delay
    put_varint(p, 2);                     //   ACK Range Count
    put_varint(p, 3);                     //   First ACK Range
    put_varint(p, 1), put_varint(p, 2);   //   Gap, ACK Range Length
    put_varint(p, 70), put_varint(p, 1);  //   Gap, ACK Range Length
    put_varint(p, 1), put_varint(p, 2), put_varint(p, 300); // ECT0, ECT1, ECN-CE
    p.push_back(0x02);                    // ACK without ECN
    put_varint(p, 0), put_varint(p, 0), put_varint(p, 0), put_varint(p, 0);
    put_crypto(p, 0, str("hello"));       // CRYPTO
    p.push_back(0x1c);                    // CONNECTION_CLOSE (transport)
    put_varint(p, 0x0a), put_varint(p, 0x06), put_varint(p, 3);
    p.insert(p.end(), {'b', 'y', 'e'});
    p.insert(p.end(), 40, 0x00);          // trailing PADDING
    return p;
}

TEST(QuicFrames, MixedInitialPayload) {
    const auto p = mixed_payload();
    Seen seen;
    ASSERT_EQ(walk(p, seen), ParseStatus::kOk);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], (std::pair<std::uint64_t, std::string>{5, "world"}));
    EXPECT_EQ(seen[1], (std::pair<std::uint64_t, std::string>{0, "hello"}));
}

TEST(QuicFrames, EmptyAndAllPadding) {
    Seen seen;
    EXPECT_EQ(walk({}, seen), ParseStatus::kOk);
    const std::vector<std::uint8_t> pad(1200, 0);
    EXPECT_EQ(walk(pad, seen), ParseStatus::kOk);
    EXPECT_TRUE(seen.empty());
}

TEST(QuicFrames, EveryTruncationOfACryptoFrame) {
    std::vector<std::uint8_t> p;
    put_crypto(p, 300, str("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"));
    Seen seen;
    ASSERT_EQ(walk(p, seen), ParseStatus::kOk);
    for (std::size_t n = 1; n < p.size(); ++n) {
        EXPECT_EQ(walk(Bytes(p).first(n), seen), ParseStatus::kTruncated) << n;
        EXPECT_TRUE(seen.empty());
    }
}

TEST(QuicFrames, EveryTruncationOfAnAck) {
    std::vector<std::uint8_t> p = {0x03};
    for (std::uint64_t v : {100000u, 20u, 1u, 2u, 3u, 4u, 5u, 6u, 7u}) {
        put_varint(p, v);
    }
    Seen seen;
    ASSERT_EQ(walk(p, seen), ParseStatus::kOk);
    for (std::size_t n = 1; n < p.size(); ++n) {
        EXPECT_EQ(walk(Bytes(p).first(n), seen), ParseStatus::kTruncated) << n;
    }
}

TEST(QuicFrames, ForbiddenFrameStopsButKeepsEarlierCrypto) {
    for (std::uint8_t type : {0x04 /*RESET_STREAM*/, 0x08 /*STREAM*/, 0x1d /*app CLOSE*/, 0x1e /*HANDSHAKE_DONE*/,
                              0x30 /*DATAGRAM, RFC 9221*/}) {
        std::vector<std::uint8_t> p;
        put_crypto(p, 0, str("abc"));
        p.push_back(type);
        p.insert(p.end(), 10, 0x01);
        put_crypto(p, 3, str("def"));
        Seen seen;
        EXPECT_EQ(walk(p, seen), ParseStatus::kMalformed) << int(type);
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].second, "abc");
    }
}

TEST(QuicFrames, CryptoEndBeyondVarintRange) {
    // RFC 9000 section 19.6: offset + length must not exceed 2^62 - 1.
    std::vector<std::uint8_t> p;
    put_crypto(p, (std::uint64_t{1} << 62) - 3, str("abc"));
    Seen seen;
    EXPECT_EQ(walk(p, seen), ParseStatus::kMalformed);
    p.clear();
    put_crypto(p, (std::uint64_t{1} << 62) - 4, str("abc"));
    EXPECT_EQ(walk(p, seen), ParseStatus::kOk);
}

TEST(QuicFrames, AckRangeCountBound) {
    std::vector<std::uint8_t> p = {0x02};
    put_varint(p, 10), put_varint(p, 0), put_varint(p, limits::kMaxQuicAckRanges + 1), put_varint(p, 0);
    Seen seen;
    EXPECT_EQ(walk(p, seen), ParseStatus::kTooLarge);
    // A huge count with no ranges behind it must not loop.
    p = {0x02};
    put_varint(p, 10), put_varint(p, 0), put_varint(p, (std::uint64_t{1} << 62) - 1), put_varint(p, 0);
    EXPECT_EQ(walk(p, seen), ParseStatus::kTooLarge);
    p = {0x02};
    put_varint(p, 10), put_varint(p, 0), put_varint(p, limits::kMaxQuicAckRanges), put_varint(p, 0);
    for (std::size_t i = 0; i < limits::kMaxQuicAckRanges; ++i) {
        put_varint(p, 0), put_varint(p, 0);
    }
    EXPECT_EQ(walk(p, seen), ParseStatus::kOk);
}

TEST(QuicFrames, CryptoFrameCountBound) {
    std::vector<std::uint8_t> p;
    for (std::size_t i = 0; i < limits::kMaxQuicCryptoFrames; ++i) {
        put_crypto(p, i, str("x"));
    }
    Seen seen;
    EXPECT_EQ(walk(p, seen), ParseStatus::kOk);
    EXPECT_EQ(seen.size(), limits::kMaxQuicCryptoFrames);
    put_crypto(p, 99, str("y"));
    EXPECT_EQ(walk(p, seen), ParseStatus::kTooLarge);
    EXPECT_EQ(seen.size(), limits::kMaxQuicCryptoFrames);
}

TEST(QuicFrames, FrameCountBound) {
    std::vector<std::uint8_t> p(limits::kMaxQuicInitialFrames, 0x01); // PINGs
    Seen seen;
    EXPECT_EQ(walk(p, seen), ParseStatus::kOk);
    p.push_back(0x01);
    EXPECT_EQ(walk(p, seen), ParseStatus::kTooLarge);
    // PADDING runs count once each, so long padding never hits the bound.
    std::vector<std::uint8_t> q;
    for (std::size_t i = 0; i < limits::kMaxQuicInitialFrames / 2; ++i) {
        q.push_back(0x01);
        q.insert(q.end(), 50, 0x00);
    }
    EXPECT_EQ(walk(q, seen), ParseStatus::kOk);
}

TEST(QuicFrames, ReaderDoesNotAdvanceOnFailure) {
    std::vector<std::uint8_t> p;
    put_crypto(p, 0, str("abcdef"));
    p.pop_back();
    ByteReader r(p);
    QuicInitialFrame f;
    EXPECT_EQ(read_initial_frame(r, f), ParseStatus::kTruncated);
    EXPECT_EQ(r.remaining(), p.size());
}

} // namespace
} // namespace wt::parsers
