// parsers/quic/initial: versions, long header, Initial keys, header protection + AEAD.
#include "parsers/quic/initial.hpp"

#include "tests/parsers/quic/quic_test_util.hpp"
#include "tests/parsers/quic/vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace wt::parsers {
namespace {

namespace tv = test_vectors;
using test::from_hex;

const std::vector<std::uint8_t> kRfcDcid = from_hex("8394c8f03e515708");

std::vector<std::uint8_t> to_vec(Bytes b) { return {b.begin(), b.end()}; }
template <std::size_t N>
std::vector<std::uint8_t> to_vec(const std::array<std::uint8_t, N>& a) { return {a.begin(), a.end()}; }

// --- versions --------------------------------------------------------------------------

TEST(QuicVersion, NdpiSpelling) {
    EXPECT_EQ(quic_version_name(0x00000001), "V-1");
    EXPECT_EQ(quic_version_name(0x6b3343cf), "V-2");
    EXPECT_EQ(quic_version_name(0xff00001d), "Draft-29");
    EXPECT_EQ(quic_version_name(0xff00001b), "Draft-27");
    EXPECT_EQ(quic_version_name(0xff000017), "Draft-23");
    EXPECT_EQ(quic_version_name(0xff000022), "Draft-34");
    EXPECT_EQ(quic_version_name(0xff000000), "Draft-0");
    EXPECT_EQ(quic_version_name(0xff0000ff), "Draft-255");
    EXPECT_EQ(quic_version_name(0xfaceb001), "MVFST-22");
    EXPECT_EQ(quic_version_name(0xfaceb002), "MVFST-27");
    EXPECT_EQ(quic_version_name(0xfaceb00e), "MVFST-EXP");
    EXPECT_EQ(quic_version_name(0x51303335), "Q035");
    EXPECT_EQ(quic_version_name(0x54303530), "T050");
    EXPECT_EQ(quic_version_name(0x1a2a3a4a), "Ver-Negotiation");
    EXPECT_EQ(quic_version_name(0x709a50c4), "V-2-Draft");
    EXPECT_EQ(quic_version_name(0x12345678), "Unknown");
}

TEST(QuicVersion, Supported) {
    for (std::uint32_t v : {0x00000001u, 0x6b3343cfu, 0x709a50c4u, 0xfaceb001u, 0xfaceb002u, 0xfaceb00eu}) {
        EXPECT_TRUE(quic_version_supported(v)) << std::hex << v;
    }
    for (std::uint32_t d = 23; d <= 34; ++d) {
        EXPECT_TRUE(quic_version_supported(0xff000000u | d)) << d;
    }
    for (std::uint32_t v : {0x00000000u, 0xff000016u, 0xff000023u, 0x51303335u, 0x1a2a3a4au, 0x00000002u}) {
        EXPECT_FALSE(quic_version_supported(v)) << std::hex << v;
    }
}

// --- keys: RFC 9001 A.1, RFC 9369 A.1 ----------------------------------------------------

TEST(QuicKeys, Rfc9001ClientAndServer) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    EXPECT_TRUE(k.valid);
    EXPECT_EQ(k.version, kQuicVersion1);
    EXPECT_EQ(to_vec(k.key), from_hex("1f369613dd76d5467730efcbe3b1a22d"));
    EXPECT_EQ(to_vec(k.iv), from_hex("fa044b2f42a3fd3b46fb255c"));
    EXPECT_EQ(to_vec(k.hp), from_hex("9f50449e04a0e810283a1e9933adedd2"));
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, false, k));
    EXPECT_EQ(to_vec(k.key), from_hex("cf3a5331653c364c88f0f379b6067e37"));
    EXPECT_EQ(to_vec(k.iv), from_hex("0ac1493ca1905853b0bba03e"));
    EXPECT_EQ(to_vec(k.hp), from_hex("c206b8d9b9f0f37644430b490eeaa314"));
}

TEST(QuicKeys, Rfc9369ClientAndServer) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion2, kRfcDcid, true, k));
    EXPECT_EQ(to_vec(k.key), from_hex("8b1a0bc121284290a29e0971b5cd045d"));
    EXPECT_EQ(to_vec(k.iv), from_hex("91f73e2351d8fa91660e909f"));
    EXPECT_EQ(to_vec(k.hp), from_hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    ASSERT_TRUE(derive_initial_keys(kQuicVersion2, kRfcDcid, false, k));
    EXPECT_EQ(to_vec(k.key), from_hex("82db637861d55e1d011f19ea71d5d2a7"));
    EXPECT_EQ(to_vec(k.iv), from_hex("dd13c276499c0249d3310652"));
    EXPECT_EQ(to_vec(k.hp), from_hex("edf6d05c83121201b436e16877593c3a"));
}

