// IntervalClock (issue #16): the intervals of a capture's clock that analyze's timeline counts bytes in.
// Intervals start at the whole second before the first packet, 10 ms wide, and widen through kWidthsNs
// (each a whole multiple of the one before, so that bytes filed under a narrower interval fall in exactly
// one wider one) whenever the capture would need more than kMaxIntervals. Bytes are filed in 10 ms units
// (the interval's first unit), so that widening never touches what was filed.
//
// The workers of one analyze run share one clock (they take turns on one thread); each asks it only when a
// packet passes the end of the interval it knows (Worker::flow_stage), so a packet costs one compare.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wt::pipeline {

class IntervalClock {
public:
    static constexpr std::size_t kMaxIntervals = 150;
    static constexpr std::uint64_t kMs = 1'000'000;
    static constexpr std::uint64_t kWidthsNs[] = {10 * kMs,     20 * kMs,      100 * kMs,    200 * kMs,   1000 * kMs,
                                                  2000 * kMs,   10000 * kMs,   20000 * kMs,  60000 * kMs, 120000 * kMs,
                                                  600000 * kMs, 1200000 * kMs, 3600000 * kMs};
    static constexpr std::uint64_t kUnitNs = kWidthsNs[0];

    // The first packet's time: intervals start at the whole second before it.
    void start(std::uint64_t first_ns) noexcept {
        _start_ns = first_ns - first_ns % 1'000'000'000ull;
        _width_ns = kWidthsNs[0];
        _open = 0;
        _started = true;
    }
    [[nodiscard]] bool started() const noexcept { return _started; }

    // The interval that holds ts_ns, as its first unit; end_ns gets its end. Widens the intervals when
    // ts_ns lies beyond kMaxIntervals of them. A time before the open interval gets the open one (a
    // capture whose clock went back).
    std::uint32_t unit_at(std::uint64_t ts_ns, std::uint64_t& end_ns) noexcept {
        if (ts_ns >= _start_ns) {
            while ((ts_ns - _start_ns) / _width_ns >= kMaxIntervals) {
                widen();
            }
            const std::uint64_t at = (ts_ns - _start_ns) / _width_ns;
            _open = at > _open ? at : _open;
        }
        end_ns = _start_ns + (_open + 1) * _width_ns;
        return static_cast<std::uint32_t>(_open * (_width_ns / kUnitNs));
    }

    [[nodiscard]] std::uint64_t start_ns() const noexcept { return _start_ns; }
    [[nodiscard]] std::uint64_t width_ns() const noexcept { return _width_ns; }
    // Intervals from the start to the last one a packet was in.
    [[nodiscard]] std::size_t intervals() const noexcept { return static_cast<std::size_t>(_open + 1); }
    // The interval (at the current width) of bytes filed under `unit`.
    [[nodiscard]] std::size_t interval_of(std::uint32_t unit) const noexcept {
        return static_cast<std::size_t>(static_cast<std::uint64_t>(unit) * kUnitNs / _width_ns);
    }

private:
    void widen() noexcept {
        std::uint64_t wider = _width_ns * 2; // past the list: hours, doubling
        for (const std::uint64_t w : kWidthsNs) {
            if (w > _width_ns) {
                wider = w;
                break;
            }
        }
        _open = _open * _width_ns / wider;
        _width_ns = wider;
    }

    std::uint64_t _start_ns = 0;
    std::uint64_t _width_ns = kWidthsNs[0];
    std::uint64_t _open = 0; // the latest interval a packet was in
    bool _started = false;
};

} // namespace wt::pipeline
