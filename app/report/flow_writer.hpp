// FlowJsonWriter: the --flows sink, one JSON object per finished flow.
#pragma once

#include "pipeline/tally/actions.hpp"
#include "pipeline/worker.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace wt::app {

nlohmann::json flow_to_json(const pipeline::Flow& f, const pipeline::FlowDetail* d, std::string_view service,
                            const pipeline::ActionSchedule* actions, std::uint16_t opened_in);

class FlowJsonWriter final : public pipeline::FlowSink {
public:
    FlowJsonWriter(std::FILE* out, const pipeline::ActionSchedule* actions) : _out(out), _actions(actions) {}
    void on_flow_end(const pipeline::Flow& flow, const pipeline::FlowDetail* detail, std::string_view service,
                     std::uint16_t opened_in) override;
    [[nodiscard]] std::uint64_t written() const noexcept { return _written; }
    [[nodiscard]] bool failed() const noexcept { return _failed; }

private:
    std::FILE* _out;
    const pipeline::ActionSchedule* _actions;
    std::uint64_t _written = 0;
    bool _failed = false;
};

} // namespace wt::app
