// DNS message parser (RFC 1035 section 4.1), for UDP, TCP (section 4.2.2, RFC 7766), mDNS
// (RFC 6762) and LLMNR (RFC 4795), which share the wire format.
//
// Contract: noexcept, allocation-free, never reads outside the given span, every loop bounded by
// a constant from parsers/common/limits.hpp. The result is a fixed-size struct that owns copies
// of the names, so it may outlive the packet.
//
// Name text form (decided here, used by every caller):
//   - dotted labels without a trailing dot, ASCII letters lowercased ("WwW.Example." -> "www.example");
//   - the root name is "." (so an SVCB TargetName "." or a priming query for "." stays visible);
//   - bytes outside 0x21..0x7e are written as "\DDD" (three decimal digits, like dig), and a '.' or
//     '\' inside a label as "\." and "\\", so the text is always printable ASCII (valid UTF-8/JSON);
//   - escaping can make the text longer than DomainName's 255 characters: the prefix is kept and
//     DnsMessage::names_truncated is set.
//
// Compression (RFC 1035 section 4.1.4): a pointer must point strictly before the start of the
// name being read, and after a jump strictly before the previous target, so targets decrease and
// loops are impossible; on top of that, at most limits::kMaxDnsPointerHops jumps (kTooLarge),
// at most 255 wire octets per name (section 2.3.4, kMalformed) and limits::kMaxDnsLabels labels.
// Label types 01 and 10 (RFC 6891 section 5, deprecated extended labels) are kMalformed.
#pragma once

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/fixed_string.hpp"
#include "parsers/common/limits.hpp"
#include "parsers/common/status.hpp"
#include "parsers/tls/ech.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wt::parsers {

// RFC 1035 section 4.1.1: QR, the top bit of the flags (the header's third byte), is 0 in a query.
// Read from the bytes alone, before any parse.
[[nodiscard]] inline bool dns_header_says_query(Bytes message) noexcept {
    return message.size() > 2 && (message[2] & 0x80) == 0;
}

// RR TYPE values we interpret (RFC 1035 section 3.2.2, RFC 3596, RFC 9460 section 14.2).
inline constexpr std::uint16_t kDnsTypeA = 1;
inline constexpr std::uint16_t kDnsTypeNs = 2;
inline constexpr std::uint16_t kDnsTypeCname = 5;
inline constexpr std::uint16_t kDnsTypePtr = 12;
inline constexpr std::uint16_t kDnsTypeAaaa = 28;
inline constexpr std::uint16_t kDnsTypeDname = 39;
inline constexpr std::uint16_t kDnsTypeSvcb = 64;
inline constexpr std::uint16_t kDnsTypeHttps = 65;

// RFC 9460 section 14.3.2: SvcParamKeys.
inline constexpr std::uint16_t kSvcParamAlpn = 1;
inline constexpr std::uint16_t kSvcParamEch = 5;

struct DnsAnswer {
    DomainName owner;
    std::uint16_t type = 0;
    std::uint16_t rrclass = 0;              ///< masked with 0x7fff (mDNS cache-flush bit, RFC 6762 section 10.2)
    std::uint32_t ttl = 0;
    std::array<std::uint8_t, 16> addr{};    ///< A: 4 bytes, AAAA: 16 bytes, network order
    std::uint8_t addr_len = 0;              ///< 0 for other types
    DomainName target;                      ///< CNAME/DNAME/NS/PTR name, or SVCB/HTTPS TargetName; empty otherwise
    std::uint16_t svc_priority = 0;         ///< SVCB/HTTPS SvcPriority (0 = AliasMode)
    bool svc_has_ech = false;               ///< SVCB/HTTPS carries an "ech" SvcParam (key 5)
    bool svc_has_alpn = false;              ///< SVCB/HTTPS carries an "alpn" SvcParam (key 1)
};

struct DnsMessage {
    std::uint16_t id = 0;
    bool is_response = false;               ///< QR bit
    std::uint8_t opcode = 0;
    std::uint8_t rcode = 0;                  ///< the 4-bit header RCODE (EDNS extended bits not applied)
    bool tc = false;                         ///< TC bit: the sender truncated the UDP message
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;

    bool question_ok = false;                ///< qname/qtype/qclass are valid (even when status != kOk)
    DomainName qname;                        ///< first question only (qdcount > 1: the rest are skipped)
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;                ///< masked with 0x7fff
    bool unicast_response = false;           ///< mDNS QU bit (top bit of QCLASS, RFC 6762 section 5.4)

    std::uint8_t answer_count = 0;           ///< answers stored in `answers` (complete RRs only)
    std::uint16_t answers_not_stored = 0;    ///< complete answer RRs beyond limits::kMaxDnsAnswers
    std::array<DnsAnswer, limits::kMaxDnsAnswers> answers{};
    bool names_truncated = false;            ///< some name text did not fit its DomainName
    // The ECH configurations of the first stored SVCB/HTTPS answer whose "ech" SvcParam holds a
    // usable ECHConfigList (config_count > 0); ech_malformed: an "ech" value did not parse.
    EchConfigSummary ech;
    bool ech_malformed = false;
};

// Parses one whole DNS message (a UDP payload). Only the header, the question section and the
// answer section are examined; authority/additional records and any bytes after them are ignored
// (so trailing bytes are not an error).
// Returns kOk, kTruncated (the input ends inside a field: header/question/answer fields parsed so
// far are valid, see question_ok/answer_count), kMalformed or kTooLarge. `out` is reset first.
ParseStatus parse_dns_message(Bytes message, DnsMessage& out) noexcept;

// DNS over TCP (RFC 1035 section 4.2.2, RFC 7766 section 8): `stream` starts at a 2-byte length
// prefix. Returns kNeedMore (consumed = 0) until the whole message is present; meanwhile `out`
// holds what the prefix already gives (question_ok). With the whole message, `consumed` is
// 2 + length whatever the status, so the caller can step to the next message; a message whose
// content runs past its length prefix is kMalformed. A length below 12 (no room for a header),
// or an incomplete message whose prefix is already kMalformed/kTooLarge, returns that status with
// consumed = 0: the stream cannot be resynchronized and the caller should stop parsing it.
ParseStatus parse_dns_tcp_message(Bytes stream, DnsMessage& out, std::size_t& consumed) noexcept;

// Mnemonic of an RR TYPE ("A", "AAAA", "HTTPS", ...); "" when unknown (the caller prints TYPEnnn,
// RFC 3597 section 5).
std::string_view dns_type_name(std::uint16_t type) noexcept;
// Mnemonic of an RCODE (RFC 6895 section 2.3); "" when unknown.
std::string_view dns_rcode_name(std::uint8_t rcode) noexcept;

} // namespace wt::parsers
