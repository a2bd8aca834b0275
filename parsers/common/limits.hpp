// Every bound on a loop or a buffer that attacker-controlled input can drive,
// in one place, with the specification that motivates it.
#pragma once

#include <cstddef>

namespace wt::parsers::limits {

// Link layer: 802.1Q / 802.1ad stacks deeper than this are not seen in practice
// (DPDK RTE_NET_VLAN_MAX_DEPTH is 8).
inline constexpr std::size_t kMaxVlanDepth = 8;
// RFC 8200 section 4.1: no fixed limit; real stacks carry a handful.
inline constexpr std::size_t kMaxIpv6ExtensionHeaders = 8;

// RFC 1035 section 2.3.4 (names <= 255 octets) and section 4.1.4 (compression).
inline constexpr std::size_t kMaxDnsNameLength = 255;
inline constexpr std::size_t kMaxDnsLabels = 128;
inline constexpr std::size_t kMaxDnsPointerHops = 16;
inline constexpr std::size_t kMaxDnsAnswers = 16;

// RFC 8446 section 4.1.2: a ClientHello can legally reach 2^24 bytes; real ones with
// post-quantum key shares are 1.5-2.5 KB. We keep up to this much per flow.
inline constexpr std::size_t kMaxClientHelloSize = 16384;
inline constexpr std::size_t kMaxTlsExtensions = 64;
inline constexpr std::size_t kMaxCipherSuites = 128;
inline constexpr std::size_t kMaxAlpnProtocols = 8;
inline constexpr std::size_t kMaxSupportedVersions = 16;
inline constexpr std::size_t kMaxSignatureAlgorithms = 64;
inline constexpr std::size_t kMaxSupportedGroups = 32;

// RFC 9000 section 17.2: connection IDs are at most 20 bytes in QUIC v1.
inline constexpr std::size_t kMaxQuicCidLength = 20;
inline constexpr std::size_t kMaxQuicCryptoFrames = 64;

// HTTP/1.x: only the request head of the first segment(s) is examined.
inline constexpr std::size_t kMaxHttpHeaderLines = 64;

} // namespace wt::parsers::limits
