// `wiretally diff A B` (issue #16): how one session differs from another (iOS against Android, app
// version A against B, before and after a firewall change). Compares two JSON reports, the machine
// form every `analyze --format json` writes, so that saved reports and fresh captures compare alike.
// No DPDK, no capture reading: app/offline/diff_command.cpp turns captures into reports first.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wt::app {

// What one session says of a service, a domain or an action's domain.
struct DiffSide {
    std::uint64_t connections = 0;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::string tls_version; // the one most connections negotiated; empty: none
    std::string cipher;      // the same for the cipher
    std::uint64_t ech = 0;   // connections offering ECH (real, GREASE or unknown)
    std::string service;     // domains: the service it was counted under; empty: unclassified
    [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_up + bytes_down; }
};

struct DiffRow {
    std::string name;
    std::optional<DiffSide> a; // absent: the name is only in B
    std::optional<DiffSide> b; // absent: only in A
    // "only_a", "only_b", "changed" (in both, with a different TLS version, cipher or ECH, or bytes or
    // connections), "same".
    [[nodiscard]] std::string change() const;
};

struct ActionDiff {
    std::string action;
    std::vector<DiffRow> domains;
};

struct SessionDiff {
    std::string a_origin, b_origin; // the files compared
    std::vector<DiffRow> services, domains;
    bool same_actions = false; // both have the same action labels: then `actions` compares them
    std::vector<ActionDiff> actions;
    std::vector<std::string> new_domains; // in B, not in A (sorted): what --fail-on-new refuses
};

struct DiffError {
    std::string message;
};

// Compares two report documents. Fails (message naming the side and the field) on a document that is
// not a wiretally report.
[[nodiscard]] std::optional<DiffError> diff_reports(const nlohmann::json& a, const nlohmann::json& b, SessionDiff& out);

// Renderings: an aligned table for people (the changes, largest first; names never cut from the left)
// and one JSON document for machines (absent sides are null).
void render_diff_table(const SessionDiff& d, std::FILE* out, std::size_t top);
[[nodiscard]] nlohmann::json diff_to_json(const SessionDiff& d);

} // namespace wt::app
