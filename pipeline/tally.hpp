// Per-core tallies and their merge.
//
// Each worker owns one CoreTally and is its only writer; flows are tallied when
// they end. Tables are fixed-capacity (sized at start); a full table counts the
// overflow instead of growing. merge_tallies() runs on the stats side (never on
// a worker) and produces plain std containers for reporting.
#pragma once

#include "pipeline/fixed_hash_map.hpp"
#include "pipeline/flow.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
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

struct TransferStats {
    std::uint64_t connections = 0;
    std::uint64_t pkts_up = 0;
    std::uint64_t pkts_down = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint64_t first_ns = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t last_ns = 0;
    std::uint32_t tls = 0;
    std::uint32_t quic = 0;
    std::uint32_t dns = 0;
    std::uint32_t ech = 0;
    std::uint32_t dot = 0;
    std::uint32_t doh = 0;
    std::uint32_t cleartext_http = 0;
    std::uint32_t tls_without_sni = 0;
    std::array<std::uint32_t, static_cast<std::size_t>(TlsVersionSlot::kCount)> tls_versions{};
    std::array<std::uint32_t, static_cast<std::size_t>(AlpnSlot::kCount)> alpns{};
    // Small cipher histogram: the first kCipherSlots distinct ciphers, the rest in cipher_other.
    std::array<std::uint16_t, kCipherSlots> cipher_ids{};
    std::array<std::uint32_t, kCipherSlots> cipher_counts{};
    std::uint32_t cipher_other = 0;

    void add_flow(const Flow& f, const FlowDetail* d) noexcept;
    void merge(const TransferStats& o) noexcept;
    void add_cipher(std::uint16_t cipher, std::uint32_t n) noexcept;
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
struct DomainTally {
    std::int32_t service = -1;
    TransferStats stats;
};

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

struct ActionDomainKey {
    std::uint16_t action = 0;
    DomainName name;
    friend bool operator==(const ActionDomainKey&, const ActionDomainKey&) = default;
};
struct ActionDomainKeyHash {
    std::uint64_t operator()(const ActionDomainKey& k) const noexcept {
        return hash_bytes(k.name.view().data(), k.name.size(), k.action);
    }
};
struct ActionDomainTally {
    std::int32_t service = -1;
    std::uint64_t connections = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
};

struct TallyLimits {
    std::size_t domains = 1u << 16;
    std::size_t client_services = 1u << 16;
    std::size_t client_domains = 1u << 17;
    std::size_t action_domains = 1u << 15;
};

class CoreTally {
public:
    CoreTally(std::size_t service_count, const TallyLimits& limits);

    // Tallies one finished flow. No allocation.
    void add_flow(const Flow& f, const FlowDetail* d) noexcept;

    // Read side (stats step).
    [[nodiscard]] const std::vector<TransferStats>& services() const noexcept { return _services; }
    [[nodiscard]] const TransferStats& total() const noexcept { return _total; }
    [[nodiscard]] const FixedHashMap<DomainKey, DomainTally, DomainKeyHash>& domains() const noexcept { return _domains; }
    [[nodiscard]] const FixedHashMap<ClientServiceKey, ClientTally, ClientServiceKeyHash>& clients() const noexcept {
        return _clients;
    }
    [[nodiscard]] const FixedHashMap<ClientDomainKey, std::uint8_t, ClientDomainKeyHash>& client_domains() const noexcept {
        return _client_domains;
    }
    [[nodiscard]] const FixedHashMap<ActionDomainKey, ActionDomainTally, ActionDomainKeyHash>& actions() const noexcept {
        return _actions;
    }
    [[nodiscard]] std::uint64_t table_full_drops() const noexcept { return _table_full; }

private:
    std::vector<TransferStats> _services; // index service + 1; 0 = unclassified
    TransferStats _total;
    FixedHashMap<DomainKey, DomainTally, DomainKeyHash> _domains;
    FixedHashMap<ClientServiceKey, ClientTally, ClientServiceKeyHash> _clients;
    FixedHashMap<ClientDomainKey, std::uint8_t, ClientDomainKeyHash> _client_domains;
    FixedHashMap<ActionDomainKey, ActionDomainTally, ActionDomainKeyHash> _actions;
    std::uint64_t _table_full = 0;
};

// The merged view, for reports. Allocates freely: it runs off the data path.
struct MergedStats {
    TransferStats stats;
    std::uint64_t distinct_clients = 0;
};
struct MergedDomain {
    std::string name;
    std::int32_t service = -1;
    MergedStats m;
};
struct MergedClient {
    IpAddr client;
    std::int32_t service = -1;
    std::uint8_t mac[6]{};
    bool has_mac = false;
    TransferStats stats;
};
struct MergedActionDomain {
    std::uint16_t action = 0;
    std::string name;
    std::int32_t service = -1;
    std::uint64_t connections = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
};
struct MergedTally {
    std::vector<MergedStats> services; // index service + 1
    MergedStats total;
    std::vector<MergedDomain> domains;
    std::vector<MergedClient> clients;
    std::vector<MergedActionDomain> actions;
    std::uint64_t table_full_drops = 0;
};

MergedTally merge_tallies(const std::vector<const CoreTally*>& cores);

} // namespace wt::pipeline
