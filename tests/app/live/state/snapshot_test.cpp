// Snapshots: exact round trip of a realistic cumulative tally, strict rejection of
// damaged files (never a crash), and atomic saves that keep the previous snapshot
// when anything fails.
#include "app/live/state/snapshot.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wt::app::state {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::TallyLimits;
using pipeline::test::describe;
using pipeline::test::feed_realistic_flows;
using pipeline::test::make_flow;
using pipeline::test::tls_detail;
using pipeline::test::v4;

TallyLimits small_limits() {
    TallyLimits l;
    l.domains = 256;
    l.client_services = 256;
    l.client_domains = 512;
    l.action_domains = 128;
    return l;
}

// A scratch directory per test, removed afterwards.
class SnapshotTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        _dir = fs::temp_directory_path() / fmt::format("wt_state_{}_{}", ::getpid(), info->name());
        fs::remove_all(_dir);
        fs::create_directories(_dir);
    }
    void TearDown() override { fs::remove_all(_dir); }

    [[nodiscard]] std::string path(std::string_view name) const { return (_dir / name).string(); }

    // A cumulative tally as the daemon would hold it: three services, action labels,
    // everything add_flow can produce.
    static SnapshotContent realistic_content() {
        SnapshotContent c(small_limits());
        c.meta.started_at_s = 1'700'000'000;
        c.meta.version = "0.1.0";
        c.service_names = {"Google Maps", "Netflix", "Vendor Telemetry"};
        c.action_labels = {"App launch", "Climate", "Location"};
        c.tally.resize_services(3);
        feed_realistic_flows(c.tally, 0, 120);
        // A name from the wire with bytes that are not text, and a quote.
        pipeline::FlowDetail odd = tls_detail("odd\"\xff\x01name.example", 0x0303, 0xc02f, "");
        c.tally.add_flow(make_flow(v4(10, 9, 9, 9), v4(8, 8, 8, 8), 2, 5, 6), &odd);
        return c;
    }

    static std::string read_text(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    static void write_text(const std::string& p, std::string_view text) {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << text;
    }

    [[nodiscard]] std::vector<std::string> tmp_files() const {
        std::vector<std::string> found;
        for (const auto& e : fs::directory_iterator(_dir)) {
            if (e.path().filename().string().find(".tmp.") != std::string::npos) {
                found.push_back(e.path().string());
            }
        }
        return found;
    }

    fs::path _dir;
};

TEST_F(SnapshotTest, RoundTripKeepsEveryCount) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    EXPECT_TRUE(tmp_files().empty());

    SnapshotContent loaded(small_limits());
    ASSERT_EQ(load_snapshot(path("snap.json"), loaded, error), LoadStatus::kLoaded) << error;
    EXPECT_EQ(loaded.service_names, saved.service_names);
    EXPECT_EQ(loaded.action_labels, saved.action_labels);
    EXPECT_EQ(loaded.meta.started_at_s, saved.meta.started_at_s);
    EXPECT_EQ(loaded.meta.version, "0.1.0");
    EXPECT_GT(loaded.meta.saved_at_s, 1'600'000'000u);
    EXPECT_EQ(loaded.entries_not_restored, 0u);
    EXPECT_EQ(describe(loaded.tally), describe(saved.tally));
    ASSERT_GT(saved.tally.domains().size(), 4u);
    ASSERT_GT(saved.tally.actions().size(), 4u);

    // Saving what was loaded gives the same tally again (the format is stable).
    ASSERT_TRUE(save_snapshot(path("again.json"), loaded, error)) << error;
    SnapshotContent again(small_limits());
    ASSERT_EQ(load_snapshot(path("again.json"), again, error), LoadStatus::kLoaded) << error;
    EXPECT_EQ(describe(again.tally), describe(saved.tally));
}

TEST_F(SnapshotTest, FileIsVersionedAndStoresServicesByName) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    const json doc = json::parse(read_text(path("snap.json")));
    EXPECT_EQ(doc["format"], "wiretally-snapshot");
    EXPECT_EQ(doc["version"], 1);
    EXPECT_EQ(doc["services"][1]["name"], "Netflix");
    EXPECT_EQ(doc["meta"]["wiretally_version"], "0.1.0");
    bool found_odd = false;
    for (const json& d : doc["domains"]) {
        EXPECT_TRUE(d["service"].is_null() || d["service"].is_string()) << "by name, never an index";
        found_odd = found_odd || d["name"].get<std::string>().find("odd") == 0;
    }
    EXPECT_TRUE(found_odd);
    EXPECT_TRUE(doc["actions"][0]["action"].is_string());
}

