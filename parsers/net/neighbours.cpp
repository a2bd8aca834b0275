#include "parsers/net/neighbours.hpp"

#include <algorithm>

namespace wt::parsers {

namespace {

MacAddress mac_at(const std::uint8_t* p) noexcept {
    MacAddress m{};
    std::copy_n(p, m.size(), m.begin());
    return m;
}

// A name option's text, cut at the string's capacity; a NUL ends it (some clients count a
// terminating NUL in the length, RFC 2132 section 2 says they should not).
template <std::size_t N>
void assign_option_text(FixedString<N>& out, Bytes value) noexcept {
    std::size_t n = 0;
    while (n < value.size() && value[n] != 0) {
        ++n;
    }
    out.assign(std::string_view(reinterpret_cast<const char*>(value.data()), n));
}

} // namespace

ParseStatus parse_arp(Bytes message, ArpMessage& out) noexcept {
    // RFC 826: htype(2) ptype(2) hlen(1) plen(1) oper(2) sha(hlen) spa(plen) tha(hlen) tpa(plen).
    constexpr std::size_t kEthernetIpv4Size = 28;
    ByteReader r(message);
    std::uint16_t htype = 0, ptype = 0, oper = 0;
    std::uint8_t hlen = 0, plen = 0;
    if (!r.read_u16(htype) || !r.read_u16(ptype) || !r.read_u8(hlen) || !r.read_u8(plen) || !r.read_u16(oper)) {
        return ParseStatus::kTruncated;
    }
    if (htype != 1 || ptype != kEtherTypeIpv4 || hlen != 6 || plen != 4) {
        return ParseStatus::kUnsupported;
    }
    if (message.size() < kEthernetIpv4Size) {
        return ParseStatus::kTruncated;
    }
    out.operation = oper;
    out.sender_mac = mac_at(message.data() + 8);
    out.sender_ip = make_ipv4(message.data() + 14);
    out.target_ip = make_ipv4(message.data() + 24);
    return ParseStatus::kOk;
}

ParseStatus parse_ndp(Bytes icmpv6, const IpAddress& source, NdpMessage& out) noexcept {
    // RFC 4861 section 4: type(1) code(1) checksum(2), then per type a fixed part before the options:
    // RS 4 reserved bytes, RA 12 bytes, NS and NA 4 bytes and the 16-byte target address.
    if (icmpv6.size() < 4) {
        return ParseStatus::kTruncated;
    }
    const std::uint8_t type = icmpv6[0];
    std::size_t fixed = 0;
    std::uint8_t wanted_option = 1; // source link-layer address
    switch (type) {
    case 133: fixed = 8; break;
    case 134: fixed = 16; break;
    case 135: fixed = 24; break;
    case 136: fixed = 24; wanted_option = 2; break; // target link-layer address
    default: return ParseStatus::kUnsupported;
    }
    if (icmpv6[1] != 0) {
        return ParseStatus::kMalformed; // section 6.1.1, 6.1.2, 7.1.1, 7.1.2: code must be 0
    }
    if (icmpv6.size() < fixed) {
        return ParseStatus::kTruncated;
    }
    out = NdpMessage{};
    out.type = type;
    if (type == 136) {
        out.address = make_ipv6(icmpv6.data() + 8); // an advertisement vouches for its target
    } else if (!is_unspecified(source)) {
        out.address = source;
    } else if (type == 135) {
        return ParseStatus::kUnsupported; // duplicate address detection: no address is anyone's yet
    }
    // Options: type(1) length(1, in units of 8 bytes, 0 is invalid: section 4.6).
    ByteReader r(icmpv6.subspan(fixed));
    while (!r.empty()) {
        std::uint8_t opt = 0, units = 0;
        if (!r.read_u8(opt) || !r.read_u8(units)) {
            return ParseStatus::kTruncated;
        }
        if (units == 0) {
            return ParseStatus::kMalformed;
        }
        Bytes body;
        if (!r.read_bytes(std::size_t{units} * 8 - 2, body)) {
            return ParseStatus::kTruncated;
        }
        if (opt == wanted_option && body.size() >= 6 && !out.has_mac) {
            out.mac = mac_at(body.data());
            out.has_mac = true;
        }
    }
    return ParseStatus::kOk;
}

ParseStatus parse_dhcp(Bytes payload, DhcpMessage& out) noexcept {
    // RFC 2131 section 2: op htype hlen hops xid(4) secs(2) flags(2) ciaddr yiaddr siaddr giaddr
    // chaddr(16) sname(64) file(128), then the magic cookie 99.130.83.99 and the options.
    constexpr std::size_t kFixed = 236;
    constexpr std::array<std::uint8_t, 4> kCookie{99, 130, 83, 99};
    if (payload.size() < kFixed + kCookie.size()) {
        return ParseStatus::kTruncated;
    }
    if (!std::equal(kCookie.begin(), kCookie.end(), payload.begin() + kFixed)) {
        return ParseStatus::kMalformed;
    }
    out = DhcpMessage{};
    out.op = payload[0];
    if (out.op != 1 && out.op != 2) {
        return ParseStatus::kMalformed;
    }
    if (payload[1] == 1 && payload[2] == 6) {
        out.client_mac = mac_at(payload.data() + 28);
        out.has_client_mac = true;
    }
    const IpAddress ciaddr = make_ipv4(payload.data() + 12);
    const IpAddress yiaddr = make_ipv4(payload.data() + 16);
    IpAddress requested;
    ByteReader r(payload.subspan(kFixed + kCookie.size()));
    while (!r.empty()) {
        std::uint8_t code = 0;
        (void)r.read_u8(code);
        if (code == 0) { // Pad (RFC 2132 section 3.1)
            continue;
        }
        if (code == 255) { // End
            break;
        }
        std::uint8_t len = 0;
        Bytes value;
        if (!r.read_u8(len) || !r.read_bytes(len, value)) {
            return ParseStatus::kMalformed;
        }
        switch (code) {
        case 12: assign_option_text(out.host_name, value); break;
        case 60: assign_option_text(out.vendor_class, value); break;
        case 50:
            if (value.size() == 4) {
                requested = make_ipv4(value.data());
            }
            break;
        case 53:
            if (value.size() == 1) {
                out.message_type = value[0];
            }
            break;
        default: break;
        }
    }
    // Whose address: an acknowledgement (or a BOOTP reply) gives the client yiaddr; an offer is not
    // taken yet. A request names its own: ciaddr when bound, else the address it asks for.
    constexpr std::uint8_t kAck = 5;
    const bool granted = out.op == 2 && (out.message_type == kAck || out.message_type == 0);
    for (const IpAddress* a : {granted ? &yiaddr : &ciaddr, &ciaddr, out.op == 1 ? &requested : &ciaddr}) {
        if (a->version != 0 && !is_unspecified(*a)) {
            out.address = *a;
            break;
        }
    }
    return ParseStatus::kOk;
}

} // namespace wt::parsers
