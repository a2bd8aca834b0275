// Where an offline command writes (`analyze -o`, `--flows-out`, `diff -o`): a file it creates, or a
// standard stream for "" and "-". One place for creating, checking and closing, so that every command
// answers a full disk or a missing folder the same way (exit 73 with "FILE: write failed").
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace wt::app {

class OutputFile {
public:
    OutputFile() = default;
    ~OutputFile() {
        if (_owned) {
            std::fclose(_file);
        }
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    // `path` "" or "-": `standard` (stdout or stderr). False with "cannot create: reason" in `error`.
    bool open(const std::string& path, std::FILE* standard, std::string& error) {
        _path = path;
        if (path.empty() || path == "-") {
            _file = standard;
            return true;
        }
        _file = std::fopen(path.c_str(), "w");
        if (_file == nullptr) {
            error = std::string("cannot create: ") + std::strerror(errno);
            return false;
        }
        _owned = true;
        return true;
    }
    [[nodiscard]] std::FILE* get() const noexcept { return _file; }
    [[nodiscard]] bool is_file() const noexcept { return _owned; }
    // For messages: the file, or "standard output".
    [[nodiscard]] std::string name() const { return _owned || !(_path.empty() || _path == "-") ? _path : "standard output"; }

    // Flushes, and closes a created file; false when any write failed (the caller says "write failed").
    bool finish() {
        if (_file == nullptr) {
            return true;
        }
        bool ok = std::ferror(_file) == 0 && std::fflush(_file) == 0;
        if (_owned) {
            ok = std::fclose(_file) == 0 && ok;
            _owned = false;
        }
        _file = nullptr;
        return ok;
    }
    // Closes and removes a created file: a refused run leaves nothing behind.
    void discard() {
        if (_owned) {
            std::fclose(_file);
            std::remove(_path.c_str());
            _owned = false;
        }
        _file = nullptr;
    }

private:
    std::FILE* _file = nullptr;
    bool _owned = false;
    std::string _path;
};

} // namespace wt::app
