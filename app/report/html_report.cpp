#include "app/report/html_report.hpp"

#include <algorithm>

namespace wt::app {

namespace {

// The report's JSON inside <script type="application/json">: "</" would let a name from the wire end
// the element (HTML's script data state), so every '<' is written as the JSON escape \u003c, which
// JSON.parse reads back as '<'. A '<' appears only inside strings, where the escape is valid.
void append_script_safe(fmt::memory_buffer& out, std::string_view json) {
    const char* p = json.data();
    const char* end = p + json.size();
    while (p < end) {
        const char* lt = std::find(p, end, '<');
        out.append(p, lt);
        if (lt == end) {
            break;
        }
        constexpr std::string_view kEscapedLt = "\\u003c";
        out.append(kEscapedLt.data(), kEscapedLt.data() + kEscapedLt.size());
        p = lt + 1;
    }
}

template <typename Row>
std::size_t cut(std::vector<Row>& rows) {
    if (rows.size() <= kPageRows) {
        return 0;
    }
    const std::size_t left_out = rows.size() - kPageRows;
    rows.resize(kPageRows);
    return left_out;
}

} // namespace

void write_html_report(Report& r, fmt::memory_buffer& out) {
    if (r.tally.domains.size() > kPageRows || r.tally.clients.size() > kPageRows || r.tally.servers.size() > kPageRows) {
        // Domains and clients come largest first (merge_tallies); servers by address: keep the ones
        // with the most bytes, and their hosting with them.
        Report::LeftOut left_out;
        left_out.domains = cut(r.tally.domains);
        left_out.clients = cut(r.tally.clients);
        if (r.tally.servers.size() > kPageRows) {
            left_out.servers = r.tally.servers.size() - kPageRows;
            std::vector<std::size_t> order(r.tally.servers.size());
            for (std::size_t i = 0; i < order.size(); ++i) {
                order[i] = i;
            }
            const auto bytes = [&](std::size_t i) {
                return r.tally.servers[i].stats.bytes_up + r.tally.servers[i].stats.bytes_down;
            };
            std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kPageRows), order.end(),
                              [&](std::size_t a, std::size_t b) { return bytes(a) > bytes(b); });
            order.resize(kPageRows);
            std::sort(order.begin(), order.end());
            std::vector<pipeline::MergedServer> servers;
            std::vector<Hosting> hosting;
            for (const std::size_t i : order) {
                servers.push_back(std::move(r.tally.servers[i]));
                if (i < r.server_hosting.size()) {
                    hosting.push_back(std::move(r.server_hosting[i]));
                }
            }
            r.tally.servers = std::move(servers);
            r.server_hosting = std::move(hosting);
        }
        r.left_out = left_out;
    }
    fmt::memory_buffer json;
    write_report_json(r, json, -1);
    write_html_page({json.data(), json.size()}, out);
}

void write_html_page(std::string_view json_document, fmt::memory_buffer& out) {
    const std::string_view head = html_page::head();
    const std::string_view tail = html_page::tail();
    out.reserve(out.size() + head.size() + json_document.size() + tail.size() + 256);
    out.append(head.data(), head.data() + head.size());
    append_script_safe(out, json_document);
    out.append(tail.data(), tail.data() + tail.size());
}

void write_html_dashboard(fmt::memory_buffer& out) {
    write_html_page("null", out);
}

} // namespace wt::app
