// libFuzzer target: parse_dns_message on arbitrary bytes. Checks the result's invariants.
#include "parsers/dns/dns_message.hpp"

#include <cstdlib>
#include <memory>

namespace {

using namespace wt::parsers;

void check_text(std::string_view s) {
    // Names are printable ASCII (escaped), so always valid UTF-8/JSON-safe.
    for (const char c : s) {
        if (c < 0x21 || c > 0x7e) {
            std::abort();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto* out = new DnsMessage();
    const ParseStatus st = parse_dns_message(Bytes(data, size), *out);
    if (st == ParseStatus::kNeedMore || st == ParseStatus::kUnsupported || st >= ParseStatus::kCount) {
        std::abort();
    }
    if (out->answer_count > limits::kMaxDnsAnswers) {
        std::abort();
    }
    if (out->answers_not_stored > 0 && out->answer_count != limits::kMaxDnsAnswers) {
        std::abort();
    }
    if (out->question_ok) {
        check_text(out->qname.view());
    } else if (!out->qname.empty()) {
        std::abort();
    }
    for (std::size_t i = 0; i < out->answer_count; ++i) {
        const DnsAnswer& a = out->answers[i];
        check_text(a.owner.view());
        check_text(a.target.view());
        if (a.addr_len != 0 && a.addr_len != 4 && a.addr_len != 16) {
            std::abort();
        }
    }
    // A valid message cut short is kTruncated or (cut after the answers) still kOk.
    if (st == ParseStatus::kOk && size > 0) {
        static auto* cut = new DnsMessage();
        const ParseStatus cst = parse_dns_message(Bytes(data, size - 1), *cut);
        if (cst != ParseStatus::kOk && cst != ParseStatus::kTruncated) {
            std::abort();
        }
        if (cut->question_ok && cut->qname.view() != out->qname.view()) {
            std::abort();
        }
    }
    return 0;
}
