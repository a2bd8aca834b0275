// Cross-check against the nDPI reference corpus: 40 real ClientHellos (one per distinct
// JA4) from the nDPI corpus (../shared/corpus/ndpi), extracted by gen_ndpi_vectors.py, must parse and
// give nDPI's JA4, except for the deviations listed in kKnownDeviations.
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/ja4.hpp"

#include "ndpi_vectors.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wt::parsers {
namespace {

struct Deviation {
    std::string_view pcap;
    std::string_view client;
    std::string_view ours;
    std::string_view reason;
};

// Flows where we are sure the spec disagrees with nDPI; kept and reported.
constexpr Deviation kKnownDeviations[] = {
#include "ndpi_deviations.inc"
    {"", "", "", "sentinel: keeps the array non-empty"},
};

const Deviation* deviation_for(const ndpi_vectors::NdpiHello& h) {
    for (const auto& d : kKnownDeviations) {
        if (!d.pcap.empty() && d.pcap == h.pcap && d.client == h.client) {
            return &d;
        }
    }
    return nullptr;
}

TEST(TlsNdpiCorpus, Ja4MatchesNdpi) {
    std::vector<std::uint8_t> scratch(limits::kMaxClientHelloSize);
    std::size_t matched = 0;
    for (const auto& h : ndpi_vectors::kHellos) {
        SCOPED_TRACE(std::string(h.pcap) + " " + std::string(h.client));
        Bytes msg;
        ASSERT_EQ(tls_first_handshake(h.stream, 1, scratch, msg), ParseStatus::kOk);
        TlsClientHello ch;
        const ParseStatus st = parse_client_hello(msg, ch);
        ASSERT_EQ(st, ParseStatus::kOk);
        if (!h.name.empty() && ch.has_sni) {
            EXPECT_EQ(ch.sni.view(), h.name);
        }
        FixedString<40> fp;
        ja4_fingerprint(ch, 't', fp);
        if (const Deviation* d = deviation_for(h)) {
            EXPECT_EQ(fp.view(), d->ours) << d->reason;
            EXPECT_NE(fp.view(), h.ja4);
            continue;
        }
        EXPECT_EQ(fp.view(), h.ja4) << "MISMATCH " << h.pcap << " " << h.client << " ours=" << fp.view()
                                    << " ndpi=" << h.ja4 << " name=" << h.name << " sni=" << ch.sni.view()
                                    << " alpn0=" << (ch.alpn_count ? ch.alpn[0].view() : "");
        matched += fp.view() == h.ja4 ? 1 : 0;
    }
    EXPECT_GE(matched, 20u); // 20 of 40 differ from nDPI only by the documented deviations
}

} // namespace
} // namespace wt::parsers
