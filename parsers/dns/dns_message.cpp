#include "parsers/dns/dns_message.hpp"

#include <algorithm>

namespace wt::parsers {
namespace {

constexpr std::size_t kHeaderSize = 12;          // RFC 1035 section 4.1.1
constexpr std::size_t kRrFixedSize = 10;         // TYPE, CLASS, TTL, RDLENGTH (section 4.1.3)
constexpr std::uint16_t kClassMask = 0x7fff;     // RFC 6762 sections 5.4 and 10.2: top bit is a flag

// Text form of one label byte: the lowercased character, or 0 when it must be written as an
// escape (see the header). Built at compile time so the hot loop is one load per byte.
struct LabelCharTable {
    std::array<char, 256> map{};
    constexpr LabelCharTable() {
        for (unsigned c = 0x21; c <= 0x7e; ++c) {
            map[c] = static_cast<char>(c);
        }
        for (unsigned c = 'A'; c <= 'Z'; ++c) {
            map[c] = static_cast<char>(c | 0x20);
        }
        map[static_cast<unsigned char>('.')] = 0;
        map[static_cast<unsigned char>('\\')] = 0;
    }
};
constexpr LabelCharTable kLabelChars{};

constexpr std::size_t kMaxLabelOctets = 63;  // RFC 1035 section 2.3.4 (the 00 label type has 6 length bits)

// Appends one label in text form; returns false when `out` ran out of room. The text is built in
// a local buffer first: one append instead of a bounds check and length store per character.
bool append_label(Bytes label, DomainName& out) noexcept {
    std::array<char, 4 * kMaxLabelOctets> buf;  // worst case: every octet becomes "\DDD"
    std::size_t n = 0;
    for (std::size_t i = 0; i < label.size() && i < kMaxLabelOctets; ++i) {
        const std::uint8_t c = label[i];
        const char mapped = kLabelChars.map[c];
        if (mapped != 0) {
            buf[n++] = mapped;
        } else if (c == '.' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = static_cast<char>(c);
        } else {
            buf[n++] = '\\';
            buf[n++] = static_cast<char>('0' + c / 100);
            buf[n++] = static_cast<char>('0' + (c / 10) % 10);
            buf[n++] = static_cast<char>('0' + c % 10);
        }
    }
    return out.append(std::string_view(buf.data(), n));
}

struct NameOutput {
    DomainName* text = nullptr;   ///< nullptr: validate only
    bool* truncated = nullptr;    ///< set when the text did not fit
};

// Reads the (possibly compressed) name starting at `offset` in `msg`. On kOk, `next` is the offset
// just after the name's bytes at `offset` (after the first pointer if there is one).
ParseStatus read_name(Bytes msg, std::size_t offset, NameOutput out, std::size_t& next) noexcept {
    if (out.text != nullptr) {
        out.text->clear();
    }
    std::size_t pos = offset;
    // RFC 1035 section 4.1.4: a pointer refers to a "prior occurance" of a name. We require it to
    // point before the start of everything read so far, which makes the sequence of targets
    // strictly decreasing: no loop (self or mutual) can be built.
    std::size_t pointer_limit = offset;
    std::size_t wire_octets = 0;
    std::size_t labels = 0;
    std::size_t hops = 0;
    bool jumped = false;
    bool fit = true;
    // Each iteration consumes a label or a pointer; both are bounded below.
    for (std::size_t step = 0; step <= limits::kMaxDnsLabels + limits::kMaxDnsPointerHops; ++step) {
        if (pos > msg.size()) {
            return ParseStatus::kMalformed;
        }
        ByteReader r(msg.subspan(pos));
        std::uint8_t len = 0;
        if (!r.read_u8(len)) {
            return ParseStatus::kTruncated;
        }
        switch (len & 0xc0) {
        case 0xc0: {
            std::uint8_t low = 0;
            if (!r.read_u8(low)) {
                return ParseStatus::kTruncated;
            }
            const std::size_t target = (std::size_t{len & 0x3fu} << 8) | low;
            if (target >= pointer_limit) {
                return ParseStatus::kMalformed;
            }
            if (++hops > limits::kMaxDnsPointerHops) {
                return ParseStatus::kTooLarge;
            }
            if (!jumped) {
                next = pos + 2;
                jumped = true;
            }
            pointer_limit = target;
            pos = target;
            continue;
        }
        case 0x00:
            break;
        default:
            // RFC 6891 section 5: extended label types are deprecated; 0x80 is reserved.
            return ParseStatus::kMalformed;
        }
        if (len == 0) {
            if (!jumped) {
                next = pos + 1;
            }
            if (out.text != nullptr && labels == 0) {
                out.text->assign(".");
            }
            if (!fit && out.truncated != nullptr) {
                *out.truncated = true;
            }
            return ParseStatus::kOk;
        }
        // RFC 1035 section 2.3.4: 255 octets including every length octet and the root's zero.
        wire_octets += std::size_t{len} + 1;
        if (wire_octets + 1 > limits::kMaxDnsNameLength) {
            return ParseStatus::kMalformed;
        }
        if (++labels > limits::kMaxDnsLabels) {
            return ParseStatus::kTooLarge;
        }
        Bytes label;
        if (!r.read_bytes(len, label)) {
            return ParseStatus::kTruncated;
        }
        if (out.text != nullptr) {
            if (labels > 1) {
                fit &= out.text->push_back('.');
            }
            fit &= append_label(label, *out.text);
        }
        pos += std::size_t{len} + 1;
    }
    return ParseStatus::kTooLarge;
}

// A name inside RDATA must end inside RDATA: the RR is complete, so running out is malformed.
ParseStatus read_rdata_name(Bytes msg, std::size_t offset, std::size_t rdata_end, NameOutput out,
                            std::size_t& next) noexcept {
    const ParseStatus st = read_name(msg.first(rdata_end), offset, out, next);
    return st == ParseStatus::kTruncated ? ParseStatus::kMalformed : st;
}

// RFC 9460 section 2.2: SvcPriority, TargetName, then SvcParams in strictly increasing key order.
// The first "ech" value that parses goes to `message` (RFC 9849: ECHConfigList).
ParseStatus parse_svcb_rdata(Bytes msg, std::size_t rdata_start, std::size_t rdata_end, DnsAnswer* ans,
                             bool* truncated, DnsMessage* message) noexcept {
    if (rdata_end - rdata_start < 2) {
        return ParseStatus::kMalformed;
    }
    const std::uint16_t priority = load_u16(msg.data() + rdata_start);
    std::size_t params_start = 0;
    const ParseStatus st = read_rdata_name(msg, rdata_start + 2, rdata_end,
                                           NameOutput{ans != nullptr ? &ans->target : nullptr, truncated},
                                           params_start);
    if (st != ParseStatus::kOk) {
        return st;
    }
    if (ans != nullptr) {
        ans->svc_priority = priority;
    }
    // Section 2.4.2: in AliasMode recipients MUST ignore any SvcParams.
    if (priority == 0) {
        return ParseStatus::kOk;
    }
    ByteReader params(msg.subspan(params_start, rdata_end - params_start));
    std::uint32_t previous_key = 0;
    bool first = true;
    for (std::size_t i = 0; i < limits::kMaxDnsSvcParams; ++i) {
        if (params.empty()) {
            return ParseStatus::kOk;
        }
        std::uint16_t key = 0;
        if (!params.read_u16(key)) {
            return ParseStatus::kMalformed;
        }
        const auto value = params.read_prefixed_u16();
        if (!value) {
            return ParseStatus::kMalformed;
        }
        if (!first && key <= previous_key) {
            return ParseStatus::kMalformed;
        }
        first = false;
        previous_key = key;
        if (ans != nullptr) {
            ans->svc_has_alpn |= key == kSvcParamAlpn;
            ans->svc_has_ech |= key == kSvcParamEch;
        }
        if (key == kSvcParamEch && message != nullptr && message->ech.config_count == 0) {
            if (parse_ech_config_list(value->rest(), message->ech) != ParseStatus::kOk) {
                message->ech = EchConfigSummary{};
                message->ech_malformed = true;
            }
        }
    }
    return params.empty() ? ParseStatus::kOk : ParseStatus::kTooLarge;
}

// One resource record (RFC 1035 section 4.1.3) at `pos`; `ans` == nullptr validates only.
ParseStatus parse_rr(Bytes msg, std::size_t& pos, DnsAnswer* ans, bool* truncated, DnsMessage* message) noexcept {
    std::size_t after_owner = 0;
    ParseStatus st = read_name(msg, pos, NameOutput{ans != nullptr ? &ans->owner : nullptr, truncated}, after_owner);
    if (st != ParseStatus::kOk) {
        return st;
    }
    ByteReader r(msg.subspan(after_owner));
    std::uint16_t type = 0;
    std::uint16_t rrclass = 0;
    std::uint32_t ttl = 0;
    std::uint16_t rdlength = 0;
    Bytes rdata;
    if (!r.read_u16(type) || !r.read_u16(rrclass) || !r.read_u32(ttl) || !r.read_u16(rdlength) ||
        !r.read_bytes(rdlength, rdata)) {
        return ParseStatus::kTruncated;
    }
    const std::size_t rdata_start = after_owner + kRrFixedSize;
    const std::size_t rdata_end = rdata_start + rdlength;
    if (ans != nullptr) {
        ans->type = type;
        ans->rrclass = static_cast<std::uint16_t>(rrclass & kClassMask);
        ans->ttl = ttl;
        ans->addr_len = 0;
        ans->target.clear();
        ans->svc_priority = 0;
        ans->svc_has_ech = false;
        ans->svc_has_alpn = false;
    }
    std::size_t name_end = 0;
    switch (type) {
    case kDnsTypeA:
    case kDnsTypeAaaa: {
        // RFC 1035 section 3.4.1 / RFC 3596 section 2.2: fixed-size addresses.
        const std::size_t want = type == kDnsTypeA ? 4 : 16;
        if (rdata.size() != want) {
            return ParseStatus::kMalformed;
        }
        if (ans != nullptr) {
            std::copy_n(rdata.data(), want, ans->addr.data());
            ans->addr_len = static_cast<std::uint8_t>(want);
        }
        break;
    }
    case kDnsTypeCname:
    case kDnsTypeNs:
    case kDnsTypePtr:
    case kDnsTypeDname:
        // RFC 1035 section 3.3: RDATA is exactly one (compressible) domain name.
        st = read_rdata_name(msg, rdata_start, rdata_end, NameOutput{ans != nullptr ? &ans->target : nullptr, truncated},
                             name_end);
        if (st != ParseStatus::kOk) {
            return st;
        }
        if (name_end != rdata_end) {
            return ParseStatus::kMalformed;
        }
        break;
    case kDnsTypeSvcb:
    case kDnsTypeHttps:
        st = parse_svcb_rdata(msg, rdata_start, rdata_end, ans, truncated, message);
        if (st != ParseStatus::kOk) {
            return st;
        }
        break;
    default:
        break;
    }
    pos = rdata_end;
    return ParseStatus::kOk;
}

void reset(DnsMessage& out) noexcept {
    // The answers array (about 9 KB) is not cleared: answer_count says which entries are valid
    // and parse_rr writes every field of an entry it stores.
    out.id = 0;
    out.is_response = false;
    out.opcode = 0;
    out.rcode = 0;
    out.tc = false;
    out.qdcount = 0;
    out.ancount = 0;
    out.nscount = 0;
    out.arcount = 0;
    out.question_ok = false;
    out.qname.clear();
    out.qtype = 0;
    out.qclass = 0;
    out.unicast_response = false;
    out.answer_count = 0;
    out.answers_not_stored = 0;
    out.names_truncated = false;
    out.ech.config_count = 0;
    out.ech.public_name.clear();
    out.ech_malformed = false;
}

} // namespace

ParseStatus parse_dns_message(Bytes message, DnsMessage& out) noexcept {
    reset(out);
    ByteReader header(message);
    std::uint16_t flags = 0;
    if (message.size() < kHeaderSize) {
        return ParseStatus::kTruncated;
    }
    // RFC 1035 section 4.1.1: ID, flags (QR, Opcode, AA, TC, RD, RA, Z, RCODE), four counts.
    header.read_u16(out.id);
    header.read_u16(flags);
    header.read_u16(out.qdcount);
    header.read_u16(out.ancount);
    header.read_u16(out.nscount);
    header.read_u16(out.arcount);
    out.is_response = (flags & 0x8000) != 0;
    out.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0f);
    out.tc = (flags & 0x0200) != 0;
    out.rcode = static_cast<std::uint8_t>(flags & 0x000f);

