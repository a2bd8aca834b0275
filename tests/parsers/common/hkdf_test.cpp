// HMAC-SHA256, HKDF-Extract and HKDF-Expand-Label against their RFCs' vectors and against
// libcrypto (EVP_MAC "HMAC", EVP_KDF "HKDF" and "TLS13-KDF") on many sizes.
#include "parsers/common/hkdf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wt::parsers {
namespace {

std::vector<std::uint8_t> from_hex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>(i * 131 + seed * 29 + 7);
    }
    return v;
}

std::vector<std::uint8_t> libcrypto_hmac(Bytes key, Bytes data) {
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    std::size_t len = 0;
    static const std::uint8_t kEmpty = 0; // libcrypto reads a null key as "no key"
    const std::uint8_t* mac = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr,
                                        key.empty() ? &kEmpty : key.data(), key.size(),
                                        data.data(), data.size(), out.data(), out.size(), &len);
    EXPECT_NE(mac, nullptr);
    out.resize(len);
    return out;
}

// EVP_KDF with `name` and the given parameters; an empty vector when libcrypto refuses.
std::vector<std::uint8_t> libcrypto_kdf(const char* name, OSSL_PARAM* params, std::size_t out_len) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
    EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
    std::vector<std::uint8_t> out(out_len);
    const bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? out : std::vector<std::uint8_t>{};
}

std::vector<std::uint8_t> as_vector(const Sha256::Digest& d) { return {d.begin(), d.end()}; }

// RFC 4231 section 4.2 (test case 1) and 4.7 (test case 6: a 131-byte key, hashed first).
TEST(HmacSha256, Rfc4231Vectors) {
    const std::vector<std::uint8_t> key1(20, 0x0b);
    const std::string_view data1 = "Hi There";
    const std::array<Bytes, 1> parts1 = {Bytes(reinterpret_cast<const std::uint8_t*>(data1.data()), data1.size())};
    EXPECT_EQ(as_vector(hmac_sha256(key1, parts1)),
              from_hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    const std::vector<std::uint8_t> key6(131, 0xaa);
    const std::string_view data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const std::array<Bytes, 1> parts6 = {Bytes(reinterpret_cast<const std::uint8_t*>(data6.data()), data6.size())};
    EXPECT_EQ(as_vector(hmac_sha256(key6, parts6)),
              from_hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
}

TEST(HmacSha256, MatchesLibcryptoOnKeySizesAndSplits) {
    for (std::size_t key_len : {0, 1, 20, 32, 63, 64, 65, 128, 200}) {
        const std::vector<std::uint8_t> key = pattern(key_len, 1);
        for (std::size_t data_len : {0, 1, 55, 56, 64, 119, 300}) {
            const std::vector<std::uint8_t> data = pattern(data_len, 2);
            const std::size_t cut = data_len / 3;
            const std::array<Bytes, 2> parts = {Bytes(data.data(), cut), Bytes(data.data() + cut, data_len - cut)};
            EXPECT_EQ(as_vector(hmac_sha256(key, parts)), libcrypto_hmac(key, data))
                << "key " << key_len << " data " << data_len;
        }
    }
}

// RFC 5869 appendix A.1: PRK of test case 1.
TEST(HkdfExtract, Rfc5869Vector) {
    const std::vector<std::uint8_t> ikm(22, 0x0b);
    const std::vector<std::uint8_t> salt = from_hex("000102030405060708090a0b0c");
    EXPECT_EQ(as_vector(hkdf_extract(salt, ikm)),
              from_hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
}

TEST(HkdfExtract, MatchesLibcrypto) {
    for (std::size_t salt_len : {0, 8, 20, 64, 80}) {
        for (std::size_t ikm_len : {0, 8, 20, 100}) {
            std::vector<std::uint8_t> salt = pattern(salt_len, 3);
            std::vector<std::uint8_t> ikm = pattern(ikm_len, 4);
            int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
            char digest[] = "SHA256";
            std::uint8_t empty = 0;
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
                OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm.empty() ? &empty : ikm.data(), ikm.size()),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.empty() ? &empty : salt.data(),
                                                  salt.size()),
                OSSL_PARAM_construct_end()};
            const std::vector<std::uint8_t> ref = libcrypto_kdf("HKDF", params, 32);
            ASSERT_FALSE(ref.empty()) << "salt " << salt_len << " ikm " << ikm_len;
            EXPECT_EQ(as_vector(hkdf_extract(salt, ikm)), ref) << "salt " << salt_len << " ikm " << ikm_len;
        }
    }
}

// TLS 1.3's expansion as libcrypto's TLS13-KDF computes it, over labels, contexts and outputs of
// one, several and the most blocks.
TEST(HkdfExpandLabel, MatchesLibcryptoTls13Kdf) {
    const std::vector<std::uint8_t> secret_bytes = pattern(32, 5);
    Sha256::Digest secret{};
    std::copy(secret_bytes.begin(), secret_bytes.end(), secret.begin());
    for (const std::string_view label : {"quic key", "client in", "quicv2 hp", "c hs traffic", ""}) {
        for (std::size_t context_len : {0, 32, 255}) {
            for (std::size_t out_len : {std::size_t{1}, std::size_t{12}, std::size_t{16}, std::size_t{32}, std::size_t{33}, std::size_t{100}, kMaxHkdfOutputSize}) {
                std::vector<std::uint8_t> context = pattern(context_len, 6);
                int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
                char digest[] = "SHA256";
                char prefix[] = "tls13 ";
                std::string label_text(label);
                std::uint8_t empty = 0;
                OSSL_PARAM params[] = {
                    OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
                    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret.data(), secret.size()),
                    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix, 6),
                    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
                                                      label_text.empty() ? &empty : reinterpret_cast<std::uint8_t*>(label_text.data()),
                                                      label_text.size()),
                    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, context.empty() ? &empty : context.data(),
                                                      context.size()),
                    OSSL_PARAM_construct_end()};
                const std::vector<std::uint8_t> ref = libcrypto_kdf("TLS13-KDF", params, out_len);
                ASSERT_FALSE(ref.empty()) << label << " " << context_len << " " << out_len;
                std::vector<std::uint8_t> ours(out_len);
                ASSERT_TRUE(hkdf_expand_label(secret, label, context, ours));
                EXPECT_EQ(ours, ref) << "label '" << label << "' context " << context_len << " out " << out_len;
            }
        }
    }
}

TEST(HkdfExpandLabel, RefusesWhatTheStructCannotHold) {
    const Sha256::Digest secret{};
    std::vector<std::uint8_t> out(16, 0xee);
    const std::string long_label(kMaxHkdfLabelSize + 1, 'a');
    EXPECT_FALSE(hkdf_expand_label(secret, long_label, {}, out));
    const std::vector<std::uint8_t> long_context(256);
    EXPECT_FALSE(hkdf_expand_label(secret, "quic key", long_context, out));
    std::vector<std::uint8_t> too_long(kMaxHkdfOutputSize + 1);
    EXPECT_FALSE(hkdf_expand_label(secret, "quic key", {}, too_long));
    EXPECT_EQ(out, std::vector<std::uint8_t>(16, 0xee)) << "a refused expansion leaves the output alone";
    EXPECT_TRUE(hkdf_expand_label(secret, std::string(kMaxHkdfLabelSize, 'a'), {}, out));
}

} // namespace
} // namespace wt::parsers
