// parse_client_hello / parse_server_hello on recorded handshakes (vectors.hpp, from
// tests/data/tls/*.pcap) and on hand-built messages (tls_builder.hpp).
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/tls_types.hpp"

#include "tests/support/alloc_counter.hpp"
#include "tls_builder.hpp"
#include "vectors.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace wt::parsers {
namespace {

using test::Builder;
using test_vectors::kCaptures;

// The handshake message inside a capture's stream, through the record layer.
Bytes message_of(std::span<const std::uint8_t> stream, std::uint8_t type, std::vector<std::uint8_t>& scratch) {
    scratch.assign(limits::kMaxClientHelloSize, 0);
    Bytes msg;
    EXPECT_EQ(tls_first_handshake(stream, type, scratch, msg), ParseStatus::kOk);
    return msg;
}

std::size_t count_grease(std::span<const std::uint16_t> v) {
    std::size_t n = 0;
    for (auto x : v) {
        n += tls::is_grease(x) ? 1 : 0;
    }
    return n;
}

TEST(TlsClientHello, RecordedCapturesMatchTshark) {
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        std::vector<std::uint8_t> scratch;
        const Bytes msg = message_of(cap.client, tls::kHandshakeClientHello, scratch);
        ASSERT_EQ(msg.size(), cap.client_hello_length);
        TlsClientHello ch;
        const std::size_t before = wt::testing::allocation_count();
        ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
        EXPECT_EQ(wt::testing::allocation_count(), before) << "parse_client_hello allocated";
        EXPECT_EQ(ch.flags, 0);
        EXPECT_EQ(ch.message_length, cap.client_hello_length);
        EXPECT_EQ(ch.legacy_version, cap.legacy_version);
        EXPECT_EQ(ch.cipher_suites.count, cap.cipher_count);
        EXPECT_EQ(ch.extensions.count, cap.extension_count);
        EXPECT_EQ(ch.has_sni, !cap.sni.empty());
        EXPECT_EQ(ch.sni.view(), cap.sni);
        EXPECT_EQ(ch.sni_valid, !cap.sni.empty());
        EXPECT_FALSE(ch.sni_is_ip);
        EXPECT_EQ(ch.alpn_count, cap.alpn_count);
        if (cap.alpn_count > 0) {
            EXPECT_EQ(ch.alpn[0].view(), cap.alpn_first);
        }
        EXPECT_FALSE(ch.has_ech);
        EXPECT_FALSE(ch.has_esni);
        EXPECT_GT(ch.signature_algorithms.count, 0);
        EXPECT_EQ(ch.has_supported_versions, cap.ja4.substr(1, 2) == "13");
    }
}

TEST(TlsClientHello, ExactLengthAndTrailingGarbage) {
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        std::vector<std::uint8_t> scratch;
        const Bytes msg = message_of(cap.client, tls::kHandshakeClientHello, scratch);
        std::vector<std::uint8_t> exact(msg.begin(), msg.end()); // exact-size heap copy for ASan
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(exact, ch), ParseStatus::kOk);
        std::vector<std::uint8_t> padded = exact;
        padded.insert(padded.end(), {0x16, 0x03, 0x03, 0xff, 0xff, 0x00});
        TlsClientHello ch2;
        ASSERT_EQ(parse_client_hello(padded, ch2), ParseStatus::kOk);
        EXPECT_EQ(ch2.message_length, exact.size());
        EXPECT_EQ(ch2.sni, ch.sni);
    }
}

TEST(TlsClientHello, EveryTruncationPointIsTruncated) {
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        std::vector<std::uint8_t> scratch;
        const Bytes msg = message_of(cap.client, tls::kHandshakeClientHello, scratch);
        for (std::size_t n = 0; n < msg.size(); ++n) {
            std::vector<std::uint8_t> cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
            TlsClientHello ch;
            ASSERT_EQ(parse_client_hello(cut, ch), ParseStatus::kTruncated) << "at " << n;
        }
    }
}

TEST(TlsClientHello, WrongTypeIsUnsupported) {
    TlsClientHello ch;
    const std::array<std::uint8_t, 4> sh = {2, 0, 0, 0};
    EXPECT_EQ(parse_client_hello(sh, ch), ParseStatus::kUnsupported);
}

