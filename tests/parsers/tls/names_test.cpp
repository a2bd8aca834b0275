// IANA names, spelled as nDPI prints them in the reference corpus
// (../shared/corpus/ndpi/expected/*.jsonl: cipher, tls_version, tls_supported_versions).
#include "parsers/tls/names.hpp"

#include <gtest/gtest.h>

namespace wt::parsers {
namespace {

TEST(TlsNames, CipherSuites) {
    EXPECT_EQ(tls_cipher_suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(tls_cipher_suite_name(0x1302), "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(tls_cipher_suite_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(tls_cipher_suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    EXPECT_EQ(tls_cipher_suite_name(0xc030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    EXPECT_EQ(tls_cipher_suite_name(0xcca8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(tls_cipher_suite_name(0xcca9), "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(tls_cipher_suite_name(0xc013), "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0xc028), "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384");
    EXPECT_EQ(tls_cipher_suite_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x0035), "TLS_RSA_WITH_AES_256_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x000a), "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x0004), "TLS_RSA_WITH_RC4_128_MD5");
    EXPECT_EQ(tls_cipher_suite_name(0x0041), "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x0045), "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x009f), "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");
    EXPECT_EQ(tls_cipher_suite_name(0xc007), "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA");
    EXPECT_EQ(tls_cipher_suite_name(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    EXPECT_EQ(tls_cipher_suite_name(0x5600), "TLS_FALLBACK_SCSV");
    EXPECT_EQ(tls_cipher_suite_name(0xcc13), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD");
    EXPECT_EQ(tls_cipher_suite_name(0x0a0a), "GREASE");
    EXPECT_EQ(tls_cipher_suite_name(0xfafa), "GREASE");
    EXPECT_EQ(tls_cipher_suite_name(0x0060), ""); // never IANA-assigned
    EXPECT_EQ(tls_cipher_suite_name(0x1306), "");
    EXPECT_EQ(tls_cipher_suite_name(0xffff), "");
}

TEST(TlsNames, Versions) {
    EXPECT_EQ(tls_version_name(0x0304), "TLSv1.3");
    EXPECT_EQ(tls_version_name(0x0303), "TLSv1.2");
    EXPECT_EQ(tls_version_name(0x0302), "TLSv1.1");
    EXPECT_EQ(tls_version_name(0x0301), "TLSv1");
    EXPECT_EQ(tls_version_name(0x0300), "SSLv3");
    EXPECT_EQ(tls_version_name(0xfefd), "DTLSv1.2");
    EXPECT_EQ(tls_version_name(0xfeff), "DTLSv1.0");
    EXPECT_EQ(tls_version_name(0xfefc), "DTLSv1.3");
    EXPECT_EQ(tls_version_name(0x7f1c), "TLSv1.3 (draft)");
    EXPECT_EQ(tls_version_name(0xfb1a), "TLSv1.3 (Fizz)");
    EXPECT_EQ(tls_version_name(0x3a3a), "GREASE");
    EXPECT_EQ(tls_version_name(0x0305), "");
}

TEST(TlsNames, Groups) {
    EXPECT_EQ(tls_group_name(0x001d), "x25519");
    EXPECT_EQ(tls_group_name(0x0017), "secp256r1");
    EXPECT_EQ(tls_group_name(0x11ec), "X25519MLKEM768");
    EXPECT_EQ(tls_group_name(0x2a2a), "GREASE");
    EXPECT_EQ(tls_group_name(0x0001), "");
}

} // namespace
} // namespace wt::parsers
