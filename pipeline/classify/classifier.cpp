#include "pipeline/classify/classifier.hpp"
#include "pipeline/classify/regex.hpp"

#include <hs/hs.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "parsers/common/limits.hpp"

namespace wt::pipeline {
namespace {

constexpr unsigned kNoMatch = std::numeric_limits<unsigned>::max();

// Longer input cannot be a DNS name (RFC 1035 section 2.3.4) and is never scanned.
constexpr std::size_t kMaxScanLength = parsers::limits::kMaxDnsNameLength;
// Literal names are validated to this length (room for "*." in front within kMaxScanLength).
constexpr std::size_t kMaxLiteralLength = kMaxScanLength - 2;
static_assert(kMaxLiteralLength <= std::numeric_limits<std::uint8_t>::max(), "slot length is one byte");

// ---- Hash: 64x64->128-bit multiply folded to 64 bits (wyhash's "mum"), chained over the 8-byte
// words of the name counted from its end. chain[k] covers the last 8k bytes, so the hash of the
// suffix of length L is fold(chain[L / 8], its first L % 8 bytes, L): hashing every suffix of a
// name costs one multiply per word plus one per suffix. Keys are hashed by the same code.
constexpr std::uint64_t kSeed = 0x243f6a8885a308d3ULL;
constexpr std::uint64_t kWordMul = 0xa0761d6478bd642fULL;
constexpr std::uint64_t kHeadMix = 0xe7037ed1a0b428dbULL;
constexpr std::uint64_t kLengthMul = 0x8ebc6af09c88c6e3ULL;
constexpr std::size_t kNameWords = (kMaxScanLength + 7) / 8;
static_assert(std::endian::native == std::endian::little, "words are assembled from little-endian loads");

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang; one MUL instruction on x86-64

inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) noexcept {
    const Uint128 p = static_cast<Uint128>(a) * b;
    return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}

inline std::uint64_t load64(const char* p) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The first `length` (< 8) bytes at p, in the low bytes; reads nothing past p + length.
inline std::uint64_t load_short(const char* p, std::size_t length) noexcept {
    std::uint64_t v = 0;
    std::size_t at = 0;
    if ((length & 4U) != 0) {
        std::uint32_t x = 0;
        std::memcpy(&x, p, sizeof x);
        v = x;
        at = 4;
    }
    if ((length & 2U) != 0) {
        std::uint16_t x = 0;
        std::memcpy(&x, p + at, sizeof x);
        v |= static_cast<std::uint64_t>(x) << (8 * at);
        at += 2;
    }
    if ((length & 1U) != 0) {
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[at])) << (8 * at);
    }
    return v;
}

// Exact zero-byte detector: 0x80 in each byte of w that is zero, nothing elsewhere.
inline std::uint64_t zero_bytes(std::uint64_t w) noexcept {
    constexpr std::uint64_t k7f = 0x7f7f7f7f7f7f7f7fULL;
    return ~(((w & k7f) + k7f) | w | k7f);
}

// ASCII A-Z to a-z, eight bytes at a time; other bytes (including >= 0x80) unchanged.
inline std::uint64_t lowercase_word(std::uint64_t w) noexcept {
    constexpr std::uint64_t k7f = 0x7f7f7f7f7f7f7f7fULL;
    constexpr std::uint64_t k80 = 0x8080808080808080ULL;
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    const std::uint64_t seven = w & k7f;
    const std::uint64_t at_least_a = seven + (0x80 - 'A') * kOnes;  // high bit: byte >= 'A'
    const std::uint64_t above_z = seven + (0x80 - 'Z' - 1) * kOnes;  // high bit: byte > 'Z'
    const std::uint64_t upper = at_least_a & ~above_z & ~w & k80;
    return w | (upper >> 2);  // 0x80 >> 2 = 0x20
}

}  // namespace

