// QUIC Initial packets: long header parsing (RFC 9000 section 17.2), Initial key derivation
// (RFC 9001 section 5.2, RFC 9369 section 3.3), header protection removal (RFC 9001
// section 5.4) and AEAD_AES_128_GCM decryption (RFC 9001 section 5.3).
//
// Only what a passive observer needs to read a client's ClientHello: Initial packets are
// always protected with AES-128-GCM and AES-128-ECB header protection (RFC 9001 section 5),
// never ChaCha20. Crypto goes through OpenSSL libcrypto; the decryptor owns its cipher
// contexts and a plaintext scratch buffer, allocated once at construction (one per worker),
// and does not allocate per packet.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

struct evp_cipher_ctx_st; // OpenSSL's EVP_CIPHER_CTX, kept out of this header

namespace wt::parsers {

// Versions whose Initial packets we can decrypt.
inline constexpr std::uint32_t kQuicVersion1 = 0x00000001;       // RFC 9000
inline constexpr std::uint32_t kQuicVersion2 = 0x6b3343cf;       // RFC 9369
inline constexpr std::uint32_t kQuicVersion2Draft = 0x709a50c4;  // draft-ietf-quic-v2-01..07 (ngtcp2 0.12 "v2draft")
inline constexpr std::uint32_t kQuicVersionMvfst22 = 0xfaceb001; // Facebook mvfst, draft-22 based
inline constexpr std::uint32_t kQuicVersionMvfst27 = 0xfaceb002; // Facebook mvfst, draft-27 based
inline constexpr std::uint32_t kQuicVersionMvfstExp = 0xfaceb00e;

// True for the versions decrypt() and derive_initial_keys() handle: v1, v2, v2 draft,
// draft-23..34 (0xff000017..0xff000022) and mvfst 0xfaceb001/002/00e.
[[nodiscard]] bool quic_version_supported(std::uint32_t version) noexcept;

// nDPI's spelling of a version (its `quic_version` field): "V-1", "V-2", "Draft-29",
// "MVFST-22", "MVFST-27", "MVFST-EXP", "Q046", "T051", "Ver-Negotiation" (0x?a?a?a?a greasing).
// 0x709a50c4, which nDPI does not name, is "V-2-Draft"; anything else is "Unknown".
[[nodiscard]] std::string_view quic_version_name(std::uint32_t version) noexcept;

// RFC 9000 section 17.2 (v1 bit values) / RFC 9369 section 3.2 (v2 rotates them).
enum class QuicPacketType : std::uint8_t {
    kInitial,
    kZeroRtt,
    kHandshake,
    kRetry,
    kVersionNegotiation, ///< version 0 (RFC 9000 section 17.2.1)
    kCount
};

struct QuicLongHeader {
    std::uint32_t version = 0;
    std::uint8_t first_byte = 0; ///< still header-protected: only bits 0xf0 are meaningful
    QuicPacketType type = QuicPacketType::kCount;
    Bytes dcid;
    Bytes scid;
    Bytes token;                   ///< Initial only (RFC 9000 section 17.2.2)
    std::uint64_t length = 0;      ///< the Length field: packet number + protected payload
    std::size_t pn_offset = 0;     ///< offset of the (protected) packet number from the first byte
    std::size_t packet_length = 0; ///< bytes of this packet in the datagram (next coalesced packet starts here)
};

// Parses the long header at the start of `datagram`.
// kOk: every field is set (Retry: packet_length is the rest of the datagram).
// kUnsupported: a short header (form bit clear), Version Negotiation or a version we do not
//   know; `version`, `dcid` and `scid` are still set when the RFC 8999 invariants allowed it.
// kMalformed: a connection ID longer than 20 bytes for a known version (RFC 9000 section 17.2).
// kTruncated: the datagram ends inside the header or before Length bytes of packet.
// The fixed bit (0x40) is not checked: RFC 9287 lets peers grease it.
[[nodiscard]] ParseStatus parse_quic_long_header(Bytes datagram, QuicLongHeader& out) noexcept;

// Keys of one direction of the Initial packet number space (AEAD_AES_128_GCM).
struct QuicInitialKeys {
    std::array<std::uint8_t, 16> key{};
    std::array<std::uint8_t, 12> iv{};
    std::array<std::uint8_t, 16> hp{};
    std::uint32_t version = 0;
    bool valid = false;
};

// RFC 9001 section 5.2: initial_secret = HKDF-Extract(salt(version), client_dcid), then
// "client in"/"server in", then "quic key"/"quic iv"/"quic hp" ("quicv2 ..." for v2).
// `client_dcid` is the Destination Connection ID of the client's first Initial, or the one
// chosen by the server's Retry (RFC 9001 section 5.2, RFC 9000 section 17.2.5.2).
// Returns false (and out.valid = false) for an unsupported version or a DCID over 20 bytes.
// Allocation-free (parsers/common/hkdf.hpp); once per connection.
// The same derivation with an explicit salt, for QUIC variants whose salt is not in
// our version table (Google QUIC Q050/T05x use draft-style labels with their own salts).
bool derive_initial_keys_with_salt(std::span<const std::uint8_t> salt, bool v2_labels, Bytes client_dcid,
                                   bool client_side, QuicInitialKeys& out) noexcept;
bool derive_initial_keys(std::uint32_t version, Bytes client_dcid, bool client_side,
                         QuicInitialKeys& out) noexcept;

struct QuicInitialPacket {
    QuicLongHeader header;
    std::uint64_t packet_number = 0; ///< truncated value (RFC 9000 section 17.1), see decrypt()
    std::uint8_t packet_number_length = 0;
    Bytes payload; ///< the plaintext frames: a view into the caller's plaintext_out
};

class QuicInitialDecryptor {
public:
    // Allocates the two OpenSSL cipher contexts and the scratch buffer; construct once per worker
    // (and once per GquicParser, which decrypts Q050/T05x Initials through one).
    QuicInitialDecryptor();
    ~QuicInitialDecryptor();
    QuicInitialDecryptor(const QuicInitialDecryptor&) = delete;
    QuicInitialDecryptor& operator=(const QuicInitialDecryptor&) = delete;

