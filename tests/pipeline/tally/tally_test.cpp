#include "pipeline/flows/dns_cache.hpp"
#include "pipeline/tally/tally.hpp"

#include <gtest/gtest.h>

namespace wt::pipeline {
namespace {

IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddr ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    ip.version = 4;
    return ip;
}

Flow make_flow(IpAddr client, IpAddr server, std::int32_t service, std::uint64_t up, std::uint64_t down) {
    Flow f;
    bool lo = false;
    f.key = FlowKey::make({client, 40000}, {server, 443}, 6, 0, lo);
    f.set_client({client, 40000});
    f.service = service;
    f.bytes_up = up;
    f.bytes_down = down;
    f.pkts_up = 3;
    f.pkts_down = 4;
    f.ts_first_ns = 10;
    f.ts_last_ns = 20;
    return f;
}

TEST(Tally, MergeOfTwoCoresEqualsOneCoreWithEverything) {
    TallyLimits limits;
    CoreTally a(2, limits), b(2, limits), all(2, limits);
    FlowDetail tls;
    tls.app = AppProto::kTls;
    tls.tls.client_hello_seen = true;
    tls.tls.server_hello_seen = true;
    tls.tls.negotiated_version = 0x0304;
    tls.tls.cipher = 0x1301;
    tls.tls.has_sni = true;
    tls.name.assign("maps.googleapis.com");
    tls.tls.alpn_count = 1;
    tls.tls.alpn[0].assign("h2");
    const Flow f1 = make_flow(v4(10, 0, 0, 1), v4(1, 2, 3, 4), 0, 100, 1000);
    const Flow f2 = make_flow(v4(10, 0, 0, 2), v4(1, 2, 3, 4), 0, 200, 2000);
    const Flow f3 = make_flow(v4(10, 0, 0, 1), v4(5, 6, 7, 8), -1, 7, 9);
    a.add_flow(f1, &tls);
    b.add_flow(f2, &tls);
    b.add_flow(f3, nullptr);
    all.add_flow(f1, &tls);
    all.add_flow(f2, &tls);
    all.add_flow(f3, nullptr);
    const MergedTally split = merge_tallies({&a, &b});
    const MergedTally one = merge_tallies({&all});
    ASSERT_EQ(split.services.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(split.services[i].stats.bytes_up, one.services[i].stats.bytes_up);
        EXPECT_EQ(split.services[i].stats.bytes_down, one.services[i].stats.bytes_down);
        EXPECT_EQ(split.services[i].stats.connections, one.services[i].stats.connections);
        EXPECT_EQ(split.services[i].distinct_clients, one.services[i].distinct_clients);
    }
    const auto& svc = split.services[1];
    EXPECT_EQ(svc.stats.connections, 2u);
    EXPECT_EQ(svc.stats.bytes_up, 300u);
    EXPECT_EQ(svc.stats.bytes_down, 3000u);
    EXPECT_EQ(svc.distinct_clients, 2u);
    EXPECT_EQ(svc.stats.tls_versions[static_cast<std::size_t>(TlsVersionSlot::kTls13)], 2u);
    EXPECT_EQ(svc.stats.cipher_ids[0], 0x1301);
    EXPECT_EQ(svc.stats.cipher_counts[0], 2u);
    EXPECT_EQ(svc.stats.alpns[static_cast<std::size_t>(AlpnSlot::kH2)], 2u);
    EXPECT_EQ(split.services[0].stats.connections, 1u) << "unclassified";
    ASSERT_EQ(split.domains.size(), 1u);
    EXPECT_EQ(split.domains[0].name, "maps.googleapis.com");
    EXPECT_EQ(split.domains[0].m.distinct_clients, 2u);
    EXPECT_EQ(split.total.distinct_clients, 2u);
    EXPECT_EQ(split.total.stats.bytes_up, 307u);
}

TEST(Tally, ActionPartsCountNewReusedLookupsAndBytesPerAction) {
    CoreTally t(1, TallyLimits{});
    FlowDetail d;
    d.name.assign("api.example");
    d.name_source = NameSource::kSni;
    d.app = AppProto::kTls;
    d.tls.client_hello_seen = true;
    d.tls.server_hello_seen = true;
    d.tls.negotiated_version = 0x0304;
    d.tls.cipher = 0x1301;
    Flow f = make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 10, 20);
    t.add_action_part(f, &d, 2, ActionUse::kNew, 2);
    t.add_action_part(f, &d, 2, ActionUse::kMore, 2); // a live interval's rest of the same stretch
    t.add_action_part(f, &d, 3, ActionUse::kReused, 2);
    t.add_action_part(f, &d, 0, ActionUse::kNew, 0); // before the first mark: no row
    FlowDetail dns;
    dns.name.assign("api.example");
    dns.name_source = NameSource::kDnsQuery;
    dns.app = AppProto::kDns;
    const Flow lookup = make_flow(v4(10, 0, 0, 1), v4(9, 9, 9, 9), 0, 70, 90);
    t.add_action_part(lookup, &dns, 2, ActionUse::kNew, 2);
    t.add_action_part(lookup, &dns, 2, ActionUse::kMore, 2);
    dns.dns.response_seen = true;
    dns.dns.rcode = 3; // NXDOMAIN
    t.add_action_part(lookup, &dns, 2, ActionUse::kNew, 2);
    const Flow unnamed = make_flow(v4(10, 0, 0, 1), v4(203, 0, 113, 7), -1, 5, 6);
    t.add_action_part(unnamed, nullptr, 3, ActionUse::kNew, 3);

