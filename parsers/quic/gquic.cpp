#include "parsers/quic/gquic.hpp"

#include "parsers/tls/client_hello.hpp"

#include "parsers/quic/initial.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace wt::parsers {
namespace {

constexpr std::size_t kMessageHashSize = 12; // FNV-1a-128 truncated to 96 bits (unencrypted packets)
constexpr std::uint32_t kCryptoStreamId = 1; // gQUIC: the crypto handshake runs on stream 1

// Tags are four ASCII bytes read as a little-endian u32 (QUIC Crypto, "Tags").
constexpr std::uint32_t make_tag(const char (&s)[5]) noexcept {
    return std::uint32_t{static_cast<std::uint8_t>(s[0])} | (std::uint32_t{static_cast<std::uint8_t>(s[1])} << 8) |
           (std::uint32_t{static_cast<std::uint8_t>(s[2])} << 16) |
           (std::uint32_t{static_cast<std::uint8_t>(s[3])} << 24);
}
constexpr std::uint32_t kTagChlo = make_tag("CHLO");
constexpr std::uint32_t kTagSni = make_tag("SNI\0");
constexpr std::uint32_t kTagUaid = make_tag("UAID");

bool read_le(ByteReader& r, std::size_t n, std::uint64_t& out) noexcept {
    Bytes b;
    if (!r.read_bytes(n, b)) {
        return false;
    }
    std::uint64_t v = 0;
    for (std::size_t i = n; i > 0; --i) {
        v = (v << 8) | b[i - 1];
    }
    out = v;
    return true;
}

bool read_be(ByteReader& r, std::size_t n, std::uint64_t& out) noexcept {
    Bytes b;
    if (!r.read_bytes(n, b)) {
        return false;
    }
    std::uint64_t v = 0;
    for (const std::uint8_t x : b) {
        v = (v << 8) | x;
    }
    out = v;
    return true;
}

bool read_uint(ByteReader& r, std::size_t n, bool big_endian, std::uint64_t& out) noexcept {
    return big_endian ? read_be(r, n, out) : read_le(r, n, out);
}

// Header and tag table of a handshake message. `need` is the whole message length the
// table declares (header + table + last end offset).
ParseStatus chlo_layout(Bytes message, std::uint16_t& entries, std::size_t& need) noexcept {
    ByteReader r(message);
    std::uint64_t tag = 0;
    std::uint64_t n = 0;
    if (!read_le(r, 4, tag) || !read_le(r, 2, n) || !r.skip(2)) {
        return ParseStatus::kTruncated;
    }
    if (tag != kTagChlo) {
        return ParseStatus::kUnsupported;
    }
    // Chromium CryptoFramer: more than kMaxEntries is an error, not a truncated read.
    if (n > limits::kMaxGquicHandshakeTags) {
        return ParseStatus::kMalformed;
    }
    entries = static_cast<std::uint16_t>(n);
    const std::size_t table = 8 * static_cast<std::size_t>(n);
    if (table > r.remaining()) {
        return ParseStatus::kTruncated;
    }
    std::uint32_t last_end = 0;
    if (n > 0) {
        const Bytes last = r.rest().subspan(table - 4, 4);
        last_end = std::uint32_t{last[0]} | (std::uint32_t{last[1]} << 8) | (std::uint32_t{last[2]} << 16) |
                   (std::uint32_t{last[3]} << 24);
    }
    need = 8 + table + last_end;
    return ParseStatus::kOk;
}

// --- Initial salts --------------------------------------------------------------------------

using Salt = std::array<std::uint8_t, 20>;

// Google's Initial salts (Chromium quic_versions.cc / Wireshark packet-quic.c); the key
// schedule is otherwise draft-ietf-quic-tls-23..29 section 5.2 ("client in", "quic key", ...).
constexpr Salt kSaltQ050 = {0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
                            0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45};
constexpr Salt kSaltT050 = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                            0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr Salt kSaltT051 = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                            0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

const Salt* initial_salt(std::uint32_t version) noexcept {
    switch (version) {
    case kGquicVersionQ050: return &kSaltQ050;
    case kGquicVersionT050: return &kSaltT050;
    case kGquicVersionT051: return &kSaltT051;
    default: return nullptr;
    }
}

// CRYPTO data of one packet, placed at its stream offsets in a fixed buffer.
class CryptoCollector {
public:
    explicit CryptoCollector(std::span<std::uint8_t> buffer) noexcept : _buf(buffer) {}

