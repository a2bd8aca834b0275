// WT_TRANSFER_COUNTS (pipeline/tally/tally.hpp) is the one list of a TransferStats' counts: every count in it
// reaches merge, the report's JSON, a snapshot written and read back, and (by its role) Prometheus. A
// count added to the list is covered here without touching this test.
#include "app/report/report.hpp"
#include "app/live/state/snapshot.hpp"
#include "pipeline/tally/tally.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

namespace wt::app {
namespace {

using pipeline::TransferStats;

// Every count set to a value of its own: 1001, 1002, ...
TransferStats distinct_counts(std::map<std::string, std::uint64_t>& expected) {
    TransferStats s;
    std::uint64_t next = 1001;
    s.for_each_count_field([&](std::string_view name, auto& field) {
        field = static_cast<std::remove_reference_t<decltype(field)>>(next);
        expected[std::string(name)] = next++;
    });
    s.first_ns = 1'700'000'000'000'000'000ull;
    s.last_ns = s.first_ns + 5;
    return s;
}

TEST(TransferFields, EveryCountIsMergedAndListedOnce) {
    std::map<std::string, std::uint64_t> expected;
    const TransferStats s = distinct_counts(expected);
    EXPECT_GE(expected.size(), 13u);
    TransferStats twice = s;
    twice.merge(s);
    std::size_t visited = 0;
    twice.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view description,
                             std::uint64_t v) {
        EXPECT_EQ(v, 2 * expected.at(std::string(name))) << name;
        EXPECT_FALSE(description.empty()) << name << ": every count says what it counts";
        ++visited;
    });
    EXPECT_EQ(visited, expected.size()) << "a name given twice";
}

TEST(TransferFields, EveryCountReachesTheReportJson) {
    std::map<std::string, std::uint64_t> expected;
    Report r;
    r.services = {"Maps"};
    r.tally.services.resize(2);
    r.tally.services[1].stats = distinct_counts(expected);
    r.tally.total.stats = r.tally.services[1].stats;
    const nlohmann::json j = report_to_json(r);
    ASSERT_EQ(j["services"].size(), 1u);
    for (const auto& [name, value] : expected) {
        EXPECT_EQ(j["services"][0][name], value) << name;
        EXPECT_EQ(j["total"][name], value) << name;
    }
}

TEST(TransferFields, EveryCountSurvivesASnapshot) {
    std::map<std::string, std::uint64_t> expected;
    const pipeline::TallyLimits limits;
    state::SnapshotContent saved(limits);
    saved.service_names = {"Maps"};
    saved.tally.restore_service(0, distinct_counts(expected));
    const std::string path =
        (std::filesystem::temp_directory_path() / ("wt-fields-" + std::to_string(::getpid()) + ".json")).string();
    std::string error;
    ASSERT_TRUE(state::save_snapshot(path, saved, error)) << error;
    state::SnapshotContent loaded(limits);
    ASSERT_EQ(state::load_snapshot(path, loaded, error), state::LoadStatus::kLoaded) << error;
    std::filesystem::remove(path);
    ASSERT_GE(loaded.tally.services().size(), 2u);
    loaded.tally.services()[1].for_each_count(
        [&](std::string_view name, pipeline::TransferRole, std::string_view, std::uint64_t v) {
            EXPECT_EQ(v, expected.at(std::string(name))) << name;
        });
}

// Prometheus: each kFlowKind count is a kind of wiretally_flows_by_kind_total, the others have families of
// their own (bytes, packets, flows, TLS versions): no count is left without a metric.
TEST(TransferFields, EveryCountHasAMetricRole) {
    std::size_t kinds = 0;
    TransferStats{}.for_each_count([&](std::string_view name, pipeline::TransferRole role, std::string_view,
                                       std::uint64_t) {
        switch (role) {
        case pipeline::TransferRole::kVolume:
            EXPECT_TRUE(name == "connections" || name.starts_with("pkts_") || name.starts_with("bytes_")) << name;
            break;
        case pipeline::TransferRole::kTls: EXPECT_EQ(name, "tls"); break;
        case pipeline::TransferRole::kFlowKind: ++kinds; break;
        }
    });
    EXPECT_GT(kinds, 0u);
}

} // namespace
} // namespace wt::app
