// ServiceRegistry: the stats side's append-only list of service names. A name's
// position is its stable id for the life of the process (and of its snapshots),
// while a worker's service index is only a position in the services file loaded
// at that moment, which a reload may reorder. Each retired worker tally is
// absorbed through map_for(): worker index -> stable id.
//
// Stats side only: it allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wt::app::state {

class ServiceRegistry {
public:
    ServiceRegistry() = default;
    // Starts from known names (e.g. a snapshot's), keeping their order as ids.
    // A repeated name keeps its first id.
    explicit ServiceRegistry(std::span<const std::string> names);

    // The stable id of `name`, appending it when new.
    std::int32_t intern(std::string_view name);
    [[nodiscard]] std::optional<std::int32_t> find(std::string_view name) const;
    // What a person typed: the exact name, else the one name equal to it ignoring ASCII case.
    [[nodiscard]] std::optional<std::int32_t> find_ignoring_case(std::string_view name) const;

    // service_map for CoreTally::absorb: element i is the stable id of the services
    // file's service i. Interns names it has not seen.
    std::vector<std::int32_t> map_for(std::span<const std::string> current_services);

    // By stable id. A name is never removed or renamed.
    [[nodiscard]] const std::vector<std::string>& names() const noexcept { return _names; }
    [[nodiscard]] std::size_t size() const noexcept { return _names.size(); }

private:
    std::vector<std::string> _names;
    std::unordered_map<std::string, std::int32_t> _ids;
};

} // namespace wt::app::state