    ParseStatus add(std::uint64_t offset, Bytes data) noexcept {
        if (_count == _ranges.size()) {
            return ParseStatus::kTooLarge;
        }
        if (offset > _buf.size() || data.size() > _buf.size() - offset) {
            return ParseStatus::kTooLarge;
        }
        std::copy(data.begin(), data.end(), _buf.begin() + static_cast<std::ptrdiff_t>(offset));
        _ranges[_count++] = {static_cast<std::size_t>(offset), static_cast<std::size_t>(offset) + data.size()};
        return ParseStatus::kOk;
    }

    // Bytes from offset 0 up to the first gap. Each pass extends the prefix by at least one
    // range or stops, so _count passes suffice.
    [[nodiscard]] Bytes contiguous() const noexcept {
        std::size_t end = 0;
        for (std::size_t pass = 0; pass < _count; ++pass) {
            bool grew = false;
            for (std::size_t i = 0; i < _count; ++i) {
                if (_ranges[i].first <= end && _ranges[i].second > end) {
                    end = _ranges[i].second;
                    grew = true;
                }
            }
            if (!grew) {
                break;
            }
        }
        return {_buf.data(), end};
    }

private:
    std::span<std::uint8_t> _buf;
    std::array<std::pair<std::size_t, std::size_t>, limits::kMaxQuicCryptoFrames> _ranges{};
    std::size_t _count = 0;
};

// Frames of an unencrypted Q024..Q049 packet (draft-tsvwg-quic-protocol-00 section 9 types;
// Q039 switched multi-byte frame fields to big-endian). Returns the CHLO's parse status.
ParseStatus walk_plain_frames(ByteReader r, unsigned version_number, std::size_t pn_length,
                              GquicHello& out) noexcept {
    const bool big_endian = version_number >= 39;
    for (std::size_t i = 0; i < limits::kMaxQuicInitialFrames; ++i) {
        std::uint8_t type = 0;
        if (!r.read_u8(type)) {
            // A packet carries at least one frame: nothing after the hash is a cut packet.
            return i == 0 ? ParseStatus::kTruncated : ParseStatus::kUnsupported;
        }
        if ((type & 0x80) != 0) {
            // STREAM: 1 F D OOO SS. D: 2-byte data length present; OOO: offset length 0 or
            // 2..8; SS: stream id length 1..4.
            const std::size_t offset_bits = (type >> 2) & 0x07;
            const std::size_t offset_len = offset_bits == 0 ? 0 : offset_bits + 1;
            const std::size_t id_len = (type & 0x03) + 1;
            std::uint64_t stream_id = 0;
            std::uint64_t offset = 0;
            std::uint64_t length = 0;
            if (!read_uint(r, id_len, big_endian, stream_id) || !read_uint(r, offset_len, big_endian, offset)) {
                return ParseStatus::kTruncated;
            }
            if ((type & 0x20) != 0) {
                if (!read_uint(r, 2, big_endian, length)) {
                    return ParseStatus::kTruncated;
                }
            } else {
                length = r.remaining(); // no length: the frame runs to the end of the packet
            }
            Bytes data;
            if (!r.read_bytes(static_cast<std::size_t>(length), data)) {
                return ParseStatus::kTruncated;
            }
            if (stream_id == kCryptoStreamId && offset == 0) {
                return parse_gquic_chlo(data, out);
            }
            continue;
        }
        switch (type) {
        case 0x00: // PADDING: in gQUIC it fills the rest of the packet
            return ParseStatus::kUnsupported;
        case 0x07: // PING: type byte only
            break;
        case 0x06: // STOP_WAITING: least-unacked delta (packet number length), entropy before Q034
            if (!r.skip(pn_length + (version_number < 34 ? 1 : 0))) {
                return ParseStatus::kTruncated;
            }
            break;
        default: // ACK and the rest do not precede a client's first CHLO
            return ParseStatus::kUnsupported;
        }
    }
    return ParseStatus::kTooLarge;
}

// Q024..Q043: flags, connection id, version, packet number, hash, [private flags], frames.
ParseStatus parse_public_header(Bytes payload, GquicHello& out) noexcept {
    ByteReader r(payload);
    std::uint8_t flags = 0;
    if (!r.read_u8(flags)) {
        return ParseStatus::kTruncated;
    }
    // 0x01 version present (every client packet before the handshake completes), 0x02 public reset.
    if ((flags & 0x01) == 0 || (flags & 0x02) != 0) {
        return ParseStatus::kUnsupported;
    }
    // Connection id bits 0x0c: Q033+ set 0x08 for 8 bytes (0x04 is then the server-only
    // diversification nonce); earlier versions used 0x0c = 8, 0x08 = 4, 0x04 = 1. Clients of
    // both eras send 8-byte ids (0x0c or 0x08); 0x04 alone is the old 1-byte form.
    const unsigned cid_bits = (flags >> 2) & 0x03;
    const std::size_t cid_len = cid_bits >= 2 ? 8 : cid_bits;
    std::uint32_t version = 0;
    if (!r.skip(cid_len) || !r.read_u32(version)) {
        return ParseStatus::kTruncated;
    }
    const unsigned number = gquic_version_number(version);
    if (number == 0 || (version >> 24) != 'Q' || number >= 50) {
        return ParseStatus::kUnsupported;
    }
    out.version = version;
    out.form = GquicForm::kPublicHeader;
    // Packet number length bits 0x30: 1, 2, 4 or 6 bytes.
    constexpr std::array<std::size_t, 4> kPnLength = {1, 2, 4, 6};
    const std::size_t pn_len = kPnLength[(flags >> 4) & 0x03];
    // Q034 removed the private flags byte (entropy) after the hash.
    const std::size_t private_flags = number < 34 ? 1 : 0;
    if (!r.skip(pn_len) || !r.skip(kMessageHashSize) || !r.skip(private_flags)) {
        return ParseStatus::kTruncated;
    }
    return walk_plain_frames(r, number, pn_len, out);
}

// Q044..Q049: RFC 8999 long header with draft-17's DCIL/SCIL nibbles (0 or 3 + n bytes),
// packet number (type-byte low bits + 1 bytes), hash, frames.
ParseStatus parse_plain_long_header(Bytes payload, std::uint32_t version, GquicHello& out) noexcept {
    ByteReader r(payload);
    std::uint8_t first = 0;
    std::uint8_t cil = 0;
    if (!r.read_u8(first) || !r.skip(4) || !r.read_u8(cil)) {
        return ParseStatus::kTruncated;
    }
    out.version = version;
    out.form = GquicForm::kLongHeader;
    if (((first >> 4) & 0x03) != 0) { // only Initial packets carry the CHLO
        return ParseStatus::kUnsupported;
    }
    const std::size_t dcil = (cil >> 4) == 0 ? 0 : (cil >> 4) + 3u;
    const std::size_t scil = (cil & 0x0f) == 0 ? 0 : (cil & 0x0f) + 3u;
    const std::size_t pn_len = (first & 0x03) + 1u;
    if (!r.skip(dcil) || !r.skip(scil) || !r.skip(pn_len) || !r.skip(kMessageHashSize)) {
        return ParseStatus::kTruncated;
    }
    return walk_plain_frames(r, gquic_version_number(version), pn_len, out);
}

} // namespace

