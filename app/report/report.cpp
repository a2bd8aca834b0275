// The report's selection and row order, shared by every rendering (report_table.cpp,
// report_json.cpp, report_csv.cpp and the live views).
#include "app/report/report.hpp"

#include <map>
#include <span>

#include <fmt/ranges.h>

#include "app/report/names.hpp"
#include "parsers/common/text.hpp"
#include "parsers/net/packet.hpp"

#include <algorithm>
#include <limits>
#include <fmt/format.h>

namespace wt::app {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

std::string service_label(const Report& r, std::int32_t service) {
    if (service < 0 || static_cast<std::size_t>(service) >= r.services.size()) {
        return "(unclassified)";
    }
    return r.services[static_cast<std::size_t>(service)];
}

// Services sorted by total bytes, largest first; unclassified last.
std::vector<std::int32_t> services_by_size(const Report& r) {
    std::vector<std::int32_t> order;
    for (std::size_t i = 1; i < r.tally.services.size(); ++i) {
        if (r.tally.services[i].stats.connections != 0) {
            order.push_back(static_cast<std::int32_t>(i - 1));
        }
    }
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        return total_bytes(r.tally.services[static_cast<std::size_t>(a + 1)].stats) >
               total_bytes(r.tally.services[static_cast<std::size_t>(b + 1)].stats);
    });
    if (!r.tally.services.empty() && r.tally.services[0].stats.connections != 0) {
        order.push_back(-1);
    }
    return order;
}

std::vector<const pipeline::MergedDomain*> domains_by_size(const Report& r) {
    std::vector<const pipeline::MergedDomain*> v;
    for (const auto& d : r.tally.domains) {
        v.push_back(&d);
    }
    std::stable_sort(v.begin(), v.end(), [](const auto* a, const auto* b) {
        const auto ta = total_bytes(a->m.stats);
        const auto tb = total_bytes(b->m.stats);
        return ta != tb ? ta > tb : a->name < b->name;
    });
    return v;
}

std::vector<std::pair<std::string, std::uint64_t>> drop_rows(const Report& r) {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    if (r.input.truncated_records) {
        rows.emplace_back("capture_truncated_records", r.input.truncated_records);
    }
    if (r.input.oversized_frames) {
        rows.emplace_back("capture_oversized_frames_clipped", r.input.oversized_frames);
    }
    for (std::size_t i = 0; i < r.decode_drops.size(); ++i) {
        if (r.decode_drops[i] != 0) {
            rows.emplace_back(std::string(parsers::to_string(static_cast<parsers::DecodeStatus>(i))), r.decode_drops[i]);
        }
    }
    const auto add = [&](const char* name, std::uint64_t v) {
        if (v != 0) {
            rows.emplace_back(name, v);
        }
    };
    add("tls_parse_errors", r.counters.tls_errors);
    add("quic_decrypt_or_parse_errors", r.counters.quic_errors);
    add("dns_parse_errors", r.counters.dns_errors);
    add("flow_table_full", r.counters.flow_table_full);
    add("flows_evicted", r.counters.flows_evicted);
    add("detail_pool_exhausted", r.counters.detail_pool_exhausted);
    add("stream_pool_exhausted", r.counters.stream_pool_exhausted);
    add("quic_pool_exhausted", r.counters.quic_pool_exhausted);
    add("multi_segment_mbuf_drops", r.mbuf.multi_segment_drops);
    add("tally_table_full", r.tally.table_full_drops);
    return rows;
}

std::string mac_text(const std::uint8_t* mac) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

