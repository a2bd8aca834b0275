// Per-flow glue for the pipeline: feed each client->server UDP payload of a QUIC flow and get
// the ClientHello once its CRYPTO bytes are all in.
//
// Key handling (RFC 9001 section 5.2): the client's Initial keys come from the Destination
// Connection ID of its first Initial and do not change when the client starts using the
// server's SCID. After a Retry (RFC 9000 section 17.2.5.2) the client switches to keys from the
// DCID the server chose; we do not see the Retry on this path, so when a packet whose DCID
// differs from the remembered one fails to authenticate, we derive keys from its own DCID and
// try once more, and adopt them if that succeeds. Received CRYPTO bytes are kept across that
// switch (the client retransmits the same ClientHello). nDPI's quic_frags_different_dcid.pcapng
// (a ClientHello split over two Initials, the second already addressed to the server's CID)
// decrypts with the first keys. A new version (after Version Negotiation) starts over.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"
#include "parsers/quic/crypto_reassembler.hpp"
#include "parsers/quic/initial.hpp"

#include <array>
#include <cstdint>

namespace wt::parsers {

// About 18.5 KB: the 16 KB ClientHello buffer, its 2 KB received-bitmap and ~100 bytes of keys
// and counters. Allocate it only for flows that passed looks_like_quic_initial().
struct QuicFlowState {
    QuicInitialKeys keys;
    std::array<std::uint8_t, limits::kMaxQuicCidLength> dcid{}; // the DCID the keys came from
    std::uint8_t dcid_length = 0;
    std::uint16_t initials_decrypted = 0;
    std::uint16_t decrypt_failures = 0; ///< Initials that did not authenticate under any key we tried
    std::uint16_t key_changes = 0;      ///< keys re-derived from a later DCID (Retry)
    QuicCryptoReassembler crypto;

    [[nodiscard]] std::uint32_t version() const noexcept { return keys.version; }
    [[nodiscard]] Bytes original_dcid() const noexcept { return {dcid.data(), dcid_length}; }
    void reset() noexcept;
};

// A cheap gate before any crypto: a long header whose version we can decrypt, whose type bits
// say Initial for that version, with connection IDs within 20 bytes and enough bytes for the
// header-protection sample. Does not require the 1200-byte minimum (RFC 9000 section 14.1).
[[nodiscard]] bool looks_like_quic_initial(Bytes udp_payload) noexcept;

// Walks the coalesced long-header packets of one client datagram (at most
// limits::kMaxQuicCoalescedPackets), decrypts the Initial ones and feeds their CRYPTO frames.
// kOk: the ClientHello is complete (state.crypto.client_hello()); further calls return kOk at once.
// kNeedMore: at least one Initial was decrypted, the ClientHello is not complete yet.
// kUnsupported: no Initial we can handle (short header, unknown version, gQUIC, ...).
// kMalformed: an Initial failed authentication (counted) or carried a forbidden frame, or the
//   CRYPTO stream is not a ClientHello.
// kTooLarge: the ClientHello exceeds limits::kMaxClientHelloSize.
// kTruncated: the datagram ends inside an Initial packet.
[[nodiscard]] ParseStatus process_client_initial_datagram(QuicInitialDecryptor& decryptor, Bytes udp_payload,
                                                          QuicFlowState& state) noexcept;

} // namespace wt::parsers