bool is_gquic_version(std::uint32_t version) noexcept {
    const auto digit = [](std::uint32_t c) { return c >= '0' && c <= '9'; };
    const std::uint32_t lead = version >> 24;
    return (lead == 'Q' || lead == 'T') && digit((version >> 16) & 0xff) && digit((version >> 8) & 0xff) &&
           digit(version & 0xff);
}

unsigned gquic_version_number(std::uint32_t version) noexcept {
    if (!is_gquic_version(version)) {
        return 0;
    }
    const unsigned d0 = ((version >> 16) & 0xff) - '0';
    const unsigned d1 = ((version >> 8) & 0xff) - '0';
    const unsigned d2 = (version & 0xff) - '0';
    return d0 * 100 + d1 * 10 + d2;
}

ParseStatus parse_gquic_chlo(Bytes message, GquicHello& out) noexcept {
    std::uint16_t entries = 0;
    std::size_t need = 0;
    const ParseStatus st = chlo_layout(message, entries, need);
    if (st != ParseStatus::kOk) {
        return st;
    }
    out.tag_count = entries;
    ByteReader table(message.subspan(8, 8 * std::size_t{entries}));
    const Bytes values = message.subspan(8 + 8 * std::size_t{entries});
    std::uint64_t prev_tag = 0;
    std::uint64_t prev_end = 0;
    for (std::size_t i = 0; i < entries; ++i) { // entries <= limits::kMaxGquicHandshakeTags
        std::uint64_t tag = 0;
        std::uint64_t end = 0;
        (void)read_le(table, 4, tag); // cannot fail: the table length was checked
        (void)read_le(table, 4, end);
        if ((i > 0 && tag <= prev_tag) || end < prev_end || end > values.size()) {
            return ParseStatus::kMalformed;
        }
        const Bytes value = values.subspan(prev_end, end - prev_end);
        if (tag == kTagSni) {
            out.has_sni = true;
            out.sni_truncated = !out.sni.assign(as_string_view(value));
        } else if (tag == kTagUaid) {
            out.has_uaid = true;
            (void)out.uaid.assign(as_string_view(value));
        }
        prev_tag = tag;
        prev_end = end;
    }
    out.handshake = message.first(need);
    return ParseStatus::kOk;
}

