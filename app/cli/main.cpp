// wiretally: per-service traffic tallies from TLS, QUIC, DNS and HTTP names.
#include "app/offline/analyze.hpp"
#include "app/offline/diff_command.hpp"
#include "app/config/config_values.hpp"
#include "app/control/client.hpp"
#include "app/export/clickhouse_schema.hpp"
#include "app/export/fleet_query.hpp"
#include "app/config/config.hpp"
#include "app/ipdb/ip_database.hpp"
#include "app/live/run_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <rte_version.h>

namespace {

// Each command lists the exit codes it can return (ctl has its own, in app/control/client.cpp).
constexpr const char* kTopExitCodes = R"(Exit codes: see wiretally COMMAND --help.)";

constexpr const char* kAnalyzeExitCodes = R"(Exit codes:
  0   success
  64  usage error (bad command line)
  65  the capture is corrupt, not a pcap/pcapng file (gzip or zstd compressed or not), truncated
      compressed data, or of a link type wiretally does not decode
  66  the capture is missing or unreadable
  70  internal failure (out of memory, a decompressor that cannot start)
  69  --export: ClickHouse did not take every row (the message says how many and why)
  73  an output file (-o, --flows) cannot be written, or --format png: the browser drew no PNG
  78  bad services, marks or IP data file (the message gives FILE:LINE))";

constexpr const char* kDiffExitCodes = R"(Exit codes:
  0   success (the differences are printed)
  1   --fail-on-new, and B talks to a domain A did not (listed on stderr)
  64  usage error (bad command line)
  65  an input is neither a wiretally JSON report nor a capture analyze reads (or a corrupt one)
  66  an input is missing or unreadable
  70  internal failure
  73  the output file cannot be written
  78  bad services file)";

