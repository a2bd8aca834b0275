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
// RFC 1035 section 4.1.1: QDCOUNT/ANCOUNT are 16-bit; every record consumes at least 5 (question)
// or 11 (RR) bytes, so the message size bounds these loops long before this constant does.
inline constexpr std::size_t kMaxDnsRecordsPerSection = 65535;
// RFC 9460 section 2.2: SvcParams in one SVCB/HTTPS RR; 14 keys are registered today (section 14.3.2).
inline constexpr std::size_t kMaxDnsSvcParams = 64;
// ECHConfigs kept per ECHConfigList (RFC 9849 section 4); published lists carry one or two.
inline constexpr std::size_t kMaxEchConfigs = 4;

// RFC 8446 section 4.1.2: a ClientHello can legally reach 2^24 bytes; real ones with
// post-quantum key shares are 1.5-2.5 KB. We keep up to this much per flow.
inline constexpr std::size_t kMaxClientHelloSize = 16384;
inline constexpr std::size_t kMaxTlsExtensions = 64;
inline constexpr std::size_t kMaxCipherSuites = 128;
inline constexpr std::size_t kMaxAlpnProtocols = 8;
inline constexpr std::size_t kMaxSupportedVersions = 16;
inline constexpr std::size_t kMaxSignatureAlgorithms = 64;
inline constexpr std::size_t kMaxSupportedGroups = 32;
// RFC 8446 section 4.2.8: one KeyShareEntry per offered group; clients send 1-3.
inline constexpr std::size_t kMaxTlsKeyShares = 16;
// RFC 6066 section 3: the server_name_list may hold several entries (one per type);
// only host_name (0) is defined, so we look at no more than this many.
inline constexpr std::size_t kMaxTlsServerNames = 8;
// RFC 8446 section 5.1: TLSPlaintext.length <= 2^14; section 5.2 allows 2^14 + 256 for
// TLSCiphertext, which we accept too (some stacks are lax with the limit).
inline constexpr std::size_t kMaxTlsRecordLength = 16384 + 256;
// RFC 8446 section 5.1: a handshake message may be fragmented over any number of
// records; real ClientHellos use 1-3. We walk at most this many per message.
inline constexpr std::size_t kMaxTlsHandshakeRecords = 64;

// RFC 9000 section 17.2: connection IDs are at most 20 bytes in QUIC v1.
inline constexpr std::size_t kMaxQuicCidLength = 20;
inline constexpr std::size_t kMaxQuicCryptoFrames = 64;
// RFC 9000 section 12.2: a datagram may coalesce several long-header packets (at most one
// per packet type, plus a short-header tail); 8 is generous for hostile input.
inline constexpr std::size_t kMaxQuicCoalescedPackets = 8;
// RFC 9000 section 12.4: frames in one Initial packet, counting a run of PADDING as one;
// Chrome's "chaos protection" interleaves ~10-20 CRYPTO/PING/PADDING pieces.
inline constexpr std::size_t kMaxQuicInitialFrames = 128;
// RFC 9000 section 19.3.1: ACK Range Count is a varint; real Initials carry 0-2 ranges.
inline constexpr std::size_t kMaxQuicAckRanges = 64;
// RFC 9000 section 14.1 / 18.2: a UDP payload (and so a QUIC packet) is at most 65527 bytes.
inline constexpr std::size_t kMaxQuicDatagramSize = 65527;

// Google QUIC crypto handshake messages (CHLO): Chromium's CryptoFramer refuses more than 128
// tag/value entries (crypto_framer.cc kMaxEntries); a real CHLO carries 15-30.
inline constexpr std::size_t kMaxGquicHandshakeTags = 128;

// HTTP/1.x: only the request head of the first segment(s) is examined.
inline constexpr std::size_t kMaxHttpHeaderLines = 64;
// RFC 9112 section 3: recipients should support request-lines of at least 8000 octets;
// we apply the same bound to each header field line (section 5).
inline constexpr std::size_t kMaxHttpLineLength = 8192;
// RFC 9110 section 16.1 (HTTP Method Registry): method tokens are short; the longest
// registered one is UPDATEREDIRECTREF (17, RFC 4437).
inline constexpr std::size_t kMaxHttpMethodLength = 20;
// RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before the request-line.
inline constexpr std::size_t kMaxHttpLeadingEmptyLines = 2;

// Capture files (net area). A record bigger than this is corrupt: libpcap's
// MAXIMUM_SNAPLEN is 262144 and Wireshark refuses larger records too.
inline constexpr std::size_t kMaxCaptureRecordSize = 262144;
// pcapng (draft-ietf-opsawg-pcapng section 4.2): interface ids are 32-bit, but a
// section with more interfaces than this is not a capture we want to replay.
inline constexpr std::size_t kMaxPcapngInterfaces = 256;
// Options per block (section 3.5); real writers emit fewer than ten.
inline constexpr std::size_t kMaxPcapngOptions = 64;
// Non-packet blocks (SHB, IDB, ISB, NRB, DSB, unknown) read before one packet
// block; each is at least 12 bytes, this only bounds the loop.
inline constexpr std::size_t kMaxPcapngBlocksBetweenPackets = 1u << 20;
// Tunnels followed to the inner packet: IP-in-IP (protocols 4 and 41, RFC 2003 / RFC 2473),
// GRE (RFC 2784), GTP-U (3GPP TS 29.281), VXLAN (RFC 7348), CAPWAP data (RFC 5415).
// Raised from 1 to 2: mobile backhaul carries GTP-U inside GRE or IP-in-IP, so two levels
// are common; Suricata PacketIncreaseCheckLayers bounds layers the same way.
inline constexpr std::size_t kMaxIpTunnelDepth = 2;
// RFC 3032 section 2.1: the label stack has no fixed bound; L3VPN + TE + entropy labels
// give 3-5 entries in practice (DPDK's rte_net_get_ptype walks at most a handful too).
inline constexpr std::size_t kMaxMplsLabels = 8;
// 3GPP TS 29.281 section 5.2: extension headers chain by "next extension header type";
// 5G N3 carries one (PDU Session Container), older networks 0-2.
inline constexpr std::size_t kMaxGtpExtensionHeaders = 8;

} // namespace wt::parsers::limits