TEST(QuicKeys, RefusesUnknownVersionAndLongDcid) {
    QuicInitialKeys k;
    k.valid = true;
    EXPECT_FALSE(derive_initial_keys(0x12345678, kRfcDcid, true, k));
    EXPECT_FALSE(k.valid);
    const std::vector<std::uint8_t> dcid21(21, 0xab);
    EXPECT_FALSE(derive_initial_keys(kQuicVersion1, dcid21, true, k));
    const std::vector<std::uint8_t> dcid20(20, 0xab);
    EXPECT_TRUE(derive_initial_keys(kQuicVersion1, dcid20, true, k));
    EXPECT_TRUE(derive_initial_keys(kQuicVersion1, Bytes{}, true, k)); // zero-length DCID after Retry
}

// --- long header -------------------------------------------------------------------------

TEST(QuicLongHeader, Rfc9001ClientInitial) {
    QuicLongHeader h;
    ASSERT_EQ(parse_quic_long_header(tv::kRfc9001ClientInitial, h), ParseStatus::kOk);
    EXPECT_EQ(h.version, kQuicVersion1);
    EXPECT_EQ(h.type, QuicPacketType::kInitial);
    EXPECT_EQ(to_vec(h.dcid), kRfcDcid);
    EXPECT_TRUE(h.scid.empty());
    EXPECT_TRUE(h.token.empty());
    EXPECT_EQ(h.length, 0x49eu);
    EXPECT_EQ(h.pn_offset, 18u);
    EXPECT_EQ(h.packet_length, 1200u);
}

TEST(QuicLongHeader, Rfc9369ClientInitialUsesV2TypeBits) {
    QuicLongHeader h;
    ASSERT_EQ(parse_quic_long_header(tv::kRfc9369ClientInitial, h), ParseStatus::kOk);
    EXPECT_EQ(h.version, kQuicVersion2);
    EXPECT_EQ(h.type, QuicPacketType::kInitial); // 0xd7: type bits 0b01
    EXPECT_EQ(h.packet_length, 1200u);
    // The same bits mean 0-RTT in v1.
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9369ClientInitial), std::end(tv::kRfc9369ClientInitial));
    p[1] = 0, p[2] = 0, p[3] = 0, p[4] = 1;
    ASSERT_EQ(parse_quic_long_header(p, h), ParseStatus::kOk);
    EXPECT_EQ(h.type, QuicPacketType::kZeroRtt);
}

TEST(QuicLongHeader, EveryTruncationIsTruncated) {
    const Bytes full(tv::kRfc9001ClientInitial);
    for (std::size_t n = 0; n < full.size(); ++n) {
        QuicLongHeader h;
        EXPECT_EQ(parse_quic_long_header(full.first(n), h), ParseStatus::kTruncated) << n;
    }
}

TEST(QuicLongHeader, TrailingBytesAreTheNextPacket) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    p.insert(p.end(), 77, 0xee);
    QuicLongHeader h;
    ASSERT_EQ(parse_quic_long_header(p, h), ParseStatus::kOk);
    EXPECT_EQ(h.packet_length, 1200u);
}

TEST(QuicLongHeader, ConnectionIdLengths) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    QuicLongHeader h;
    p[5] = 21; // DCID length > 20 in v1 (RFC 9000 section 17.2)
    EXPECT_EQ(parse_quic_long_header(p, h), ParseStatus::kMalformed);
    p[5] = 255;
    EXPECT_EQ(parse_quic_long_header(p, h), ParseStatus::kMalformed);
    // RFC 8999: an unknown version may use up to 255; we report it, we do not judge it.
    p[1] = 0x12;
    EXPECT_EQ(parse_quic_long_header(p, h), ParseStatus::kUnsupported);
    EXPECT_EQ(h.dcid.size(), 255u);
    std::vector<std::uint8_t> q(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    q[14] = 21; // SCID length
    EXPECT_EQ(parse_quic_long_header(q, h), ParseStatus::kMalformed);
}

