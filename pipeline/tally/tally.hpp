// Per-core tallies and their merge.
//
// Each worker owns one CoreTally and is its only writer; flows are tallied when
// they end. Tables are fixed-capacity (sized at start); a full table counts the
// overflow instead of growing. merge_tallies() runs on the stats side (never on
// a worker) and produces plain std containers for reporting.
#pragma once

#include "pipeline/flows/hash.hpp"
#include "pipeline/flows/flow.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace wt::pipeline {

// TLS versions tallied, by negotiated version (ServerHello); kNone when no
// ServerHello was seen.
enum class TlsVersionSlot : std::uint8_t { kNone, kSsl3, kTls10, kTls11, kTls12, kTls13, kOther, kCount };
TlsVersionSlot tls_version_slot(std::uint16_t version) noexcept;
const char* to_string(TlsVersionSlot s) noexcept;

// Common ALPN identifiers get their own slot; the rest count as "other".
enum class AlpnSlot : std::uint8_t { kH2, kHttp11, kH3, kHttp10, kDot, kOther, kCount };
AlpnSlot alpn_slot(std::string_view alpn) noexcept;
const char* to_string(AlpnSlot s) noexcept;

inline constexpr std::size_t kCipherSlots = 12;

// A flow is tallied whole when it ends, or in parts while it lasts (live active
// timeout): the opening part counts the connection and its TLS/ALPN/cipher facts,
// continuations add only packets and bytes, so a flow is never counted twice.
enum class TallyPart : std::uint8_t { kWhole, kOpening, kContinuation };

// The counts of a TransferStats, declared once: the struct, merge, snapshots (write and read), the
// report's JSON, Prometheus and the tests all take them from this list (tables and CSV pick their
// columns by name). Adding a count is one line here and its meaning.
//
// X(name, type, role, description). role: kVolume (connections, packets, bytes), kTls (TLS flows; their
// versions are a histogram of their own), kFlowKind (flows of one kind: Prometheus
// wiretally_flows_by_kind_total{kind="name"}).
#define WT_TRANSFER_COUNTS(X)                                                                                    \
    X(connections, std::uint64_t, kVolume, "connections opened: a flow counts once, with its first part")      \
    X(pkts_up, std::uint64_t, kVolume, "packets from client to server")                                         \
    X(pkts_down, std::uint64_t, kVolume, "packets from server to client")                                       \
    X(bytes_up, std::uint64_t, kVolume, "IP bytes from client to server")                                       \
    X(bytes_down, std::uint64_t, kVolume, "IP bytes from server to client")                                     \
    X(tls, std::uint32_t, kTls, "TLS flows (DNS over TLS included)")                                            \
    X(quic, std::uint32_t, kFlowKind, "QUIC flows")                                                             \
    X(dns, std::uint32_t, kFlowKind, "DNS flows")                                                               \
    X(ech, std::uint32_t, kFlowKind, "TLS and QUIC flows offering encrypted_client_hello (real, GREASE or unknown)") \
    X(ech_real, std::uint32_t, kFlowKind,                                                                        \
      "ECH offers whose config came to this client in a DNS HTTPS record with the outer SNI as public name")    \
    X(ech_grease, std::uint32_t, kFlowKind,                                                                      \
      "ECH offers that are GREASE: the client resolved the SNI it sent and was given no ECH config for it")     \
    X(esni, std::uint32_t, kFlowKind, "TLS flows offering the legacy encrypted_server_name extension (0xffce)")  \
    X(dot, std::uint32_t, kFlowKind, "DNS over TLS flows")                                                      \
    X(doh, std::uint32_t, kFlowKind, "TLS or QUIC flows to a DNS-over-HTTPS endpoint")                          \
    X(cleartext_http, std::uint32_t, kFlowKind, "cleartext HTTP flows")                                         \
    X(tls_without_sni, std::uint32_t, kFlowKind, "TLS flows whose ClientHello carries no SNI")                  \
    X(dot_refused, std::uint32_t, kFlowKind, "DNS over TLS attempts refused: the SYN was answered by a RST")      \
    X(dot_unanswered, std::uint32_t, kFlowKind, "DNS over TLS attempts whose SYN got no answer")                  \
    X(doq, std::uint32_t, kFlowKind, "DNS over QUIC flows (UDP 853, RFC 9250)")                                  \
    X(sni_without_dns, std::uint32_t, kFlowKind,                                                                 \
      "TLS and QUIC flows named by SNI whose client looked up no name for the server in plain DNS (in view)")

