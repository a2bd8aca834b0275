// parsers/quic/client_initial: whole client datagrams -> ClientHello, on RFC vectors, packets
// built here (split and reordered ClientHellos, coalescing) and real captures.
#include "parsers/quic/client_initial.hpp"

#include "tests/parsers/quic/quic_test_util.hpp"
#include "tests/parsers/quic/vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace wt::parsers {
namespace {

namespace tv = test_vectors;
using test::from_hex;

const std::vector<std::uint8_t> kRfcDcid = from_hex("8394c8f03e515708");

bool contains(Bytes hay, std::string_view needle) {
    return as_string_view(hay).find(needle) != std::string_view::npos;
}

void expect_client_hello_header(Bytes ch) {
    ASSERT_GE(ch.size(), 4u);
    EXPECT_EQ(ch[0], 0x01);
    EXPECT_EQ(ch.size(), 4u + ((std::size_t{ch[1]} << 16) | (std::size_t{ch[2]} << 8) | ch[3]));
}

class QuicClientInitial : public ::testing::Test {
protected:
    std::unique_ptr<QuicInitialDecryptor> dec = std::make_unique<QuicInitialDecryptor>();
    std::unique_ptr<QuicFlowState> state = std::make_unique<QuicFlowState>();
};

TEST(QuicFlowStateSize, AsDocumented) {
    EXPECT_LE(sizeof(QuicFlowState), limits::kMaxClientHelloSize + limits::kMaxClientHelloSize / 8 + 160);
}

TEST_F(QuicClientInitial, Rfc9001AndRfc9369) {
    for (const Bytes packet : {Bytes(tv::kRfc9001ClientInitial), Bytes(tv::kRfc9369ClientInitial)}) {
        state->reset();
        ASSERT_EQ(process_client_initial_datagram(*dec, packet, *state), ParseStatus::kOk);
        const Bytes ch = state->crypto.client_hello();
        expect_client_hello_header(ch);
        EXPECT_EQ(ch.size(), 241u);
        EXPECT_TRUE(contains(ch, "example.com"));
        EXPECT_EQ(std::vector<std::uint8_t>(state->original_dcid().begin(), state->original_dcid().end()), kRfcDcid);
        EXPECT_EQ(state->initials_decrypted, 1u);
        // Once complete, further datagrams are not even parsed.
        const std::uint8_t junk[] = {0xff};
        EXPECT_EQ(process_client_initial_datagram(*dec, junk, *state), ParseStatus::kOk);
    }
    EXPECT_EQ(state->version(), kQuicVersion2);
}

TEST_F(QuicClientInitial, EveryTruncationThenTheWholeDatagram) {
    const Bytes full(tv::kRfc9001ClientInitial);
    EXPECT_EQ(process_client_initial_datagram(*dec, {}, *state), ParseStatus::kUnsupported); // not QUIC
    for (std::size_t n = 1; n < full.size(); ++n) {
        const ParseStatus st = process_client_initial_datagram(*dec, full.first(n), *state);
        EXPECT_EQ(st, ParseStatus::kTruncated) << n;
    }
    EXPECT_EQ(state->initials_decrypted, 0u);
    EXPECT_EQ(process_client_initial_datagram(*dec, full, *state), ParseStatus::kOk);
}

TEST_F(QuicClientInitial, AuthenticationFailureIsCountedAndRecoverable) {
    std::vector<std::uint8_t> p(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    p.back() ^= 0x80;
    EXPECT_EQ(process_client_initial_datagram(*dec, p, *state), ParseStatus::kMalformed);
    EXPECT_EQ(state->decrypt_failures, 1u);
    EXPECT_EQ(dec->auth_failures(), 1u);
    p.back() ^= 0x80;
    EXPECT_EQ(process_client_initial_datagram(*dec, p, *state), ParseStatus::kOk);
}

TEST_F(QuicClientInitial, NotQuicInitials) {
    const std::vector<std::uint8_t> short_hdr(1200, 0x41);
    EXPECT_EQ(process_client_initial_datagram(*dec, short_hdr, *state), ParseStatus::kUnsupported);
    EXPECT_FALSE(looks_like_quic_initial(short_hdr));
    EXPECT_FALSE(looks_like_quic_initial({}));
    std::vector<std::uint8_t> dcid21(std::begin(tv::kRfc9001ClientInitial), std::end(tv::kRfc9001ClientInitial));
    dcid21[5] = 21;
    EXPECT_EQ(process_client_initial_datagram(*dec, dcid21, *state), ParseStatus::kMalformed);
    EXPECT_FALSE(looks_like_quic_initial(dcid21));
    EXPECT_TRUE(looks_like_quic_initial(tv::kRfc9001ClientInitial));
    EXPECT_TRUE(looks_like_quic_initial(tv::kRfc9369ClientInitial));
}

// Chrome: ClientHello split over two Initial packets, CRYPTO frames out of order inside each,
// the second packet arriving first.
TEST_F(QuicClientInitial, SplitClientHelloReorderedAcrossPackets) {
    const Bytes ch = Bytes(tv::kA2PlaintextPrefix).subspan(4, 241);
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    std::vector<std::uint8_t> f1;
    std::vector<std::uint8_t> f2;
    test::put_crypto(f1, 60, ch.subspan(60, 60));
    f1.push_back(0x01);
    f1.insert(f1.end(), 5, 0);
    test::put_crypto(f1, 0, ch.first(70)); // overlaps the 60..120 fragment
    test::put_crypto(f2, 200, ch.subspan(200));
    test::put_crypto(f2, 120, ch.subspan(120, 80));
    f2.insert(f2.end(), 900, 0);
    const auto p1 = test::protect_initial(k, kRfcDcid, {}, 0, f1);
    const auto p2 = test::protect_initial(k, kRfcDcid, {}, 1, f2);
    EXPECT_EQ(process_client_initial_datagram(*dec, p2, *state), ParseStatus::kNeedMore);
    EXPECT_EQ(state->crypto.contiguous().size(), 0u);
    EXPECT_EQ(process_client_initial_datagram(*dec, p1, *state), ParseStatus::kOk);
    EXPECT_EQ(state->initials_decrypted, 2u);
    const Bytes got = state->crypto.client_hello();
    ASSERT_EQ(got.size(), ch.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), ch.begin()));
}