TEST(QuicLongHeader, NotLongOrNotKnown) {
    QuicLongHeader h;
    const std::vector<std::uint8_t> short_hdr = {0x41, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(parse_quic_long_header(short_hdr, h), ParseStatus::kUnsupported);
    const std::vector<std::uint8_t> vn = {0x80, 0, 0, 0, 0, 1, 0xaa, 1, 0xbb, 0, 0, 0, 1};
    EXPECT_EQ(parse_quic_long_header(vn, h), ParseStatus::kUnsupported);
    EXPECT_EQ(h.type, QuicPacketType::kVersionNegotiation);
    std::vector<std::uint8_t> greased(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    greased[1] = 0x1a, greased[2] = 0x2a, greased[3] = 0x3a, greased[4] = 0x4a;
    EXPECT_EQ(parse_quic_long_header(greased, h), ParseStatus::kUnsupported);
    EXPECT_EQ(h.version, 0x1a2a3a4au);
    EXPECT_EQ(to_vec(h.dcid), kRfcDcid);
}

TEST(QuicLongHeader, FixedBitMayBeGreased) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    p[0] &= ~0x40; // RFC 9287
    QuicLongHeader h;
    EXPECT_EQ(parse_quic_long_header(p, h), ParseStatus::kOk);
}

TEST(QuicLongHeader, RetryTakesTheRestOfTheDatagram) {
    // v1 Retry: 0xf0, version, DCID, SCID, token, 16-byte integrity tag.
    std::vector<std::uint8_t> p = {0xf0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
    p.insert(p.end(), 40, 0x5a);
    QuicLongHeader h;
    ASSERT_EQ(parse_quic_long_header(p, h), ParseStatus::kOk);
    EXPECT_EQ(h.type, QuicPacketType::kRetry);
    EXPECT_EQ(h.packet_length, p.size());
}

TEST(QuicLongHeader, TokenLengthBeyondPacket) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    p[15] = 0x7f; // token length 0x3fxx as a 2-byte varint: larger than the rest
    QuicLongHeader h;
    EXPECT_EQ(parse_quic_long_header(p, h), ParseStatus::kTruncated);
}

// --- decryption: RFC 9001 A.2, RFC 9369 A.2 -----------------------------------------------

class QuicDecrypt : public ::testing::Test {
protected:
    void check_a2(Bytes packet, std::uint32_t version) {
        QuicInitialKeys k;
        ASSERT_TRUE(derive_initial_keys(version, kRfcDcid, true, k));
        const std::uint64_t failures_before = dec.auth_failures();
        QuicInitialPacket out;
        ASSERT_EQ(dec.decrypt(k, packet, plain, out), ParseStatus::kOk);
        EXPECT_EQ(out.packet_number, 2u);
        EXPECT_EQ(out.packet_number_length, 4u);
        ASSERT_EQ(out.payload.size(), sizeof(tv::kA2PlaintextPrefix) + tv::kA2PaddingLength);
        EXPECT_TRUE(std::equal(std::begin(tv::kA2PlaintextPrefix), std::end(tv::kA2PlaintextPrefix),
                               out.payload.begin()));
        EXPECT_TRUE(std::all_of(out.payload.begin() + sizeof(tv::kA2PlaintextPrefix), out.payload.end(),
                                [](std::uint8_t b) { return b == 0; }));
        EXPECT_EQ(out.payload.data(), plain.data()); // a view into the caller's buffer
        EXPECT_EQ(dec.auth_failures(), failures_before);
    }

    QuicInitialDecryptor dec;
    std::vector<std::uint8_t> plain = std::vector<std::uint8_t>(2048);
};

TEST_F(QuicDecrypt, Rfc9001ClientInitial) {
    ASSERT_TRUE(dec.ready());
    check_a2(tv::kRfc9001ClientInitial, kQuicVersion1);
}

TEST_F(QuicDecrypt, Rfc9369ClientInitial) { check_a2(tv::kRfc9369ClientInitial, kQuicVersion2); }

TEST_F(QuicDecrypt, RepeatedOnOneDecryptor) {
    for (int i = 0; i < 3; ++i) {
        check_a2(tv::kRfc9001ClientInitial, kQuicVersion1);
        check_a2(tv::kRfc9369ClientInitial, kQuicVersion2);
    }
}

TEST_F(QuicDecrypt, TrailingBytesIgnored) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    p.insert(p.end(), 33, 0x77);
    check_a2(p, kQuicVersion1);
}

TEST_F(QuicDecrypt, EveryTruncation) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    const Bytes full(tv::kRfc9001ClientInitial);
    for (std::size_t n = 0; n < full.size(); ++n) {
        QuicInitialPacket out;
        EXPECT_EQ(dec.decrypt(k, full.first(n), plain, out), ParseStatus::kTruncated) << n;
    }
    EXPECT_EQ(dec.auth_failures(), 0u);
}

