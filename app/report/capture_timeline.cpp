#include "app/report/capture_timeline.hpp"

#include "app/report/names.hpp"

#include <algorithm>

namespace wt::app {

std::uint32_t CaptureTimelineBuilder::Keys::id(std::string_view name) {
    auto it = ids.find(std::string(name));
    if (it != ids.end()) {
        return it->second;
    }
    const auto next = static_cast<std::uint32_t>(names.size());
    names.emplace_back(name);
    ids.emplace(names.back(), next);
    return next;
}

void CaptureTimelineBuilder::add(std::span<const pipeline::IntervalBytes> log) {
    while (!log.empty()) {
        if (_log.empty() || _log.back().size() == kBlock) {
            _log.emplace_back().reserve(kBlock);
        }
        auto& block = _log.back();
        const std::size_t n = std::min(log.size(), kBlock - block.size());
        block.insert(block.end(), log.begin(), log.begin() + static_cast<std::ptrdiff_t>(n));
        log = log.subspan(n);
    }
}

void CaptureTimelineBuilder::name_flow(std::uint32_t serial, std::string_view service, std::string_view name) {
    if (serial >= _flows.size()) {
        _flows.resize(std::max<std::size_t>(serial + 1, _flows.size() * 2));
    }
    _flows[serial] = FlowKeys{_services.id(service), name.empty() ? 0 : _domains.id(name) + 1};
}

Timeline CaptureTimelineBuilder::build(const pipeline::IntervalClock& clock) const {
    Timeline t;
    t.start_ns = clock.start_ns();
    t.interval_ns = clock.width_ns();
    t.intervals = clock.intervals();
    const auto add_to = [&](TimelineSeries& s, const pipeline::IntervalBytes& e) {
        const std::size_t i = std::min<std::size_t>(clock.interval_of(e.interval), t.intervals - 1);
        s.bytes_up[i] += e.bytes_up;
        s.bytes_down[i] += e.bytes_down;
        s.total += e.bytes_up + e.bytes_down;
    };
    const auto empty_series = [&](std::string name) {
        TimelineSeries s;
        s.name = std::move(name);
        s.bytes_up.assign(t.intervals, 0);
        s.bytes_down.assign(t.intervals, 0);
        return s;
    };
    std::vector<TimelineSeries> services;
    for (const std::string& name : _services.names) {
        services.push_back(empty_series(name.empty() ? std::string("(unclassified)") : name));
    }
    // Two passes: every service's series and every name's total, then the series of the busiest names.
    std::vector<std::uint64_t> name_totals(_domains.names.size(), 0);
    for_each_logged([&](const pipeline::IntervalBytes& e) {
        if (e.flow >= _flows.size()) {
            return; // never named: cannot happen once every flow ended (flush_all)
        }
        const FlowKeys k = _flows[e.flow];
        add_to(services[k.service], e);
        if (k.name != 0) {
            name_totals[k.name - 1] += e.bytes_up + e.bytes_down;
        }
    });
    std::vector<std::uint32_t> order(name_totals.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    const auto busier = [&](std::uint32_t a, std::uint32_t b) {
        return name_totals[a] != name_totals[b] ? name_totals[a] > name_totals[b] : _domains.names[a] < _domains.names[b];
    };
    std::erase_if(order, [&](std::uint32_t i) { return name_totals[i] == 0; });
    t.domains_total = order.size();
    const std::size_t shown = std::min(order.size(), kDomainSeries);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(), busier);
    order.resize(shown);
    std::vector<std::int32_t> series_of_name(_domains.names.size(), -1);
    for (std::size_t k = 0; k < order.size(); ++k) {
        series_of_name[order[k]] = static_cast<std::int32_t>(k);
        t.domains.push_back(empty_series(_domains.names[order[k]]));
    }
    if (!order.empty()) {
        for_each_logged([&](const pipeline::IntervalBytes& e) {
            if (e.flow >= _flows.size() || _flows[e.flow].name == 0) {
                return;
            }
            const std::int32_t series = series_of_name[_flows[e.flow].name - 1];
            if (series < 0) {
                return;
            }
            add_to(t.domains[static_cast<std::size_t>(series)], e);
        });
    }
    std::erase_if(services, [](const TimelineSeries& s) { return s.total == 0; });
    std::sort(services.begin(), services.end(), [](const TimelineSeries& a, const TimelineSeries& b) {
        return a.total != b.total ? a.total > b.total : a.name < b.name;
    });
    t.services = std::move(services);
    return t;
}

namespace {

bool smaller_lane(const FlowLane& a, const FlowLane& b) {
    return a.bytes_up + a.bytes_down > b.bytes_up + b.bytes_down; // min-heap on total bytes
}

} // namespace

void FlowLaneCollector::on_interval_bytes(std::span<const pipeline::IntervalBytes> log) {
    if (_next != nullptr) {
        _next->on_interval_bytes(log);
    }
    if (_timeline != nullptr) {
        _timeline->add(log);
    }
}

void FlowLaneCollector::on_flow_serial(std::uint32_t serial, const pipeline::Flow& flow,
                                       const pipeline::FlowDetail* detail, std::string_view service) {
    if (_next != nullptr) {
        _next->on_flow_serial(serial, flow, detail, service);
    }
    if (_timeline != nullptr) {
        _timeline->name_flow(serial, service, detail != nullptr ? detail->name.view() : std::string_view());
    }
}

void FlowLaneCollector::on_flow_end(const pipeline::Flow& flow, const pipeline::FlowDetail* detail,
                                    std::string_view service, std::uint16_t opened_in) {
    if (_next != nullptr) {
        _next->on_flow_end(flow, detail, service, opened_in);
    }
    ++_seen;
    const std::uint64_t bytes = flow.bytes_up + flow.bytes_down;
    if (_cap == 0 || (_heap.size() == _cap && bytes <= _heap.front().bytes_up + _heap.front().bytes_down)) {
        return;
    }
    FlowLane lane;
    lane.first_ns = flow.ts_first_ns;
    lane.last_ns = flow.ts_last_ns;
    lane.bytes_up = flow.bytes_up;
    lane.bytes_down = flow.bytes_down;
    lane.service = std::string(service);
    lane.client = ip_text(flow.client().ip);
    lane.server = ip_text(flow.server().ip);
    lane.server_port = flow.server().port;
    lane.proto = flow.key.proto;
    lane.opened_in = opened_in;
    if (detail != nullptr) {
        lane.name = std::string(detail->name.view());
        if (detail->app != pipeline::AppProto::kUnknown) {
            lane.app = pipeline::to_string(detail->app);
        }
        if (detail->tls.server_hello_seen) {
            lane.tls_version = tls_version_text(detail->tls.negotiated_version);
        }
    }
    if (_heap.size() == _cap) {
        std::pop_heap(_heap.begin(), _heap.end(), smaller_lane);
        _heap.back() = std::move(lane);
    } else {
        _heap.push_back(std::move(lane));
    }
    std::push_heap(_heap.begin(), _heap.end(), smaller_lane);
}

FlowLanes FlowLaneCollector::take() {
    FlowLanes out;
    out.cap = _cap;
    out.flows_total = _seen;
    out.lanes = std::move(_heap);
    _heap.clear();
    std::sort(out.lanes.begin(), out.lanes.end(), [](const FlowLane& a, const FlowLane& b) {
        return a.first_ns != b.first_ns ? a.first_ns < b.first_ns : a.server < b.server;
    });
    return out;
}

} // namespace wt::app
