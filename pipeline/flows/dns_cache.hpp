// DnsCache: what each client resolved, so that a later connection to an address
// can be named after the DNS question that led to it (issue #2: the name "that
// the same client resolved to that server address through DNS earlier").
//
// Set-associative with a fixed number of ways: the oldest way of a set is
// replaced, so a resolver flood can only evict, never grow memory. One writer
// (the worker that owns it). Every new flow looks here, so a set's tags (a hash
// of the client/address pair and the answer's time, per way) share one cache line
// and the 0.8 KB entries are read only on a tag match.
#pragma once

#include "pipeline/flows/flow.hpp"
#include "pipeline/flows/zeroed_array.hpp"

#include <cstdint>
#include <memory>
#include <string_view>

namespace wt::pipeline {

struct DnsResolution {
    IpAddr client;
    IpAddr address;
    std::uint64_t ts_ns = 0;
    DomainName query;
    NameChain cnames;

    [[nodiscard]] bool names(std::string_view name) const noexcept { return chain_has(query, cnames, name); }
};

// An ECH configuration a client received in an HTTPS record (RFC 9849 section 4) is filed in the
// same cache as its addresses: a DnsResolution whose `address` is this key (version 0, so never a
// real address) and whose query is the name the record answered for. The key is a 64-bit hash of
// the public name, lowercased (an SNI's case is the sender's), and the config_id.
[[nodiscard]] IpAddr ech_config_key(std::string_view public_name, std::uint8_t config_id) noexcept;

class DnsCache {
public:
    static constexpr std::size_t kWays = 4;

    explicit DnsCache(std::size_t entries);

    // A newer answer to the same question for the same (client, address) replaces the older one;
    // answers to other questions that gave the same address (several names behind one load
    // balancer) are kept beside it, as long as the set has room.
    void insert(const DnsResolution& r) noexcept;
    // A resolution by `client` of `address` at or before ts_ns: one whose question or CNAME chain is
    // `prefer` (a flow's SNI) when there is one, else the most recent.
    [[nodiscard]] const DnsResolution* lookup(const IpAddr& client, const IpAddr& address, std::uint64_t ts_ns,
                                              std::string_view prefer = {}) const noexcept;
    [[nodiscard]] std::uint64_t evictions() const noexcept { return _evictions; }
    // Backs the storage now (live appliance), not on the data path at first use.
    void prefault() noexcept {
        _tags.prefault();
        _entries.prefault();
    }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return _tags.memory_bytes() + _entries.memory_bytes(); }

private:
    struct alignas(64) SetTags {
        std::uint64_t tag[kWays]; // pair hash, never 0; 0 = way unused
        std::uint64_t ts[kWays];
    };
    static_assert(sizeof(SetTags) == 64);
    [[nodiscard]] static std::uint64_t pair_tag(const IpAddr& client, const IpAddr& address) noexcept;

    std::size_t _set_mask;
    ZeroedArray<SetTags> _tags;
    ZeroedArray<DnsResolution> _entries; // all-zero bytes are an empty entry
    std::uint64_t _evictions = 0;
};

} // namespace wt::pipeline
