// libFuzzer: parse_server_hello on arbitrary bytes.
#include "parsers/tls/client_hello.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    TlsServerHello sh;
    const ParseStatus st = parse_server_hello(Bytes(data, size), sh);
    if (st == ParseStatus::kOk && (sh.message_length > size || (!sh.has_supported_versions &&
                                                                 sh.selected_version != sh.legacy_version))) {
        __builtin_trap();
    }
    return 0;
}
