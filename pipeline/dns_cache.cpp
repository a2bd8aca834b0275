#include "pipeline/dns_cache.hpp"

namespace wt::pipeline {

DnsCache::DnsCache(std::size_t entries) {
    std::size_t sets = 1;
    while (sets * kWays < entries) {
        sets <<= 1;
    }
    _set_mask = sets - 1;
    _entries = std::make_unique<DnsResolution[]>(sets * kWays);
}

std::size_t DnsCache::set_of(const IpAddr& client, const IpAddr& address) const noexcept {
    return static_cast<std::size_t>(mix64(ip_hash(client) ^ (ip_hash(address) * 31))) & _set_mask;
}

void DnsCache::insert(const DnsResolution& r) noexcept {
    DnsResolution* set = &_entries[set_of(r.client, r.address) * kWays];
    DnsResolution* victim = &set[0];
    for (std::size_t i = 0; i < kWays; ++i) {
        DnsResolution& e = set[i];
        if (e.used && e.client == r.client && e.address == r.address) {
            e = r; // a newer answer for the same pair replaces the older one
            e.used = true;
            return;
        }
        if (!e.used || (victim->used && e.ts_ns < victim->ts_ns)) {
            victim = &e;
        }
    }
    if (victim->used) {
        ++_evictions;
    }
    *victim = r;
    victim->used = true;
}

const DnsResolution* DnsCache::lookup(const IpAddr& client, const IpAddr& address,
                                      std::uint64_t ts_ns) const noexcept {
    const DnsResolution* set = &_entries[set_of(client, address) * kWays];
    for (std::size_t i = 0; i < kWays; ++i) {
        const DnsResolution& e = set[i];
        if (e.used && e.ts_ns <= ts_ns && e.client == client && e.address == address) {
            return &e;
        }
    }
    return nullptr;
}

} // namespace wt::pipeline
