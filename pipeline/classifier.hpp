// Service classifier: maps a host name (SNI, DNS qname, HTTP Host) to the index of the service
// in a ServiceCatalog whose patterns match it, using ONE Hyperscan block-mode database.
//
// Database layout (built off the data path by ServiceClassifier::build):
//   * domain forms are compiled as unanchored, escaped lowercase literals ("example\.com",
//     "\.example\.com" for *.example.com), case-sensitive (classify() scans a lowercased stack copy
//     of the name: ~20% faster than HS_FLAG_CASELESS at 100k literals) and without
//     SINGLEMATCH (a later occurrence may be the one that ends the name); the match callback checks the
//     position (the match must end at the end of the name; "=x" must start at 0; "x" must start at 0
//     or right after a '.'). Hyperscan compiles these as pure literals (same database as
//     hs_compile_lit_multi). Anchoring them with ^/$ instead made compilation ~50x slower
//     (measured with Hyperscan 5.4: 10 s instead of 0.2 s for 1,000 names), so positions are
//     checked in the callback.
//   * /regex/ patterns are compiled as written with HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH.
//   Expression id = pattern index in catalog order (services in file order, then their patterns).
//
// Specificity (the most specific pattern wins; ties go to the lower id, i.e. file order):
//   1. "=name" exact match
//   2. domain/subdomain suffix match, the longer matched suffix first; "*.example.com" counts as
//      ".example.com" (one longer than "example.com": it names a strict subset)
//   3. /regex/ matches, below every literal match
//
// Threading: ServiceClassifier is immutable after build and shared read-only by all workers.
// Each worker owns one ClassifierScratch (hs_runtime.h: one scratch per thread); it refers to the
// classifier, which must outlive it. classify() does not allocate and does not throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/services.hpp"

struct hs_database;
struct hs_scratch;

namespace wt::pipeline {

class ServiceClassifier {
public:
    /// Compiles the catalog. An empty catalog gives a classifier that matches nothing.
    /// Errors point at the pattern Hyperscan rejected ("FILE:LINE: ...").
    [[nodiscard]] static std::variant<ServiceClassifier, ServicesError> build(const ServiceCatalog& catalog);

    /// Compiles one regex body with the classifier's flags; returns Hyperscan's message or "".
    [[nodiscard]] static std::string check_regex(const std::string& expression);

    ServiceClassifier(ServiceClassifier&&) noexcept;
    ServiceClassifier& operator=(ServiceClassifier&&) noexcept;
    ServiceClassifier(const ServiceClassifier&) = delete;
    ServiceClassifier& operator=(const ServiceClassifier&) = delete;
    ~ServiceClassifier();

    [[nodiscard]] std::size_t service_count() const noexcept { return _names.size(); }
    [[nodiscard]] std::size_t pattern_count() const noexcept { return _patterns.size(); }
    /// Empty for an index that is not a service (e.g. -1).
    [[nodiscard]] std::string_view service_name(std::int32_t index) const noexcept;
    [[nodiscard]] std::string_view service_category(std::int32_t index) const noexcept;
    /// hs_database_size(); 0 for an empty catalog.
    [[nodiscard]] std::size_t database_bytes() const noexcept;

    // Per-pattern data read by the match callback.
    struct PatternInfo {
        std::uint32_t service;  ///< index into the catalog's services
        std::uint32_t rank;     ///< higher = more specific (see the header comment)
        std::uint16_t length;   ///< literal length as compiled (0 for regexes)
        PatternKind kind;
    };

private:
    friend class ClassifierScratch;
    ServiceClassifier() = default;

    struct DatabaseDeleter {
        void operator()(hs_database* db) const noexcept;
    };
    std::unique_ptr<hs_database, DatabaseDeleter> _db;
    std::vector<PatternInfo> _patterns;
    std::vector<std::string> _names;
    std::vector<std::string> _categories;
};

class ClassifierScratch {
public:
    /// Allocates Hyperscan scratch for `classifier` (which must outlive this object).
    /// Throws std::bad_alloc if Hyperscan cannot allocate. Not for the data path.
    explicit ClassifierScratch(const ServiceClassifier& classifier);
    /// Another scratch for the same classifier (hs_clone_scratch), for another worker.
    [[nodiscard]] ClassifierScratch clone() const;

    ClassifierScratch(ClassifierScratch&&) noexcept;
    ClassifierScratch& operator=(ClassifierScratch&&) noexcept;
    ClassifierScratch(const ClassifierScratch&) = delete;
    ClassifierScratch& operator=(const ClassifierScratch&) = delete;
    ~ClassifierScratch();

    /// Service index of the most specific matching pattern, or -1. One trailing dot is ignored;
    /// case-insensitive. No allocation, no exceptions. A Hyperscan error (HS_SCRATCH_IN_USE means
    /// two threads share this scratch: a bug) returns -1 and is counted.
    [[nodiscard]] std::int32_t classify(std::string_view name) noexcept;

    [[nodiscard]] std::uint64_t scan_errors() const noexcept { return _scan_errors; }
    [[nodiscard]] std::uint64_t scratch_in_use_errors() const noexcept { return _scratch_in_use; }
    [[nodiscard]] const ServiceClassifier& classifier() const noexcept { return *_classifier; }

private:
    ClassifierScratch(const ServiceClassifier& classifier, hs_scratch* scratch) noexcept
        : _classifier(&classifier), _scratch(scratch) {}

    const ServiceClassifier* _classifier;
    hs_scratch* _scratch = nullptr;
    std::uint64_t _scan_errors = 0;
    std::uint64_t _scratch_in_use = 0;
};

}  // namespace wt::pipeline
