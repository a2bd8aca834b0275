#include "pipeline/classifier.hpp"

#include <hs/hs.h>

#include <array>
#include <limits>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "parsers/common/limits.hpp"

namespace wt::pipeline {
namespace {

// Literals are stored lowercase and matched case-sensitively against a lowercased copy of the
// name: with 100k literals that scans ~20% faster than HS_FLAG_CASELESS (same database size).
constexpr unsigned kLiteralFlags = 0;
constexpr unsigned kRegexFlags = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;

// Ranks (see classifier.hpp). Suffix ranks add the matched length (<= 254), so they stay
// between kRankRegex and kRankExact.
constexpr std::uint32_t kRankRegex = 1;
constexpr std::uint32_t kRankSuffix = 1U << 10;
constexpr std::uint32_t kRankExact = 1U << 20;
constexpr std::uint32_t kNoMatch = std::numeric_limits<std::uint32_t>::max();

// Longer input cannot be a DNS name (RFC 1035 section 2.3.4) and is never scanned.
constexpr std::size_t kMaxScanLength = parsers::limits::kMaxDnsNameLength;

struct MatchContext {
    const char* name;
    std::size_t length;
    const ServiceClassifier::PatternInfo* patterns;
    std::uint32_t best_rank;
    std::uint32_t best_id;
};

// Runs inside hs_scan: only decides whether this match is valid and better than the best so far.
int on_match(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/,
             void* ctx_ptr) noexcept {
    auto* ctx = static_cast<MatchContext*>(ctx_ptr);
    const ServiceClassifier::PatternInfo& p = ctx->patterns[id];
    if (p.kind != PatternKind::kRegex) {
        // Literals are unanchored: keep only an occurrence that ends the name and starts on a
        // label boundary. The start is computed from the fixed literal length (no SOM needed).
        if (to != ctx->length || to < p.length) {
            return 0;
        }
        const std::size_t from = to - p.length;
        if (p.kind == PatternKind::kExact && from != 0) {
            return 0;
        }
        if (p.kind == PatternKind::kDomain && from != 0 && ctx->name[from - 1] != '.') {
            return 0;
        }
        // kSubdomains: the literal starts with '.', so an occurrence after position 0 is a subdomain.
        if (p.kind == PatternKind::kSubdomains && from == 0) {
            return 0;
        }
    }
    if (p.rank > ctx->best_rank || (p.rank == ctx->best_rank && id < ctx->best_id)) {
        ctx->best_rank = p.rank;
        ctx->best_id = id;
    }
    return 0;
}

std::string escape_literal(std::string_view domain) {
    std::string out;
    out.reserve(domain.size() + 8);
    for (const char c : domain) {
        // Validated names hold only [a-z0-9._-]; '.' is the only regex metacharacter among them.
        if (c == '.') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace

void ServiceClassifier::DatabaseDeleter::operator()(hs_database* db) const noexcept { hs_free_database(db); }

ServiceClassifier::ServiceClassifier(ServiceClassifier&&) noexcept = default;
ServiceClassifier& ServiceClassifier::operator=(ServiceClassifier&&) noexcept = default;
ServiceClassifier::~ServiceClassifier() = default;

std::string ServiceClassifier::check_regex(const std::string& expression) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile(expression.c_str(), kRegexFlags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
        std::string msg = (err != nullptr && err->message != nullptr) ? err->message : "unknown Hyperscan error";
        hs_free_compile_error(err);
        return msg;
    }
    hs_free_database(db);
    return {};
}

std::variant<ServiceClassifier, ServicesError> ServiceClassifier::build(const ServiceCatalog& catalog) {
    ServiceClassifier c;
    const std::string origin = catalog.sources.empty() ? std::string("<services>") : catalog.sources.front();
    if (catalog.services.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) ||
        catalog.pattern_count() > std::numeric_limits<unsigned int>::max()) {
        return ServicesError{origin, 0, "too many services or patterns"};
    }
    std::vector<std::string> expressions;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    std::vector<const ServicePattern*> sources;
    const std::size_t total = catalog.pattern_count();
    expressions.reserve(total);
    flags.reserve(total);
    ids.reserve(total);
    sources.reserve(total);
    c._patterns.reserve(total);
    for (std::size_t s = 0; s < catalog.services.size(); ++s) {
        const Service& svc = catalog.services[s];
        c._names.push_back(svc.name);
        c._categories.push_back(svc.category);
        for (const ServicePattern& p : svc.patterns) {
            PatternInfo info{static_cast<std::uint32_t>(s), 0, 0, p.kind};
            switch (p.kind) {
                case PatternKind::kExact:
                case PatternKind::kDomain:
                    info.rank = p.kind == PatternKind::kExact ? kRankExact
                                                              : kRankSuffix + static_cast<std::uint32_t>(p.value.size());
                    info.length = static_cast<std::uint16_t>(p.value.size());
                    expressions.push_back(escape_literal(p.value));
                    flags.push_back(kLiteralFlags);
                    break;
                case PatternKind::kSubdomains:
                    info.rank = kRankSuffix + static_cast<std::uint32_t>(p.value.size() + 1);
                    info.length = static_cast<std::uint16_t>(p.value.size() + 1);
                    expressions.push_back("\\." + escape_literal(p.value));
                    flags.push_back(kLiteralFlags);
                    break;
                case PatternKind::kRegex:
                    info.rank = kRankRegex;
                    expressions.push_back(p.value);
                    flags.push_back(kRegexFlags);
                    break;
                default:
                    return ServicesError{origin, static_cast<int>(p.line), "internal error: bad pattern kind"};
            }
            if (p.kind != PatternKind::kRegex && (p.value.empty() || p.value.size() > kMaxScanLength - 2)) {
                // Only reachable with a hand-built catalog: the loader validates names.
                return ServicesError{origin, static_cast<int>(p.line),
                                     fmt::format("invalid domain pattern ({:?})", p.value)};
            }
            ids.push_back(static_cast<unsigned>(c._patterns.size()));
            sources.push_back(&p);
            c._patterns.push_back(info);
        }
    }
    if (expressions.empty()) {
        return c;  // no database: classify() returns -1 for everything
    }
    std::vector<const char*> ptrs;
    ptrs.reserve(expressions.size());
    for (const std::string& e : expressions) {
        ptrs.push_back(e.c_str());
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc = hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()),
                                           HS_MODE_BLOCK, nullptr, &db, &err);
    if (rc != HS_SUCCESS) {
        std::string msg = (err != nullptr && err->message != nullptr) ? err->message : "unknown Hyperscan error";
        const int expr = err != nullptr ? err->expression : -1;
        hs_free_compile_error(err);
        if (expr >= 0 && static_cast<std::size_t>(expr) < sources.size()) {
            const ServicePattern& p = *sources[static_cast<std::size_t>(expr)];
            const std::string& file = p.source < catalog.sources.size() ? catalog.sources[p.source] : origin;
            return ServicesError{file, static_cast<int>(p.line),
                                 fmt::format("Hyperscan rejected the pattern: {} ({:?})", msg, p.value)};
        }
        return ServicesError{origin, 0, fmt::format("Hyperscan could not build the database: {}", msg)};
    }
    c._db.reset(db);
    return c;
}

std::string_view ServiceClassifier::service_name(std::int32_t index) const noexcept {
    if (index < 0 || static_cast<std::size_t>(index) >= _names.size()) {
        return {};
    }
    return _names[static_cast<std::size_t>(index)];
}

std::string_view ServiceClassifier::service_category(std::int32_t index) const noexcept {
    if (index < 0 || static_cast<std::size_t>(index) >= _categories.size()) {
        return {};
    }
    return _categories[static_cast<std::size_t>(index)];
}

std::size_t ServiceClassifier::database_bytes() const noexcept {
    std::size_t size = 0;
    if (_db == nullptr || hs_database_size(_db.get(), &size) != HS_SUCCESS) {
        return 0;
    }
    return size;
}

ClassifierScratch::ClassifierScratch(const ServiceClassifier& classifier) : _classifier(&classifier) {
    if (classifier._db == nullptr) {
        return;
    }
    hs_scratch_t* scratch = nullptr;
    const hs_error_t rc = hs_alloc_scratch(classifier._db.get(), &scratch);
    if (rc == HS_NOMEM) {
        throw std::bad_alloc();
    }
    if (rc != HS_SUCCESS) {
        throw std::runtime_error(fmt::format("hs_alloc_scratch failed: {}", rc));
    }
    _scratch = scratch;
}

ClassifierScratch ClassifierScratch::clone() const {
    hs_scratch_t* copy = nullptr;
    if (_scratch != nullptr) {
        const hs_error_t rc = hs_clone_scratch(_scratch, &copy);
        if (rc == HS_NOMEM) {
            throw std::bad_alloc();
        }
        if (rc != HS_SUCCESS) {
            throw std::runtime_error(fmt::format("hs_clone_scratch failed: {}", rc));
        }
    }
    return ClassifierScratch(*_classifier, copy);
}

ClassifierScratch::ClassifierScratch(ClassifierScratch&& other) noexcept
    : _classifier(other._classifier),
      _scratch(other._scratch),
      _scan_errors(other._scan_errors),
      _scratch_in_use(other._scratch_in_use) {
    other._scratch = nullptr;
}

ClassifierScratch& ClassifierScratch::operator=(ClassifierScratch&& other) noexcept {
    if (this != &other) {
        hs_free_scratch(_scratch);
        _classifier = other._classifier;
        _scratch = other._scratch;
        _scan_errors = other._scan_errors;
        _scratch_in_use = other._scratch_in_use;
        other._scratch = nullptr;
    }
    return *this;
}

ClassifierScratch::~ClassifierScratch() { hs_free_scratch(_scratch); }

std::int32_t ClassifierScratch::classify(std::string_view name) noexcept {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    const ServiceClassifier& c = *_classifier;
    if (name.empty() || name.size() > kMaxScanLength || c._db == nullptr) {
        return -1;
    }
    // Names are short (<= kMaxScanLength), so the lowercase copy lives on the stack.
    std::array<char, kMaxScanLength> lower;  // NOLINT: only the first name.size() bytes are used
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char ch = name[i];
        lower[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    }
    MatchContext ctx{lower.data(), name.size(), c._patterns.data(), 0, kNoMatch};
    const hs_error_t rc = hs_scan(c._db.get(), lower.data(), static_cast<unsigned int>(name.size()), 0, _scratch,
                                  on_match, &ctx);
    if (rc != HS_SUCCESS) [[unlikely]] {
        ++_scan_errors;
        if (rc == HS_SCRATCH_IN_USE) {
            ++_scratch_in_use;
        }
        return -1;
    }
    if (ctx.best_id == kNoMatch) {
        return -1;
    }
    return static_cast<std::int32_t>(c._patterns[ctx.best_id].service);
}

}  // namespace wt::pipeline
