#include "pipeline/tally/tally.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>

namespace wt::pipeline {

TlsVersionSlot tls_version_slot(std::uint16_t version) noexcept {
    switch (version) {
    case 0: return TlsVersionSlot::kNone;
    case 0x0300: return TlsVersionSlot::kSsl3;
    case 0x0301: return TlsVersionSlot::kTls10;
    case 0x0302: return TlsVersionSlot::kTls11;
    case 0x0303: return TlsVersionSlot::kTls12;
    case 0x0304: return TlsVersionSlot::kTls13;
    default: return TlsVersionSlot::kOther;
    }
}

const char* to_string(TlsVersionSlot s) noexcept {
    switch (s) {
    case TlsVersionSlot::kNone: return "none";
    case TlsVersionSlot::kSsl3: return "SSLv3";
    case TlsVersionSlot::kTls10: return "TLSv1";
    case TlsVersionSlot::kTls11: return "TLSv1.1";
    case TlsVersionSlot::kTls12: return "TLSv1.2";
    case TlsVersionSlot::kTls13: return "TLSv1.3";
    default: return "other";
    }
}

AlpnSlot alpn_slot(std::string_view alpn) noexcept {
    if (alpn == "h2") {
        return AlpnSlot::kH2;
    }
    if (alpn == "http/1.1") {
        return AlpnSlot::kHttp11;
    }
    if (alpn == "h3" || alpn.starts_with("h3-")) {
        return AlpnSlot::kH3;
    }
    if (alpn == "http/1.0") {
        return AlpnSlot::kHttp10;
    }
    if (alpn == "dot") {
        return AlpnSlot::kDot;
    }
    return AlpnSlot::kOther;
}

const char* to_string(AlpnSlot s) noexcept {
    switch (s) {
    case AlpnSlot::kH2: return "h2";
    case AlpnSlot::kHttp11: return "http/1.1";
    case AlpnSlot::kH3: return "h3";
    case AlpnSlot::kHttp10: return "http/1.0";
    case AlpnSlot::kDot: return "dot";
    default: return "other";
    }
}

void TransferStats::add_cipher(std::uint16_t cipher, std::uint32_t n) noexcept {
    for (std::size_t i = 0; i < kCipherSlots; ++i) {
        if (cipher_counts[i] != 0 && cipher_ids[i] == cipher) {
            cipher_counts[i] += n;
            return;
        }
        if (cipher_counts[i] == 0) {
            cipher_ids[i] = cipher;
            cipher_counts[i] = n;
            return;
        }
    }
    cipher_other += n;
}

void TransferStats::add_flow(const Flow& f, const FlowDetail* d, TallyPart part) noexcept {
    pkts_up += f.pkts_up;
    pkts_down += f.pkts_down;
    bytes_up += f.bytes_up;
    bytes_down += f.bytes_down;
    first_ns = std::min(first_ns, f.ts_first_ns);
    last_ns = std::max(last_ns, f.ts_last_ns);
    if (part == TallyPart::kContinuation) {
        return;
    }
    ++connections;
    if (d == nullptr) {
        return;
    }
    switch (d->app) {
    case AppProto::kTls: ++tls; break;
    case AppProto::kDot:
        // Port 853 alone makes a DoT attempt (RFC 7858 section 3.1); its fate is read from the handshake.
        ++dot;
        if (d->tls.client_hello_seen || d->tls.server_hello_seen) {
            ++tls;
        }
        if ((f.flags & kFlowSynAckSeen) == 0 && f.pkts_down == 0) {
            ++dot_unanswered;
        } else if ((f.flags & (kFlowSynAckSeen | kFlowRst)) == kFlowRst && (f.flags & kFlowSynSeen)) {
            ++dot_refused; // the server's only answer to the SYN was a RST (a closed port, or a firewall's reset)
        }
        break;
    case AppProto::kQuic: ++quic; break;
    case AppProto::kDns: ++dns; break;
    case AppProto::kHttp: ++cleartext_http; break;
    default: break;
    }
    if (d->doh_endpoint) {
        ++doh;
    }
    if (d->doq) {
        ++doq;
    }
    if ((d->name_source == NameSource::kSni || d->name_source == NameSource::kQuicSni) && d->resolved_query.empty()) {
        ++sni_without_dns;
    }
    if (d->tls.ech_offered) {
        ++ech;
        ech_real += d->tls.ech == EchKind::kReal ? 1 : 0;
        ech_grease += d->tls.ech == EchKind::kGrease ? 1 : 0;
    }
    if (d->tls.esni) {
        ++esni;
    }
    if ((d->app == AppProto::kTls || d->app == AppProto::kDot) && d->tls.client_hello_seen && !d->tls.has_sni) {
        ++tls_without_sni;
    }
    if (d->tls.client_hello_seen || d->tls.server_hello_seen) {
        ++tls_versions[static_cast<std::size_t>(tls_version_slot(d->tls.negotiated_version))];
        if (d->tls.server_hello_seen) {
            add_cipher(d->tls.cipher, 1);
        }
        for (std::size_t i = 0; i < d->tls.alpn_count; ++i) {
            ++alpns[static_cast<std::size_t>(alpn_slot(d->tls.alpn[i].view()))];
        }
    }
}

void TransferStats::merge(const TransferStats& o) noexcept {
#define WT_TRANSFER_MERGE(name, type, role, desc) name += o.name;
    WT_TRANSFER_COUNTS(WT_TRANSFER_MERGE)
#undef WT_TRANSFER_MERGE
    first_ns = std::min(first_ns, o.first_ns);
    last_ns = std::max(last_ns, o.last_ns);
    for (std::size_t i = 0; i < tls_versions.size(); ++i) {
        tls_versions[i] += o.tls_versions[i];
    }
    for (std::size_t i = 0; i < alpns.size(); ++i) {
        alpns[i] += o.alpns[i];
    }
    for (std::size_t i = 0; i < kCipherSlots; ++i) {
        if (o.cipher_counts[i] != 0) {
            add_cipher(o.cipher_ids[i], o.cipher_counts[i]);
        }
    }
    cipher_other += o.cipher_other;
}

std::vector<std::string> cname_chain_names(std::string_view text) {
    NameChain chain;
    (void)chain.assign_text(text.substr(0, NameChain::kCapacity));
    std::vector<std::string> names;
    for (std::string_view name : chain) {
        names.emplace_back(name);
    }
    return names;
}

CoreTally::CoreTally(std::size_t service_count, const TallyLimits& limits)
    : _services(service_count + 1),
      _domains(limits.domains),
      _clients(limits.client_services),
      _client_domains(limits.client_domains),
      _actions(limits.action_domains),
      _server_names(limits.server_names),
      _device_hints(limits.device_hints) {}

void DeviceHint::merge(const DeviceHint& o) noexcept {
    for (std::uint8_t i = 0; i < o.address_count; ++i) {
        add_address(o.addresses[i]);
    }
    sources |= o.sources;
    // Two tallies naming the device differently keep the lower name, so that the merged view does not
    // depend on how its messages were spread over workers.
    if (!o.host_name.empty() && (host_name.empty() || o.host_name.view() < host_name.view())) {
        host_name = o.host_name;
    }
    if (!o.vendor_class.empty() && (vendor_class.empty() || o.vendor_class.view() < vendor_class.view())) {
        vendor_class = o.vendor_class;
    }
}

void CoreTally::add_device_hint(const DeviceHintKey& mac, const IpAddr& address, DeviceHintSource source,
                                std::string_view host_name, std::string_view vendor_class) noexcept {
    bool inserted = false;
    DeviceHint* h = _device_hints.find_or_insert(mac, inserted);
    if (h == nullptr) {
        ++_table_full;
        return;
    }
    // The same rule as merging two tallies, so that one tally and many give the same view.
    DeviceHint said;
    if (address.version != 0) {
        said.add_address(address);
    }
    said.sources = source;
    said.host_name.assign(host_name);
    said.vendor_class.assign(vendor_class);
    h->merge(said);
}

bool CoreTally::restore_device_hint(const DeviceHintKey& key, const DeviceHint& hint) noexcept {
    bool inserted = false;
    DeviceHint* h = _device_hints.find_or_insert(key, inserted);
    if (h == nullptr) {
        ++_table_full;
        return false;
    }
    h->merge(hint);
    return true;
}

void CoreTally::add_flow(const Flow& f, const FlowDetail* d, TallyPart part) noexcept {
    const std::size_t slot = static_cast<std::size_t>(f.service + 1);
    if (slot < _services.size()) {
        _services[slot].add_flow(f, d, part);
    } else {
        ++_table_full; // a service with no slot: never silently (the stats core sizes every spare)
    }
    _total.add_flow(f, d, part);

    bool inserted = false;
    ClientServiceKey ck{f.client().ip, f.service};
    if (ClientTally* c = _clients.find_or_insert(ck, inserted)) {
        if (inserted) {
            std::copy(std::begin(f.client_mac), std::end(f.client_mac), std::begin(c->mac));
            c->has_mac = std::any_of(std::begin(f.client_mac), std::end(f.client_mac), [](auto b) { return b != 0; });
        }
        c->stats.add_flow(f, d, part);
    } else {
        ++_table_full;
    }

    // A DNS flow's query names what the client asked about, not the resolver it asked.
    const bool names_server = d != nullptr && !d->name.empty() && d->name_source != NameSource::kDnsQuery;
    const std::uint64_t dhash = d != nullptr ? hash_bytes(d->name.view().data(), d->name.size()) : 0;
    const ServerNameKey sk{f.server().ip, names_server ? dhash : name_key_hash({})};
    if (ServerNameTally* s = _server_names.find_or_insert(sk, inserted)) {
        if (inserted && names_server) {
            s->name = d->name;
        }
        // A DNS flow's service is its question's, not the resolver's.
        if (names_server || d == nullptr || d->name_source != NameSource::kDnsQuery) {
            keep_service(s->service, f.service);
        }
        if (names_server) {
            s->name_sources |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(d->name_source));
        }
        s->stats.add_flow(f, d, part);
    } else {
        ++_table_full;
    }

