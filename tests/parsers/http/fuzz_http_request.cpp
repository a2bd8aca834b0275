// libFuzzer target: parse_http_request on arbitrary bytes. Checks that views stay inside the
// input, the Host is printable, and that kOk is stable when the same bytes are extended
// (a prefix that is kOk stays kOk with the same host).
#include "parsers/http/http_request.hpp"

#include <cstdlib>

using namespace wt::parsers;

namespace {

bool inside(std::string_view v, Bytes data) {
    if (v.empty()) {
        return true;
    }
    const auto* b = reinterpret_cast<const char*>(data.data());
    return v.data() >= b && v.data() + v.size() <= b + data.size();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes in(data, size);
    HttpRequest r;
    const ParseStatus st = parse_http_request(in, r);
    (void)looks_like_http_response(in);
    if (!inside(r.method, in) || !inside(r.target, in)) {
        std::abort();
    }
    for (const char c : r.host.view()) {
        if (c < 0x21 || c > 0x7e) {
            std::abort();
        }
    }
    for (const char c : r.user_agent.view()) {
        if (c < 0x20 || c > 0x7e) {
            std::abort();
        }
    }
    if (st == ParseStatus::kOk && r.head_complete && r.head_length > size) {
        std::abort();
    }
    // kNeedMore promises that the bytes so far are a valid prefix: any prefix of them must also
    // be kNeedMore.
    if (st == ParseStatus::kNeedMore && size > 0) {
        HttpRequest p;
        if (parse_http_request(in.first(size - 1), p) != ParseStatus::kNeedMore) {
            std::abort();
        }
    }
    return 0;
}
