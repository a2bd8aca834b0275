// ECHConfigList and the ECH ClientHello extension (RFC 9849 sections 4 and 5). Built lists cover
// every field and fault; the real bytes (Chromium's ClientHellos and the dnsmasq answer that gave it
// a configuration) are checked in tests/pipeline/worker_test.cpp and tests/e2e/ech_test.py.
#include "parsers/tls/ech.hpp"
#include "tests/parsers/tls/tls_builder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace wt::parsers {
namespace {

using test::Builder;

// One ECHConfig (version 0xfe0d) as section 4 lays it out.
void push_config(Builder& b, std::uint8_t config_id, std::string_view public_name, std::uint16_t version = 0xfe0d,
                 std::size_t suites = 1) {
    b.u16(version).open(2);
    b.u8(config_id).u16(0x0020);             // HpkeKemId DHKEM(X25519, HKDF-SHA256)
    b.open(2).fill(32, 0xab).close();        // public_key
    b.open(2);
    for (std::size_t i = 0; i < suites; ++i) {
        b.u16(0x0001).u16(0x0001);           // HKDF-SHA256, AES-128-GCM
    }
    b.close();
    b.u8(0);                                 // maximum_name_length
    b.open(1).bytes(public_name).close();
    b.open(2).close();                       // no extensions
    b.close();
}

std::vector<std::uint8_t> config_list(std::initializer_list<std::pair<std::uint8_t, std::string_view>> configs) {
    Builder b;
    b.open(2);
    for (const auto& [id, name] : configs) {
        push_config(b, id, name);
    }
    b.close();
    return b.data();
}

TEST(EchConfigList, OneConfig) {
    const auto list = config_list({{0x42, "Public.Example-Cars.test"}});
    EchConfigSummary s;
    ASSERT_EQ(parse_ech_config_list(list, s), ParseStatus::kOk);
    EXPECT_EQ(s.public_name.view(), "public.example-cars.test"); // lowercased, as DNS names are
    ASSERT_EQ(s.config_count, 1);
    EXPECT_EQ(s.config_ids[0], 0x42);
    EXPECT_TRUE(s.has_config(0x42));
    EXPECT_FALSE(s.has_config(0x43));
    EXPECT_EQ(s.configs_not_kept, 0);
}

TEST(EchConfigList, SeveralConfigsUnknownVersionsAndOtherPublicNames) {
    Builder b;
    b.open(2);
    b.u16(0xfe0a).open(2).fill(7, 1).close(); // an older draft's config: skipped, whatever it holds
    push_config(b, 1, "cover.example");
    push_config(b, 2, "cover.example", 0xfe0d, 3);
    push_config(b, 3, "other.example");
    push_config(b, 4, "cover.example");
    push_config(b, 5, "cover.example");
    push_config(b, 6, "cover.example"); // past kMaxEchConfigs
    b.close();
    EchConfigSummary s;
    ASSERT_EQ(parse_ech_config_list(b.data(), s), ParseStatus::kOk);
    EXPECT_EQ(s.public_name.view(), "cover.example");
    ASSERT_EQ(s.config_count, 4);
    EXPECT_EQ(s.config_ids[0], 1);
    EXPECT_EQ(s.config_ids[3], 5);
    EXPECT_EQ(s.configs_not_kept, 2);
    EXPECT_EQ(s.unknown_versions, 1);
}

// Section 4: a config whose public_name is not a host name is ignored, not an error.
TEST(EchConfigList, InvalidPublicNamesAreIgnored) {
    for (std::string_view bad : {"a..b", ".a", "a.", "under_score.example", "sp ace", "1.2.3.4\x01"}) {
        const auto list = config_list({{7, bad}, {8, "ok.example"}});
        EchConfigSummary s;
        ASSERT_EQ(parse_ech_config_list(list, s), ParseStatus::kOk) << bad;
        EXPECT_EQ(s.public_name.view(), "ok.example") << bad;
        ASSERT_EQ(s.config_count, 1) << bad;
        EXPECT_EQ(s.config_ids[0], 8) << bad;
    }
    const std::string label64(64, 'a');
    const auto list = config_list({{7, label64}});
    EchConfigSummary s;
    ASSERT_EQ(parse_ech_config_list(list, s), ParseStatus::kOk);
    EXPECT_EQ(s.config_count, 0);
}

TEST(EchConfigList, EveryCutIsMalformedNeverARead) {
    const auto list = config_list({{0x42, "public.example"}});
    for (std::size_t n = 0; n < list.size(); ++n) {
        std::vector<std::uint8_t> cut(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(n));
        EchConfigSummary s;
        EXPECT_EQ(parse_ech_config_list(cut, s), ParseStatus::kMalformed) << "at " << n;
    }
    auto trailing = list;
    trailing.push_back(0);
    EchConfigSummary s;
    EXPECT_EQ(parse_ech_config_list(trailing, s), ParseStatus::kMalformed);
}

TEST(EchConfigList, FieldFaults) {
    const auto with = [](auto&& mutate) {
        Builder b;
        b.open(2).u16(0xfe0d).open(2);
        mutate(b);
        b.close().close();
        EchConfigSummary s;
        return parse_ech_config_list(b.data(), s);
    };
    // Empty public key (public_key<1..2^16-1>).
    EXPECT_EQ(with([](Builder& b) {
                  b.u8(1).u16(0x20).open(2).close().open(2).u16(1).u16(1).close().u8(0).open(1).bytes("a.b").close().open(2).close();
              }),
              ParseStatus::kMalformed);
    // Cipher suites not a multiple of 4, and below the minimum of 4.
    EXPECT_EQ(with([](Builder& b) {
                  b.u8(1).u16(0x20).open(2).u8(1).close().open(2).u16(1).u16(1).u16(1).close().u8(0).open(1).bytes("a.b").close().open(2).close();
              }),
              ParseStatus::kMalformed);
    EXPECT_EQ(with([](Builder& b) {
                  b.u8(1).u16(0x20).open(2).u8(1).close().open(2).close().u8(0).open(1).bytes("a.b").close().open(2).close();
              }),
              ParseStatus::kMalformed);
    // Empty public_name (public_name<1..255>).
    EXPECT_EQ(with([](Builder& b) {
                  b.u8(1).u16(0x20).open(2).u8(1).close().open(2).u16(1).u16(1).close().u8(0).open(1).close().open(2).close();
              }),
              ParseStatus::kMalformed);
    // Bytes after the extensions, inside the config's length.
    EXPECT_EQ(with([](Builder& b) {
                  b.u8(1).u16(0x20).open(2).u8(1).close().open(2).u16(1).u16(1).close().u8(0).open(1).bytes("a.b").close().open(2).close().u8(9);
              }),
              ParseStatus::kMalformed);
    // The list itself below its minimum of 4 bytes.
    const std::vector<std::uint8_t> tiny = {0x00, 0x02, 0xfe, 0x0d};
    EchConfigSummary s;
    EXPECT_EQ(parse_ech_config_list(tiny, s), ParseStatus::kMalformed);
}

TEST(EchClientHelloExtension, OuterInnerAndFaults) {
    Builder outer;
    outer.u8(0).u16(0x0001).u16(0x0003).u8(0x9c).open(2).fill(32, 1).close().open(2).fill(239, 2).close();
    EchClientHello e;
    ASSERT_EQ(parse_ech_client_hello(outer.data(), e), ParseStatus::kOk);
    EXPECT_EQ(e.type, EchHelloType::kOuter);
    EXPECT_EQ(e.kdf_id, 1);
    EXPECT_EQ(e.aead_id, 3);
    EXPECT_EQ(e.config_id, 0x9c);
    EXPECT_EQ(e.enc_length, 32);
    EXPECT_EQ(e.payload_length, 239);
    for (std::size_t n = 0; n < outer.data().size(); ++n) {
        std::vector<std::uint8_t> cut(outer.data().begin(), outer.data().begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(parse_ech_client_hello(cut, e), ParseStatus::kMalformed) << "at " << n;
    }
    // After a HelloRetryRequest the enc is empty (section 6.1.5); the payload never is.
    Builder retry;
    retry.u8(0).u16(1).u16(1).u8(7).open(2).close().open(2).fill(100, 3).close();
    ASSERT_EQ(parse_ech_client_hello(retry.data(), e), ParseStatus::kOk);
    EXPECT_EQ(e.enc_length, 0);
    Builder empty_payload;
    empty_payload.u8(0).u16(1).u16(1).u8(7).open(2).fill(32, 1).close().open(2).close();
    EXPECT_EQ(parse_ech_client_hello(empty_payload.data(), e), ParseStatus::kMalformed);
    const std::vector<std::uint8_t> inner = {0x01};
    ASSERT_EQ(parse_ech_client_hello(inner, e), ParseStatus::kOk);
    EXPECT_EQ(e.type, EchHelloType::kInner);
    const std::vector<std::uint8_t> inner_trailing = {0x01, 0x00};
    EXPECT_EQ(parse_ech_client_hello(inner_trailing, e), ParseStatus::kMalformed);
    const std::vector<std::uint8_t> bad_type = {0x02};
    EXPECT_EQ(parse_ech_client_hello(bad_type, e), ParseStatus::kMalformed);
}

} // namespace
} // namespace wt::parsers