enum class TransferRole : std::uint8_t { kVolume, kTls, kFlowKind };

struct TransferStats {
#define WT_TRANSFER_FIELD(name, type, role, desc) type name = 0;
    WT_TRANSFER_COUNTS(WT_TRANSFER_FIELD)
#undef WT_TRANSFER_FIELD
    std::uint64_t first_ns = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t last_ns = 0;
    std::array<std::uint32_t, static_cast<std::size_t>(TlsVersionSlot::kCount)> tls_versions{};
    std::array<std::uint32_t, static_cast<std::size_t>(AlpnSlot::kCount)> alpns{};
    // Small cipher histogram: the first kCipherSlots distinct ciphers, the rest in cipher_other.
    std::array<std::uint16_t, kCipherSlots> cipher_ids{};
    std::array<std::uint32_t, kCipherSlots> cipher_counts{};
    std::uint32_t cipher_other = 0;

#define WT_TRANSFER_ONE(name, type, role, desc) +1
    static constexpr std::size_t kCountFields = 0 WT_TRANSFER_COUNTS(WT_TRANSFER_ONE);
#undef WT_TRANSFER_ONE

    void add_flow(const Flow& f, const FlowDetail* d, TallyPart part = TallyPart::kWhole) noexcept;
    void merge(const TransferStats& o) noexcept;
    void add_cipher(std::uint16_t cipher, std::uint32_t n) noexcept;

