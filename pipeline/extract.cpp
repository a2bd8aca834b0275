// Extraction: the application-layer step of the worker. Each function looks at
// the reassembled beginning of one direction (TCP) or one datagram (UDP) and
// fills the flow's detail; it returns true when that direction needs no more.
#include "parsers/dns/dns_message.hpp"
#include "parsers/http/http_request.hpp"
#include "parsers/quic/client_initial.hpp"
#include "parsers/quic/gquic.hpp"
#include "parsers/quic/initial.hpp"
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/ja4.hpp"
#include "pipeline/known_endpoints.hpp"
#include "pipeline/worker.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace wt::pipeline {

using parsers::Bytes;
using parsers::ParseStatus;

namespace {

constexpr std::uint8_t kTlsClientHelloType = 1;
constexpr std::uint8_t kTlsServerHelloType = 2;
constexpr std::uint16_t kDnsTypeA = 1;
constexpr std::uint16_t kDnsTypeCname = 5;
constexpr std::uint16_t kDnsTypeAaaa = 28;
constexpr std::uint16_t kDnsTypeSvcb = 64;
constexpr std::uint16_t kDnsTypeHttps = 65;

// The QUIC version a datagram announces, if it looks like QUIC at all: an IETF
// long header (RFC 8999 section 5.1: the invariant form bit and 32-bit version)
// with a version we know or version 0 (negotiation), or a gQUIC public header
// carrying an ASCII "Q0xx" version after an 8-byte connection ID.
std::optional<std::uint32_t> quic_version_of(Bytes d) noexcept {
    if (d.size() < 7) {
        return std::nullopt;
    }
    if (d[0] & 0x80) {
        const std::uint32_t v = parsers::load_u32(d.data() + 1);
        const bool grease = (v & 0x0f0f0f0fu) == 0x0a0a0a0au;
        if (v == 0 || grease || parsers::quic_version_supported(v) || !parsers::quic_version_name(v).empty()) {
            return v;
        }
        return std::nullopt;
    }
    // gQUIC public header: flags (0x01 version present, 0x08 8-byte CID), CID, version.
    if ((d[0] & 0x09) == 0x09 && d.size() >= 13) {
        const std::uint8_t* v = d.data() + 9;
        const bool digits = v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' && v[3] >= '0' && v[3] <= '9';
        if ((v[0] == 'Q' || v[0] == 'T') && digits) {
            return parsers::load_u32(v);
        }
    }
    return std::nullopt;
}

void copy_client_hello(FlowDetail& d, const parsers::TlsClientHello& ch, char transport) noexcept {
    TlsDetail& t = d.tls;
    t.client_hello_seen = true;
    t.client_version = ch.legacy_version;
    t.ech_offered = ch.has_ech;
    t.ech_outer = ch.has_ech && ch.ech_well_formed && ch.ech.type == parsers::EchHelloType::kOuter;
    t.ech_config_id = ch.ech.config_id;
    t.ech = EchKind::kNone;
    t.esni = ch.has_esni;
    t.has_sni = ch.has_sni && !ch.sni.empty();
    if (t.has_sni) {
        d.sni = ch.sni;
    }
    t.alpn_count = static_cast<std::uint8_t>(std::min<std::size_t>(ch.alpn_count, kMaxFlowAlpn));
    for (std::size_t i = 0; i < t.alpn_count; ++i) {
        t.alpn[i].assign(ch.alpn[i].view());
    }
    t.version_count = static_cast<std::uint8_t>(std::min<std::size_t>(ch.supported_versions.count, kMaxFlowVersions));
    for (std::size_t i = 0; i < t.version_count; ++i) {
        t.supported_versions[i] = ch.supported_versions.values[i];
    }
    parsers::ja4_fingerprint(ch, transport, t.ja4);
}

} // namespace

