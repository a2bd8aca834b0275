// The worker loop: one per worker lcore, run-to-completion over bursts (receive, parse,
// tally, forward when inline), with the bounded background work between bursts (expiry,
// the old interval's flow records, `ctl flows` snapshots) that keeps a burst's gap in tens
// of microseconds. Reads nothing the stats core writes except its request flags.
#include "app/live/appliance_internal.hpp"
#include "parsers/net/offload.hpp"

#include <algorithm>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

namespace wt::app {

namespace {

constexpr std::size_t kExpireBudget = 64;         // flow slots examined per loop iteration
// Work between two bursts is kept to tens of microseconds: an RX ring of 1024 descriptors fills in
// about 70 us at 14.88 Mpps.
constexpr std::size_t kSweepBudgetBusy = 64;     // flow records a busy loop iteration completes of the old interval
constexpr std::size_t kSweepBudgetIdle = 16384;  // ... and an idle one (a 262k-flow table in 16 rounds)
constexpr std::uint32_t kDrainIdleRounds = 2000;  // empty polls in a row that end the drain
constexpr std::size_t kSnapshotBudgetBusy = 256;   // flow records a busy loop iteration visits for `ctl flows`
constexpr std::size_t kSnapshotBudgetIdle = 65536;

} // namespace

int Appliance::worker_main(WorkerContext& ctx) {
    const auto queue = static_cast<std::uint16_t>(ctx.index);
    const std::uint16_t burst = _settings.burst;
    const std::uint32_t poll_sleep_us = _settings.poll_sleep_us;
    const bool forward = _settings.inline_mode;
    std::array<rte_mbuf*, kMaxBurst> pkts{};
    pipeline::Worker& worker = *ctx.worker;
    pipeline::MbufInput& input = *ctx.input;
    std::uint32_t idle_rounds = 0;
    std::uint64_t stop_tsc = 0;
    const std::uint64_t drain_budget = _clock.hz() / 10; // 100 ms

    for (;;) {
        const bool stopping = _stopping.load(std::memory_order_relaxed);
        const std::uint64_t t0 = rte_rdtsc();
        std::uint32_t received = 0;
        for (const OpenPort& port : _ports) {
            const std::uint16_t n = rte_eth_rx_burst(port.port_id, queue, pkts.data(), burst);
            if (n == 0) {
                continue;
            }
            received += n;
            input.process_burst(worker, pkts.data(), n, _clock.to_ns(t0));
            if (forward) {
                const OpenPort& out = _ports[port.peer_index];
                if (out.linux_socket) {
                    send_finished(ctx, out, queue, pkts.data(), n);
                } else {
                    send_burst(ctx, out, queue, pkts.data(), n);
                }
            } else {
                rte_pktmbuf_free_bulk(pkts.data(), n);
            }
        }
        ctx.rx_packets += received;
        const std::uint64_t t1 = rte_rdtsc();
        if (received == 0) {
            worker.expire(_clock.to_ns(t1), kExpireBudget); // process_burst expires after each burst
        }

        // Cross-worker DNS answers: post ours, learn theirs (messages, never shared tables).
        if (!ctx.dns_out.empty()) {
            for (const pipeline::DnsResolution& r : worker.dns_outbox()) {
                for (auto* ring : ctx.dns_out) {
                    if (!ring->push(r)) {
                        ++ctx.dns_ring_drops;
                    }
                }
            }
            worker.clear_dns_outbox();
            pipeline::DnsResolution r;
            for (auto* ring : ctx.dns_in) {
                for (int k = 0; k < 64 && ring->pop(r); ++k) {
                    worker.learn_dns(r);
                }
            }
        }

        // A new stats interval: swap in the spare tally (and a reloaded classifier) at once, then
        // complete the old interval's tally a slice of flow records at a time; it is handed back
        // (done) once it holds every flow's part of that interval.
        Handoff& h = ctx.handoff;
        const std::uint64_t request = h.request.load(std::memory_order_acquire);
        if (request != ctx.begun) {
            h.retired_generation = ctx.worker_generation;
            const bool reload = h.classifier != nullptr;
            worker.begin_interval(*h.spare, h.classifier, h.scratch);
            if (reload) {
                ctx.worker_generation = h.generation;
                ctx.sink->generation = h.generation;
            }
            ctx.begun = request;
        }
        if (ctx.begun != h.done.load(std::memory_order_relaxed) &&
            worker.complete_interval(received != 0 ? kSweepBudgetBusy : kSweepBudgetIdle)) {
            ctx.publish_to(h.published, _clock.to_ns(t1));
            h.done.store(ctx.begun, std::memory_order_release);
        }

        // `ctl flows`: a copy of the flows in progress, a slice of the table per iteration.
        FlowSnapshot& snap = ctx.snapshot;
        if (const std::uint64_t asked = snap.request.load(std::memory_order_acquire); asked != snap.begun) {
            snap.begun = asked;
            snap.cursor = 0;
            snap.flows.clear(); // keeps the capacity the stats core reserved: no allocation here
            snap.visited = 0;
            snap.truncated = 0;
        }
        if (snap.begun != snap.done.load(std::memory_order_relaxed)) {
            // With keep_largest, `flows` is a min-heap by bytes: a flow is copied only if it is larger than
            // the smallest kept, so a dashboard's 1000 largest of 100k flows cost a scan and few copies.
            const auto bytes = [](const pipeline::Flow& f) { return f.bytes_up + f.bytes_down; };
            const auto larger = [&](const pipeline::FlowRecord& a, const pipeline::FlowRecord& b) {
                return bytes(a.flow) > bytes(b.flow);
            };
            // keep_largest is at most the capacity the stats core reserved (snapshot_live_flows).
            const std::size_t limit = snap.keep_largest != 0 ? snap.keep_largest : snap.flows.capacity();
            const bool finished = worker.visit_flows(
                snap.cursor, received != 0 ? kSnapshotBudgetBusy : kSnapshotBudgetIdle,
                [&](const pipeline::Flow& f, const pipeline::FlowDetail* d, std::uint16_t opened_in) {
                    ++snap.visited;
                    if (snap.flows.size() < limit) {
                        snap.flows.push_back(pipeline::make_flow_record(f, d, ctx.worker_generation, opened_in));
                        if (snap.keep_largest != 0) {
                            std::push_heap(snap.flows.begin(), snap.flows.end(), larger);
                        }
                    } else if (snap.keep_largest == 0) {
                        ++snap.truncated;
                    } else if (bytes(f) > bytes(snap.flows.front().flow)) {
                        std::pop_heap(snap.flows.begin(), snap.flows.end(), larger);
                        snap.flows.back() = pipeline::make_flow_record(f, d, ctx.worker_generation, opened_in);
                        std::push_heap(snap.flows.begin(), snap.flows.end(), larger);
                    }
                });
            if (finished) {
                snap.done.store(snap.begun, std::memory_order_release);
            }
        }

        if (received == 0 && poll_sleep_us != 0 && !stopping) {
            // Off the packet path: only a round that found every port empty sleeps, and the sleep counts as
            // idle time (before t2), so busy_percent stays true. Costs up to poll_sleep_us of latency and
            // needs rx_descriptors deep enough for the packets that arrive meanwhile.
            rte_delay_us_sleep(poll_sleep_us);
        }
        const std::uint64_t t2 = rte_rdtsc();
        ctx.total_cycles += t2 - t0;
        if (received != 0) {
            ctx.busy_cycles += t2 - t0;
            idle_rounds = 0;
        } else if (stopping && ++idle_rounds >= kDrainIdleRounds) {
            break; // drained: the ports gave nothing for a while after the stop
        }
        if (stopping) {
            // Traffic that never pauses (a busy mirror port) must not hold the stop:
            // the drain gets a bounded time, then whatever still arrives stays unread.
            if (stop_tsc == 0) {
                stop_tsc = t2;
            } else if (t2 - stop_tsc > drain_budget) {
                break;
            }
        }
    }
    return 0;
}

void Appliance::send_burst(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts,
                           std::uint16_t n) {
    const std::uint16_t sent = rte_eth_tx_burst(out.port_id, queue, pkts, n);
    ctx.tx_packets += sent;
    if (sent < n) {
        // TX ring full: the frame is lost either way; free it and say so.
        ctx.tx_dropped += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

// What a Linux sender left to offload is finished before the frame goes out through a packet socket
// (parsers/net/offload): a partial checksum is completed, a super-frame is cut to the egress MTU (the
// kernel would refuse it). A super-frame that cannot be cut (a UDP one that is not QUIC) is dropped and
// counted: nothing is forwarded that the peer would drop or the kernel refuse.
void Appliance::send_finished(WorkerContext& ctx, const OpenPort& out, std::uint16_t queue, rte_mbuf** pkts,
                              std::uint16_t n) {
    const std::size_t mtu = out.facts.mtu > 0 ? static_cast<std::size_t>(out.facts.mtu) : 1500;
    std::array<rte_mbuf*, kMaxBurst> batch{};
    std::uint16_t k = 0;
    const auto queue_frame = [&](rte_mbuf* m) {
        batch[k++] = m;
        if (k == batch.size()) {
            send_burst(ctx, out, queue, batch.data(), k);
            k = 0;
        }
    };
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        parsers::L4Frame l;
        const std::span<std::uint8_t> frame(rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len);
        if (m->nb_segs != 1 || !parsers::locate_l4(frame, l)) {
            if (m->pkt_len > mtu + kMaxL2Header) {
                // Longer than the egress can send and nothing we can cut (not TCP/UDP, or cut by the ring):
                // the kernel would refuse it, so it is dropped here, counted.
                ++ctx.offload.unsplittable_dropped;
                rte_pktmbuf_free(m);
                continue;
            }
            queue_frame(m);
            continue;
        }
        if (l.ip_end - l.l3 <= mtu) {
            ctx.offload.checksums_completed += parsers::complete_partial_checksum(frame, l) ? 1 : 0;
            queue_frame(m);
            continue;
        }
        const parsers::Bytes payload = parsers::Bytes(frame).subspan(l.payload, l.ip_end - l.payload);
        const std::size_t udp_segment =
            l.proto == parsers::kIpProtoUdp ? parsers::quic_gso_segment_size(payload, mtu - (l.payload - l.l3)) : 0;
        const parsers::SegmentPlan plan = parsers::plan_segments(frame, l, mtu, udp_segment);
        if (plan.count == 0 || ctx.segment_pool == nullptr) {
            ++ctx.offload.unsplittable_dropped;
            rte_pktmbuf_free(m);
            continue;
        }
        for (std::size_t s = 0; s < plan.count; ++s) {
            rte_mbuf* seg = rte_pktmbuf_alloc(ctx.segment_pool);
            const std::size_t size = parsers::segment_size(l, plan, s);
            char* room = seg != nullptr ? rte_pktmbuf_append(seg, static_cast<std::uint16_t>(size)) : nullptr;
            if (room == nullptr) {
                ctx.offload.segment_pool_empty += plan.count - s;
                if (seg != nullptr) {
                    rte_pktmbuf_free(seg);
                }
                break;
            }
            (void)parsers::write_segment(frame, l, plan, s, {reinterpret_cast<std::uint8_t*>(room), size});
            seg->port = m->port;
            queue_frame(seg);
            ++ctx.offload.segments_sent;
        }
        ++ctx.offload.super_frames_cut;
        rte_pktmbuf_free(m);
    }
    if (k != 0) {
        send_burst(ctx, out, queue, batch.data(), k);
    }
}

} // namespace wt::app
