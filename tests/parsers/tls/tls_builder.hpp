// Test-only builder for hand-made TLS handshake messages and records (Envoy's
// CreateClientHello idea): every push is a named wire field, length prefixes are
// back-patched when a scope closes. Allocates freely: never used inside a parse.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace wt::parsers::test {

class Builder {
public:
    Builder& u8(std::uint8_t v) { _b.push_back(v); return *this; }
    Builder& u16(std::uint16_t v) { u8(static_cast<std::uint8_t>(v >> 8)); return u8(static_cast<std::uint8_t>(v)); }
    Builder& u24(std::uint32_t v) { u8(static_cast<std::uint8_t>(v >> 16)); return u16(static_cast<std::uint16_t>(v)); }
    Builder& bytes(std::string_view s) { _b.insert(_b.end(), s.begin(), s.end()); return *this; }
    Builder& fill(std::size_t n, std::uint8_t v) { _b.insert(_b.end(), n, v); return *this; }
    Builder& u16s(std::initializer_list<std::uint16_t> vs) { for (auto v : vs) { u16(v); } return *this; }

    // Opens a length prefix of `width` bytes; close() writes the length of what followed.
    Builder& open(int width) { _stack.push_back({_b.size(), width}); fill(static_cast<std::size_t>(width), 0); return *this; }
    Builder& close() {
        const auto [pos, width] = _stack.back();
        _stack.pop_back();
        std::size_t len = _b.size() - pos - static_cast<std::size_t>(width);
        for (int i = width - 1; i >= 0; --i) {
            _b[pos + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(len);
            len >>= 8;
        }
        return *this;
    }
    // One extension: type, then extension_data<0..2^16-1> holding what `body` pushes.
    template <typename F>
    Builder& ext(std::uint16_t type, F&& body) { u16(type); open(2); body(*this); return close(); }

    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return _b; }
    std::vector<std::uint8_t>& data() { return _b; }

private:
    struct Open { std::size_t pos; int width; };
    std::vector<std::uint8_t> _b;
    std::vector<Open> _stack;
};

// A ClientHello message (handshake header included) with the fields a test usually
// wants to vary. `extensions` pushes the content of the extension block.
template <typename F>
std::vector<std::uint8_t> client_hello(F&& extensions, std::initializer_list<std::uint16_t> suites = {0x1301, 0xc02f}) {
    Builder b;
    b.u8(1).open(3);                  // msg_type client_hello, uint24 length
    b.u16(0x0303);                    // legacy_version
    b.fill(32, 0x11);                 // random
    b.open(1).fill(32, 0x22).close(); // legacy_session_id<0..32>
    b.open(2).u16s(suites).close();   // cipher_suites<2..2^16-2>
    b.open(1).u8(0).close();          // legacy_compression_methods: null
    b.open(2);                        // extensions<8..2^16-1>
    extensions(b);
    b.close();
    b.close();
    return b.data();
}

inline void sni_ext(Builder& b, std::string_view host) {
    b.ext(0x0000, [&](Builder& e) {
        e.open(2).u8(0).open(2).bytes(host).close().close(); // server_name_list: host_name
    });
}

inline void alpn_ext(Builder& b, std::initializer_list<std::string_view> protos) {
    b.ext(0x0010, [&](Builder& e) {
        e.open(2);
        for (auto p : protos) {
            e.open(1).bytes(p).close();
        }
        e.close();
    });
}

// Wraps a handshake message in TLS records of at most `max_fragment` bytes.
inline std::vector<std::uint8_t> records(const std::vector<std::uint8_t>& msg, std::size_t max_fragment,
                                         std::uint8_t type = 22) {
    std::vector<std::uint8_t> out;
    for (std::size_t off = 0; off < msg.size(); off += max_fragment) {
        const std::size_t n = std::min(max_fragment, msg.size() - off);
        out.push_back(type);
        out.push_back(0x03);
        out.push_back(0x01);
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
        out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(off),
                   msg.begin() + static_cast<std::ptrdiff_t>(off + n));
    }
    return out;
}

} // namespace wt::parsers::test