    std::size_t pos = kHeaderSize;
    bool* const truncated = &out.names_truncated;
    // Section 4.1.2: QNAME, QTYPE, QCLASS. Only the first question is kept.
    for (std::size_t q = 0; q < out.qdcount && q < limits::kMaxDnsRecordsPerSection; ++q) {
        std::size_t after_name = 0;
        const ParseStatus st = read_name(message, pos, NameOutput{q == 0 ? &out.qname : nullptr, truncated}, after_name);
        if (st != ParseStatus::kOk) {
            if (q == 0) {
                out.qname.clear();
            }
            return st;
        }
        ByteReader r(message.subspan(after_name));
        std::uint16_t qtype = 0;
        std::uint16_t qclass = 0;
        if (!r.read_u16(qtype) || !r.read_u16(qclass)) {
            if (q == 0) {
                out.qname.clear();
            }
            return ParseStatus::kTruncated;
        }
        if (q == 0) {
            out.qtype = qtype;
            out.qclass = static_cast<std::uint16_t>(qclass & kClassMask);
            out.unicast_response = (qclass & 0x8000) != 0;
            out.question_ok = true;
        }
        pos = after_name + 4;
    }
    // Section 4.1.3: every answer RR is validated; the first kMaxDnsAnswers are stored.
    for (std::size_t a = 0; a < out.ancount && a < limits::kMaxDnsRecordsPerSection; ++a) {
        DnsAnswer* slot = out.answer_count < out.answers.size() ? &out.answers[out.answer_count] : nullptr;
        const ParseStatus st = parse_rr(message, pos, slot, truncated, slot != nullptr ? &out : nullptr);
        if (st != ParseStatus::kOk) {
            return st;
        }
        if (slot != nullptr) {
            ++out.answer_count;
        } else {
            ++out.answers_not_stored;
        }
    }
    return ParseStatus::kOk;
}