    // Visits every count of WT_TRANSFER_COUNTS: fn(name, role, description, value) ...
    template <typename Fn>
    void for_each_count(Fn&& fn) const {
#define WT_TRANSFER_VISIT(name, type, role, desc) \
    fn(std::string_view(#name), TransferRole::role, std::string_view(desc), static_cast<std::uint64_t>(name));
        WT_TRANSFER_COUNTS(WT_TRANSFER_VISIT)
#undef WT_TRANSFER_VISIT
    }
    // ... and fn(name, field&) to set them (the field is std::uint64_t& or std::uint32_t&).
    template <typename Fn>
    void for_each_count_field(Fn&& fn) {
#define WT_TRANSFER_VISIT_FIELD(name, type, role, desc) fn(std::string_view(#name), name);
        WT_TRANSFER_COUNTS(WT_TRANSFER_VISIT_FIELD)
#undef WT_TRANSFER_VISIT_FIELD
    }
};

struct DomainKey {
    DomainName name;
    friend bool operator==(const DomainKey&, const DomainKey&) = default;
};
struct DomainKeyHash {
    std::uint64_t operator()(const DomainKey& k) const noexcept {
        return hash_bytes(k.name.view().data(), k.name.size());
    }
};
// Of two CNAME chains (NameChain::text form) seen for one domain, the one a row keeps: the longer,
// then the lower (so that the row does not depend on the order its flows end in).
[[nodiscard]] inline bool better_cname_chain(std::string_view candidate, std::string_view kept) noexcept {
    return candidate.size() != kept.size() ? candidate.size() > kept.size() : candidate < kept;
}
// The names of a chain in NameChain::text form.
[[nodiscard]] std::vector<std::string> cname_chain_names(std::string_view text);

struct DomainTally {
    std::int32_t service = -1;
    DomainName matched_by; // the CNAME chain name the service matched; empty: the name itself
    NameChain cnames;      // where the name led in DNS, after the name; empty: no chain seen
    std::uint32_t inferred_asn = 0; // the service was inferred from this AS hosting the name; 0: not
    TransferStats stats;
};
// Of the services a row's flows (or tallies merged into it) offer, the one it keeps: a classified one;
// an unclassified flow does not undo it (so that the row does not depend on the order flows end in).
inline void keep_service(std::int32_t& kept, std::int32_t offered) noexcept {
    if (offered >= 0 || kept < 0) {
        kept = offered;
    }
}
// Of two ASNs a domain's service was inferred from, the one a row keeps (the lower, so that the row
// does not depend on the order its flows end in); 0 is "not inferred".
[[nodiscard]] inline std::uint32_t kept_inferred_asn(std::uint32_t a, std::uint32_t b) noexcept {
    return a == 0 ? b : b == 0 ? a : std::min(a, b);
}

struct ClientServiceKey {
    IpAddr client;
    std::int32_t service = -1;
    friend bool operator==(const ClientServiceKey&, const ClientServiceKey&) = default;
};
struct ClientServiceKeyHash {
    std::uint64_t operator()(const ClientServiceKey& k) const noexcept {
        return mix64(ip_hash(k.client) ^ static_cast<std::uint32_t>(k.service));
    }
};
struct ClientTally {
    std::uint8_t mac[6]{};
    bool has_mac = false;
    TransferStats stats;
};

// (client, domain) pairs: distinct clients per domain.
struct ClientDomainKey {
    IpAddr client;
    std::uint64_t domain_hash = 0;
    friend bool operator==(const ClientDomainKey&, const ClientDomainKey&) = default;
};
struct ClientDomainKeyHash {
    std::uint64_t operator()(const ClientDomainKey& k) const noexcept { return mix64(ip_hash(k.client) ^ k.domain_hash); }
};

// The action table (issue #15): per action, per name (or, for a flow without one, per server
// address), what the action did. A flow's bytes go to the actions under way while they pass, so a
// connection kept open splits across the actions it serves; it counts as new in the action it was
// opened in and as reused in each later action in which it carried data.
struct ActionDomainKey {
    std::uint16_t action = 0;
    DomainName name; // empty: a flow without a name, under its server address
    IpAddr server;   // only for the unnamed (zero otherwise)
    friend bool operator==(const ActionDomainKey&, const ActionDomainKey&) = default;
};
struct ActionDomainKeyHash {
    std::uint64_t operator()(const ActionDomainKey& k) const noexcept {
        return k.name.empty() ? mix64(ip_hash(k.server) ^ k.action) : hash_bytes(k.name.view().data(), k.name.size(), k.action);
    }
};
inline constexpr std::uint16_t kNoAction = 0xffff;
struct ActionDomainTally {
    std::int32_t service = -1;
    std::uint32_t connections_reused = 0; // opened in an earlier action (or before the first mark)
    std::uint32_t dns_lookups = 0;        // DNS flows asking for the name: lookups, not connections
    std::uint32_t dns_failed = 0;         // of them, answered with an error (NXDOMAIN, SERVFAIL, ...)
    std::uint8_t dns_failed_rcode = 0;    // the lowest such RCODE (a row does not depend on flow order)
    std::uint16_t reused_from = kNoAction; // the earliest action a reused connection was opened in (0: before the first mark)
    // connections = connections opened in this action; bytes and packets = those that passed during it;
    // TLS facts and flow kinds = of every connection counted here, new or reused.
    TransferStats stats;

    // Failed lookups, with their RCODE.
    void add_failed_lookups(std::uint32_t n, std::uint8_t rcode) noexcept {
        if (n != 0) {
            dns_failed_rcode = dns_failed == 0 ? rcode : std::min(dns_failed_rcode, rcode);
            dns_failed += n;
        }
    }
    // Another tally of the same row (another core, interval or snapshot): the result does not depend on
    // the order rows are merged in.
    void merge(const ActionDomainTally& o) noexcept;
};
// How a part of a flow tallied into an action counts its connection.
enum class ActionUse : std::uint8_t {
    kMore,   // more of a use already counted (a live interval's part, a segment's rest)
    kNew,    // the flow was opened in this action
    kReused, // the flow was opened earlier and carries data in this action
};

// (server address, name) pairs: which names were used for each server address (SNI routing
// puts several behind one load balancer). A flow without a name (or a DNS flow, whose query
// names no server) is tallied under the empty name, so a server's row holds all its traffic.
// Keyed by the name's hash, the name itself kept in the row: a flow tallied neither copies nor
// compares 256-byte names (as the client-domain pairs do).
struct ServerNameKey {
    IpAddr server;
    std::uint64_t name_hash = 0; // name_key_hash() of the name; of "" for the unnamed row
    friend bool operator==(const ServerNameKey&, const ServerNameKey&) = default;
};
[[nodiscard]] inline std::uint64_t name_key_hash(std::string_view name) noexcept {
    return hash_bytes(name.data(), name.size());
}
struct ServerNameKeyHash {
    std::uint64_t operator()(const ServerNameKey& k) const noexcept {
        return mix64(ip_hash(k.server) ^ (k.name_hash * 0x9e3779b97f4a7c15ULL));
    }
};
struct ServerNameTally {
    DomainName name;               // empty: the server's flows that had no name
    std::int32_t service = -1;
    std::uint8_t name_sources = 0; // bit (1 << NameSource) for each way the name was learnt
    TransferStats stats;           // as a domain's: volume, TLS, and the kinds (DoT and its fate, DoH, DoQ)
};

// Who is on the link (issue #15, devices): per MAC address, the addresses and the DHCP names that
// ARP, Neighbour Discovery and DHCP tie to it (parsers/net/neighbours.hpp), so that a device's
// addresses come together even when some carry no flow, and a device has its DHCP host name.
enum DeviceHintSource : std::uint8_t { kHintDhcp = 1u << 0, kHintArp = 1u << 1, kHintNdp = 1u << 2 };
// Their names in reports and snapshots, in this order.
inline constexpr std::array<std::pair<DeviceHintSource, std::string_view>, 3> kDeviceHintSources = {
    {{kHintDhcp, "dhcp"}, {kHintArp, "arp"}, {kHintNdp, "nd"}}};
struct DeviceHintKey {
    std::array<std::uint8_t, 6> mac{};
    friend bool operator==(const DeviceHintKey&, const DeviceHintKey&) = default;
};
struct DeviceHintKeyHash {
    std::uint64_t operator()(const DeviceHintKey& k) const noexcept { return hash_bytes(k.mac.data(), k.mac.size()); }
};
struct DeviceHint {
    static constexpr std::size_t kMaxAddresses = 8; // a device's IPv4, link-local and a few global IPv6
    std::array<IpAddr, kMaxAddresses> addresses{};
    std::uint8_t address_count = 0;
    std::uint8_t sources = 0; // DeviceHintSource bits
    parsers::FixedString<64> host_name;    // DHCP option 12 (the latest); empty: none
    parsers::FixedString<64> vendor_class; // DHCP option 60
    // Adds an address once; one past kMaxAddresses is left out (a bounded record).
    void add_address(const IpAddr& a) noexcept {
        for (std::uint8_t i = 0; i < address_count; ++i) {
            if (addresses[i] == a) {
                return;
            }
        }
        if (address_count < kMaxAddresses) {
            addresses[address_count++] = a;
        }
    }
    void merge(const DeviceHint& o) noexcept;
};

// TallyMap: the tally tables. Capacity is fixed at construction (no allocation
// after it; a full table refuses inserts and the caller counts them), and the entries sit densely in insertion order behind an index of 8-byte
// slots (entry number + 1, 0 = empty, and the top half of the hash so that most
// probes never touch an entry). Tables are sized for the worst case while a
// capture or an interval usually fills a small part of them: the entry array is
// left untouched by construction (malloc'd; pages are mapped when first written),
// clear() rewrites only the index, and for_each visits only the entries held.
template <typename Key, typename Value, typename Hash>
class TallyMap {
public:
    // capacity is rounded up to a power of two; usable entries = capacity * 7 / 8.
    explicit TallyMap(std::size_t capacity)
        : _mask(round_up_pow2(capacity < 8 ? 8 : capacity) - 1),
          _limit((_mask + 1) / 8 * 7),
          _index(allocate<std::uint64_t>(_mask + 1, true)),
          _entries(allocate<Entry>(_limit, false)) {}

    TallyMap(TallyMap&&) noexcept = default;
    TallyMap& operator=(TallyMap&&) noexcept = default;

    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return _limit; }
    [[nodiscard]] bool full() const noexcept { return _size >= _limit; }
    // Bytes reserved, fixed at construction (resident only as far as used).
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return (_mask + 1) * sizeof(std::uint64_t) + _limit * sizeof(Entry);
    }

