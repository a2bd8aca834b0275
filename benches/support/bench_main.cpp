#include "benches/support/bench_main.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace wt::bench {
namespace {

// Forwards everything to the reporter the user asked for and keeps the runs that reported an error.
class ErrorCollectingReporter final : public benchmark::BenchmarkReporter {
public:
    explicit ErrorCollectingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : _inner(std::move(inner)) {}

    bool ReportContext(const Context& context) override {
        // The runner sets the streams on this reporter only.
        _inner->SetOutputStream(&GetOutputStream());
        _inner->SetErrorStream(&GetErrorStream());
        return _inner->ReportContext(context);
    }
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) {
                _errors.push_back(run.benchmark_name() + ": " + run.error_message);
            }
        }
        _inner->ReportRuns(runs);
    }
    void Finalize() override { _inner->Finalize(); }

    [[nodiscard]] const std::vector<std::string>& errors() const { return _errors; }

private:
    std::unique_ptr<benchmark::BenchmarkReporter> _inner;
    std::vector<std::string> _errors;
};

// --benchmark_format (the last one given wins, as in Google Benchmark), else $BENCHMARK_FORMAT, else console.
// Read before benchmark::Initialize, which removes the flags it knows from argv.
std::string requested_format(int argc, char** argv) {
    constexpr std::string_view kFlag = "--benchmark_format=";
    const char* env = std::getenv("BENCHMARK_FORMAT");
    std::string format = env != nullptr && *env != '\0' ? env : "console";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.substr(0, kFlag.size()) == kFlag) {
            format = std::string(arg.substr(kFlag.size()));
        }
    }
    return format;
}

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format) {
    if (format == "json") {
        return std::make_unique<benchmark::JSONReporter>();
    }
    if (format == "csv") {
        return std::make_unique<benchmark::CSVReporter>();
    }
    // Colour only on a terminal: meson's logs keep the output as text.
    return std::make_unique<benchmark::ConsoleReporter>(::isatty(STDOUT_FILENO) != 0
                                                            ? benchmark::ConsoleReporter::OO_Color
                                                            : benchmark::ConsoleReporter::OO_None);
}

} // namespace

bool smoke_mode() {
    const char* v = std::getenv("WT_BENCH_SMOKE");
    return v != nullptr && *v != '\0' && *v != '0';
}

int run_benchmarks(int argc, char** argv, void (*register_benchmarks)()) {
    const std::string format = requested_format(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    if (format != "console" && format != "json" && format != "csv") {
        std::fprintf(stderr, "%s: unknown --benchmark_format '%s' (console, json or csv)\n", argv[0], format.c_str());
        return 1;
    }
    if (register_benchmarks != nullptr) {
        register_benchmarks();
    }
    ErrorCollectingReporter reporter(make_reporter(format));
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (reporter.errors().empty()) {
        return 0;
    }
    std::fprintf(stderr, "%s: %zu benchmark(s) reported an error:\n", argv[0], reporter.errors().size());
    for (const std::string& e : reporter.errors()) {
        std::fprintf(stderr, "  %s\n", e.c_str());
    }
    return 1;
}

} // namespace wt::bench
