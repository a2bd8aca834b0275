// The appliance's Ethernet ports: opening them from the configuration, one RX
// and one TX queue per worker, symmetric RSS, and their counters.
#pragma once

#include "app/live/linux_interface.hpp"

#include <cstdint>
#include <string>
#include <vector>

struct rte_mempool;

namespace wt::app {

struct PortSpec {
    std::string name;   // the configuration's label ("wan")
    std::string device; // DPDK's device name (PCI address or vdev name)
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    bool promiscuous = true;
};

struct OpenPort {
    PortSpec spec;
    std::uint16_t port_id = 0;
    std::uint16_t peer_index = 0xffff; // index into the open ports this one forwards to (inline)
    std::string driver;
    bool rss = false;                  // hashes flows over the queues in hardware (or the kernel: af_packet fanout)
    rte_mempool* pool = nullptr;
    // net_af_packet: a Linux interface through a packet socket. Its frames may be super-frames with
    // partial checksums (InterfaceFacts); the ring holds frames of up to ring_limit bytes.
    bool linux_socket = false;
    std::string interface;
    InterfaceFacts facts;
    std::uint32_t ring_limit = 0;
};

struct PortCounters {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_missed = 0; // imissed: the NIC had no descriptor
    std::uint64_t rx_errors = 0;
    std::uint64_t tx_errors = 0;
    std::uint64_t rx_nombuf = 0;
    bool link_up = false;
    std::uint32_t link_speed_mbps = 0;
};

// Opens every port with `queues` RX and TX queues. `mbufs` per port pool (0 =
// sized from the descriptors). On failure, error names the port and the reason.
bool open_ports(const std::vector<PortSpec>& specs, std::uint16_t queues, std::uint16_t burst, unsigned mbufs,
                std::vector<OpenPort>& out, std::string& error);
void close_ports(std::vector<OpenPort>& ports);
PortCounters read_port_counters(const OpenPort& port);

// The 40-byte Toeplitz key made of one repeated 16-bit pattern: hashing (a, b) and
// (b, a) gives the same value, so both directions of a flow reach the same queue
// (Woo and Park, "Scalable TCP Session Monitoring with Symmetric Receive-side
// Scaling", 2012) and the workers' flow tables need no locks.
extern const std::uint8_t kSymmetricRssKey[40];

} // namespace wt::app