    const MergedTally m = merge_tallies({&t});
    ASSERT_EQ(m.actions.size(), 3u);
    const MergedActionDomain& in2 = m.actions[0];
    EXPECT_EQ(in2.action, 2);
    EXPECT_EQ(in2.name, "api.example");
    EXPECT_EQ(in2.stats.connections, 1u) << "kMore adds bytes, not a connection";
    EXPECT_EQ(in2.connections_reused, 0u);
    EXPECT_EQ(in2.dns_lookups, 2u) << "a lookup is its own column, counted once per DNS flow";
    EXPECT_EQ(in2.dns_failed, 1u);
    EXPECT_EQ(in2.dns_failed_rcode, 3);
    EXPECT_EQ(in2.stats.bytes_up, 20u) << "a DNS flow's bytes go to the resolver, not the name";
    EXPECT_EQ(in2.stats.bytes_down, 40u);
    EXPECT_EQ(in2.stats.tls_versions[static_cast<std::size_t>(TlsVersionSlot::kTls13)], 1u);
    const MergedActionDomain& in3 = m.actions[1].name.empty() ? m.actions[2] : m.actions[1];
    EXPECT_EQ(in3.action, 3);
    EXPECT_EQ(in3.stats.connections, 0u);
    EXPECT_EQ(in3.connections_reused, 1u);
    EXPECT_EQ(in3.reused_from, 2);
    EXPECT_EQ(in3.stats.bytes_down, 20u);
    EXPECT_EQ(in3.stats.tls_versions[static_cast<std::size_t>(TlsVersionSlot::kTls13)], 1u)
        << "a reused connection's TLS facts count in the action it serves";
    const MergedActionDomain& bare = m.actions[1].name.empty() ? m.actions[1] : m.actions[2];
    EXPECT_TRUE(bare.name.empty());
    EXPECT_EQ(bare.server, v4(203, 0, 113, 7)) << "a flow without a name is listed under its server";
    EXPECT_EQ(bare.stats.connections, 1u);
}

