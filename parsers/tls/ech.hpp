// Encrypted Client Hello (RFC 9849): the ECHConfigList a server publishes (in a DNS HTTPS record's
// "ech" SvcParam, RFC 9460 section 14.3.2 key 5) and the "encrypted_client_hello" extension of a
// ClientHello. Telling real ECH from GREASE needs both: a GREASE extension (RFC 9849 section 6.2)
// is random bytes shaped like a real one, so only a configuration the client was given, whose
// public_name is the outer SNI and whose config_id is the one the client used, shows it is real.
//
// Contract: noexcept, allocation-free, never reads outside the given span, loops bounded by
// limits::kMaxEchConfigs and the input size.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"

#include <array>
#include <cstdint>

namespace wt::parsers {

// RFC 9849 section 4: the only ECHConfig version defined; clients skip configs of other versions.
inline constexpr std::uint16_t kEchConfigVersion = 0xfe0d;

// What an analyser needs from an ECHConfigList: the public_name (the name a client puts in the
// outer SNI) and the config_ids offered under it. Configs naming another public_name than the
// first one's are counted, not kept (in published lists all configs share one public name).
struct EchConfigSummary {
    DomainName public_name;                                  ///< lowercased, of the first usable config
    std::array<std::uint8_t, limits::kMaxEchConfigs> config_ids{};
    std::uint8_t config_count = 0;                           ///< entries of config_ids in use
    std::uint8_t configs_not_kept = 0;                       ///< usable configs past the cap or with another public_name
    std::uint8_t unknown_versions = 0;                       ///< configs of a version other than 0xfe0d (skipped)

    [[nodiscard]] bool has_config(std::uint8_t id) const noexcept {
        for (std::size_t i = 0; i < config_count; ++i) {
            if (config_ids[i] == id) {
                return true;
            }
        }
        return false;
    }
};

// Parses an ECHConfigList (RFC 9849 section 4: ECHConfig ECHConfigList<4..2^16-1>, its 2-byte
// length included), the value of an "ech" SvcParam. kOk with config_count 0 means every config
// had an unknown version or an unusable public_name. kMalformed: a length overruns its parent, a
// vector is below its minimum, or bytes trail the list. `out` is reset first.
[[nodiscard]] ParseStatus parse_ech_config_list(Bytes list, EchConfigSummary& out) noexcept;

// RFC 9849 section 5: ECHClientHello.type.
enum class EchHelloType : std::uint8_t { kOuter = 0, kInner = 1 };

// The outer extension's fields (section 5: cipher_suite, config_id, enc, payload).
struct EchClientHello {
    EchHelloType type = EchHelloType::kOuter;
    std::uint16_t kdf_id = 0;
    std::uint16_t aead_id = 0;
    std::uint8_t config_id = 0;
    std::uint16_t enc_length = 0;     ///< 0 in a ClientHello that follows a HelloRetryRequest
    std::uint16_t payload_length = 0;
};

// Parses the extension_data of an encrypted_client_hello extension (0xfe0d). kOk for an inner
// extension (type 1, empty body) or a complete outer one; kMalformed when a field overruns, the
// payload is empty, bytes trail, or the type is neither.
[[nodiscard]] ParseStatus parse_ech_client_hello(Bytes extension_data, EchClientHello& out) noexcept;

} // namespace wt::parsers
