// Google QUIC (gQUIC) client hellos: the name a client asks for in its first packet.
//
// Three wire forms, all from Chromium's QUIC implementation (there is no RFC; the layout is
// the "QUIC Wire Layout Specification" and "QUIC Crypto" design documents, and
// draft-tsvwg-quic-protocol-00 for the frame types):
//   Q024..Q043  public header (flags, 8-byte connection ID, version "Q0xx", packet number), a
//               12-byte message authentication hash (FNV-1a-128, not verified here), before
//               Q034 a private-flags byte, then frames in the clear. A STREAM frame on stream 1
//               carries the crypto handshake message "CHLO". Frame fields are little-endian
//               before Q039 and big-endian from Q039 on.
//   Q044..Q049  an IETF-invariant long header (RFC 8999) with the DCIL/SCIL nibble byte of
//               draft-ietf-quic-transport-17, then the packet number, the 12-byte hash and the
//               same big-endian frames in the clear.
//   Q050, T050, T051  IETF draft-style Initial packets (token, varint Length, header
//               protection, AEAD_AES_128_GCM) with version-specific salts, but still gQUIC
//               frame types (transport version 50/51): CRYPTO is type 0x08. Q050 carries the
//               CHLO in it, T05x a TLS 1.3 ClientHello, whose SNI we read through parsers/tls.
//
// The CHLO (QUIC Crypto, "Handshake message format"): tag "CHLO", u16 number of entries,
// u16 padding, entries of (u32 tag, u32 end offset), then the values back to back; all
// little-endian. Tags are sorted, offsets non-decreasing (Chromium CryptoFramer).
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"
#include "parsers/quic/initial.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace wt::parsers {

inline constexpr std::uint32_t kGquicVersionQ046 = 0x51303436; // "Q046"
inline constexpr std::uint32_t kGquicVersionQ050 = 0x51303530; // "Q050"
inline constexpr std::uint32_t kGquicVersionT050 = 0x54303530; // "T050"
inline constexpr std::uint32_t kGquicVersionT051 = 0x54303531; // "T051"

enum class GquicForm : std::uint8_t {
    kPublicHeader, ///< Q024..Q043
    kLongHeader,   ///< Q044..Q049, unencrypted
    kInitial,      ///< Q050, T050, T051: protected Initial packet
    kCount
};

// "Q" or "T" followed by three ASCII digits (quic_version_name() in initial.hpp names them).
[[nodiscard]] bool is_gquic_version(std::uint32_t version) noexcept;
// The three digits as a number (Q046 -> 46), or 0 when !is_gquic_version().
[[nodiscard]] unsigned gquic_version_number(std::uint32_t version) noexcept;

struct GquicHello {
    std::uint32_t version = 0; ///< as on the wire, e.g. 0x51303433 "Q043"
    GquicForm form = GquicForm::kCount;
    DomainName sni; ///< "SNI\0" value (or the TLS server_name for T05x), bytes as sent
    bool has_sni = false;
    bool sni_truncated = false; ///< longer than DomainName: the prefix is kept
    FixedString<64> uaid;       ///< "UAID" value: the client's user agent id
    bool has_uaid = false;
    bool tls = false;            ///< T05x: `handshake` is a TLS ClientHello, not a CHLO
    std::uint16_t tag_count = 0; ///< entries in the CHLO
    // The CHLO message or the TLS ClientHello: a view into the UDP payload (unencrypted
    // forms) or into the GquicParser's scratch (Initial form), valid until its next parse().
    Bytes handshake;
};

// Parses a crypto handshake message that must be a CHLO (Bytes after its last value are
// ignored). kOk; kTruncated (shorter than its header or tag table); kUnsupported (another
// message tag, e.g. "REJ\0"); kMalformed (more than limits::kMaxGquicHandshakeTags entries,
// tags not strictly increasing, offsets decreasing or beyond the message).
// Sets sni/uaid/tag_count/handshake; leaves version/form alone.
[[nodiscard]] ParseStatus parse_gquic_chlo(Bytes message, GquicHello& out) noexcept;

// One client UDP payload of the unencrypted forms (Q024..Q049).
// kOk: a CHLO was found at offset 0 of stream 1 and parsed (out.has_sni says if it named one).
// kUnsupported: not gQUIC, no version in the header, Q050/T05x (use GquicParser), a
//   non-Initial long header, or a first packet with no CHLO at stream offset 0.
// kTruncated: the payload ends inside the header, the hash or a frame.
// kMalformed / kTooLarge: a bad frame or CHLO (see parse_gquic_chlo()), or more than
//   limits::kMaxQuicInitialFrames frames.
// Allocation-free, no crypto.
[[nodiscard]] ParseStatus parse_gquic_client_hello(Bytes udp_payload, GquicHello& out) noexcept;

// All forms, including the protected Initial packets of Q050/T050/T051, whose keys come from
// the packet's own DCID (HKDF-SHA256 as RFC 9001 section 5.2, with Google's salts), decrypted
// by the QuicInitialDecryptor that IETF QUIC uses. Owns one of those and a CRYPTO buffer,
// allocated at construction (one per worker); parse() does not allocate.
class GquicParser {
public:
    GquicParser();
    GquicParser(const GquicParser&) = delete;
    GquicParser& operator=(const GquicParser&) = delete;

    [[nodiscard]] bool ready() const noexcept { return _decryptor.ready(); }

    // As parse_gquic_client_hello(), plus for Q050/T05x Initials:
    // kOk: the CHLO / ClientHello was complete in this packet and parsed;
    // kNeedMore: it was decrypted but its handshake continues in a later packet;
    // kMalformed: AEAD authentication failed (counted in auth_failures()), reserved bits set,
    //   a bad frame, or a bad CHLO/ClientHello;
    // kTooLarge: CRYPTO data beyond limits::kMaxClientHelloSize or too many CRYPTO frames.
    // kUnsupported also for other 'Q'/'T' versions of this form (no known salt).
    [[nodiscard]] ParseStatus parse(Bytes udp_payload, GquicHello& out) noexcept;

    // The part of parse() after decryption: the frames of a Q050/T05x Initial's plaintext
    // (for tests and fuzzing, which cannot forge the AEAD). 'T' versions expect a TLS
    // ClientHello in the CRYPTO stream, others a CHLO. Same statuses as parse().
    [[nodiscard]] ParseStatus parse_initial_frames(std::uint32_t version, Bytes plaintext,
                                                   GquicHello& out) noexcept;

    [[nodiscard]] std::uint64_t auth_failures() const noexcept { return _decryptor.auth_failures(); }

private:
    ParseStatus parse_initial(Bytes udp_payload, GquicHello& out) noexcept;
    ParseStatus decrypt(Bytes packet, std::size_t pn_offset, std::uint32_t version, Bytes dcid,
                        Bytes& plaintext) noexcept;

    QuicInitialDecryptor _decryptor;          // plaintext goes to its scratch()
    std::unique_ptr<std::uint8_t[]> _crypto; // limits::kMaxClientHelloSize bytes
};

} // namespace wt::parsers
