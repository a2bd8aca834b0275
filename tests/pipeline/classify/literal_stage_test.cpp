// Tests for the classifier's literal hash stage (pipeline/classify/classifier.*): specificity across the
// literal forms at many suffix depths, the regex fallback, case and trailing dots, names at the
// length and label limits, forced hash collisions, and a differential test of classify() against a
// straightforward reference implementation of the rules in classifier.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/services.hpp"

namespace wt::pipeline {
namespace {

// One pattern of a hand-built catalog: form, value (normalized, without "=" or "*."), service.
struct Spec {
    PatternKind kind;
    std::string value;
    std::size_t service;
};

ServiceCatalog make_catalog(const std::vector<Spec>& specs, std::size_t services) {
    ServiceCatalog c;
    c.sources = {"test.toml"};
    for (std::size_t s = 0; s < services; ++s) {
        Service svc;
        svc.name = "s" + std::to_string(s);
        c.services.push_back(svc);
    }
    std::uint32_t line = 1;
    for (const Spec& spec : specs) {
        c.services[spec.service].patterns.push_back(ServicePattern{spec.kind, spec.value, 0, line++});
    }
    return c;
}

ServiceClassifier build_ok(const ServiceCatalog& catalog, const ClassifierOptions& options = {}) {
    auto r = ServiceClassifier::build(catalog, options);
    if (auto* e = std::get_if<ServicesError>(&r)) {
        ADD_FAILURE() << e->format();
        return std::get<ServiceClassifier>(ServiceClassifier::build(ServiceCatalog{}));
    }
    return std::get<ServiceClassifier>(std::move(r));
}

// ---- Reference implementation of the documented rules (classifier.hpp), one pattern at a time.
// Regexes here are limited to [a-z0-9-] literals with optional ^ and $, so that they can be
// evaluated without a regex engine.
bool ends_with_label(std::string_view name, std::string_view suffix) {
    // name ends with "." + suffix
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix &&
           name[name.size() - suffix.size() - 1] == '.';
}

bool simple_regex_matches(std::string_view re, std::string_view name) {
    const bool head = !re.empty() && re.front() == '^';
    if (head) {
        re.remove_prefix(1);
    }
    const bool tail = !re.empty() && re.back() == '$';
    if (tail) {
        re.remove_suffix(1);
    }
    if (head && tail) {
        return name == re;
    }
    if (head) {
        return name.substr(0, re.size()) == re;
    }
    if (tail) {
        return name.size() >= re.size() && name.substr(name.size() - re.size()) == re;
    }
    return name.find(re) != std::string_view::npos;
}

class Reference {
public:
    explicit Reference(const std::vector<Spec>& specs) {
        // Pattern ids: services in file order, then their patterns in order.
        for (const Spec& s : specs) {
            _by_id.push_back(&s);
        }
        std::stable_sort(_by_id.begin(), _by_id.end(),
                         [](const Spec* a, const Spec* b) { return a->service < b->service; });
    }

