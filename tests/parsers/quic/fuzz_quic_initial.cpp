// libFuzzer target: long header + Initial decryption with keys derived from the packet's own
// DCID + CRYPTO walk + reassembly, and the per-flow datagram path.
// Input byte 0 selects the mode:
//   even: the rest is a raw UDP payload (header parsing, sampling, authentication failures);
//   odd:  the rest is an Initial's *plaintext* frames, protected here with the RFC 9001 test
//         DCID so that the frame walker and reassembler behind the AEAD are reached too.
#include "parsers/quic/client_initial.hpp"
#include "parsers/quic/frames.hpp"

#include "tests/parsers/quic/quic_test_util.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace wt::parsers;

namespace {

QuicInitialDecryptor& decryptor() {
    static auto* d = new QuicInitialDecryptor();
    return *d;
}
QuicFlowState& flow_state() {
    static auto* s = new QuicFlowState();
    return *s;
}

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

void run_datagram(Bytes data) {
    QuicLongHeader h;
    const ParseStatus hs = parse_quic_long_header(data, h);
    if (hs == ParseStatus::kOk) {
        check(h.packet_length <= data.size());
        check(h.type == QuicPacketType::kRetry || h.pn_offset <= h.packet_length);
    }
    if (hs == ParseStatus::kOk && h.type == QuicPacketType::kInitial) {
        QuicInitialKeys keys;
        check(derive_initial_keys(h.version, h.dcid, true, keys));
        QuicInitialPacket pkt;
        const ParseStatus ds = decryptor().decrypt(keys, data, decryptor().scratch(), pkt);
        if (ds == ParseStatus::kOk) {
            check(pkt.payload.size() < h.packet_length);
            static_cast<void>(for_each_crypto_frame(pkt.payload, [](std::uint64_t off, Bytes d) {
                static_cast<void>(flow_state().crypto.add(off, d));
            }));
        }
    }
    flow_state().reset();
    const ParseStatus fs = process_client_initial_datagram(decryptor(), data, flow_state());
    if (fs == ParseStatus::kOk) {
        const Bytes ch = flow_state().crypto.client_hello();
        check(ch.size() >= 4 && ch[0] == 0x01);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > limits::kMaxQuicDatagramSize) {
        return 0;
    }
    const Bytes rest(data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        run_datagram(rest);
        return 0;
    }
    static const std::uint8_t kDcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    const std::uint32_t version = (data[0] & 2) != 0 ? kQuicVersion2 : kQuicVersion1;
    QuicInitialKeys keys;
    check(derive_initial_keys(version, kDcid, true, keys));
    if (rest.size() > 16000) {
        return 0; // protect_initial() writes a 2-byte Length
    }
    const auto packet = test::protect_initial(keys, kDcid, {}, data[0] >> 2, {rest.begin(), rest.end()});
    QuicInitialPacket pkt;
    check(decryptor().decrypt(keys, packet, decryptor().scratch(), pkt) == ParseStatus::kOk);
    run_datagram(packet);
    return 0;
}