std::optional<std::array<std::uint8_t, 6>> parse_mac(std::string_view text) {
    if (text.size() != 17) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 6> mac{};
    const char separator = text[2];
    if (separator != ':' && separator != '-') {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < 6; ++i) {
        const int hi = parsers::hex_digit_value(text[3 * i]), lo = parsers::hex_digit_value(text[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != separator)) {
            return std::nullopt;
        }
        mac[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return mac;
}

std::string client_text(const pipeline::MergedClient& c) {
    std::string who = ip_text(c.client);
    if (c.has_mac) {
        who += " " + mac_text(c.mac);
    }
    return who;
}

void add_devices(Report& r, const OuiRegistry& registry) {
    r.devices.clear();
    std::map<std::pair<bool, std::array<std::uint8_t, 16>>, std::size_t> index;
    std::vector<std::map<std::int32_t, std::uint64_t>> per_service; // service -> connections, per device
    // The device with this MAC (with_mac) or, without one, this address: made on first sight.
    const auto device_at = [&](bool with_mac, const std::array<std::uint8_t, 16>& key) -> std::size_t {
        auto [it, fresh] = index.try_emplace({with_mac, key}, r.devices.size());
        if (fresh) {
            Device d;
            d.has_mac = with_mac;
            if (with_mac) {
                std::copy_n(key.begin(), d.mac.size(), d.mac.begin());
                d.randomized = OuiRegistry::locally_administered(d.mac);
                d.vendor = std::string(registry.vendor(d.mac));
            }
            r.devices.push_back(std::move(d));
            per_service.emplace_back();
        }
        return it->second;
    };
    for (const pipeline::MergedClient& c : r.tally.clients) {
        std::array<std::uint8_t, 16> key{};
        if (c.has_mac) {
            std::copy(std::begin(c.mac), std::end(c.mac), key.begin());
        } else {
            key = c.client.bytes;
            key[15] ^= c.client.version; // an IPv4 address and the IPv6 one with the same bytes differ
        }
        const std::size_t at = device_at(c.has_mac, key);
        Device& d = r.devices[at];
        // A DHCP client before its lease speaks from 0.0.0.0 (RFC 2131 section 4.1): no address of its own.
        if (!parsers::is_unspecified(c.client) &&
            std::find(d.addresses.begin(), d.addresses.end(), c.client) == d.addresses.end()) {
            d.addresses.push_back(c.client);
        }
        if (d.learned_from.empty()) {
            d.learned_from.emplace_back("flows");
        }
        d.stats.merge(c.stats);
        per_service[at][c.service] += c.stats.connections;
    }
    // ARP, ND and DHCP: the addresses and names each MAC's messages vouched for, also of devices whose
    // flows were not seen (or had none).
    for (const pipeline::MergedDeviceHint& h : r.tally.device_hints) {
        std::array<std::uint8_t, 16> key{};
        std::copy(h.mac.begin(), h.mac.end(), key.begin());
        Device& d = r.devices[device_at(true, key)];
        for (const auto& a : h.addresses) {
            if (std::find(d.addresses.begin(), d.addresses.end(), a) == d.addresses.end()) {
                d.addresses.push_back(a);
            }
        }
        d.host_name = h.host_name;
        d.dhcp_vendor_class = h.vendor_class;
        for (const auto& [bit, name] : pipeline::kDeviceHintSources) {
            if (h.sources & bit) {
                d.learned_from.emplace_back(name);
            }
        }
    }
    std::map<pipeline::IpAddr, std::size_t> device_of;
    for (std::size_t i = 0; i < r.devices.size(); ++i) {
        for (const auto& a : r.devices[i].addresses) {
            device_of.emplace(a, i);
        }
    }
    for (const auto& [client, name] : r.tally.client_domains) {
        if (const auto it = device_of.find(client); it != device_of.end()) {
            r.devices[it->second].domains.push_back(name);
        }
    }
    for (std::size_t i = 0; i < r.devices.size(); ++i) {
        std::vector<std::string>& domains = r.devices[i].domains;
        std::sort(domains.begin(), domains.end());
        domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
        std::vector<std::pair<std::int32_t, std::uint64_t>> services(per_service[i].begin(), per_service[i].end());
        std::stable_sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        for (const auto& [service, connections] : services) {
            r.devices[i].services.push_back(service);
        }
        std::sort(r.devices[i].addresses.begin(), r.devices[i].addresses.end());
    }
    std::stable_sort(r.devices.begin(), r.devices.end(), [](const Device& a, const Device& b) {
        return a.stats.bytes_up + a.stats.bytes_down > b.stats.bytes_up + b.stats.bytes_down;
    });
}

std::string hosting_text(const Hosting* h, const pipeline::IpAddr& address) {
    if (h != nullptr && !h->as_org.empty()) {
        return h->asn ? fmt::format("{} (AS{})", h->as_org, *h->asn) : h->as_org;
    }
    if (h != nullptr && h->asn) {
        return fmt::format("AS{}", *h->asn);
    }
    const std::string_view scope = address_scope(address);
    return scope.empty() ? std::string() : fmt::format("({} address)", scope);
}

namespace {

// The most frequent slot of a histogram (the first on a tie); -1 when all are zero.
template <typename Counts>
int usual_slot(const Counts& counts) {
    int best = -1;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        if (counts[i] != 0 && (best < 0 || counts[i] > counts[static_cast<std::size_t>(best)])) {
            best = static_cast<int>(i);
        }
    }
    return best;
}

// "1.3 TLS_AES_128_GCM_SHA256": the negotiated version and the cipher most of a row's connections
// used (a version only where a ServerHello was seen: QUIC's is encrypted); empty when none.
std::string usual_tls(const pipeline::TransferStats& s) {
    auto versions = s.tls_versions;
    versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kNone)] = 0;
    const int version = usual_slot(versions);
    if (version < 0) {
        return {};
    }
    std::string_view text = pipeline::to_string(static_cast<pipeline::TlsVersionSlot>(version));
    if (text.starts_with("TLSv")) {
        text.remove_prefix(4);
    }
    const int cipher = usual_slot(s.cipher_counts);
    return cipher < 0 ? std::string(text)
                      : fmt::format("{} {}", text, tls_cipher_text(s.cipher_ids[static_cast<std::size_t>(cipher)]));
}