// A name (1..255 bytes) lowercased into 8-byte words counted from its end: word(k) holds bytes
// [n - 8(k+1), n - 8k), the first word zero-filled before the name's first byte. In memory the
// words also read as the name in order, ending at end(). Every word the literal stage reads is
// an aligned whole word, loaded after being stored as one (no store-forwarding stalls), and every
// suffix's hash and comparison words come from these words without another pass over the bytes.
class LowerName {
public:
    void set(const char* name, std::size_t n) noexcept {
        _n = n;
        const std::size_t full = n / 8;
        const std::size_t rest = n % 8;
        for (std::size_t k = 0; k < full; ++k) {
            _mem[kNameWords - k] = lowercase_word(load64(name + n - 8 * (k + 1)));
        }
        std::uint64_t head = 0;
        if (rest != 0) {
            head = lowercase_word((n >= 8 ? load64(name) : load_short(name, rest)) << (64 - 8 * rest));
        }
        _mem[kNameWords - full] = head;
        // Words up to index 2 are read by slot comparisons (and masked out); keep them defined.
        for (std::size_t k = full + 1; k <= 2 && k <= kNameWords; ++k) {
            _mem[kNameWords - k] = 0;
        }
    }
    [[nodiscard]] std::size_t size() const noexcept { return _n; }
    /// Words that hold name bytes: ceil(n / 8).
    [[nodiscard]] std::size_t words() const noexcept { return (_n + 7) / 8; }
    [[nodiscard]] std::uint64_t word(std::size_t k) const noexcept { return _mem[kNameWords - k]; }
    [[nodiscard]] const char* end() const noexcept {
        return reinterpret_cast<const char*>(_mem.data() + kNameWords + 1);
    }
    [[nodiscard]] const char* data() const noexcept { return end() - _n; }

    /// Word j of the suffix of `length` bytes: word(j) without the bytes before the suffix.
    [[nodiscard]] std::uint64_t suffix_word(std::size_t length, std::size_t j) const noexcept {
        if (length >= 8 * (j + 1)) {
            return word(j);
        }
        if (length <= 8 * j) {
            return 0;
        }
        return word(j) & (~std::uint64_t{0} << (64 - 8 * (length - 8 * j)));
    }

private:
    std::array<std::uint64_t, kNameWords + 1> _mem;  // NOLINT: set() writes every word it reads
    std::size_t _n = 0;
};

