// HMAC-SHA256 (RFC 2104), HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446
// section 7.1), built on our Sha256 (sha256.hpp says why it is ours rather than libcrypto's).
//
// Used to derive QUIC Initial keys (RFC 9001 section 5.2) once per connection on the packet
// path, for IETF QUIC and Google QUIC alike; allocation-free and noexcept. Not constant-time:
// Initial secrets follow from the client's Destination Connection ID, which is on the wire
// (RFC 9001 section 5.2: Initial packets are not confidential). Tested against libcrypto's
// HMAC, HKDF and TLS13-KDF in tests/parsers/common/hkdf_test.cpp; benches/common compares the
// cost with libcrypto's EVP_KDF.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wt::parsers {

// HMAC-SHA256 with its key absorbed once: the hashes of K XOR ipad and K XOR opad (RFC 2104
// section 2) are kept, so each MAC under the same key costs two compressions fewer; HKDF
// expands several outputs from one secret.
class HmacSha256 {
public:
    // Keys longer than the 64-byte block are hashed first (RFC 2104 section 2).
    explicit HmacSha256(Bytes key) noexcept;
    // HMAC(key, parts[0] || parts[1] || ...).
    [[nodiscard]] Sha256::Digest mac(std::span<const Bytes> parts) const noexcept;

private:
    Sha256 _inner; // after K XOR ipad
    Sha256 _outer; // after K XOR opad
};

// HMAC-SHA256(key, parts[0] || parts[1] || ...), for a key used once.
[[nodiscard]] Sha256::Digest hmac_sha256(Bytes key, std::span<const Bytes> parts) noexcept;

// HKDF-Extract(salt, ikm) = HMAC-Hash(salt, ikm) (RFC 5869 section 2.2).
[[nodiscard]] Sha256::Digest hkdf_extract(Bytes salt, Bytes ikm) noexcept;

// The longest label HKDF-Expand-Label takes: opaque label<7..255> includes "tls13 ".
inline constexpr std::size_t kMaxHkdfLabelSize = 255 - 6;
// The longest output: HKDF-Expand's L <= 255 * HashLen (RFC 5869 section 2.3).
inline constexpr std::size_t kMaxHkdfOutputSize = 255 * 32;

// HKDF-Expand-Label(secret, label, context, out.size()) (RFC 8446 section 7.1), whose info is
// the HkdfLabel struct: u16 length, "tls13 " + label, context.
// False (out untouched) for a label over kMaxHkdfLabelSize, a context over 255 bytes or an
// output over kMaxHkdfOutputSize.
[[nodiscard]] bool hkdf_expand_label(const HmacSha256& secret, std::string_view label, Bytes context,
                                     std::span<std::uint8_t> out) noexcept;
[[nodiscard]] inline bool hkdf_expand_label(const Sha256::Digest& secret, std::string_view label, Bytes context,
                                            std::span<std::uint8_t> out) noexcept {
    return hkdf_expand_label(HmacSha256(secret), label, context, out);
}

} // namespace wt::parsers
