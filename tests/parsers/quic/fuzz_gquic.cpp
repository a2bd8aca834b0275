// libFuzzer target for gQUIC client hellos: the input is a client UDP payload given to
// GquicParser::parse() (all forms; protected Initials mostly stop at authentication) and
// to parse_gquic_chlo() directly as a handshake message, and at offset 1 as the stream data
// of a synthetic Q043 packet so the plaintext frame walker is reached with arbitrary frames,
// and as the decrypted frames of a Q050 and a T050 Initial (parse_initial_frames()).
#include "parsers/quic/gquic.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace wt::parsers;

namespace {

GquicParser& parser() {
    static auto* p = new GquicParser();
    return *p;
}

void check(const GquicHello& h) {
    if (h.sni.size() > DomainName::capacity() || h.uaid.size() > 64 ||
        h.tag_count > limits::kMaxGquicHandshakeTags) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes in(data, size);
    GquicHello out;
    (void)parser().parse(in, out);
    check(out);
    GquicHello chlo;
    if (parse_gquic_chlo(in, chlo) == ParseStatus::kOk) {
        // The reported message lies inside the input.
        if (chlo.handshake.data() != data || chlo.handshake.size() > size) {
            std::abort();
        }
    }
    check(chlo);

    // Q043 public header: flags (version, 8-byte CID, 1-byte PN), CID, version, PN, hash,
    // then the fuzz input as frames.
    static std::array<std::uint8_t, 2048> pkt;
    constexpr std::array<std::uint8_t, 26> kHeader = {0x09, 1, 2, 3, 4, 5, 6, 7, 8, 'Q', '0', '4', '3', 1,
                                                      0,    0, 0, 0, 0, 0, 0, 0, 0, 0,   0,   0};
    const std::size_t n = std::min(size, pkt.size() - kHeader.size());
    std::memcpy(pkt.data(), kHeader.data(), kHeader.size());
    if (n > 0) {
        std::memcpy(pkt.data() + kHeader.size(), data, n);
    }
    GquicHello framed;
    (void)parse_gquic_client_hello(Bytes(pkt.data(), kHeader.size() + n), framed);
    check(framed);
    for (const std::uint32_t version : {kGquicVersionQ050, kGquicVersionT050}) {
        GquicHello initial;
        (void)parser().parse_initial_frames(version, in, initial);
        check(initial);
    }
    return 0;
}