TEST_F(SnapshotTest, SavesFromBorrowedPiecesLikeFromContent) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    const SnapshotSource source{saved.meta, saved.service_names, saved.action_labels, saved.tally};
    ASSERT_TRUE(save_snapshot(path("nested/dir/snap.json"), source, error)) << error << " (creates the directory)";
    SnapshotContent loaded(small_limits());
    ASSERT_EQ(load_snapshot(path("nested/dir/snap.json"), loaded, error), LoadStatus::kLoaded) << error;
    EXPECT_EQ(describe(loaded.tally), describe(saved.tally));
}

TEST_F(SnapshotTest, KeyOrderDoesNotMatterButDuplicateKeysDo) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    const std::string text = read_text(path("snap.json"));
    // nlohmann writes keys sorted: entries now come before the service list.
    const std::string sorted = json::parse(text).dump(2);
    ASSERT_LT(sorted.find("\"domains\""), sorted.find("\"services\""));
    SnapshotContent loaded(small_limits());
    ASSERT_EQ(parse_snapshot(sorted, "sorted", loaded, error), LoadStatus::kLoaded) << error;
    // Stable ids may be numbered differently; what they count may not.
    const SnapshotContent renumbered = [&] {
        SnapshotContent c(small_limits());
        c.tally.resize_services(saved.service_names.size());
        c.service_names = loaded.service_names;
        std::vector<std::int32_t> map;
        for (const std::string& name : saved.service_names) {
            map.push_back(static_cast<std::int32_t>(
                std::find(loaded.service_names.begin(), loaded.service_names.end(), name) - loaded.service_names.begin()));
        }
        c.tally.absorb(saved.tally, map);
        return c;
    }();
    EXPECT_EQ(describe(loaded.tally), describe(renumbered.tally));

    std::string twice = text;
    twice.insert(twice.find("\"meta\""), "\"version\":1,");
    EXPECT_EQ(parse_snapshot(twice, "twice", loaded, error), LoadStatus::kError);
    EXPECT_EQ(error, "twice: version: listed twice");
}

TEST_F(SnapshotTest, MissingFileIsNotAnError) {
    SnapshotContent out(small_limits());
    std::string error;
    EXPECT_EQ(load_snapshot(path("never-saved.json"), out, error), LoadStatus::kMissing);
    EXPECT_NE(error.find("never-saved.json"), std::string::npos);
    EXPECT_EQ(load_snapshot(_dir.string(), out, error), LoadStatus::kError) << "a directory is not missing";
}

TEST_F(SnapshotTest, SmallerLimitsRestoreWhatFitsAndSayHowMuchDidNot) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    TallyLimits tiny = small_limits();
    tiny.client_domains = 8; // 7 usable entries
    SnapshotContent loaded(tiny);
    ASSERT_EQ(load_snapshot(path("snap.json"), loaded, error), LoadStatus::kLoaded) << error;
    EXPECT_EQ(loaded.tally.client_domains().size(), loaded.tally.client_domains().capacity());
    const std::size_t lost = saved.tally.client_domains().size() - loaded.tally.client_domains().size();
    EXPECT_GT(lost, 0u);
    EXPECT_EQ(loaded.entries_not_restored, lost);
    EXPECT_EQ(loaded.tally.table_full_drops(), saved.tally.table_full_drops() + lost);
    EXPECT_EQ(loaded.tally.total().bytes_up, saved.tally.total().bytes_up) << "totals are whole";
}

TEST_F(SnapshotTest, NamesOnlyEntriesUseAreAppended) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    json doc = json::parse(read_text(path("snap.json")));
    doc["domains"][0]["service"] = "Renamed Service";
    SnapshotContent loaded(small_limits());
    ASSERT_EQ(parse_snapshot(doc.dump(), "edited", loaded, error), LoadStatus::kLoaded) << error;
    ASSERT_EQ(loaded.service_names.size(), 4u);
    EXPECT_NE(std::find(loaded.service_names.begin(), loaded.service_names.end(), "Renamed Service"),
              loaded.service_names.end());
    EXPECT_EQ(loaded.tally.services().size(), 5u);
}

