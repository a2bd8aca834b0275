// Flow state: the key, the compact per-flow counters that every packet touches,
// and the cold application detail kept only while a flow is alive.
#pragma once

#include "parsers/common/fixed_string.hpp"
#include "parsers/net/packet.hpp"
#include "pipeline/fixed_hash_map.hpp"

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

// Canonical bidirectional key: the lower (address, port) endpoint first, so both
// directions of a connection hash and compare the same.
struct FlowKey {
    Endpoint lo;
    Endpoint hi;
    std::uint16_t vlan = 0;
    std::uint8_t proto = 0;

    friend bool operator==(const FlowKey&, const FlowKey&) = default;

    static FlowKey make(const Endpoint& a, const Endpoint& b, std::uint8_t proto, std::uint16_t vlan,
                        bool& a_is_lo) noexcept {
        FlowKey k;
        a_is_lo = std::tie(a.ip, a.port) <= std::tie(b.ip, b.port);
        k.lo = a_is_lo ? a : b;
        k.hi = a_is_lo ? b : a;
        k.proto = proto;
        k.vlan = vlan;
        return k;
    }
    [[nodiscard]] std::uint64_t hash() const noexcept {
        return mix64(ip_hash(lo.ip) ^ (ip_hash(hi.ip) * 0x9e3779b97f4a7c15ULL) ^
                     (std::uint64_t{lo.port} << 32 | std::uint64_t{hi.port} << 16 | std::uint64_t{vlan}) ^
                     (std::uint64_t{proto} << 56));
    }
};

struct FlowKeyHash {
    std::uint64_t operator()(const FlowKey& k) const noexcept { return k.hash(); }
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

// Where a flow's name came from, in the priority order of issue #2.
enum class NameSource : std::uint8_t { kNone, kSni, kQuicSni, kHttpHost, kDnsQuery, kDnsResolution, kCount };

[[nodiscard]] constexpr const char* to_string(NameSource s) noexcept {
    switch (s) {
    case NameSource::kSni: return "sni";
    case NameSource::kQuicSni: return "quic_sni";
    case NameSource::kHttpHost: return "http_host";
    case NameSource::kDnsQuery: return "dns_query";
    case NameSource::kDnsResolution: return "dns";
    default: return "";
    }
}

inline constexpr std::size_t kMaxFlowAlpn = 8;
inline constexpr std::size_t kMaxFlowVersions = 8;
inline constexpr std::size_t kMaxFlowAnswers = 8;
inline constexpr std::size_t kMaxFlowCnames = 4;

struct TlsDetail {
    bool client_hello_seen = false;
    bool server_hello_seen = false;
    bool ech = false;
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
    std::uint8_t cname_count = 0;
    bool https_ech = false;
    DomainName query;
    std::array<IpAddr, kMaxFlowAnswers> answers{};
    std::array<DomainName, kMaxFlowCnames> cnames{};
};

// Everything beyond the counters. Lives in a pool; a flow holds an index to it.
struct FlowDetail {
    AppProto app = AppProto::kUnknown;
    NameSource name_source = NameSource::kNone;
    bool doh_endpoint = false;
    std::uint32_t quic_version = 0;
    DomainName sni;
    DomainName name;
    DomainName http_host;
    TlsDetail tls;
    DnsDetail dns;
    // The DNS question this client asked that answered with the server address.
    DomainName resolved_query;
    std::uint8_t resolution_cname_count = 0;
    std::array<DomainName, kMaxFlowCnames> resolution_cnames{};
    // What interim tallies (active timeout) already counted; the flow's end adds the rest.
    bool tallied_interim = false;
    std::uint32_t tallied_pkts_up = 0;
    std::uint32_t tallied_pkts_down = 0;
    std::uint64_t tallied_bytes_up = 0;
    std::uint64_t tallied_bytes_down = 0;
    std::uint64_t tallied_at_ns = 0;
};

inline constexpr std::uint32_t kNoIndex = 0xffffffffu;

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
};

// The per-flow record every packet touches. Direction "up" is client -> server.
struct Flow {
    FlowKey key;
    Endpoint client; // server is the other key endpoint
    std::uint64_t ts_first_ns = 0;
    std::uint64_t ts_last_ns = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::uint32_t pkts_up = 0;
    std::uint32_t pkts_down = 0;
    std::uint32_t detail = kNoIndex;  // FlowDetail pool index
    std::uint32_t stream_up = kNoIndex;   // StreamAssembler pool index, client direction
    std::uint32_t stream_down = kNoIndex; // server direction
    std::uint32_t quic = kNoIndex;        // QUIC state pool index
    std::int32_t service = -1;
    std::uint16_t action = 0;   // 0 = none, else 1 + action index
    std::uint16_t flags = 0;
    std::uint8_t client_mac[6]{};
    std::uint8_t segments_inspected = 0;
    std::uint8_t datagrams_inspected = 0;
    std::uint32_t isn_up = 0;   // client's SYN sequence number (valid with kFlowSynSeen)
    std::uint32_t isn_down = 0; // server's SYN+ACK sequence number (valid with kFlowSynAckSeen)

    [[nodiscard]] Endpoint server() const noexcept { return client == key.lo ? key.hi : key.lo; }
};

} // namespace wt::pipeline
