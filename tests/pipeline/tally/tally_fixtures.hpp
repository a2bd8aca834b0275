// Test helpers shared by the tally tests and the app/live/state snapshot tests:
// realistic flows for CoreTally::add_flow, and a full text description of a
// MergedTally so two tallies compare field by field with a readable diff.
#pragma once

#include "pipeline/tally/tally.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wt::pipeline::test {

inline IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddr ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    ip.version = 4;
    return ip;
}

inline IpAddr v6(std::uint16_t last) {
    IpAddr ip;
    ip.bytes[0] = 0x20;
    ip.bytes[1] = 0x01;
    ip.bytes[2] = 0x0d;
    ip.bytes[3] = 0xb8;
    ip.bytes[14] = static_cast<std::uint8_t>(last >> 8);
    ip.bytes[15] = static_cast<std::uint8_t>(last);
    ip.version = 6;
    return ip;
}

inline Flow make_flow(IpAddr client, IpAddr server, std::int32_t service, std::uint64_t up, std::uint64_t down,
                      std::uint16_t server_port = 443, std::uint8_t proto = 6) {
    Flow f;
    bool lo = false;
    f.key = FlowKey::make({client, 40000}, {server, server_port}, proto, 0, lo);
    f.set_client({client, 40000});
    f.service = service;
    f.bytes_up = up;
    f.bytes_down = down;
    f.pkts_up = static_cast<std::uint32_t>(up / 100 + 1);
    f.pkts_down = static_cast<std::uint32_t>(down / 1000 + 1);
    f.ts_first_ns = 1'700'000'000'000'000'000ull + up;
    f.ts_last_ns = f.ts_first_ns + 2'500'000'000ull;
    return f;
}

inline FlowDetail tls_detail(std::string_view name, std::uint16_t version, std::uint16_t cipher, std::string_view alpn,
                             bool ech = false) {
    FlowDetail d;
    d.app = AppProto::kTls;
    d.name_source = NameSource::kSni;
    d.name.assign(name);
    d.sni.assign(name);
    d.tls.client_hello_seen = true;
    d.tls.server_hello_seen = true;
    d.tls.has_sni = true;
    d.tls.ech_offered = ech;
    d.tls.ech = ech ? EchKind::kReal : EchKind::kNone;
    d.tls.negotiated_version = version;
    d.tls.cipher = cipher;
    if (!alpn.empty()) {
        d.tls.alpn_count = 1;
        d.tls.alpn[0].assign(alpn);
    }
    return d;
}

inline FlowDetail quic_detail(std::string_view name) {
    FlowDetail d;
    d.app = AppProto::kQuic;
    d.name_source = NameSource::kQuicSni;
    d.name.assign(name);
    d.tls.client_hello_seen = true;
    d.tls.has_sni = true;
    d.tls.negotiated_version = 0x0304;
    d.tls.alpn_count = 1;
    d.tls.alpn[0].assign("h3");
    return d;
}

inline FlowDetail dns_detail(std::string_view query) {
    FlowDetail d;
    d.app = AppProto::kDns;
    d.name_source = NameSource::kDnsQuery;
    d.name.assign(query);
    d.dns.query_seen = true;
    d.dns.response_seen = true;
    d.dns.query.assign(query);
    return d;
}

