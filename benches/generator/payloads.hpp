// Application payloads for generated flows: real TLS and QUIC ClientHellos with the SNI
// rewritten, QUIC v1 Initial packet protection, DNS queries and answers, HTTP/1.1 heads.
// Each writer fills a caller buffer (the packet's payload area) and returns its length.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/quic/initial.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct evp_cipher_ctx_st;

namespace wt::gen {

// A recorded ClientHello handshake message cut around its server_name extension
// (RFC 6066 section 3), so a copy with another name is two memcpys and three length fields.
class HelloTemplate {
public:
    // `message` is a ClientHello handshake message (4-byte header included). Without a
    // server_name extension, one is inserted first in the extension block.
    static std::optional<HelloTemplate> from_message(parsers::Bytes message);

    // Writes the message with `sni` (and `random` as ClientHello.random when not null);
    // returns its length, or 0 when it would not fit `out`.
    std::size_t write(std::span<std::uint8_t> out, std::string_view sni, const std::uint8_t* random) const noexcept;
    [[nodiscard]] std::size_t size_for(std::size_t sni_len) const noexcept {
        return _before.size() + 9 + sni_len + _after.size();
    }

private:
    std::vector<std::uint8_t> _before; // message start up to the server_name extension
    std::vector<std::uint8_t> _after;  // the extensions after it
    std::size_t _extensions_length_offset = 0;
};

// One recorded TLS client/server exchange, from tests/parsers/tls/vectors.hpp.
struct TlsTemplate {
    std::string name;
    HelloTemplate hello;
    std::array<std::uint8_t, 2> record_version{}; // the ClientHello record's legacy_record_version
    parsers::Bytes server;                         // server stream up to the end of the ServerHello
};

// One recorded QUIC v1 client, from tests/parsers/quic/vectors.hpp (ClientHello decrypted once).
struct QuicTemplate {
    std::string name;
    HelloTemplate hello;
};

// The TLS exchanges with an SNI in a single record, and the QUIC v1 clients with an SNI.
const std::vector<TlsTemplate>& tls_templates();
const std::vector<QuicTemplate>& quic_templates();

// Writes a TLS record (type 22) around the ClientHello. Returns 0 if it does not fit.
std::size_t write_tls_client_hello(std::span<std::uint8_t> out, const TlsTemplate& t, std::string_view sni,
                                   const std::uint8_t* random) noexcept;

// RFC 9001 section 5 packet protection for Initial packets (AES-128-GCM, AES-128-ECB
// header protection). Owns its two OpenSSL cipher contexts.
class QuicSealer {
public:
    QuicSealer();
    ~QuicSealer();
    QuicSealer(const QuicSealer&) = delete;
    QuicSealer& operator=(const QuicSealer&) = delete;

    // `packet` holds a long header whose packet number (pn_length bytes, value `pn`) ends at
    // pn_offset + pn_length, then payload_length bytes of plaintext, then 16 bytes of room
    // for the AEAD tag. Encrypts in place and applies header protection (RFC 9001 sections
    // 5.3, 5.4). Returns the protected packet's length, 0 on a crypto failure.
    std::size_t protect(const parsers::QuicInitialKeys& keys, std::uint8_t* packet, std::size_t pn_offset,
                        std::size_t pn_length, std::uint64_t pn, std::size_t payload_length) noexcept;

private:
    evp_cipher_ctx_st* _aead = nullptr;
    evp_cipher_ctx_st* _hp = nullptr;
};

inline constexpr std::size_t kQuicInitialDatagram = 1200; // RFC 9000 section 14.1 minimum
inline constexpr std::size_t kQuicCidLength = 8;

// Client Initial datagram `index` (0, 1, ...) carrying `hello` (a ClientHello message) in
// CRYPTO frames, padded to kQuicInitialDatagram bytes and protected with keys from `dcid`.
// Returns its length, or 0 when `index` is past the last datagram needed.
std::size_t write_quic_client_initial(QuicSealer& sealer, std::span<const std::uint8_t> hello,
                                      const std::array<std::uint8_t, kQuicCidLength>& dcid,
                                      const std::array<std::uint8_t, kQuicCidLength>& scid, std::uint32_t index,
                                      std::span<std::uint8_t> out) noexcept;
[[nodiscard]] std::size_t quic_client_initial_count(std::size_t hello_length) noexcept;

// RFC 1035 section 4.1: a recursive query for `name`.
std::size_t write_dns_query(std::span<std::uint8_t> out, std::uint16_t id, std::string_view name,
                            std::uint16_t qtype) noexcept;
// Its answer: a CNAME chain through `cnames` (may be empty), then one A (4-byte address)
// or AAAA (16-byte) record for the last name. Names are compressed against earlier ones.
std::size_t write_dns_response(std::span<std::uint8_t> out, std::uint16_t id, std::string_view name,
                               std::uint16_t qtype, std::span<const std::string_view> cnames,
                               std::span<const std::uint8_t> address) noexcept;

// HTTP/1.1 request and response heads (RFC 9112).
std::size_t write_http_get(std::span<std::uint8_t> out, std::string_view host, std::uint32_t object) noexcept;
// The response head announces no length: the body ends with the connection (Connection: close).
std::size_t write_http_response_head(std::span<std::uint8_t> out) noexcept;

// `count` server names: well-known app and CDN hosts first, then made-up hosts under them.
std::vector<std::string> default_names(std::size_t count);

} // namespace wt::gen