ParseStatus parse_gquic_client_hello(Bytes udp_payload, GquicHello& out) noexcept {
    out = GquicHello{};
    if (udp_payload.empty()) {
        return ParseStatus::kTruncated;
    }
    if ((udp_payload[0] & 0x80) == 0) {
        return parse_public_header(udp_payload, out);
    }
    ByteReader r(udp_payload.subspan(1));
    std::uint32_t version = 0;
    if (!r.read_u32(version)) {
        return ParseStatus::kTruncated;
    }
    const unsigned number = gquic_version_number(version);
    if (number < 44 || (version >> 24) != 'Q') {
        return ParseStatus::kUnsupported;
    }
    if (number >= 50) {
        out.version = version;
        out.form = GquicForm::kInitial;
        return ParseStatus::kUnsupported; // protected: needs GquicParser
    }
    return parse_plain_long_header(udp_payload, version, out);
}

// --- GquicParser ----------------------------------------------------------------------------

GquicParser::GquicParser()
    : _crypto(std::make_unique_for_overwrite<std::uint8_t[]>(limits::kMaxClientHelloSize)) {}

ParseStatus GquicParser::parse(Bytes udp_payload, GquicHello& out) noexcept {
    const ParseStatus st = parse_gquic_client_hello(udp_payload, out);
    if (st == ParseStatus::kUnsupported && out.form == GquicForm::kInitial) {
        return parse_initial(udp_payload, out);
    }
    if (st == ParseStatus::kUnsupported && udp_payload.size() >= 5 && (udp_payload[0] & 0x80) != 0) {
        const std::uint32_t version = load_u32(udp_payload.data() + 1);
        if (version == kGquicVersionT050 || version == kGquicVersionT051) {
            return parse_initial(udp_payload, out);
        }
    }
    return st;
}

ParseStatus GquicParser::decrypt(Bytes packet, std::size_t pn_offset, std::uint32_t version, Bytes dcid,
                                 Bytes& plaintext) noexcept {
    const Salt* salt = initial_salt(version);
    if (!_decryptor.ready() || salt == nullptr) {
        return ParseStatus::kUnsupported;
    }
    // draft-ietf-quic-tls-29 section 5.2 derivation, with Google's salt for this version; the
    // packet protection is RFC 9001 section 5's, shared with IETF QUIC.
    QuicInitialKeys keys;
    if (!derive_initial_keys_with_salt(*salt, false, dcid, true, keys)) {
        return ParseStatus::kMalformed;
    }
    QuicInitialPacket opened;
    const ParseStatus st = _decryptor.open(keys, packet, pn_offset, _decryptor.scratch(), opened);
    OPENSSL_cleanse(&keys, sizeof(keys));
    plaintext = opened.payload;
    return st;
}