Worker::StreamVerdict Worker::extract_client_stream(Flow& f, FlowDetail& d, Bytes stream,
                                                   bool& is_client_side_app) noexcept {
    is_client_side_app = false;
    if (stream.empty()) {
        return StreamVerdict::kNeedMore;
    }
    if (stream[0] == 0x16) {
        Bytes message;
        const ParseStatus st = parsers::tls_first_handshake(stream, kTlsClientHelloType, _scratch_buf, message);
        if (st == ParseStatus::kNeedMore) {
            is_client_side_app = true;
            return StreamVerdict::kNeedMore;
        }
        if (st == ParseStatus::kOk) {
            parsers::TlsClientHello ch;
            const ParseStatus pst = parsers::parse_client_hello(message, ch);
            if (pst == ParseStatus::kOk || (pst == ParseStatus::kMalformed && ch.has_sni)) {
                is_client_side_app = true;
                d.app = f.server().port == kDotPort ? AppProto::kDot : AppProto::kTls;
                copy_client_hello(d, ch, 't');
                ++_counters.tls_client_hellos;
                if (message.data() < stream.data() || message.data() >= stream.data() + stream.size() ||
                    f.inspected > 1) {
                    ++_counters.tls_multi_segment;
                }
                return StreamVerdict::kDone;
            }
            ++_counters.tls_errors;
            return StreamVerdict::kDone;
        }
        if (st != ParseStatus::kUnsupported) {
            ++_counters.tls_errors;
            return StreamVerdict::kDone;
        }
        return StreamVerdict::kUnknown; // a handshake, but not a ClientHello: maybe the server's half
    }
    if (is_dns_port(f.key.lo.port) || is_dns_port(f.key.hi.port)) {
        parsers::DnsMessage& msg = *_dns_message;
        std::size_t consumed = 0;
        const ParseStatus st = parsers::parse_dns_tcp_message(stream, msg, consumed);
        if (st == ParseStatus::kNeedMore) {
            is_client_side_app = true;
            return StreamVerdict::kNeedMore;
        }
        if (!msg.question_ok) {
            return StreamVerdict::kUnknown;
        }
        is_client_side_app = !msg.is_response;
        return apply_dns(f, d, msg, st, is_client_side_app, f.ts_last_ns) ? StreamVerdict::kDone
                                                                          : StreamVerdict::kNeedMore;
    }
    parsers::HttpRequest req;
    const ParseStatus st = parsers::parse_http_request(stream, req);
    if (st == ParseStatus::kNeedMore) {
        is_client_side_app = true;
        return StreamVerdict::kNeedMore;
    }
    if (st == ParseStatus::kOk) {
        is_client_side_app = true;
        d.app = AppProto::kHttp;
        if (req.has_host) {
            d.http_host = req.host;
        }
        ++_counters.http_requests;
        return StreamVerdict::kDone;
    }
    return StreamVerdict::kUnknown;
}

Worker::StreamVerdict Worker::extract_server_stream(Flow& f, FlowDetail& d, Bytes stream) noexcept {
    if (stream.empty()) {
        return StreamVerdict::kNeedMore;
    }
    // A server may send a warning alert (e.g. unrecognized_name) before its
    // ServerHello; tls_first_handshake() steps over such records.
    const bool tls_flow = d.app == AppProto::kTls || d.app == AppProto::kDot;
    if (tls_flow || (d.app == AppProto::kUnknown && stream[0] == 0x16)) {
        Bytes message;
        const ParseStatus st = parsers::tls_first_handshake(stream, kTlsServerHelloType, _scratch_buf, message);
        if (st == ParseStatus::kNeedMore) {
            return StreamVerdict::kNeedMore;
        }
        if (st == ParseStatus::kOk) {
            parsers::TlsServerHello sh;
            if (parsers::parse_server_hello(message, sh) == ParseStatus::kOk) {
                d.tls.server_hello_seen = true;
                d.tls.negotiated_version = sh.selected_version;
                d.tls.cipher = sh.cipher_suite;
                d.tls.hello_retry = sh.is_hello_retry_request;
                if (sh.has_alpn) {
                    d.tls.server_alpn.assign(sh.alpn.view());
                }
                if (d.app == AppProto::kUnknown) {
                    d.app = f.server().port == kDotPort ? AppProto::kDot : AppProto::kTls;
                }
                ++_counters.tls_server_hellos;
                return StreamVerdict::kDone;
            }
        }
        if (st == ParseStatus::kUnsupported) {
            return StreamVerdict::kUnknown;
        }
        ++_counters.tls_errors;
        return StreamVerdict::kDone;
    }
    if (d.app == AppProto::kDns) {
        return extract_dns(f, d, stream, true, false, f.ts_last_ns) ? StreamVerdict::kDone
                                                                     : StreamVerdict::kNeedMore;
    }
    if (d.app == AppProto::kHttp) {
        return StreamVerdict::kDone; // nothing to take from the response
    }
    return StreamVerdict::kUnknown;
}

bool Worker::extract_dns(Flow& f, FlowDetail& d, Bytes message, bool tcp, bool from_client,
                         std::uint64_t ts_ns) noexcept {
    parsers::DnsMessage& msg = *_dns_message;
    std::size_t consumed = 0;
    const ParseStatus st =
        tcp ? parsers::parse_dns_tcp_message(message, msg, consumed) : parsers::parse_dns_message(message, msg);
    return apply_dns(f, d, msg, st, from_client, ts_ns);
}

