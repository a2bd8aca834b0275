// The dashboard's tables (`ctl report`, GET /api/report) built off the stats core. Merging the cumulative
// tally and grouping devices takes tens of milliseconds with 100k flows: on the stats core it would hold
// every control request that arrives meanwhile, once an interval while a dashboard watches. The builder
// thread reads the cumulative tally between two collects, when nothing writes it: the stats core calls
// wait() before it absorbs the workers' tallies (or changes anything else a build reads), and start()
// after. Requests take the newest tables built (latest()), at most an interval older than the counters.
#pragma once

#include "app/report/report.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace wt::app {

class DashboardBuilder {
public:
    using Build = std::function<Report()>;

    DashboardBuilder();
    ~DashboardBuilder();
    DashboardBuilder(const DashboardBuilder&) = delete;
    DashboardBuilder& operator=(const DashboardBuilder&) = delete;

    // Runs `build` on the builder's thread; its result becomes latest() as of `epoch`. A build still
    // running is waited for first.
    void start(std::uint64_t epoch, Build build);
    // Returns once no build runs.
    void wait();
    // The newest tables built and their epoch; null before the first.
    [[nodiscard]] std::pair<std::shared_ptr<const Report>, std::uint64_t> latest() const;

private:
    void run();

    mutable std::mutex _mutex;
    std::condition_variable _changed;
    Build _pending;       // under _mutex: a build asked for and not begun
    bool _busy = false;   // under _mutex: a build asked for or running
    bool _stopping = false;
    std::uint64_t _pending_epoch = 0;
    std::shared_ptr<const Report> _latest;
    std::uint64_t _latest_epoch = 0;
    std::thread _thread; // last: started once the members above exist
};

} // namespace wt::app
