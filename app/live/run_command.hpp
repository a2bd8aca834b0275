// `wiretally run [--config FILE] [--check]`.
#pragma once

#include <string>

namespace wt::app {

struct RunOptions {
    std::string config; // empty: default_config_path()
    bool check = false; // validate, print the effective configuration, exit
};

int run_command(const RunOptions& options);

} // namespace wt::app
