// `wiretally diff A B`: two sessions compared (app/report/diff.hpp). Each side is a saved JSON report
// (`analyze --format json`) or a capture, which is analysed first by this binary's own `analyze`.
#pragma once

#include "app/exit_codes.hpp"

#include <cstddef>
#include <string>

namespace wt::app {

struct DiffOptions {
    std::string a, b;
    std::string services;     // passed to `analyze` for captures; empty: the embedded default
    std::string format = "table"; // table, json or html
    std::string output;           // the file to write; empty or "-": standard output
    bool fail_on_new = false; // exit 1 when B talks to a domain A did not
    std::size_t top = 40;
};

// The exit code: 0; 1 with fail_on_new and a new domain; 65 an input that is neither a report nor a
// capture; 66 a missing input; `analyze`'s own code when it refuses a capture.
int run_diff(const DiffOptions& options);

} // namespace wt::app