    [[nodiscard]] std::int32_t classify(std::string_view raw) const {
        if (!raw.empty() && raw.back() == '.') {
            raw.remove_suffix(1);
        }
        if (raw.empty() || raw.size() > 255) {
            return -1;
        }
        std::string name(raw);
        for (char& ch : name) {
            if (ch >= 'A' && ch <= 'Z') {
                ch = static_cast<char>(ch - 'A' + 'a');
            }
        }
        std::uint64_t best_rank = 0;
        std::int32_t best = -1;
        for (const Spec* p : _by_id) {
            std::uint64_t rank = 0;
            switch (p->kind) {
                case PatternKind::kExact:
                    rank = name == p->value ? 1U << 20 : 0;
                    break;
                case PatternKind::kDomain:
                    rank = (name == p->value || ends_with_label(name, p->value)) ? 1024 + p->value.size() : 0;
                    break;
                case PatternKind::kSubdomains:
                    // "." + value ends the name and does not start it.
                    rank = (name.size() > p->value.size() + 1 && ends_with_label(name, p->value))
                               ? 1024 + p->value.size() + 1
                               : 0;
                    break;
                default:
                    rank = simple_regex_matches(p->value, name) ? 1 : 0;
                    break;
            }
            if (rank > best_rank) {  // strictly better: ties keep the lower id
                best_rank = rank;
                best = static_cast<std::int32_t>(p->service);
            }
        }
        return best;
    }

private:
    std::vector<const Spec*> _by_id;
};

// Checks every name against the reference; reports at most 10 differences.
void expect_matches_reference(const std::vector<Spec>& specs, std::size_t services,
                              const std::vector<std::string>& names, const ClassifierOptions& options = {}) {
    const ServiceClassifier c = build_ok(make_catalog(specs, services), options);
    ClassifierScratch scratch(c);
    const Reference reference(specs);
    int reported = 0;
    std::size_t differences = 0;
    for (const std::string& name : names) {
        const std::int32_t got = scratch.classify(name);
        const std::int32_t want = reference.classify(name);
        if (got != want) {
            ++differences;
            if (reported++ < 10) {
                ADD_FAILURE() << "name \"" << name << "\": classify " << got << ", reference " << want;
            }
        }
    }
    EXPECT_EQ(differences, 0U);
    // The burst form gives the same answers, for bursts that are not multiples of kBurst too.
    std::vector<std::string_view> views(names.begin(), names.end());
    std::vector<std::int32_t> burst(names.size() + 1, -7);
    scratch.classify_burst(views, burst);
    EXPECT_EQ(burst.back(), -7);  // only min(names, services) results are written
    std::size_t burst_differences = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        burst_differences += burst[i] != scratch.classify(names[i]) ? 1 : 0;
    }
    EXPECT_EQ(burst_differences, 0U);
    EXPECT_EQ(scratch.scan_errors(), 0U);
}

// ---- Specificity

TEST(LiteralStage, SpecificityAtEverySuffixDepth) {
    // Services listed so that file order never explains a result.
    const std::vector<Spec> specs = {
        {PatternKind::kDomain, "example.com", 0},        // s0
        {PatternKind::kSubdomains, "example.com", 1},    // s1
        {PatternKind::kDomain, "b.example.com", 2},      // s2
        {PatternKind::kSubdomains, "c.b.example.com", 3},  // s3
        {PatternKind::kDomain, "c.b.example.com", 4},    // s4
        {PatternKind::kDomain, "d.c.b.example.com", 5},  // s5
        {PatternKind::kExact, "d.c.b.example.com", 6},   // s6
        {PatternKind::kRegex, "^x\\.", 7},               // s7: below every literal
    };
    const ServiceClassifier c = build_ok(make_catalog(specs, 8));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("example.com"), 0);        // "*." does not match the name itself
    EXPECT_EQ(s.classify("x.example.com"), 1);      // ".example.com" beats "example.com"
    EXPECT_EQ(s.classify("b.example.com"), 2);      // longer suffix
    EXPECT_EQ(s.classify("x.b.example.com"), 2);
    EXPECT_EQ(s.classify("c.b.example.com"), 4);    // s3 needs a label in front
    EXPECT_EQ(s.classify("x.c.b.example.com"), 3);  // ".c.b.example.com" beats "c.b.example.com"
    EXPECT_EQ(s.classify("d.c.b.example.com"), 6);  // exact beats the domain form of the same name
    EXPECT_EQ(s.classify("x.d.c.b.example.com"), 5);
    EXPECT_EQ(s.classify("y.x.d.c.b.example.com"), 5);
    EXPECT_EQ(s.classify("D.C.B.Example.COM."), 6);
    EXPECT_EQ(s.classify("x.other.net"), 7);  // no literal: the regex
    EXPECT_EQ(s.classify("y.other.net"), -1);
    EXPECT_EQ(c.literal_count(), 7U);
    EXPECT_EQ(c.regex_count(), 1U);
}

