// The HTML report's page (issue #16): the report's JSON embedded once, so that no name from the wire
// can end its script element, and the page's size bounded for large reports.
#include "app/report/html_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace wt::app {
namespace {

constexpr std::string_view kDataOpen = R"(<script type="application/json" id="wiretally-report">)";

// The text between the data element's tags.
std::string embedded_json(const std::string& page) {
    const auto open = page.find(kDataOpen);
    EXPECT_NE(open, std::string::npos);
    const auto start = open + kDataOpen.size();
    const auto end = page.find("</script>", start);
    EXPECT_NE(end, std::string::npos);
    return page.substr(start, end - start);
}

Report report_with_hostile_names() {
    Report r;
    r.input.file = "capture </script><script>alert(1)</script>.pcap";
    r.input.first_ns = 1'700'000'000'000'000'000ull;
    r.input.last_ns = r.input.first_ns + 1'000'000'000ull;
    pipeline::MergedDomain d;
    d.name = "</SCRIPT><img src=x onerror=alert(1)>.example";
    d.m.stats.bytes_down = 42;
    r.tally.domains.push_back(d);
    r.tally.services.resize(1);
    return r;
}

TEST(HtmlReport, EmbedsTheJsonReportOnceAndNoNameEndsTheScript) {
    Report r = report_with_hostile_names();
    fmt::memory_buffer expected_json;
    write_report_json(r, expected_json, -1);
    fmt::memory_buffer page;
    write_html_report(r, page);
    const std::string text = fmt::to_string(page);
    EXPECT_EQ(text.find("<script>alert"), std::string::npos);
    EXPECT_EQ(text.find("</SCRIPT>"), std::string::npos);
    std::size_t count = 0;
    for (auto at = text.find(kDataOpen); at != std::string::npos; at = text.find(kDataOpen, at + 1)) {
        ++count;
    }
    EXPECT_EQ(count, 1u);
    // What the page's JSON.parse reads is the JSON report.
    EXPECT_EQ(nlohmann::json::parse(embedded_json(text)), nlohmann::json::parse(fmt::to_string(expected_json)));
    EXPECT_EQ(nlohmann::json::parse(embedded_json(text))["domains"][0]["domain"], r.tally.domains[0].name);
    // Self-contained: uPlot is inlined, nothing is fetched from elsewhere.
    EXPECT_NE(text.find("uPlot"), std::string::npos);
    EXPECT_EQ(text.find("<script src"), std::string::npos);
    EXPECT_EQ(text.find("<link"), std::string::npos);
}

TEST(HtmlReport, LargeTablesAreCutToThePageBoundAndTheCutIsSaid) {
    Report r;
    r.tally.services.resize(1);
    for (std::size_t i = 0; i < kPageRows + 25; ++i) {
        pipeline::MergedDomain d;
        d.name = fmt::format("n{}.example", i);
        d.m.stats.bytes_up = kPageRows + 25 - i; // sorted by name, the smallest last: the last 25 go
        r.tally.domains.push_back(d);
        pipeline::MergedServer s;
        s.address = pipeline::IpAddr{{10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}, 4};
        s.stats.bytes_down = i == 3 ? 1'000'000 : i; // the busiest server is early in address order
        r.tally.servers.push_back(s);
    }
    fmt::memory_buffer page;
    write_html_report(r, page);
    const auto j = nlohmann::json::parse(embedded_json(fmt::to_string(page)));
    EXPECT_EQ(j["domains"].size(), kPageRows);
    EXPECT_EQ(j["servers"].size(), kPageRows);
    EXPECT_EQ(j["left_out"]["domains"], 25);
    EXPECT_EQ(j["left_out"]["servers"], 25);
    EXPECT_EQ(j["left_out"]["clients"], 0);
    EXPECT_EQ(j["left_out"]["devices"], 0);
    EXPECT_EQ(j["left_out"]["action_rows"], 0);
    std::set<std::string> kept;
    for (const auto& d : j["domains"]) {
        kept.insert(d["domain"].get<std::string>());
    }
    EXPECT_TRUE(kept.contains("n0.example"));
    EXPECT_TRUE(kept.contains(fmt::format("n{}.example", kPageRows - 1)));
    EXPECT_FALSE(kept.contains(fmt::format("n{}.example", kPageRows))) << "the rows with the fewest bytes go";
    bool busiest_kept = false;
    for (const auto& s : j["servers"]) {
        busiest_kept = busiest_kept || s["address"] == "10.0.0.3";
    }
    EXPECT_TRUE(busiest_kept);
}

TEST(HtmlReport, TheDashboardIsTheSamePageWithoutData) {
    fmt::memory_buffer page;
    write_html_dashboard(page);
    EXPECT_EQ(embedded_json(fmt::to_string(page)), "null");
}

} // namespace
} // namespace wt::app
