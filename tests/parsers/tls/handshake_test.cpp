// tls_first_handshake / looks_like_tls_client_hello: recorded streams fed whole, per
// TCP segment and one byte at a time; hand-built record sequences.
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/client_hello.hpp"

#include "tests/support/alloc_counter.hpp"
#include "tls_builder.hpp"
#include "vectors.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wt::parsers {
namespace {

using test::Builder;
using test_vectors::kCaptures;

struct Result {
    ParseStatus status;
    Bytes message;
};

Result first(std::span<const std::uint8_t> stream, std::uint8_t type, std::span<std::uint8_t> scratch) {
    Result r{ParseStatus::kCount, {}};
    r.status = tls_first_handshake(stream, type, scratch, r.message);
    return r;
}

TEST(TlsRecords, CapturesWholeStream) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        const std::size_t before = wt::testing::allocation_count();
        const Result c = first(cap.client, 1, scratch);
        const Result s = first(cap.server, 2, scratch);
        EXPECT_EQ(wt::testing::allocation_count(), before);
        ASSERT_EQ(c.status, ParseStatus::kOk);
        EXPECT_EQ(c.message.size(), cap.client_hello_length);
        ASSERT_EQ(s.status, ParseStatus::kOk);
        EXPECT_EQ(s.message.size(), cap.server_hello_length);
        EXPECT_TRUE(looks_like_tls_client_hello(cap.client));
        EXPECT_FALSE(looks_like_tls_client_hello(cap.server));
        // Single-record hellos are returned in place, multi-record ones in scratch.
        const bool in_place = c.message.data() >= cap.client.data() &&
                              c.message.data() < cap.client.data() + cap.client.size();
        EXPECT_EQ(in_place, cap.name != "s_client_split_records");
        // Wrong expected type: kUnsupported.
        EXPECT_EQ(first(cap.client, 2, scratch).status, ParseStatus::kUnsupported);
    }
}

TEST(TlsRecords, SplitCaptureSpansRecordsAndSegments) {
    const auto* cap = &kCaptures[0];
    for (const auto& c : kCaptures) {
        if (c.name == "s_client_split_records") {
            cap = &c;
        }
    }
    ASSERT_EQ(cap->name, "s_client_split_records");
    EXPECT_GE(cap->client_segments.size(), 2u);
    EXPECT_GT(cap->client_hello_length, 512u); // -max_send_frag 512 in record.sh
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    // Feed per TCP segment: kNeedMore until the last one.
    std::size_t fed = 0;
    for (std::size_t i = 0; i < cap->client_segments.size(); ++i) {
        fed += cap->client_segments[i];
        const Result r = first(cap->client.first(fed), 1, scratch);
        if (i + 1 < cap->client_segments.size()) {
            EXPECT_EQ(r.status, ParseStatus::kNeedMore) << "segment " << i;
        } else {
            ASSERT_EQ(r.status, ParseStatus::kOk);
            TlsClientHello ch;
            ASSERT_EQ(parse_client_hello(r.message, ch), ParseStatus::kOk);
            EXPECT_EQ(ch.sni.view(), cap->sni);
        }
    }
    // Scratch smaller than the message: kTooLarge (as soon as it is known not to fit).
    std::vector<std::uint8_t> small(600);
    EXPECT_EQ(first(cap->client, 1, small).status, ParseStatus::kTooLarge);
}

TEST(TlsRecords, OneByteAtATime) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        for (const auto& [stream, type, len] :
             {std::tuple{cap.client, 1, cap.client_hello_length}, std::tuple{cap.server, 2, cap.server_hello_length}}) {
            std::size_t ok_at = 0;
            for (std::size_t n = 0; n <= stream.size(); ++n) {
                std::vector<std::uint8_t> prefix(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n));
                const Result r = first(prefix, static_cast<std::uint8_t>(type), scratch);
                if (r.status == ParseStatus::kOk) {
                    ok_at = n;
                    EXPECT_EQ(r.message.size(), len);
                    break;
                }
                ASSERT_EQ(r.status, ParseStatus::kNeedMore) << "at " << n;
            }
            EXPECT_GT(ok_at, 0u);
            // The message completes exactly when its last byte arrives, which is at or
            // before the end of its record.
            EXPECT_LE(ok_at, stream.size());
        }
    }
}

TEST(TlsRecords, TrailingBytesAfterTheHelloAreIgnored) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    for (const auto& cap : kCaptures) {
        std::vector<std::uint8_t> s(cap.client.begin(), cap.client.end());
        s.insert(s.end(), {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0xde, 0xad}); // CCS + garbage
        const Result r = first(s, 1, scratch);
        ASSERT_EQ(r.status, ParseStatus::kOk) << cap.name;
        EXPECT_EQ(r.message.size(), cap.client_hello_length);
    }
}

TEST(TlsRecords, NotTls) {
    std::vector<std::uint8_t> scratch(64);
    Bytes msg;
    const std::vector<std::vector<std::uint8_t>> cases = {
        {'G', 'E', 'T', ' ', '/'},                       // HTTP
        {0x80, 0x2e, 0x01, 0x00, 0x02},                  // SSLv2-compatible ClientHello
        {0x17, 0x03, 0x03, 0x00, 0x10},                  // application data first
        {0x16, 0x02},                                    // bad major version, 2 bytes suffice
        {0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0},   // ServerHello when ClientHello expected
        {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28},      // fatal alert first
    };
    for (const auto& c : cases) {
        EXPECT_EQ(tls_first_handshake(c, 1, scratch, msg), ParseStatus::kUnsupported);
        EXPECT_FALSE(looks_like_tls_client_hello(c));
    }
    EXPECT_EQ(tls_first_handshake(Bytes{}, 1, scratch, msg), ParseStatus::kNeedMore);
    const std::vector<std::uint8_t> one = {0x16};
    EXPECT_EQ(tls_first_handshake(one, 1, scratch, msg), ParseStatus::kNeedMore);
}