TEST(LiteralStage, DeepChainOfDomainsAndSubdomains) {
    // Labels l39 ... l0 under "base"; domain patterns at even depths, subdomain patterns at depths
    // divisible by 3, each its own service, in reverse depth order in the file.
    std::vector<std::string> suffix(41);
    suffix[0] = "base";
    for (std::size_t d = 1; d <= 40; ++d) {
        suffix[d] = "l" + std::to_string(d - 1) + "." + suffix[d - 1];
    }
    std::vector<Spec> specs;
    std::size_t service = 0;
    for (std::size_t d = 40; d-- > 0;) {
        if (d % 2 == 0) {
            specs.push_back({PatternKind::kDomain, suffix[d], service++});
        }
        if (d % 3 == 0) {
            specs.push_back({PatternKind::kSubdomains, suffix[d], service++});
        }
    }
    std::vector<std::string> names;
    for (std::size_t d = 0; d <= 40; ++d) {
        names.push_back(suffix[d]);
        names.push_back("x." + suffix[d]);
        names.push_back("X.Y." + suffix[d] + ".");
    }
    expect_matches_reference(specs, service, names);
}

TEST(LiteralStage, LiteralBeatsRegexThatComesFirst) {
    const std::vector<Spec> specs = {
        {PatternKind::kRegex, "example", 0},
        {PatternKind::kDomain, "example.com", 1},
        {PatternKind::kRegex, "^api", 2},
    };
    const ServiceClassifier c = build_ok(make_catalog(specs, 3));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("api.example.com"), 1);
    EXPECT_EQ(s.classify("example.org"), 0);
    EXPECT_EQ(s.classify("api.example.org"), 0);  // both regexes: the lower id
    EXPECT_EQ(s.classify("api.test"), 2);
}

TEST(LiteralStage, RegexOnlyCatalogHasNoTable) {
    const std::vector<Spec> specs = {{PatternKind::kRegex, "^ads[0-9]*\\.", 0}, {PatternKind::kRegex, "tracker", 1}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 2));
    EXPECT_EQ(c.literal_count(), 0U);
    EXPECT_EQ(c.literal_table_bytes(), 0U);
    EXPECT_GT(c.regex_database_bytes(), 0U);
    EXPECT_EQ(c.database_bytes(), c.regex_database_bytes());
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("ads12.example.com"), 0);
    EXPECT_EQ(s.classify("ADS.tracker.net."), 0);
    EXPECT_EQ(s.classify("my.tracker.net"), 1);
    EXPECT_EQ(s.classify("example.com"), -1);
    ClassifierScratch clone = s.clone();
    EXPECT_EQ(clone.classify("my.tracker.net"), 1);
}

TEST(LiteralStage, LiteralOnlyCatalogHasNoHyperscanDatabase) {
    const std::vector<Spec> specs = {{PatternKind::kDomain, "example.com", 0},
                                     {PatternKind::kDomain, "example.com", 1},  // duplicate: s0 keeps it
                                     {PatternKind::kExact, "example.com", 1},
                                     {PatternKind::kSubdomains, "example.com", 1},
                                     {PatternKind::kDomain, "a-rather-long-name-for-a-slot.example.net", 1}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 2));
    EXPECT_EQ(c.pattern_count(), 5U);
    EXPECT_EQ(c.literal_count(), 4U);
    EXPECT_EQ(c.regex_count(), 0U);
    EXPECT_EQ(c.regex_database_bytes(), 0U);
    // Sized for the 5 literal patterns at load 0.5: 10 slots = 5 buckets of 64 bytes, plus the
    // 41-byte name that does not fit in a slot.
    EXPECT_EQ(c.literal_table_bytes(), 5U * 64U + 41U);
    EXPECT_EQ(c.database_bytes(), c.literal_table_bytes());
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("example.com"), 1);  // exact
    EXPECT_EQ(s.classify("www.example.com"), 1);  // "*.": longer than the domain form
    EXPECT_EQ(s.classify("x.a-rather-long-name-for-a-slot.example.net"), 1);
    EXPECT_EQ(s.classify("a-rather-long-name-for-a-slot.example.net"), 1);
    EXPECT_EQ(s.classify("x.a-rather-long-name-for-a-slot.example.nex"), -1);
    EXPECT_EQ(s.classify("b-rather-long-name-for-a-slot.example.net"), -1);
    ClassifierScratch clone = s.clone();
    EXPECT_EQ(clone.classify("www.example.com"), 1);
    EXPECT_EQ(s.scan_errors(), 0U);
}

// ---- Name shapes