// Each damage must give kError with "ORIGIN: reason" and leave `out` empty.
struct Damage {
    const char* what;
    std::function<void(json&)> apply;
    const char* expected_in_error;
};

// Snapshots written before issue #15 kept a connection count and bytes per action and name, and had
// no device hints: they still load, into the new rows.
TEST_F(SnapshotTest, SnapshotsFromBeforePerActionAttributionStillLoad) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    json doc = json::parse(read_text(path("snap.json")));
    doc.erase("device_hints");
    ASSERT_FALSE(doc["actions"].empty());
    json old_row = {{"action", doc["actions"][0]["action"]}, {"domain", "old.example"}, {"service", nullptr},
                    {"connections", 3}, {"bytes_up", 100}, {"bytes_down", 2000}};
    doc["actions"] = json::array({old_row});
    SnapshotContent out(small_limits());
    std::string err;
    ASSERT_EQ(parse_snapshot(doc.dump(), "snap.json", out, err), LoadStatus::kLoaded) << err;
    const pipeline::MergedTally m = pipeline::merge_tallies({&out.tally});
    ASSERT_EQ(m.actions.size(), 1u);
    EXPECT_EQ(m.actions[0].name, "old.example");
    EXPECT_EQ(m.actions[0].stats.connections, 3u);
    EXPECT_EQ(m.actions[0].stats.bytes_down, 2000u);
    EXPECT_EQ(m.actions[0].connections_reused, 0u);
    EXPECT_TRUE(m.device_hints.empty());
}