    if (d == nullptr || d->name.empty()) {
        return;
    }
    DomainKey dk{d->name};
    if (DomainTally* t = _domains.find_or_insert_hashed(dk, dhash, inserted)) {
        keep_service(t->service, f.service); // a flow with no chain in view does not undo a classified one
        if (const std::string_view matched = matched_name(*d);
            !matched.empty() && (t->matched_by.empty() || matched < t->matched_by.view())) {
            t->matched_by.assign(matched);
        }
        if (f.service >= 0) {
            t->inferred_asn = kept_inferred_asn(t->inferred_asn, d->inferred_asn);
        }
        if (const std::string_view chain = chain_after_name(*d);
            !chain.empty() && better_cname_chain(chain, t->cnames.text())) {
            (void)t->cnames.assign_text(chain);
        }
        t->stats.add_flow(f, d, part);
    } else {
        ++_table_full;
    }
    // Distinct clients per domain: the pair is recorded with the flow's first part; later parts of the
    // same flow add nothing to it (the merged views take the union of every interval's pairs).
    if (part != TallyPart::kContinuation &&
        _client_domains.find_or_insert(ClientDomainKey{f.client().ip, dhash}, inserted) == nullptr) {
        ++_table_full;
    }
}

void CoreTally::add_action_part(const Flow& part, const FlowDetail* d, std::uint16_t action, ActionUse use,
                                std::uint16_t opened_in) noexcept {
    if (action == 0) {
        return;
    }
    const bool dns = d != nullptr && d->name_source == NameSource::kDnsQuery;
    if (dns && use == ActionUse::kMore) {
        return;
    }
    ActionDomainKey key;
    key.action = action;
    if (d != nullptr && !d->name.empty()) {
        key.name = d->name;
    } else {
        key.server = part.server().ip;
    }
    bool inserted = false;
    ActionDomainTally* a = _actions.find_or_insert(key, inserted);
    if (a == nullptr) {
        ++_table_full;
        return;
    }
    if (dns) {
        ++a->dns_lookups;
        if (d->dns.response_seen && d->dns.rcode != 0) {
            a->add_failed_lookups(1, d->dns.rcode);
        }
        return;
    }
    keep_service(a->service, part.service);
    a->stats.add_flow(part, d, use == ActionUse::kMore ? TallyPart::kContinuation : TallyPart::kOpening);
    if (use == ActionUse::kReused) {
        // The TLS facts count for a reused connection as for a new one; the connection itself
        // is counted as reused, not opened.
        --a->stats.connections;
        ++a->connections_reused;
        a->reused_from = std::min(a->reused_from, opened_in);
    }
}