// A resolver's row in the servers view: its DNS flows are classified by their questions, which say
// nothing of the resolver, so the row has no service whatever order the flows end in (a report with
// one worker and with four must agree).
TEST(Tally, DnsFlowsGiveTheResolverNoService) {
    for (const bool classified_last : {false, true}) {
        CoreTally t(2, TallyLimits{});
        FlowDetail firebase, other;
        for (auto [d, q] : {std::pair{&firebase, "firebase-settings.crashlytics.com"}, std::pair{&other, "legacy-api.example"}}) {
            d->app = AppProto::kDns;
            d->name_source = NameSource::kDnsQuery;
            d->name.assign(q);
        }
        const Flow a = make_flow(v4(10, 0, 0, 2), v4(10, 0, 0, 53), 1, 60, 90);
        const Flow b = make_flow(v4(10, 0, 0, 2), v4(10, 0, 0, 53), -1, 60, 90);
        if (classified_last) {
            t.add_flow(b, &other);
            t.add_flow(a, &firebase);
        } else {
            t.add_flow(a, &firebase);
            t.add_flow(b, &other);
        }
        const MergedTally m = merge_tallies({&t});
        ASSERT_EQ(m.servers.size(), 1u);
        ASSERT_EQ(m.servers[0].names.size(), 1u);
        EXPECT_EQ(m.servers[0].names[0].service, -1) << "classified last: " << classified_last;
    }
}

TEST(Tally, FullTablesCountInsteadOfGrowing) {
    TallyLimits tiny;
    tiny.domains = 8;
    tiny.client_domains = 8;
    CoreTally t(0, tiny);
    for (int i = 0; i < 50; ++i) {
        FlowDetail d;
        d.name.assign("host" + std::to_string(i) + ".example");
        t.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), -1, 1, 1), &d);
    }
    EXPECT_GT(t.table_full_drops(), 0u);
    EXPECT_LE(t.domains().size(), t.domains().capacity());
    EXPECT_EQ(t.total().connections, 50u) << "totals never lose a flow";
}

TEST(DnsCache, LatestResolutionBeforeTheFlowWins) {
    DnsCache cache(64);
    DnsResolution r;
    r.client = v4(10, 0, 0, 1);
    r.address = v4(1, 2, 3, 4);
    r.ts_ns = 100;
    r.query.assign("a.example");
    cache.insert(r);
    const DnsResolution* hit = cache.lookup(r.client, r.address, 150);
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->query.view(), "a.example");
    EXPECT_EQ(cache.lookup(r.client, r.address, 50), nullptr) << "an answer after the flow started does not count";
    EXPECT_EQ(cache.lookup(v4(10, 0, 0, 2), r.address, 150), nullptr) << "another client's lookup does not count";
}

TEST(DnsCache, SeveralNamesForOneAddressAndTheSniPicks) {
    DnsCache cache(64);
    DnsResolution api;
    api.client = v4(10, 0, 0, 1);
    api.address = v4(203, 0, 113, 10);
    api.ts_ns = 100;
    api.query.assign("owner-api.example-cars.com");
    api.cnames.push("owner-api.vn.example-cars.services");
    cache.insert(api);
    DnsResolution vehicle = api;
    vehicle.ts_ns = 200;
    vehicle.query.assign("vehicle-api.example-cars.com");
    vehicle.cnames.clear();
    cache.insert(vehicle);
    EXPECT_EQ(cache.lookup(api.client, api.address, 300)->query.view(), "vehicle-api.example-cars.com")
        << "without a name to prefer, the newest";
    EXPECT_EQ(cache.lookup(api.client, api.address, 300, "owner-api.example-cars.com")->query.view(),
              "owner-api.example-cars.com");
    EXPECT_EQ(cache.lookup(api.client, api.address, 300, "owner-api.vn.example-cars.services")->query.view(),
              "owner-api.example-cars.com") << "a name in the chain picks it too";
    EXPECT_EQ(cache.lookup(api.client, api.address, 150, "vehicle-api.example-cars.com")->query.view(),
              "owner-api.example-cars.com") << "never an answer after the flow started";
    DnsResolution again = api;
    again.ts_ns = 400;
    cache.insert(again);
    EXPECT_EQ(cache.lookup(api.client, api.address, 500)->ts_ns, 400u) << "a new answer to the same question replaces it";
}

TEST(DnsCache, FloodEvictsButNeverGrows) {
    DnsCache cache(16);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        DnsResolution r;
        r.client = v4(10, 0, 0, 1);
        r.address = v4(1, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
        r.ts_ns = i + 1;
        r.query.assign("flood.example");
        cache.insert(r);
    }
    EXPECT_GT(cache.evictions(), 900u);
    DnsResolution last;
    last.client = v4(10, 0, 0, 1);
    last.address = v4(1, 0, 3, 231); // i = 999
    EXPECT_NE(cache.lookup(last.client, last.address, 5000), nullptr);
}

