// Service classifier: maps a host name (SNI, DNS qname, HTTP Host) to the index of the service
// in a ServiceCatalog whose patterns match it. Two stages, both built off the data path by
// ServiceClassifier::build and read-only afterwards (issue #4: Hyperscan alone took 95 s to build
// 1M literal patterns and ~1.6 us per name; benches/RESULTS.md has the figures before and after).
//
//   1. Literal stage (exact "=x", domain "x", subdomains "*.x"): one open-addressing hash table
//      keyed by the normalized name, sized at build (slots >= 2x the literals by default) and
//      never resized or allocated from at classify time. A 32-byte slot holds one (name, form):
//      tag, length, form, service, and the name's last 24 bytes (the whole name for nearly all
//      patterns; longer ones are also kept whole in a side array, compared only on a tag match).
//      Two slots make a 64-byte bucket; probing is linear by bucket, and a bucket's overflow bit
//      says whether a probe must go on to the next one, so a miss usually reads one cache line.
//      Memory: 64 bytes per literal at the default load, plus the length of each name longer than
//      24 bytes. Tables of 2 MiB and more are advised onto transparent huge pages.
//      classify() lowercases the name into a stack buffer once, as 8-byte words counted from its
//      end; finds the suffix starts (0 and after each '.') from those words; hashes every suffix
//      with a multiply-fold hash chained over the words (each suffix costs one more multiply);
//      prefetches every suffix's bucket, so that their cache misses overlap; then probes from the
//      longest suffix to the shortest. The first applicable hit is the most specific literal.
//      Names are at most 255 bytes, so there are at most 128 suffixes.
//   2. Regex stage: /regex/ patterns in one Hyperscan block-mode database, compiled as written
//      with HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH (expression id = service index), scanned over
//      the lowercase copy, never when the catalog has no regexes, and its answer used only when
//      no literal matched. With a small table it is scanned only then; with a table of 4 MiB and
//      more (whose lines are rarely cached) classify() scans it while the prefetched table lines
//      are loading, so that its cost hides under that cache miss instead of adding to it.
//
// Specificity (the most specific pattern wins; ties go to the lower pattern id, i.e. file order:
// services in file order, then their patterns):
//   1. "=name" exact match
//   2. domain/subdomain suffix match, the longer matched suffix first; "*.example.com" counts as
//      ".example.com" (one longer than "example.com": it names a strict subset)
//   3. /regex/ matches, below every literal match
// In the table: slots are inserted form by form (exact, subdomains, domain), each form in catalog
// order, so along a probe sequence the first slot of an applicable form is the best one for that
// suffix, and a duplicate (name, form) keeps the first, lowest service. Pattern ids grow with the
// service index, so "lower pattern id" and "lower service index" pick the same service. Literal
// names are compared case-insensitively, like the names they match.
//
// Threading: ServiceClassifier is immutable after build and shared read-only by all workers.
// Each worker owns one ClassifierScratch (hs_runtime.h: one scratch per thread); it refers to the
// classifier, which must outlive it. classify() does not allocate and does not throw.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/classify/hosting_ranges.hpp"
#include "pipeline/classify/services.hpp"

struct hs_database;
struct hs_scratch;

namespace wt::pipeline {

class LowerName;  // classifier.cpp: a name lowercased into words counted from its end

/// Build tuning. Production uses the defaults; tests shrink the table and the tags to force
/// bucket and tag collisions.
struct ClassifierOptions {
    double max_load = 0.5;        ///< literal patterns / table slots, in (0, 1]
    std::uint32_t tag_bits = 16;  ///< bits of the 16-bit slot tag compared before the name (0..16)
};

class ServiceClassifier {
public:
    /// Compiles the catalog. An empty catalog gives a classifier that matches nothing.
    /// Errors point at the pattern Hyperscan rejected ("FILE:LINE: ..."); options out of range
    /// give "FILE: invalid classifier options".
    [[nodiscard]] static std::variant<ServiceClassifier, ServicesError> build(const ServiceCatalog& catalog,
                                                                             const ClassifierOptions& options = {});

    ServiceClassifier(ServiceClassifier&&) noexcept;
    ServiceClassifier& operator=(ServiceClassifier&&) noexcept;
    ServiceClassifier(const ServiceClassifier&) = delete;
    ServiceClassifier& operator=(const ServiceClassifier&) = delete;
    ~ServiceClassifier();

    [[nodiscard]] std::size_t service_count() const noexcept { return _names.size(); }
    [[nodiscard]] std::size_t pattern_count() const noexcept { return _pattern_count; }
    /// Distinct (name, form) entries in the literal table (duplicates merged).
    [[nodiscard]] std::size_t literal_count() const noexcept { return _literal_count; }
    [[nodiscard]] std::size_t regex_count() const noexcept { return _regex_count; }
    /// Empty for an index that is not a service (e.g. -1).
    [[nodiscard]] std::string_view service_name(std::int32_t index) const noexcept;
    [[nodiscard]] std::string_view service_category(std::int32_t index) const noexcept;
    /// The service whose `asns` list `asn` (issue #14: hosting-derived fallback); -1 when none.
    [[nodiscard]] std::int32_t service_for_asn(std::uint32_t asn) const noexcept;
    /// Every AS number some service lists, ascending.
    [[nodiscard]] std::vector<std::uint32_t> listed_asns() const;
    /// Where those ASNs announce addresses (from IP data, built off the data path before the
    /// classifier is handed to the workers).
    void set_hosting_ranges(HostingRanges ranges) noexcept { _hosting = std::move(ranges); }
    [[nodiscard]] const HostingRanges& hosting_ranges() const noexcept { return _hosting; }
    /// The service of the AS announcing `address` (its `asns`), -1 when none; `asn` is set with it.
    [[nodiscard]] std::int32_t service_for_address(const IpAddr& address, std::uint32_t& asn) const noexcept {
        asn = _hosting.asn_of(address);
        const std::int32_t service = asn != 0 ? service_for_asn(asn) : -1;
        asn = service >= 0 ? asn : 0;
        return service;
    }
    /// literal_table_bytes() + regex_database_bytes(); 0 for an empty catalog.
    [[nodiscard]] std::size_t database_bytes() const noexcept;
    /// Hash table buckets (sized for every literal pattern, duplicates included) plus the side
    /// array of names longer than a slot holds.
    [[nodiscard]] std::size_t literal_table_bytes() const noexcept;
    /// hs_database_size() of the regex database; 0 without regexes.
    [[nodiscard]] std::size_t regex_database_bytes() const noexcept;

