// classify() must not allocate (STYLE.md lesson 5): this binary replaces the global operator new
// with a counting one and checks that 10k classify calls over hits and misses allocate nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/services.hpp"
#include "tests/support/alloc_counter.hpp"

namespace wt::pipeline {
namespace {

TEST(ClassifierAlloc, ClassifyDoesNotAllocate) {
    auto loaded = load_services_text(R"([[service]]
name = "A"
patterns = ["example.com", "=exact.example.org", "*.cdn.example.net", '/^x[0-9]+\.example\.io$/']
[[service]]
name = "B"
patterns = ["api.example.com"]
)", "alloc.toml", "");
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded));
    auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
    ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built));
    const ServiceClassifier& c = std::get<ServiceClassifier>(built);
    ClassifierScratch scratch(c);
    const std::vector<std::string> names = {"www.example.com", "v1.api.example.com", "exact.example.org",
                                            "a.cdn.example.net", "x42.example.io", "miss.example.net",
                                            "EXAMPLE.COM.", "notexample.com", "", std::string(300, 'a')};
    const std::size_t before = wt::testing::allocation_count();
    std::int64_t sum = 0;
    for (int i = 0; i < 10000; ++i) {
        sum += scratch.classify(names[static_cast<std::size_t>(i) % names.size()]);
    }
    const std::size_t after = wt::testing::allocation_count();
    EXPECT_EQ(after - before, 0U);
    // 1000 rounds of {0, 1, 0, 0, 0, -1, 0, -1, -1, -1}.
    EXPECT_EQ(sum, 1000 * (0 + 1 + 0 + 0 + 0 - 1 + 0 - 1 - 1 - 1));
    EXPECT_EQ(scratch.scan_errors(), 0U);

    auto defaults = load_default_services();
    ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(defaults));
    auto built2 = ServiceClassifier::build(std::get<ServiceCatalog>(defaults));
    ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built2));
    ClassifierScratch scratch2(std::get<ServiceClassifier>(built2));
    const std::size_t before2 = wt::testing::allocation_count();
    for (int i = 0; i < 10000; ++i) {
        sum += scratch2.classify(names[static_cast<std::size_t>(i) % names.size()]);
    }
    EXPECT_EQ(wt::testing::allocation_count() - before2, 0U);
}

TEST(ClassifierAlloc, EveryStageAndNameShapeDoesNotAllocate) {
    // Literal-only, regex-only and mixed catalogs; names that hit the table, fall back to the
    // regexes, use a long (out-of-slot) literal, have 127 labels or the maximum length.
    std::string many_labels = "a";
    for (int i = 1; i < 127; ++i) {
        many_labels += ".a";
    }
    const std::vector<std::string> names = {"www.example.com",
                                            "a.very-long-literal-name-outside-the-slot.example",
                                            "x7.regex.test",
                                            many_labels,
                                            std::string("b.").append(many_labels),
                                            std::string(255, 'z'),
                                            "MISS.example.NET.",
                                            "a..b.example.com",
                                            "."};
    const char* catalogs[] = {
        R"([[service]]
name = "L"
patterns = ["example.com", "=exact.example.org", "*.a.a", "very-long-literal-name-outside-the-slot.example"]
)",
        R"([[service]]
name = "R"
patterns = ['/^x[0-9]+\.regex\.test$/', '/example/']
)",
        R"([[service]]
name = "M"
patterns = ["example.com", '/^x[0-9]+\.regex\.test$/', "a", "*.b.example.com"]
)"};
    for (const char* toml : catalogs) {
        auto loaded = load_services_text(toml, "alloc.toml", "");
        ASSERT_TRUE(std::holds_alternative<ServiceCatalog>(loaded)) << std::get<ServicesError>(loaded).format();
        auto built = ServiceClassifier::build(std::get<ServiceCatalog>(loaded));
        ASSERT_TRUE(std::holds_alternative<ServiceClassifier>(built));
        ClassifierScratch scratch(std::get<ServiceClassifier>(built));
        std::int64_t hits = 0;
        const std::vector<std::string_view> views(names.begin(), names.end());
        std::vector<std::int32_t> out(views.size());
        const std::size_t before = wt::testing::allocation_count();
        for (int i = 0; i < 1000; ++i) {
            hits += scratch.classify(names[static_cast<std::size_t>(i) % names.size()]) >= 0 ? 1 : 0;
        }
        for (int i = 0; i < 100; ++i) {
            scratch.classify_burst(views, out);
        }
        EXPECT_EQ(wt::testing::allocation_count() - before, 0U) << toml;
        EXPECT_GT(hits, 0) << toml;
        EXPECT_EQ(scratch.scan_errors(), 0U);
    }
}

}  // namespace
}  // namespace wt::pipeline