namespace {

using HashChain = std::array<std::uint64_t, kNameWords + 1>;

// chain[0..words] of the name.
inline void fill_chain(const LowerName& name, std::size_t words, HashChain& chain) noexcept {
    chain[0] = kSeed;
    for (std::size_t k = 0; k < words; ++k) {
        chain[k + 1] = mum(chain[k] ^ name.word(k), kWordMul);
    }
}

// Hash of the name's suffix of `length` bytes; chain must reach length / 8.
inline std::uint64_t suffix_hash(const HashChain& chain, const LowerName& name, std::size_t length) noexcept {
    const std::size_t head_bytes = length & 7U;
    const std::uint64_t head = head_bytes == 0 ? 0 : name.word(length / 8) >> (64 - 8 * head_bytes);
    return mum(chain[length / 8] ^ head ^ kHeadMix, (length * kLengthMul) ^ kSeed);
}

// From this table size on, a table line is rarely in a core's private caches, and classify()
// scans the regexes while the table lines it prefetched are loading instead of after the probes
// missed. Measured at 100k and 1M benchmark patterns (6.5 and 65 MB): lower p50, p99 and mean.
constexpr std::size_t kOverlapRegexTableBytes = std::size_t{4} << 20;

// ---- Literal table layout.
constexpr std::size_t kSlotsPerBucket = 2;
constexpr std::size_t kInlineName = 24;   // names up to this length live in the slot
constexpr std::uint8_t kFormBits = 0x03;  // PatternKind in flags
constexpr std::uint8_t kOverflow = 0x80;  // in slots[0].flags: a probe must go on to the next bucket
constexpr unsigned form_bit(PatternKind kind) noexcept { return 1U << static_cast<unsigned>(kind); }
static_assert(static_cast<unsigned>(PatternKind::kSubdomains) <= kFormBits);

// Applicable forms by suffix start: the whole name (exact, domain), after a leading '.' (domain
// only: "*.x" needs a non-empty label before the dot), elsewhere (domain, subdomains).
constexpr unsigned kFormsAtStart = form_bit(PatternKind::kExact) | form_bit(PatternKind::kDomain);
constexpr unsigned kFormsAfterLeadingDot = form_bit(PatternKind::kDomain);
constexpr unsigned kFormsInside = form_bit(PatternKind::kDomain) | form_bit(PatternKind::kSubdomains);

struct RegexContext {
    unsigned best;
};

// Runs inside hs_scan: regex ids are service indexes; the lowest wins (file order).
int on_regex_match(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/, unsigned int /*flags*/,
                   void* ctx_ptr) noexcept {
    auto* ctx = static_cast<RegexContext*>(ctx_ptr);
    if (id < ctx->best) {
        ctx->best = id;
    }
    return 0;
}

// One (name, form) per slot: 32 bytes, two slots per 64-byte bucket.
struct LiteralSlot {
    std::uint16_t tag;    ///< hash bits 48..63 & the tag mask
    std::uint8_t length;  ///< name length 1..253; 0 = empty slot
    std::uint8_t flags;   ///< bits 0-1: PatternKind; kOverflow (slots[0] only)
    std::uint32_t service;
    /// LowerName::suffix_word(length, 0..2) of the name: its last 24 bytes, zero before its start.
    /// Names longer than 24 bytes: words[2] is the offset of the whole name in _long_names.
    std::array<std::uint64_t, 3> words;
};
static_assert(sizeof(LiteralSlot) == 32);

}  // namespace

struct alignas(64) ServiceClassifier::LiteralBucket {
    std::array<LiteralSlot, kSlotsPerBucket> slots;
};
static_assert(sizeof(ServiceClassifier::LiteralBucket) == 64);

namespace {

// Whether the slot holds the name's suffix of `length` bytes (tag and length already equal).
inline bool slot_has_suffix(const LiteralSlot& slot, const LowerName& name, std::size_t length,
                            const char* long_names) noexcept {
    if (((slot.words[0] ^ name.suffix_word(length, 0)) | (slot.words[1] ^ name.suffix_word(length, 1))) != 0) {
        return false;
    }
    if (length <= kInlineName) {
        return slot.words[2] == name.suffix_word(length, 2);
    }
    return std::memcmp(long_names + slot.words[2], name.end() - length, length - 16) == 0;
}

// Reads the table; shared by classify() and build().
class TableView {
public:
    TableView(const ServiceClassifier::LiteralBucket* buckets, std::uint32_t count, std::uint16_t tag_mask,
              const char* long_names) noexcept
        : _buckets(buckets), _count(count), _tag_mask(tag_mask), _long_names(long_names) {}

    [[nodiscard]] std::uint32_t bucket_of(std::uint64_t hash) const noexcept {
        // Multiply-shift range reduction of the low 32 bits (the tag uses the top 16).
        const auto low = static_cast<std::uint64_t>(static_cast<std::uint32_t>(hash));
        return static_cast<std::uint32_t>((low * _count) >> 32);
    }
    [[nodiscard]] std::uint16_t tag_of(std::uint64_t hash) const noexcept {
        return static_cast<std::uint16_t>(static_cast<std::uint16_t>(hash >> 48) & _tag_mask);
    }
    void prefetch(std::uint64_t hash) const noexcept { __builtin_prefetch(&_buckets[bucket_of(hash)]); }