    struct LiteralBucket;  ///< opaque: one 64-byte bucket of the literal table (classifier.cpp)

private:
    friend class ClassifierScratch;
    ServiceClassifier() = default;

    /// Finds the name's suffixes worth looking up (longest first) and returns how many there are;
    /// stores the lengths and hashes of the first `capacity` of them and prefetches their buckets.
    /// `lengths` has room for capacity + 1 entries (the last is scratch).
    [[nodiscard]] std::size_t plan_literals(const LowerName& name, std::uint8_t* lengths, std::uint64_t* hashes,
                                            std::size_t capacity) const noexcept;
    /// Service of the most specific literal pattern matching the name, or -1, given the lengths
    /// (longest first) and hashes of all its suffixes worth looking up.
    [[nodiscard]] std::int32_t probe_literals(const LowerName& name, const std::uint8_t* lengths,
                                              const std::uint64_t* hashes, std::size_t count) const noexcept;
    /// Build step: adds one (name, form) unless it is already there.
    void insert_literal(std::uint64_t hash, std::string_view name, PatternKind kind, std::uint32_t service);

    struct DatabaseDeleter {
        void operator()(hs_database* db) const noexcept;
    };
    struct BucketDeleter {
        void operator()(LiteralBucket* buckets) const noexcept;
    };
    std::unique_ptr<LiteralBucket[], BucketDeleter> _buckets;
    std::uint32_t _bucket_count = 0;
    std::uint16_t _tag_mask = 0xffff;
    std::array<std::uint64_t, 4> _lengths{};  ///< bit L set: some literal name is L bytes long
    std::vector<char> _long_names;            ///< names longer than a slot holds, back to back
    std::unique_ptr<hs_database, DatabaseDeleter> _regex_db;
    bool _overlap_regex_scan = false;  ///< regexes and a table of >= 4 MiB: see classify()
    std::size_t _pattern_count = 0;
    std::size_t _literal_count = 0;
    std::size_t _regex_count = 0;
    std::vector<std::string> _names;
    std::vector<std::string> _categories;
    std::vector<std::pair<std::uint32_t, std::int32_t>> _asn_services; ///< (asn, service), sorted by asn
    HostingRanges _hosting;
};

class ClassifierScratch {
public:
    /// Allocates Hyperscan scratch for the regex database of `classifier` (which must outlive this
    /// object; no scratch without regexes). Throws std::bad_alloc if Hyperscan cannot allocate.
    /// Not for the data path.
    explicit ClassifierScratch(const ServiceClassifier& classifier);
    /// Another scratch for the same classifier (hs_clone_scratch), for another worker.
    [[nodiscard]] ClassifierScratch clone() const;

    ClassifierScratch(ClassifierScratch&&) noexcept;
    ClassifierScratch& operator=(ClassifierScratch&&) noexcept;
    ClassifierScratch(const ClassifierScratch&) = delete;
    ClassifierScratch& operator=(const ClassifierScratch&) = delete;
    ~ClassifierScratch();

    /// Service index of the most specific matching pattern, or -1. One trailing dot is ignored;
    /// case-insensitive; a name longer than 255 bytes matches nothing. No allocation, no exceptions.
    /// A Hyperscan error (HS_SCRATCH_IN_USE means two threads share this scratch: a bug) returns
    /// -1 and is counted.
    [[nodiscard]] std::int32_t classify(std::string_view name) noexcept;

    /// services[i] = classify(names[i]) for i < min(names.size(), services.size()). Same answers;
    /// faster per name on large catalogs: the table lines of up to kBurst names are requested
    /// before any is waited for, so their cache misses overlap. No allocation (about 6 KB of
    /// stack), no exceptions.
    void classify_burst(std::span<const std::string_view> names, std::span<std::int32_t> services) noexcept;
    static constexpr std::size_t kBurst = 16;

    [[nodiscard]] std::uint64_t scan_errors() const noexcept { return _scan_errors; }
    [[nodiscard]] std::uint64_t scratch_in_use_errors() const noexcept { return _scratch_in_use; }
    [[nodiscard]] const ServiceClassifier& classifier() const noexcept { return *_classifier; }

private:
    ClassifierScratch(const ServiceClassifier& classifier, hs_scratch* scratch) noexcept
        : _classifier(&classifier), _scratch(scratch) {}

    /// The regex stage: the lowest service one of whose regexes matches the name, or -1.
    [[nodiscard]] std::int32_t scan_regexes(const LowerName& name) noexcept;

    const ServiceClassifier* _classifier;
    hs_scratch* _scratch = nullptr;
    std::uint64_t _scan_errors = 0;
    std::uint64_t _scratch_in_use = 0;
};

}  // namespace wt::pipeline
