// Small POSIX helpers shared by the control server and the ctl client.
#pragma once

#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace wt::app {

inline std::string errno_text(int error_number) {
    return std::error_code(error_number, std::generic_category()).message();
}

// Closes a descriptor on scope exit unless released.
class FdGuard {
public:
    explicit FdGuard(int fd) : _fd(fd) {}
    ~FdGuard() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    int get() const { return _fd; }
    int release() { return std::exchange(_fd, -1); }

private:
    int _fd;
};

} // namespace wt::app