ParseStatus GquicParser::parse_initial(Bytes udp_payload, GquicHello& out) noexcept {
    out = GquicHello{};
    // draft-ietf-quic-transport-29 section 17.2 / 17.2.2 (Q050 and T05x use this layout).
    ByteReader r(udp_payload);
    std::uint8_t first = 0;
    std::uint32_t version = 0;
    std::uint8_t dcid_len = 0;
    std::uint8_t scid_len = 0;
    Bytes dcid;
    if (!r.read_u8(first) || !r.read_u32(version) || !r.read_u8(dcid_len)) {
        return ParseStatus::kTruncated;
    }
    out.version = version;
    out.form = GquicForm::kInitial;
    if (dcid_len > limits::kMaxQuicCidLength) {
        return ParseStatus::kMalformed;
    }
    if (!r.read_bytes(dcid_len, dcid) || !r.read_u8(scid_len)) {
        return ParseStatus::kTruncated;
    }
    if (scid_len > limits::kMaxQuicCidLength) {
        return ParseStatus::kMalformed;
    }
    if (((first >> 4) & 0x03) != 0) { // Initial type bits
        return ParseStatus::kUnsupported;
    }
    std::uint64_t token_len = 0;
    std::uint64_t length = 0;
    if (!r.skip(scid_len) || !r.read_quic_varint(token_len) || token_len > r.remaining() ||
        !r.skip(static_cast<std::size_t>(token_len)) || !r.read_quic_varint(length) || length > r.remaining()) {
        return ParseStatus::kTruncated;
    }
    const std::size_t pn_offset = udp_payload.size() - r.remaining();
    Bytes plaintext;
    const ParseStatus dst =
        decrypt(udp_payload.first(pn_offset + static_cast<std::size_t>(length)), pn_offset, version, dcid, plaintext);
    if (dst != ParseStatus::kOk) {
        return dst;
    }
    return parse_initial_frames(version, plaintext, out);
}

ParseStatus GquicParser::parse_initial_frames(std::uint32_t version, Bytes plaintext, GquicHello& out) noexcept {
    out = GquicHello{};
    out.version = version;
    out.form = GquicForm::kInitial;
    CryptoCollector crypto({_crypto.get(), limits::kMaxClientHelloSize});
    out.tls = (version >> 24) == 'T';
    // Q050 and T05x are transport version 50/51: gQUIC frame types inside IETF-style packets.
    // PADDING 0x00, PING 0x07, CRYPTO 0x08 (varint offset, varint length, like the IETF
    // CRYPTO frame of RFC 9000 section 19.6). Any other frame ends the walk.
    ByteReader fr(plaintext);
    for (std::size_t i = 0; i < limits::kMaxQuicInitialFrames && !fr.empty(); ++i) {
        std::uint8_t type = 0;
        (void)fr.read_u8(type);
        if (type == 0x00) {
            // A run of PADDING bytes counts as one frame, as in frames.hpp.
            const Bytes rest = fr.rest();
            const auto end = std::find_if(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; });
            (void)fr.skip(static_cast<std::size_t>(end - rest.begin()));
            continue;
        }
        if (type == 0x07) {
            continue;
        }
        if (type != 0x08) {
            break;
        }
        std::uint64_t offset = 0;
        std::uint64_t len = 0;
        Bytes data;
        if (!fr.read_quic_varint(offset) || !fr.read_quic_varint(len) || len > fr.remaining() ||
            !fr.read_bytes(static_cast<std::size_t>(len), data)) {
            return ParseStatus::kMalformed; // inside an authenticated payload: not truncation
        }
        const ParseStatus s = crypto.add(offset, data);
        if (s != ParseStatus::kOk) {
            return s;
        }
    }
    const Bytes stream = crypto.contiguous();
    if (out.tls) {
        // RFC 8446 section 4: msg_type (1), u24 length.
        if (stream.size() < 4) {
            return ParseStatus::kNeedMore;
        }
        const std::size_t need = 4 + ((std::size_t{stream[1]} << 16) | (std::size_t{stream[2]} << 8) | stream[3]);
        if (need > limits::kMaxClientHelloSize) {
            return ParseStatus::kTooLarge;
        }
        if (stream.size() < need) {
            return ParseStatus::kNeedMore;
        }
        TlsClientHello hello;
        const ParseStatus st = parse_client_hello(stream.first(need), hello);
        out.handshake = stream.first(need);
        if (hello.has_sni) {
            out.has_sni = true;
            out.sni = hello.sni;
            out.sni_truncated = hello.has_flag(kTlsFlagSniTruncated);
        }
        return st;
    }
    std::uint16_t entries = 0;
    std::size_t need = 0;
    const ParseStatus lst = chlo_layout(stream, entries, need);
    if (lst == ParseStatus::kTruncated || (lst == ParseStatus::kOk && stream.size() < need)) {
        if (need > limits::kMaxClientHelloSize) {
            return ParseStatus::kTooLarge;
        }
        return ParseStatus::kNeedMore;
    }
    if (lst != ParseStatus::kOk) {
        return lst;
    }
    return parse_gquic_chlo(stream, out);
}

} // namespace wt::parsers
