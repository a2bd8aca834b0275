// `wiretally analyze`: the offline job. Reads a capture, turns each record into
// an mbuf and runs it through the same worker path the live appliance runs.
#pragma once

#include "app/exit_codes.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace wt::app {

enum class ReportFormat { kTable, kJson, kCsv, kHtml, kPng };

struct AnalyzeOptions {
    std::string capture;
    std::string services;     // empty: the embedded default
    std::string marks;        // CSV file
    std::string marks_every;  // "30s:A,B,C"
    std::string flows_out;    // JSON lines
    std::vector<std::string> ipdb_files; // MaxMind DB files for hosting; empty: the default data set
    bool use_default_ipdb = true;
    ReportFormat format = ReportFormat::kTable;
    std::string output;       // the report's file; empty or "-": standard output (a PNG needs a file)
    bool timeline = false;    // the bytes of each interval and the flow lanes (always with html and png)
    std::size_t top_domains = 40;
    std::size_t max_flows = 1u << 18;
    std::size_t workers = 1; // worker pipelines, each with its own tables, merged at the end
    // --export: flows and the capture's tables into ClickHouse (issue #19); url empty: no export.
    std::string export_url;
    std::string export_database = "wiretally";
    std::string export_user = "default";
    std::string export_password_file;
    std::string appliance; // empty: default_appliance_name()
    std::string site;
};


int run_analyze(const AnalyzeOptions& options);

} // namespace wt::app