void swap(CoreTally& a, CoreTally& b) noexcept {
    using std::swap;
    swap(a._services, b._services);
    swap(a._total, b._total);
    swap(a._domains, b._domains);
    swap(a._clients, b._clients);
    swap(a._client_domains, b._client_domains);
    swap(a._actions, b._actions);
    swap(a._server_names, b._server_names);
    swap(a._device_hints, b._device_hints);
    swap(a._table_full, b._table_full);
}

void CoreTally::clear() noexcept {
    std::fill(_services.begin(), _services.end(), TransferStats{});
    _total = TransferStats{};
    _domains.clear();
    _clients.clear();
    _client_domains.clear();
    _actions.clear();
    _server_names.clear();
    _device_hints.clear();
    _table_full = 0;
}

void CoreTally::resize_services(std::size_t service_count) {
    _services.resize(service_count + 1);
}

void CoreTally::restore_service(std::int32_t service, const TransferStats& stats) {
    if (service < -1) {
        service = -1;
    }
    const std::size_t slot = static_cast<std::size_t>(service + 1);
    if (slot >= _services.size()) {
        _services.resize(slot + 1);
    }
    _services[slot].merge(stats);
}

bool CoreTally::restore_domain(const DomainKey& key, const DomainTally& tally) noexcept {
    bool inserted = false;
    DomainTally* t = _domains.find_or_insert(key, inserted);
    if (t == nullptr) {
        ++_table_full;
        return false;
    }
    keep_service(t->service, tally.service);
    if (!tally.matched_by.empty() && (t->matched_by.empty() || tally.matched_by.view() < t->matched_by.view())) {
        t->matched_by = tally.matched_by;
    }
    if (better_cname_chain(tally.cnames.text(), t->cnames.text())) {
        t->cnames = tally.cnames;
    }
    t->inferred_asn = kept_inferred_asn(t->inferred_asn, tally.inferred_asn);
    t->stats.merge(tally.stats);
    return true;
}

