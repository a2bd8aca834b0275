// The pictures' data from a capture (issue #16): the bytes of each interval by service and by name, and
// the lanes of the largest connections. The workers log each flow's bytes per interval of the capture's
// clock as it goes (WorkerConfig::interval_clock) and name the flow when it ends, so that the timeline
// counts bytes under the name the flow ends with and adds up to the report's tables. Off the packet
// path (flow ends, between bursts, after the read).
#pragma once

#include "app/report/report.hpp"
#include "pipeline/tally/tally.hpp"
#include "pipeline/worker.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wt::app {

class CaptureTimelineBuilder {
public:
    // Names with a series of their own (the busiest); the rest are only in the tables.
    static constexpr std::size_t kDomainSeries = 40;

    // A batch of the workers' log.
    void add(std::span<const pipeline::IntervalBytes> log);
    // A flow has ended: its serial's bytes count under this service (empty: unclassified) and name
    // (empty: none).
    void name_flow(std::uint32_t serial, std::string_view service, std::string_view name);
    // The timeline on the run's clock (its final width).
    [[nodiscard]] Timeline build(const pipeline::IntervalClock& clock) const;

private:
    struct Keys {
        std::unordered_map<std::string, std::uint32_t> ids;
        std::vector<std::string> names;
        std::uint32_t id(std::string_view name);
    };
    struct FlowKeys {
        std::uint32_t service = 0;
        std::uint32_t name = 0; // name id + 1; 0: none
    };

    // In blocks, so that a growing log is never copied.
    static constexpr std::size_t kBlock = 1u << 16;
    std::vector<std::vector<pipeline::IntervalBytes>> _log;
    template <typename Fn>
    void for_each_logged(Fn&& fn) const {
        for (const auto& block : _log) {
            for (const pipeline::IntervalBytes& e : block) {
                fn(e);
            }
        }
    }
    std::vector<FlowKeys> _flows; // by serial
    Keys _services;
    Keys _domains;
};

// The flow lanes: the `cap` connections with the most bytes (a min-heap, so a capture of any size
// costs `cap` lanes of memory), and every flow counted. Feeds a timeline with the workers' log, and
// chains to another sink (--flows).
class FlowLaneCollector final : public pipeline::FlowSink {
public:
    static constexpr std::size_t kDefaultCap = 2000;
    FlowLaneCollector(std::size_t cap, pipeline::FlowSink* next) : _cap(cap), _next(next) {}
    void on_flow_end(const pipeline::Flow& flow, const pipeline::FlowDetail* detail, std::string_view service,
                     std::uint16_t opened_in) override;
    void on_interval_bytes(std::span<const pipeline::IntervalBytes> log) override;
    void on_flow_serial(std::uint32_t serial, const pipeline::Flow& flow, const pipeline::FlowDetail* detail,
                        std::string_view service) override;
    void set_timeline(CaptureTimelineBuilder* timeline) noexcept { _timeline = timeline; }
    // The lanes by first packet (consumes the collector).
    [[nodiscard]] FlowLanes take();

private:
    std::size_t _cap;
    pipeline::FlowSink* _next;
    CaptureTimelineBuilder* _timeline = nullptr;
    std::vector<FlowLane> _heap; // smallest total bytes on top
    std::uint64_t _seen = 0;
};

} // namespace wt::app
