// Frames read in place: mbufs whose data is the bytes of a mapped capture file, attached as an
// external buffer instead of copied (a copy of every byte of the capture was a tenth of an
// analysis). `wiretally analyze` and the live rig's traffic source (benches/live/wt_traffic.cpp)
// both hand such mbufs out.
//
// One shared info serves every frame of the mapping: each attach takes a reference, the mapping's
// own reference keeps the count above zero while it lives, so the free callback is never reached and
// freeing an mbuf only detaches it and gives it its own data room back. The frames are never written
// through: the mapping is read-only and the readers only read.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rte_mbuf.h>

namespace wt::pipeline {

class MappedFrames {
public:
    MappedFrames() noexcept {
        _frames.free_cb = [](void*, void*) {};
        rte_mbuf_ext_refcnt_set(&_frames, 1);
    }
    MappedFrames(const MappedFrames&) = delete;
    MappedFrames& operator=(const MappedFrames&) = delete;

    // Makes `m` carry the `len` bytes at `data` (single segment). `iova`: the address a device
    // would use (RTE_BAD_IOVA for a file mapping that only software reads).
    void attach(rte_mbuf* m, const std::uint8_t* data, std::uint16_t len, rte_iova_t iova = RTE_BAD_IOVA) noexcept {
        rte_mbuf_ext_refcnt_update(&_frames, 1);
        rte_pktmbuf_attach_extbuf(m, const_cast<std::uint8_t*>(data), iova, len, &_frames);
        m->data_len = len;
        m->pkt_len = len;
    }

private:
    rte_mbuf_ext_shared_info _frames{};
};

} // namespace wt::pipeline
