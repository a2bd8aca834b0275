// Worker counters, declared once (Envoy's ALL_*_STATS / VPP's .api counters):
// the struct, the merge and the report all come from this list. Packet drops
// by decode reason are counted separately, indexed by parsers::DecodeStatus.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

// X(name, description)
#define WT_WORKER_COUNTERS(X)                                                                              \
    X(packets, "packets received by the worker")                                                          \
    X(bytes, "frame bytes received by the worker")                                                        \
    X(ip_packets, "packets with a decodable IP header")                                                   \
    X(non_ip_packets, "frames that carry no IP (ARP, LLDP, STP, ...)")                                    \
    X(decode_errors, "packets dropped by a decode error (see decode_drops)")                              \
    X(fragments, "IP fragments")                                                                          \
    X(non_first_fragments, "IP fragments after the first: no L4 header, tallied by address pair only")    \
    X(flows_created, "flows created")                                                                     \
    X(flows_ended, "flows ended (FIN/RST linger or idle timeout or end of input)")                        \
    X(flows_evicted, "flows ended early because the flow table was full")                                 \
    X(flows_idle_expired, "flows ended by idle timeout")                                                  \
    X(flows_reclaimed, "answered DNS flows ended early to free their detail record for a flow being named") \
    X(flow_parts_tallied, "parts of flows tallied while they lasted (live: once per stats interval)")        \
    X(flow_table_full, "packets that found the flow table full even after eviction")                      \
    X(detail_pool_exhausted, "flows that got no detail record (names, TLS): pool empty")                  \
    X(stream_pool_exhausted, "TCP directions not reassembled: stream pool empty")                         \
    X(quic_pool_exhausted, "QUIC flows not decrypted: QUIC state pool empty")                             \
    X(tls_client_hellos, "TLS ClientHellos parsed")                                                       \
    X(tls_server_hellos, "TLS ServerHellos parsed")                                                       \
    X(tls_errors, "TLS handshakes that failed to parse (malformed, too large)")                           \
    X(tls_multi_segment, "ClientHellos reassembled from more than one TCP segment")                       \
    X(quic_initials, "QUIC client Initial ClientHellos recovered")                                        \
    X(quic_errors, "QUIC Initials that failed to decrypt or parse")                                       \
    X(dns_messages, "DNS messages parsed")                                                                \
    X(dns_errors, "DNS messages that failed to parse")                                                    \
    X(dns_without_detail, "DNS messages parsed from the packet alone (no detail record free): answers learned, the flow unnamed") \
    X(http_requests, "HTTP request heads parsed")                                                         \
    X(dns_resolutions, "flows named from an earlier DNS answer")                                          \
    X(dns_outbox_overflow, "DNS answers not posted to the other workers: outbox full")                    \
    X(classifier_scan_errors, "names left unclassified because the Hyperscan scan failed")                \
    X(dns_answers_not_read, "DNS answer records past the parser's limit (their addresses name no flow)") \
    X(dns_cnames_not_kept, "CNAMEs left off a resolution's chain (past NameChain's 511 characters of names)")            \
    X(dns_ech_configs, "DNS answers that gave a client ECH configurations (HTTPS record, ech SvcParam)")  \
    X(dns_ech_malformed, "DNS answers whose ech SvcParam did not parse as an ECHConfigList")                \
    X(action_parts_early, "flows' stretches in an action tallied before the flow ended (no free action part), named as the flow was then") \
    X(neighbour_hints, "ARP, Neighbour Discovery and DHCP messages that tied an address or a name to a device's MAC")

namespace wt::pipeline {

struct WorkerCounters {
#define WT_COUNTER_FIELD(name, desc) std::uint64_t name = 0;
    WT_WORKER_COUNTERS(WT_COUNTER_FIELD)
#undef WT_COUNTER_FIELD

    void merge(const WorkerCounters& o) noexcept {
#define WT_COUNTER_MERGE(name, desc) name += o.name;
        WT_WORKER_COUNTERS(WT_COUNTER_MERGE)
#undef WT_COUNTER_MERGE
    }

    // Visits (name, description, value) for every counter.
    template <typename Fn>
    void for_each(Fn&& fn) const {
#define WT_COUNTER_VISIT(name, desc) fn(std::string_view(#name), std::string_view(desc), name);
        WT_WORKER_COUNTERS(WT_COUNTER_VISIT)
#undef WT_COUNTER_VISIT
    }
};

// What the DPDK edge (pipeline/dpdk/mbuf_input.hpp) counts before the worker sees a packet;
// here, beside the worker's, so that reports read them without DPDK headers.
struct MbufInputCounters {
    std::uint64_t multi_segment = 0;       // linearised
    std::uint64_t multi_segment_drops = 0; // too large to linearise
    std::uint64_t missing_timestamp = 0;
    std::uint64_t ring_cut_frames = 0;     // live af_packet: frames the socket's ring cut, counted by their IP length
};

} // namespace wt::pipeline