bool Worker::apply_dns(Flow& f, FlowDetail& d, const parsers::DnsMessage& msg, ParseStatus st, bool from_client,
                       std::uint64_t ts_ns) noexcept {
    if (!count_dns_message(msg, st)) {
        return d.app != AppProto::kUnknown;
    }
    d.app = AppProto::kDns;
    if (!msg.is_response && !from_client && !(f.flags & kFlowRoleFromSyn)) {
        swap_roles(f); // the sender of the query is the client
        from_client = true;
    }
    // A flow can carry several transactions (a client reusing its source port). It is
    // named after the question of the first response that resolved (NOERROR), else of
    // the first (failed) response, else of the latest query: a failed lookup followed
    // by a successful one on the same flow is named after the one that led somewhere.
    DnsDetail& dns = d.dns;
    constexpr std::uint8_t kNoError = 0;
    const bool resolved_before = dns.response_seen && dns.rcode == kNoError;
    const bool replaces_failure = msg.is_response && dns.response_seen && !resolved_before && msg.rcode == kNoError;
    if (!dns.response_seen || replaces_failure) {
        dns.query = msg.qname;
        dns.qtype = msg.qtype;
    }
    if (!msg.is_response) {
        dns.query_seen = true;
        return false;
    }
    if (resolved_before) {
        return true;
    }
    if (dns.response_seen) {
        if (!replaces_failure) {
            return false; // another failure: keep the first, wait for one that resolves
        }
        dns.answer_count = 0;
        dns.cnames.clear();
    }
    dns.response_seen = true;
    dns.rcode = msg.rcode;
    learn_answers(msg, f.client().ip, ts_ns, &dns);
    return msg.rcode == kNoError; // after a failed lookup, keep looking at this flow's next response
}

bool Worker::count_dns_message(const parsers::DnsMessage& msg, ParseStatus st) noexcept {
    if (!msg.question_ok) {
        ++_counters.dns_errors;
        return false;
    }
    if (st != ParseStatus::kOk) {
        ++_counters.dns_errors;
    }
    ++_counters.dns_messages;
    return true;
}

void Worker::learn_answers(const parsers::DnsMessage& msg, const IpAddr& client, std::uint64_t ts_ns,
                           DnsDetail* dns) noexcept {
    DnsResolution res;
    res.client = client;
    res.ts_ns = ts_ns;
    res.query = msg.qname;
    _counters.dns_answers_not_read += msg.answers_not_stored;
    for (std::size_t i = 0; i < msg.answer_count; ++i) {
        const parsers::DnsAnswer& a = msg.answers[i];
        if (a.type == kDnsTypeCname && !a.target.empty()) {
            if (dns != nullptr) {
                (void)dns->cnames.push(a.target.view());
            }
            if (!res.cnames.push(a.target.view())) {
                ++_counters.dns_cnames_not_kept;
            }
        } else if ((a.type == kDnsTypeA && a.addr_len == 4) || (a.type == kDnsTypeAaaa && a.addr_len == 16)) {
            IpAddr ip;
            std::memcpy(ip.bytes.data(), a.addr.data(), a.addr_len);
            ip.version = a.addr_len == 4 ? 4 : 6;
            if (dns != nullptr && dns->answer_count < kMaxFlowAnswers) {
                dns->answers[dns->answer_count++] = ip;
            }
            res.address = ip;
            _dns_cache.insert(res);
            publish_resolution(res);
        } else if ((a.type == kDnsTypeHttps || a.type == kDnsTypeSvcb) && a.svc_has_ech && dns != nullptr) {
            dns->https_ech = true;
        }
    }
    if (msg.ech.config_count > 0) {
        learn_ech_configs(msg, res);
    }
    _counters.dns_ech_malformed += msg.ech_malformed ? 1 : 0;
}

void Worker::learn_dns_in_place(const parsers::DecodedPacket& pkt, std::uint64_t ts_ns) noexcept {
    parsers::DnsMessage& msg = *_dns_message;
    if (!count_dns_message(msg, parsers::parse_dns_message(pkt.l4_payload, msg))) {
        return;
    }
    ++_counters.dns_without_detail;
    // What a resolved answer teaches outlives the packet in the DNS cache, not in the flow: the
    // connections that follow are named by it even though this flow's own name is lost.
    if (msg.is_response && msg.rcode == 0) {
        learn_answers(msg, pkt.dst, ts_ns, nullptr); // a response goes to the client that asked
    }
}

bool Worker::announces_quic_version(Bytes datagram) noexcept {
    return quic_version_of(datagram).has_value();
}

