#include "parsers/quic/initial.hpp"

#include "parsers/common/hkdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace wt::parsers {
namespace {

using Salt = std::array<std::uint8_t, 20>;

// RFC 9001 section 5.2.
constexpr Salt kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                          0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 section 3.3.1.
constexpr Salt kSaltV2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                          0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
// draft-ietf-quic-v2-01 section 3.3.1 (version 0x709a50c4; ngtcp2 0.12 NGTCP2_PROTO_VER_V2_DRAFT).
constexpr Salt kSaltV2Draft = {0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47, 0x18, 0x4a, 0x1d,
                               0x62, 0xca, 0x57, 0x04, 0x06, 0xea, 0x7a, 0xe3, 0xe5, 0xd3};
// draft-ietf-quic-tls-29 section 5.2 (drafts 29-32).
constexpr Salt kSaltDraft29 = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                               0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
// draft-ietf-quic-tls-23 section 5.2 (drafts 23-28; mvfst 0xfaceb002/0xfaceb00e, as in nDPI).
constexpr Salt kSaltDraft23 = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                               0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
// draft-ietf-quic-tls-22 section 5.2 (mvfst 0xfaceb001, as in nDPI).
constexpr Salt kSaltDraft22 = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                               0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};

struct VersionParams {
    const Salt* salt = nullptr;
    bool v2 = false; // "quicv2 " labels (RFC 9369 section 3.3.2) and rotated packet types (3.2)
};

bool version_params(std::uint32_t version, VersionParams& out) noexcept {
    switch (version) {
    case kQuicVersion1: out = {&kSaltV1, false}; return true;
    case kQuicVersion2: out = {&kSaltV2, true}; return true;
    case kQuicVersion2Draft: out = {&kSaltV2Draft, true}; return true;
    case kQuicVersionMvfst22: out = {&kSaltDraft22, false}; return true;
    case kQuicVersionMvfst27:
    case kQuicVersionMvfstExp: out = {&kSaltDraft23, false}; return true;
    default: break;
    }
    if ((version >> 8) == 0xff0000) {
        const std::uint32_t draft = version & 0xff;
        if (draft >= 23 && draft <= 28) {
            out = {&kSaltDraft23, false};
            return true;
        }
        if (draft >= 29 && draft <= 32) {
            out = {&kSaltDraft29, false};
            return true;
        }
        if (draft == 33 || draft == 34) { // the final v1 constants appeared in draft-33
            out = {&kSaltV1, false};
            return true;
        }
    }
    return false;
}

// RFC 9369 section 3.2: v2 rotates the long header type bits (Initial = 0b01, ..., Retry = 0b00).
QuicPacketType packet_type(std::uint8_t first_byte, bool v2) noexcept {
    const unsigned bits = (first_byte >> 4) & 0x03;
    if (v2) {
        constexpr std::array<QuicPacketType, 4> kV2 = {QuicPacketType::kRetry, QuicPacketType::kInitial,
                                                       QuicPacketType::kZeroRtt, QuicPacketType::kHandshake};
        return kV2[bits];
    }
    return static_cast<QuicPacketType>(bits);
}

// --- Names --------------------------------------------------------------------------------

struct DraftNames {
    std::array<std::array<char, 10>, 256> text{};
    std::array<std::uint8_t, 256> length{};
};

constexpr DraftNames make_draft_names() {
    DraftNames names;
    for (unsigned n = 0; n < 256; ++n) {
        auto& t = names.text[n];
        std::size_t len = 0;
        for (const char c : std::string_view("Draft-")) {
            t[len++] = c;
        }
        if (n >= 100) {
            t[len++] = static_cast<char>('0' + n / 100);
        }
        if (n >= 10) {
            t[len++] = static_cast<char>('0' + (n / 10) % 10);
        }
        t[len++] = static_cast<char>('0' + n % 10);
        names.length[n] = static_cast<std::uint8_t>(len);
    }
    return names;
}
constexpr DraftNames kDraftNames = make_draft_names();

