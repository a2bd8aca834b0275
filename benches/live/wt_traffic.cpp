// wt-traffic: the two ends of the live rig (issue #17), in one process on one core.
//
//   wt-traffic --pcap FILE --to SOCKET --from SOCKET [--laps N | --seconds S] [--lossless]
//
// It loads a capture into mbufs once, then sends it, lap after lap, out of a memif port (role
// server, at --to) and counts what comes back on a second memif port (role server, at --from):
// the device under test (`wiretally run` inline, or `dpdk-testpmd --forward-mode=io` as the
// ceiling) joins both sockets as a client and forwards between them. Source and sink share one
// polling loop so that the device under test has the other cores of a small machine.
//
// --lossless: a burst the device does not take at once (its memif ring is full) is offered
// again until it is taken, so every packet of every lap reaches it and its tallies can be held
// to the capture's known truth; the send rate is then the device's zero-loss rate. Without it,
// what the ring refuses is counted (tx_refused) and dropped, as a NIC would drop it.
//
// Prints one JSON object on stdout: packets and bytes sent and received, the time from the
// first packet sent to the last, the rates, and the TSC frequency. With --hold it then keeps
// both ports up, polling neither, until its standard input closes: the caller reads the device's
// counters and stops the device first, so that no side polls a memif ring while its peer unmaps
// it (DPDK 22.11's memif tears a connection down on its interrupt thread, under the poll). Exit codes: 0 done, 64 usage,
// 66 capture unreadable, 69 the device under test never connected, 70 DPDK failure.
#include "parsers/net/capture_file.hpp"
#include "pipeline/worker.hpp"

#include <CLI/CLI.hpp>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cerrno>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr std::uint16_t kBurst = 32;
constexpr int kExitUsage = 64;
constexpr int kExitNoInput = 66;
constexpr int kExitUnavailable = 69;
constexpr int kExitSoftware = 70;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct Options {
    std::string pcap;
    std::string to_socket;
    std::string from_socket;
    std::uint64_t laps = 1;
    double seconds = 0; // > 0: send for this long instead of a number of laps
    bool lossless = false;
    unsigned lcore = 0;
    double connect_timeout_s = 30;
    double drain_s = 0.5; // after the last packet sent, how long the sink keeps counting arrivals
    double progress_s = 0; // > 0: a progress line on stderr this often
    std::uint16_t queues = 1;
    std::string ready_file;
    bool hold = false;  // after the summary, keep the ports up until stdin closes
};

// The capture, mapped: frames are sent straight from the file's pages (each mbuf of the ring is a
// header attached to its frame as an external buffer), so a capture of 15 M frames costs its own
// size and 15 M mbuf headers, not 15 M full-sized mbufs.
struct Mapped {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    ~Mapped() {
        if (data != nullptr) {
            ::munmap(const_cast<std::uint8_t*>(data), size);
        }
    }
};

// Mbufs whose data is a frame of the mapped capture, attached as an external buffer instead of
// copied, so a million-frame capture costs its size plus the mbuf headers. One shared info serves
// every frame: each attach takes a reference and the mapping's own keeps the count above zero, so
// the free callback is never reached. Never written through: the source only sends.
class MappedFrames {
public:
    MappedFrames() noexcept {
        _frames.free_cb = [](void*, void*) {};
        rte_mbuf_ext_refcnt_set(&_frames, 1);
    }
    MappedFrames(const MappedFrames&) = delete;
    MappedFrames& operator=(const MappedFrames&) = delete;

    void attach(rte_mbuf* m, const std::uint8_t* data, std::uint16_t len) noexcept {
        rte_mbuf_ext_refcnt_update(&_frames, 1);
        rte_pktmbuf_attach_extbuf(m, const_cast<std::uint8_t*>(data), rte_mem_virt2iova(data), len, &_frames);
        m->data_len = len;
        m->pkt_len = len;
    }

private:
    rte_mbuf_ext_shared_info _frames{};
};

struct FrameSpan {
    const std::uint8_t* data;
    std::uint16_t size;
};