TEST_F(QuicClientInitial, CoalescedWithOtherPacketsAndPadding) {
    const Bytes ch = Bytes(tv::kA2PlaintextPrefix).subspan(4, 241);
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    std::vector<std::uint8_t> f1;
    std::vector<std::uint8_t> f2;
    test::put_crypto(f1, 0, ch.first(100));
    test::put_crypto(f2, 100, ch.subspan(100));
    auto dgram = test::protect_initial(k, kRfcDcid, {}, 0, f1);
    // A v1 Handshake packet (type 0b10) we cannot decrypt: skipped by its Length.
    const std::vector<std::uint8_t> handshake = {0xe0, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
                                                 0, 25, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                 17, 18, 19, 20, 21, 22, 23, 24, 25};
    dgram.insert(dgram.end(), handshake.begin(), handshake.end());
    const auto p2 = test::protect_initial(k, kRfcDcid, {}, 1, f2);
    dgram.insert(dgram.end(), p2.begin(), p2.end());
    dgram.insert(dgram.end(), 300, 0x00); // zero padding after the last packet
    EXPECT_EQ(process_client_initial_datagram(*dec, dgram, *state), ParseStatus::kOk);
    EXPECT_EQ(state->initials_decrypted, 2u);
}

TEST_F(QuicClientInitial, StreamThatIsNotAClientHello) {
    QuicInitialKeys k;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k));
    std::vector<std::uint8_t> f;
    const std::uint8_t server_hello[] = {0x02, 0, 0, 2, 3, 3};
    test::put_crypto(f, 0, server_hello);
    const auto p = test::protect_initial(k, kRfcDcid, {}, 0, f);
    EXPECT_EQ(process_client_initial_datagram(*dec, p, *state), ParseStatus::kMalformed);
}

TEST_F(QuicClientInitial, NewVersionStartsOver) {
    QuicInitialKeys k1;
    ASSERT_TRUE(derive_initial_keys(kQuicVersion1, kRfcDcid, true, k1));
    std::vector<std::uint8_t> f;
    const Bytes ch = Bytes(tv::kA2PlaintextPrefix).subspan(4, 241);
    test::put_crypto(f, 0, ch.first(50));
    EXPECT_EQ(process_client_initial_datagram(*dec, test::protect_initial(k1, kRfcDcid, {}, 0, f), *state),
              ParseStatus::kNeedMore);
    EXPECT_EQ(state->crypto.contiguous().size(), 50u);
    // After Version Negotiation the client starts again in v2.
    EXPECT_EQ(process_client_initial_datagram(*dec, tv::kRfc9369ClientInitial, *state), ParseStatus::kOk);
    EXPECT_EQ(state->version(), kQuicVersion2);
}

// --- real captures ------------------------------------------------------------------------

TEST_F(QuicClientInitial, CorpusFlows) {
    for (const auto& flow : tv::kCorpusFlows) {
        SCOPED_TRACE(std::string(flow.id));
        state->reset();
        const bool decryptable = quic_version_supported(flow.version) && flow.id != "ndpi_mvfst22_decryption_error";
        ParseStatus st = ParseStatus::kNeedMore;
        for (std::size_t i = 0; i < flow.count && st != ParseStatus::kOk; ++i) {
            if (decryptable && i == 0) {
                EXPECT_TRUE(looks_like_quic_initial(flow.datagrams[i]));
            }
            st = process_client_initial_datagram(*dec, flow.datagrams[i], *state);
        }
        if (!decryptable) {
            EXPECT_NE(st, ParseStatus::kOk);
            continue;
        }
        ASSERT_EQ(st, ParseStatus::kOk);
        EXPECT_EQ(state->version(), flow.version);
        const Bytes ch = state->crypto.client_hello();
        expect_client_hello_header(ch);
        if (!flow.sni.empty()) {
            EXPECT_TRUE(contains(ch, flow.sni)) << flow.sni;
        }
    }
}