struct NamedVersion {
    std::uint32_t version;
    std::string_view name;
};
// nDPI ndpi_quic_version2str(): the named Google and Facebook versions.
constexpr std::array<NamedVersion, 19> kNamedVersions = {{
    {kQuicVersion1, "V-1"},         {kQuicVersion2, "V-2"},         {kQuicVersion2Draft, "V-2-Draft"},
    {0x51303234, "Q024"},           {0x51303235, "Q025"},           {0x51303330, "Q030"},
    {0x51303333, "Q033"},           {0x51303334, "Q034"},           {0x51303335, "Q035"},
    {0x51303337, "Q037"},           {0x51303339, "Q039"},           {0x51303433, "Q043"},
    {0x51303436, "Q046"},           {0x51303530, "Q050"},           {0x54303530, "T050"},
    {0x54303531, "T051"},           {kQuicVersionMvfst22, "MVFST-22"}, {kQuicVersionMvfst27, "MVFST-27"},
    {kQuicVersionMvfstExp, "MVFST-EXP"},
}};

} // namespace

bool quic_version_supported(std::uint32_t version) noexcept {
    VersionParams p;
    return version_params(version, p);
}

std::string_view quic_version_name(std::uint32_t version) noexcept {
    for (const auto& nv : kNamedVersions) {
        if (nv.version == version) {
            return nv.name;
        }
    }
    // RFC 9000 section 15: 0x?a?a?a?a is reserved to exercise version negotiation.
    if ((version & 0x0f0f0f0f) == 0x0a0a0a0a) {
        return "Ver-Negotiation";
    }
    if ((version >> 8) == 0xff0000) {
        const std::uint32_t n = version & 0xff;
        return {kDraftNames.text[n].data(), kDraftNames.length[n]};
    }
    return "Unknown";
}

ParseStatus parse_quic_long_header(Bytes datagram, QuicLongHeader& out) noexcept {
    out = QuicLongHeader{};
    ByteReader r(datagram);
    std::uint8_t first = 0;
    if (!r.read_u8(first)) {
        return ParseStatus::kTruncated;
    }
    out.first_byte = first;
    // RFC 9000 section 17.2: Header Form bit set for long headers; a short header belongs to
    // 1-RTT and carries no length, so nothing after it can be walked.
    if ((first & 0x80) == 0) {
        return ParseStatus::kUnsupported;
    }
    std::uint32_t version = 0;
    std::uint8_t dcid_len = 0;
    if (!r.read_u32(version) || !r.read_u8(dcid_len)) {
        return ParseStatus::kTruncated;
    }
    out.version = version;
    VersionParams params;
    const bool known = version_params(version, params);
    // RFC 9000 section 17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes."
    // RFC 8999 section 5.1 lets other versions use up to 255.
    if (known && dcid_len > limits::kMaxQuicCidLength) {
        return ParseStatus::kMalformed;
    }
    std::uint8_t scid_len = 0;
    if (!r.read_bytes(dcid_len, out.dcid) || !r.read_u8(scid_len)) {
        return ParseStatus::kTruncated;
    }
    if (known && scid_len > limits::kMaxQuicCidLength) {
        return ParseStatus::kMalformed;
    }
    if (!r.read_bytes(scid_len, out.scid)) {
        return ParseStatus::kTruncated;
    }
    if (version == 0) {
        out.type = QuicPacketType::kVersionNegotiation;
        return ParseStatus::kUnsupported;
    }
    if (!known) {
        return ParseStatus::kUnsupported;
    }
    out.type = packet_type(first, params.v2);
    if (out.type == QuicPacketType::kRetry) {
        // RFC 9000 section 17.2.5: Retry Token and Integrity Tag fill the rest of the datagram.
        out.packet_length = datagram.size();
        return ParseStatus::kOk;
    }
    if (out.type == QuicPacketType::kInitial) {
        // RFC 9000 section 17.2.2: Token Length (i), Token (..)
        std::uint64_t token_len = 0;
        if (!r.read_quic_varint(token_len) || token_len > r.remaining() ||
            !r.read_bytes(static_cast<std::size_t>(token_len), out.token)) {
            return ParseStatus::kTruncated;
        }
    }
    if (!r.read_quic_varint(out.length)) {
        return ParseStatus::kTruncated;
    }
    out.pn_offset = datagram.size() - r.remaining();
    if (out.length > r.remaining()) {
        return ParseStatus::kTruncated;
    }
    out.packet_length = out.pn_offset + static_cast<std::size_t>(out.length);
    return ParseStatus::kOk;
}

