// libFuzzer: parse_ech_config_list and parse_ech_client_hello on arbitrary bytes.
#include "parsers/tls/ech.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    EchConfigSummary s;
    const ParseStatus st = parse_ech_config_list(Bytes(data, size), s);
    if (s.config_count > s.config_ids.size() || (s.config_count > 0 && s.public_name.empty()) ||
        (st != ParseStatus::kOk && st != ParseStatus::kMalformed)) {
        __builtin_trap();
    }
    EchClientHello e;
    const ParseStatus est = parse_ech_client_hello(Bytes(data, size), e);
    if (est == ParseStatus::kOk && e.type == EchHelloType::kOuter && 10u + e.enc_length + e.payload_length != size) {
        __builtin_trap();
    }
    return 0;
}
