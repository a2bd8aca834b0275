// Flow state: the key, the compact per-flow counters that every packet touches,
// and the cold application detail kept only while a flow is alive.
#pragma once

#include "parsers/common/fixed_string.hpp"
#include "parsers/net/packet.hpp"
#include "pipeline/flows/hash.hpp"
#include "pipeline/flows/name_chain.hpp"

#include <algorithm>
#include <span>
#include <array>
#include <cstdint>
#include <cstring>
#include <tuple>

namespace wt::pipeline {

using parsers::DomainName;
using parsers::FixedString;

// Addresses are the parsers' own type (IPv4 in the first 4 bytes), so a decoded
// packet's addresses go into flow keys without conversion.
using IpAddr = parsers::IpAddress;

[[nodiscard]] inline std::uint64_t ip_hash(const IpAddr& ip) noexcept {
    return parsers::hash_value(ip);
}

// One endpoint: address and port. Used for client/server roles.
struct Endpoint {
    IpAddr ip;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

namespace detail {
using parsers::IpAddress;
inline std::uint64_t load_word(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
// (address, port) order for the canonical key: any fixed total order keeps both
// directions on one key; this one is lexicographic, in two 64-bit compares instead
// of a memcmp call.
inline bool endpoint_le(const IpAddress& a_ip, std::uint16_t a_port, const IpAddress& b_ip,
                        std::uint16_t b_port) noexcept {
    const std::uint64_t a0 = __builtin_bswap64(load_word(a_ip.bytes.data()));
    const std::uint64_t b0 = __builtin_bswap64(load_word(b_ip.bytes.data()));
    if (a0 != b0) {
        return a0 < b0;
    }
    const std::uint64_t a1 = __builtin_bswap64(load_word(a_ip.bytes.data() + 8));
    const std::uint64_t b1 = __builtin_bswap64(load_word(b_ip.bytes.data() + 8));
    if (a1 != b1) {
        return a1 < b1;
    }
    return std::tie(a_ip.version, a_port) <= std::tie(b_ip.version, b_port);
}
} // namespace detail

// Canonical bidirectional key: the lower (address, port) endpoint first, so both
// directions of a connection hash and compare the same.
struct FlowKey {
    Endpoint lo;
    Endpoint hi;
    std::uint16_t vlan = 0;
    std::uint8_t proto = 0;

    // Every packet compares one key: word-wise and branch-free (padding is never read).
    friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
        using detail::load_word;
        const std::uint64_t addr = (load_word(a.lo.ip.bytes.data()) ^ load_word(b.lo.ip.bytes.data())) |
                                   (load_word(a.lo.ip.bytes.data() + 8) ^ load_word(b.lo.ip.bytes.data() + 8)) |
                                   (load_word(a.hi.ip.bytes.data()) ^ load_word(b.hi.ip.bytes.data())) |
                                   (load_word(a.hi.ip.bytes.data() + 8) ^ load_word(b.hi.ip.bytes.data() + 8));
        const std::uint32_t rest = static_cast<std::uint32_t>(a.lo.port ^ b.lo.port) |
                                   static_cast<std::uint32_t>(a.hi.port ^ b.hi.port) |
                                   static_cast<std::uint32_t>(a.vlan ^ b.vlan) |
                                   static_cast<std::uint32_t>(a.proto ^ b.proto) |
                                   static_cast<std::uint32_t>(a.lo.ip.version ^ b.lo.ip.version) |
                                   static_cast<std::uint32_t>(a.hi.ip.version ^ b.hi.ip.version);
        return (addr | rest) == 0;
    }

