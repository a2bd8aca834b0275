#include "app/offline/output_file.hpp"
#include "app/offline/diff_command.hpp"

#include "app/report/diff.hpp"
#include "app/report/html_report.hpp"

#include <system_error>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace wt::app {

namespace {

using nlohmann::json;

// Runs this binary's `analyze FILE --format json` and collects its report; its messages go to our
// stderr. Returns its exit code.
int analyze_capture(const std::string& capture, const std::string& services, std::string& report) {
    std::vector<std::string> args = {"wiretally", "analyze", capture, "--format", "json"};
    if (!services.empty()) {
        args.insert(args.end(), {"--services", services});
    }
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fmt::print(stderr, "wiretally: diff: pipe: {}\n", std::strerror(errno));
        return kExitSoftware;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        fmt::print(stderr, "wiretally: diff: cannot run analyze: {}\n", std::strerror(rc));
        return kExitSoftware;
    }
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) {
            report.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : kExitSoftware;
}

// A side: a JSON report as it is, a capture through `analyze`.
int load_side(const std::string& path, const std::string& services, json& doc) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "wiretally: {}: cannot open: {}\n", path, std::strerror(errno));
        return kExitNoInput;
    }
    char first = 0;
    while (in.get(first) && (first == ' ' || first == '\n' || first == '\r' || first == '\t')) {
    }
    std::string text;
    if (first == '{') {
        text.assign(1, first);
        text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else if (const int rc = analyze_capture(path, services, text); rc != kExitOk) {
        return rc;
    }
    doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        fmt::print(stderr, "wiretally: {}: not a JSON report (and not read as a capture)\n", path);
        return kExitDataError;
    }
    return kExitOk;
}

} // namespace

int run_diff(const DiffOptions& options) {
    json a, b;
    for (const auto& [path, doc] : {std::pair{&options.a, &a}, std::pair{&options.b, &b}}) {
        if (const int rc = load_side(*path, options.services, *doc); rc != kExitOk) {
            return rc;
        }
    }
    SessionDiff d;
    d.a_origin = options.a;
    d.b_origin = options.b;
    if (const auto e = diff_reports(a, b, d)) {
        fmt::print(stderr, "wiretally: diff: {}\n", e->message);
        return kExitDataError;
    }
    OutputFile output;
    if (std::string why; !output.open(options.output, stdout, why)) {
        fmt::print(stderr, "wiretally: {}: {}\n", options.output, why);
        return kExitCantCreate;
    }
    std::FILE* out = output.get();
    // fmt::print reports a failed write (a full disk, a closed pipe) by throwing: it is the same failure.
    bool write_failed = false;
    try {
        if (options.format == "json") {
            fmt::print(out, "{}\n", diff_to_json(d).dump(2, ' ', false, json::error_handler_t::replace));
        } else if (options.format == "html") {
            fmt::memory_buffer page;
            write_html_page(diff_to_json(d).dump(-1, ' ', false, json::error_handler_t::replace), page);
            std::fwrite(page.data(), 1, page.size(), out);
        } else {
            render_diff_table(d, out, options.top);
        }
    } catch (const std::system_error&) {
        write_failed = true;
    }
    if (!output.finish() || write_failed) {
        fmt::print(stderr, "wiretally: {}: write failed\n", output.name());
        return kExitCantCreate;
    }
    if (options.fail_on_new && !d.new_domains.empty()) {
        fmt::print(stderr, "wiretally: diff: B talks to {} domain{} A did not: {}\n", d.new_domains.size(),
                   d.new_domains.size() == 1 ? "" : "s", fmt::format("{}", fmt::join(d.new_domains, ", ")));
        return 1;
    }
    return kExitOk;
}

} // namespace wt::app