// What the whole capture says about each name: the servers it was used with, and the domain row
// (CNAME chain, inferred service). Built once per view.
struct NameEvidence {
    std::map<std::string, std::vector<std::size_t>, std::less<>> servers_of; // name -> tally.servers indices
    std::map<std::string, const pipeline::MergedDomain*, std::less<>> domain_of;
    std::map<pipeline::IpAddr, std::size_t> server_at;
};

NameEvidence gather_evidence(const Report& r) {
    NameEvidence e;
    for (std::size_t i = 0; i < r.tally.servers.size(); ++i) {
        e.server_at.emplace(r.tally.servers[i].address, i);
        for (const auto& n : r.tally.servers[i].names) {
            if (!n.name.empty()) {
                e.servers_of[n.name].push_back(i);
            }
        }
    }
    for (const auto& d : r.tally.domains) {
        e.domain_of.emplace(d.name, &d);
    }
    return e;
}

// Up to two organisations hosting the servers, in order of first use; "" when none is known (an
// address's scope, "private", is said for unnamed servers only: a name says more).
std::string hosting_of(const Report& r, std::span<const std::size_t> servers) {
    std::vector<std::string> orgs;
    for (const std::size_t i : servers) {
        const Hosting* h = i < r.server_hosting.size() ? &r.server_hosting[i] : nullptr;
        std::string text = h != nullptr && h->known() ? hosting_text(h, r.tally.servers[i].address) : std::string();
        if (!text.empty() && std::find(orgs.begin(), orgs.end(), text) == orgs.end()) {
            orgs.push_back(std::move(text));
        }
    }
    if (orgs.size() > 2) {
        return fmt::format("{}, {} and {} more", orgs[0], orgs[1], orgs.size() - 2);
    }
    return fmt::format("{}", fmt::join(orgs, ", "));
}

