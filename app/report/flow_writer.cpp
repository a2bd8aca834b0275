#include "app/report/flow_writer.hpp"

#include "app/report/names.hpp"

namespace wt::app {

using nlohmann::json;
using pipeline::AppProto;

namespace {

double seconds(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e9;
}

} // namespace

json flow_to_json(const pipeline::Flow& f, const pipeline::FlowDetail* d, std::string_view service,
                  const pipeline::ActionSchedule* actions, std::uint16_t opened_in) {
    json j;
    j["ts_first"] = seconds(f.ts_first_ns);
    j["ts_last"] = seconds(f.ts_last_ns);
    j["proto"] = ip_proto_text(f.key.proto);
    const pipeline::Endpoint server = f.server();
    j["client"] = ip_text(f.client().ip);
    j["client_port"] = f.client().port;
    j["server"] = ip_text(server.ip);
    j["server_port"] = server.port;
    j["vlan"] = f.key.vlan;
    j["pkts_up"] = f.pkts_up;
    j["pkts_down"] = f.pkts_down;
    j["bytes_up"] = f.bytes_up;
    j["bytes_down"] = f.bytes_down;
    j["app"] = d != nullptr ? pipeline::to_string(d->app) : "";
    j["sni"] = d != nullptr ? std::string(d->sni.view()) : "";
    j["name"] = d != nullptr ? std::string(d->name.view()) : "";
    j["name_source"] = d != nullptr ? pipeline::to_string(d->name_source) : "";
    j["service"] = std::string(service);
    j["action"] = actions != nullptr ? std::string(actions->label(opened_in)) : "";
    if (d == nullptr) {
        return j;
    }
    if (d->doh_endpoint) {
        j["doh"] = true;
    }
    if (d->doq) {
        j["doq"] = true;
    }
    if (const std::string_view matched = pipeline::matched_name(*d); !matched.empty()) {
        j["matched_by"] = std::string(matched);
    }
    if (d->inferred_asn != 0) {
        j["inferred_asn"] = d->inferred_asn;
    }
    if (!d->resolved_query.empty()) {
        json cn = json::array();
        for (std::string_view c : d->resolution_cnames) {
            cn.push_back(std::string(c));
        }
        j["resolved"] = {{"query", std::string(d->resolved_query.view())}, {"cnames", cn}};
    }
    const pipeline::TlsDetail& t = d->tls;
    if (t.client_hello_seen || t.server_hello_seen) {
        json alpn = json::array();
        for (std::size_t i = 0; i < t.alpn_count; ++i) {
            alpn.push_back(std::string(t.alpn[i].view()));
        }
        json versions = json::array();
        for (std::size_t i = 0; i < t.version_count; ++i) {
            const std::uint16_t v = t.supported_versions[i];
            versions.push_back((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff) ? std::string("GREASE")
                                                                                  : tls_version_text(v));
        }
        json tls;
        tls["version"] = t.server_hello_seen ? json(tls_version_text(t.negotiated_version)) : json(nullptr);
        tls["client_version"] = t.client_hello_seen ? json(tls_version_text(t.client_version)) : json(nullptr);
        tls["cipher"] = t.server_hello_seen ? json(tls_cipher_text(t.cipher)) : json(nullptr);
        tls["alpn"] = alpn;
        if (!t.server_alpn.empty()) {
            tls["alpn_negotiated"] = std::string(t.server_alpn.view());
        }
        tls["supported_versions"] = versions;
        tls["ja4"] = t.client_hello_seen ? json(std::string(t.ja4.view())) : json(nullptr);
        // RFC 9849: "none", or what the extension was ("real", "grease", "unknown"); the config_id of an
        // outer extension (a GREASE one's is random).
        tls["ech"] = pipeline::to_string(t.ech_offered ? t.ech : pipeline::EchKind::kNone);
        tls["ech_config_id"] = t.ech_outer ? json(t.ech_config_id) : json(nullptr);
        if (t.esni) {
            tls["esni"] = true;
        }
        if (t.hello_retry) {
            tls["hello_retry_request"] = true;
        }
        j["tls"] = tls;
    }
    if (d->app == AppProto::kQuic) {
        j["quic"] = {{"version", d->quic_version != 0 ? json(quic_version_text(d->quic_version)) : json(nullptr)}};
    }
    if (d->app == AppProto::kDns) {
        const pipeline::DnsDetail& dn = d->dns;
        json answers = json::array();
        for (std::size_t i = 0; i < dn.answer_count; ++i) {
            answers.push_back(ip_text(dn.answers[i]));
        }
        json cnames = json::array();
        for (std::string_view c : dn.cnames) {
            cnames.push_back(std::string(c));
        }
        json dns;
        dns["query"] = std::string(dn.query.view());
        dns["qtype"] = dns_type_text(dn.qtype);
        dns["rcode"] = dn.response_seen ? json(dns_rcode_text(dn.rcode)) : json(nullptr);
        dns["answers"] = answers;
        dns["cnames"] = cnames;
        if (dn.https_ech) {
            dns["https_ech"] = true;
        }
        j["dns"] = dns;
    }
    if (d->app == AppProto::kHttp) {
        j["http"] = {{"host", std::string(d->http_host.view())}};
    }
    return j;
}

void FlowJsonWriter::on_flow_end(const pipeline::Flow& flow, const pipeline::FlowDetail* detail,
                                 std::string_view service, std::uint16_t opened_in) {
    if (_failed) {
        return;
    }
    const std::string line = flow_to_json(flow, detail, service, _actions, opened_in).dump(-1, ' ', false,
                                                                               json::error_handler_t::replace);
    if (std::fputs(line.c_str(), _out) < 0 || std::fputc('\n', _out) == EOF) {
        _failed = true;
        return;
    }
    ++_written;
}

} // namespace wt::app