    // The first slot along the probe sequence of the name's suffix of `length` bytes (hash
    // `hash`) that holds that suffix in one of `forms`.
    [[nodiscard]] const LiteralSlot* find(std::uint64_t hash, const LowerName& name, std::size_t length,
                                          unsigned forms) const noexcept {
        std::uint32_t b = bucket_of(hash);
        const std::uint16_t tag = tag_of(hash);
        for (std::uint32_t visited = 0; visited < _count; ++visited) {
            const ServiceClassifier::LiteralBucket& bucket = _buckets[b];
            for (const LiteralSlot& slot : bucket.slots) {
                if (slot.tag == tag && slot.length == length && ((forms >> (slot.flags & kFormBits)) & 1U) != 0 &&
                    slot_has_suffix(slot, name, length, _long_names)) {
                    return &slot;
                }
            }
            if ((bucket.slots[0].flags & kOverflow) == 0) {
                return nullptr;
            }
            b = b + 1 == _count ? 0 : b + 1;
        }
        return nullptr;
    }

private:
    const ServiceClassifier::LiteralBucket* _buckets;
    std::uint32_t _count;
    std::uint16_t _tag_mask;
    const char* _long_names;
};

// Tables of 2 MiB and more are advised onto transparent huge pages: a probe into a table of many
// MB then costs a cache miss without also a page walk. The advice may be ignored; that is harmless.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

ServiceClassifier::LiteralBucket* allocate_buckets(std::size_t count) {
    const std::size_t bytes = count * sizeof(ServiceClassifier::LiteralBucket);
    const std::size_t align = bytes >= kHugePage ? kHugePage : alignof(ServiceClassifier::LiteralBucket);
    const std::size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
#ifdef MADV_HUGEPAGE
    if (align == kHugePage) {
        (void)madvise(p, rounded, MADV_HUGEPAGE);
    }
#endif
    std::memset(p, 0, rounded);
    return static_cast<ServiceClassifier::LiteralBucket*>(p);
}

}  // namespace

void ServiceClassifier::DatabaseDeleter::operator()(hs_database* db) const noexcept { hs_free_database(db); }
void ServiceClassifier::BucketDeleter::operator()(LiteralBucket* buckets) const noexcept { std::free(buckets); }

ServiceClassifier::ServiceClassifier(ServiceClassifier&&) noexcept = default;
ServiceClassifier& ServiceClassifier::operator=(ServiceClassifier&&) noexcept = default;
ServiceClassifier::~ServiceClassifier() = default;