TEST(LiteralStage, UppercaseEverywhereAndTrailingDot) {
    const std::vector<Spec> specs = {{PatternKind::kDomain, "abcdefghijklmnopqrstuvwxyz.example", 0},
                                     {PatternKind::kExact, "z.y", 1}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 2));
    ClassifierScratch s(c);
    const std::string base = "abcdefghijklmnopqrstuvwxyz.example";
    // Every single byte position uppercased (crosses every position in an 8-byte word).
    for (std::size_t i = 0; i < base.size(); ++i) {
        std::string name = "q." + base;
        if (name[i + 2] >= 'a' && name[i + 2] <= 'z') {
            name[i + 2] = static_cast<char>(name[i + 2] - 'a' + 'A');
        }
        EXPECT_EQ(s.classify(name), 0) << name;
        EXPECT_EQ(s.classify(name + "."), 0) << name;
        EXPECT_EQ(s.classify(name + ".."), -1) << name;
    }
    EXPECT_EQ(s.classify("ABCDEFGHIJKLMNOPQRSTUVWXYZ.EXAMPLE"), 0);
    EXPECT_EQ(s.classify("Z.Y."), 1);
    EXPECT_EQ(s.classify("z.y.."), -1);
    EXPECT_EQ(s.classify("."), -1);
    EXPECT_EQ(s.classify(".z.y"), -1);
}

TEST(LiteralStage, OnlyAsciiLettersAreFolded) {
    // Bytes next to 'A'..'Z' and their high-bit twins must not be changed by lowercasing
    // (a hand-built catalog can hold them; the loader would reject them).
    const std::vector<Spec> specs = {{PatternKind::kDomain, "`.com", 0},
                                     {PatternKind::kDomain, "{.com", 1},
                                     {PatternKind::kDomain, "\xe1.com", 2},
                                     {PatternKind::kDomain, "a.com", 3}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 4));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("@.com"), -1);  // '@' + 0x20 would be '`'
    EXPECT_EQ(s.classify("[.com"), -1);  // '[' + 0x20 would be '{'
    EXPECT_EQ(s.classify("`.com"), 0);
    EXPECT_EQ(s.classify("\xc1.com"), -1);  // 'A' | 0x80 is not a letter
    EXPECT_EQ(s.classify("\xe1.com"), 2);
    EXPECT_EQ(s.classify("A.COM"), 3);
}

TEST(LiteralStage, NamesAtTheLengthLimits) {
    // 253-byte literal (the longest the loader accepts): labels of 63 + 63 + 63 + 61 bytes.
    const std::string longest =
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd');
    ASSERT_EQ(longest.size(), 253U);
    const std::vector<Spec> specs = {{PatternKind::kExact, longest, 0}, {PatternKind::kSubdomains, longest, 1},
                                     {PatternKind::kDomain, longest.substr(64), 2}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 3));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify(longest), 0);
    EXPECT_EQ(s.classify(longest + "."), 0);
    EXPECT_EQ(s.classify("x." + longest), 1);  // 255 bytes
    EXPECT_EQ(s.classify("x." + longest + "."), 1);
    EXPECT_EQ(s.classify("xy." + longest), -1);  // 256 bytes: longer than any DNS name
    EXPECT_EQ(s.classify("b" + longest.substr(64)), -1);
    EXPECT_EQ(s.classify("x." + longest.substr(64)), 2);
    std::string wrong_last = longest;
    wrong_last.back() = 'e';
    EXPECT_EQ(s.classify(wrong_last), -1);

    // A 254-byte literal is refused like any invalid domain pattern.
    auto r = ServiceClassifier::build(make_catalog({{PatternKind::kDomain, longest + "e", 0}}, 1));
    ASSERT_TRUE(std::holds_alternative<ServicesError>(r));
    EXPECT_EQ(std::get<ServicesError>(r).format().substr(0, 38), "test.toml:1: invalid domain pattern (\"");
}