TEST_F(SnapshotTest, DamagedDocumentsAreRejectedWithTheirPath) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    const json good = json::parse(read_text(path("snap.json")));
    const std::vector<Damage> damages = {
        {"other format", [](json& d) { d["format"] = "something-else"; }, "format: not a wiretally snapshot"},
        {"newer version", [](json& d) { d["version"] = 2; }, "unsupported snapshot version 2"},
        {"version as text", [](json& d) { d["version"] = "1"; }, "version: expected an unsigned integer"},
        {"no meta", [](json& d) { d.erase("meta"); }, "meta: missing"},
        {"negative count", [](json& d) { d["total"]["bytes_up"] = -5; }, "total.bytes_up: expected an unsigned integer"},
        {"fractional count", [](json& d) { d["total"]["connections"] = 1.5; }, "total.connections"},
        {"u32 overflow", [](json& d) { d["unclassified"]["tls"] = 1ull << 32; }, "unclassified.tls: 4294967296 is out of range"},
        {"unknown key", [](json& d) { d["domains"][0]["stats"]["bogus"] = 1; }, "domains[0].stats.bogus: unknown key"},
        {"unknown top-level key", [](json& d) { d["extra"] = true; }, "extra: unknown key"},
        {"services not an array", [](json& d) { d["services"] = json::object(); }, "services: expected an array"},
        {"duplicate service", [](json& d) { d["services"][1]["name"] = d["services"][0]["name"]; }, "listed twice"},
        {"empty service name", [](json& d) { d["services"][0]["name"] = ""; }, "services[0].name: empty service name"},
        {"service as index", [](json& d) { d["domains"][0]["service"] = 1; }, "domains[0].service: expected a string"},
        {"bad ip", [](json& d) { d["clients"][0]["ip"] = "10.0.0.300"; }, "clients[0].ip: \"10.0.0.300\" is not an IP"},
        {"bad mac", [](json& d) { d["clients"][1]["mac"] = "aa:bb"; }, "clients[1].mac"},
        {"long name", [](json& d) { d["domains"][0]["name"] = std::string(300, 'a'); }, "name of 300 bytes, at most 255"},
        {"empty name", [](json& d) { d["domains"][0]["name"] = ""; }, "domains[0].name: empty name"},
        {"wide character", [](json& d) { d["domains"][0]["name"] = "\xe2\x82\xac.example"; }, "above U+00FF"},
        {"unknown tls version", [](json& d) { d["total"]["tls_versions"]["TLSv9"] = 1; }, "total.tls_versions.TLSv9: unknown key"},
        {"too many ciphers", [](json& d) {
             for (int i = 0; i < 13; ++i) {
                 d["total"]["ciphers"].push_back({{"id", 100 + i}, {"count", 1}});
             }
         }, "total.ciphers"},
        {"zero cipher count", [](json& d) { d["total"]["ciphers"][0]["count"] = 0; }, "non-zero count"},
        {"cipher id > 16 bits", [](json& d) { d["total"]["ciphers"][0]["id"] = 70000; }, "total.ciphers[0].id"},
        {"both domain and hash", [](json& d) { d["client_domains"][0]["domain_hash"] = 5; }, "exactly one of"},
        {"action without label", [](json& d) { d["actions"][0].erase("action"); }, "actions[0].action: missing"},
        {"device hint with a bad MAC", [](json& d) { d["device_hints"][0]["mac"] = "02:77:00:00:00"; }, "device_hints[0].mac"},
        {"device hint from nowhere", [](json& d) { d["device_hints"][0]["sources"] = json::array({"lldp"}); },
         "unknown source \"lldp\""},
        {"device hint with a long name", [](json& d) { d["device_hints"][0]["host_name"] = std::string(65, 'x'); },
         "longer than 64 characters"},
        {"device hint with ten addresses",
         [](json& d) {
             for (int i = 0; i < 10; ++i) {
                 d["device_hints"][0]["addresses"].push_back("10.0.0." + std::to_string(i));
             }
         },
         "more than 8 addresses"},
        {"action reused_from not a label", [](json& d) { d["actions"][0]["reused_from"] = 5; }, "actions[0].reused_from"},
        {"action with more failed lookups than lookups",
         [](json& d) {
             d["actions"][0]["dns_lookups"] = 1;
             d["actions"][0]["dns_failed"] = 2;
         },
         "actions[0].dns_failed"},
        {"root not an object", [](json& d) { d = json::array(); }, "expected an object"},
    };
    for (const Damage& damage : damages) {
        json doc = good;
        damage.apply(doc);
        SnapshotContent out(small_limits());
        std::string err;
        EXPECT_EQ(parse_snapshot(doc.dump(), "snap.json", out, err), LoadStatus::kError) << damage.what;
        EXPECT_EQ(err.rfind("snap.json: ", 0), 0u) << damage.what << ": " << err;
        EXPECT_NE(err.find(damage.expected_in_error), std::string::npos) << damage.what << ": " << err;
        EXPECT_TRUE(out.service_names.empty()) << damage.what;
        EXPECT_EQ(out.tally.total().connections, 0u) << damage.what;
        EXPECT_EQ(out.tally.domains().size(), 0u) << damage.what;
    }
}

TEST_F(SnapshotTest, CorruptAndTruncatedFilesGiveTheByteOffset) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), saved, error)) << error;
    const std::string text = read_text(path("snap.json"));

    write_text(path("truncated.json"), text.substr(0, text.size() / 2));
    SnapshotContent out(small_limits());
    ASSERT_EQ(load_snapshot(path("truncated.json"), out, error), LoadStatus::kError);
    EXPECT_NE(error.find("truncated.json: invalid JSON at byte"), std::string::npos) << error;

    std::string corrupt = text;
    corrupt[100] = '\x01';
    write_text(path("corrupt.json"), corrupt);
    ASSERT_EQ(load_snapshot(path("corrupt.json"), out, error), LoadStatus::kError);
    EXPECT_NE(error.find("at byte 101"), std::string::npos) << error;

    write_text(path("empty.json"), "");
    EXPECT_EQ(load_snapshot(path("empty.json"), out, error), LoadStatus::kError);
    EXPECT_NE(error.find("empty.json: invalid JSON"), std::string::npos) << error;
}

