// What the appliance needs to know of a Linux interface it reads through a packet socket
// (net_af_packet): its driver, MTU and offloads, read with the ethtool ioctls at start. With offloads on
// (every veth, most NICs), a packet socket sees unfinished packets: TCP/UDP super-frames of up to 64 KB
// (TSO, GSO, GRO, UDP_SEGMENT) and checksums left to offload. The ring is sized for the super-frames
// (app/config: kAfPacketFrameSize), and an inline port finishes them before sending (parsers/net/offload).
#pragma once

#include <string>

namespace wt::app {

struct InterfaceFacts {
    bool found = false;
    std::string driver;  // "veth", "e1000e", ... ("" when the driver does not say)
    int mtu = 0;
    bool gro = false;
    bool lro = false;
    bool gso = false;
    bool tso = false;
    bool tx_checksum = false;

    // "GRO, GSO, TSO, tx checksum" (the offloads that are on), or "none".
    [[nodiscard]] std::string offloads_text() const;
    // Whether frames larger than the MTU or with partial checksums can reach a packet socket here. A
    // veth's peer offloads as it pleases, whatever this end says, so a veth always can.
    [[nodiscard]] bool delivers_unfinished() const { return gro || lro || gso || tso || tx_checksum || driver == "veth"; }
};

// Reads the facts of `name` (found = false when there is no such interface).
[[nodiscard]] InterfaceFacts read_interface(const std::string& name);

} // namespace wt::app
