// The regex dialect of the services file ("re:" patterns): Hyperscan's PCRE subset, compiled
// caseless and single-match. The services loader checks each regex with it (so that an error
// names FILE:LINE) and the classifier compiles them with the same flags.
#pragma once

#include <string>

namespace wt::pipeline {

// HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH (hs_compile flags).
[[nodiscard]] unsigned service_regex_flags() noexcept;

// Compiles one regex body as the classifier will; returns Hyperscan's message, or "" when valid.
[[nodiscard]] std::string check_service_regex(const std::string& expression);

} // namespace wt::pipeline