TEST_F(QuicDecrypt, EveryTagBitFlipFailsAuthentication) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    std::uint64_t failures = 0;
    for (std::size_t i = p.size() - 16; i < p.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            p[i] ^= static_cast<std::uint8_t>(1 << bit);
            QuicInitialPacket out;
            EXPECT_EQ(dec.decrypt(k, p, plain, out), ParseStatus::kMalformed);
            EXPECT_EQ(dec.auth_failures(), ++failures);
            EXPECT_TRUE(out.payload.empty());
            p[i] ^= static_cast<std::uint8_t>(1 << bit);
        }
    }
    check_a2(p, kQuicVersion1); // unchanged packet still decrypts; the counter is not reset
}

TEST_F(QuicDecrypt, HeaderOrCiphertextChangeFailsAuthentication) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    for (std::size_t at : {1u + 5u /*DCID*/, 17u /*Length*/, 30u /*ciphertext*/, 600u}) {
        std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
        if (at == 17) {
            p[at] ^= 0x01; // Length 0x49f: the packet is now one byte longer than the datagram
            QuicInitialPacket out;
            EXPECT_EQ(dec.decrypt(k, p, plain, out), ParseStatus::kTruncated);
            continue;
        }
        p[at] ^= 0x10;
        QuicInitialPacket out;
        EXPECT_EQ(dec.decrypt(k, p, plain, out), ParseStatus::kMalformed) << at;
    }
}

TEST_F(QuicDecrypt, WrongKeys) {
    QuicInitialKeys server;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, false, server));
    QuicInitialPacket out;
    EXPECT_EQ(dec.decrypt(server, tv::kRfc9001ClientInitial, plain, out), ParseStatus::kMalformed);
    QuicInitialKeys v2;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion2, kRfcDcid, true, v2));
    EXPECT_EQ(dec.decrypt(v2, tv::kRfc9001ClientInitial, plain, out), ParseStatus::kUnsupported);
    QuicInitialKeys invalid;
    EXPECT_EQ(dec.decrypt(invalid, tv::kRfc9001ClientInitial, plain, out), ParseStatus::kUnsupported);
    EXPECT_EQ(dec.auth_failures(), 1u);
}

TEST_F(QuicDecrypt, PlaintextBufferTooSmall) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    QuicInitialPacket out;
    EXPECT_EQ(dec.decrypt(k, tv::kRfc9001ClientInitial, std::span(plain).first(1161), out), ParseStatus::kTooLarge);
    EXPECT_EQ(dec.decrypt(k, tv::kRfc9001ClientInitial, std::span(plain).first(1162), out), ParseStatus::kOk);
}

TEST_F(QuicDecrypt, TooShortToSample) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    // Length = 19: one byte short of packet number (4) + sample (16).
    // Bytes 0-15 are the header up to the Token Length; then a 1-byte Length varint.
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::begin(tv::kRfc9001ClientInitial) + 16);
    p.push_back(19);
    p.insert(p.end(), 19, 0xaa);
    QuicLongHeader h;
    ASSERT_EQ(parse_quic_long_header(p, h), ParseStatus::kOk);
    ASSERT_EQ(h.length, 19u);
    QuicInitialPacket out;
    EXPECT_EQ(dec.decrypt(k, p, plain, out), ParseStatus::kMalformed);
    EXPECT_EQ(dec.auth_failures(), 0u); // rejected before any AEAD work
}

TEST_F(QuicDecrypt, ProtectedByTestHelperRoundTrips) {
    // Cross-check of the test helper used elsewhere: v1, v2 and a draft version.
    for (std::uint32_t version : {kQuicVersion1, kQuicVersion2, 0xff00001du, 0xff00001bu, kQuicVersionMvfst22}) {
        QuicInitialKeys k;
        ASSERT_TRUE(derive_initial_keys(version, kRfcDcid, true, k));
        std::vector<std::uint8_t> frames = {0x01}; // PING
        const auto p = test::protect_initial(k, kRfcDcid, {}, 7, frames);
        QuicInitialPacket out;
        ASSERT_EQ(dec.decrypt(k, p, plain, out), ParseStatus::kOk) << std::hex << version;
        EXPECT_EQ(out.packet_number, 7u);
        EXPECT_EQ(out.payload[0], 0x01);
    }
}

} // namespace
} // namespace wt::parsers