constexpr const char* kRunExitCodes = R"(Exit codes:
  0   stopped by SIGINT or SIGTERM after draining, snapshot written (--check: the configuration is valid)
  64  usage error (bad command line)
  70  the appliance could not start or run (the message names the cause: EAL, a port, memory, a socket)
  73  the snapshot cannot be written at exit
  78  bad configuration or services file, or a check of --check failed (the message gives FILE:LINE))";

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"wiretally: which cloud services a device talks to, how much, and how.\n"
                 "Names come from the TLS and QUIC SNI, DNS and HTTP Host; services are domain sets."};
    app.footer(kTopExitCodes);
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(WIRETALLY_VERSION " (") + rte_version() + ")");

    wt::app::AnalyzeOptions opt;
    std::string format = "table";
    auto* analyze = app.add_subcommand("analyze", "Analyse a pcap or pcapng capture file offline");
    analyze->footer(kAnalyzeExitCodes);
    analyze->add_option("FILE", opt.capture,
                        "capture file: pcap or pcapng, gzip or zstd compressed or not (told by its first bytes); "
                        "'-' reads standard input")
        ->required();
    analyze->add_option("--services", opt.services,
                        "services file (TOML domain sets); default: the embedded default set");
    auto* marks = analyze->add_option("--marks", opt.marks,
                                      "CSV of 'timestamp,label': epoch seconds, or +offset seconds from the first "
                                      "packet; an action lasts until the next mark, and a flow's bytes count in the "
                                      "action under way when they pass (new where it opened, reused after). "
                                      "'pcapng': the capture's packet comments (used anyway when no marks are given)");
    auto* every = analyze->add_option("--marks-every", opt.marks_every,
                                      "one action per interval from the first packet, e.g. "
                                      "30s:\"App launch,Climate,Location\"; a label is needed for every interval "
                                      "of the capture");
    marks->excludes(every);
    analyze->add_option("--format", format,
                        "report format: table, json, csv; html (one self-contained page: the timeline of bytes "
                        "per service or name with the actions as bands, a lane per connection, and every table, "
                        "sortable and filterable); png (the page's timeline drawn by headless Chromium; needs -o)")
        ->check(CLI::IsMember({"table", "json", "csv", "html", "png"}))
        ->capture_default_str();
    analyze->add_option("-o,--output", opt.output, "write the report to this file instead of standard output");
    analyze->add_flag("--timeline", opt.timeline,
                      "json: add the timeline (bytes per interval by service and by the busiest names; 1 s "
                      "intervals, doubled until the capture fits in 1024) and the flow lanes (the 2000 "
                      "connections with the most bytes); always on for html and png");
    analyze->add_option("--ipdb", opt.ipdb_files,
                        "MaxMind DB file for who hosts each server: ASN, country or city data (GeoLite2, DB-IP, "
                        "IPinfo, ip-location-db), also used to infer a CDN's service for names no pattern knows "
                        "(services' asns); repeatable, asked in order; default: the data set "
                        "scripts/ipdb/install.sh installs in " + wt::app::default_ipdb_directory());
    analyze->add_flag("--no-ipdb", [&opt](std::int64_t) { opt.use_default_ipdb = false; },
                      "no hosting data unless --ipdb names some (the servers view keeps its names and bytes; "
                      "no service is inferred from hosting)");
    analyze->add_option("--flows", opt.flows_out, "write one JSON object per flow to this file ('-' for stdout)");
    analyze->add_option("--top", opt.top_domains, "domains shown in the table report")->capture_default_str();
    analyze->add_option("--export", opt.export_url,
                        "also store the flows and the capture's tables (one interval, first to last packet) in "
                        "ClickHouse at http://HOST:PORT (tables: wiretally schema); the report is printed as usual");
    analyze->add_option("--export-database", opt.export_database, "--export's database")->capture_default_str();
    analyze->add_option("--export-user", opt.export_user, "--export's ClickHouse user")->capture_default_str();
    analyze->add_option("--export-password-file", opt.export_password_file,
                        "a file whose first line is --export-user's password");
    analyze->add_option("--appliance", opt.appliance, "--export: the appliance the rows name (default: the host name)");
    analyze->add_option("--site", opt.site, "--export: the site the rows name");
    analyze->add_option("--workers", opt.workers,
                        "worker pipelines (per-core tables as on the appliance, merged at the end)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{16}))
        ->capture_default_str();
    analyze->add_option("--max-flows", opt.max_flows, "flow table size (concurrent flows)")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 26))
        ->capture_default_str();

    wt::app::RunOptions run_opt;
    auto* run = app.add_subcommand("run", "Run the live appliance (inline or tap) until SIGINT/SIGTERM; SIGHUP "
                                          "reloads the services file");
    run->footer(kRunExitCodes);
    run->add_option("--config", run_opt.config, "configuration file (TOML)")
        ->default_str("/etc/wiretally/wiretally.toml");
    run->add_flag("--check", run_opt.check, "validate the configuration, print its effective values, and exit");

    wt::app::DiffOptions diff_opt;
    auto* diff = app.add_subcommand("diff", "Compare two sessions (captures, or JSON reports from analyze --format json): "
                                            "services and domains only in A, only in B, and in both with the change in "
                                            "bytes, connections, TLS version, cipher and ECH; per action when both have the "
                                            "same action labels");
    diff->footer(kDiffExitCodes);
    diff->add_option("A", diff_opt.a, "the first session: a capture or a JSON report")->required();
    diff->add_option("B", diff_opt.b, "the second session")->required();
    diff->add_option("--services", diff_opt.services, "services file for the captures (default: the embedded set)");
    diff->add_option("--format", diff_opt.format,
                     "output format: table, json, or html (one self-contained page: the same comparison, "
                     "sortable and filterable)")
        ->check(CLI::IsMember({"table", "json", "html"}))
        ->default_str("table");
    diff->add_option("-o,--output", diff_opt.output, "write the comparison to this file instead of standard output");
    diff->add_flag("--fail-on-new", diff_opt.fail_on_new,
                   "exit 1 when B talks to a domain A did not (an app's release pipeline)");
    diff->add_option("--top", diff_opt.top, "rows per table, changes first (1 to 1000000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->default_str("40");

    wt::app::clickhouse::SchemaOptions schema_opt;
    auto* schema = app.add_subcommand("schema", "Print the ClickHouse tables that [clickhouse] export writes (CREATE "
                                                "statements; run them with clickhouse-client --multiquery, on every "
                                                "server of a cluster)");
    schema->footer("Exit codes:\n  0   success\n  64  usage error (bad command line)");
    const auto identifier = CLI::Validator(
        [](std::string& name) { return wt::app::config_values::check_sql_identifier(name); }, "IDENTIFIER");
    schema->add_option("--database", schema_opt.database, "the database ([clickhouse] database)")
        ->check(identifier)
        ->capture_default_str();
    schema->add_option("--cluster", schema_opt.cluster,
                       "a cluster of the servers' <remote_servers>: local tables TABLE_local on each server and a "
                       "Distributed table TABLE over them (inserts and queries use TABLE)")
        ->check(identifier);

    wt::app::clickhouse::QueryOptions query_opt;
    std::string query_since = "1h";
    std::string query_config;
    auto* query = app.add_subcommand("query", "Print the tables ctl prints (services, domains, clients, servers, "
                                              "actions, devices) across every appliance that exports to one ClickHouse "
                                              "store ([clickhouse]), summed over the intervals asked for");
    query->footer("Exit codes:\n  0   success\n  64  usage error (bad command line)\n  66  the password file "
                  "cannot be read\n  69  the store cannot be reached, or refused the query (the message says why)\n"
                  "  78  the --config file is not a valid configuration");
    query->add_option("VIEW", query_opt.view, "services, domains, clients, servers, actions or devices")
        ->required()
        ->check(CLI::IsMember(wt::app::clickhouse::query_views()));
    query->add_option("--clickhouse", query_opt.url, "the store's HTTP interface, http://HOST:PORT (default: the "
                                                     "first [clickhouse] url of --config)");
    query->add_option("--config", query_config, "an appliance's configuration: its [clickhouse] url, database, user "
                                                "and password_file");
    query->add_option("--database", query_opt.database, "the database")->check(identifier)->capture_default_str();
    query->add_option("--user", query_opt.user, "the ClickHouse user")->capture_default_str();
    query->add_option("--password-file", query_opt.password_file, "a file whose first line is the user's password");
    query->add_option("--since", query_since, "intervals that began at most this long ago: 30m, 1h, 7d is 168h")
        ->capture_default_str();
    query->add_option("--site", query_opt.site, "only this site's appliances");
    query->add_option("--appliance", query_opt.appliance, "only this appliance");
    query->add_flag("--json", query_opt.json, "the rows as JSON (as ctl --json gives them)");
    query->add_option("--top", query_opt.top, "rows per table (1 to 1000000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->capture_default_str();

    wt::app::CtlInvocation ctl_inv;
    auto* ctl = wt::app::add_ctl_command(app, ctl_inv);

    app.add_subcommand("version", "Print the version")->footer("")->callback([] {
        fmt::print("wiretally {} (DPDK {})\n", WIRETALLY_VERSION, rte_version());
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : wt::app::kExitUsage;
    }
    if (analyze->parsed()) {
        opt.format = format == "json"   ? wt::app::ReportFormat::kJson
                     : format == "csv"  ? wt::app::ReportFormat::kCsv
                     : format == "html" ? wt::app::ReportFormat::kHtml
                     : format == "png"  ? wt::app::ReportFormat::kPng
                                        : wt::app::ReportFormat::kTable;
        if (opt.format == wt::app::ReportFormat::kPng && (opt.output.empty() || opt.output == "-")) {
            fmt::print(stderr, "wiretally: analyze: --format png needs -o FILE.png\n");
            return wt::app::kExitUsage;
        }
        return wt::app::run_analyze(opt);
    }
    if (run->parsed()) {
        return wt::app::run_command(run_opt);
    }
    if (diff->parsed()) {
        return wt::app::run_diff(diff_opt);
    }
    if (schema->parsed()) {
        fmt::print("{}", wt::app::clickhouse::create_statements(schema_opt));
        return 0;
    }
    if (query->parsed()) {
        const auto since = wt::app::config_values::parse_duration(query_since);
        if (!since || since->count() < 1000) {
            fmt::print(stderr, "wiretally: query: --since {}: a duration of at least 1s, such as 30m or 1h\n", query_since);
            return wt::app::kExitUsage;
        }
        query_opt.since = std::chrono::duration_cast<std::chrono::seconds>(*since);
        if (!query_config.empty()) {
            const wt::app::ConfigResult loaded = wt::app::load_config_file(query_config);
            if (const auto* e = std::get_if<wt::app::ConfigError>(&loaded)) {
                fmt::print(stderr, "wiretally: query: {}\n", e->format());
                return wt::app::kExitConfig;
            }
            const auto& c = std::get<wt::app::ApplianceConfig>(loaded);
            if (c.clickhouse.urls.empty() && query_opt.url.empty()) {
                fmt::print(stderr, "wiretally: query: {} has no [clickhouse] url; give --clickhouse URL\n", query_config);
                return wt::app::kExitUsage;
            }
            if (query_opt.url.empty()) {
                query_opt.url = c.clickhouse.urls.front();
            }
            if (query->count("--database") == 0) {
                query_opt.database = c.clickhouse.database;
            }
            if (query->count("--user") == 0) {
                query_opt.user = c.clickhouse.user;
            }
            if (query->count("--password-file") == 0) {
                query_opt.password_file = c.clickhouse.password_file;
            }
        }
        if (query_opt.url.empty()) {
            fmt::print(stderr, "wiretally: query: which store? give --clickhouse http://HOST:PORT or --config FILE\n");
            return wt::app::kExitUsage;
        }
        if (const std::string why = wt::app::config_values::check_http_url(query_opt.url); !why.empty()) {
            fmt::print(stderr, "wiretally: query: --clickhouse {}: {}\n", query_opt.url, why);
            return wt::app::kExitUsage;
        }
        return wt::app::clickhouse::run_query(query_opt);
    }
    if (ctl->parsed()) {
        ctl_inv.unexpected = ctl->remaining();
        return wt::app::run_ctl(ctl_inv);
    }
    return 0;
}
