// DnsCache: what each client resolved, so that a later connection to an address
// can be named after the DNS question that led to it (issue #2: the name "that
// the same client resolved to that server address through DNS earlier").
//
// Set-associative with a fixed number of ways: the oldest way of a set is
// replaced, so a resolver flood can only evict, never grow memory. One writer
// (the worker that owns it).
#pragma once

#include "pipeline/flow.hpp"

#include <cstdint>
#include <memory>

namespace wt::pipeline {

struct DnsResolution {
    IpAddr client;
    IpAddr address;
    std::uint64_t ts_ns = 0;
    bool used = false;
    DomainName query;
    std::uint8_t cname_count = 0;
    std::array<DomainName, kMaxFlowCnames> cnames{};
};

class DnsCache {
public:
    static constexpr std::size_t kWays = 4;

    explicit DnsCache(std::size_t entries);

    void insert(const DnsResolution& r) noexcept;
    // The most recent resolution by `client` of `address` at or before ts_ns.
    [[nodiscard]] const DnsResolution* lookup(const IpAddr& client, const IpAddr& address,
                                              std::uint64_t ts_ns) const noexcept;
    [[nodiscard]] std::uint64_t evictions() const noexcept { return _evictions; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return (_set_mask + 1) * kWays * sizeof(DnsResolution); }

private:
    [[nodiscard]] std::size_t set_of(const IpAddr& client, const IpAddr& address) const noexcept;

    std::size_t _set_mask;
    std::unique_ptr<DnsResolution[]> _entries;
    std::uint64_t _evictions = 0;
};

} // namespace wt::pipeline