    [[nodiscard]] const Value* find(const Key& key) const noexcept {
        const std::uint64_t hash = Hash{}(key);
        for (std::size_t i = hash & _mask, probes = 0; probes <= _mask; i = (i + 1) & _mask, ++probes) {
            const std::uint64_t slot = _index[i];
            if (slot == 0) {
                return nullptr;
            }
            if ((slot >> 32) == (hash >> 32)) {
                const Entry& e = _entries[(slot & 0xffffffffu) - 1];
                if (e.hash == hash && e.key == key) {
                    return &e.value;
                }
            }
        }
        return nullptr;
    }

    // Returns the value for key, inserting a value-initialised one if absent;
    // nullptr when the table is full. `inserted` tells which happened.
    Value* find_or_insert(const Key& key, bool& inserted) noexcept {
        return find_or_insert_hashed(key, Hash{}(key), inserted);
    }

    Value* find_or_insert_hashed(const Key& key, std::uint64_t hash, bool& inserted) noexcept {
        inserted = false;
        for (std::size_t i = hash & _mask, probes = 0; probes <= _mask; i = (i + 1) & _mask, ++probes) {
            const std::uint64_t slot = _index[i];
            if (slot == 0) {
                if (_size >= _limit) {
                    return nullptr;
                }
                Entry* e = ::new (static_cast<void*>(&_entries[_size])) Entry{hash, key, Value{}};
                ++_size;
                _index[i] = (hash >> 32 << 32) | _size;
                inserted = true;
                return &e->value;
            }
            if ((slot >> 32) == (hash >> 32)) {
                Entry& e = _entries[(slot & 0xffffffffu) - 1];
                if (e.hash == hash && e.key == key) {
                    return &e.value;
                }
            }
        }
        return nullptr;
    }