// ---- TallyMap ----------------------------------------------------------------

struct IntHash {
    std::uint64_t operator()(std::uint64_t k) const noexcept { return mix64(k); }
};
// Every key in one probe chain, and the same top half of the hash: the index tag
// never tells keys apart, so the entry comparison has to.
struct CollidingHash {
    std::uint64_t operator()(std::uint64_t) const noexcept { return 0x1234'5678'0000'0000ull; }
};

TEST(TallyMap, FindsWhatItInsertedAndRefusesWhenFull) {
    TallyMap<std::uint64_t, std::uint64_t, IntHash> m(64);
    EXPECT_EQ(m.capacity(), 56u);
    bool inserted = false;
    for (std::uint64_t k = 0; k < m.capacity(); ++k) {
        std::uint64_t* v = m.find_or_insert(k * 977, inserted);
        ASSERT_NE(v, nullptr);
        EXPECT_TRUE(inserted);
        EXPECT_EQ(*v, 0u);
        *v = k + 1;
    }
    EXPECT_TRUE(m.full());
    EXPECT_EQ(m.find_or_insert(1, inserted), nullptr);
    EXPECT_FALSE(inserted);
    for (std::uint64_t k = 0; k < m.capacity(); ++k) {
        const std::uint64_t* v = m.find(k * 977);
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(*v, k + 1);
        // A present key is found, not refused, even when the table is full.
        EXPECT_EQ(m.find_or_insert(k * 977, inserted), v);
        EXPECT_FALSE(inserted);
    }
    EXPECT_EQ(m.find(1), nullptr);
}

TEST(TallyMap, KeysWithTheSameHashStayApart) {
    TallyMap<std::uint64_t, std::uint64_t, CollidingHash> m(16);
    bool inserted = false;
    for (std::uint64_t k = 1; k <= 10; ++k) {
        *m.find_or_insert(k, inserted) = k * 10;
    }
    EXPECT_EQ(m.size(), 10u);
    for (std::uint64_t k = 1; k <= 10; ++k) {
        ASSERT_NE(m.find(k), nullptr);
        EXPECT_EQ(*m.find(k), k * 10);
    }
    EXPECT_EQ(m.find(11), nullptr);
}

TEST(TallyMap, VisitsInInsertionOrderAndClearEmptiesIt) {
    TallyMap<std::uint64_t, std::uint64_t, IntHash> m(32);
    bool inserted = false;
    const std::vector<std::uint64_t> keys = {42, 7, 1000, 3, 99};
    for (std::uint64_t k : keys) {
        *m.find_or_insert(k, inserted) = k + 1;
    }
    *m.find_or_insert(7, inserted) += 100; // an update does not move an entry
    std::vector<std::uint64_t> seen;
    m.for_each([&](const std::uint64_t& k, std::uint64_t& v) {
        seen.push_back(k);
        EXPECT_EQ(v, k + 1 + (k == 7 ? 100 : 0));
    });
    EXPECT_EQ(seen, keys);

    m.clear();
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.find(42), nullptr);
    int visits = 0;
    m.for_each([&](const std::uint64_t&, std::uint64_t&) { ++visits; });
    EXPECT_EQ(visits, 0);
    // Refilled after a clear: values start from zero again, not from the old entries.
    std::uint64_t* v = m.find_or_insert(1000, inserted);
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(inserted);
    EXPECT_EQ(*v, 0u);
}

TEST(TallyMap, MovesKeepTheEntries) {
    TallyMap<std::uint64_t, std::uint64_t, IntHash> a(16);
    TallyMap<std::uint64_t, std::uint64_t, IntHash> b(1024);
    bool inserted = false;
    *a.find_or_insert(5, inserted) = 50;
    std::swap(a, b);
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(a.capacity(), 896u);
    ASSERT_NE(b.find(5), nullptr);
    EXPECT_EQ(*b.find(5), 50u);
}

} // namespace
} // namespace wt::pipeline
