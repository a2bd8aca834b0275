#include "app/live/dashboard_builder.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <exception>

namespace wt::app {

DashboardBuilder::DashboardBuilder() : _thread([this] { run(); }) {}

DashboardBuilder::~DashboardBuilder() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _changed.notify_all();
    _thread.join();
}

void DashboardBuilder::start(std::uint64_t epoch, Build build) {
    std::unique_lock lock(_mutex);
    _changed.wait(lock, [this] { return !_busy; });
    _pending = std::move(build);
    _pending_epoch = epoch;
    _busy = true;
    lock.unlock();
    _changed.notify_all();
}

void DashboardBuilder::wait() {
    std::unique_lock lock(_mutex);
    _changed.wait(lock, [this] { return !_busy; });
}

std::pair<std::shared_ptr<const Report>, std::uint64_t> DashboardBuilder::latest() const {
    std::lock_guard lock(_mutex);
    return {_latest, _latest_epoch};
}

void DashboardBuilder::run() {
    std::unique_lock lock(_mutex);
    for (;;) {
        _changed.wait(lock, [this] { return _stopping || _pending; });
        if (_stopping) {
            return;
        }
        Build build = std::move(_pending);
        _pending = nullptr;
        const std::uint64_t epoch = _pending_epoch;
        lock.unlock();
        std::shared_ptr<const Report> built;
        try {
            built = std::make_shared<const Report>(build());
        } catch (const std::exception& e) {
            // Out of memory for a copy: the dashboard keeps the tables it has; the next interval tries again.
            std::fprintf(stderr, "wiretally: dashboard tables not rebuilt: %s\n", e.what());
        }
        lock.lock();
        if (built) {
            _latest = std::move(built);
            _latest_epoch = epoch;
        }
        _busy = false;
        _changed.notify_all();
    }
}

} // namespace wt::app