    // Empties the table: rewrites the index (8 bytes a slot), not the entries.
    void clear() noexcept {
        std::fill(_index.get(), _index.get() + _mask + 1, std::uint64_t{0});
        _size = 0;
    }

    // Visits every entry, in insertion order; fn(const Key&, Value&).
    template <typename Fn>
    void for_each(Fn&& fn) {
        for (std::size_t i = 0; i < _size; ++i) {
            fn(static_cast<const Key&>(_entries[i].key), _entries[i].value);
        }
    }
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i < _size; ++i) {
            fn(_entries[i].key, static_cast<const Value&>(_entries[i].value));
        }
    }

private:
    struct Entry {
        std::uint64_t hash;
        Key key;
        Value value;
    };
    // Entries are created in place on insert and never destroyed.
    static_assert(std::is_trivially_destructible_v<Entry> && std::is_trivially_copyable_v<Entry>,
                  "TallyMap keeps entries in raw memory");
    static_assert(sizeof(std::size_t) == 8, "the index packs 32 bits of entry number");

    struct FreeDeleter {
        void operator()(void* p) const noexcept { std::free(p); }
    };
    template <typename T>
    using Buffer = std::unique_ptr<T[], FreeDeleter>;

    // calloc'd or malloc'd, not new[]: large blocks come straight from mmap, so
    // untouched parts cost neither zeroing nor resident memory.
    template <typename T>
    static Buffer<T> allocate(std::size_t n, bool zeroed) {
        void* p = zeroed ? std::calloc(n, sizeof(T)) : std::malloc(n * sizeof(T));
        if (p == nullptr) {
            throw std::bad_alloc();
        }
        return Buffer<T>(static_cast<T*>(p));
    }

    static std::size_t round_up_pow2(std::size_t v) noexcept {
        std::size_t p = 1;
        while (p < v) {
            p <<= 1;
        }
        return p;
    }

    std::size_t _mask;
    std::size_t _limit;
    Buffer<std::uint64_t> _index;
    Buffer<Entry> _entries;
    std::size_t _size = 0;
};

struct TallyLimits {
    std::size_t domains = 1u << 16;
    std::size_t client_services = 1u << 16;
    std::size_t client_domains = 1u << 17;
    std::size_t action_domains = 1u << 15;
    std::size_t server_names = 1u << 16;
    std::size_t device_hints = 1u << 10;
};

// Live double buffering: the worker tallies into its active CoreTally and, at a
// burst boundary, swaps it with a cleared spare handed over by the stats core.
// Moving or swapping never allocates or throws (the tables are owned through
// pointers), so the swap is safe on the data path; everything else below marked
// "stats side only" may allocate and must never run on a worker.
class CoreTally {
public:
    CoreTally(std::size_t service_count, const TallyLimits& limits);