bool CoreTally::restore_client(const ClientServiceKey& key, const ClientTally& tally) noexcept {
    bool inserted = false;
    ClientTally* c = _clients.find_or_insert(key, inserted);
    if (c == nullptr) {
        ++_table_full;
        return false;
    }
    if (!c->has_mac && tally.has_mac) {
        std::copy(std::begin(tally.mac), std::end(tally.mac), std::begin(c->mac));
        c->has_mac = true;
    }
    c->stats.merge(tally.stats);
    return true;
}

bool CoreTally::restore_client_domain(const ClientDomainKey& key) noexcept {
    bool inserted = false;
    if (_client_domains.find_or_insert(key, inserted) == nullptr) {
        ++_table_full;
        return false;
    }
    return true;
}

bool CoreTally::restore_action(const ActionDomainKey& key, const ActionDomainTally& tally) noexcept {
    bool inserted = false;
    ActionDomainTally* a = _actions.find_or_insert(key, inserted);
    if (a == nullptr) {
        ++_table_full;
        return false;
    }
    a->merge(tally);
    return true;
}

void ActionDomainTally::merge(const ActionDomainTally& o) noexcept {
    keep_service(service, o.service);
    connections_reused += o.connections_reused;
    dns_lookups += o.dns_lookups;
    add_failed_lookups(o.dns_failed, o.dns_failed_rcode);
    reused_from = std::min(reused_from, o.reused_from);
    stats.merge(o.stats);
}

bool CoreTally::restore_server_name(const ServerNameKey& key, const ServerNameTally& tally) noexcept {
    bool inserted = false;
    ServerNameTally* s = _server_names.find_or_insert(key, inserted);
    if (s == nullptr) {
        ++_table_full;
        return false;
    }
    if (inserted) {
        s->name = tally.name;
    }
    keep_service(s->service, tally.service);
    s->name_sources |= tally.name_sources;
    s->stats.merge(tally.stats);
    return true;
}

void CoreTally::absorb(const CoreTally& other, std::span<const std::int32_t> service_map) {
    const auto mapped = [service_map](std::int32_t service) noexcept -> std::int32_t {
        if (service < 0 || static_cast<std::size_t>(service) >= service_map.size()) {
            return -1;
        }
        return std::max(service_map[static_cast<std::size_t>(service)], std::int32_t{-1});
    };
    // Size the service slots once, before merging, so the loop below cannot reallocate.
    std::int32_t largest = -1;
    for (std::size_t slot = 1; slot < other._services.size(); ++slot) {
        largest = std::max(largest, mapped(static_cast<std::int32_t>(slot - 1)));
    }
    if (static_cast<std::size_t>(largest + 1) >= _services.size()) {
        _services.resize(static_cast<std::size_t>(largest + 2));
    }
    for (std::size_t slot = 0; slot < other._services.size(); ++slot) {
        const std::int32_t to = mapped(static_cast<std::int32_t>(slot) - 1);
        _services[static_cast<std::size_t>(to + 1)].merge(other._services[slot]);
    }
    _total.merge(other._total);
    _table_full += other._table_full;

    other._domains.for_each([&](const DomainKey& k, const DomainTally& t) {
        restore_domain(k, DomainTally{mapped(t.service), t.matched_by, t.cnames, t.inferred_asn, t.stats});
    });
    other._clients.for_each([&](const ClientServiceKey& k, const ClientTally& t) {
        restore_client(ClientServiceKey{k.client, mapped(k.service)}, t);
    });
    // Pairs are keyed by the domain name's hash, which no service remap changes.
    other._client_domains.for_each([&](const ClientDomainKey& k, const std::uint8_t&) { restore_client_domain(k); });
    other._actions.for_each([&](const ActionDomainKey& k, const ActionDomainTally& t) {
        ActionDomainTally remapped = t;
        remapped.service = mapped(t.service);
        restore_action(k, remapped);
    });
    other._device_hints.for_each([&](const DeviceHintKey& k, const DeviceHint& h) { restore_device_hint(k, h); });
    other._server_names.for_each([&](const ServerNameKey& k, const ServerNameTally& t) {
        ServerNameTally remapped = t;
        remapped.service = mapped(t.service);
        restore_server_name(k, remapped);
    });
}