    // False when OpenSSL could not provide AES-128-ECB/GCM; decrypt() then returns kUnsupported.
    [[nodiscard]] bool ready() const noexcept { return _ready; }

    // Removes header protection and decrypts one Initial packet that starts at packet[0]
    // (anything after its Length is ignored: the caller walks coalesced packets).
    // kOk: out is filled, out.payload views plaintext_out.
    // kUnsupported: not an Initial, keys invalid or for another version.
    // Other statuses come from parse_quic_long_header() and open().
    [[nodiscard]] ParseStatus decrypt(const QuicInitialKeys& keys, Bytes packet,
                                      std::span<std::uint8_t> plaintext_out,
                                      QuicInitialPacket& out) noexcept;

    // The protection step alone, for every packet protected as RFC 9001 section 5 describes,
    // whichever header led to it (IETF QUIC through decrypt(), Google QUIC Q050/T05x through
    // GquicParser): `packet` is exactly one packet, its protected packet number at pn_offset.
    // The packet number is used as sent (1-4 bytes, no reconstruction against a largest
    // acknowledged value): a passive observer sees a client's first Initials, numbered from 0.
    // kOk: packet_number, packet_number_length and payload (a view into plaintext_out) are set.
    // kMalformed: too short to sample (RFC 9001 section 5.4.2), AEAD authentication failure
    //   (counted in auth_failures()), an empty payload, or reserved bits set after
    //   unprotection (RFC 9000 section 17.2).
    // kTooLarge: plaintext_out is smaller than the ciphertext.
    // kUnsupported: not ready(), keys invalid, or the cipher refused the key.
    [[nodiscard]] ParseStatus open(const QuicInitialKeys& keys, Bytes packet, std::size_t pn_offset,
                                   std::span<std::uint8_t> plaintext_out, QuicInitialPacket& out) noexcept;

    [[nodiscard]] std::uint64_t auth_failures() const noexcept { return _auth_failures; }

    // A buffer of limits::kMaxQuicDatagramSize bytes for plaintext (used by the flow helper).
    [[nodiscard]] std::span<std::uint8_t> scratch() noexcept {
        return {_scratch.get(), limits::kMaxQuicDatagramSize};
    }

private:
    bool header_mask(const QuicInitialKeys& keys, Bytes sample,
                     std::array<std::uint8_t, 16>& mask) noexcept;

    evp_cipher_ctx_st* _hp_ctx = nullptr;   // AES-128-ECB, RFC 9001 section 5.4.3
    evp_cipher_ctx_st* _aead_ctx = nullptr; // AES-128-GCM, RFC 9001 section 5.3
    // Keys currently scheduled in the contexts: consecutive packets of one flow skip the
    // AES key expansion and GHASH setup.
    std::array<std::uint8_t, 16> _hp_key{};
    std::array<std::uint8_t, 16> _aead_key{};
    bool _hp_keyed = false;
    bool _aead_keyed = false;
    std::unique_ptr<std::uint8_t[]> _scratch;
    std::uint64_t _auth_failures = 0;
    bool _ready = false;
};

} // namespace wt::parsers