std::variant<ServiceClassifier, ServicesError> ServiceClassifier::build(const ServiceCatalog& catalog,
                                                                        const ClassifierOptions& options) {
    ServiceClassifier c;
    const std::string origin = catalog.sources.empty() ? std::string("<services>") : catalog.sources.front();
    if (!(options.max_load > 0.0 && options.max_load <= 1.0) || options.tag_bits > 16) {
        return ServicesError{origin, 0, "invalid classifier options"};
    }
    if (catalog.services.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) ||
        catalog.pattern_count() > std::numeric_limits<unsigned int>::max()) {
        return ServicesError{origin, 0, "too many services or patterns"};
    }

    struct Literal {
        std::uint64_t hash;
        const std::string* name;
        std::uint32_t service;
        PatternKind kind;
    };
    std::vector<Literal> literals;
    std::vector<const char*> regexes;
    std::vector<unsigned> regex_ids;
    std::vector<const ServicePattern*> regex_sources;
    literals.reserve(catalog.pattern_count());
    LowerName key;
    HashChain chain;
    std::size_t long_bytes = 0;
    for (std::size_t s = 0; s < catalog.services.size(); ++s) {
        const Service& svc = catalog.services[s];
        c._names.push_back(svc.name);
        c._categories.push_back(svc.category);
        for (const std::uint32_t asn : svc.asns) {
            c._asn_services.emplace_back(asn, static_cast<std::int32_t>(s));
        }
        for (const ServicePattern& p : svc.patterns) {
            ++c._pattern_count;
            switch (p.kind) {
                case PatternKind::kExact:
                case PatternKind::kDomain:
                case PatternKind::kSubdomains:
                    break;
                case PatternKind::kRegex:
                    regexes.push_back(p.value.c_str());
                    regex_ids.push_back(static_cast<unsigned>(s));
                    regex_sources.push_back(&p);
                    continue;
                default:
                    return ServicesError{origin, static_cast<int>(p.line), "internal error: bad pattern kind"};
            }
            if (p.value.empty() || p.value.size() > kMaxLiteralLength) {
                // Only reachable with a hand-built catalog: the loader validates names.
                return ServicesError{origin, static_cast<int>(p.line),
                                     fmt::format("invalid domain pattern ({:?})", p.value)};
            }
            key.set(p.value.data(), p.value.size());
            fill_chain(key, p.value.size() / 8, chain);
            literals.push_back(
                Literal{suffix_hash(chain, key, p.value.size()), &p.value, static_cast<std::uint32_t>(s), p.kind});
            if (p.value.size() > kInlineName) {
                long_bytes += p.value.size();
            }
        }
    }
    c._regex_count = regexes.size();

    if (!literals.empty()) {
        // slots >= literals / max_load; at most 2^32 - 1 buckets (bucket_of maps 32 hash bits).
        const double slots = std::ceil(static_cast<double>(literals.size()) / options.max_load);
        const double buckets = std::ceil(slots / kSlotsPerBucket);
        if (buckets > static_cast<double>(std::numeric_limits<std::uint32_t>::max()) ||
            long_bytes > std::numeric_limits<std::uint32_t>::max()) {
            return ServicesError{origin, 0, "too many services or patterns"};
        }
        c._bucket_count = static_cast<std::uint32_t>(buckets);
        c._tag_mask = static_cast<std::uint16_t>((1U << options.tag_bits) - 1U);
        c._buckets.reset(allocate_buckets(c._bucket_count));
        c._long_names.reserve(long_bytes);

        // Form by form in rank order, each in catalog order: along a probe sequence the first
        // slot of an applicable form is then the most specific (and lowest-service) one.
        for (const PatternKind kind : {PatternKind::kExact, PatternKind::kSubdomains, PatternKind::kDomain}) {
            for (const Literal& lit : literals) {
                if (lit.kind == kind) {
                    c.insert_literal(lit.hash, *lit.name, kind, lit.service);
                }
            }
        }
    }

    std::sort(c._asn_services.begin(), c._asn_services.end());
    if (regexes.empty()) {
        return c;  // no Hyperscan database: classify() never scans
    }
    std::vector<unsigned> flags(regexes.size(), service_regex_flags());
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc = hs_compile_multi(regexes.data(), flags.data(), regex_ids.data(),
                                           static_cast<unsigned>(regexes.size()), HS_MODE_BLOCK, nullptr, &db, &err);
    if (rc != HS_SUCCESS) {
        std::string msg = (err != nullptr && err->message != nullptr) ? err->message : "unknown Hyperscan error";
        const int expr = err != nullptr ? err->expression : -1;
        hs_free_compile_error(err);
        if (expr >= 0 && static_cast<std::size_t>(expr) < regex_sources.size()) {
            const ServicePattern& p = *regex_sources[static_cast<std::size_t>(expr)];
            const std::string& file = p.source < catalog.sources.size() ? catalog.sources[p.source] : origin;
            return ServicesError{file, static_cast<int>(p.line),
                                 fmt::format("Hyperscan rejected the pattern: {} ({:?})", msg, p.value)};
        }
        return ServicesError{origin, 0, fmt::format("Hyperscan could not build the database: {}", msg)};
    }
    c._regex_db.reset(db);
    c._overlap_regex_scan = c.literal_table_bytes() >= kOverlapRegexTableBytes;
    return c;
}