bool derive_initial_keys_with_salt(std::span<const std::uint8_t> salt, bool v2_labels, Bytes client_dcid,
                                   bool client_side, QuicInitialKeys& out) noexcept {
    out = QuicInitialKeys{};
    if (client_dcid.size() > limits::kMaxQuicCidLength) {
        return false;
    }
    // RFC 9001 section 5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
    const Sha256::Digest initial_secret = hkdf_extract(salt, client_dcid);
    Sha256::Digest secret{};
    // RFC 9001 section 5.1 / RFC 9369 section 3.3.2: labels of at most 10 bytes, outputs of at
    // most one hash: the expansions cannot fail.
    bool ok = hkdf_expand_label(initial_secret, client_side ? "client in" : "server in", {}, secret);
    const HmacSha256 keyed(secret); // three expansions from one secret
    ok = ok && hkdf_expand_label(keyed, v2_labels ? "quicv2 key" : "quic key", {}, out.key) &&
         hkdf_expand_label(keyed, v2_labels ? "quicv2 iv" : "quic iv", {}, out.iv) &&
         hkdf_expand_label(keyed, v2_labels ? "quicv2 hp" : "quic hp", {}, out.hp);
    OPENSSL_cleanse(secret.data(), secret.size());
    out.valid = ok;
    return ok;
}

bool derive_initial_keys(std::uint32_t version, Bytes client_dcid, bool client_side,
                         QuicInitialKeys& out) noexcept {
    VersionParams params;
    if (!version_params(version, params)) {
        out = QuicInitialKeys{};
        return false;
    }
    if (!derive_initial_keys_with_salt(*params.salt, params.v2, client_dcid, client_side, out)) {
        return false;
    }
    out.version = version;
    return true;
}

// --- Decryptor ----------------------------------------------------------------------------

