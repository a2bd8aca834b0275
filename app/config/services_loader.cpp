#include "app/config/services_loader.hpp"

#include "pipeline/classify/classifier.hpp"
#include "pipeline/flows/hash.hpp"
#include "pipeline/classify/services.hpp"

namespace wt::app {

LoadedServices::LoadedServices() = default;
LoadedServices::~LoadedServices() = default;
LoadedServices::LoadedServices(LoadedServices&&) noexcept = default;
LoadedServices& LoadedServices::operator=(LoadedServices&&) noexcept = default;

bool load_services(const std::string& path, LoadedServices& out, std::string& error) {
    pipeline::ServicesResult loaded = path.empty() ? pipeline::load_default_services() : pipeline::load_services_file(path);
    if (auto* e = std::get_if<pipeline::ServicesError>(&loaded)) {
        error = e->format();
        return false;
    }
    const auto& catalog = std::get<pipeline::ServiceCatalog>(loaded);
    auto built = pipeline::ServiceClassifier::build(catalog);
    if (auto* e = std::get_if<pipeline::ServicesError>(&built)) {
        error = e->format();
        return false;
    }
    out.classifier = std::make_unique<pipeline::ServiceClassifier>(std::move(std::get<pipeline::ServiceClassifier>(built)));
    out.names.clear();
    out.categories.clear();
    for (std::size_t i = 0; i < out.classifier->service_count(); ++i) {
        out.names.emplace_back(out.classifier->service_name(static_cast<std::int32_t>(i)));
        out.categories.emplace_back(out.classifier->service_category(static_cast<std::int32_t>(i)));
    }
    out.origin = path.empty() ? "embedded default" : path;
    std::uint64_t h = catalog.services.size();
    const auto mix_text = [&h](std::string_view text) { h = pipeline::hash_bytes(text.data(), text.size(), h + 1); };
    for (const pipeline::Service& s : catalog.services) {
        mix_text(s.name);
        mix_text(s.category);
        for (const pipeline::ServicePattern& p : s.patterns) {
            h = pipeline::mix64(h ^ static_cast<std::uint64_t>(p.kind));
            mix_text(p.value);
        }
    }
    out.fingerprint = h;
    return true;
}

} // namespace wt::app
