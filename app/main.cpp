// wiretally: per-service traffic tallies from TLS, QUIC, DNS and HTTP names.
#include "app/analyze.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <rte_version.h>

namespace {

constexpr const char* kExitCodes = R"(Exit codes:
  0   success
  64  usage error (bad command line)
  65  the capture is corrupt or not a pcap/pcapng file
  66  the capture is missing or unreadable
  70  internal failure (DPDK EAL, memory)
  73  an output file cannot be written
  78  bad services or marks file (the message gives FILE:LINE))";

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"wiretally: which cloud services a device talks to, how much, and how.\n"
                 "Names come from the TLS and QUIC SNI, DNS and HTTP Host; services are domain sets."};
    app.footer(kExitCodes);
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(WIRETALLY_VERSION " (") + rte_version() + ")");

    wt::app::AnalyzeOptions opt;
    std::string format = "table";
    auto* analyze = app.add_subcommand("analyze", "Analyse a pcap or pcapng capture file offline");
    analyze->add_option("FILE", opt.capture, "capture file (pcap or pcapng)")->required();
    analyze->add_option("--services", opt.services,
                        "services file (TOML domain sets); default: the embedded default set");
    auto* marks = analyze->add_option("--marks", opt.marks,
                                      "CSV of 'timestamp,label': epoch seconds, or +offset seconds from the first "
                                      "packet; each flow carries the action under way when it started");
    auto* every = analyze->add_option("--marks-every", opt.marks_every,
                                      "one action per interval from the first packet, e.g. "
                                      "30s:\"App launch,Climate,Location\"");
    marks->excludes(every);
    analyze->add_option("--format", format, "report format")
        ->check(CLI::IsMember({"table", "json", "csv"}))
        ->capture_default_str();
    analyze->add_option("--flows", opt.flows_out, "write one JSON object per flow to this file ('-' for stdout)");
    analyze->add_option("--top", opt.top_domains, "domains shown in the table report")->capture_default_str();
    analyze->add_option("--workers", opt.workers,
                        "worker pipelines (per-core tables as on the appliance, merged at the end)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{16}))
        ->capture_default_str();
    analyze->add_option("--max-flows", opt.max_flows, "flow table size (concurrent flows)")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 26))
        ->capture_default_str();

    app.add_subcommand("version", "Print the version")->callback([] {
        fmt::print("wiretally {} (DPDK {})\n", WIRETALLY_VERSION, rte_version());
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : wt::app::kExitUsage;
    }
    if (analyze->parsed()) {
        opt.format = format == "json" ? wt::app::ReportFormat::kJson
                     : format == "csv" ? wt::app::ReportFormat::kCsv
                                       : wt::app::ReportFormat::kTable;
        return wt::app::run_analyze(opt);
    }
    return 0;
}
