#include "app/live/ports.hpp"

#include "app/config/config.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <net/if.h>

namespace wt::app {

const std::uint8_t kSymmetricRssKey[40] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

namespace {

constexpr std::uint64_t kWantedRss = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

// Drivers whose queues are not filled by a hash at all: each queue is its own
// source (a capture file, a ring). Several queues are the operator's own split.
bool queues_are_separate_sources(const std::string& driver) {
    return driver == "net_pcap" || driver == "net_ring" || driver == "net_null" || driver == "net_memif";
}

unsigned pool_size(const PortSpec& spec, std::uint16_t peer_tx_descriptors, std::uint16_t queues, std::uint16_t burst,
                   unsigned cache) {
    // Every queue's RX ring full, the peer's TX rings full (inline: our mbufs wait
    // there), a burst in flight per queue, and each lcore's cache.
    const unsigned need = queues * (spec.rx_descriptors + peer_tx_descriptors + 2u * burst) +
                          (queues + 1u) * cache + 1024u;
    unsigned n = 1;
    while (n < need + 1) {
        n <<= 1;
    }
    return n - 1; // a power of two minus one is the mempool's optimum
}

// af_packet: mbufs live from the RX copy to the TX copy (or the free) of one burst: a few bursts per
// queue and the lcore caches (64 KB each, so no slack beyond that).
unsigned af_packet_pool_size(std::uint16_t queues, std::uint16_t burst, unsigned cache) {
    const unsigned need = queues * 3u * burst + (queues + 1u) * cache;
    unsigned n = 1;
    while (n < need + 1) {
        n <<= 1;
    }
    return n - 1;
}

} // namespace

bool open_ports(const std::vector<PortSpec>& specs, std::uint16_t queues, std::uint16_t burst, unsigned mbufs,
                std::vector<OpenPort>& out, std::string& error) {
    out.clear();
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const PortSpec& spec = specs[i];
        OpenPort port;
        port.spec = spec;
        if (rte_eth_dev_get_port_by_name(spec.device.c_str(), &port.port_id) != 0) {
            std::string known;
            std::uint16_t pid = 0;
            RTE_ETH_FOREACH_DEV(pid) {
                char name[RTE_ETH_NAME_MAX_LEN];
                if (rte_eth_dev_get_name_by_port(pid, name) == 0) {
                    known += fmt::format("{}{}", known.empty() ? "" : ", ", name);
                }
            }
            error = fmt::format("port '{}': no DPDK device named '{}' (devices found: {}); a PCI NIC must be bound to "
                                "vfio-pci and allowed in [eal] allow, a virtual one listed in [eal] vdevs",
                                spec.name, spec.device, known.empty() ? "none" : known);
            close_ports(out);
            return false;
        }
        rte_eth_dev_info info{};
        if (const int rc = rte_eth_dev_info_get(port.port_id, &info); rc != 0) {
            error = fmt::format("port '{}': cannot read device info: {}", spec.name, rte_strerror(-rc));
            close_ports(out);
            return false;
        }
        port.driver = info.driver_name != nullptr ? info.driver_name : "";
        if (port.driver == "net_af_packet") {
            char ifname[IF_NAMESIZE] = {};
            port.linux_socket = true;
            port.interface = info.if_index != 0 && ::if_indextoname(info.if_index, ifname) != nullptr ? ifname : "";
            port.facts = read_interface(port.interface);
            port.ring_limit = kAfPacketLargestFrame;
        }
        if (info.max_rx_queues < queues || info.max_tx_queues < queues) {
            error = fmt::format("port '{}' ({}) has {} RX / {} TX queues, {} workers need {} each{}", spec.name,
                                port.driver, info.max_rx_queues, info.max_tx_queues, queues, queues,
                                port.driver == "net_af_packet" ? fmt::format(": add qpairs={} to its vdev", queues)
                                                               : std::string());
            close_ports(out);
            return false;
        }

        rte_eth_conf conf{};
        std::array<std::uint8_t, 64> key{};
        if (queues > 1) {
            const std::uint64_t hf = info.flow_type_rss_offloads & kWantedRss;
            if (hf != 0) {
                const std::size_t key_len = info.hash_key_size != 0 ? std::min<std::size_t>(info.hash_key_size, key.size())
                                                                    : sizeof(kSymmetricRssKey);
                for (std::size_t b = 0; b < key_len; ++b) {
                    key[b] = kSymmetricRssKey[b % 2];
                }
                conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
                conf.rx_adv_conf.rss_conf.rss_key = key.data();
                conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<std::uint8_t>(key_len);
                conf.rx_adv_conf.rss_conf.rss_hf = hf;
                port.rss = true;
            } else if (port.driver == "net_af_packet") {
                // PACKET_FANOUT_HASH spreads by the kernel's flow hash, which is
                // symmetric (flow dissector keys are ordered before hashing).
                port.rss = true;
            } else if (!queues_are_separate_sources(port.driver)) {
                error = fmt::format("port '{}' ({}) cannot spread flows over {} queues (no RSS for IP/TCP/UDP): run "
                                    "one worker, or use a NIC with RSS",
                                    spec.name, port.driver, queues);
                close_ports(out);
                return false;
            }
        }
        if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
            // Every mbuf we send comes from one pool and has one reference.
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
        }
        if (const int rc = rte_eth_dev_configure(port.port_id, queues, queues, &conf); rc != 0) {
            error = fmt::format("port '{}': configure failed: {}", spec.name, rte_strerror(-rc));
            close_ports(out);
            return false;
        }
        std::uint16_t rxd = spec.rx_descriptors;
        std::uint16_t txd = spec.tx_descriptors;
        if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port.port_id, &rxd, &txd); rc != 0) {
            error = fmt::format("port '{}': descriptor counts refused: {}", spec.name, rte_strerror(-rc));
            close_ports(out);
            return false;
        }
        port.spec.rx_descriptors = rxd;
        port.spec.tx_descriptors = txd;
        const int socket = rte_eth_dev_socket_id(port.port_id);
        // af_packet copies each frame into one mbuf (up to 64 KB: kAfPacketFrameSize) and, on TX, out of it at
        // once: its pool needs big mbufs but few, only the bursts in flight (it has no descriptors).
        const unsigned cache = port.linux_socket ? 32 : 256;
        const std::uint16_t data_room = port.linux_socket ? 65535 : RTE_MBUF_DEFAULT_BUF_SIZE;
        const unsigned count = mbufs != 0           ? mbufs
                               : port.linux_socket ? af_packet_pool_size(queues, burst, cache)
                                                   : pool_size(port.spec, txd, queues, burst, cache);
        const std::string pool_name = fmt::format("wt_rx_{}", i);
        port.pool = rte_pktmbuf_pool_create(pool_name.c_str(), count, cache, 0, data_room,
                                            socket < 0 ? SOCKET_ID_ANY : socket);
        if (port.pool == nullptr) {
            error = fmt::format("port '{}': cannot create a pool of {} mbufs: {} (raise [eal] memory_mb)", spec.name,
                                count, rte_strerror(rte_errno));
            close_ports(out);
            return false;
        }
        for (std::uint16_t q = 0; q < queues; ++q) {
            if (const int rc = rte_eth_rx_queue_setup(port.port_id, q, rxd, socket < 0 ? SOCKET_ID_ANY : socket,
                                                      nullptr, port.pool);
                rc != 0) {
                error = fmt::format("port '{}': RX queue {} setup failed: {}", spec.name, q, rte_strerror(-rc));
                rte_mempool_free(port.pool);
                close_ports(out);
                return false;
            }
            rte_eth_txconf txconf = info.default_txconf;
            txconf.offloads = conf.txmode.offloads;
            if (const int rc = rte_eth_tx_queue_setup(port.port_id, q, txd, socket < 0 ? SOCKET_ID_ANY : socket, &txconf);
                rc != 0) {
                error = fmt::format("port '{}': TX queue {} setup failed: {}", spec.name, q, rte_strerror(-rc));
                rte_mempool_free(port.pool);
                close_ports(out);
                return false;
            }
        }
        if (const int rc = rte_eth_dev_start(port.port_id); rc != 0) {
            error = fmt::format("port '{}': start failed: {}", spec.name, rte_strerror(-rc));
            rte_mempool_free(port.pool);
            close_ports(out);
            return false;
        }
        if (spec.promiscuous) {
            // Not every driver has the notion (net_pcap); a refusal is not fatal.
            (void)rte_eth_promiscuous_enable(port.port_id);
        }
        rte_eth_stats_reset(port.port_id);
        out.push_back(std::move(port));
    }
    return true;
}

void close_ports(std::vector<OpenPort>& ports) {
    for (OpenPort& p : ports) {
        (void)rte_eth_dev_stop(p.port_id);
        (void)rte_eth_dev_close(p.port_id);
        if (p.pool != nullptr) {
            rte_mempool_free(p.pool);
            p.pool = nullptr;
        }
    }
    ports.clear();
}

PortCounters read_port_counters(const OpenPort& port) {
    PortCounters c;
    rte_eth_stats st{};
    if (rte_eth_stats_get(port.port_id, &st) == 0) {
        c.rx_packets = st.ipackets;
        c.rx_bytes = st.ibytes;
        c.tx_packets = st.opackets;
        c.tx_bytes = st.obytes;
        c.rx_missed = st.imissed;
        c.rx_errors = st.ierrors;
        c.tx_errors = st.oerrors;
        c.rx_nombuf = st.rx_nombuf;
    }
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port.port_id, &link) == 0) {
        c.link_up = link.link_status == RTE_ETH_LINK_UP;
        c.link_speed_mbps = link.link_speed;
    }
    return c;
}

} // namespace wt::app
