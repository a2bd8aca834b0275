#include "app/offline/png_render.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace wt::app {

namespace {

constexpr auto kBrowserDeadline = std::chrono::minutes(2);

std::string find_browser() {
    if (const char* set = std::getenv("WIRETALLY_CHROMIUM"); set != nullptr && *set != '\0') {
        return set;
    }
    const char* path = std::getenv("PATH");
    const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        std::size_t start = 0;
        while (start <= dirs.size()) {
            const std::size_t end = std::min(dirs.find(':', start), dirs.size());
            const std::string candidate = dirs.substr(start, end - start) + "/" + name;
            if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
            start = end + 1;
        }
    }
    return {};
}

std::string last_lines(const std::string& path, std::size_t max_chars) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text.size() > max_chars ? "..." + text.substr(text.size() - max_chars) : text;
}

bool is_png(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<char, 8> magic{};
    in.read(magic.data(), magic.size());
    return in.gcount() == 8 && std::memcmp(magic.data(), "\x89PNG\r\n\x1a\n", 8) == 0;
}

} // namespace

bool render_png(const std::string& page_path, const std::string& png_path, std::string& error) {
    const std::string browser = find_browser();
    if (browser.empty()) {
        error = "no browser to draw the PNG with: install Debian's chromium (scripts/setup.sh does), or set "
                "WIRETALLY_CHROMIUM to a Chromium or Chrome binary";
        return false;
    }
    std::error_code ec;
    const std::filesystem::path page = std::filesystem::absolute(page_path, ec);
    const std::filesystem::path png = std::filesystem::absolute(png_path, ec);
    char profile_template[] = "/tmp/wiretally-chromium-XXXXXX";
    if (::mkdtemp(profile_template) == nullptr) {
        error = fmt::format("cannot make a browser profile folder: {}", std::strerror(errno));
        return false;
    }
    const std::string profile = profile_template;
    const std::string log = profile + "/browser.log";
    std::remove(png.c_str());

    // The flags a closed machine needs (no background networking, no component updates), a new empty
    // profile, and time for the page's script to draw before the screenshot.
    std::vector<std::string> args = {browser,
                                     "--headless",
                                     "--disable-gpu",
                                     "--hide-scrollbars",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--disable-quic",
                                     "--user-data-dir=" + profile,
                                     "--window-size=1400,560",
                                     "--virtual-time-budget=10000",
                                     "--screenshot=" + png.string(),
                                     "file://" + page.string() + "?view=timeline"};
    if (::geteuid() == 0) {
        args.insert(args.begin() + 1, "--no-sandbox"); // Chromium refuses to start as root with its sandbox
    }
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, browser.c_str(), &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    const auto clean_up = [&] { std::filesystem::remove_all(profile, ec); };
    if (spawned != 0) {
        error = fmt::format("cannot start {}: {}", browser, std::strerror(spawned));
        clean_up();
        return false;
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + kBrowserDeadline;
    while (true) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (done < 0 && errno != EINTR) {
            error = fmt::format("waiting for {}: {}", browser, std::strerror(errno));
            clean_up();
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            error = fmt::format("{} did not finish the screenshot within {} s", browser,
                                std::chrono::duration_cast<std::chrono::seconds>(kBrowserDeadline).count());
            clean_up();
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!exited_ok || !is_png(png.string())) {
        error = fmt::format("{} drew no PNG ({}): {}", browser,
                            WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                              : fmt::format("signal {}", WTERMSIG(status)),
                            last_lines(log, 600));
        clean_up();
        return false;
    }
    clean_up();
    return true;
}

} // namespace wt::app
