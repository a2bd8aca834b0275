// libFuzzer: the whole input is a capture file. Every record must lie inside the
// input, and the reader must end (kEnd / error) within the records the input can hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "parsers/net/capture_file.hpp"
#include "parsers/net/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wt::parsers;
    const Bytes file(data, size);
    CaptureReader r = CaptureReader::open(file);
    CaptureRecord rec;
    // Every record consumes at least 12 bytes (pcapng SPB with no data), 16 for pcap.
    const std::size_t max_records = size / 12 + 1;
    for (std::size_t i = 0; i <= max_records; ++i) {
        const CaptureStatus s = r.next(rec);
        if (s != CaptureStatus::kOk) {
            if (s == CaptureStatus::kTruncatedRecord && r.next(rec) != CaptureStatus::kEnd) {
                std::abort();
            }
            if (s != CaptureStatus::kEnd && r.error().empty()) {
                std::abort(); // every failure explains itself
            }
            return 0;
        }
        if (rec.data.size() > limits::kMaxCaptureRecordSize ||
            (!rec.data.empty() && (rec.data.data() < data || rec.data.data() + rec.data.size() > data + size))) {
            std::abort();
        }
        DecodedPacket p;
        decode_packet(rec.link, rec.data, p, rec.orig_len);
    }
    std::abort(); // more records than the input can hold
}
