// The main() of every benchmark binary. Google Benchmark 1.7's own (BENCHMARK_MAIN) exits 0 even when a
// benchmark called state.SkipWithError because it found a wrong result; here such a run fails the binary,
// so `meson test --benchmark` and scripts/test.sh count it as failed, not passed.
#pragma once

namespace wt::bench {

// Initialises Google Benchmark from the command line (1 on an unknown argument), calls register_benchmarks
// when given, runs the selected benchmarks with the reporter --benchmark_format asks for, and returns the
// process's exit code: 0, or 1 when any benchmark reported an error (each is listed on stderr).
int run_benchmarks(int argc, char** argv, void (*register_benchmarks)() = nullptr);

// WT_BENCH_SMOKE=1 (set by `meson test --benchmark` for the benchmarks whose full sizes take minutes): the
// largest cases run at a reduced size, so that CI checks that every benchmark runs and reports.
[[nodiscard]] bool smoke_mode();

} // namespace wt::bench

#define WT_BENCHMARK_MAIN()                                                                                \
    int main(int argc, char** argv) { return ::wt::bench::run_benchmarks(argc, argv); }
