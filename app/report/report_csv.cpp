// The report as one CSV table: a row per service, exact numbers.
#include "app/report/report.hpp"

#include <fmt/format.h>

namespace wt::app {

using nlohmann::json;
using pipeline::MergedStats;
using pipeline::TransferStats;

void render_csv(const Report& r, std::FILE* out) {
    // One table: a row per service (largest first), exact numbers.
    fmt::print(out, "service,connections,distinct_clients,pkts_up,pkts_down,bytes_up,bytes_down,tls,tls13,tls12,"
                    "quic,ech,ech_real,ech_grease,esni,dot,doh,cleartext_http,first_seen,last_seen\n");
    const auto csv_field = [](std::string_view s) {
        if (s.find_first_of(",\"\n") == std::string_view::npos) {
            return std::string(s);
        }
        std::string q = "\"";
        for (char ch : s) {
            if (ch == '"') {
                q += '"';
            }
            q += ch;
        }
        return q + "\"";
    };
    for (std::int32_t s : services_by_size(r)) {
        const MergedStats& m = r.tally.services[static_cast<std::size_t>(s + 1)];
        const TransferStats& t = m.stats;
        fmt::print(out, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{:.6f}\n",
                   csv_field(s < 0 ? "" : service_label(r, s)), t.connections, m.distinct_clients, t.pkts_up,
                   t.pkts_down, t.bytes_up, t.bytes_down, t.tls,
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls13)],
                   t.tls_versions[static_cast<std::size_t>(pipeline::TlsVersionSlot::kTls12)], t.quic, t.ech, t.ech_real,
                   t.ech_grease, t.esni, t.dot,
                   t.doh, t.cleartext_http, static_cast<double>(t.first_ns) / 1e9, static_cast<double>(t.last_ns) / 1e9);
    }
}

} // namespace wt::app
