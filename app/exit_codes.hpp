// The exit codes of `wiretally analyze` and `wiretally run`: sysexits.h conventions, so that
// scripts can tell a bad capture from a bad configuration (`ctl` has its own, in
// app/control/client.hpp). app/cli/main.cpp prints them in each command's --help.
#pragma once

namespace wt::app {

enum ExitCode : int {
    kExitOk = 0,
    kExitUsage = 64,
    kExitDataError = 65,   // corrupt or non-capture input
    kExitNoInput = 66,     // missing or unreadable input
    kExitUnavailable = 69, // a server wiretally needs did not answer or refused (ClickHouse: query, --export)
    kExitSoftware = 70,    // internal failure (EAL, memory)
    kExitCantCreate = 73,  // cannot write an output file
    kExitConfig = 78,      // bad services, marks or configuration file
};

} // namespace wt::app
