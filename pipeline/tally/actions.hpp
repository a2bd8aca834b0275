// ActionSchedule: the analyst's on-screen actions on a time line. The action under way at a time
// is the last mark at or before it; before the first mark there is none. A flow is opened in the
// action under way at its first packet, and its bytes go to the actions under way as they pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wt::pipeline {

struct ActionError {
    std::string file;
    int line = 0;
    std::string message;
    [[nodiscard]] std::string format() const;
};

class ActionSchedule {
public:
    // A mark either at an absolute time or at an offset from the capture's first packet.
    struct Mark {
        bool relative = false;
        double seconds = 0; // epoch seconds, or offset seconds when relative
        std::string label;
        std::uint64_t exact_ns = 0; // an absolute time known to the nanosecond (a packet's); 0: use seconds
    };

    // CSV: "timestamp,label" per line; timestamp is epoch seconds (with fraction),
    // or an offset in seconds from the first packet written "+12.5" or "12.5s".
    // A header line, blank lines and '#' comments are skipped. Labels may be quoted.
    static std::variant<ActionSchedule, ActionError> from_csv_text(std::string_view text, std::string_view origin);
    static std::variant<ActionSchedule, ActionError> from_csv_file(const std::string& path);
    // "30s:App launch,Climate,Location": one action per interval from the first packet. A capture
    // longer than the labels cover is refused by check_every_covers (issue #15: the rest must not be
    // lumped silently into the last label).
    static std::variant<ActionSchedule, ActionError> from_every_spec(std::string_view spec);
    // Marks at packets' own times (pcapng packet comments, issue #15): each action starts with the
    // packet that carries its label. Any order; empty labels are skipped.
    static ActionSchedule from_timed_labels(std::vector<std::pair<std::uint64_t, std::string>> marks);
    // For a schedule from from_every_spec: an error giving both counts when a capture spanning
    // first_ns..last_ns has more intervals than the schedule has labels; nullopt otherwise (and
    // for a schedule from a marks file).
    [[nodiscard]] std::optional<ActionError> check_every_covers(std::uint64_t first_ns, std::uint64_t last_ns) const;

    // Fixes relative marks once the capture's first timestamp is known.
    void anchor(std::uint64_t first_packet_ns);
    // Appends a mark at ts_ns (live `mark LABEL`). Marks must not go back in time.
    void add(std::uint64_t ts_ns, std::string label);

    // 0 = no action, else 1 + index into labels().
    [[nodiscard]] std::uint16_t action_at(std::uint64_t ts_ns) const noexcept;
    // The action under way at ts_ns and the stretch of time it holds, [from_ns, until_ns): a worker
    // keeps it and looks again only for a packet outside it (issue #15: bytes go to the action
    // under way when they pass, so every packet needs it).
    struct Span {
        std::uint16_t action = 0;
        std::uint64_t from_ns = 0;
        std::uint64_t until_ns = 0;
    };
    [[nodiscard]] Span span_at(std::uint64_t ts_ns) const noexcept;
    [[nodiscard]] const std::vector<std::string>& labels() const noexcept { return _labels; }
    [[nodiscard]] std::string_view label(std::uint16_t action) const noexcept;
    [[nodiscard]] bool empty() const noexcept { return _marks.empty(); }
    [[nodiscard]] const std::vector<Mark>& marks() const noexcept { return _marks; }
    [[nodiscard]] std::uint64_t mark_ns(std::size_t i) const noexcept { return _times[i]; }

private:
    std::uint16_t label_index(const std::string& label);

    std::vector<Mark> _marks;
    std::vector<std::uint64_t> _times;     // resolved, sorted
    std::vector<std::uint16_t> _mark_label; // label index per resolved mark
    std::vector<std::string> _labels;
    bool _anchored = false;
    double _every_s = 0; // from_every_spec's interval; 0 for marks from a file
};

} // namespace wt::pipeline
