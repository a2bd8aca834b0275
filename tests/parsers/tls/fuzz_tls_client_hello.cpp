// libFuzzer: parse_client_hello + ja4_fingerprint on arbitrary bytes (the input is a
// handshake message, as QUIC CRYPTO or the record layer would hand it over).
#include "parsers/tls/client_hello.hpp"
#include "parsers/tls/ja4.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    TlsClientHello ch;
    const ParseStatus st = parse_client_hello(Bytes(data, size), ch);
    if (st == ParseStatus::kOk || st == ParseStatus::kMalformed || st == ParseStatus::kTooLarge) {
        FixedString<40> fp;
        ja4_fingerprint(ch, 't', fp);
        if (fp.size() != 36) {
            __builtin_trap();
        }
    }
    if (st == ParseStatus::kOk && ch.message_length > size) {
        __builtin_trap();
    }
    return 0;
}