TEST(TlsRecords, MalformedRecordSequences) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    Bytes msg;
    const auto hello = test::client_hello([](Builder& b) { test::sni_ext(b, "split.example"); });
    auto recs = test::records(hello, 20);
    // A non-handshake record in the middle of the message.
    auto bad = recs;
    bad[25] = 0x17;
    EXPECT_EQ(tls_first_handshake(bad, 1, scratch, msg), ParseStatus::kMalformed);
    // Zero-length record (RFC 8446 section 5.1 forbids it for handshake).
    const std::vector<std::uint8_t> zero = {0x16, 0x03, 0x01, 0x00, 0x00};
    EXPECT_EQ(tls_first_handshake(zero, 1, scratch, msg), ParseStatus::kMalformed);
    // Record longer than 2^14 + 256.
    const std::vector<std::uint8_t> huge = {0x16, 0x03, 0x01, 0x41, 0x01};
    EXPECT_EQ(tls_first_handshake(huge, 1, scratch, msg), ParseStatus::kMalformed);
    // Warning alert of the wrong size.
    const std::vector<std::uint8_t> alert3 = {0x15, 0x03, 0x03, 0x00, 0x03, 0x01, 0x70, 0x00};
    EXPECT_EQ(tls_first_handshake(alert3, 1, scratch, msg), ParseStatus::kMalformed);
    // Handshake message larger than kMaxClientHelloSize: kTooLarge from its header alone.
    const std::vector<std::uint8_t> big = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00};
    EXPECT_EQ(tls_first_handshake(big, 1, scratch, msg), ParseStatus::kTooLarge);
}

TEST(TlsRecords, HeaderSplitAcrossRecordsAndWarningAlert) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    const auto hello = test::client_hello([](Builder& b) { test::sni_ext(b, "tiny.example"); });
    for (std::size_t frag : {1u, 2u, 3u, 5u, 64u}) {
        SCOPED_TRACE(frag);
        // Prefix a warning alert (as OpenSSL servers do) and use ServerHello-typed check
        // on a ClientHello: only the type byte changes the outcome.
        std::vector<std::uint8_t> s = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70};
        const auto recs = test::records(hello, frag);
        s.insert(s.end(), recs.begin(), recs.end());
        Bytes msg;
        const std::size_t records_needed = (hello.size() + frag - 1) / frag;
        const ParseStatus st = tls_first_handshake(s, 1, scratch, msg);
        if (records_needed > limits::kMaxTlsHandshakeRecords) {
            EXPECT_EQ(st, ParseStatus::kTooLarge);
            continue;
        }
        ASSERT_EQ(st, ParseStatus::kOk);
        ASSERT_EQ(msg.size(), hello.size());
        EXPECT_TRUE(std::equal(msg.begin(), msg.end(), hello.begin()));
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
        EXPECT_EQ(ch.sni.view(), "tiny.example");
    }
}

TEST(TlsRecords, LargePaddedHelloOverManyRecordsAndSegments) {
    // A 2 KB+ ClientHello (padding extension 21, RFC 7685), as post-quantum key shares
    // make them, in 512-byte records, delivered in 536-byte TCP segments.
    const auto hello = test::client_hello([](Builder& b) {
        test::sni_ext(b, "pq.example");
        test::alpn_ext(b, {"h2"});
        b.ext(0x0015, [](Builder& e) { e.fill(2000, 0); });
    });
    ASSERT_GT(hello.size(), 2000u);
    const auto stream = test::records(hello, 512);
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    for (std::size_t end = 536;; end += 536) {
        const std::size_t n = std::min(end, stream.size());
        Bytes msg;
        const ParseStatus st = tls_first_handshake(Bytes(stream).first(n), 1, scratch, msg);
        if (n < stream.size()) {
            ASSERT_EQ(st, ParseStatus::kNeedMore) << n;
            continue;
        }
        ASSERT_EQ(st, ParseStatus::kOk);
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
        EXPECT_EQ(ch.sni.view(), "pq.example");
        EXPECT_EQ(ch.extensions.count, 3);
        break;
    }
}

TEST(TlsRecords, LooksLikeClientHello) {
    const std::vector<std::uint8_t> ok = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    EXPECT_TRUE(looks_like_tls_client_hello(ok));
    EXPECT_TRUE(looks_like_tls_client_hello(Bytes(ok).first(6)));
    EXPECT_FALSE(looks_like_tls_client_hello(Bytes(ok).first(5)));
    auto bad = ok;
    bad[6] = 0x01; // uint24 length >= 64 KB
    EXPECT_FALSE(looks_like_tls_client_hello(bad));
    bad = ok;
    bad[9] = 0x02; // legacy_version major
    EXPECT_FALSE(looks_like_tls_client_hello(bad));
}

} // namespace
} // namespace wt::parsers
