// Our SHA-256 against FIPS 180-4 vectors and libcrypto on many lengths.
#include "parsers/common/sha256.hpp"

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wt::parsers {
namespace {

std::string hex(const Sha256::Digest& d) {
    static constexpr char k[] = "0123456789abcdef";
    std::string s;
    for (auto b : d) {
        s += k[b >> 4];
        s += k[b & 0xf];
    }
    return s;
}

TEST(Sha256, KnownAnswers) {
    EXPECT_EQ(hex(Sha256::hash({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 h;
    h.update(std::string_view("abc"));
    EXPECT_EQ(hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 h2;
    h2.update(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    EXPECT_EQ(hex(h2.finish()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

class Sha256Impl : public ::testing::TestWithParam<Sha256::Impl> {};

// On a CPU without SHA extensions a kShaNi hasher is the portable one (the constructor falls back), so the
// case still holds what callers get; the property says which code ran.
TEST_P(Sha256Impl, MatchesLibcryptoAllLengthsAndSplits) {
    RecordProperty("implementation_ran", Sha256::supported(GetParam()) ? "as requested" : "portable fallback");
    std::vector<std::uint8_t> data(300);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i * 131 + 7);
    }
    for (std::size_t n = 0; n <= data.size(); ++n) {
        unsigned char ref[EVP_MAX_MD_SIZE];
        unsigned int ref_len = 0;
        ASSERT_EQ(EVP_Digest(data.data(), n, ref, &ref_len, EVP_sha256(), nullptr), 1);
        Sha256 one(GetParam());
        one.update(std::span(data.data(), n));
        const Sha256::Digest d = one.finish();
        ASSERT_EQ(std::string(reinterpret_cast<char*>(ref), ref_len), std::string(d.begin(), d.end())) << n;
        // Same bytes in uneven pieces.
        Sha256 h(GetParam());
        for (std::size_t off = 0; off < n;) {
            const std::size_t k = std::min<std::size_t>(n - off, 1 + (off % 67));
            h.update(std::span(data.data() + off, k));
            off += k;
        }
        ASSERT_EQ(h.finish(), d) << n;
    }
}

INSTANTIATE_TEST_SUITE_P(AllImpls, Sha256Impl,
                         ::testing::Values(Sha256::Impl::kPortable, Sha256::Impl::kShaNi));

TEST(Sha256, BestIsSupported) { EXPECT_TRUE(Sha256::supported(Sha256::best())); }

} // namespace
} // namespace wt::parsers