// Feeds a varied, deterministic mix of flows: several services, unclassified
// flows, IPv4 and IPv6 clients with and without MACs, TLS 1.2/1.3 with several
// ciphers and ALPNs, QUIC, DNS, actions, and a flow tallied in parts.
// `seed` shifts addresses and sizes so two calls give different (overlapping) mixes.
inline void feed_realistic_flows(CoreTally& t, int seed, int flows = 60) {
    static constexpr std::string_view kNames[] = {"maps.googleapis.com", "www.netflix.com", "api.example.org",
                                                  "telemetry.vendor.example", "cdn.example.net"};
    static constexpr std::uint16_t kCiphers[] = {0x1301, 0x1302, 0x1303, 0xc02f, 0xc030};
    for (int i = 0; i < flows; ++i) {
        const int k = i + seed;
        const IpAddr client = k % 4 == 0 ? v6(static_cast<std::uint16_t>(k % 7))
                                         : v4(192, 168, 1, static_cast<std::uint8_t>(10 + k % 9));
        const std::string_view name = kNames[static_cast<std::size_t>(k) % std::size(kNames)];
        const IpAddr server = v4(142, 250, static_cast<std::uint8_t>(k % 5), 1);
        // Each name belongs to one service, as the classifier would decide.
        static constexpr std::int32_t kServiceOfName[] = {0, 1, 2, -1, 1};
        const std::int32_t service = kServiceOfName[static_cast<std::size_t>(k) % std::size(kNames)];
        Flow f = make_flow(client, server, service, 100u * static_cast<std::uint64_t>(k + 1),
                           5000u * static_cast<std::uint64_t>(k % 11 + 1));
        // One MAC per client address (as on a LAN), none for some IPv6 clients.
        if (client.version == 4 || client.bytes[15] % 3 != 0) {
            for (std::uint8_t b = 0; b < 6; ++b) {
                f.client_mac[b] = static_cast<std::uint8_t>(0x10 * b + client.bytes[3] + client.bytes[15] + 1);
            }
        }
        f.action = static_cast<std::uint16_t>(k % 4 == 3 ? 0 : k % 4 + 1);
        FlowDetail d;
        switch (k % 5) {
        case 0: d = quic_detail(name); break;
        case 1:
            d = dns_detail(name);
            d.dns.rcode = static_cast<std::uint8_t>(k % 3 == 0 ? 3 + k % 2 : 0); // some NXDOMAIN, some NOTIMP
            break;
        case 2: d = tls_detail(name, 0x0303, kCiphers[static_cast<std::size_t>(k) % 5], "http/1.1"); break;
        default: d = tls_detail(name, 0x0304, kCiphers[static_cast<std::size_t>(k) % 3], "h2", k % 7 == 0); break;
        }
        // What ARP, ND and DHCP said of the client's MAC (issue #15, devices).
        if (k % 6 == 1) {
            DeviceHintKey mac;
            std::copy(std::begin(f.client_mac), std::end(f.client_mac), mac.mac.begin());
            t.add_device_hint(mac, client, k % 12 == 1 ? kHintDhcp : kHintArp, k % 12 == 1 ? "phone-\"" + std::to_string(k % 5) : "",
                              k % 12 == 1 ? "android-dhcp-13" : "");
        }
        if (k % 13 == 0) {
            t.add_flow(f, nullptr); // no detail: counts, no domain
        } else if (k % 10 == 4) {
            t.add_flow(f, &d, TallyPart::kOpening);
            t.add_flow(f, &d, TallyPart::kContinuation);
            t.add_action_part(f, &d, f.action, ActionUse::kReused, static_cast<std::uint16_t>(k % 2));
            t.add_action_part(f, &d, f.action, ActionUse::kMore, static_cast<std::uint16_t>(k % 2));
        } else {
            t.add_flow(f, &d);
            t.add_action_part(f, &d, f.action, ActionUse::kNew, f.action);
        }
    }
}

inline std::string describe(const TransferStats& s) {
    std::string out;
    s.for_each_count([&](std::string_view name, TransferRole, std::string_view, std::uint64_t v) {
        out += fmt::format("{}={} ", name, v);
    });
    return out + fmt::format("t={}..{} versions={} alpns={} cipher_ids={} cipher_counts={} cipher_other={}", s.first_ns,
                             s.last_ns, s.tls_versions, s.alpns, s.cipher_ids, s.cipher_counts, s.cipher_other);
}

// Every field of the merged view, one line per entry; equal strings = equal tallies.
inline std::string describe(const MergedTally& m) {
    std::string out;
    for (std::size_t i = 0; i < m.services.size(); ++i) {
        out += fmt::format("service[{}] clients={} {}\n", static_cast<int>(i) - 1, m.services[i].distinct_clients,
                           describe(m.services[i].stats));
    }
    out += fmt::format("total clients={} {}\n", m.total.distinct_clients, describe(m.total.stats));
    for (const MergedDomain& d : m.domains) {
        out += fmt::format("domain {} svc={} clients={} {}\n", d.name, d.service, d.m.distinct_clients,
                           describe(d.m.stats));
    }
    for (const MergedClient& c : m.clients) {
        out += fmt::format("client {} v{} svc={} mac={} {} {}\n", c.client.bytes, c.client.version, c.service,
                           c.has_mac, c.mac, describe(c.stats));
    }
    for (const MergedActionDomain& a : m.actions) {
        out += fmt::format("action {} {} {} v{} svc={} reused={} from={} dns={} failed={}/{} {}\n", a.action, a.name,
                           a.server.bytes, a.server.version, a.service, a.connections_reused, a.reused_from, a.dns_lookups,
                           a.dns_failed, a.dns_failed_rcode,
                           describe(a.stats));
    }
    for (const MergedDeviceHint& h : m.device_hints) {
        out += fmt::format("device {} {} sources={} name={} vendor={}\n", h.mac, h.addresses.size(), h.sources, h.host_name,
                           h.vendor_class);
        for (const IpAddr& a : h.addresses) {
            out += fmt::format("  {} v{}\n", a.bytes, a.version);
        }
    }
    for (const MergedServer& s : m.servers) {
        out += fmt::format("server {} v{} {}\n", s.address.bytes, s.address.version, describe(s.stats));
        for (const MergedServerName& n : s.names) {
            out += fmt::format("  name '{}' svc={} sources={} {}\n", n.name, n.service, n.name_sources,
                               describe(n.stats));
        }
    }
    out += fmt::format("table_full_drops={}\n", m.table_full_drops);
    return out;
}

inline std::string describe(const CoreTally& t) {
    return describe(merge_tallies({&t}));
}

} // namespace wt::pipeline::test