QuicInitialDecryptor::QuicInitialDecryptor()
    : _scratch(std::make_unique_for_overwrite<std::uint8_t[]>(limits::kMaxQuicDatagramSize)) {
    _hp_ctx = EVP_CIPHER_CTX_new();
    _aead_ctx = EVP_CIPHER_CTX_new();
    if (_hp_ctx == nullptr || _aead_ctx == nullptr) {
        return;
    }
    // Bind the algorithms now; decrypt() only sets keys and nonces on these contexts.
    if (EVP_EncryptInit_ex(_hp_ctx, EVP_aes_128_ecb(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(_hp_ctx, 0) != 1 ||
        EVP_DecryptInit_ex(_aead_ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(_aead_ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1) {
        return;
    }
    _ready = true;
}

QuicInitialDecryptor::~QuicInitialDecryptor() {
    EVP_CIPHER_CTX_free(_hp_ctx);
    EVP_CIPHER_CTX_free(_aead_ctx);
}

bool QuicInitialDecryptor::header_mask(const QuicInitialKeys& keys, Bytes sample,
                                       std::array<std::uint8_t, 16>& mask) noexcept {
    // RFC 9001 section 5.4.3: mask = AES-ECB(hp_key, sample)
    if (!_hp_keyed || _hp_key != keys.hp) {
        _hp_keyed = EVP_EncryptInit_ex(_hp_ctx, nullptr, nullptr, keys.hp.data(), nullptr) == 1;
        _hp_key = keys.hp;
        if (!_hp_keyed) {
            return false;
        }
    }
    int outl = 0;
    return EVP_EncryptUpdate(_hp_ctx, mask.data(), &outl, sample.data(), static_cast<int>(sample.size())) == 1 &&
           outl == static_cast<int>(mask.size());
}

ParseStatus QuicInitialDecryptor::decrypt(const QuicInitialKeys& keys, Bytes packet,
                                          std::span<std::uint8_t> plaintext_out,
                                          QuicInitialPacket& out) noexcept {
    out = QuicInitialPacket{};
    if (!_ready || !keys.valid) {
        return ParseStatus::kUnsupported;
    }
    QuicLongHeader header;
    const ParseStatus hs = parse_quic_long_header(packet, header);
    if (hs != ParseStatus::kOk) {
        out.header = header;
        return hs;
    }
    if (header.type != QuicPacketType::kInitial || header.version != keys.version) {
        out.header = header;
        return ParseStatus::kUnsupported;
    }
    const ParseStatus st = open(keys, packet.first(header.packet_length), header.pn_offset, plaintext_out, out);
    out.header = header;
    return st;
}

ParseStatus QuicInitialDecryptor::open(const QuicInitialKeys& keys, Bytes pkt, std::size_t pn_offset,
                                       std::span<std::uint8_t> plaintext_out, QuicInitialPacket& out) noexcept {
    out = QuicInitialPacket{};
    if (!_ready || !keys.valid) {
        return ParseStatus::kUnsupported;
    }
    constexpr std::size_t kSampleOffset = 4; // RFC 9001 section 5.4.2: as if the PN were 4 bytes
    constexpr std::size_t kSampleSize = 16;
    constexpr std::size_t kTagSize = 16; // AEAD_AES_128_GCM, RFC 5116 section 5.1
    // pn_offset >= 1: the first byte is never part of the packet number.
    if (pn_offset == 0 || pn_offset + kSampleOffset + kSampleSize > pkt.size()) {
        return ParseStatus::kMalformed;
    }
    std::array<std::uint8_t, 16> mask{};
    if (!header_mask(keys, pkt.subspan(pn_offset + kSampleOffset, kSampleSize), mask)) {
        return ParseStatus::kUnsupported;
    }
    // RFC 9001 section 5.4.1: long headers protect the low 4 bits of the first byte.
    const std::uint8_t first = static_cast<std::uint8_t>(pkt[0] ^ (mask[0] & 0x0f));
    const std::size_t pn_len = (first & 0x03u) + 1;
    std::array<std::uint8_t, 4> pn_bytes{};
    std::uint64_t pn = 0;
    for (std::size_t i = 0; i < pn_len; ++i) {
        pn_bytes[i] = static_cast<std::uint8_t>(pkt[pn_offset + i] ^ mask[1 + i]);
        pn = (pn << 8) | pn_bytes[i];
    }
    const std::size_t header_len = pn_offset + pn_len;
    // Cannot fail after the sample check above (pn_len <= 4), kept as the length proof.
    if (header_len + kTagSize > pkt.size()) {
        return ParseStatus::kMalformed;
    }
    const std::size_t ct_len = pkt.size() - header_len - kTagSize;
    if (ct_len > plaintext_out.size()) {
        return ParseStatus::kTooLarge;
    }

    // RFC 9001 section 5.3: nonce = iv XOR packet number (left-padded to the IV length).
    std::array<std::uint8_t, 12> nonce = keys.iv;
    for (std::size_t i = 0; i < 8; ++i) {
        nonce[nonce.size() - 1 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
    }
    std::array<std::uint8_t, kTagSize> tag{};
    std::copy_n(pkt.data() + header_len + ct_len, kTagSize, tag.data());

    // The associated data is the unprotected header: fed in three pieces so nothing is copied.
    int outl = 0;
    const int mid_len = static_cast<int>(pn_offset - 1);
    const bool rekey = !_aead_keyed || _aead_key != keys.key;
    _aead_key = keys.key;
    _aead_keyed = EVP_DecryptInit_ex(_aead_ctx, nullptr, nullptr, rekey ? keys.key.data() : nullptr,
                                     nonce.data()) == 1;
    bool ok = _aead_keyed && EVP_DecryptUpdate(_aead_ctx, nullptr, &outl, &first, 1) == 1 &&
              EVP_DecryptUpdate(_aead_ctx, nullptr, &outl, pkt.data() + 1, mid_len) == 1 &&
              EVP_DecryptUpdate(_aead_ctx, nullptr, &outl, pn_bytes.data(), static_cast<int>(pn_len)) == 1;
    int plain_len = 0;
    if (ok && ct_len > 0) {
        ok = EVP_DecryptUpdate(_aead_ctx, plaintext_out.data(), &plain_len, pkt.data() + header_len,
                               static_cast<int>(ct_len)) == 1;
    }
    ok = ok && EVP_CIPHER_CTX_ctrl(_aead_ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1;
    int final_len = 0;
    if (!ok || EVP_DecryptFinal_ex(_aead_ctx, plaintext_out.data() + plain_len, &final_len) != 1) {
        ++_auth_failures;
        return ParseStatus::kMalformed;
    }
    // RFC 9000 section 17.2: Reserved Bits (0x0c) MUST be 0 once protection is removed.
    // An empty payload is also invalid: a packet carries at least one frame (section 12.4).
    if ((first & 0x0c) != 0 || ct_len == 0) {
        return ParseStatus::kMalformed;
    }
    out.packet_number = pn;
    out.packet_number_length = static_cast<std::uint8_t>(pn_len);
    out.payload = Bytes(plaintext_out.data(), ct_len);
    return ParseStatus::kOk;
}

} // namespace wt::parsers