TEST_F(QuicClientInitial, GquicAndVersionNegotiationAreUnsupported) {
    for (const auto& flow : tv::kCorpusFlows) {
        if (flow.id != "ndpi_youtube_gquic" && flow.id != "ndpi_interop_vn") {
            continue;
        }
        SCOPED_TRACE(std::string(flow.id));
        EXPECT_FALSE(looks_like_quic_initial(flow.datagrams[0]));
        EXPECT_EQ(process_client_initial_datagram(*dec, flow.datagrams[0], *state), ParseStatus::kUnsupported);
    }
}

TEST_F(QuicClientInitial, Mvfst22DecryptionErrorLikeNdpi) {
    for (const auto& flow : tv::kCorpusFlows) {
        if (flow.id == "ndpi_mvfst22_decryption_error") {
            EXPECT_TRUE(looks_like_quic_initial(flow.datagrams[0]));
            EXPECT_EQ(process_client_initial_datagram(*dec, flow.datagrams[0], *state), ParseStatus::kMalformed);
            EXPECT_EQ(state->decrypt_failures, 1u);
        }
    }
}

const tv::CorpusFlow& flow_named(std::string_view id) {
    for (const auto& flow : tv::kCorpusFlows) {
        if (flow.id == id) {
            return flow;
        }
    }
    ADD_FAILURE() << id;
    return tv::kCorpusFlows[0];
}

// ngtcp2 with address validation: Initial, Retry from the server, Initial under the DCID the
// Retry chose. The second Initial alone must decrypt after keys from the first DCID.
TEST_F(QuicClientInitial, RetryKeysFromTheNewDcid) {
    const auto& flow = flow_named("ngtcp2_retry");
    ASSERT_EQ(flow.count, 2u);
    QuicLongHeader h0;
    QuicLongHeader h1;
    ASSERT_EQ(parse_quic_long_header(flow.datagrams[0], h0), ParseStatus::kOk);
    ASSERT_EQ(parse_quic_long_header(flow.datagrams[1], h1), ParseStatus::kOk);
    ASSERT_FALSE(std::equal(h0.dcid.begin(), h0.dcid.end(), h1.dcid.begin(), h1.dcid.end()));
    ASSERT_EQ(process_client_initial_datagram(*dec, flow.datagrams[0], *state), ParseStatus::kOk);
    state->crypto.reset(); // pretend the first Initial's CRYPTO data was never seen
    ASSERT_EQ(process_client_initial_datagram(*dec, flow.datagrams[1], *state), ParseStatus::kOk);
    EXPECT_EQ(state->key_changes, 1u);
    EXPECT_TRUE(std::equal(h1.dcid.begin(), h1.dcid.end(), state->original_dcid().begin(),
                           state->original_dcid().end()));
    EXPECT_TRUE(contains(state->crypto.client_hello(), flow.sni));
}

TEST_F(QuicClientInitial, FragmentsUnderDifferentDcids) {
    const auto& flow = flow_named("ndpi_frags_different_dcid");
    ASSERT_EQ(flow.count, 2u);
    EXPECT_EQ(process_client_initial_datagram(*dec, flow.datagrams[0], *state), ParseStatus::kNeedMore);
    EXPECT_EQ(process_client_initial_datagram(*dec, flow.datagrams[1], *state), ParseStatus::kOk);
    // The second Initial carries the server's CID as DCID, but its keys still come from the
    // first Initial's DCID (RFC 9001 section 5.2): no trial with other keys was needed.
    EXPECT_EQ(state->key_changes, 0u);
    EXPECT_EQ(state->original_dcid().size(), 8u);
    EXPECT_TRUE(contains(state->crypto.client_hello(), "cdnjs.cloudflare.com"));
}

TEST_F(QuicClientInitial, EveryTruncationOfRealDatagrams) {
    for (const auto& flow : tv::kCorpusFlows) {
        SCOPED_TRACE(std::string(flow.id));
        const Bytes d = flow.datagrams[0];
        QuicLongHeader h;
        // Only cuts inside the first packet: a cut after it may leave a complete Initial.
        const std::size_t end = parse_quic_long_header(d, h) == ParseStatus::kOk ? h.packet_length : d.size();
        for (std::size_t n = 0; n < end; n += 7) {
            state->reset();
            const ParseStatus st = process_client_initial_datagram(*dec, d.first(n), *state);
            EXPECT_NE(st, ParseStatus::kOk) << n;
        }
    }
}

} // namespace
} // namespace wt::parsers