    static FlowKey make(const Endpoint& a, const Endpoint& b, std::uint8_t proto, std::uint16_t vlan,
                        bool& a_is_lo) noexcept {
        FlowKey k;
        k.assign(a.ip, a.port, b.ip, b.port, proto, vlan, a_is_lo);
        return k;
    }
    // The same, written in place field by field: the per-packet path builds keys from a
    // decoded packet without Endpoint temporaries (whose 17-byte addresses, copied and
    // reloaded as 16-byte words, stall store forwarding).
    void assign(const IpAddr& a_ip, std::uint16_t a_port, const IpAddr& b_ip, std::uint16_t b_port,
                std::uint8_t l4_proto, std::uint16_t vlan_id, bool& a_is_lo) noexcept {
        a_is_lo = detail::endpoint_le(a_ip, a_port, b_ip, b_port);
        const IpAddr& lo_ip = a_is_lo ? a_ip : b_ip;
        const IpAddr& hi_ip = a_is_lo ? b_ip : a_ip;
        std::memcpy(lo.ip.bytes.data(), lo_ip.bytes.data(), 16);
        std::memcpy(hi.ip.bytes.data(), hi_ip.bytes.data(), 16);
        lo.ip.version = lo_ip.version;
        hi.ip.version = hi_ip.version;
        lo.port = a_is_lo ? a_port : b_port;
        hi.port = a_is_lo ? b_port : a_port;
        proto = l4_proto;
        vlan = vlan_id;
    }
    [[nodiscard]] std::uint64_t hash() const noexcept {
        return mix64(ip_hash(lo.ip) ^ (ip_hash(hi.ip) * 0x9e3779b97f4a7c15ULL) ^
                     (std::uint64_t{lo.port} << 32 | std::uint64_t{hi.port} << 16 | std::uint64_t{vlan}) ^
                     (std::uint64_t{proto} << 56));
    }
};

enum class AppProto : std::uint8_t { kUnknown, kTls, kDot, kQuic, kDns, kHttp, kCount };

[[nodiscard]] constexpr const char* to_string(AppProto a) noexcept {
    switch (a) {
    case AppProto::kTls: return "tls";
    case AppProto::kDot: return "dot";
    case AppProto::kQuic: return "quic";
    case AppProto::kDns: return "dns";
    case AppProto::kHttp: return "http";
    default: return "";
    }
}

// Where a flow's name came from, in the priority order of issue #2 (kEchDns, issue #14, comes
// first: a real ECH hello's SNI is only the public name, the name it hides is the HTTPS record's).
enum class NameSource : std::uint8_t { kNone, kSni, kQuicSni, kHttpHost, kDnsQuery, kDnsResolution, kEchDns, kCount };

[[nodiscard]] constexpr const char* to_string(NameSource s) noexcept {
    switch (s) {
    case NameSource::kEchDns: return "ech_dns";
    case NameSource::kSni: return "sni";
    case NameSource::kQuicSni: return "quic_sni";
    case NameSource::kHttpHost: return "http_host";
    case NameSource::kDnsQuery: return "dns_query";
    case NameSource::kDnsResolution: return "dns";
    default: return "";
    }
}

// What an encrypted_client_hello extension was (RFC 9849). kReal: its config_id is one of an ECH
// configuration this client received in a DNS HTTPS record whose public_name is the outer SNI.
// kGrease (section 6.2): no such configuration, although the client resolved the very name it sent
// in the SNI through DNS we saw (real ECH would have put the public name there). kUnknown: neither
// can be shown (no DNS of this client for the flow was seen; it may have used encrypted DNS).
enum class EchKind : std::uint8_t { kNone, kGrease, kReal, kUnknown };

[[nodiscard]] constexpr const char* to_string(EchKind e) noexcept {
    switch (e) {
    case EchKind::kGrease: return "grease";
    case EchKind::kReal: return "real";
    case EchKind::kUnknown: return "unknown";
    default: return "none";
    }
}

inline constexpr std::uint32_t kNoIndex = 0xffffffffu;

inline constexpr std::size_t kMaxFlowAlpn = 8;
inline constexpr std::size_t kMaxFlowVersions = 8;
inline constexpr std::size_t kMaxFlowAnswers = 16;

struct TlsDetail {
    bool client_hello_seen = false;
    bool server_hello_seen = false;
    EchKind ech = EchKind::kNone;   // judged when the flow is named (Worker::finalize, recover_ech_name)
    bool ech_offered = false;       // the hello carried encrypted_client_hello
    bool ech_outer = false;         // ... of type outer, well formed: ech_config_id is valid
    std::uint8_t ech_config_id = 0;
    bool esni = false;
    bool hello_retry = false;
    bool has_sni = false;
    std::uint16_t client_version = 0;     // ClientHello legacy_version
    std::uint16_t negotiated_version = 0; // ServerHello, through supported_versions
    std::uint16_t cipher = 0;
    std::uint8_t alpn_count = 0;
    std::uint8_t version_count = 0;
    std::array<FixedString<32>, kMaxFlowAlpn> alpn{};
    std::array<std::uint16_t, kMaxFlowVersions> supported_versions{};
    FixedString<40> ja4;
    FixedString<32> server_alpn;
};

struct DnsDetail {
    bool query_seen = false;
    bool response_seen = false;
    std::uint16_t qtype = 0;
    std::uint8_t rcode = 0;
    std::uint8_t answer_count = 0;
    bool https_ech = false;
    DomainName query;
    std::array<IpAddr, kMaxFlowAnswers> answers{};
    NameChain cnames;
};

// Everything beyond the counters. Lives in a pool; a flow holds an index to it.
struct FlowDetail {
    AppProto app = AppProto::kUnknown;
    NameSource name_source = NameSource::kNone;
    bool doh_endpoint = false;
    bool doq = false;
    // Which name the service matched: 0 the flow's name itself (or nothing matched), 1 the question
    // this client resolved to the server, 2 + i the i-th CNAME of name_chain().
    std::uint8_t matched_by = 0;
    // Issue #14: the service was inferred from who hosts the server address (this AS, one a
    // service lists in `asns`), no pattern matching the name or its chain; 0 when not.
    std::uint32_t inferred_asn = 0;
    std::uint32_t quic_version = 0;
    DomainName sni;
    DomainName name;
    DomainName http_host;
    TlsDetail tls;
    DnsDetail dns;
    // The DNS question this client asked that answered with the server address.
    DomainName resolved_query;
    NameChain resolution_cnames;
    // Parser state while the flow is inspected (pool indices).
    std::uint32_t stream_up = kNoIndex;   // StreamAssembler, client direction
    std::uint32_t stream_down = kNoIndex; // server direction
    std::uint32_t quic = kNoIndex;        // QUIC Initial reassembly state
};

// Whether the client's ALPN list (RFC 7301 section 3.1) has an identifier for which match(id) holds.
template <typename Match>
[[nodiscard]] bool offers_alpn_if(const TlsDetail& t, Match&& match) noexcept {
    for (std::size_t i = 0; i < std::min<std::size_t>(t.alpn_count, t.alpn.size()); ++i) {
        if (match(t.alpn[i].view())) {
            return true;
        }
    }
    return false;
}

// Whether the client offered `protocol`.
[[nodiscard]] inline bool offers_alpn(const TlsDetail& t, std::string_view protocol) noexcept {
    return offers_alpn_if(t, [protocol](std::string_view p) { return p == protocol; });
}

// The same for a protocol and its drafts' identifiers ("doq", "doq-i00", "doq-i02"...).
[[nodiscard]] inline bool offers_alpn_family(const TlsDetail& t, std::string_view family) noexcept {
    return offers_alpn_if(t, [family](std::string_view p) {
        return p == family || (p.size() > family.size() && p.starts_with(family) && p[family.size()] == '-');
    });
}

// Whether a DNS resolution asked for `name` or passed through it as a CNAME.
[[nodiscard]] inline bool chain_has(const DomainName& query, const NameChain& cnames, std::string_view name) noexcept {
    return query.view() == name || cnames.contains(name);
}

// The same for the resolution a flow followed.
[[nodiscard]] inline bool resolution_names(const FlowDetail& d, std::string_view name) noexcept {
    return chain_has(d.resolved_query, d.resolution_cnames, name);
}

// The CNAME chain a flow's name leads through: a DNS flow's own answer, else the resolution its
// client followed to the server address.
[[nodiscard]] inline const NameChain& name_chain(const FlowDetail& d) noexcept {
    return d.name_source == NameSource::kDnsQuery ? d.dns.cnames : d.resolution_cnames;
}

// Where in name_chain() the part after the flow's own name begins: where that name leads. Another
// name's resolution of a shared address says nothing about this one, so a chain that does not pass
// through the name gives nothing (size(): a DNS flow's own answer, or a resolution whose question
// is the name, gives it whole: 0).
[[nodiscard]] inline std::size_t chain_start_after_name(const FlowDetail& d) noexcept {
    const NameChain& chain = name_chain(d);
    if (d.name_source == NameSource::kDnsQuery || d.resolved_query.view() == d.name.view()) {
        return 0;
    }
    const std::size_t at = chain.index_of(d.name.view());
    return at < chain.size() ? at + 1 : chain.size();
}

// That part as chain text (NameChain::text form; empty when there is none).
[[nodiscard]] inline std::string_view chain_after_name(const FlowDetail& d) noexcept {
    return name_chain(d).text_from(chain_start_after_name(d));
}

// The name a flow's service was matched on (see FlowDetail::matched_by); empty for the flow's own name.
[[nodiscard]] inline std::string_view matched_name(const FlowDetail& d) noexcept {
    if (d.matched_by == 1) {
        return d.resolved_query.view();
    }
    if (d.matched_by >= 2) {
        return name_chain(d).at(static_cast<std::size_t>(d.matched_by - 2));
    }
    return {};
}

enum FlowFlags : std::uint16_t {
    kFlowSynSeen = 1u << 0,
    kFlowClientFin = 1u << 1,
    kFlowServerFin = 1u << 2,
    kFlowRst = 1u << 3,
    kFlowRoleFromSyn = 1u << 4,
    kFlowRoleFromApp = 1u << 5,
    kFlowAppDone = 1u << 6,     // extraction finished: no more payload inspection
    kFlowClassified = 1u << 7,
    kFlowCounted = 1u << 8,
    kFlowSynAckSeen = 1u << 9,
    kFlowUpDone = 1u << 10,   // client direction needs no more inspection
    kFlowDownDone = 1u << 11, // server direction needs no more inspection
    kFlowUpUnknown = 1u << 12,   // client stream unrecognised: wait for a segment that starts a TLS record
    kFlowDownUnknown = 1u << 13, // the same for the server stream (STARTTLS, garbage before the hello)
    kFlowClientIsHi = 1u << 14,  // the client is key.hi (else key.lo)
    kFlowLive = 1u << 15,        // the record holds a flow
};

// The per-flow record every packet touches, 112 bytes: with the flow table's ~11
// bytes per flow, a flow costs at most 128 bytes. Everything an application parser
// needs lives in the FlowDetail pool while the flow is being named. Direction "up"
// is client -> server. A record whose kFlowLive flag is clear is free (records come
// from zeroed memory).
struct Flow {
    FlowKey key;
    std::uint16_t flags = 0;
    std::uint16_t action = 0; // 0 = none, else 1 + action index
    std::uint32_t pkts_up = 0;
    std::uint32_t pkts_down = 0;
    std::uint64_t ts_first_ns = 0;
    std::uint64_t ts_last_ns = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint32_t detail = kNoIndex; // FlowDetail pool index; the free list's link while the record is free
    std::int32_t service = -1;
    std::uint32_t isn_up = 0;   // client's SYN sequence number (valid with kFlowSynSeen)
    std::uint32_t isn_down = 0; // server's SYN+ACK sequence number (valid with kFlowSynAckSeen)
    std::uint8_t client_mac[6]{};
    std::uint8_t inspected = 0;   // TCP segments or UDP datagrams whose payload was looked at
    std::uint8_t tally_epoch = 0; // live: the stats interval holding its untallied packets (0: none)

