// libFuzzer target for parsers/net/offload: any frame is located or refused; a located one has its
// checksum completed or left, and is cut into segments that each locate again, fit the MTU, and
// together carry exactly the frame's payload.
#include "parsers/net/offload.hpp"
#include "parsers/net/packet.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    if (size < 2) {
        return 0;
    }
    const std::size_t mtu = 68 + (std::size_t{data[0]} << 4); // 68..4148
    std::vector<std::uint8_t> frame(data + 1, data + size);
    L4Frame l;
    if (!locate_l4(frame, l)) {
        return 0;
    }
    (void)complete_partial_checksum(frame, l);
    const Bytes payload = Bytes(frame).subspan(l.payload, l.ip_end - l.payload);
    const std::size_t udp_segment = l.proto == kIpProtoUdp ? quic_gso_segment_size(payload, mtu) : 0;
    const SegmentPlan plan = plan_segments(frame, l, mtu, udp_segment);
    std::size_t carried = 0;
    std::vector<std::uint8_t> seg;
    for (std::size_t i = 0; i < plan.count; ++i) {
        seg.assign(segment_size(l, plan, i), 0);
        if (write_segment(frame, l, plan, i, seg) != seg.size()) {
            std::abort();
        }
        L4Frame s;
        if (!locate_l4(seg, s) || s.ip_end - s.l3 > mtu || s.proto != l.proto ||
            std::memcmp(seg.data() + s.payload, payload.data() + carried, s.ip_end - s.payload) != 0) {
            std::abort();
        }
        carried += s.ip_end - s.payload;
    }
    if (plan.count != 0 && carried != payload.size()) {
        std::abort();
    }
    return 0;
}