TEST(TlsServerHello, RecordedCapturesMatchTshark) {
    for (const auto& cap : kCaptures) {
        SCOPED_TRACE(cap.name);
        std::vector<std::uint8_t> scratch;
        const Bytes msg = message_of(cap.server, tls::kHandshakeServerHello, scratch);
        ASSERT_EQ(msg.size(), cap.server_hello_length);
        TlsServerHello sh;
        const std::size_t before = wt::testing::allocation_count();
        ASSERT_EQ(parse_server_hello(msg, sh), ParseStatus::kOk);
        EXPECT_EQ(wt::testing::allocation_count(), before);
        EXPECT_EQ(sh.legacy_version, cap.server_legacy_version);
        EXPECT_EQ(sh.selected_version, cap.server_selected_version);
        EXPECT_EQ(sh.has_supported_versions, cap.server_selected_version == tls::kVersionTls13);
        EXPECT_EQ(sh.cipher_suite, cap.server_cipher);
        EXPECT_EQ(sh.alpn.view(), cap.server_alpn);
        EXPECT_EQ(sh.has_alpn, !cap.server_alpn.empty());
        EXPECT_EQ(sh.is_hello_retry_request, cap.name == "s_client_hrr");
        if (sh.is_hello_retry_request) {
            EXPECT_TRUE(sh.has_key_share);
            EXPECT_EQ(sh.key_share_group, 0x0017); // the server wanted P-256 (record.sh)
        }
        for (std::size_t n = 0; n < msg.size(); ++n) {
            std::vector<std::uint8_t> cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
            ASSERT_EQ(parse_server_hello(cut, sh), ParseStatus::kTruncated) << "at " << n;
        }
    }
}

// --- hand-built ClientHellos -------------------------------------------------------

TEST(TlsClientHelloBuilt, FieldsInWireOrderWithGrease) {
    const auto msg = test::client_hello(
        [](Builder& b) {
            b.ext(0x1a1a, [](Builder&) {});                        // GREASE extension, empty
            test::sni_ext(b, "WWW.Example.COM");                    // case kept as sent
            test::alpn_ext(b, {"h2", "http/1.1"});
            b.ext(0x002b, [](Builder& e) { e.open(1).u16s({0x2a2a, 0x0304, 0x0303}).close(); });
            b.ext(0x000a, [](Builder& e) { e.open(2).u16s({0x3a3a, 0x001d, 0x0017}).close(); });
            b.ext(0x000d, [](Builder& e) { e.open(2).u16s({0x0403, 0x0804}).close(); });
            b.ext(0x0033, [](Builder& e) {
                e.open(2);
                e.u16(0x3a3a).open(2).u8(0).close();           // GREASE share, 1 byte
                e.u16(0x001d).open(2).fill(32, 0x55).close();  // x25519
                e.close();
            });
            b.ext(0xfe0d, [](Builder& e) {                                       // ECH outer
                e.u8(0).u16(0x0001).u16(0x0001).u8(0x42);                       // HKDF-SHA256, AES-128-GCM, id 0x42
                e.open(2).fill(32, 0x66).close().open(2).fill(144, 0x77).close(); // enc, payload
            });
            b.ext(0x4a4a, [](Builder& e) { e.u8(0); });                         // GREASE again
        },
        {0x0a0a, 0x1301, 0x1302, 0xc02b});
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_EQ(ch.flags, 0);
    ASSERT_EQ(ch.cipher_suites.count, 4);
    EXPECT_EQ(ch.cipher_suites.values[0], 0x0a0a);
    EXPECT_EQ(count_grease(ch.cipher_suites.view()), 1u);
    const std::array<std::uint16_t, 9> exts = {0x1a1a, 0x0000, 0x0010, 0x002b, 0x000a, 0x000d, 0x0033, 0xfe0d, 0x4a4a};
    ASSERT_EQ(ch.extensions.count, exts.size());
    for (std::size_t i = 0; i < exts.size(); ++i) {
        EXPECT_EQ(ch.extensions.values[i], exts[i]);
    }
    EXPECT_EQ(ch.sni.view(), "WWW.Example.COM");
    EXPECT_TRUE(ch.sni_valid);
    ASSERT_EQ(ch.alpn_count, 2);
    EXPECT_EQ(ch.alpn[1].view(), "http/1.1");
    ASSERT_EQ(ch.supported_versions.count, 3);
    EXPECT_EQ(ch.supported_versions.values[1], 0x0304);
    EXPECT_EQ(ch.supported_groups.count, 3);
    EXPECT_EQ(ch.signature_algorithms.count, 2);
    ASSERT_EQ(ch.key_share_groups.count, 2);
    EXPECT_EQ(ch.key_share_groups.values[1], 0x001d);
    EXPECT_TRUE(ch.has_ech);
    ASSERT_TRUE(ch.ech_well_formed);
    EXPECT_EQ(ch.ech.type, EchHelloType::kOuter);
    EXPECT_EQ(ch.ech.kdf_id, 0x0001);
    EXPECT_EQ(ch.ech.aead_id, 0x0001);
    EXPECT_EQ(ch.ech.config_id, 0x42);
    EXPECT_EQ(ch.ech.enc_length, 32);
    EXPECT_EQ(ch.ech.payload_length, 144);
    EXPECT_FALSE(ch.has_esni);
}