    [[nodiscard]] const Endpoint& client() const noexcept { return (flags & kFlowClientIsHi) ? key.hi : key.lo; }
    [[nodiscard]] const Endpoint& server() const noexcept { return (flags & kFlowClientIsHi) ? key.lo : key.hi; }
    void set_client(const Endpoint& e) noexcept {
        flags = static_cast<std::uint16_t>(e == key.lo ? (flags & ~kFlowClientIsHi) : (flags | kFlowClientIsHi));
    }
};
static_assert(sizeof(Flow) <= 112, "a flow's hot record plus its table share stays within 128 bytes");

// Asks for every cache line of a flow record (a lookup compares its key, the packet updates its
// counters): 112 bytes at a 16-byte stride span two lines or three.
inline void prefetch_flow(const Flow& f) noexcept {
    const auto* rec = reinterpret_cast<const char*>(&f);
    __builtin_prefetch(rec, 1, 3);
    __builtin_prefetch(rec + 64, 1, 3);
    __builtin_prefetch(rec + sizeof(Flow) - 1, 1, 3);
}

// Live tallies (the appliance): what of a flow's counters has been tallied already, so that each
// stats interval gets exactly the packets and bytes that passed in it. Kept beside the flow records
// (16 bytes a flow, allocated only when the worker tallies live), touched once per flow and interval.
// Byte counts keep their low 32 bits: a part never spans 2^31 bytes (a flow is tallied whenever its
// byte count crosses a multiple of 2^31), so the 32-bit difference is exact.
struct TallyMark {
    std::uint32_t pkts_up = 0;
    std::uint32_t pkts_down = 0;
    std::uint32_t bytes_up = 0;
    std::uint32_t bytes_down = 0;
    [[nodiscard]] bool any() const noexcept { return (pkts_up | pkts_down) != 0; }
};

} // namespace wt::pipeline
