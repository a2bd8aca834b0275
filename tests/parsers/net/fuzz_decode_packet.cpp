// libFuzzer: byte 0 picks the link type, byte 1 how many bytes the "capture" cut
// off (wire_len = frame size + byte 1), the rest is the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "parsers/net/packet.hpp"
#include "tests/parsers/net/same_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    if (size < 2) {
        return 0;
    }
    // Append only: seeds in corpus/fuzz_decode_packet/ pick their link by index.
    static constexpr LinkType kLinks[] = {LinkType::kEthernet, LinkType::kLinuxSll, LinkType::kLinuxSll2,
                                          LinkType::kRaw,      LinkType::kIpv4,     LinkType::kIpv6,
                                          LinkType::kNull,     LinkType::kLoop,     static_cast<LinkType>(147),
                                          LinkType::kPpp,      LinkType::kPppHdlc,  LinkType::kCHdlc,
                                          LinkType::kIeee80211, LinkType::kIeee80211Radiotap, LinkType::kPpi};
    const LinkType link = kLinks[data[0] % std::size(kLinks)];
    const Bytes frame(data + 2, size - 2);
    const std::uint32_t wire_len = data[1] == 0 ? 0 : static_cast<std::uint32_t>(frame.size() + data[1]);
    DecodedPacket p;
    const DecodeStatus s = decode_packet(link, frame, p, wire_len);
    if (s != p.status || s >= DecodeStatus::kCount) {
        std::abort();
    }
    if (!p.l4_payload.empty() &&
        (p.l4_payload.data() < frame.data() || p.l4_payload.data() + p.l4_payload.size() > frame.data() + frame.size())) {
        std::abort();
    }
    if (s == DecodeStatus::kOk && p.ip_version != 4 && p.ip_version != 6) {
        std::abort();
    }
    // kOk always went through an outermost IP header, whose length ip_bytes keeps.
    if (s == DecodeStatus::kOk && p.ip_bytes == 0) {
        std::abort();
    }
    // The Ethernet/IPv4/TCP shortcut must agree with the general decoder field by field.
    DecodedPacket general;
    if (decode_packet_general(link, frame, general, wire_len) != s ||
        !wt::parsers::test::decode_difference(p, general).empty()) {
        std::abort();
    }
    char buf[64];
    format_ip(p.src, buf, sizeof(buf));
    format_ip(p.dst, buf, sizeof(buf));
    return 0;
}
