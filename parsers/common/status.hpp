// ParseStatus: the outcome every parser returns beside its result.
#pragma once

#include <cstdint>
#include <string_view>

namespace wt::parsers {

enum class ParseStatus : std::uint8_t {
    kOk,          ///< parsed; the result fields are valid
    kNeedMore,    ///< a valid prefix: more bytes of the same stream may complete it
    kTruncated,   ///< the input ends inside a structure that says it is longer
    kMalformed,   ///< a field violates its specification
    kUnsupported, ///< well-formed but a kind we do not handle (another protocol, version, type)
    kTooLarge,    ///< exceeds one of the bounds in limits.hpp
    kCount
};

[[nodiscard]] constexpr std::string_view to_string(ParseStatus s) noexcept {
    switch (s) {
    case ParseStatus::kOk: return "ok";
    case ParseStatus::kNeedMore: return "need_more";
    case ParseStatus::kTruncated: return "truncated";
    case ParseStatus::kMalformed: return "malformed";
    case ParseStatus::kUnsupported: return "unsupported";
    case ParseStatus::kTooLarge: return "too_large";
    case ParseStatus::kCount: break;
    }
    return "unknown";
}

} // namespace wt::parsers
