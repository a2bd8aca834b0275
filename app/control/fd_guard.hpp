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
    explicit FdGuard(int fd) : fd_(fd) {}
    ~FdGuard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

} // namespace wt::app