std::vector<std::string> action_notes(const Report& r, const NameEvidence& e, const pipeline::MergedActionDomain& a) {
    std::vector<std::string> notes;
    const pipeline::TransferStats& s = a.stats;
    if (s.connections != 0) {
        notes.emplace_back("new");
    }
    if (a.connections_reused != 0) {
        notes.push_back(a.reused_from == 0 ? std::string("reused: opened before the first mark")
                                           : fmt::format("reused from {}", action_label(r, a.reused_from)));
    }
    if (a.name.empty()) {
        const auto at = e.server_at.find(a.server);
        const std::size_t i = at != e.server_at.end() ? at->second : r.tally.servers.size();
        if (std::string h = hosting_text(i < r.server_hosting.size() ? &r.server_hosting[i] : nullptr, a.server);
            !h.empty()) {
            notes.push_back(std::move(h));
        }
    } else {
        const auto servers = e.servers_of.find(a.name);
        if (servers != e.servers_of.end()) {
            if (std::string h = hosting_of(r, servers->second); !h.empty()) {
                notes.push_back(std::move(h));
            }
        }
        if (const auto d = e.domain_of.find(a.name); d != e.domain_of.end()) {
            if (!d->second->cnames.empty()) {
                const auto chain = pipeline::cname_chain_names(d->second->cnames);
                if (!chain.empty()) {
                    notes.push_back(fmt::format("CNAME {}", chain.back()));
                }
            }
            if (d->second->inferred_asn != 0 && a.service >= 0) {
                notes.push_back(fmt::format("service inferred from AS{}", d->second->inferred_asn));
            }
        }
        // SNI routing: other names the same server addresses answered for, in the whole capture.
        std::vector<std::string> shared;
        if (servers != e.servers_of.end()) {
            for (const std::size_t i : servers->second) {
                for (const auto& n : r.tally.servers[i].names) {
                    if (!n.name.empty() && n.name != a.name &&
                        std::find(shared.begin(), shared.end(), n.name) == shared.end()) {
                        shared.push_back(n.name);
                    }
                }
            }
        }
        if (!shared.empty()) {
            const std::size_t shown = std::min<std::size_t>(shared.size(), 2);
            notes.push_back(fmt::format("same address as {}{}", fmt::join(shared.begin(), shared.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                                        shared.size() > shown ? fmt::format(" and {} more", shared.size() - shown) : ""));
        }
    }
    if (a.dns_failed != 0) {
        notes.push_back(a.dns_failed == a.dns_lookups
                            ? fmt::format("lookup failed ({})", dns_rcode_text(a.dns_failed_rcode))
                            : fmt::format("{} of {} lookups failed ({})", a.dns_failed, a.dns_lookups,
                                          dns_rcode_text(a.dns_failed_rcode)));
    }
    if (s.tls_without_sni != 0) {
        notes.emplace_back(a.name.empty() ? "no SNI" : "no SNI: named from DNS");
    }
    if (s.ech_real != 0) {
        notes.emplace_back("ECH: name recovered from the DNS HTTPS record");
    }
    if (s.ech_grease != 0) {
        notes.emplace_back("ECH GREASE");
    }
    if (s.ech > s.ech_real + s.ech_grease) {
        notes.emplace_back("ECH offered");
    }
    if (s.esni != 0) {
        notes.emplace_back("ESNI offered");
    }
    if (s.cleartext_http != 0) {
        notes.emplace_back("cleartext HTTP");
    }
    if (s.dot_refused != 0) {
        notes.emplace_back("DoT refused (RST)");
    }
    if (s.dot_unanswered != 0) {
        notes.emplace_back("DoT unanswered");
    }
    if (s.dot > s.dot_refused + s.dot_unanswered) {
        notes.emplace_back("DNS over TLS");
    }
    if (s.doh != 0) {
        notes.emplace_back("DNS over HTTPS");
    }
    if (s.doq != 0) {
        notes.emplace_back("DNS over QUIC");
    }
    if (s.quic != 0) {
        notes.emplace_back("QUIC");
    }
    return notes;
}

} // namespace