TEST(LiteralStage, EveryLiteralLengthAndEveryMismatchPosition) {
    // Literal lengths 1..70 cross the in-slot limit (24 bytes) and every word boundary; a name
    // that differs from a literal in one byte must miss it.
    std::vector<Spec> specs;
    std::vector<std::string> names;
    for (std::size_t len = 1; len <= 70; ++len) {
        std::string value;
        for (std::size_t i = 0; i < len; ++i) {
            value.push_back(i % 9 == 8 && i + 1 < len ? '.' : static_cast<char>('a' + (i * 7 + len) % 26));
        }
        specs.push_back({PatternKind::kDomain, value, len - 1});
        names.push_back(value);
        names.push_back("x." + value);
        for (std::size_t i = 0; i < len; ++i) {
            std::string wrong = value;
            wrong[i] = wrong[i] == '.' ? '-' : '0';
            names.push_back(wrong);
            names.push_back("x." + wrong);
        }
        names.push_back(value.substr(1));
        names.push_back("y" + value);
    }
    expect_matches_reference(specs, 70, names);
    // Without tags and with a full table, each of those names is compared with slots of the
    // same length byte by byte, so every word of the comparison is exercised.
    expect_matches_reference(specs, 70, names, ClassifierOptions{1.0, 0});
}

TEST(LiteralStage, NameWith127Labels) {
    std::string name = "a";
    for (int i = 1; i < 127; ++i) {
        name += ".a";
    }
    ASSERT_EQ(name.size(), 253U);
    std::vector<Spec> specs;
    std::vector<std::string> names = {name, name + ".", "b." + name, "a." + name, name.substr(2)};
    expect_matches_reference({{PatternKind::kDomain, "a", 0}}, 1, names);
    specs.push_back({PatternKind::kDomain, "a", 0});
    specs.push_back({PatternKind::kSubdomains, "a.a", 1});
    expect_matches_reference(specs, 2, names);
    specs.push_back({PatternKind::kDomain, name.substr(50), 2});  // 102 labels
    expect_matches_reference(specs, 3, names);
    specs.push_back({PatternKind::kExact, name.substr(2), 3});
    expect_matches_reference(specs, 4, names);

    const ServiceClassifier c = build_ok(make_catalog(specs, 4));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify(name), 2);
    EXPECT_EQ(s.classify(name.substr(2)), 3);
    EXPECT_EQ(s.classify(name.substr(198)), 1);  // 28 labels: below the 102-label domain
    EXPECT_EQ(s.classify("a"), 0);
}

TEST(LiteralStage, EmptyLabelsAndLeadingDots) {
    // Names may hold empty labels; hand-built literals may start with '.', which makes a domain
    // literal ".x" rank like "*.x" (same matched length): the tie goes to the lower pattern id.
    const std::vector<Spec> specs = {
        {PatternKind::kSubdomains, "b.com", 0},
        {PatternKind::kDomain, ".b.com", 1},
        {PatternKind::kDomain, ".c.com", 2},
        {PatternKind::kSubdomains, "c.com", 3},
        {PatternKind::kDomain, "d.com", 4},
    };
    const ServiceClassifier c = build_ok(make_catalog(specs, 5));
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("x..b.com"), 0);  // tie: "*.b.com" is the lower id
    EXPECT_EQ(s.classify("x..c.com"), 2);  // tie: ".c.com" is the lower id
    EXPECT_EQ(s.classify(".b.com"), 1);    // "*.b.com" needs a label before the dot
    EXPECT_EQ(s.classify("..b.com"), 0);   // ... an empty one will do
    EXPECT_EQ(s.classify("a..d.com"), 4);
    EXPECT_EQ(s.classify(".d.com"), 4);
    std::vector<std::string> names;
    for (const char* prefix : {"", ".", "..", "x.", "x..", ".x.", "x...", "..."}) {
        for (const char* base : {"b.com", "c.com", "d.com", ".b.com", "com", "."}) {
            names.push_back(std::string(prefix) + base);
        }
    }
    expect_matches_reference(specs, 5, names);
}

// ---- Collisions

TEST(LiteralStage, FullTableWithoutTags) {
    // Load 1.0 and no tag bits: every bucket full, long overflow runs that wrap around the table
    // end, and every probe compares names byte by byte.
    const std::vector<Spec> specs = {{PatternKind::kDomain, "a.com", 0},
                                     {PatternKind::kExact, "b.com", 1},
                                     {PatternKind::kSubdomains, "a.com", 2}};
    const ClassifierOptions tight{1.0, 0};
    const ServiceClassifier c = build_ok(make_catalog(specs, 3), tight);
    EXPECT_EQ(c.literal_table_bytes(), 2U * 64U);  // 3 literals in 2 buckets
    ClassifierScratch s(c);
    EXPECT_EQ(s.classify("a.com"), 0);
    EXPECT_EQ(s.classify("x.a.com"), 2);
    EXPECT_EQ(s.classify("b.com"), 1);
    EXPECT_EQ(s.classify("x.b.com"), -1);
    EXPECT_EQ(s.classify("c.com"), -1);
    EXPECT_EQ(s.classify("com"), -1);
}

