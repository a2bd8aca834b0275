#include "parsers/quic/client_initial.hpp"

#include "parsers/quic/frames.hpp"

#include <algorithm>

namespace wt::parsers {
namespace {

bool same_dcid(const QuicFlowState& state, Bytes dcid) noexcept {
    const Bytes mine = state.original_dcid();
    return mine.size() == dcid.size() && std::equal(mine.begin(), mine.end(), dcid.begin());
}

void remember_dcid(QuicFlowState& state, Bytes dcid) noexcept {
    // dcid.size() <= 20: derive_initial_keys() refused anything longer.
    state.dcid_length = static_cast<std::uint8_t>(std::min(dcid.size(), state.dcid.size()));
    std::copy_n(dcid.data(), state.dcid_length, state.dcid.data());
}

ParseStatus process_initial(QuicInitialDecryptor& decryptor, Bytes packet, const QuicLongHeader& header,
                            QuicFlowState& state) noexcept {
    if (!state.keys.valid || state.keys.version != header.version) {
        // First Initial of the flow, or a new version after Version Negotiation.
        state.reset();
        if (!derive_initial_keys(header.version, header.dcid, true, state.keys)) {
            return ParseStatus::kUnsupported;
        }
        remember_dcid(state, header.dcid);
    }
    QuicInitialPacket pkt;
    ParseStatus st = decryptor.decrypt(state.keys, packet, decryptor.scratch(), pkt);
    if (st == ParseStatus::kMalformed && !same_dcid(state, header.dcid)) {
        // Retry, or a capture stitched from two attempts: keys from this packet's own DCID.
        QuicInitialKeys retry_keys;
        if (derive_initial_keys(header.version, header.dcid, true, retry_keys)) {
            st = decryptor.decrypt(retry_keys, packet, decryptor.scratch(), pkt);
            if (st == ParseStatus::kOk) {
                state.keys = retry_keys;
                remember_dcid(state, header.dcid);
                ++state.key_changes;
            }
        }
    }
    if (st != ParseStatus::kOk) {
        if (st == ParseStatus::kMalformed && state.decrypt_failures < UINT16_MAX) {
            ++state.decrypt_failures;
        }
        return st;
    }
    if (state.initials_decrypted < UINT16_MAX) {
        ++state.initials_decrypted;
    }
    // Beyond-capacity bytes are counted by the reassembler; client_hello_status() reports them.
    return for_each_crypto_frame(pkt.payload, [&state](std::uint64_t offset, Bytes data) {
        static_cast<void>(state.crypto.add(offset, data));
    });
}

} // namespace

void QuicFlowState::reset() noexcept {
    keys = QuicInitialKeys{};
    dcid_length = 0;
    initials_decrypted = 0;
    decrypt_failures = 0;
    key_changes = 0;
    crypto.reset();
}

bool looks_like_quic_initial(Bytes udp_payload) noexcept {
    QuicLongHeader h;
    if (parse_quic_long_header(udp_payload, h) != ParseStatus::kOk) {
        return false;
    }
    // RFC 9001 section 5.4.2: the sample needs 4 + 16 bytes after the packet number offset.
    return h.type == QuicPacketType::kInitial && h.pn_offset + 20 <= h.packet_length;
}

ParseStatus process_client_initial_datagram(QuicInitialDecryptor& decryptor, Bytes udp_payload,
                                            QuicFlowState& state) noexcept {
    if (state.crypto.client_hello_complete()) {
        return ParseStatus::kOk;
    }
    Bytes rest = udp_payload;
    bool decrypted_any = false;
    ParseStatus failure = ParseStatus::kUnsupported;
    for (std::size_t i = 0; i < limits::kMaxQuicCoalescedPackets && !rest.empty(); ++i) {
        QuicLongHeader header;
        const ParseStatus hs = parse_quic_long_header(rest, header);
        if (hs != ParseStatus::kOk) {
            // A short header, zero padding or an unknown version ends what we can walk;
            // a truncated or malformed first packet is reported.
            if (i == 0 || hs == ParseStatus::kTruncated || hs == ParseStatus::kMalformed) {
                failure = hs;
            }
            break;
        }
        if (header.type == QuicPacketType::kInitial) {
            const ParseStatus st = process_initial(decryptor, rest.first(header.packet_length), header, state);
            if (st == ParseStatus::kOk) {
                decrypted_any = true;
            } else {
                failure = st;
            }
        }
        rest = rest.subspan(header.packet_length);
    }
    const ParseStatus hello = state.crypto.client_hello_status();
    if (hello == ParseStatus::kOk || hello == ParseStatus::kMalformed || hello == ParseStatus::kTooLarge) {
        return hello;
    }
    // Errors in later coalesced packets are counted in the state but do not hide progress.
    return decrypted_any ? ParseStatus::kNeedMore : failure;
}

} // namespace wt::parsers