std::vector<ActionBlock> action_view(const Report& r) {
    const NameEvidence evidence = gather_evidence(r);
    std::vector<ActionBlock> blocks;
    std::map<std::uint16_t, std::size_t> block_of;
    for (const auto& a : r.tally.actions) {
        const auto [at, fresh] = block_of.try_emplace(a.action, blocks.size());
        if (fresh) {
            ActionBlock& b = blocks.emplace_back();
            b.action = a.action;
            b.label = action_label(r, a.action);
        }
        ActionBlock& b = blocks[at->second];
        b.stats.merge(a.stats);
        b.connections_reused += a.connections_reused;
        b.dns_lookups += a.dns_lookups;
        ActionRow& row = b.rows.emplace_back();
        row.row = &a;
        row.label = a.name.empty() ? fmt::format("(no name) {}", ip_text(a.server)) : a.name;
        row.tls = usual_tls(a.stats);
        row.notes = action_notes(r, evidence, a);
    }
    std::sort(blocks.begin(), blocks.end(), [](const ActionBlock& x, const ActionBlock& y) { return x.action < y.action; });
    for (ActionBlock& b : blocks) {
        std::stable_sort(b.rows.begin(), b.rows.end(), [](const ActionRow& x, const ActionRow& y) {
            const std::uint64_t bx = total_bytes(x.row->stats), by = total_bytes(y.row->stats);
            if (bx != by) {
                return bx > by;
            }
            return x.row->dns_lookups > y.row->dns_lookups;
        });
    }
    return blocks;
}

std::string action_label(const Report& r, std::uint16_t action) {
    return action >= 1 && action <= r.actions.size() ? r.actions[action - 1] : std::string("-");
}

std::vector<const pipeline::MergedClient*> clients_by_size(const Report& r) {
    std::vector<const pipeline::MergedClient*> rows;
    rows.reserve(r.tally.clients.size());
    for (const auto& c : r.tally.clients) {
        rows.push_back(&c);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
        return total_bytes(a->stats) > total_bytes(b->stats);
    });
    return rows;
}

std::vector<std::size_t> servers_by_size(const Report& r) {
    std::vector<std::size_t> rows(r.tally.servers.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i] = i;
    }
    // tally.servers is in address order, so equal sizes stay in address order.
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
        const auto& x = r.tally.servers[a];
        const auto& y = r.tally.servers[b];
        return total_bytes(x.stats) > total_bytes(y.stats);
    });
    return rows;
}

std::vector<std::string_view> name_source_list(std::uint8_t mask) {
    std::vector<std::string_view> out;
    for (unsigned i = 1; i < static_cast<unsigned>(pipeline::NameSource::kCount); ++i) {
        if ((mask & (1u << i)) != 0) {
            out.emplace_back(pipeline::to_string(static_cast<pipeline::NameSource>(i)));
        }
    }
    return out;
}

std::vector<std::string> server_name_labels(const pipeline::MergedServer& s) {
    std::vector<std::string> out;
    for (const auto& n : s.names) {
        if (!n.name.empty()) {
            out.push_back(fmt::format("{} ({})", n.name, fmt::join(name_source_list(n.name_sources), ", ")));
        }
    }
    return out;
}

