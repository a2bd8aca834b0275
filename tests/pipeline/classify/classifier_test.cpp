// Tests for pipeline/classify/classifier.*: each pattern form, specificity, case/trailing dot, label
// boundaries, empty catalogs, Hyperscan build errors, scratch cloning and the default services.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/regex.hpp"
#include "pipeline/classify/services.hpp"

namespace wt::pipeline {
namespace {

ServiceClassifier build_ok(const ServiceCatalog& catalog) {
    auto r = ServiceClassifier::build(catalog);
    if (auto* e = std::get_if<ServicesError>(&r)) {
        ADD_FAILURE() << e->format();
        return std::get<ServiceClassifier>(ServiceClassifier::build(ServiceCatalog{}));
    }
    return std::get<ServiceClassifier>(std::move(r));
}

ServiceCatalog catalog_ok(std::string_view toml) {
    ServicesResult r = load_services_text(toml, "c.toml", "");
    if (auto* e = std::get_if<ServicesError>(&r)) {
        ADD_FAILURE() << e->format();
        return {};
    }
    return std::get<ServiceCatalog>(std::move(r));
}

// Classifies with a fresh scratch and returns the service name ("" for no match).
class Fixture {
public:
    explicit Fixture(std::string_view toml) : _classifier(build_ok(catalog_ok(toml))), _scratch(_classifier) {}
    std::string operator()(std::string_view name) {
        return std::string(_classifier.service_name(_scratch.classify(name)));
    }
    ServiceClassifier& classifier() { return _classifier; }
    ClassifierScratch& scratch() { return _scratch; }

private:
    ServiceClassifier _classifier;
    ClassifierScratch _scratch;
};

TEST(Classifier, DomainFormMatchesNameAndSubdomains) {
    Fixture f("[[service]]\nname = \"Ex\"\npatterns = [\"example.com\"]\n");
    EXPECT_EQ(f("example.com"), "Ex");
    EXPECT_EQ(f("www.example.com"), "Ex");
    EXPECT_EQ(f("a.b.c.example.com"), "Ex");
    EXPECT_EQ(f("notexample.com"), "");        // no partial-label match
    EXPECT_EQ(f("www.notexample.com"), "");
    EXPECT_EQ(f("example.com.evil.net"), "");  // must end the name
    EXPECT_EQ(f("example.co"), "");
    EXPECT_EQ(f("xample.com"), "");
    EXPECT_EQ(f("com"), "");
    EXPECT_EQ(f("example.com.example.com"), "Ex");  // second occurrence ends the name
    EXPECT_EQ(f("example-com"), "");                // '.' is literal, not "any character"
}

TEST(Classifier, ExactForm) {
    Fixture f("[[service]]\nname = \"Ex\"\npatterns = [\"=maps.google.com\"]\n");
    EXPECT_EQ(f("maps.google.com"), "Ex");
    EXPECT_EQ(f("MAPS.google.com."), "Ex");
    EXPECT_EQ(f("a.maps.google.com"), "");
    EXPECT_EQ(f("xmaps.google.com"), "");
    EXPECT_EQ(f("google.com"), "");
}

TEST(Classifier, SubdomainForm) {
    Fixture f("[[service]]\nname = \"Ex\"\npatterns = [\"*.gstatic.com\"]\n");
    EXPECT_EQ(f("fonts.gstatic.com"), "Ex");
    EXPECT_EQ(f("a.b.gstatic.com"), "Ex");
    EXPECT_EQ(f("gstatic.com"), "");
    EXPECT_EQ(f("xgstatic.com"), "");
    EXPECT_EQ(f(".gstatic.com"), "");  // an empty label is not a subdomain
}

TEST(Classifier, RegexFormIsNotImplicitlyAnchored) {
    Fixture f(R"([[service]]
name = "Tiles"
patterns = ['/^khms[0-9]+\.google\.com$/']
[[service]]
name = "Anywhere"
patterns = ['/tracker[0-9]/']
)");
    EXPECT_EQ(f("khms0.google.com"), "Tiles");
    EXPECT_EQ(f("KHMS12.Google.Com."), "Tiles");
    EXPECT_EQ(f("xkhms0.google.com"), "");
    EXPECT_EQ(f("khms0.google.com.au"), "");
    EXPECT_EQ(f("khms.google.com"), "");
    EXPECT_EQ(f("a.tracker7.example"), "Anywhere");
    EXPECT_EQ(f("tracker7"), "Anywhere");
    EXPECT_EQ(f("tracker.example"), "");
}

TEST(Classifier, CaseAndTrailingDot) {
    Fixture f("[[service]]\nname = \"Ex\"\npatterns = [\"Example.COM.\"]\n");
    EXPECT_EQ(f("EXAMPLE.com"), "Ex");
    EXPECT_EQ(f("www.example.com."), "Ex");
    EXPECT_EQ(f("www.example.com.."), "");  // only one trailing dot is ignored
    EXPECT_EQ(f("."), "");
    EXPECT_EQ(f(""), "");
}

TEST(Classifier, Specificity) {
    // Services in the "wrong" file order, so order cannot explain the results.
    Fixture f(R"([[service]]
name = "Regex"
patterns = ['/^(api|www|maps)\.example\.com$/', '/^only-regex\./']
[[service]]
name = "Short"
patterns = ["example.com"]
[[service]]
name = "Star"
patterns = ["*.example.com"]
[[service]]
name = "Long"
patterns = ["api.example.com"]
[[service]]
name = "Exact"
patterns = ["=www.example.com", "=example.com"]
)");
    EXPECT_EQ(f("www.example.com"), "Exact");  // exact beats everything
    EXPECT_EQ(f("example.com"), "Exact");      // exact beats the domain form on the same name
    EXPECT_EQ(f("v1.api.example.com"), "Long");
    EXPECT_EQ(f("api.example.com"), "Long");   // longer suffix beats shorter suffix and regex
    EXPECT_EQ(f("maps.example.com"), "Star");  // "*.example.com" (.example.com) beats "example.com"
    EXPECT_EQ(f("only-regex.example.com"), "Star");  // any literal beats a regex
    EXPECT_EQ(f("only-regex.net"), "Regex");
}

TEST(Classifier, TiesGoToFileOrder) {
    Fixture f(R"([[service]]
name = "First"
patterns = ["example.com", '/^a\./']
[[service]]
name = "Second"
patterns = ["example.com", '/^a\./']
)");
    EXPECT_EQ(f("x.example.com"), "First");
    EXPECT_EQ(f("a.net"), "First");
}

TEST(Classifier, SeveralPatternsOfOneService) {
    Fixture f(R"([[service]]
name = "Maps"
category = "maps"
patterns = ["maps.googleapis.com", "=maps.google.com", "*.gstatic.com"]
[[service]]
name = "Google"
patterns = ["google.com", "googleapis.com"]
)");
    EXPECT_EQ(f("maps.googleapis.com"), "Maps");
    EXPECT_EQ(f("www.googleapis.com"), "Google");
    EXPECT_EQ(f("maps.google.com"), "Maps");
    EXPECT_EQ(f("a.maps.google.com"), "Google");
    EXPECT_EQ(f("fonts.gstatic.com"), "Maps");
    EXPECT_EQ(f.classifier().service_count(), 2U);
    EXPECT_EQ(f.classifier().pattern_count(), 5U);
    EXPECT_EQ(f.classifier().service_category(0), "maps");
    EXPECT_EQ(f.classifier().service_category(1), "");
    EXPECT_EQ(f.classifier().service_name(-1), "");
    EXPECT_EQ(f.classifier().service_name(2), "");
    EXPECT_EQ(f.classifier().service_category(7), "");
    EXPECT_GT(f.classifier().database_bytes(), 0U);
}

TEST(Classifier, EmptyCatalogMatchesNothing) {
    const ServiceClassifier c = build_ok(ServiceCatalog{});
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("example.com"), -1);
    EXPECT_EQ(s.classify(""), -1);
    EXPECT_EQ(c.service_count(), 0U);
    EXPECT_EQ(c.database_bytes(), 0U);
    ClassifierScratch s2 = s.clone();
    EXPECT_EQ(s2.classify("example.com"), -1);
    EXPECT_EQ(s.scan_errors(), 0U);