TEST(TlsClientHelloBuilt, NoExtensionsIsLegacyHello) {
    Builder b;
    b.u8(1).open(3).u16(0x0301).fill(32, 1).open(1).close().open(2).u16s({0x002f}).close().open(1).u8(0).close().close();
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(b.data(), ch), ParseStatus::kOk);
    EXPECT_EQ(ch.extensions.count, 0);
    EXPECT_FALSE(ch.has_sni);
}

TEST(TlsClientHelloBuilt, EsniAndEchInner) {
    const auto msg = test::client_hello([](Builder& b) {
        b.ext(0xffce, [](Builder& e) { e.fill(8, 1); });
        b.ext(0xfe0d, [](Builder& e) { e.u8(1); });
    });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_TRUE(ch.has_esni);
    EXPECT_TRUE(ch.has_ech);
    ASSERT_TRUE(ch.ech_well_formed);
    EXPECT_EQ(ch.ech.type, EchHelloType::kInner);
}

// A malformed ECH body (enc overruns the extension) is still an ECH attempt; the hello parses.
TEST(TlsClientHelloBuilt, MalformedEchKeepsTheHello) {
    const auto msg = test::client_hello([](Builder& b) {
        test::sni_ext(b, "a.example");
        b.ext(0xfe0d, [](Builder& e) { e.u8(0).u16(0x0001).fill(10, 0x66); });
    });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_TRUE(ch.has_ech);
    EXPECT_FALSE(ch.ech_well_formed);
    EXPECT_EQ(ch.sni.view(), "a.example");
}

TEST(TlsClientHelloBuilt, InvalidHostNamesAreKeptButFlagged) {
    struct Case { std::string_view name; bool valid; bool ip; };
    const Case cases[] = {
        {"a.b", true, false},
        {"example.com.", true, false},
        {"_dmarc.example.com", true, false},
        {"10.0.0.1", true, true},          // LDH-valid, but an IP literal (RFC 6066 forbids)
        {"::1", false, true},
        {"bad name.com", false, false},
        {std::string_view("nul\0x.com", 9), false, false},
        {"-lead.com", false, false},
        {"trail-.com", false, false},
        {"a..b", false, false},
        {"caf\xc3\xa9.fr", false, false},  // UTF-8, not A-label
        {"x", true, false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.name));
        const auto msg = test::client_hello([&](Builder& b) { test::sni_ext(b, c.name); });
        TlsClientHello ch;
        ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
        EXPECT_TRUE(ch.has_sni);
        EXPECT_EQ(ch.sni.view(), c.name);
        EXPECT_EQ(ch.sni_valid, c.valid);
        EXPECT_EQ(ch.sni_is_ip, c.ip);
    }
    // 64-byte label and 254-char names are invalid.
    const std::string long_label(64, 'a');
    const auto msg = test::client_hello([&](Builder& b) { test::sni_ext(b, long_label); });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_FALSE(ch.sni_valid);
}

