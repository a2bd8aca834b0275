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

// Keeps the `limit` rows with the most bytes, in their order; returns how many were left out.
template <typename Row, typename Bytes>
std::size_t keep_largest(std::vector<Row>& rows, std::size_t limit, Bytes bytes) {
    if (rows.size() <= limit) {
        return 0;
    }
    const std::size_t left_out = rows.size() - limit;
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(limit), order.end(),
                     [&](std::size_t x, std::size_t y) {
                         const std::uint64_t bx = bytes(rows[x]), by = bytes(rows[y]);
                         return bx != by ? bx > by : x < y;
                     });
    order.resize(limit);
    std::sort(order.begin(), order.end());
    std::vector<Row> kept;
    kept.reserve(limit);
    for (const std::size_t i : order) {
        kept.push_back(std::move(rows[i]));
    }
    rows = std::move(kept);
    return left_out;
}

} // namespace

void keep_largest_rows(Report& r, std::size_t limit) {
    const auto transfer = [](const pipeline::TransferStats& t) { return t.bytes_up + t.bytes_down; };
    Report::LeftOut left_out;
    left_out.domains = keep_largest(r.tally.domains, limit, [&](const auto& d) { return transfer(d.m.stats); });
    left_out.clients = keep_largest(r.tally.clients, limit, [&](const auto& c) { return transfer(c.stats); });
    left_out.action_rows = keep_largest(r.tally.actions, limit, [&](const auto& a) { return transfer(a.stats); });
    left_out.devices = keep_largest(r.devices, limit, [&](const auto& d) { return transfer(d.stats); });
    if (r.tally.servers.size() > limit) {
        // Servers and their hosting (one per server, by index) go together.
        std::vector<std::pair<pipeline::MergedServer, Hosting>> servers;
        servers.reserve(r.tally.servers.size());
        for (std::size_t i = 0; i < r.tally.servers.size(); ++i) {
            servers.emplace_back(std::move(r.tally.servers[i]), i < r.server_hosting.size() ? r.server_hosting[i] : Hosting{});
        }
        const bool had_hosting = !r.server_hosting.empty();
        left_out.servers = keep_largest(servers, limit, [&](const auto& s) { return transfer(s.first.stats); });
        r.tally.servers.clear();
        r.server_hosting.clear();
        for (auto& [server, hosting] : servers) {
            r.tally.servers.push_back(std::move(server));
            if (had_hosting) {
                r.server_hosting.push_back(std::move(hosting));
            }
        }
    }
    if ((left_out.domains | left_out.clients | left_out.action_rows | left_out.devices | left_out.servers) != 0) {
        r.left_out = left_out;
    }
}

void write_html_report(Report& r, fmt::memory_buffer& out) {
    keep_largest_rows(r, kPageRows);
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