    const ServiceClassifier from_empty_file = build_ok(catalog_ok(""));
    ClassifierScratch s3(from_empty_file);
    EXPECT_EQ(s3.classify("x.y"), -1);
}

TEST(Classifier, LongNamesAreNotScanned) {
    Fixture f("[[service]]\nname = \"Ex\"\npatterns = [\"example.com\"]\n");
    std::string name(255 - 12, 'a');
    name += ".example.com";  // 255 characters: scanned
    EXPECT_EQ(f(name), "Ex");
    EXPECT_EQ(f(name + "."), "Ex");
    EXPECT_EQ(f("a" + name), "");  // 256: longer than any DNS name
    EXPECT_EQ(f.scratch().scan_errors(), 0U);
}

TEST(Classifier, BuildErrorPointsAtThePattern) {
    // A hand-built catalog bypasses the loader's regex check; build() maps Hyperscan's
    // expression index back to the pattern's file and line.
    ServiceCatalog c;
    c.sources = {"main.toml", "list.txt"};
    Service s;
    s.name = "X";
    s.patterns.push_back(ServicePattern{PatternKind::kDomain, "ok.example", 1, 4});
    s.patterns.push_back(ServicePattern{PatternKind::kRegex, "a(b", 0, 9});
    c.services.push_back(s);
    auto r = ServiceClassifier::build(c);
    ASSERT_TRUE(std::holds_alternative<ServicesError>(r));
    EXPECT_EQ(std::get<ServicesError>(r).format(),
              "main.toml:9: Hyperscan rejected the pattern: Missing close parenthesis for group started at "
              "index 1. (\"a(b\")");

    ServiceCatalog bad;
    bad.sources = {"m.toml"};
    Service b;
    b.name = "Y";
    b.patterns.push_back(ServicePattern{PatternKind::kDomain, "", 0, 2});
    bad.services.push_back(b);
    auto r2 = ServiceClassifier::build(bad);
    ASSERT_TRUE(std::holds_alternative<ServicesError>(r2));
    EXPECT_EQ(std::get<ServicesError>(r2).format(), "m.toml:2: invalid domain pattern (\"\")");
}

TEST(Classifier, CheckRegex) {
    EXPECT_EQ(check_service_regex("^a[0-9]+\\.b$"), "");
    EXPECT_EQ(check_service_regex("a(b"), "Missing close parenthesis for group started at index 1.");
}

TEST(Classifier, ScratchPerThread) {
    Fixture f(R"([[service]]
name = "A"
patterns = ["a.example"]
[[service]]
name = "B"
patterns = ["=b.example", '/^c[0-9]\.example$/']
)");
    const std::vector<std::pair<std::string, std::int32_t>> cases = {
        {"x.a.example", 0}, {"b.example", 1}, {"c7.example", 1}, {"x.b.example", -1}, {"miss", -1}};
    std::vector<ClassifierScratch> scratches;
    scratches.push_back(f.scratch().clone());
    scratches.push_back(f.scratch().clone());
    std::vector<int> failures(scratches.size(), 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < scratches.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20000; ++i) {
                const auto& [name, want] = cases[static_cast<std::size_t>(i) % cases.size()];
                failures[t] += scratches[t].classify(name) != want ? 1 : 0;
            }
        });
    }
    for (std::thread& th : threads) {
        th.join();
    }
    for (std::size_t t = 0; t < scratches.size(); ++t) {
        EXPECT_EQ(failures[t], 0);
        EXPECT_EQ(scratches[t].scan_errors(), 0U);
        EXPECT_EQ(scratches[t].scratch_in_use_errors(), 0U);
        EXPECT_EQ(&scratches[t].classifier(), &f.classifier());
    }
    ClassifierScratch moved = std::move(scratches[0]);
    EXPECT_EQ(moved.classify("b.example"), 1);
}