bool load_capture(const std::string& path, Mapped& file, std::vector<FrameSpan>& frames, std::uint64_t& bytes,
                  std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        error = path + ": " + std::strerror(errno);
        if (fd >= 0) {
            ::close(fd);
        }
        return false;
    }
    file.size = static_cast<std::size_t>(st.st_size);
    void* p = file.size != 0 ? ::mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : MAP_FAILED;
    ::close(fd);
    if (p == MAP_FAILED) {
        error = path + (file.size == 0 ? ": empty" : ": cannot map: " + std::string(std::strerror(errno)));
        file.size = 0;
        return false;
    }
    file.data = static_cast<const std::uint8_t*>(p);
    auto reader = wt::parsers::CaptureReader::open(wt::parsers::Bytes(file.data, file.size));
    if (reader.status() != wt::parsers::CaptureStatus::kOk) {
        error = path + ": " + std::string(to_string(reader.status()));
        return false;
    }
    if (reader.link_type() != wt::parsers::LinkType::kEthernet) {
        error = path + ": not an Ethernet capture (memif carries Ethernet frames)";
        return false;
    }
    wt::parsers::CaptureRecord r;
    for (;;) {
        const auto status = reader.next(r);
        if (status == wt::parsers::CaptureStatus::kEnd) {
            break;
        }
        if (status != wt::parsers::CaptureStatus::kOk) {
            error = path + ": " + std::string(to_string(status)) + " at byte " + std::to_string(reader.error_offset());
            return false;
        }
        if (r.data.size() < 14 || r.data.size() > 9000) {
            continue; // not a frame a port carries
        }
        frames.push_back(FrameSpan{r.data.data(), static_cast<std::uint16_t>(r.data.size())});
        bytes += r.data.size();
    }
    if (frames.empty()) {
        error = path + ": no frames";
        return false;
    }
    return true;
}

bool start_port(std::uint16_t port, std::uint16_t queues, rte_mempool* pool, std::string& error) {
    rte_eth_conf conf{};
    bool ok = rte_eth_dev_configure(port, queues, queues, &conf) == 0;
    for (std::uint16_t q = 0; ok && q < queues; ++q) {
        ok = rte_eth_rx_queue_setup(port, q, 1024, rte_eth_dev_socket_id(port), nullptr, pool) == 0 &&
             rte_eth_tx_queue_setup(port, q, 1024, rte_eth_dev_socket_id(port), nullptr) == 0;
    }
    if (!ok || rte_eth_dev_start(port) != 0) {
        error = "port " + std::to_string(port) + ": " + rte_strerror(rte_errno);
        return false;
    }
    return true;
}