MergedTally merge_tallies(const std::vector<const CoreTally*>& cores) {
    MergedTally out;
    std::unordered_map<std::string, std::size_t> domain_index;
    std::unordered_map<std::uint64_t, std::size_t> domain_by_hash; // index in out.domains (before the sort)
    // Hashed, and the pairs sorted once at the end: a live dashboard merges every interval, and ordered
    // trees of 100k addresses cost most of it (each compare a memcmp).
    std::unordered_map<ClientServiceKey, std::size_t, ClientServiceKeyHash> client_index;
    std::vector<std::pair<IpAddr, std::uint64_t>> client_domain_pairs;
    std::map<std::tuple<std::uint16_t, std::string, IpAddr>, std::size_t> action_index;
    std::map<std::array<std::uint8_t, 6>, DeviceHint> hints; // by MAC: the merged view's order
    std::map<IpAddr, std::map<std::string, MergedServerName>> server_names;

    for (const CoreTally* core : cores) {
        if (out.services.size() < core->services().size()) {
            out.services.resize(core->services().size());
        }
        for (std::size_t i = 0; i < core->services().size(); ++i) {
            out.services[i].stats.merge(core->services()[i]);
        }
        out.total.stats.merge(core->total());
        out.table_full_drops += core->table_full_drops();
        core->domains().for_each([&](const DomainKey& k, const DomainTally& t) {
            std::string name(k.name.view());
            auto [it, fresh] = domain_index.try_emplace(name, out.domains.size());
            if (fresh) {
                out.domains.push_back(
                    MergedDomain{name, t.service, std::string(t.matched_by.view()), std::string(t.cnames.text()),
                                 t.inferred_asn, {}});
                domain_by_hash.emplace(DomainKeyHash{}(k), out.domains.size() - 1);
            }
            MergedDomain& merged = out.domains[it->second];
            if (!fresh) {
                if (t.service >= 0 && merged.service < 0) {
                    merged.service = t.service;
                }
                if (!t.matched_by.empty() && (merged.matched_by.empty() || t.matched_by.view() < merged.matched_by)) {
                    merged.matched_by = std::string(t.matched_by.view());
                }
                if (better_cname_chain(t.cnames.text(), merged.cnames)) {
                    merged.cnames = std::string(t.cnames.text());
                }
                merged.inferred_asn = kept_inferred_asn(merged.inferred_asn, t.inferred_asn);
            }
            merged.m.stats.merge(t.stats);
        });
        core->clients().for_each([&](const ClientServiceKey& k, const ClientTally& t) {
            auto [it, fresh] = client_index.try_emplace(k, out.clients.size());
            if (fresh) {
                MergedClient c;
                c.client = k.client;
                c.service = k.service;
                std::copy(std::begin(t.mac), std::end(t.mac), std::begin(c.mac));
                c.has_mac = t.has_mac;
                out.clients.push_back(c);
            }
            out.clients[it->second].stats.merge(t.stats);
        });
        core->client_domains().for_each([&](const ClientDomainKey& k, const std::uint8_t&) {
            client_domain_pairs.emplace_back(k.client, k.domain_hash);
        });
        core->actions().for_each([&](const ActionDomainKey& k, const ActionDomainTally& t) {
            std::string name(k.name.view());
            auto [it, fresh] = action_index.try_emplace({k.action, name, k.server}, out.actions.size());
            if (fresh) {
                MergedActionDomain& a = out.actions.emplace_back();
                a.action = k.action;
                a.name = std::move(name);
                a.server = k.server;
            }
            out.actions[it->second].merge(t);
        });
        core->device_hints().for_each([&](const DeviceHintKey& k, const DeviceHint& h) {
            auto [it, fresh] = hints.try_emplace(k.mac, h);
            if (!fresh) {
                it->second.merge(h);
            }
        });
        core->server_names().for_each([&](const ServerNameKey& k, const ServerNameTally& t) {
            MergedServerName& n = server_names[k.server][std::string(t.name.view())];
            keep_service(n.service, t.service);
            n.name_sources |= t.name_sources;
            n.stats.merge(t.stats);
        });
    }
    for (auto& [address, names] : server_names) {
        MergedServer& s = out.servers.emplace_back();
        s.address = address;
        for (auto& [name, n] : names) {
            n.name = name;
            s.stats.merge(n.stats);
            s.names.push_back(std::move(n));
        }
        std::stable_sort(s.names.begin(), s.names.end(), [](const MergedServerName& a, const MergedServerName& b) {
            return a.stats.bytes_up + a.stats.bytes_down > b.stats.bytes_up + b.stats.bytes_down;
        });
    }
    // Hash-table order depends on how flows were spread over cores: sort, so the
    // merged view is the same for any number of workers.
    // By index, then moved once: a MergedClient is a few hundred bytes, too many to swap around.
    {
        std::vector<std::uint32_t> order(out.clients.size());
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return std::tie(out.clients[a].client, out.clients[a].service) <
                   std::tie(out.clients[b].client, out.clients[b].service);
        });
        std::vector<MergedClient> sorted;
        sorted.reserve(out.clients.size());
        for (const std::uint32_t i : order) {
            sorted.push_back(std::move(out.clients[i]));
        }
        out.clients = std::move(sorted);
    }
    // Distinct clients: per service from the (client, service) table, per domain from
    // the (client, domain) pairs, overall from the client addresses (sorted: equal ones adjacent).
    for (std::size_t i = 0; i < out.clients.size(); ++i) {
        const MergedClient& c = out.clients[i];
        const std::size_t slot = static_cast<std::size_t>(c.service + 1);
        if (slot < out.services.size()) {
            ++out.services[slot].distinct_clients;
        }
        if (i == 0 || out.clients[i - 1].client != c.client) {
            ++out.total.distinct_clients;
        }
    }
    std::sort(client_domain_pairs.begin(), client_domain_pairs.end());
    client_domain_pairs.erase(std::unique(client_domain_pairs.begin(), client_domain_pairs.end()),
                              client_domain_pairs.end());
    // The pairs are in client order: only each client's own names need sorting.
    out.client_domains.reserve(client_domain_pairs.size());
    std::size_t client_begin = 0;
    for (const auto& [client, hash] : client_domain_pairs) {
        if (!out.client_domains.empty() && out.client_domains.back().first != client) {
            std::sort(out.client_domains.begin() + static_cast<std::ptrdiff_t>(client_begin), out.client_domains.end());
            client_begin = out.client_domains.size();
        }
        if (auto it = domain_by_hash.find(hash); it != domain_by_hash.end()) {
            MergedDomain& d = out.domains[it->second];
            ++d.m.distinct_clients;
            out.client_domains.emplace_back(client, d.name);
        }
    }
    std::sort(out.client_domains.begin() + static_cast<std::ptrdiff_t>(client_begin), out.client_domains.end());
    for (const auto& [mac, h] : hints) {
        MergedDeviceHint& m = out.device_hints.emplace_back();
        m.mac = mac;
        m.addresses.assign(h.addresses.begin(), h.addresses.begin() + h.address_count);
        std::sort(m.addresses.begin(), m.addresses.end());
        m.sources = h.sources;
        m.host_name = std::string(h.host_name.view());
        m.vendor_class = std::string(h.vendor_class.view());
    }
    // Hash-table order depends on how flows were spread over cores: sort, so the
    // merged view is the same for any number of workers.
    std::sort(out.domains.begin(), out.domains.end(),
              [](const MergedDomain& a, const MergedDomain& b) { return a.name < b.name; });
    std::sort(out.actions.begin(), out.actions.end(), [](const MergedActionDomain& a, const MergedActionDomain& b) {
        return std::tie(a.action, a.name, a.server) < std::tie(b.action, b.name, b.server);
    });
    return out;
}

} // namespace wt::pipeline
