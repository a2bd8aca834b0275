#include "benches/generator/payloads.hpp"

#include "parsers/quic/client_initial.hpp"
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "tests/parsers/quic/vectors.hpp"
#include "tests/parsers/tls/vectors.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

namespace wt::gen {
namespace {

void put16(std::uint8_t* p, std::size_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put24(std::uint8_t* p, std::size_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 16);
    put16(p + 1, v);
}
std::size_t get16(const std::uint8_t* p) noexcept { return (std::size_t{p[0]} << 8) | p[1]; }

// A small append-only writer over a caller buffer; `ok` turns false on overflow.
struct Out {
    std::span<std::uint8_t> buf;
    std::size_t n = 0;
    bool ok = true;

    bool room(std::size_t k) noexcept {
        ok = ok && k <= buf.size() - n;
        return ok;
    }
    void u8(std::size_t v) noexcept {
        if (room(1)) {
            buf[n++] = static_cast<std::uint8_t>(v);
        }
    }
    void u16(std::size_t v) noexcept {
        if (room(2)) {
            put16(buf.data() + n, v);
            n += 2;
        }
    }
    void u32(std::uint32_t v) noexcept {
        u16(v >> 16);
        u16(v & 0xffff);
    }
    void bytes(const void* p, std::size_t k) noexcept {
        if (room(k)) {
            std::memcpy(buf.data() + n, p, k);
            n += k;
        }
    }
    void text(std::string_view s) noexcept { bytes(s.data(), s.size()); }
    // RFC 9000 section 16, two-byte form (values below 16384).
    void varint2(std::size_t v) noexcept { u16(0x4000 | v); }
    // RFC 1035 section 3.1: labels, then the root. Empty labels are skipped.
    void dns_name(std::string_view name) noexcept {
        while (!name.empty()) {
            const std::size_t dot = std::min(name.find('.'), name.size());
            if (dot > 0) {
                u8(std::min<std::size_t>(dot, 63));
                bytes(name.data(), std::min<std::size_t>(dot, 63));
            }
            name.remove_prefix(std::min(dot + 1, name.size()));
        }
        u8(0);
    }
    std::size_t done() const noexcept { return ok ? n : 0; }
};

} // namespace

std::optional<HelloTemplate> HelloTemplate::from_message(parsers::Bytes m) {
    // RFC 8446 section 4.1.2: type, u24 length, legacy_version, random[32], session id<0..32>,
    // cipher_suites<2..>, compression_methods<1..>, extensions<8..>.
    if (m.size() < 4 || m[0] != 1) {
        return std::nullopt;
    }
    const std::size_t total = 4 + ((std::size_t{m[1]} << 16) | (std::size_t{m[2]} << 8) | m[3]);
    if (total > m.size() || total < 4 + 2 + 32 + 1) {
        return std::nullopt;
    }
    std::size_t off = 4 + 2 + 32;
    off += 1 + m[off];
    if (off + 2 > total) {
        return std::nullopt;
    }
    off += 2 + get16(&m[off]);
    if (off + 1 > total) {
        return std::nullopt;
    }
    off += 1 + m[off];
    if (off + 2 > total) {
        return std::nullopt;
    }
    const std::size_t ext_len_off = off;
    const std::size_t ext_end = off + 2 + get16(&m[off]);
    if (ext_end != total) {
        return std::nullopt;
    }
    std::size_t sni_begin = off + 2;
    std::size_t sni_end = sni_begin;
    for (std::size_t p = off + 2; p < ext_end;) {
        if (p + 4 > ext_end) {
            return std::nullopt;
        }
        const std::size_t type = get16(&m[p]);
        const std::size_t len = get16(&m[p + 2]);
        if (p + 4 + len > ext_end) {
            return std::nullopt;
        }
        if (type == 0) {
            sni_begin = p;
            sni_end = p + 4 + len;
            break;
        }
        p += 4 + len;
    }
    HelloTemplate t;
    t._before.assign(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(sni_begin));
    t._after.assign(m.begin() + static_cast<std::ptrdiff_t>(sni_end), m.begin() + static_cast<std::ptrdiff_t>(total));
    t._extensions_length_offset = ext_len_off;
    return t;
}

std::size_t HelloTemplate::write(std::span<std::uint8_t> out, std::string_view sni,
                                 const std::uint8_t* random) const noexcept {
    const std::size_t len = size_for(sni.size());
    if (len > out.size() || sni.size() > 255) {
        return 0;
    }
    std::uint8_t* p = out.data();
    std::memcpy(p, _before.data(), _before.size());
    std::uint8_t* e = p + _before.size();
    put16(e, 0);                  // extension type server_name
    put16(e + 2, sni.size() + 5); // extension length
    put16(e + 4, sni.size() + 3); // ServerNameList length
    e[6] = 0;                     // NameType host_name
    put16(e + 7, sni.size());
    std::memcpy(e + 9, sni.data(), sni.size());
    std::memcpy(e + 9 + sni.size(), _after.data(), _after.size());
    put24(p + 1, len - 4);
    put16(p + _extensions_length_offset, len - _extensions_length_offset - 2);
    if (random != nullptr) {
        std::memcpy(p + 6, random, 32);
    }
    return len;
}

const std::vector<TlsTemplate>& tls_templates() {
    static const std::vector<TlsTemplate> templates = [] {
        std::vector<TlsTemplate> v;
        std::array<std::uint8_t, 512> scratch{};
        for (const auto& cap : parsers::test_vectors::kCaptures) {
            // One record holding the whole ClientHello, and a real ServerHello (not a retry request).
            if (cap.sni.empty() || cap.client.size() < 5 || get16(&cap.client[3]) + 5 != cap.client.size()) {
                continue;
            }
            parsers::Bytes message;
            parsers::TlsServerHello sh;
            if (parsers::tls_first_handshake(cap.server, 2, scratch, message) != parsers::ParseStatus::kOk ||
                parsers::parse_server_hello(message, sh) != parsers::ParseStatus::kOk || sh.is_hello_retry_request) {
                continue;
            }
            auto hello = HelloTemplate::from_message(cap.client.subspan(5));
            if (!hello) {
                continue;
            }
            v.push_back({std::string(cap.name), std::move(*hello), {cap.client[1], cap.client[2]}, cap.server});
        }
        return v;
    }();
    return templates;
}

const std::vector<QuicTemplate>& quic_templates() {
    static const std::vector<QuicTemplate> templates = [] {
        std::vector<QuicTemplate> v;
        parsers::QuicInitialDecryptor decryptor;
        auto state = std::make_unique<parsers::QuicFlowState>();
        for (const auto& flow : parsers::test_vectors::kCorpusFlows) {
            // v1 clients with a name; the Retry flow repeats ngtcp2's hello.
            if (flow.version != parsers::kQuicVersion1 || flow.sni.empty() || flow.id == "ngtcp2_retry") {
                continue;
            }
            state->reset();
            parsers::ParseStatus st = parsers::ParseStatus::kNeedMore;
            for (std::size_t i = 0; i < flow.count && st != parsers::ParseStatus::kOk; ++i) {
                st = parsers::process_client_initial_datagram(decryptor, flow.datagrams[i], *state);
            }
            if (st != parsers::ParseStatus::kOk) {
                continue;
            }
            auto hello = HelloTemplate::from_message(state->crypto.client_hello());
            if (hello) {
                v.push_back({std::string(flow.id), std::move(*hello)});
            }
        }
        return v;
    }();
    return templates;
}

std::size_t write_tls_client_hello(std::span<std::uint8_t> out, const TlsTemplate& t, std::string_view sni,
                                   const std::uint8_t* random) noexcept {
    if (out.size() < 5) {
        return 0;
    }
    const std::size_t n = t.hello.write(out.subspan(5), sni, random);
    if (n == 0) {
        return 0;
    }
    out[0] = 22; // ContentType handshake (RFC 8446 section 5.1)
    out[1] = t.record_version[0];
    out[2] = t.record_version[1];
    put16(&out[3], n);
    return 5 + n;
}

QuicSealer::QuicSealer() : _aead(EVP_CIPHER_CTX_new()), _hp(EVP_CIPHER_CTX_new()) {
    EVP_EncryptInit_ex(_aead, EVP_aes_128_gcm(), nullptr, nullptr, nullptr);
    EVP_EncryptInit_ex(_hp, EVP_aes_128_ecb(), nullptr, nullptr, nullptr);
    EVP_CIPHER_CTX_set_padding(_hp, 0);
}

QuicSealer::~QuicSealer() {
    EVP_CIPHER_CTX_free(_aead);
    EVP_CIPHER_CTX_free(_hp);
}

std::size_t QuicSealer::protect(const parsers::QuicInitialKeys& keys, std::uint8_t* packet, std::size_t pn_offset,
                                std::size_t pn_length, std::uint64_t pn, std::size_t payload_length) noexcept {
    // RFC 9001 section 5.3: nonce = iv XOR the packet number (left-padded); AAD = the header.
    std::array<std::uint8_t, 12> nonce = keys.iv;
    for (std::size_t i = 0; i < 8; ++i) {
        nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
    }
    const std::size_t header = pn_offset + pn_length;
    std::uint8_t* payload = packet + header;
    int n = 0;
    if (EVP_EncryptInit_ex(_aead, nullptr, nullptr, keys.key.data(), nonce.data()) != 1 ||
        EVP_EncryptUpdate(_aead, nullptr, &n, packet, static_cast<int>(header)) != 1 ||
        EVP_EncryptUpdate(_aead, payload, &n, payload, static_cast<int>(payload_length)) != 1 ||
        EVP_EncryptFinal_ex(_aead, payload + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(_aead, EVP_CTRL_GCM_GET_TAG, 16, payload + payload_length) != 1) {
        return 0;
    }
    // RFC 9001 section 5.4.2: the sample starts 4 bytes after the packet number's start.
    std::array<std::uint8_t, 32> mask{};
    if (EVP_EncryptInit_ex(_hp, nullptr, nullptr, keys.hp.data(), nullptr) != 1 ||
        EVP_EncryptUpdate(_hp, mask.data(), &n, packet + pn_offset + 4, 16) != 1) {
        return 0;
    }
    packet[0] ^= mask[0] & 0x0f; // long header: the low four bits
    for (std::size_t i = 0; i < pn_length; ++i) {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    return header + payload_length + 16;
}

namespace {
// Header of our client Initials: flags, version, DCID, SCID, empty token, 2-byte Length, 4-byte PN.
constexpr std::size_t kInitialPnOffset = 1 + 4 + 1 + kQuicCidLength + 1 + kQuicCidLength + 1 + 2;
constexpr std::size_t kInitialPnLength = 4;
constexpr std::size_t kInitialPayload = kQuicInitialDatagram - kInitialPnOffset - kInitialPnLength - 16;
constexpr std::size_t kCryptoChunk = kInitialPayload - 1 - 2 - 2; // type, offset (2-byte varint), length
} // namespace

std::size_t quic_client_initial_count(std::size_t hello_length) noexcept {
    return (hello_length + kCryptoChunk - 1) / kCryptoChunk;
}

std::size_t write_quic_client_initial(QuicSealer& sealer, std::span<const std::uint8_t> hello,
                                      const std::array<std::uint8_t, kQuicCidLength>& dcid,
                                      const std::array<std::uint8_t, kQuicCidLength>& scid, std::uint32_t index,
                                      std::span<std::uint8_t> out) noexcept {
    const std::size_t begin = std::size_t{index} * kCryptoChunk;
    if (begin >= hello.size() || out.size() < kQuicInitialDatagram) {
        return 0;
    }
    const std::size_t chunk = std::min(kCryptoChunk, hello.size() - begin);
    Out w{out};
    w.u8(0xc0 | (kInitialPnLength - 1)); // long header, fixed bit, type Initial (RFC 9000 section 17.2.2)
    w.u32(parsers::kQuicVersion1);
    w.u8(kQuicCidLength);
    w.bytes(dcid.data(), dcid.size());
    w.u8(kQuicCidLength);
    w.bytes(scid.data(), scid.size());
    w.u8(0);                                   // token length
    w.varint2(kInitialPnLength + kInitialPayload + 16);
    w.u32(index);                              // packet number
    w.u8(0x06);                                // CRYPTO frame (RFC 9000 section 19.6)
    w.varint2(begin);
    w.varint2(chunk);
    w.bytes(hello.data() + begin, chunk);
    if (!w.ok) {
        return 0;
    }
    std::memset(out.data() + w.n, 0, kQuicInitialDatagram - 16 - w.n); // PADDING frames
    parsers::QuicInitialKeys keys;
    if (!parsers::derive_initial_keys(parsers::kQuicVersion1, {dcid.data(), dcid.size()}, true, keys)) {
        return 0;
    }
    return sealer.protect(keys, out.data(), kInitialPnOffset, kInitialPnLength, index, kInitialPayload);
}

std::size_t write_dns_query(std::span<std::uint8_t> out, std::uint16_t id, std::string_view name,
                            std::uint16_t qtype) noexcept {
    Out w{out};
    w.u16(id);
    w.u16(0x0100); // RD
    w.u16(1);      // QDCOUNT
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.dns_name(name);
    w.u16(qtype);
    w.u16(1); // IN
    return w.done();
}

std::size_t write_dns_response(std::span<std::uint8_t> out, std::uint16_t id, std::string_view name,
                               std::uint16_t qtype, std::span<const std::string_view> cnames,
                               std::span<const std::uint8_t> address) noexcept {
    Out w{out};
    w.u16(id);
    w.u16(0x8180); // QR, RD, RA, NOERROR
    w.u16(1);
    w.u16(cnames.size() + 1);
    w.u16(0);
    w.u16(0);
    std::size_t owner = w.n; // offset of the name the next record is about
    w.dns_name(name);
    w.u16(qtype);
    w.u16(1);
    for (std::string_view target : cnames) {
        w.u16(0xc000 | owner); // compression pointer (RFC 1035 section 4.1.4)
        w.u16(5);              // CNAME
        w.u16(1);
        w.u32(300);
        const std::size_t rdlength_at = w.n;
        w.u16(0);
        owner = w.n;
        w.dns_name(target);
        if (w.ok) {
            put16(out.data() + rdlength_at, w.n - owner);
        }
    }
    w.u16(0xc000 | owner);
    w.u16(address.size() == 16 ? 28 : 1); // AAAA or A
    w.u16(1);
    w.u32(60);
    w.u16(address.size());
    w.bytes(address.data(), address.size());
    return w.done();
}

std::size_t write_http_get(std::span<std::uint8_t> out, std::string_view host, std::uint32_t object) noexcept {
    char path[48];
    const int k = std::snprintf(path, sizeof path, "/api/v2/items/%u?fields=all", object);
    Out w{out};
    w.text("GET ");
    w.text({path, static_cast<std::size_t>(k)});
    w.text(" HTTP/1.1\r\nHost: ");
    w.text(host);
    w.text("\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
    return w.done();
}

std::size_t write_http_response_head(std::span<std::uint8_t> out) noexcept {
    Out w{out};
    w.text("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nCache-Control: max-age=600\r\n"
           "Connection: close\r\n\r\n");
    return w.done();
}

std::vector<std::string> default_names(std::size_t count) {
    static constexpr std::string_view kHosts[] = {
        "www.google.com", "play.googleapis.com", "android.clients.google.com", "mtalk.google.com",
        "firebaseinstallations.googleapis.com", "app-measurement.com", "firebase-settings.crashlytics.com",
        "maps.googleapis.com", "fonts.gstatic.com", "i.ytimg.com", "rr3---sn-a5mekn7s.googlevideo.com",
        "api.push.apple.com", "gateway.icloud.com", "p47-contacts.icloud.com", "gsp-ssl.ls.apple.com",
        "mesu.apple.com", "graph.facebook.com", "scontent.xx.fbcdn.net", "edge-chat.facebook.com",
        "i.instagram.com", "web.whatsapp.com", "mmg.whatsapp.net", "api.twitter.com", "pbs.twimg.com",
        "www.netflix.com", "occ-0-2794-2568.1.nflxso.net", "api-global.netflix.com", "open.spotify.com",
        "audio-ak-spotify-com.akamaized.net", "login.microsoftonline.com", "graph.microsoft.com",
        "outlook.office365.com", "teams.microsoft.com", "s3.amazonaws.com", "dynamodb.us-east-1.amazonaws.com",
        "images-na.ssl-images-amazon.com", "d1a2b3c4d5e6f7.cloudfront.net", "cdnjs.cloudflare.com",
        "www.cloudflare.com", "cdn.jsdelivr.net", "api.segment.io", "api.mixpanel.com", "sdk.iad-01.braze.com",
        "events.appsflyer.com", "app.adjust.com", "api.amplitude.com", "o123456.ingest.sentry.io",
        "browser-intake-datadoghq.com", "bam.nr-data.net", "api.github.com", "objects.githubusercontent.com",
        "registry.npmjs.org", "pypi.org", "dl.google.com", "update.googleapis.com", "telemetry.example-iot.com",
        "api.weather-app.example", "tiles.maps-vendor.example", "dns.google", "cloudflare-dns.com",
        "www.wikipedia.org", "upload.wikimedia.org", "www.bbc.co.uk", "static.xx.fbcdn.net",
    };
    static constexpr std::string_view kWords[] = {"api", "cdn", "img", "edge", "static", "media", "auth", "sync"};
    constexpr std::size_t kHostCount = std::size(kHosts);
    std::vector<std::string> v;
    v.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        if (i < kHostCount) {
            v.emplace_back(kHosts[i]);
            continue;
        }
        // "<word>-<n>.<a known host's parent domain>", e.g. "cdn-123.googleapis.com".
        std::string_view host = kHosts[i % kHostCount];
        const std::size_t dot = host.find('.');
        host.remove_prefix(dot == std::string_view::npos ? 0 : dot + 1);
        if (host.find('.') == std::string_view::npos) {
            host = kHosts[i % kHostCount];
        }
        v.push_back(std::string(kWords[(i / kHostCount) % std::size(kWords)]) + "-" + std::to_string(i) + "." +
                    std::string(host));
    }
    return v;
}

} // namespace wt::gen