void ServiceClassifier::insert_literal(std::uint64_t hash, std::string_view name, PatternKind kind,
                                       std::uint32_t service) {
    LowerName key;
    key.set(name.data(), name.size());
    const std::size_t length = name.size();
    const TableView view(_buckets.get(), _bucket_count, _tag_mask, _long_names.data());
    const std::uint16_t tag = view.tag_of(hash);
    for (std::uint32_t b = view.bucket_of(hash);; b = b + 1 == _bucket_count ? 0 : b + 1) {
        LiteralBucket& bucket = _buckets[b];
        for (LiteralSlot& slot : bucket.slots) {
            if (slot.length == 0) {
                slot.tag = tag;
                slot.length = static_cast<std::uint8_t>(length);
                slot.flags = static_cast<std::uint8_t>((slot.flags & kOverflow) | static_cast<std::uint8_t>(kind));
                slot.service = service;
                for (std::size_t j = 0; j < slot.words.size(); ++j) {
                    slot.words[j] = key.suffix_word(length, j);
                }
                if (length > kInlineName) {
                    slot.words[2] = _long_names.size();
                    _long_names.insert(_long_names.end(), key.data(), key.end());
                }
                _lengths[length / 64] |= std::uint64_t{1} << (length % 64);
                ++_literal_count;
                return;
            }
            const bool same_form = (slot.flags & kFormBits) == static_cast<std::uint8_t>(kind);
            if (slot.tag == tag && slot.length == length && same_form &&
                slot_has_suffix(slot, key, length, _long_names.data())) {
                return;  // duplicate: the earlier pattern (lower service) keeps the slot
            }
        }
        // Full: the name goes further, so probes for it must not stop here. The table always has
        // an empty slot (slots >= literals), so this loop ends.
        bucket.slots[0].flags |= kOverflow;
    }
}

std::size_t ServiceClassifier::plan_literals(const LowerName& name, std::uint8_t* lengths, std::uint64_t* hashes,
                                             std::size_t capacity) const noexcept {
    // Suffix lengths, longest first: the whole name, then the part after each '.', keeping only
    // lengths some literal has. A '.' at byte b of word k ends a suffix of 8k + 7 - b bytes.
    // Branch-free: whether a length is kept is data-dependent and would mispredict. Entries past
    // `capacity` land in lengths[capacity], the spare entry.
    const std::size_t n = name.size();
    std::size_t count = 0;
    const auto add = [&](std::size_t length) {
        lengths[std::min(count, capacity)] = static_cast<std::uint8_t>(length);
        count += (_lengths[length / 64] >> (length % 64)) & 1U;
    };
    add(n);
    for (std::size_t k = name.words(); k-- > 0;) {
        std::uint64_t dots = zero_bytes(name.word(k) ^ 0x2e2e2e2e2e2e2e2eULL);
        while (dots != 0) {
            const std::size_t suffix = 8 * k + 7 - static_cast<std::size_t>(std::countr_zero(dots)) / 8;
            dots &= dots - 1;
            if (suffix != 0) {
                add(suffix);
            }
        }
    }
    const std::size_t stored = std::min(count, capacity);
    if (stored == 0) {
        return count;
    }
    // Hash every suffix and prefetch its bucket, so that their cache misses overlap.
    const TableView view(_buckets.get(), _bucket_count, _tag_mask, _long_names.data());
    HashChain chain;
    fill_chain(name, lengths[0] / 8U, chain);
    for (std::size_t i = 0; i < stored; ++i) {
        hashes[i] = suffix_hash(chain, name, lengths[i]);
        view.prefetch(hashes[i]);
    }
    return count;
}

