// Loads the services file (or the embedded default) and builds the classifier.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wt::pipeline {
class ServiceClassifier;
}

namespace wt::app {

struct LoadedServices {
    std::unique_ptr<pipeline::ServiceClassifier> classifier;
    std::vector<std::string> names;
    std::vector<std::string> categories;
    std::string origin; // the file path, or "embedded default"
    // The catalog's content (names, categories, patterns in order): equal fingerprints mean a
    // reload would classify exactly as before, whatever file it came from.
    std::uint64_t fingerprint = 0;
    LoadedServices();
    ~LoadedServices();
    LoadedServices(LoadedServices&&) noexcept;
    LoadedServices& operator=(LoadedServices&&) noexcept;
};

// path empty: the embedded default. On failure, error holds "FILE:LINE: reason".
bool load_services(const std::string& path, LoadedServices& out, std::string& error);

} // namespace wt::app
