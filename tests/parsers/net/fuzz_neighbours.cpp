// libFuzzer target for parsers/net/neighbours: the first byte picks ARP, Neighbour Discovery (from a
// link-local or the unspecified source) or DHCP; the rest is the message. Any input parses or is
// refused with a status, never read out of bounds (ASan), and what parses holds together.
#include "parsers/net/neighbours.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    if (size < 1) {
        return 0;
    }
    const Bytes message(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: {
        ArpMessage m;
        if (parse_arp(message, m) == ParseStatus::kOk && (message.size() < 28 || m.sender_ip.version != 4)) {
            std::abort();
        }
        break;
    }
    case 1:
    case 2: {
        IpAddress source;
        source.version = 6;
        if (data[0] % 4 == 1) {
            source.bytes[0] = 0xfe;
            source.bytes[1] = 0x80;
            source.bytes[15] = 1;
        }
        NdpMessage m;
        if (parse_ndp(message, source, m) == ParseStatus::kOk &&
            (m.type < 133 || m.type > 136 || (m.address.version != 0 && m.address.version != 6))) {
            std::abort();
        }
        break;
    }
    default: {
        DhcpMessage m;
        if (parse_dhcp(message, m) == ParseStatus::kOk &&
            (message.size() < 240 || (m.op != 1 && m.op != 2) || m.host_name.size() > 64 ||
             (m.address.version != 0 && m.address.version != 4))) {
            std::abort();
        }
        break;
    }
    }
    return 0;
}