    CoreTally(CoreTally&&) noexcept = default;
    CoreTally& operator=(CoreTally&&) noexcept = default;
    CoreTally(const CoreTally&) = delete;
    CoreTally& operator=(const CoreTally&) = delete;
    // Member-wise, without a temporary CoreTally (std::swap works too; both only
    // exchange pointers plus the inline TransferStats total).
    friend void swap(CoreTally& a, CoreTally& b) noexcept;

    // Tallies one finished flow. No allocation.
    void add_flow(const Flow& f, const FlowDetail* d, TallyPart part = TallyPart::kWhole) noexcept;
    // Tallies what flow f did during one action: `part` holds the packets and bytes that passed in it
    // (its other fields are the flow's), `opened_in` the action the flow was opened in. Action 0
    // (before the first mark) has no row. A DNS flow counts one lookup of its question, not a
    // connection, and its bytes (to a resolver) are not the name's. No allocation.
    void add_action_part(const Flow& part, const FlowDetail* d, std::uint16_t action, ActionUse use,
                         std::uint16_t opened_in) noexcept;
    // What an ARP, ND or DHCP message says of the device with this MAC: an address (version 0:
    // none), and for DHCP its host name and vendor class (empty: none). No allocation.
    void add_device_hint(const DeviceHintKey& mac, const IpAddr& address, DeviceHintSource source,
                         std::string_view host_name = {}, std::string_view vendor_class = {}) noexcept;

    // ---- stats side only -------------------------------------------------------
    // Adds every table of `other` into this one. A service index i of `other`
    // (-1 = unclassified) becomes service_map[i] here; indices outside the map,
    // and negative map entries, become -1. `_services` grows to fit the largest
    // mapped index (this may allocate). Entries that find a full table are counted
    // in table_full_drops(), like add_flow does; other's own drops are added too.
    // Domain and action entries take the mapped service of `other` (the latest
    // classification wins, as in add_flow); a client entry keeps its first MAC and
    // takes other's only when it had none. The two tallies may have different
    // TallyLimits. Cost: it visits the entries of other's tables, so it follows
    // their number, not other's capacity.
    void absorb(const CoreTally& other, std::span<const std::int32_t> service_map);

    // Empties every table and counter; keeps the memory and the number of service
    // slots. Rewrites each table's index (8 bytes a slot: 2.3 MB at the default
    // TallyLimits), not the entries.
    void clear() noexcept;

    // Sets the number of service slots to service_count + 1 (0 = unclassified),
    // keeping the counts of the slots that remain. For a cleared spare after a
    // services reload: add_flow ignores flows whose service has no slot.
    void resize_services(std::size_t service_count);

    // Restore entries (snapshot load). Each one merges into an existing entry with
    // the same key, exactly as absorb does, and returns false when the table was
    // full (then also counted in table_full_drops()). restore_service grows the
    // service slots to fit (service -1 = unclassified).
    void restore_service(std::int32_t service, const TransferStats& stats);
    void restore_total(const TransferStats& stats) noexcept { _total.merge(stats); }
    void restore_table_full_drops(std::uint64_t n) noexcept { _table_full += n; }
    bool restore_domain(const DomainKey& key, const DomainTally& tally) noexcept;
    bool restore_client(const ClientServiceKey& key, const ClientTally& tally) noexcept;
    bool restore_client_domain(const ClientDomainKey& key) noexcept;
    bool restore_action(const ActionDomainKey& key, const ActionDomainTally& tally) noexcept;
    bool restore_server_name(const ServerNameKey& key, const ServerNameTally& tally) noexcept;
    bool restore_device_hint(const DeviceHintKey& key, const DeviceHint& hint) noexcept;
    // The same from a name (snapshots): the key is made from it.
    bool restore_server_name(const IpAddr& server, const ServerNameTally& tally) noexcept {
        return restore_server_name(ServerNameKey{server, name_key_hash(tally.name.view())}, tally);
    }

