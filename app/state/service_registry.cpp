#include "app/state/service_registry.hpp"

namespace wt::app::state {

ServiceRegistry::ServiceRegistry(std::span<const std::string> names) {
    for (const std::string& name : names) {
        intern(name);
    }
}

std::int32_t ServiceRegistry::intern(std::string_view name) {
    const auto [it, fresh] = _ids.try_emplace(std::string(name), static_cast<std::int32_t>(_names.size()));
    if (fresh) {
        _names.emplace_back(name);
    }
    return it->second;
}

std::optional<std::int32_t> ServiceRegistry::find(std::string_view name) const {
    const auto it = _ids.find(std::string(name));
    if (it == _ids.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<std::int32_t> ServiceRegistry::map_for(std::span<const std::string> current_services) {
    std::vector<std::int32_t> map;
    map.reserve(current_services.size());
    for (const std::string& name : current_services) {
        map.push_back(intern(name));
    }
    return map;
}

} // namespace wt::app::state