std::int32_t ServiceClassifier::probe_literals(const LowerName& name, const std::uint8_t* lengths,
                                               const std::uint64_t* hashes, std::size_t count) const noexcept {
    const std::size_t n = name.size();
    const TableView view(_buckets.get(), _bucket_count, _tag_mask, _long_names.data());
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t suffix = lengths[i];
        const unsigned forms = suffix == n ? kFormsAtStart : (suffix + 1 == n ? kFormsAfterLeadingDot : kFormsInside);
        const LiteralSlot* slot = view.find(hashes[i], name, suffix, forms);
        if (slot == nullptr) {
            continue;
        }
        auto service = static_cast<std::int32_t>(slot->service);
        // A longer suffix always ranks higher, except for one tie: a domain literal that starts
        // with '.' (only in hand-built catalogs) ranks like "*." + the rest, which the next suffix
        // may hold. Ties go to the lower pattern id, i.e. the lower service.
        if ((slot->flags & kFormBits) == static_cast<std::uint8_t>(PatternKind::kDomain) && suffix < n &&
            suffix >= 2 && *(name.end() - suffix) == '.') {
            HashChain chain;
            fill_chain(name, (suffix - 1) / 8, chain);
            const LiteralSlot* sub = view.find(suffix_hash(chain, name, suffix - 1), name, suffix - 1,
                                               form_bit(PatternKind::kSubdomains));
            if (sub != nullptr && static_cast<std::int32_t>(sub->service) < service) {
                service = static_cast<std::int32_t>(sub->service);
            }
        }
        return service;
    }
    return -1;
}

std::string_view ServiceClassifier::service_name(std::int32_t index) const noexcept {
    if (index < 0 || static_cast<std::size_t>(index) >= _names.size()) {
        return {};
    }
    return _names[static_cast<std::size_t>(index)];
}

std::int32_t ServiceClassifier::service_for_asn(std::uint32_t asn) const noexcept {
    const auto it = std::lower_bound(_asn_services.begin(), _asn_services.end(), asn,
                                     [](const auto& e, std::uint32_t a) { return e.first < a; });
    return it != _asn_services.end() && it->first == asn ? it->second : -1;
}

std::vector<std::uint32_t> ServiceClassifier::listed_asns() const {
    std::vector<std::uint32_t> out;
    out.reserve(_asn_services.size());
    for (const auto& [asn, service] : _asn_services) {
        out.push_back(asn);
    }
    return out;
}

std::string_view ServiceClassifier::service_category(std::int32_t index) const noexcept {
    if (index < 0 || static_cast<std::size_t>(index) >= _categories.size()) {
        return {};
    }
    return _categories[static_cast<std::size_t>(index)];
}

std::size_t ServiceClassifier::literal_table_bytes() const noexcept {
    return static_cast<std::size_t>(_bucket_count) * sizeof(LiteralBucket) + _long_names.size();
}

std::size_t ServiceClassifier::regex_database_bytes() const noexcept {
    std::size_t size = 0;
    if (_regex_db == nullptr || hs_database_size(_regex_db.get(), &size) != HS_SUCCESS) {
        return 0;
    }
    return size;
}

std::size_t ServiceClassifier::database_bytes() const noexcept {
    return literal_table_bytes() + regex_database_bytes();
}

ClassifierScratch::ClassifierScratch(const ServiceClassifier& classifier) : _classifier(&classifier) {
    if (classifier._regex_db == nullptr) {
        return;
    }
    hs_scratch_t* scratch = nullptr;
    const hs_error_t rc = hs_alloc_scratch(classifier._regex_db.get(), &scratch);
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
    const std::size_t n = name.size();
    if (n == 0 || n > kMaxScanLength || (c._buckets == nullptr && c._regex_db == nullptr)) {
        return -1;
    }
    LowerName lower;  // the one lowercase copy, on the stack
    lower.set(name.data(), n);
    if (c._buckets != nullptr) {
        std::array<std::uint8_t, kMaxScanLength + 1> lengths;  // NOLINT: plan_literals fills the first `count`
        std::array<std::uint64_t, kMaxScanLength> hashes;      // NOLINT: idem
        const std::size_t count = c.plan_literals(lower, lengths.data(), hashes.data(), hashes.size());
        if (c._overlap_regex_scan) {
            // A large table: scan the regexes while its lines load; used only if no literal matches.
            const std::int32_t regex = scan_regexes(lower);
            const std::int32_t service = c.probe_literals(lower, lengths.data(), hashes.data(), count);
            return service >= 0 ? service : regex;
        }
        if (const std::int32_t service = c.probe_literals(lower, lengths.data(), hashes.data(), count); service >= 0) {
            return service;
        }
    }
    return scan_regexes(lower);
}