TEST(Classifier, DefaultServicesClassifyKnownNames) {
    auto loaded = load_default_services();
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded)) << std::get<ServicesError>(loaded).format();
    const ServiceClassifier c = build_ok(std::get<ServiceCatalog>(loaded));
    ClassifierScratch s(c);
    const std::vector<std::pair<std::string_view, std::string_view>> cases = {
        {"courier.push.apple.com", "Apple Push Notifications"},
        {"17-courier.push.apple.com", "Apple Push Notifications"},
        {"gateway.icloud.com", "iCloud"},
        {"mask.icloud.com", "iCloud Private Relay"},
        {"metrics.icloud.com", "Apple Analytics"},
        {"captive.apple.com", "Connectivity Check"},
        {"gs.apple.com", "Apple Services"},
        {"maps.googleapis.com", "Google Maps"},
        {"khms1.google.com", "Google Maps"},
        {"www.googleapis.com", "Google APIs"},
        {"firebaseinstallations.googleapis.com", "Firebase"},
        {"firebase-settings.crashlytics.com", "Firebase"},
        {"app-measurement.com", "Firebase"},
        {"mtalk.google.com", "Google Push (FCM)"},
        {"android.googleapis.com", "Google Push (FCM)"},
        {"www.google.com", "Google"},
        {"rr3---sn-4g5e6nsz.googlevideo.com", "YouTube"},
        {"i.ytimg.com", "YouTube"},
        {"connectivitycheck.gstatic.com", "Connectivity Check"},
        {"fonts.gstatic.com", "Google Static Content"},
        {"securepubads.g.doubleclick.net", "Google Ads"},
        {"graph.facebook.com", "Facebook Graph API"},
        {"scontent.xx.fbcdn.net", "Facebook"},
        {"i.instagram.com", "Instagram"},
        {"g.whatsapp.net", "WhatsApp"},
        {"s3.us-east-1.amazonaws.com", "Amazon Web Services"},
        {"d1234abcd.cloudfront.net", "Amazon CloudFront"},
        {"e1234.a.akamaiedge.net", "Akamai"},
        {"push-apple.com.akadns.net", "Apple Push Notifications"},
        {"audio-ak-spotify-com.akamaized.net", "Spotify"},
        {"cdnjs.cloudflare.com", "Cloudflare"},
        {"cloudflare-dns.com", "Public DNS resolvers"},
        {"mozilla.cloudflare-dns.com", "Public DNS resolvers"},
        {"dns.google", "Public DNS resolvers"},
        {"dns.google.com", "Public DNS resolvers"},
        {"dns.quad9.net", "Public DNS resolvers"},
        {"doh.opendns.com", "Public DNS resolvers"},
        {"global.ssl.fastly.net", "Fastly"},
        {"v16-webapp.tiktok.com", "TikTok"},
        {"ipv4-c001-fra001-ix.1.oca.nflxvideo.net", "Netflix"},
        {"spclient.wg.spotify.com", "Spotify"},
        {"o123.ingest.sentry.io", "Sentry"},
        {"api.segment.io", "Segment"},
        {"inapps.appsflyer.com", "AppsFlyer"},
        {"app.adjust.com", "Adjust"},
        {"api2.branch.io", "Branch"},
        {"events.data.microsoft.com", "Microsoft Telemetry"},
        {"login.microsoftonline.com", "Microsoft"},
        {"outlook.office365.com", "Microsoft 365"},
        {"ocsp.pki.goog", "Certificate Revocation (OCSP/CRL)"},
        {"ocsp.apple.com", "Certificate Revocation (OCSP/CRL)"},
        {"example.org", ""},
        {"notgoogle.com", ""},
        {"cloudflare-dns.com.evil.example", ""},
    };
    for (const auto& [name, want] : cases) {
        EXPECT_EQ(c.service_name(s.classify(name)), want) << name;
    }
    EXPECT_EQ(s.scan_errors(), 0U);
}

}  // namespace
}  // namespace wt::pipeline
