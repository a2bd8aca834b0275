// Field-by-field equality of two DecodedPackets, for the tests that hold
// decode_packet's Ethernet/IPv4/TCP shortcut to the general decoder's results.
#pragma once

#include "parsers/net/packet.hpp"

#include <string>

namespace wt::parsers::test {

// "" when equal, else the first field that differs.
inline std::string decode_difference(const DecodedPacket& a, const DecodedPacket& b) {
#define WT_SAME(field)                                                                                                \
    if (!(a.field == b.field)) {                                                                                      \
        return #field;                                                                                                \
    }
    WT_SAME(status)
    WT_SAME(has_mac)
    WT_SAME(fragmented)
    WT_SAME(first_fragment)
    WT_SAME(capture_truncated)
    WT_SAME(tunneled)
    WT_SAME(vlan_depth)
    WT_SAME(ip_version)
    WT_SAME(l4_proto)
    WT_SAME(tcp_flags)
    WT_SAME(outer_vlan)
    WT_SAME(inner_vlan)
    WT_SAME(ethertype)
    WT_SAME(src_port)
    WT_SAME(dst_port)
    WT_SAME(tcp_window)
    WT_SAME(ip_bytes)
    WT_SAME(tcp_seq)
    WT_SAME(tcp_ack)
    WT_SAME(src_mac)
    WT_SAME(dst_mac)
    WT_SAME(src)
    WT_SAME(dst)
    WT_SAME(l4_payload.data())
    WT_SAME(l4_payload.size())
#undef WT_SAME
    return {};
}

} // namespace wt::parsers::test