EncryptedDnsView encrypted_dns_view(const Report& r) {
    EncryptedDnsView v;
    const pipeline::TransferStats& total = r.tally.total.stats;
    v.dot = total.dot;
    v.dot_refused = total.dot_refused;
    v.dot_unanswered = total.dot_unanswered;
    v.dot_answered = total.dot - std::min<std::uint64_t>(total.dot, std::uint64_t{total.dot_refused} + total.dot_unanswered);
    v.doh = total.doh;
    v.doq = total.doq;
    v.plain_dns = total.dns;
    v.named_flows = total.tls + total.quic;
    v.sni_without_dns = total.sni_without_dns;
    std::uint64_t first_failed_dot_ns = std::numeric_limits<std::uint64_t>::max();
    for (const auto& s : r.tally.servers) {
        pipeline::TransferStats dot, doh, doq;
        for (const auto& n : s.names) {
            if (n.stats.dot != 0) {
                dot.merge(n.stats);
                if (n.stats.dot_refused + n.stats.dot_unanswered != 0) {
                    first_failed_dot_ns = std::min(first_failed_dot_ns, n.stats.first_ns);
                }
            }
            if (n.stats.doh != 0) {
                doh.merge(n.stats);
            }
            if (n.stats.doq != 0) {
                doq.merge(n.stats);
            }
        }
        if (dot.dot != 0) {
            v.dot_servers.push_back({&s, dot});
        }
        if (doh.doh != 0) {
            v.doh_servers.push_back({&s, doh});
        }
        if (doq.doq != 0) {
            v.doq_servers.push_back({&s, doq});
        }
    }
    // A server's rows keep first and last times only, so what can be said is which plain DNS servers
    // were still used after the first failed attempt, not how many lookups came after it.
    for (const auto& s : r.tally.servers) {
        const bool used_after = std::any_of(s.names.begin(), s.names.end(), [&](const auto& n) {
            return n.stats.dns != 0 && n.stats.last_ns >= first_failed_dot_ns;
        });
        if (used_after) {
            v.plain_dns_after_dot.push_back(&s);
        }
    }

    const auto servers_text = [](const std::vector<EncryptedDnsServer>& servers) {
        std::vector<std::string> parts;
        for (const auto& e : servers) {
            std::vector<std::string> names;
            for (const auto& n : e.server->names) {
                if (!n.name.empty()) {
                    names.push_back(n.name);
                }
            }
            parts.push_back(names.empty() ? ip_text(e.server->address)
                                          : fmt::format("{} ({})", ip_text(e.server->address), fmt::join(names, ", ")));
        }
        if (parts.size() <= 1) {
            return parts.empty() ? std::string() : parts[0];
        }
        const std::string last = std::move(parts.back());
        parts.pop_back();
        return fmt::format("{} and {}", fmt::join(parts, ", "), last);
    };
    if (v.dot != 0) {
        std::vector<std::string> fate;
        if (v.dot_answered != 0) {
            fate.push_back(fmt::format("{} answered", v.dot_answered));
        }
        if (v.dot_refused != 0) {
            fate.push_back(fmt::format("{} refused (the SYN met a RST)", v.dot_refused));
        }
        if (v.dot_unanswered != 0) {
            fate.push_back(fmt::format("{} unanswered", v.dot_unanswered));
        }
        v.summary.push_back(fmt::format("DNS over TLS was tried {} time{} to {}: {}.", v.dot, v.dot == 1 ? "" : "s",
                                        servers_text(v.dot_servers), fmt::join(fate, ", ")));
        if (v.dot_answered == 0 && !v.plain_dns_after_dot.empty()) {
            std::vector<std::string> addresses;
            for (const auto* s : v.plain_dns_after_dot) {
                addresses.push_back(ip_text(s->address));
            }
            v.summary.push_back(fmt::format("With DNS over TLS blocked, names went to plain DNS: {} answered after "
                                            "the first failed attempt.",
                                            fmt::join(addresses, ", ")));
        }
    }
    if (v.doh != 0) {
        v.summary.push_back(fmt::format("DNS over HTTPS: {} flow{} to {}.", v.doh, v.doh == 1 ? "" : "s",
                                        servers_text(v.doh_servers)));
    }
    if (v.doq != 0) {
        v.summary.push_back(fmt::format("DNS over QUIC: {} flow{} to {}.", v.doq, v.doq == 1 ? "" : "s",
                                        servers_text(v.doq_servers)));
    }
    if (v.dot + v.doh + v.doq == 0) {
        v.summary.push_back(v.plain_dns != 0 ? fmt::format("No encrypted DNS seen; {} plain DNS lookup{}.", v.plain_dns,
                                                           v.plain_dns == 1 ? "" : "s")
                                             : std::string("No DNS seen, plain or encrypted."));
    }
    if (v.named_flows != 0) {
        v.summary.push_back(fmt::format(
            "{} of {} TLS and QUIC flows were named only from their SNI: no DNS answer for their server was seen "
            "from their client{}.",
            v.sni_without_dns, v.named_flows,
            v.sni_without_dns == 0 ? ""
            : v.dot_answered + v.doh + v.doq != 0
                ? " (their names went over encrypted DNS, or were cached before the capture)"
                : " (cached before the capture, or resolved where this tap does not see)"));
    }
    return v;
}

void add_hosting(Report& r, const IpDatabases& databases) {
    r.ipdb = databases.data_sets();
    r.server_hosting.clear();
    if (databases.empty()) {
        return;
    }
    r.server_hosting.reserve(r.tally.servers.size());
    for (const auto& s : r.tally.servers) {
        r.server_hosting.push_back(databases.lookup(s.address));
    }
}

} // namespace wt::app