void ClassifierScratch::classify_burst(std::span<const std::string_view> names,
                                       std::span<std::int32_t> services) noexcept {
    // Pass 1 keeps the hashes of each name's first kKept suffixes (nearly every name has fewer);
    // a name with more is planned again in pass 2.
    constexpr std::size_t kKept = 8;
    const ServiceClassifier& c = *_classifier;
    const std::size_t total = std::min(names.size(), services.size());
    std::array<LowerName, kBurst> lower;                              // NOLINT: set before use
    std::array<bool, kBurst> valid;                                   // NOLINT: idem
    std::array<std::size_t, kBurst> counts;                           // NOLINT: idem
    std::array<std::array<std::uint8_t, kKept + 1>, kBurst> lengths;  // NOLINT: idem
    std::array<std::array<std::uint64_t, kKept>, kBurst> hashes;      // NOLINT: idem
    for (std::size_t first = 0; first < total; first += kBurst) {
        const std::size_t burst = std::min(kBurst, total - first);
        // Pass 1: lowercase every name and request the table lines of all their suffixes.
        for (std::size_t i = 0; i < burst; ++i) {
            std::string_view name = names[first + i];
            if (!name.empty() && name.back() == '.') {
                name.remove_suffix(1);
            }
            counts[i] = 0;
            valid[i] = !name.empty() && name.size() <= kMaxScanLength;
            if (!valid[i]) {
                continue;
            }
            lower[i].set(name.data(), name.size());
            if (c._buckets != nullptr) {
                counts[i] = c.plan_literals(lower[i], lengths[i].data(), hashes[i].data(), kKept);
            }
        }
        // Pass 2: look them up (their lines are in flight or cached); regexes for the rest.
        for (std::size_t i = 0; i < burst; ++i) {
            std::int32_t service = -1;
            if (!valid[i]) {
                services[first + i] = service;
                continue;
            }
            if (counts[i] > kKept) {
                std::array<std::uint8_t, kMaxScanLength + 1> all_lengths;  // NOLINT: filled by plan_literals
                std::array<std::uint64_t, kMaxScanLength> all_hashes;      // NOLINT: idem
                const std::size_t count =
                    c.plan_literals(lower[i], all_lengths.data(), all_hashes.data(), all_hashes.size());
                service = c.probe_literals(lower[i], all_lengths.data(), all_hashes.data(), count);
            } else if (counts[i] > 0) {
                service = c.probe_literals(lower[i], lengths[i].data(), hashes[i].data(), counts[i]);
            }
            if (service < 0) {
                service = scan_regexes(lower[i]);
            }
            services[first + i] = service;
        }
    }
}

std::int32_t ClassifierScratch::scan_regexes(const LowerName& name) noexcept {
    const ServiceClassifier& c = *_classifier;
    if (c._regex_db == nullptr) {
        return -1;
    }
    RegexContext ctx{kNoMatch};
    const hs_error_t rc = hs_scan(c._regex_db.get(), name.data(), static_cast<unsigned int>(name.size()), 0, _scratch,
                                  on_regex_match, &ctx);
    if (rc != HS_SUCCESS) [[unlikely]] {
        ++_scan_errors;
        if (rc == HS_SCRATCH_IN_USE) {
            ++_scratch_in_use;
        }
        return -1;
    }
    return ctx.best == kNoMatch ? -1 : static_cast<std::int32_t>(ctx.best);
}

}  // namespace wt::pipeline
