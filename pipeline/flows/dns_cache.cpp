#include "pipeline/flows/dns_cache.hpp"

#include <array>
#include <cstring>

namespace wt::pipeline {

namespace {
std::size_t sets_for(std::size_t entries) {
    std::size_t sets = 1;
    while (sets * DnsCache::kWays < entries) {
        sets <<= 1;
    }
    return sets;
}
} // namespace

IpAddr ech_config_key(std::string_view public_name, std::uint8_t config_id) noexcept {
    std::array<char, parsers::DomainName::capacity()> lower{};
    const std::size_t n = std::min(public_name.size(), lower.size());
    for (std::size_t i = 0; i < n; ++i) {
        const char c = public_name[i];
        lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    const std::uint64_t h = hash_bytes(lower.data(), n);
    IpAddr key;
    std::memcpy(key.bytes.data(), &h, sizeof h);
    key.bytes[8] = config_id;
    key.version = 0;
    return key;
}

DnsCache::DnsCache(std::size_t entries)
    : _set_mask(sets_for(entries) - 1), _tags(_set_mask + 1), _entries((_set_mask + 1) * kWays) {}

std::uint64_t DnsCache::pair_tag(const IpAddr& client, const IpAddr& address) noexcept {
    return mix64(ip_hash(client) ^ (ip_hash(address) * 31)) | 1;
}

void DnsCache::insert(const DnsResolution& r) noexcept {
    const std::uint64_t tag = pair_tag(r.client, r.address);
    const std::size_t set = static_cast<std::size_t>(tag >> 1) & _set_mask;
    SetTags& t = _tags[set];
    std::size_t victim = 0;
    for (std::size_t i = 0; i < kWays; ++i) {
        if (t.tag[i] == tag) {
            DnsResolution& e = _entries[set * kWays + i];
            if (e.client == r.client && e.address == r.address && e.query == r.query) {
                e = r; // a newer answer to the same question replaces the older one
                t.ts[i] = r.ts_ns;
                return;
            }
        }
        if (t.tag[i] == 0 || (t.tag[victim] != 0 && t.ts[i] < t.ts[victim])) {
            victim = i;
        }
    }
    if (t.tag[victim] != 0) {
        ++_evictions;
    }
    DnsResolution& e = _entries[set * kWays + victim];
    e = r;
    t.tag[victim] = tag;
    t.ts[victim] = r.ts_ns;
}

const DnsResolution* DnsCache::lookup(const IpAddr& client, const IpAddr& address, std::uint64_t ts_ns,
                                      std::string_view prefer) const noexcept {
    const std::uint64_t tag = pair_tag(client, address);
    const std::size_t set = static_cast<std::size_t>(tag >> 1) & _set_mask;
    const SetTags& t = _tags[set];
    const DnsResolution* newest = nullptr;
    std::uint64_t newest_ts = 0;
    for (std::size_t i = 0; i < kWays; ++i) {
        if (t.tag[i] == tag && t.ts[i] <= ts_ns) {
            const DnsResolution& e = _entries[set * kWays + i];
            if (e.client == client && e.address == address) {
                if (!prefer.empty() && e.names(prefer)) {
                    return &e;
                }
                if (newest == nullptr || t.ts[i] > newest_ts) {
                    newest = &e;
                    newest_ts = t.ts[i];
                }
            }
        }
    }
    return newest;
}

} // namespace wt::pipeline