ParseStatus parse_dns_tcp_message(Bytes stream, DnsMessage& out, std::size_t& consumed) noexcept {
    consumed = 0;
    ByteReader r(stream);
    std::uint16_t length = 0;
    if (!r.read_u16(length)) {
        reset(out);
        return ParseStatus::kNeedMore;
    }
    if (length < kHeaderSize) {
        reset(out);
        return ParseStatus::kMalformed;
    }
    Bytes body;
    if (!r.read_bytes(length, body)) {
        // Parse the prefix we have so the question is available early; more bytes cannot repair
        // a malformed or oversized prefix.
        const ParseStatus partial = parse_dns_message(r.rest(), out);
        if (partial == ParseStatus::kMalformed || partial == ParseStatus::kTooLarge) {
            return partial;
        }
        return ParseStatus::kNeedMore;
    }
    consumed = 2 + std::size_t{length};
    const ParseStatus st = parse_dns_message(body, out);
    // The length prefix delimits the message: content that runs past it is malformed.
    return st == ParseStatus::kTruncated ? ParseStatus::kMalformed : st;
}

std::string_view dns_type_name(std::uint16_t type) noexcept {
    // IANA "Resource Record (RR) TYPEs" registry, the types seen in practice.
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 24: return "SIG";
    case 25: return "KEY";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 53: return "SMIMEA";
    case 55: return "HIP";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 62: return "CSYNC";
    case 63: return "ZONEMD";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 108: return "EUI48";
    case 109: return "EUI64";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    default: return "";
    }
}

std::string_view dns_rcode_name(std::uint8_t rcode) noexcept {
    // RFC 6895 section 2.3 (the 4-bit header values).
    switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 11: return "DSOTYPENI";
    default: return "";
    }
}

} // namespace wt::parsers
