#include "app/live/state/service_registry.hpp"

#include <algorithm>

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

std::optional<std::int32_t> ServiceRegistry::find_ignoring_case(std::string_view name) const {
    if (const auto exact = find(name)) {
        return exact;
    }
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    std::optional<std::int32_t> found;
    for (std::size_t i = 0; i < _names.size(); ++i) {
        const std::string& n = _names[i];
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [&](char a, char b) { return lower(a) == lower(b); })) {
            if (found.has_value()) {
                return std::nullopt; // "Maps" and "MAPS" both exist: ambiguous
            }
            found = static_cast<std::int32_t>(i);
        }
    }
    return found;
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