TEST(TlsClientHelloBuilt, LongSniIsTruncatedAndFlagged) {
    const std::string host(300, 'a');
    const auto msg = test::client_hello([&](Builder& b) { test::sni_ext(b, host); });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_EQ(ch.sni.size(), 255u);
    EXPECT_TRUE(ch.has_flag(kTlsFlagSniTruncated));
    EXPECT_FALSE(ch.sni_valid);
}

TEST(TlsClientHelloBuilt, OverrunningExtensionKeepsEarlierSni) {
    // SNI first, then an extension whose length runs past the block.
    auto msg = test::client_hello([](Builder& b) {
        test::sni_ext(b, "first.example");
        b.u16(0x000a).u16(0x0100).u16(0x0002); // claims 256 bytes, has 2
    });
    TlsClientHello ch;
    EXPECT_EQ(parse_client_hello(msg, ch), ParseStatus::kMalformed);
    EXPECT_TRUE(ch.has_sni);
    EXPECT_EQ(ch.sni.view(), "first.example");
    EXPECT_TRUE(ch.has_flag(kTlsFlagExtensionsIncomplete));
}

TEST(TlsClientHelloBuilt, ExtensionBlockLongerThanMessage) {
    auto msg = test::client_hello([](Builder& b) { test::sni_ext(b, "x.example"); });
    // Patch the extensions<..> length (the 2 bytes before the first extension) upwards.
    // header 4, version 2, random 32, session id 1+32, suites 2+4, compression 1+1.
    const std::size_t ext_len_pos = 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1;
    msg[ext_len_pos] = 0x7f;
    TlsClientHello ch;
    EXPECT_EQ(parse_client_hello(msg, ch), ParseStatus::kMalformed);
    EXPECT_EQ(ch.sni.view(), "x.example");
    EXPECT_TRUE(ch.has_flag(kTlsFlagExtensionsIncomplete));
}

TEST(TlsClientHelloBuilt, MalformedExtensionsAndFields) {
    using Body = void (*)(Builder&);
    const Body bodies[] = {
        [](Builder& b) { b.ext(0x0000, [](Builder& e) { e.open(2).close(); }); },                 // empty name list
        [](Builder& b) { b.ext(0x0000, [](Builder& e) { e.open(2).u8(0).open(2).close().close(); }); }, // empty host
        [](Builder& b) { b.ext(0x0000, [](Builder& e) { e.open(2).u8(0).u16(50).close(); }); },   // host overruns list
        [](Builder& b) { b.ext(0x0000, [](Builder& e) { e.u16(3).u8(0).u16(0); e.u8(9); }); },    // bytes after list
        [](Builder& b) { b.ext(0x0010, [](Builder& e) { e.open(2).open(1).close().close(); }); }, // empty protocol
        [](Builder& b) { b.ext(0x0010, [](Builder& e) { e.open(2).close(); }); },                 // empty list
        [](Builder& b) { b.ext(0x002b, [](Builder& e) { e.open(1).u8(3).close(); }); },           // odd versions
        [](Builder& b) { b.ext(0x000a, [](Builder& e) { e.open(2).u8(0).close(); }); },           // odd groups
        [](Builder& b) { b.ext(0x000d, [](Builder& e) { e.open(2).close(); }); },                 // no sigalgs
        [](Builder& b) { b.ext(0x0033, [](Builder& e) { e.open(2).u16(0x1d).open(2).close().close(); }); }, // empty key
        [](Builder& b) { b.u16(0x0000).u8(0); },                                                  // half a header
    };
    for (std::size_t i = 0; i < std::size(bodies); ++i) {
        SCOPED_TRACE(i);
        const auto msg = test::client_hello(bodies[i]);
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(msg, ch), ParseStatus::kMalformed);
        EXPECT_TRUE(ch.has_flag(kTlsFlagExtensionsIncomplete));
    }
    // Fixed-part faults.
    auto good = test::client_hello([](Builder& b) { test::sni_ext(b, "a.b"); });
    {
        auto m = good;
        m[4 + 2 + 32] = 33; // session id > 32
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(m, ch), ParseStatus::kMalformed);
    }
    {
        Builder b; // odd cipher_suites length
        b.u8(1).open(3).u16(0x0303).fill(32, 0).open(1).close().open(2).u8(0x13).close().open(1).u8(0).close().close();
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(b.data(), ch), ParseStatus::kMalformed);
    }
    {
        Builder b; // no compression methods
        b.u8(1).open(3).u16(0x0303).fill(32, 0).open(1).close().open(2).u16(0x1301).close().open(1).close().close();
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(b.data(), ch), ParseStatus::kMalformed);
    }
    {
        Builder b; // body ends inside random
        b.u8(1).open(3).u16(0x0303).fill(10, 0).close();
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(b.data(), ch), ParseStatus::kMalformed);
    }
    {
        auto m = test::client_hello([](Builder& b) { test::sni_ext(b, "a.b"); });
        m.push_back(0xee); // a byte after the extension block, inside the message
        m[3] = static_cast<std::uint8_t>(m[3] + 1);
        TlsClientHello ch;
        EXPECT_EQ(parse_client_hello(m, ch), ParseStatus::kMalformed);
        EXPECT_TRUE(ch.has_flag(kTlsFlagTrailingData));
        EXPECT_EQ(ch.sni.view(), "a.b");
    }
}