// "h<i % 997>.n<i / 997>.example" (appended piece by piece: GCC 12 warns falsely on operator+).
std::string similar_name(std::size_t i) {
    std::string v = "h";
    v += std::to_string(i % 997);
    v += ".n";
    v += std::to_string(i / 997);
    v += ".example";
    return v;
}

std::vector<Spec> many_similar_literals(std::size_t count, std::size_t services) {
    std::vector<Spec> specs;
    for (std::size_t i = 0; i < count; ++i) {
        const auto kind = static_cast<PatternKind>(i % 3);  // kDomain, kExact, kSubdomains
        specs.push_back({kind, similar_name(i), i % services});
    }
    return specs;
}

TEST(LiteralStage, ForcedCollisionsGiveTheSameAnswers) {
    const std::vector<Spec> specs = many_similar_literals(3000, 40);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < 3100; i += 7) {
        const std::string v = similar_name(i);
        names.push_back(v);
        names.push_back(std::string("w.").append(v));
        names.push_back(std::string("w").append(v));
    }
    for (const ClassifierOptions& options : {ClassifierOptions{}, ClassifierOptions{1.0, 0}, ClassifierOptions{1.0, 1},
                                             ClassifierOptions{0.9, 4}, ClassifierOptions{0.05, 16}}) {
        SCOPED_TRACE(testing::Message() << "max_load " << options.max_load << " tag_bits " << options.tag_bits);
        expect_matches_reference(specs, 40, names, options);
    }
}

TEST(LiteralStage, BurstOfEveryLengthAndShape) {
    const std::vector<Spec> specs = {{PatternKind::kDomain, "example.com", 0}, {PatternKind::kRegex, "^r[0-9]", 1}};
    const ServiceClassifier c = build_ok(make_catalog(specs, 2));
    ClassifierScratch s(c);
    const std::vector<std::string_view> pool = {"a.example.com", "r1.net", "miss.net", "", ".", "EXAMPLE.COM."};
    for (std::size_t n = 0; n <= 2 * ClassifierScratch::kBurst + 3; ++n) {
        std::vector<std::string_view> names;
        for (std::size_t i = 0; i < n; ++i) {
            names.push_back(pool[(i * 5 + n) % pool.size()]);
        }
        std::vector<std::int32_t> out(n, -7);
        s.classify_burst(names, out);
        for (std::size_t i = 0; i < n; ++i) {
            EXPECT_EQ(out[i], s.classify(names[i])) << n << " " << i;
        }
        std::vector<std::int32_t> shorter(n / 2, -7);
        s.classify_burst(names, shorter);  // fewer outputs than names: the first n / 2 only
        for (std::size_t i = 0; i < shorter.size(); ++i) {
            EXPECT_EQ(shorter[i], out[i]);
        }
    }
    const ServiceClassifier empty = build_ok(ServiceCatalog{});
    ClassifierScratch e(empty);
    std::vector<std::string_view> one = {"example.com"};
    std::vector<std::int32_t> out = {5};
    e.classify_burst(one, out);
    EXPECT_EQ(out[0], -1);
}

TEST(LiteralStage, InvalidOptions) {
    const ServiceCatalog c = make_catalog({{PatternKind::kDomain, "a.com", 0}}, 1);
    for (const ClassifierOptions& options : {ClassifierOptions{0.0, 16}, ClassifierOptions{1.5, 16},
                                             ClassifierOptions{0.5, 17}}) {
        auto r = ServiceClassifier::build(c, options);
        ASSERT_TRUE(std::holds_alternative<ServicesError>(r));
        EXPECT_EQ(std::get<ServicesError>(r).format(), "test.toml: invalid classifier options");
    }
}

// ---- Differential test against the reference

class RandomCatalog {
public:
    explicit RandomCatalog(std::uint64_t seed) : _rng(seed) {}

