// `analyze --export`: the offline worker's finished flows into ClickHouse, as the live stats core sends its
// flow records, through the same rows and the same sending thread. Chains to another sink (--flows, the
// pictures' lanes), so that one run can do both.
#pragma once

#include "app/export/clickhouse_export.hpp"
#include "app/ipdb/ip_database.hpp"
#include "pipeline/flow_record.hpp"
#include "pipeline/tally/actions.hpp"
#include "pipeline/worker.hpp"

namespace wt::app::clickhouse {

class FlowExportSink final : public pipeline::FlowSink {
public:
    FlowExportSink(ClickHouseExport& exporter, const IpDatabases& hosting, const pipeline::ActionSchedule* actions,
                   pipeline::FlowSink* next)
        : _exporter(exporter), _hosting(hosting), _actions(actions), _next(next) {}

    void on_flow_end(const pipeline::Flow& flow, const pipeline::FlowDetail* detail, std::string_view service,
                     std::uint16_t opened_in) override {
        if (_next != nullptr) {
            _next->on_flow_end(flow, detail, service, opened_in);
        }
        const pipeline::FlowRecord record = pipeline::make_flow_record(flow, detail, 0, opened_in);
        const Hosting hosting = _hosting.lookup(flow.server().ip);
        _exporter.add_flow(record, FlowRowNames{service,
                                                _actions != nullptr && opened_in != 0 ? _actions->label(opened_in)
                                                                                      : std::string_view(),
                                                &hosting});
    }
    void on_interval_bytes(std::span<const pipeline::IntervalBytes> log) override {
        if (_next != nullptr) {
            _next->on_interval_bytes(log);
        }
    }
    void on_flow_serial(std::uint32_t serial, const pipeline::Flow& flow, const pipeline::FlowDetail* detail,
                        std::string_view service) override {
        if (_next != nullptr) {
            _next->on_flow_serial(serial, flow, detail, service);
        }
    }

private:
    ClickHouseExport& _exporter;
    const IpDatabases& _hosting;
    const pipeline::ActionSchedule* _actions;
    pipeline::FlowSink* _next;
};

} // namespace wt::app::clickhouse