bool link_up(std::uint16_t port) {
    rte_eth_link link{};
    return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

struct Totals {
    std::uint64_t sent_packets = 0;
    std::uint64_t sent_bytes = 0;
    std::uint64_t refused = 0; // not taken by the device (without --lossless: dropped)
    std::uint64_t retries = 0; // --lossless: bursts offered again
    std::uint64_t received_packets = 0;
    std::uint64_t received_bytes = 0;
    std::uint64_t laps = 0;
    std::uint64_t first_tx_tsc = 0;
    std::uint64_t last_tx_tsc = 0;
    std::uint64_t last_rx_tsc = 0;
};

// Up to four bursts a call: the sink drains faster than the source fills, so that what the device
// sends back is not dropped for want of room on the way out.
void receive(std::uint16_t port, std::uint16_t queue, Totals& t) {
    rte_mbuf* in[kBurst];
    for (int round = 0; round < 4; ++round) {
        const std::uint16_t n = rte_eth_rx_burst(port, queue, in, kBurst);
        if (n == 0) {
            return;
        }
        for (std::uint16_t i = 0; i < n; ++i) {
            t.received_bytes += rte_pktmbuf_pkt_len(in[i]);
        }
        t.received_packets += n;
        t.last_rx_tsc = rte_rdtsc();
        rte_pktmbuf_free_bulk(in, n);
    }
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App cli{"The live rig's traffic source and sink (issue #17): a capture sent lap after lap out of one memif "
                 "port, what comes back counted on another"};
    cli.add_option("--pcap", o.pcap, "capture to send (Ethernet frames; loaded into memory once)")->required();
    cli.add_option("--to", o.to_socket, "memif socket the device under test reads from (this end: server)")->required();
    cli.add_option("--from", o.from_socket, "memif socket the device under test writes to (this end: server)")->required();
    cli.add_option("--laps", o.laps, "times the capture is sent (default 1)");
    cli.add_option("--seconds", o.seconds, "send for this long instead (whole laps or not)");
    cli.add_flag("--lossless", o.lossless, "offer a refused burst again until it is taken (the zero-loss rate)");
    cli.add_option("--lcore", o.lcore, "the CPU the polling loop runs on (default 0)");
    cli.add_option("--queues", o.queues,
                   "queue pairs per port: each frame goes out on the queue its flow hashes to (the symmetric hash "
                   "a NIC's RSS would use, so both directions of a flow reach one worker of the device)")
        ->check(CLI::Range(1, 16));
    cli.add_option("--connect-timeout", o.connect_timeout_s, "seconds to wait for the device under test to connect");
    cli.add_option("--ready-file", o.ready_file,
                   "create this file once the ports are started and the capture loaded: a memif client that "
                   "connects earlier is turned away and does not try again");
    cli.add_option("--drain", o.drain_s, "seconds the sink keeps counting after the last packet sent");
    cli.add_flag("--hold", o.hold,
                 "after printing the summary, keep both ports up (not polled) until standard input closes, so that "
                 "the device under test is stopped before its peer goes");
    cli.add_option("--progress", o.progress_s,
                   "print {\"seconds\", \"sent\", \"received\", \"laps\"} as a JSON line on stderr this often (a rate over any "
                   "window of the run)");
    cli.footer("Exit codes: 0 done, 64 usage, 66 capture unreadable, 69 the device under test never connected, "
               "70 DPDK failure.");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = cli.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }

    Mapped file;
    std::vector<FrameSpan> frames;
    std::uint64_t capture_bytes = 0;
    std::string error;
    if (!load_capture(o.pcap, file, frames, capture_bytes, error)) {
        std::fprintf(stderr, "wt-traffic: %s\n", error.c_str());
        return kExitNoInput;
    }
    // Memory: a bare mbuf header per frame of the ring, and full mbufs for what comes back.
    constexpr std::size_t kReceiveMbufs = 16384;
    constexpr std::size_t kMbufOverhead = 256; // rte_mbuf, the mempool's header and padding
    const std::size_t receive_room = RTE_MBUF_DEFAULT_BUF_SIZE + 7168; // up to 9000-byte frames
    const std::size_t memory_mb =
        (frames.size() * kMbufOverhead + kReceiveMbufs * (receive_room + kMbufOverhead)) / (1 << 20) + 256;

    const std::string prefix = "wt-traffic-" + std::to_string(::getpid());
    std::vector<std::string> eal = {"wt-traffic",
                                    "--no-huge",
                                    "--no-pci",
                                    "--no-shconf",
                                    "--no-telemetry",
                                    "--log-level=lib.eal:warning",
                                    "-l",
                                    std::to_string(o.lcore),
                                    "-m",
                                    std::to_string(memory_mb),
                                    "--file-prefix=" + prefix,
                                    "--vdev=net_memif_to,role=server,id=0,socket-abstract=no,socket=" + o.to_socket,
                                    "--vdev=net_memif_from,role=server,id=0,socket-abstract=no,socket=" + o.from_socket};
    std::vector<char*> eal_argv;
    for (std::string& a : eal) {
        eal_argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "wt-traffic: EAL: %s\n", rte_strerror(rte_errno));
        return kExitSoftware;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::uint16_t to_port = 0;
    std::uint16_t from_port = 0;
    if (rte_eth_dev_get_port_by_name("net_memif_to", &to_port) != 0 ||
        rte_eth_dev_get_port_by_name("net_memif_from", &from_port) != 0) {
        std::fprintf(stderr, "wt-traffic: the memif ports did not probe\n");
        return kExitSoftware;
    }
    rte_mempool* pool = rte_pktmbuf_pool_create("wt_traffic_rx", kReceiveMbufs, 256, 0,
                                                static_cast<std::uint16_t>(receive_room), static_cast<int>(rte_socket_id()));
    rte_mempool* headers = rte_pktmbuf_pool_create("wt_traffic_tx", static_cast<unsigned>(frames.size()), 0, 0, 0,
                                                   static_cast<int>(rte_socket_id()));
    if (pool == nullptr || headers == nullptr) {
        std::fprintf(stderr, "wt-traffic: mbuf pools (%zu frames): %s\n", frames.size(), rte_strerror(rte_errno));
        return kExitSoftware;
    }
    if (!start_port(to_port, o.queues, pool, error) || !start_port(from_port, o.queues, pool, error)) {
        std::fprintf(stderr, "wt-traffic: %s\n", error.c_str());
        return kExitSoftware;
    }
    // Each mbuf of the ring keeps an extra reference, so the driver's free after sending only drops
    // that one and the frame goes again next lap.
    static MappedFrames mapped_frames;
    // One ring per queue, each in capture order: a flow's frames keep their order on its queue.
    std::vector<std::vector<rte_mbuf*>> rings(o.queues);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(headers);
        if (m == nullptr) {
            std::fprintf(stderr, "wt-traffic: the mbuf pool ran dry loading the capture\n");
            return kExitSoftware;
        }
        mapped_frames.attach(m, frames[i].data, frames[i].size);
        const std::uint64_t hash = o.queues > 1 ? wt::pipeline::Worker::dispatch_hash(
                                                      wt::parsers::LinkType::kEthernet,
                                                      wt::parsers::Bytes(frames[i].data, frames[i].size), 0)
                                                : 0;
        rings[hash % o.queues].push_back(m);
    }
    const std::size_t frame_count = frames.size();
    std::vector<FrameSpan>().swap(frames);

    if (!o.ready_file.empty()) {
        const int fd = ::open(o.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            std::fprintf(stderr, "wt-traffic: %s: %s\n", o.ready_file.c_str(), std::strerror(errno));
            return kExitSoftware;
        }
        ::close(fd);
    }
    const std::uint64_t hz = rte_get_tsc_hz();
    const std::uint64_t connect_deadline = rte_rdtsc() + static_cast<std::uint64_t>(o.connect_timeout_s * static_cast<double>(hz));
    while (!(link_up(to_port) && link_up(from_port))) {
        if (g_stop.load() || rte_rdtsc() > connect_deadline) {
            std::fprintf(stderr, "wt-traffic: the device under test did not connect to %s and %s within %.0f s\n",
                         o.to_socket.c_str(), o.from_socket.c_str(), o.connect_timeout_s);
            return kExitUnavailable;
        }
        rte_delay_us_sleep(10000);
    }

    Totals t;
    const std::uint64_t send_until = o.seconds > 0 ? rte_rdtsc() + static_cast<std::uint64_t>(o.seconds * static_cast<double>(hz)) : 0;
    std::vector<std::size_t> next(o.queues, 0);
    std::vector<std::uint64_t> laps(o.queues, 0);
    t.first_tx_tsc = rte_rdtsc();
    const std::uint64_t progress_every = static_cast<std::uint64_t>(o.progress_s * static_cast<double>(hz));
    std::uint64_t next_progress = t.first_tx_tsc + progress_every;
    std::uint64_t bursts = 0;
    // Every queue sends its ring `laps` times (or until the time is up); a queue whose ring is empty has none to send.
    const auto queue_done = [&](std::uint16_t q) { return rings[q].empty() || (o.seconds <= 0 && laps[q] >= o.laps); };
    for (std::uint16_t q = 0; !g_stop.load(std::memory_order_relaxed); q = static_cast<std::uint16_t>((q + 1) % o.queues)) {
        const auto all_done = [&] {
            for (std::uint16_t i = 0; i < o.queues; ++i) {
                if (!queue_done(i)) {
                    return false;
                }
            }
            return true;
        };
        if (o.seconds > 0 ? rte_rdtsc() >= send_until : all_done()) {
            break;
        }
        if (queue_done(q)) {
            continue;
        }
        std::vector<rte_mbuf*>& ring = rings[q];
        std::size_t& at = next[q];
        const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(kBurst, ring.size() - at));
        for (std::uint16_t i = 0; i < n; ++i) {
            rte_mbuf_refcnt_update(ring[at + i], 1);
        }
        std::uint16_t sent = rte_eth_tx_burst(to_port, q, &ring[at], n);
        while (sent < n && o.lossless && !g_stop.load(std::memory_order_relaxed)) {
            ++t.retries;
            for (std::uint16_t r = 0; r < o.queues; ++r) {
                receive(from_port, r, t); // keep the far side moving while the device catches up
            }
            sent += rte_eth_tx_burst(to_port, q, &ring[at + sent], static_cast<std::uint16_t>(n - sent));
        }
        for (std::uint16_t i = sent; i < n; ++i) {
            rte_mbuf_refcnt_update(ring[at + i], -1);
        }
        t.refused += n - sent;
        for (std::uint16_t i = 0; i < sent; ++i) {
            t.sent_bytes += ring[at + i]->pkt_len;
        }
        t.sent_packets += sent;
        at += n;
        if (at == ring.size()) {
            at = 0;
            ++laps[q];
        }
        receive(from_port, q, t);
        if (progress_every != 0 && (++bursts & 0x7) == 0) {
            if (const std::uint64_t now = rte_rdtsc(); now >= next_progress) {
                std::fprintf(stderr, "{\"seconds\": %.6f, \"sent\": %llu, \"received\": %llu, \"laps\": %llu}\n",
                             static_cast<double>(now - t.first_tx_tsc) / static_cast<double>(hz),
                             static_cast<unsigned long long>(t.sent_packets),
                             static_cast<unsigned long long>(t.received_packets),
                             static_cast<unsigned long long>(*std::min_element(laps.begin(), laps.end())));
                next_progress += progress_every;
            }
        }
    }
    t.laps = *std::min_element(laps.begin(), laps.end());
    t.last_tx_tsc = rte_rdtsc();
    // What is still in flight comes back within the drain time (the device's queues and ours).
    const std::uint64_t drain_end = rte_rdtsc() + static_cast<std::uint64_t>(o.drain_s * static_cast<double>(hz));
    while (rte_rdtsc() < drain_end) {
        for (std::uint16_t r = 0; r < o.queues; ++r) {
            receive(from_port, r, t);
        }
    }

    const double tx_s = static_cast<double>(t.last_tx_tsc - t.first_tx_tsc) / static_cast<double>(hz);
    const double rx_s =
        t.last_rx_tsc > t.first_tx_tsc ? static_cast<double>(t.last_rx_tsc - t.first_tx_tsc) / static_cast<double>(hz) : 0.0;
    std::printf("{\"capture_frames\": %zu, \"capture_bytes\": %llu, \"laps\": %llu, \"lossless\": %s,\n"
                " \"sent_packets\": %llu, \"sent_bytes\": %llu, \"refused\": %llu, \"retries\": %llu,\n"
                " \"received_packets\": %llu, \"received_bytes\": %llu,\n"
                " \"send_seconds\": %.6f, \"receive_seconds\": %.6f, \"send_pps\": %.0f, \"receive_pps\": %.0f, "
                "\"tsc_hz\": %llu}\n",
                frame_count, static_cast<unsigned long long>(capture_bytes), static_cast<unsigned long long>(t.laps),
                o.lossless ? "true" : "false", static_cast<unsigned long long>(t.sent_packets),
                static_cast<unsigned long long>(t.sent_bytes), static_cast<unsigned long long>(t.refused),
                static_cast<unsigned long long>(t.retries), static_cast<unsigned long long>(t.received_packets),
                static_cast<unsigned long long>(t.received_bytes), tx_s, rx_s,
                tx_s > 0 ? static_cast<double>(t.sent_packets) / tx_s : 0.0,
                rx_s > 0 ? static_cast<double>(t.received_packets) / rx_s : 0.0, static_cast<unsigned long long>(hz));
    std::fflush(stdout);
    if (o.hold) {
        char sink[256];
        while (::read(STDIN_FILENO, sink, sizeof(sink)) > 0) {
        }
    }
    rte_eth_dev_stop(to_port);
    rte_eth_dev_stop(from_port);
    rte_eth_dev_close(to_port);
    rte_eth_dev_close(from_port);
    rte_eal_cleanup();
    return 0;
}