TEST(TlsClientHelloBuilt, DuplicateExtensionFirstWins) {
    const auto msg = test::client_hello([](Builder& b) {
        test::sni_ext(b, "one.example");
        test::sni_ext(b, "two.example");
    });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_EQ(ch.sni.view(), "one.example");
    EXPECT_TRUE(ch.has_flag(kTlsFlagDuplicateExtension));
    EXPECT_EQ(ch.extensions.count, 2);
}

TEST(TlsClientHelloBuilt, ListBounds) {
    // More extensions than kMaxTlsExtensions: kTooLarge, earlier fields kept.
    const auto many = test::client_hello([](Builder& b) {
        test::sni_ext(b, "kept.example");
        for (std::uint16_t i = 0; i < limits::kMaxTlsExtensions; ++i) {
            b.ext(static_cast<std::uint16_t>(0x7000 + i), [](Builder&) {});
        }
    });
    TlsClientHello ch;
    EXPECT_EQ(parse_client_hello(many, ch), ParseStatus::kTooLarge);
    EXPECT_EQ(ch.sni.view(), "kept.example");
    EXPECT_EQ(ch.extensions.count, limits::kMaxTlsExtensions);
    EXPECT_TRUE(ch.has_flag(kTlsFlagListCapped));

    // More cipher suites / groups / ALPN names than stored: kOk, prefix kept, flagged.
    Builder b;
    b.u8(1).open(3).u16(0x0303).fill(32, 0).open(1).close().open(2);
    for (std::uint16_t i = 0; i < 200; ++i) {
        b.u16(static_cast<std::uint16_t>(0x0100 + i));
    }
    b.close().open(1).u8(0).close().open(2);
    test::alpn_ext(b, {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"});
    b.ext(0x000a, [](Builder& e) {
        e.open(2);
        for (std::uint16_t i = 0; i < 40; ++i) {
            e.u16(i);
        }
        e.close();
    });
    b.close().close();
    ASSERT_EQ(parse_client_hello(b.data(), ch), ParseStatus::kOk);
    EXPECT_EQ(ch.cipher_suites.count, limits::kMaxCipherSuites);
    EXPECT_EQ(ch.cipher_suites.total, 200);
    EXPECT_EQ(ch.alpn_count, limits::kMaxAlpnProtocols);
    EXPECT_EQ(ch.supported_groups.count, limits::kMaxSupportedGroups);
    EXPECT_EQ(ch.supported_groups.total, 40);
    EXPECT_TRUE(ch.has_flag(kTlsFlagListCapped));
}

TEST(TlsClientHelloBuilt, LongAlpnKeepsRealLastByte) {
    const std::string proto = std::string(70, 'p') + "Z";
    const auto msg = test::client_hello([&](Builder& b) { test::alpn_ext(b, {proto}); });
    TlsClientHello ch;
    ASSERT_EQ(parse_client_hello(msg, ch), ParseStatus::kOk);
    EXPECT_TRUE(ch.has_flag(kTlsFlagAlpnTruncated));
    EXPECT_EQ(ch.alpn[0].size(), 64u);
    EXPECT_EQ(ch.alpn_first_size, proto.size());
    EXPECT_EQ(ch.alpn_last_byte, 'Z');
}

// --- ServerHello built ---------------------------------------------------------------

std::vector<std::uint8_t> server_hello(bool hrr, std::uint16_t version_ext, std::string_view alpn) {
    static constexpr std::uint8_t kHrr[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                                              0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                                              0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    Builder b;
    b.u8(2).open(3).u16(0x0303);
    if (hrr) {
        b.bytes(std::string_view(reinterpret_cast<const char*>(kHrr), 32));
    } else {
        b.fill(32, 0x42);
    }
    b.open(1).fill(32, 7).close().u16(0x1301).u8(0).open(2);
    if (version_ext != 0) {
        b.ext(0x002b, [&](Builder& e) { e.u16(version_ext); });
    }
    if (!alpn.empty()) {
        b.ext(0x0010, [&](Builder& e) { e.open(2).open(1).bytes(alpn).close().close(); });
    }
    if (hrr) {
        b.ext(0x0033, [](Builder& e) { e.u16(0x0017); });
    } else {
        b.ext(0x0033, [](Builder& e) { e.u16(0x001d).open(2).fill(32, 9).close(); });
    }
    b.close().close();
    return b.data();
}

TEST(TlsServerHelloBuilt, VersionsHrrAlpn) {
    TlsServerHello sh;
    ASSERT_EQ(parse_server_hello(server_hello(false, 0x0304, "h2"), sh), ParseStatus::kOk);
    EXPECT_EQ(sh.selected_version, 0x0304);
    EXPECT_EQ(sh.legacy_version, 0x0303);
    EXPECT_FALSE(sh.is_hello_retry_request);
    EXPECT_EQ(sh.alpn.view(), "h2");
    EXPECT_EQ(sh.key_share_group, 0x001d);
    EXPECT_EQ(sh.extensions.count, 3);

    ASSERT_EQ(parse_server_hello(server_hello(true, 0x0304, ""), sh), ParseStatus::kOk);
    EXPECT_TRUE(sh.is_hello_retry_request);
    EXPECT_EQ(sh.key_share_group, 0x0017);

    ASSERT_EQ(parse_server_hello(server_hello(false, 0, ""), sh), ParseStatus::kOk);
    EXPECT_EQ(sh.selected_version, 0x0303); // no supported_versions: legacy_version
    EXPECT_FALSE(sh.has_supported_versions);
}

TEST(TlsServerHelloBuilt, Malformed) {
    TlsServerHello sh;
    {
        Builder b; // ALPN with two protocols (RFC 7301: exactly one)
        b.u8(2).open(3).u16(0x0303).fill(32, 0).open(1).close().u16(0x1301).u8(0).open(2);
        b.ext(0x0010, [](Builder& e) { e.open(2).open(1).bytes("h2").close().open(1).bytes("x").close().close(); });
        b.close().close();
        EXPECT_EQ(parse_server_hello(b.data(), sh), ParseStatus::kMalformed);
    }
    {
        Builder b; // supported_versions with 3 bytes
        b.u8(2).open(3).u16(0x0303).fill(32, 0).open(1).close().u16(0x1301).u8(0).open(2);
        b.ext(0x002b, [](Builder& e) { e.u16(0x0304).u8(0); });
        b.close().close();
        EXPECT_EQ(parse_server_hello(b.data(), sh), ParseStatus::kMalformed);
    }
    const std::array<std::uint8_t, 4> ch = {1, 0, 0, 0};
    EXPECT_EQ(parse_server_hello(ch, sh), ParseStatus::kUnsupported);
}

} // namespace
} // namespace wt::parsers
