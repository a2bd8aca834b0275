// ClickHouse export (issue #19): the tables and the rows agree column for column, batch ids never repeat,
// the spool keeps batches in order across restarts within its bound, and the sending thread spools what a
// failing server refuses and replays it, oldest first, once the server answers (an in-process HTTP server
// stands in for ClickHouse here; tests/e2e/clickhouse_export_test.py runs the real one).
#include "app/export/clickhouse_export.hpp"
#include "app/export/clickhouse_schema.hpp"
#include "app/export/export_rows.hpp"
#include "app/export/fleet_query.hpp"
#include "app/export/spool.hpp"
#include "tests/pipeline/tally/tally_fixtures.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/support/local_http_server.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace wt::app::clickhouse {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::test::make_flow;
using pipeline::test::tls_detail;
using pipeline::test::v4;

std::set<std::string> column_names(Table t) {
    std::set<std::string> out;
    for (const Column& c : columns(t)) {
        out.insert(std::string(c.name));
    }
    return out;
}

std::set<std::string> keys_of(const json& row) {
    std::set<std::string> out;
    for (const auto& [k, v] : row.items()) {
        out.insert(k);
    }
    return out;
}

std::vector<json> lines_of(const std::string& body) {
    std::vector<json> out;
    std::size_t start = 0;
    while (start < body.size()) {
        const std::size_t end = body.find('\n', start);
        out.push_back(json::parse(body.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/wt-export-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

pipeline::FlowRecord tls_record() {
    const pipeline::Flow f = make_flow(v4(10, 0, 0, 2), v4(93, 184, 216, 34), 0, 1200, 56000);
    pipeline::FlowDetail d = tls_detail("www.example.com", 0x0304, 0x1302, "h2");
    d.tls.client_version = 0x0303;
    d.tls.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
    return pipeline::make_flow_record(f, &d, 0, 0);
}

std::uint64_t fixed_clock() { return 1'700'000'000'000'000'000ull; }

TEST(ClickHouseSchema, LocalTablesAreReplacingMergeTreesKeyedByTheBatchRow) {
    const std::string sql = create_statements(SchemaOptions{"wt", ""});
    EXPECT_NE(sql.find("CREATE DATABASE IF NOT EXISTS `wt`;"), std::string::npos);
    EXPECT_NE(sql.find("CREATE TABLE IF NOT EXISTS `wt`.`flows`\n"), std::string::npos);
    EXPECT_NE(sql.find("CREATE TABLE IF NOT EXISTS `wt`.`intervals`\n"), std::string::npos);
    EXPECT_EQ(sql.find("Distributed"), std::string::npos);
    std::size_t engines = 0;
    for (std::size_t at = sql.find("ENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM("); at != std::string::npos;
         at = sql.find("ENGINE = ReplacingMergeTree()", at + 1)) {
        ++engines;
    }
    EXPECT_EQ(engines, 2u);
    EXPECT_NE(sql.find("ORDER BY (appliance, batch_id, row);"), std::string::npos);
}

TEST(ClickHouseSchema, ClusterGetsLocalTablesAndDistributedOnesShardedByBatch) {
    const std::string sql = create_statements(SchemaOptions{"wt", "fleet"});
    EXPECT_NE(sql.find("`wt`.`flows_local`"), std::string::npos);
    EXPECT_NE(sql.find("CREATE TABLE IF NOT EXISTS `wt`.`flows` AS `wt`.`flows_local`\n"
                       "ENGINE = Distributed(fleet, wt, flows_local, cityHash64(appliance, batch_id));"),
              std::string::npos);
    EXPECT_NE(sql.find("ENGINE = Distributed(fleet, wt, intervals_local, cityHash64(appliance, batch_id));"),
              std::string::npos);
    EXPECT_EQ(insert_target("wt", Table::kFlows), "`wt`.`flows`");
}

TEST(ClickHouseRows, FlowRowHasExactlyTheTableColumnsAndNullsForWhatIsUnknown) {
    BatchWriter writer(Table::kFlows, RowOrigin{"box-1", "hq"});
    writer.set_clock_for_test(fixed_clock);
    const Hosting hosting{15133u, "Edgecast Inc.", "US"};
    writer.add_flow(tls_record(), FlowRowNames{"Example", "", &hosting});
    pipeline::FlowRecord bare;
    bare.flow = make_flow(v4(10, 0, 0, 3), v4(10, 0, 0, 1), -1, 60, 0, 53, 17);
    writer.add_flow(bare, FlowRowNames{});
    const Batch batch = writer.take();
    ASSERT_EQ(batch.rows, 2u);
    const std::vector<json> rows = lines_of(batch.body);
    ASSERT_EQ(rows.size(), 2u);
    for (const json& row : rows) {
        EXPECT_EQ(keys_of(row), column_names(Table::kFlows));
        EXPECT_EQ(row["appliance"], "box-1");
        EXPECT_EQ(row["site"], "hq");
        EXPECT_EQ(row["batch_id"], batch.id);
    }
    EXPECT_EQ(rows[0]["row"], 0);
    EXPECT_EQ(rows[1]["row"], 1);
    EXPECT_EQ(rows[0]["name"], "www.example.com");
    EXPECT_EQ(rows[0]["tls_version"], "TLSv1.3");
    EXPECT_EQ(rows[0]["cipher"], "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(rows[0]["service"], "Example");
    EXPECT_EQ(rows[0]["asn"], 15133);
    EXPECT_EQ(rows[0]["country"], "US");
    EXPECT_EQ(rows[0]["bytes_down"], 56000);
    EXPECT_EQ(rows[0]["start"], datetime_text(rows[0]["ts_first"].get<double>()));
    EXPECT_TRUE(rows[0]["action"].is_null());
    EXPECT_TRUE(rows[1]["name"].is_null());
    EXPECT_TRUE(rows[1]["service"].is_null());
    EXPECT_TRUE(rows[1]["asn"].is_null());
    EXPECT_TRUE(rows[1]["tls_version"].is_null());
    EXPECT_EQ(rows[1]["proto"], "udp");
    // What the flow JSON says beyond ctl flows: the hello's SNI and JA4, and for the bare flow nulls.
    EXPECT_EQ(rows[0]["sni"], "www.example.com");
    EXPECT_EQ(rows[0]["client_tls_version"], "TLSv1.2");
    EXPECT_EQ(rows[0]["ja4"], "t13d1516h2_8daaf6152771_02713d6af862");
    EXPECT_TRUE(rows[1]["sni"].is_null());
    EXPECT_TRUE(rows[1]["ja4"].is_null());
    EXPECT_EQ(rows[1]["dns_answers"], json::array());
    EXPECT_EQ(rows[1]["cnames"], json::array());
}

TEST(ClickHouseRows, DnsFlowRowHasItsQuestionAnswersAndChain) {
    pipeline::FlowDetail d;
    d.app = pipeline::AppProto::kDns;
    d.name_source = pipeline::NameSource::kDnsQuery;
    d.name.assign("www.shop.example");
    d.dns.query.assign("www.shop.example");
    d.dns.query_seen = true;
    d.dns.response_seen = true;
    d.dns.qtype = 1;
    d.dns.rcode = 0;
    d.dns.answer_count = 2;
    d.dns.answers[0] = v4(10, 77, 0, 11);
    d.dns.answers[1] = v4(10, 77, 0, 12);
    ASSERT_TRUE(d.dns.cnames.push("shop.cdn.example"));
    ASSERT_TRUE(d.dns.cnames.push("edge.cdn.example"));
    const pipeline::Flow f = make_flow(v4(10, 0, 0, 2), v4(10, 0, 0, 53), -1, 60, 120, 53, 17);
    BatchWriter writer(Table::kFlows, RowOrigin{"box-1", ""});
    writer.add_flow(pipeline::make_flow_record(f, &d, 0, 0), FlowRowNames{});
    const json row = lines_of(writer.take().body).at(0);
    EXPECT_EQ(keys_of(row), column_names(Table::kFlows));
    EXPECT_EQ(row["dns_qtype"], "A");
    EXPECT_EQ(row["dns_rcode"], "NOERROR");
    EXPECT_EQ(row["dns_answers"], json::array({"10.77.0.11", "10.77.0.12"}));
    EXPECT_EQ(row["cnames"], json::array({"shop.cdn.example", "edge.cdn.example"}));
    EXPECT_EQ(row["app"], "dns");
    EXPECT_TRUE(row["ja4"].is_null());
}

TEST(ClickHouseRows, BatchIdsIncreaseStrictlyEvenWhenTheClockDoesNot) {
    BatchWriter writer(Table::kFlows, RowOrigin{"a", ""});
    writer.set_clock_for_test(fixed_clock);
    std::uint64_t last = 0;
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(writer.opened_ns(), 0u);
        writer.add_flow(tls_record(), FlowRowNames{});
        const Batch b = writer.take();
        EXPECT_GT(b.id, last);
        last = b.id;
        EXPECT_EQ(writer.take().rows, 0u); // nothing open after a take
    }
}

TEST(ClickHouseRows, IntervalRowsCoverEveryTableOfTheReport) {
    pipeline::CoreTally tally(2, pipeline::TallyLimits{});
    const pipeline::Flow f = make_flow(v4(10, 0, 0, 2), v4(93, 184, 216, 34), 1, 1200, 56000);
    const pipeline::FlowDetail d = tls_detail("www.example.com", 0x0304, 0x1302, "h2");
    tally.add_flow(f, &d);
    const pipeline::Flow g = make_flow(v4(10, 0, 0, 3), v4(1, 2, 3, 4), -1, 300, 400);
    tally.add_flow(g, nullptr);
    Report r;
    r.tally = pipeline::merge_tallies({&tally});
    r.services = {"Maps", "Example"};
    r.server_hosting.resize(r.tally.servers.size());
    r.server_hosting[0] = Hosting{64500u, "Test Net", "NL"};
    add_devices(r, OuiRegistry{});

    BatchWriter writer(Table::kIntervals, RowOrigin{"box-1", ""});
    writer.add_intervals(r, 1'700'000'000, 1'700'000'060);
    const Batch batch = writer.take();
    std::map<std::string, std::vector<json>> by_kind;
    for (const json& row : lines_of(batch.body)) {
        EXPECT_EQ(keys_of(row), column_names(Table::kIntervals)) << row.dump();
        EXPECT_EQ(row["interval_start"], "2023-11-14 22:13:20");
        EXPECT_EQ(row["interval_end"], "2023-11-14 22:14:20");
        by_kind[row["kind"].get<std::string>()].push_back(row);
    }
    ASSERT_EQ(by_kind["service"].size(), 2u); // Example and the unclassified
    std::uint64_t service_bytes = 0;
    for (const json& row : by_kind["service"]) {
        service_bytes += row["bytes_up"].get<std::uint64_t>() + row["bytes_down"].get<std::uint64_t>();
        if (row["service"].is_null()) {
            EXPECT_EQ(row["bytes_down"], 400);
        } else {
            EXPECT_EQ(row["service"], "Example");
            EXPECT_EQ(row["connections"], 1);
            EXPECT_EQ(row["tls_versions"][5], 1); // TLS 1.3's slot
            EXPECT_EQ(row["cipher_ids"], json::array({0x1302}));
            EXPECT_EQ(row["cipher_counts"], json::array({1}));
        }
    }
    EXPECT_EQ(service_bytes, 1200u + 56000u + 300u + 400u);
    ASSERT_EQ(by_kind["domain"].size(), 1u);
    EXPECT_EQ(by_kind["domain"][0]["name"], "www.example.com");
    EXPECT_EQ(by_kind["client"].size(), 2u);
    ASSERT_EQ(by_kind["server"].size(), 2u);
    EXPECT_EQ(by_kind["device"].size(), 2u);
    bool hosted = false;
    for (const json& row : by_kind["server"]) {
        hosted = hosted || (row["asn"] == 64500 && row["as_org"] == "Test Net");
    }
    EXPECT_TRUE(hosted);
    EXPECT_EQ(batch.rows, lines_of(batch.body).size());
}

Batch batch_of(std::uint64_t id, std::size_t bytes, std::uint32_t rows = 1) {
    return Batch{Table::kFlows, id, rows, std::string(bytes - 1, 'x') + "\n"};
}

TEST(ClickHouseSpool, KeepsBatchesInOrderAcrossARestart) {
    TempDir dir;
    {
        Spool spool(dir.path.string(), 1 << 20);
        std::string error;
        ASSERT_TRUE(spool.open(error)) << error;
        for (std::uint64_t id = 1; id <= 3; ++id) {
            ASSERT_TRUE(spool.push(batch_of(id, 100, static_cast<std::uint32_t>(id))));
        }
        EXPECT_EQ(spool.batches(), 3u);
        EXPECT_EQ(spool.rows(), 6u);
        EXPECT_EQ(spool.bytes(), 300u);
    }
    std::ofstream(dir.path / "notes.txt") << "left by a person";
    std::ofstream(dir.path / "00000000000000000009-flows-1-9.jsonl.tmp") << "cut short";
    Spool again(dir.path.string(), 1 << 20);
    std::string error;
    ASSERT_TRUE(again.open(error)) << error;
    EXPECT_EQ(again.counters().foreign_files, 1u);
    EXPECT_FALSE(fs::exists(dir.path / "00000000000000000009-flows-1-9.jsonl.tmp"));
    EXPECT_TRUE(fs::exists(dir.path / "notes.txt"));
    for (std::uint64_t id = 1; id <= 3; ++id) {
        const std::optional<Batch> b = again.front();
        ASSERT_TRUE(b.has_value());
        EXPECT_EQ(b->id, id);
        EXPECT_EQ(b->rows, id);
        EXPECT_EQ(b->body.size(), 100u);
        again.pop();
    }
    EXPECT_TRUE(again.empty());
    EXPECT_FALSE(again.front().has_value());
    ASSERT_TRUE(again.push(batch_of(4, 10))); // numbering goes on after the old files
    EXPECT_EQ(again.front()->id, 4u);
}

TEST(ClickHouseSpool, FullSpoolDropsTheOldestAndCountsThem) {
    TempDir dir;
    Spool spool(dir.path.string(), 250);
    std::string error;
    ASSERT_TRUE(spool.open(error)) << error;
    ASSERT_TRUE(spool.push(batch_of(1, 100, 10)));
    ASSERT_TRUE(spool.push(batch_of(2, 100, 20)));
    ASSERT_TRUE(spool.push(batch_of(3, 100, 30))); // 300 > 250: batch 1 goes
    EXPECT_EQ(spool.counters().batches_dropped, 1u);
    EXPECT_EQ(spool.counters().rows_dropped, 10u);
    EXPECT_EQ(spool.batches(), 2u);
    EXPECT_EQ(spool.front()->id, 2u);
    EXPECT_FALSE(spool.push(batch_of(4, 251, 40))); // larger than the whole spool
    EXPECT_EQ(spool.counters().rows_dropped, 50u);
    EXPECT_EQ(spool.batches(), 2u);
    // A smaller bound at the next start drops the oldest at once.
    Spool smaller(dir.path.string(), 150);
    ASSERT_TRUE(smaller.open(error)) << error;
    EXPECT_EQ(smaller.batches(), 1u);
    EXPECT_EQ(smaller.counters().rows_dropped, 20u);
    EXPECT_EQ(smaller.front()->id, 3u);
}

TEST(ClickHouseSpool, NoSpoolDropsEveryBatchAndCountsIt) {
    Spool none("", 0);
    std::string error;
    ASSERT_TRUE(none.open(error));
    EXPECT_FALSE(none.push(batch_of(1, 10, 7)));
    EXPECT_EQ(none.counters().rows_dropped, 7u);
}

TEST(ClickHouseSpool, UnwritableFolderIsAnErrorAtOpen) {
    Spool spool("/proc/wiretally-spool", 1 << 20);
    std::string error;
    EXPECT_FALSE(spool.open(error));
    EXPECT_NE(error.find("/proc/wiretally-spool"), std::string::npos);
}

TEST(ClickHouseVersion, DeduplicationTokenFrom22Point2) {
    EXPECT_FALSE(has_deduplication_token("18.16.1"));
    EXPECT_FALSE(has_deduplication_token("22.1.3.7"));
    EXPECT_TRUE(has_deduplication_token("22.2.2.1"));
    EXPECT_TRUE(has_deduplication_token("24.8.4.13"));
    EXPECT_FALSE(has_deduplication_token(""));
    EXPECT_FALSE(has_deduplication_token("garbage"));
}

// A stand-in for ClickHouse's HTTP interface: answers SELECT version(), refuses inserts while `down`,
// and keeps the bodies it took.
class FakeClickHouse {
public:
    FakeClickHouse() {
        httplib::Server& routes = _http.routes();
        routes.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
            ++version_queries;
            res.set_content(version + "\n", "text/plain");
            (void)req;
        });
        routes.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(_mutex);
            queries.push_back(req.get_param_value("query"));
            tokens.push_back(req.get_param_value("insert_deduplication_token"));
            if (down.load()) {
                res.status = 503;
                res.set_content("Code: 210. DB::NetException: down for the test", "text/plain");
                return;
            }
            bodies.push_back(req.body);
        });
        _http.start();
    }
    [[nodiscard]] std::string url() const { return _http.url(); }
    std::vector<json> rows() {
        std::lock_guard lock(_mutex);
        std::vector<json> out;
        for (const std::string& body : bodies) {
            for (json& row : lines_of(body)) {
                out.push_back(std::move(row));
            }
        }
        return out;
    }

    std::atomic<bool> down{false};
    std::atomic<int> version_queries{0};
    std::string version = "18.16.1";
    std::mutex _mutex;
    std::vector<std::string> bodies;
    std::vector<std::string> queries;
    std::vector<std::string> tokens;

private:
    wt::test::LocalHttpServer _http; // last: stopped first, before the members its handlers use
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(15000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

ClickHouseConfig config_for(const std::string& url, const fs::path& spool) {
    ClickHouseConfig c;
    c.urls = {url};
    c.database = "wt";
    c.batch_rows = 2;
    c.batch_interval = std::chrono::milliseconds(100);
    c.timeout = std::chrono::milliseconds(2000);
    c.spool = spool.string();
    c.spool_max_mb = 16;
    return c;
}

TEST(ClickHouseExport, SendsBatchesOfBatchRows) {
    FakeClickHouse server;
    TempDir dir;
    ClickHouseExport exporter(config_for(server.url(), dir.path / "spool"), RowOrigin{"box-1", "hq"});
    std::string error;
    ASSERT_TRUE(exporter.start(error)) << error;
    for (int i = 0; i < 5; ++i) {
        exporter.add_flow(tls_record(), FlowRowNames{"Example", "", nullptr});
    }
    ASSERT_TRUE(eventually([&] { return exporter.status().rows_sent == 4; }));
    exporter.poll(UINT64_MAX); // the fifth row's batch is old enough now
    ASSERT_TRUE(eventually([&] { return exporter.status().rows_sent == 5; }));
    exporter.stop(std::chrono::milliseconds(2000));
    const ExportStatus s = exporter.status();
    EXPECT_EQ(s.batches_sent, 3u);
    EXPECT_EQ(s.server_version, "18.16.1");
    EXPECT_EQ(s.batches_spooled, 0u);
    EXPECT_EQ(server.queries.front(), "INSERT INTO `wt`.`flows` FORMAT JSONEachRow");
    EXPECT_EQ(server.tokens.front(), ""); // 18.16 has no insert_deduplication_token
    EXPECT_EQ(server.rows().size(), 5u);
}

TEST(ClickHouseExport, NewServersGetTheDeduplicationToken) {
    FakeClickHouse server;
    server.version = "24.8.4.13";
    TempDir dir;
    ClickHouseExport exporter(config_for(server.url(), dir.path / "spool"), RowOrigin{"box-1", ""});
    std::string error;
    ASSERT_TRUE(exporter.start(error)) << error;
    exporter.add_flow(tls_record(), FlowRowNames{});
    exporter.add_flow(tls_record(), FlowRowNames{});
    ASSERT_TRUE(eventually([&] { return exporter.status().rows_sent == 2; }));
    exporter.stop(std::chrono::milliseconds(1000));
    ASSERT_EQ(server.tokens.size(), 1u);
    EXPECT_EQ(server.tokens[0], fmt::format("flows-{}", server.rows()[0]["batch_id"].get<std::uint64_t>()));
}

TEST(ClickHouseExport, SpoolsWhileTheServerIsDownAndReplaysInOrder) {
    FakeClickHouse server;
    TempDir dir;
    ClickHouseExport exporter(config_for(server.url(), dir.path / "spool"), RowOrigin{"box-1", ""});
    std::string error;
    ASSERT_TRUE(exporter.start(error)) << error;
    exporter.add_flow(tls_record(), FlowRowNames{});
    exporter.add_flow(tls_record(), FlowRowNames{});
    ASSERT_TRUE(eventually([&] { return exporter.status().batches_sent == 1; }));
    server.down = true;
    for (int i = 0; i < 6; ++i) {
        exporter.add_flow(tls_record(), FlowRowNames{});
    }
    ASSERT_TRUE(eventually([&] { return exporter.status().batches_spooled == 3; }));
    const ExportStatus while_down = exporter.status();
    EXPECT_EQ(while_down.spool_batches, 3u);
    EXPECT_EQ(while_down.spool_rows, 6u);
    EXPECT_GE(while_down.send_failures, 1u);
    ASSERT_TRUE(while_down.last_error.find("HTTP 503") != std::string::npos) << while_down.last_error;
    server.down = false;
    ASSERT_TRUE(eventually([&] { return exporter.status().batches_replayed == 3; }));
    exporter.stop(std::chrono::milliseconds(1000));
    const ExportStatus s = exporter.status();
    EXPECT_EQ(s.spool_batches, 0u);
    EXPECT_EQ(s.rows_sent, 8u);
    EXPECT_EQ(s.rows_dropped, 0u);
    EXPECT_TRUE(s.last_error.empty());
    // Batches arrive in the order they were made.
    std::uint64_t last = 0;
    for (const json& row : server.rows()) {
        EXPECT_GE(row["batch_id"].get<std::uint64_t>(), last);
        last = row["batch_id"].get<std::uint64_t>();
    }
    EXPECT_EQ(server.rows().size(), 8u);
}

TEST(ClickHouseExport, WhatIsLeftAtStopWaitsInTheSpoolForTheNextStart) {
    FakeClickHouse server;
    server.down = true;
    TempDir dir;
    {
        ClickHouseExport exporter(config_for(server.url(), dir.path / "spool"), RowOrigin{"box-1", ""});
        std::string error;
        ASSERT_TRUE(exporter.start(error)) << error;
        for (int i = 0; i < 3; ++i) {
            exporter.add_flow(tls_record(), FlowRowNames{});
        }
        exporter.stop(std::chrono::milliseconds(500)); // the open batch of one row is spooled too
        EXPECT_EQ(exporter.status().spool_rows, 3u);
    }
    server.down = false;
    ClickHouseExport next(config_for(server.url(), dir.path / "spool"), RowOrigin{"box-1", ""});
    std::string error;
    ASSERT_TRUE(next.start(error)) << error;
    EXPECT_EQ(next.status().spool_rows, 3u);
    ASSERT_TRUE(eventually([&] { return next.status().rows_replayed == 3; }));
    next.stop(std::chrono::milliseconds(500));
    EXPECT_EQ(server.rows().size(), 3u);
}

TEST(ClickHouseExport, UnreadablePasswordFileIsAnError) {
    TempDir dir;
    ClickHouseConfig c = config_for("http://127.0.0.1:1", dir.path / "spool");
    c.password_file = (dir.path / "missing").string();
    ClickHouseExport exporter(c, RowOrigin{"a", ""});
    std::string error;
    EXPECT_FALSE(exporter.start(error));
    EXPECT_NE(error.find("missing"), std::string::npos);
}

// `wiretally query` against a server whose answers are not what it asked for: an error or empty tables,
// never a crash (every column is read through a check of its shape).
class OddStore {
public:
    explicit OddStore(std::string answer) : _answer(std::move(answer)) {
        _http.routes().Post("/", [this](const httplib::Request&, httplib::Response& res) {
            res.set_content(_answer, "text/plain");
        });
        _http.start();
    }
    [[nodiscard]] std::string url() const { return _http.url(); }

private:
    std::string _answer;
    wt::test::LocalHttpServer _http;
};

TEST(FleetQuery, AnswersOfAnotherShapeGiveEmptyTablesNotACrash) {
    OddStore store("{\"service\":[1,2],\"tls_versions\":\"x\",\"ciphers\":[[1],\"y\"],\"appliances\":7}\n[1,2]\n\"text\"\n"
                   "{\"name\":null,\"sources\":5,\"addresses\":{\"a\":1},\"mac\":12}\n");
    for (const std::string& view : query_views()) {
        QueryOptions o;
        o.url = store.url();
        o.view = view;
        Report r;
        std::string error;
        EXPECT_TRUE(fleet_report(o, "", r, error)) << view << ": " << error;
    }
}

TEST(FleetQuery, AnAnswerThatIsNotJsonIsAnErrorNamingTheStore) {
    OddStore store("<html>502 Bad Gateway</html>\n");
    QueryOptions o;
    o.url = store.url();
    o.view = "services";
    Report r;
    std::string error;
    EXPECT_FALSE(fleet_report(o, "", r, error));
    EXPECT_NE(error.find(store.url()), std::string::npos) << error;
    EXPECT_NE(error.find("not JSON"), std::string::npos) << error;
}

} // namespace
} // namespace wt::app::clickhouse