bool Worker::extract_quic(Flow& f, FlowDetail& d, Bytes datagram, bool from_client) noexcept {
    if (d.quic == kNoIndex) {
        const auto version = quic_version_of(datagram);
        if (!version.has_value()) {
            return d.app == AppProto::kUnknown ? f.inspected >= 2 : false;
        }
        d.app = AppProto::kQuic;
        if (from_client || d.quic_version == 0) {
            d.quic_version = *version;
        }
        if (parsers::is_gquic_version(*version)) {
            // Google QUIC: the SNI is a tag of the CHLO (Q0xx) or a TLS ClientHello (T05x).
            if (!from_client) {
                return false;
            }
            parsers::GquicHello hello;
            const ParseStatus st = _gquic->parse(datagram, hello);
            if (st == ParseStatus::kNeedMore) {
                return false;
            }
            if (st != ParseStatus::kOk) {
                ++_counters.quic_errors;
                return true;
            }
            if (hello.tls) {
                parsers::TlsClientHello ch;
                const ParseStatus pst = parsers::parse_client_hello(hello.handshake, ch);
                if (pst == ParseStatus::kOk || (pst == ParseStatus::kMalformed && ch.has_sni)) {
                    copy_client_hello(d, ch, 'q');
                }
            } else if (hello.has_sni) {
                d.sni = hello.sni;
            }
            ++_counters.quic_initials;
            return true;
        }
        if (!from_client || !parsers::looks_like_quic_initial(datagram)) {
            return false;
        }
        if (_free_quic.empty()) {
            ++_counters.quic_pool_exhausted;
            return true;
        }
        d.quic = _free_quic.back();
        _free_quic.pop_back();
        _quic_states[d.quic]->reset();
    }
    if (!from_client) {
        return false;
    }
    parsers::QuicFlowState& q = *_quic_states[d.quic];
    const ParseStatus st = parsers::process_client_initial_datagram(*_quic_decryptor, datagram, q);
    if (st == ParseStatus::kNeedMore) {
        return false;
    }
    if (st != ParseStatus::kOk) {
        ++_counters.quic_errors;
        return true;
    }
    d.quic_version = q.version();
    parsers::TlsClientHello ch;
    const ParseStatus pst = parsers::parse_client_hello(q.crypto.contiguous(), ch);
    if (pst == ParseStatus::kOk || (pst == ParseStatus::kMalformed && ch.has_sni)) {
        copy_client_hello(d, ch, 'q');
        ++_counters.quic_initials;
    } else {
        ++_counters.quic_errors;
    }
    return true;
}

// RFC 9849 section 4 via an HTTPS record: the client now holds configurations that let it hide
// `msg.qname` behind the public name. Filed per config_id in the DNS cache (ech_config_key), and
// sent to the other workers as any resolution is, since the TLS flow may land on another worker.
void Worker::learn_ech_configs(const parsers::DnsMessage& msg, const DnsResolution& chain) noexcept {
    DnsResolution res = chain;
    for (std::size_t i = 0; i < msg.ech.config_count; ++i) {
        res.address = ech_config_key(msg.ech.public_name.view(), msg.ech.config_ids[i]);
        _dns_cache.insert(res);
        publish_resolution(res);
    }
    ++_counters.dns_ech_configs;
}

void Worker::publish_resolution(const DnsResolution& res) noexcept {
    if (_dns_outbox_capacity == 0) {
        return;
    }
    if (_dns_outbox.size() < _dns_outbox_capacity) {
        _dns_outbox.push_back(res);
    } else {
        ++_counters.dns_outbox_overflow;
    }
}

// A real ECH hello names the public name in its SNI; the name it hides is the one the client asked
// an HTTPS record for (RFC 9849 section 6.1: the client uses a config it was given for that name).
bool Worker::recover_ech_name(const Flow& f, FlowDetail& d) noexcept {
    TlsDetail& t = d.tls;
    if (t.ech == EchKind::kReal) {
        return true;
    }
    if (!t.ech_outer || d.sni.empty()) {
        return false;
    }
    const DnsResolution* r =
        _dns_cache.lookup(f.client().ip, ech_config_key(d.sni.view(), t.ech_config_id), f.ts_first_ns);
    if (r == nullptr) {
        return false;
    }
    t.ech = EchKind::kReal;
    d.name = r->query;
    d.name_source = NameSource::kEchDns;
    d.resolved_query.clear(); // the resolution to follow is the hidden name's, looked up next
    d.resolution_cnames.clear();
    return true;
}

void Worker::resolve_name(Flow& f, FlowDetail& d, std::string_view prefer) noexcept {
    const DnsResolution* r = _dns_cache.lookup(f.client().ip, f.server().ip, f.ts_first_ns, prefer);
    if (r == nullptr) {
        return;
    }
    if (!prefer.empty() && !d.resolved_query.empty() && !r->names(prefer)) {
        return; // no resolution names the flow's name: keep the one found when it started
    }
    d.resolved_query = r->query;
    d.resolution_cnames = r->cnames;
    ++_counters.dns_resolutions;
}

} // namespace wt::pipeline
