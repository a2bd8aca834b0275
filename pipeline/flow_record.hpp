// FlowRecord: what the live appliance keeps of a finished flow for `ctl flows` and the ClickHouse flow rows,
// copied from the worker to the stats core through an SpscRing (fixed size,
// trivially copyable, 1792 bytes: the 3.9 KB FlowDetail stays on the worker).
#pragma once

#include "parsers/common/fixed_string.hpp"
#include "pipeline/flows/flow.hpp"
#include "pipeline/flows/spsc_ring.hpp"
#include "pipeline/worker.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace wt::pipeline {

struct FlowRecord {
    Flow flow;                      // keys, counters, times, service index, action
    std::uint32_t generation = 0;   // the classifier generation `flow.service` indexes into
    AppProto app = AppProto::kUnknown;
    NameSource name_source = NameSource::kNone;
    EchKind ech = EchKind::kNone;
    bool doh = false;
    bool has_sni = false;
    bool server_hello = false;
    std::uint16_t tls_version = 0;  // negotiated (ServerHello)
    std::uint16_t cipher = 0;
    std::uint32_t quic_version = 0;
    DomainName name;
    FixedString<32> alpn;           // negotiated, else the first offered
    // The rest of what the flow JSON (app/report/flow_writer.cpp) says, for the ClickHouse flow rows
    // (issue #19). About 1.1 KB more a record, copied once when a flow ends.
    DomainName sni;                  // the ClientHello's server_name (a real ECH hello's outer, public name)
    FixedString<40> ja4;             // the ClientHello's JA4; empty: no ClientHello
    std::uint16_t client_version = 0; // ClientHello legacy_version; 0: no ClientHello
    bool ech_outer = false;          // an outer ECH extension: ech_config_id is its config id
    std::uint8_t ech_config_id = 0;
    bool doq = false;                // DNS over QUIC (UDP 853)
    std::uint32_t inferred_asn = 0;  // the service was inferred from this AS hosting the server; 0: not
    bool dns_query_seen = false;     // DNS flows: the question, its type, the answer's RCODE and addresses
    bool dns_response_seen = false;
    std::uint16_t dns_qtype = 0;
    std::uint8_t dns_rcode = 0;
    std::uint8_t dns_answer_count = 0;
    std::array<IpAddr, kMaxFlowAnswers> dns_answers{};
    NameChain cnames;                // name_chain(): a DNS flow's answer chain, else the resolution its client followed
    DomainName resolved_query;       // the question this client resolved the server address from; empty: none
};

[[nodiscard]] inline FlowRecord make_flow_record(const Flow& f, const FlowDetail* d, std::uint32_t generation,
                                                 std::uint16_t opened_in) noexcept {
    FlowRecord r;
    r.flow = f;
    r.flow.action = opened_in; // a record tells the action the flow was opened in
    r.generation = generation;
    if (d != nullptr) {
        r.app = d->app;
        r.name_source = d->name_source;
        r.ech = d->tls.ech_offered ? d->tls.ech : EchKind::kNone;
        r.doh = d->doh_endpoint;
        r.has_sni = d->tls.has_sni;
        r.server_hello = d->tls.server_hello_seen;
        r.tls_version = d->tls.negotiated_version;
        r.cipher = d->tls.cipher;
        r.quic_version = d->quic_version;
        // A flow in progress is named once it is tallied (finalize); until then, what is known so far
        // in the same order of preference (an SNI, a Host, a DNS question, what its client resolved).
        r.name = !d->name.empty()            ? d->name
                 : !d->sni.empty()           ? d->sni
                 : !d->http_host.empty()     ? d->http_host
                 : !d->dns.query.empty()     ? d->dns.query
                                             : d->resolved_query;
        if (!d->tls.server_alpn.empty()) {
            r.alpn = d->tls.server_alpn;
        } else if (d->tls.alpn_count > 0) {
            r.alpn = d->tls.alpn[0];
        }
        r.sni = d->sni;
        if (d->tls.client_hello_seen) {
            r.ja4 = d->tls.ja4;
            r.client_version = d->tls.client_version;
        }
        r.ech_outer = d->tls.ech_outer;
        r.ech_config_id = d->tls.ech_config_id;
        r.doq = d->doq;
        r.inferred_asn = d->inferred_asn;
        if (d->app == AppProto::kDns) {
            r.dns_query_seen = d->dns.query_seen;
            r.dns_response_seen = d->dns.response_seen;
            r.dns_qtype = d->dns.qtype;
            r.dns_rcode = d->dns.rcode;
            r.dns_answer_count = d->dns.answer_count;
            r.dns_answers = d->dns.answers;
        }
        r.cnames = name_chain(*d);
        r.resolved_query = d->resolved_query;
    }
    return r;
}

// The worker's FlowSink in the appliance: one record per finished flow into a ring
// the stats core drains. A full ring drops the record (counted): tallies are not
// affected, only the list of recent flows.
class RingFlowSink final : public FlowSink {
public:
    explicit RingFlowSink(std::size_t capacity) : _ring(capacity) {}
    void on_flow_end(const Flow& flow, const FlowDetail* detail, std::string_view, std::uint16_t opened_in) override {
        if (!_ring.push(make_flow_record(flow, detail, generation, opened_in))) {
            _dropped.store(_dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }
    [[nodiscard]] SpscRing<FlowRecord>& ring() noexcept { return _ring; }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return _dropped.load(std::memory_order_relaxed); }

    std::uint32_t generation = 0; // written by the worker's own thread when it swaps classifiers

private:
    SpscRing<FlowRecord> _ring;
    std::atomic<std::uint64_t> _dropped{0};
};

} // namespace wt::pipeline
