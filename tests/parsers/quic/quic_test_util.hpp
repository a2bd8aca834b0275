// Test-only helpers: hex decoding, QUIC varints and frames, and an Initial packet *protector*
// (the inverse of QuicInitialDecryptor, written against RFC 9001 sections 5.3-5.4 with
// OpenSSL directly) so tests can build packets the RFC does not give.
#pragma once

#include "parsers/quic/initial.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace wt::parsers::test {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    auto nibble = [](char c) -> int {
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

// RFC 9000 section 16: shortest encoding.
inline void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    if (v < 64) {
        out.push_back(static_cast<std::uint8_t>(v));
    } else if (v < 16384) {
        out.push_back(static_cast<std::uint8_t>(0x40 | v >> 8));
        out.push_back(static_cast<std::uint8_t>(v));
    } else if (v < (1u << 30)) {
        for (int i = 3; i >= 0; --i) {
            out.push_back(static_cast<std::uint8_t>((i == 3 ? 0x80 : 0) | (v >> (8 * i) & 0xff)));
        }
    } else {
        for (int i = 7; i >= 0; --i) {
            out.push_back(static_cast<std::uint8_t>((i == 7 ? 0xc0 : 0) | (v >> (8 * i) & 0xff)));
        }
    }
}

// CRYPTO frame (RFC 9000 section 19.6).
inline void put_crypto(std::vector<std::uint8_t>& out, std::uint64_t offset, Bytes data) {
    out.push_back(0x06);
    put_varint(out, offset);
    put_varint(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
}

// Builds a protected long-header Initial: 4-byte packet number, no token.
inline std::vector<std::uint8_t> protect_initial(const QuicInitialKeys& keys, Bytes dcid, Bytes scid,
                                                 std::uint32_t pn, std::vector<std::uint8_t> frames) {
    const bool v2 = keys.version == kQuicVersion2 || keys.version == kQuicVersion2Draft;
    while (frames.size() < 16) { // the sample needs 16 bytes after the 4-byte packet number
        frames.push_back(0);
    }
    std::vector<std::uint8_t> h;
    h.push_back(static_cast<std::uint8_t>(0xc0 | (v2 ? 0x10 : 0x00) | 0x03)); // Initial, pn_len 4
    for (int i = 3; i >= 0; --i) {
        h.push_back(static_cast<std::uint8_t>(keys.version >> (8 * i)));
    }
    h.push_back(static_cast<std::uint8_t>(dcid.size()));
    h.insert(h.end(), dcid.begin(), dcid.end());
    h.push_back(static_cast<std::uint8_t>(scid.size()));
    h.insert(h.end(), scid.begin(), scid.end());
    h.push_back(0); // token length
    const std::size_t length = 4 + frames.size() + 16;
    h.push_back(static_cast<std::uint8_t>(0x40 | length >> 8)); // 2-byte varint
    h.push_back(static_cast<std::uint8_t>(length));
    const std::size_t pn_offset = h.size();
    for (int i = 3; i >= 0; --i) {
        h.push_back(static_cast<std::uint8_t>(pn >> (8 * i)));
    }
    std::array<std::uint8_t, 12> nonce = keys.iv;
    for (int i = 0; i < 4; ++i) {
        nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
    }
    std::vector<std::uint8_t> ct(frames.size() + 16);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, keys.key.data(), nonce.data());
    EVP_EncryptUpdate(ctx, nullptr, &outl, h.data(), static_cast<int>(h.size()));
    EVP_EncryptUpdate(ctx, ct.data(), &outl, frames.data(), static_cast<int>(frames.size()));
    EVP_EncryptFinal_ex(ctx, ct.data() + outl, &outl);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct.data() + frames.size());
    std::array<std::uint8_t, 16> mask{};
    EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, keys.hp.data(), nullptr);
    EVP_EncryptUpdate(ctx, mask.data(), &outl, ct.data(), 16); // sample = ct[0..16)
    EVP_CIPHER_CTX_free(ctx);
    h[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; ++i) {
        h[pn_offset + i] ^= mask[1 + i];
    }
    h.insert(h.end(), ct.begin(), ct.end());
    return h;
}

} // namespace wt::parsers::test