// Every prefix of a real snapshot and every single-byte change of its first part is
// an error or a valid load; never a crash (ASan/UBSan builds make this a real check).
TEST_F(SnapshotTest, EveryPrefixAndByteFlipIsHandled) {
    SnapshotContent small(small_limits());
    small.service_names = {"A"};
    small.action_labels = {"go"};
    small.tally.resize_services(1);
    pipeline::FlowDetail d = tls_detail("a.example", 0x0304, 0x1301, "h2");
    pipeline::Flow f = make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 10, 20);
    f.action = 1;
    small.tally.add_flow(f, &d);
    small.tally.add_action_part(f, &d, 1, pipeline::ActionUse::kReused, 0);
    small.tally.add_action_part(f, nullptr, 1, pipeline::ActionUse::kNew, 1); // unnamed: under its server
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), small, error)) << error;
    const std::string text = read_text(path("snap.json"));
    SnapshotContent out(small_limits());
    std::size_t errors = 0;
    ASSERT_EQ(text.back(), '\n');
    const std::size_t document_end = text.size() - 1; // the closing brace is the last byte before the newline
    for (std::size_t n = 0; n < document_end; ++n) {
        errors += parse_snapshot(std::string_view(text).substr(0, n), "p", out, error) == LoadStatus::kError ? 1 : 0;
    }
    EXPECT_EQ(errors, document_end) << "no prefix short of the closing brace is a whole snapshot";
    for (std::size_t i = 0; i < std::min<std::size_t>(text.size(), 600); ++i) {
        for (const char replacement : {'0', '"', '{', '-', 'x', '\xff'}) {
            std::string mutated = text;
            mutated[i] = replacement;
            (void)parse_snapshot(mutated, "m", out, error);
        }
    }
}

TEST_F(SnapshotTest, FailedSaveUnderProcLeavesNothingBehind) {
    const SnapshotContent saved = realistic_content();
    std::string error;
    EXPECT_FALSE(save_snapshot("/proc/wiretally-test/snap.json", saved, error));
    EXPECT_NE(error.find("/proc/wiretally-test/snap.json: cannot create directory"), std::string::npos) << error;
    EXPECT_FALSE(fs::exists("/proc/wiretally-test"));
    EXPECT_FALSE(save_snapshot("/proc/self/snap.json", saved, error));
    EXPECT_NE(error.find("cannot create /proc/self/snap.json.tmp."), std::string::npos) << error;
}

// A write that fails half way (disk full, here RLIMIT_FSIZE) keeps the previous
// snapshot byte for byte and removes the temporary file.
TEST_F(SnapshotTest, FailedWriteKeepsTheOldSnapshot) {
    SnapshotContent old(small_limits());
    old.service_names = {"Old"};
    old.tally.resize_services(1);
    old.tally.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 0, 1, 2), nullptr);
    std::string error;
    ASSERT_TRUE(save_snapshot(path("snap.json"), old, error)) << error;
    const std::string before = read_text(path("snap.json"));

    const SnapshotContent bigger = realistic_content();
    rlimit saved_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN); // get EFBIG instead of the signal
    rlimit small_files = saved_limit;
    small_files.rlim_cur = before.size() + 10;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small_files), 0);
    const bool ok = save_snapshot(path("snap.json"), bigger, error);
    ::setrlimit(RLIMIT_FSIZE, &saved_limit);
    std::signal(SIGXFSZ, previous_handler);

    EXPECT_FALSE(ok);
    EXPECT_NE(error.find("cannot write"), std::string::npos) << error;
    EXPECT_NE(error.find(std::strerror(EFBIG)), std::string::npos) << error;
    EXPECT_TRUE(tmp_files().empty());
    EXPECT_EQ(read_text(path("snap.json")), before);
}

TEST_F(SnapshotTest, RefusesToSaveAServiceWithoutAName) {
    SnapshotContent c(small_limits());
    c.service_names = {"Only"};
    c.tally.resize_services(3);
    c.tally.add_flow(make_flow(v4(10, 0, 0, 1), v4(1, 1, 1, 1), 2, 1, 2), nullptr);
    std::string error;
    write_text(path("snap.json"), "previous");
    EXPECT_FALSE(save_snapshot(path("snap.json"), c, error));
    EXPECT_NE(error.find("service id 2"), std::string::npos) << error;
    EXPECT_EQ(read_text(path("snap.json")), "previous");
    EXPECT_TRUE(tmp_files().empty());
}

} // namespace
} // namespace wt::app::state
