// JA4: the FoxIO spec's worked example, recorded captures (expected values computed by
// gen_vectors.py with hashlib from tshark's fields), and the spec's edge rules.
#include "parsers/tls/ja4.hpp"

#include "tests/support/alloc_counter.hpp"
#include "tls_builder.hpp"
#include "vectors.hpp"

#include "parsers/tls/handshake.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wt::parsers {
namespace {

using test::Builder;

std::string ja4_of(const std::vector<std::uint8_t>& msg, char transport = 't') {
    TlsClientHello ch;
    EXPECT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    FixedString<40> out;
    ja4_fingerprint(ch, transport, out);
    return std::string(out.view());
}

// JA4.md "Example": 15 ciphers, 16 extensions (SNI, ALPN h2), TLS 1.3, 8 sigalgs.
std::vector<std::uint8_t> spec_example(std::initializer_list<std::uint16_t> sigalgs) {
    return test::client_hello(
        [&](Builder& b) {
            const std::uint16_t order[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                                           0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
            for (const std::uint16_t t : order) {
                switch (t) {
                case 0x0000: test::sni_ext(b, "example.com"); break;
                case 0x0010: test::alpn_ext(b, {"h2", "http/1.1"}); break;
                case 0x002b: b.ext(t, [](Builder& e) { e.open(1).u16s({0x0304, 0x0303}).close(); }); break;
                case 0x000d: b.ext(t, [&](Builder& e) { e.open(2).u16s(sigalgs).close(); }); break;
                case 0x000a: b.ext(t, [](Builder& e) { e.open(2).u16s({0x001d}).close(); }); break;
                case 0x0033: b.ext(t, [](Builder& e) { e.open(2).u16(0x001d).open(2).fill(32, 1).close().close(); }); break;
                default: b.ext(t, [](Builder&) {}); break;
                }
            }
        },
        {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
         0x002f, 0x0035});
}

TEST(Ja4, SpecWorkedExample) {
    EXPECT_EQ(ja4_of(spec_example({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601})),
              "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

TEST(Ja4, RecordedCaptures) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    for (const auto& cap : test_vectors::kCaptures) {
        SCOPED_TRACE(cap.name);
        Bytes msg;
        ASSERT_EQ(tls_first_handshake(cap.client, 1, scratch, msg), ParseStatus::kOk);
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
        FixedString<40> out;
        const std::size_t before = wt::testing::allocation_count();
        ja4_fingerprint(ch, 't', out);
        EXPECT_EQ(wt::testing::allocation_count(), before);
        EXPECT_EQ(out.view(), cap.ja4);
    }
}

TEST(Ja4, GreaseIgnoredEverywhere) {
    const auto plain = test::client_hello(
        [](Builder& b) {
            test::sni_ext(b, "g.example");
            b.ext(0x002b, [](Builder& e) { e.open(1).u16s({0x0304}).close(); });
            b.ext(0x000d, [](Builder& e) { e.open(2).u16s({0x0403}).close(); });
        },
        {0x1301});
    const auto greased = test::client_hello(
        [](Builder& b) {
            b.ext(0x0a0a, [](Builder&) {});
            test::sni_ext(b, "g.example");
            b.ext(0x002b, [](Builder& e) { e.open(1).u16s({0xfafa, 0x0304}).close(); });
            b.ext(0x000d, [](Builder& e) { e.open(2).u16s({0x5a5a, 0x0403}).close(); });
            b.ext(0xdada, [](Builder& e) { e.u8(0); });
        },
        {0x2a2a, 0x1301});
    EXPECT_EQ(ja4_of(plain), ja4_of(greased));
    EXPECT_EQ(ja4_of(plain).substr(0, 10), "t13d0103" "00");
}

TEST(Ja4, AlpnRules) {
    auto with_alpn = [](std::initializer_list<std::string_view> protos) {
        return ja4_of(test::client_hello([&](Builder& b) { test::alpn_ext(b, protos); })).substr(8, 2);
    };
    EXPECT_EQ(with_alpn({"h2"}), "h2");
    EXPECT_EQ(with_alpn({"http/1.1", "h2"}), "h1");
    EXPECT_EQ(with_alpn({"h"}), "hh");           // single character is first and last
    EXPECT_EQ(with_alpn({"\xab"}), "ab");        // spec examples for non-alphanumerics
    EXPECT_EQ(with_alpn({"\xab\xcd"}), "ad");
    EXPECT_EQ(with_alpn({"0\xab"}), "3b");
    EXPECT_EQ(with_alpn({"01\xab\xcd"}), "3d");
    EXPECT_EQ(with_alpn({"0\xab\xcd" "1"}), "01");
    EXPECT_EQ(ja4_of(test::client_hello([](Builder&) {})).substr(8, 2), "00");
}

TEST(Ja4, EmptyListsAndCaps) {
    // Only SNI and ALPN: the hashed extension list is empty.
    const auto only = test::client_hello([](Builder& b) {
        test::sni_ext(b, "e.example");
        test::alpn_ext(b, {"h2"});
    });
    const std::string fp = ja4_of(only);
    EXPECT_EQ(fp.substr(0, 10), "t12d0202h2");
    EXPECT_EQ(fp.substr(24), "000000000000");
    // Only GREASE ciphers: b is zeros.
    const auto grease_only = test::client_hello([](Builder&) {}, {0x0a0a});
    EXPECT_EQ(ja4_of(grease_only).substr(11, 12), "000000000000");
    // No signature algorithms: no '_' appended (JA4.md: "= 6d807ffa2a79"). An empty
    // sigalg list cannot be sent well-formed, so clear the parsed one.
    {
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(spec_example({0x0403}), ch), ParseStatus::kOk);
        ch.signature_algorithms.count = 0;
        ch.signature_algorithms.total = 0;
        FixedString<40> out;
        ja4_fingerprint(ch, 't', out);
        EXPECT_EQ(out.view().substr(24), "6d807ffa2a79");
    }
    // More than 99 cipher suites: "99".
    Builder b;
    b.u8(1).open(3).u16(0x0303).fill(32, 0).open(1).close().open(2);
    for (std::uint16_t i = 0; i < 120; ++i) {
        b.u16(static_cast<std::uint16_t>(0x0100 + i));
    }
    b.close().open(1).u8(0).close().close();
    EXPECT_EQ(ja4_of(b.data()).substr(4, 4), "9900");
}

TEST(Ja4, VersionsAndTransport) {
    auto with_versions = [](std::uint16_t legacy, std::initializer_list<std::uint16_t> sv, char t = 't') {
        Builder b;
        b.u8(1).open(3).u16(legacy).fill(32, 0).open(1).close().open(2).u16(0x1301).close().open(1).u8(0).close();
        if (sv.size() > 0) {
            b.open(2).ext(0x002b, [&](Builder& e) { e.open(1).u16s(sv).close(); }).close();
        }
        b.close();
        return ja4_of(b.data(), t).substr(0, 3);
    };
    EXPECT_EQ(with_versions(0x0303, {0x0a0a, 0x0304, 0x0303}), "t13");
    EXPECT_EQ(with_versions(0x0303, {}), "t12");
    EXPECT_EQ(with_versions(0x0302, {}), "t11");
    EXPECT_EQ(with_versions(0x0301, {}), "t10");
    EXPECT_EQ(with_versions(0x0300, {}), "ts3");
    EXPECT_EQ(with_versions(0x0002, {}), "ts2");
    EXPECT_EQ(with_versions(0x0303, {0x1a1a}), "t12"); // only GREASE: legacy version
    EXPECT_EQ(with_versions(0x0305, {}), "t00");
    EXPECT_EQ(with_versions(0x0303, {0x0304}, 'q'), "q13");
    EXPECT_EQ(with_versions(0xfefd, {}, 'd'), "dd2");
    EXPECT_EQ(with_versions(0xfeff, {}, 'd'), "dd1");
    EXPECT_EQ(with_versions(0xfefd, {0xfefd, 0xfefc}, 'd'), "dd3"); // DTLS counts down
}

} // namespace
} // namespace wt::parsers