    // Few, short labels so that suffixes are shared a lot; two 21-byte ones so that names cross
    // the 24-byte in-slot limit.
    std::string label() {
        static const std::vector<std::string> kLabels = {"a",   "b",  "ab",  "www", "x-1", "cdn", "_s",
                                                         "com", "net", "io", "zz",  "q",   "abcdefghijklmnopqrstu",
                                                         "long-label-0123456789"};
        return kLabels[_rng() % kLabels.size()];
    }
    std::string domain(std::size_t min_labels, std::size_t max_labels) {
        const std::size_t n = min_labels + _rng() % (max_labels - min_labels + 1);
        std::string d = label();
        for (std::size_t i = 1; i < n; ++i) {
            d = label() + "." + d;
        }
        return d;
    }
    std::uint64_t next() { return _rng(); }

private:
    std::mt19937_64 _rng;
};

TEST(LiteralStage, MatchesReferenceOnRandomCatalog) {
    RandomCatalog gen(20261126);
    constexpr std::size_t kServices = 500;
    std::vector<Spec> specs;
    for (std::size_t i = 0; i < 5000; ++i) {
        const std::uint64_t r = gen.next() % 100;
        const std::size_t service = gen.next() % kServices;
        if (r < 2) {
            static const std::vector<std::string> kRegexes = {"^ab", "cdn", "net$", "^q$", "x-1"};
            specs.push_back({PatternKind::kRegex, kRegexes[gen.next() % kRegexes.size()], service});
        } else if (r < 40) {
            specs.push_back({PatternKind::kDomain, gen.domain(1, 4), service});
        } else if (r < 70) {
            specs.push_back({PatternKind::kExact, gen.domain(1, 5), service});
        } else {
            specs.push_back({PatternKind::kSubdomains, gen.domain(1, 4), service});
        }
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < 20000; ++i) {
        std::string name = gen.domain(1, 8);
        const std::uint64_t r = gen.next() % 100;
        if (r < 3) {
            name = name + ".." + gen.domain(1, 2);  // an empty label
        } else if (r < 5) {
            name = "." + name;
        }
        for (char& ch : name) {
            if (ch >= 'a' && ch <= 'z' && gen.next() % 10 == 0) {
                ch = static_cast<char>(ch - 'a' + 'A');
            }
        }
        if (gen.next() % 5 == 0) {
            name += ".";
        }
        names.push_back(name);
    }
    expect_matches_reference(specs, kServices, names);

    // A sparse table of >= 4 MiB takes the other path: the regexes are scanned while the table
    // lines load, and their answer must still rank below every literal.
    const ClassifierOptions sparse{0.02, 16};
    EXPECT_GE(build_ok(make_catalog(specs, kServices), sparse).literal_table_bytes(), std::size_t{4} << 20);
    expect_matches_reference(specs, kServices, std::vector<std::string>(names.begin(), names.begin() + 5000), sparse);
}

TEST(LiteralStage, MatchesReferenceWithHandBuiltOddLiterals) {
    // Literals with leading dots and empty labels (hand-built catalogs only) and names full of dots.
    RandomCatalog gen(7);
    constexpr std::size_t kServices = 50;
    std::vector<Spec> specs;
    for (std::size_t i = 0; i < 600; ++i) {
        std::string value = gen.domain(1, 3);
        const std::uint64_t r = gen.next() % 10;
        if (r < 3) {
            value = "." + value;
        } else if (r < 5) {
            value = gen.label() + ".." + value;
        }
        specs.push_back({static_cast<PatternKind>(gen.next() % 3), value, gen.next() % kServices});
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < 5000; ++i) {
        std::string name;
        const std::size_t parts = 1 + gen.next() % 6;
        for (std::size_t p = 0; p < parts; ++p) {
            if (p > 0 || gen.next() % 4 == 0) {
                name += std::string(1 + gen.next() % 2, '.');
            }
            name += gen.next() % 5 == 0 ? std::string() : gen.label();
        }
        names.push_back(name);
    }
    expect_matches_reference(specs, kServices, names);
    expect_matches_reference(specs, kServices, names, ClassifierOptions{1.0, 0});
}

}  // namespace
}  // namespace wt::pipeline
