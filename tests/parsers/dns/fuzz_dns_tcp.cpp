// libFuzzer target: parse_dns_tcp_message on an arbitrary stream, walking message after message
// like the flow code would, and checking that the prefix of a valid message one byte short is
// kNeedMore (so a flow waiting for more bytes is never told the message is bad too early).
#include "parsers/dns/dns_message.hpp"

#include <cstdlib>

using namespace wt::parsers;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto* out = new DnsMessage();
    Bytes stream(data, size);
    // At most 64 messages per input keeps each run short.
    for (int i = 0; i < 64 && !stream.empty(); ++i) {
        std::size_t consumed = 0;
        const ParseStatus st = parse_dns_tcp_message(stream, *out, consumed);
        if (consumed > stream.size()) {
            std::abort();
        }
        if (st == ParseStatus::kNeedMore || consumed == 0) {
            if (consumed != 0) {
                std::abort();
            }
            break;
        }
        if (st == ParseStatus::kTruncated) {
            std::abort(); // whole messages are never "truncated"
        }
        if (st == ParseStatus::kOk) {
            // A strict prefix of a complete message must never parse as kOk.
            std::size_t c2 = 0;
            const ParseStatus pst = parse_dns_tcp_message(stream.first(consumed - 1), *out, c2);
            if (pst != ParseStatus::kNeedMore || c2 != 0) {
                std::abort();
            }
        }
        stream = stream.subspan(consumed);
    }
    return 0;
}
