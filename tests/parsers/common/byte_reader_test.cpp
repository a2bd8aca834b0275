#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"

#include <array>
#include <gtest/gtest.h>

namespace wt::parsers {
namespace {

TEST(ByteReader, ReadsBigEndianIntegers) {
    const std::array<std::uint8_t, 9> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    ByteReader r(data);
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint32_t d = 0;
    ASSERT_TRUE(r.read_u8(a));
    ASSERT_TRUE(r.read_u16(b));
    ASSERT_TRUE(r.read_u24(c));
    EXPECT_EQ(a, 0x01);
    EXPECT_EQ(b, 0x0203);
    EXPECT_EQ(c, 0x040506u);
    EXPECT_FALSE(r.read_u32(d));
    EXPECT_EQ(r.remaining(), 3u) << "a failed read must not advance";
    EXPECT_EQ(d, 0u) << "a failed read must not write";
}

TEST(ByteReader, QuicVarintsFromRfc9000AppendixA1) {
    // RFC 9000 Appendix A.1 sample encodings.
    const std::array<std::uint8_t, 8> eight{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
    const std::array<std::uint8_t, 4> four{0x9d, 0x7f, 0x3e, 0x7d};
    const std::array<std::uint8_t, 2> two{0x7b, 0xbd};
    const std::array<std::uint8_t, 1> one{0x25};
    std::uint64_t v = 0;
    ByteReader r8(eight);
    ASSERT_TRUE(r8.read_quic_varint(v));
    EXPECT_EQ(v, 151288809941952652ull);
    ByteReader r4(four);
    ASSERT_TRUE(r4.read_quic_varint(v));
    EXPECT_EQ(v, 494878333u);
    ByteReader r2(two);
    ASSERT_TRUE(r2.read_quic_varint(v));
    EXPECT_EQ(v, 15293u);
    ByteReader r1(one);
    ASSERT_TRUE(r1.read_quic_varint(v));
    EXPECT_EQ(v, 37u);
    // Every truncation of the 8-byte form fails without moving.
    for (std::size_t n = 0; n < eight.size(); ++n) {
        ByteReader t(Bytes(eight).first(n));
        EXPECT_FALSE(t.read_quic_varint(v)) << n;
        EXPECT_EQ(t.remaining(), n);
    }
}

TEST(ByteReader, PrefixedVectorCannotOverrunParent) {
    // u16 length 5 but only 3 bytes follow.
    const std::array<std::uint8_t, 5> bad{0x00, 0x05, 0xaa, 0xbb, 0xcc};
    ByteReader r(bad);
    EXPECT_FALSE(r.read_prefixed_u16().has_value());
    EXPECT_EQ(r.remaining(), bad.size());

    const std::array<std::uint8_t, 6> good{0x02, 0xaa, 0xbb, 0x01, 0xcc, 0xdd};
    ByteReader g(good);
    auto first = g.read_prefixed_u8();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->remaining(), 2u);
    std::uint32_t overrun = 0;
    EXPECT_FALSE(first->read_u24(overrun)) << "child must stop at its own length";
    auto second = g.read_prefixed_u8();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->remaining(), 1u);
    EXPECT_EQ(g.remaining(), 1u);
}

TEST(ByteReader, SkipAndReadBytesRespectBounds) {
    const std::array<std::uint8_t, 4> data{1, 2, 3, 4};
    ByteReader r(data);
    EXPECT_FALSE(r.skip(5));
    EXPECT_TRUE(r.skip(1));
    Bytes out;
    EXPECT_FALSE(r.read_bytes(4, out));
    ASSERT_TRUE(r.read_bytes(3, out));
    EXPECT_EQ(out[0], 2);
    EXPECT_TRUE(r.empty());
}

TEST(FixedString, TruncatesAndReports) {
    FixedString<4> s;
    EXPECT_TRUE(s.assign("abcd"));
    EXPECT_FALSE(s.assign("abcdef"));
    EXPECT_EQ(s.view(), "abcd");
    s.clear();
    EXPECT_TRUE(s.append("ab"));
    EXPECT_FALSE(s.append("xyz"));
    EXPECT_EQ(s.view(), "abxy");
    EXPECT_FALSE(s.push_back('z'));
}

} // namespace
} // namespace wt::parsers