    // Read side (stats step).
    [[nodiscard]] const std::vector<TransferStats>& services() const noexcept { return _services; }
    [[nodiscard]] const TransferStats& total() const noexcept { return _total; }
    [[nodiscard]] const TallyMap<DomainKey, DomainTally, DomainKeyHash>& domains() const noexcept { return _domains; }
    [[nodiscard]] const TallyMap<ClientServiceKey, ClientTally, ClientServiceKeyHash>& clients() const noexcept {
        return _clients;
    }
    [[nodiscard]] const TallyMap<ClientDomainKey, std::uint8_t, ClientDomainKeyHash>& client_domains() const noexcept {
        return _client_domains;
    }
    [[nodiscard]] const TallyMap<ActionDomainKey, ActionDomainTally, ActionDomainKeyHash>& actions() const noexcept {
        return _actions;
    }
    [[nodiscard]] const TallyMap<ServerNameKey, ServerNameTally, ServerNameKeyHash>& server_names() const noexcept {
        return _server_names;
    }
    [[nodiscard]] const TallyMap<DeviceHintKey, DeviceHint, DeviceHintKeyHash>& device_hints() const noexcept {
        return _device_hints;
    }
    [[nodiscard]] std::uint64_t table_full_drops() const noexcept { return _table_full; }
    // Bytes held by the tables (fixed at construction) and the per-service rows.
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return _domains.memory_bytes() + _clients.memory_bytes() + _client_domains.memory_bytes() +
               _actions.memory_bytes() + _server_names.memory_bytes() + _device_hints.memory_bytes() +
               _services.capacity() * sizeof(TransferStats);
    }

private:
    std::vector<TransferStats> _services; // index service + 1; 0 = unclassified
    TransferStats _total;
    TallyMap<DomainKey, DomainTally, DomainKeyHash> _domains;
    TallyMap<ClientServiceKey, ClientTally, ClientServiceKeyHash> _clients;
    TallyMap<ClientDomainKey, std::uint8_t, ClientDomainKeyHash> _client_domains;
    TallyMap<ActionDomainKey, ActionDomainTally, ActionDomainKeyHash> _actions;
    TallyMap<ServerNameKey, ServerNameTally, ServerNameKeyHash> _server_names;
    TallyMap<DeviceHintKey, DeviceHint, DeviceHintKeyHash> _device_hints;
    std::uint64_t _table_full = 0;
};

static_assert(std::is_nothrow_move_constructible_v<CoreTally> && std::is_nothrow_move_assignable_v<CoreTally>,
              "the worker swaps CoreTallies on the data path: moves must not throw");

// The merged view, for reports. Allocates freely: it runs off the data path.
struct MergedStats {
    TransferStats stats;
    std::uint64_t distinct_clients = 0;
};
struct MergedDomain {
    std::string name;
    std::int32_t service = -1;
    std::string matched_by; // empty: the service matched the name itself
    std::string cnames;     // NameChain::text form; empty: no chain seen
    std::uint32_t inferred_asn = 0;
    MergedStats m;
};
struct MergedClient {
    IpAddr client;
    std::int32_t service = -1;
    std::uint8_t mac[6]{};
    bool has_mac = false;
    TransferStats stats;
};
struct MergedActionDomain : ActionDomainTally {
    std::uint16_t action = 0;
    std::string name; // empty: flows without a name, to `server`
    IpAddr server;
};
struct MergedServerName {
    std::string name;               // empty: the server's flows that had no name
    std::int32_t service = -1;
    std::uint8_t name_sources = 0;  // bit (1 << NameSource)
    TransferStats stats;
};
struct MergedDeviceHint {
    std::array<std::uint8_t, 6> mac{};
    std::vector<IpAddr> addresses; // sorted
    std::uint8_t sources = 0;
    std::string host_name;
    std::string vendor_class;
};
// One server address: the names used for it, largest first, and their sum.
struct MergedServer {
    IpAddr address;
    std::vector<MergedServerName> names;
    TransferStats stats;
};
struct MergedTally {
    std::vector<MergedStats> services; // index service + 1
    MergedStats total;
    std::vector<MergedDomain> domains;
    std::vector<MergedClient> clients;
    std::vector<MergedActionDomain> actions;
    std::vector<MergedServer> servers; // by address
    std::vector<std::pair<IpAddr, std::string>> client_domains; // the (client, domain) pairs seen, sorted
    std::vector<MergedDeviceHint> device_hints;                  // by MAC
    std::uint64_t table_full_drops = 0;
};

MergedTally merge_tallies(const std::vector<const CoreTally*>& cores);

} // namespace wt::pipeline
