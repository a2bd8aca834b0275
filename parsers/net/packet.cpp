#include "parsers/net/packet.hpp"

#include <algorithm>
#include <cstring>

#include "parsers/common/limits.hpp"

namespace wt::parsers {

namespace {

// IEEE 802 ethertypes.
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;    // 802.1Q C-tag
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;    // 802.1ad S-tag
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100; // pre-standard S-tag, still seen

constexpr std::size_t kEthernetHeaderSize = 14;
constexpr std::size_t kSllHeaderSize = 16;  // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
constexpr std::size_t kSll2HeaderSize = 20; // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
constexpr std::uint16_t kArphrdEther = 1;
constexpr std::size_t kNullHeaderSize = 4;

constexpr std::size_t kIpv4MinHeader = 20; // RFC 791 section 3.1
constexpr std::size_t kIpv6HeaderSize = 40; // RFC 8200 section 3
constexpr std::size_t kTcpMinHeader = 20;   // RFC 9293 section 3.1
constexpr std::size_t kUdpHeaderSize = 8;   // RFC 768

// RFC 8200 section 4 extension headers we step over; everything else ends the chain.
constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6Ah = 51; // RFC 4302 section 2.2: length in 4-byte units minus 2
constexpr std::uint8_t kIpv6DestOpts = 60;

struct Ctx {
    DecodedPacket& out;
    std::size_t missing = 0; // bytes the capture cut off the end of the frame
    std::size_t depth = 0;   // IP-in-IP nesting of the header being decoded
};

// Written in place: returning an IpAddress by value stalled on store forwarding.
void set_ipv4(IpAddress& a, const std::uint8_t* p) noexcept {
    a.bytes = {};
    std::memcpy(a.bytes.data(), p, 4);
    a.version = 4;
}
void set_ipv6(IpAddress& a, const std::uint8_t* p) noexcept {
    std::memcpy(a.bytes.data(), p, 16);
    a.version = 6;
}

// Field by field: `out = DecodedPacket{}` compiles to `rep stos`, whose start-up
// cost was a third of a TCP decode (perf on benches/net); these become a few stores.
void reset(DecodedPacket& out) noexcept {
    out.status = DecodeStatus::kOk;
    out.has_mac = false;
    out.fragmented = false;
    out.first_fragment = false;
    out.capture_truncated = false;
    out.tunneled = false;
    out.vlan_depth = 0;
    out.ip_version = 0;
    out.l4_proto = 0;
    out.tcp_flags = 0;
    out.outer_vlan = 0;
    out.inner_vlan = 0;
    out.ethertype = 0;
    out.src_port = 0;
    out.dst_port = 0;
    out.tcp_window = 0;
    out.ip_bytes = 0;
    out.tcp_seq = 0;
    out.tcp_ack = 0;
    out.src_mac = {};
    out.dst_mac = {};
    out.src = IpAddress{};
    out.dst = IpAddress{};
    out.l4_payload = {};
}

DecodeStatus finish(DecodedPacket& out, DecodeStatus s) noexcept {
    out.status = s;
    return s;
}

DecodeStatus decode_ipv4(Ctx& c, Bytes data) noexcept;
DecodeStatus decode_ipv6(Ctx& c, Bytes data) noexcept;

// `avail`: the captured IP payload (already clipped to the IP length).
// `declared`: the IP payload length from the IP header.
// `first_fragment`: the datagram continues in later fragments, so a UDP length
// larger than this packet's payload is expected.
DecodeStatus decode_l4(Ctx& c, std::uint8_t proto, Bytes avail, std::size_t declared, bool first_fragment) noexcept {
    DecodedPacket& out = c.out;
    out.l4_proto = proto;
    switch (proto) {
    case kIpProtoTcp: {
        // RFC 9293 section 3.1: ports(4) seq(4) ack(4) data offset/flags(2) window(2) ...
        if (declared < kTcpMinHeader || avail.size() < kTcpMinHeader) {
            return finish(out, DecodeStatus::kTcpTruncated);
        }
        const std::uint8_t* p = avail.data();
        const std::size_t hlen = std::size_t{static_cast<std::uint8_t>(p[12] >> 4)} * 4;
        if (hlen < kTcpMinHeader || hlen > declared) {
            return finish(out, DecodeStatus::kTcpBadDataOffset);
        }
        if (hlen > avail.size()) {
            return finish(out, DecodeStatus::kTcpTruncated);
        }
        out.src_port = load_u16(p);
        out.dst_port = load_u16(p + 2);
        out.tcp_seq = load_u32(p + 4);
        out.tcp_ack = load_u32(p + 8);
        out.tcp_flags = p[13];
        out.tcp_window = load_u16(p + 14);
        out.l4_payload = avail.subspan(hlen); // options skipped
        return finish(out, DecodeStatus::kOk);
    }
    case kIpProtoUdp: {
        // RFC 768. Length policy (Suricata drops unless length == IP payload; nDPI
        // trusts the IP length): a length below 8 is malformed; a length above the IP
        // payload is malformed except in a first fragment; a length below the IP
        // payload is accepted and the payload clipped to it (the rest is padding).
        if (declared < kUdpHeaderSize || avail.size() < kUdpHeaderSize) {
            return finish(out, DecodeStatus::kUdpTruncated);
        }
        const std::uint8_t* p = avail.data();
        const std::size_t ulen = load_u16(p + 4);
        if (ulen < kUdpHeaderSize || (ulen > declared && !first_fragment)) {
            return finish(out, DecodeStatus::kUdpBadLength);
        }
        out.src_port = load_u16(p);
        out.dst_port = load_u16(p + 2);
        const Bytes body = avail.subspan(kUdpHeaderSize);
        out.l4_payload = body.first(std::min(ulen - kUdpHeaderSize, body.size()));
        return finish(out, DecodeStatus::kOk);
    }
    case kIpProtoIpv4:
    case kIpProtoIpv6: {
        // RFC 2003 (IPv4 in IP) / RFC 2473 (IPv6 in IPv6) / RFC 4213 (6in4): decode the
        // inner header; ip_bytes stays the outer one.
        if (c.depth >= limits::kMaxIpTunnelDepth) {
            return finish(out, DecodeStatus::kTunnelTooDeep);
        }
        ++c.depth;
        out.tunneled = true;
        out.fragmented = false;
        out.first_fragment = false;
        return proto == kIpProtoIpv4 ? decode_ipv4(c, avail) : decode_ipv6(c, avail);
    }
    default:
        // ICMP, ICMPv6, GRE, SCTP, ESP, no-next-header, ...: ports stay 0.
        out.l4_payload = avail;
        return finish(out, DecodeStatus::kOk);
    }
}

// Checks in Suricata's DecodeIPV4Packet order (RFC 791 section 3.1).
DecodeStatus decode_ipv4(Ctx& c, Bytes data) noexcept {
    DecodedPacket& out = c.out;
    if (data.size() < kIpv4MinHeader) {
        return finish(out, DecodeStatus::kIpv4TooShort);
    }
    const std::uint8_t* p = data.data();
    if ((p[0] >> 4) != 4) {
        return finish(out, DecodeStatus::kIpv4BadVersion);
    }
    const std::size_t hlen = std::size_t{static_cast<std::uint8_t>(p[0] & 0x0f)} * 4;
    if (hlen < kIpv4MinHeader) {
        return finish(out, DecodeStatus::kIpv4BadHeaderLength);
    }
    if (hlen > data.size()) {
        return finish(out, DecodeStatus::kIpv4Truncated);
    }
    std::size_t total = load_u16(p + 2);
    if (total == 0) {
        // Captured on the sending host with TCP segmentation offload: the kernel hands
        // the NIC one large segment with total length 0 (Wireshark: "assumed TSO").
        // Take the captured length; on the wire these become several packets.
        total = data.size();
    }
    if (total < hlen) {
        return finish(out, DecodeStatus::kIpv4BadTotalLength);
    }
    if (total > data.size()) {
        // Shorter than the header says: a snaplen cut (decode what we have) or a lie.
        if (total - data.size() > c.missing) {
            return finish(out, DecodeStatus::kIpv4Truncated);
        }
        out.capture_truncated = true;
    }
    out.ip_version = 4;
    set_ipv4(out.src, p + 12);
    set_ipv4(out.dst, p + 16);
    if (c.depth == 0) {
        out.ip_bytes = static_cast<std::uint32_t>(total);
    }
    // Child span from the total length: strips Ethernet padding (Suricata, VPP ip4-input).
    const Bytes payload = data.first(std::min(total, data.size())).subspan(hlen); // options skipped
    const std::uint8_t proto = p[9];
    const std::uint16_t frag = load_u16(p + 6);
    const bool more_fragments = (frag & 0x2000) != 0;
    const std::size_t offset = std::size_t{static_cast<std::uint16_t>(frag & 0x1fff)} * 8;
    if (more_fragments || offset != 0) {
        out.fragmented = true;
        out.first_fragment = offset == 0;
        if (offset != 0 || proto == kIpProtoIpv4 || proto == kIpProtoIpv6) {
            // Later fragments carry no L4 header; a fragmented tunnel is not reassembled.
            out.l4_proto = proto;
            out.l4_payload = payload;
            return finish(out, DecodeStatus::kOk);
        }
    }
    return decode_l4(c, proto, payload, total - hlen, out.first_fragment);
}

// RFC 8200 sections 3 and 4.
DecodeStatus decode_ipv6(Ctx& c, Bytes data) noexcept {
    DecodedPacket& out = c.out;
    if (data.size() < kIpv6HeaderSize) {
        return finish(out, DecodeStatus::kIpv6Truncated);
    }
    const std::uint8_t* p = data.data();
    if ((p[0] >> 4) != 6) {
        return finish(out, DecodeStatus::kIpv6BadVersion);
    }
    const std::size_t plen = load_u16(p + 4);
    const std::size_t have = data.size() - kIpv6HeaderSize;
    if (plen > have) {
        if (plen - have > c.missing) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        out.capture_truncated = true;
    }
    out.ip_version = 6;
    set_ipv6(out.src, p + 8);
    set_ipv6(out.dst, p + 24);
    if (c.depth == 0) {
        out.ip_bytes = static_cast<std::uint32_t>(kIpv6HeaderSize + plen);
    }
    Bytes avail = data.subspan(kIpv6HeaderSize, std::min(plen, have));
    std::size_t declared = plen;
    std::uint8_t nh = p[6];
    for (std::size_t n = 0; n <= limits::kMaxIpv6ExtensionHeaders; ++n) {
        if (nh != kIpv6HopByHop && nh != kIpv6Routing && nh != kIpv6Fragment && nh != kIpv6Ah && nh != kIpv6DestOpts) {
            return decode_l4(c, nh, avail, declared, out.first_fragment);
        }
        if (n == limits::kMaxIpv6ExtensionHeaders) {
            break;
        }
        // Section 4.3: hop-by-hop options only immediately after the IPv6 header.
        if (nh == kIpv6HopByHop && n != 0) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (declared < 2) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (avail.size() < 2) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        std::size_t len = 0;
        if (nh == kIpv6Fragment) {
            len = 8; // section 4.5: fixed size
        } else if (nh == kIpv6Ah) {
            len = (std::size_t{avail[1]} + 2) * 4;
        } else {
            len = (std::size_t{avail[1]} + 1) * 8; // sections 4.3, 4.4, 4.6
        }
        if (len > declared) {
            return finish(out, DecodeStatus::kIpv6BadExtension);
        }
        if (len > avail.size()) {
            return finish(out, DecodeStatus::kIpv6Truncated);
        }
        const std::uint8_t next = avail[0];
        if (nh == kIpv6Fragment) {
            const std::uint16_t off_flags = load_u16(avail.data() + 2);
            const std::size_t offset = off_flags & 0xfff8; // 13-bit offset in 8-octet units, already scaled
            out.fragmented = true;
            out.first_fragment = offset == 0;
            if (offset != 0 || next == kIpProtoIpv4 || next == kIpProtoIpv6) {
                out.l4_proto = next;
                out.l4_payload = avail.subspan(len);
                return finish(out, DecodeStatus::kOk);
            }
        }
        avail = avail.subspan(len);
        declared -= len;
        nh = next;
    }
    return finish(out, DecodeStatus::kIpv6TooManyExtensions);
}

// Ethertype dispatch after the link header, through any VLAN tags (IEEE 802.1Q
// section 9.6: TPID(2) TCI(2), VLAN id in the low 12 bits of the TCI).
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t ethertype, Bytes rest) noexcept {
    DecodedPacket& out = c.out;
    ByteReader r(rest);
    for (std::size_t depth = 0; depth <= limits::kMaxVlanDepth; ++depth) {
        if (ethertype != kEtherTypeVlan && ethertype != kEtherTypeQinQ && ethertype != kEtherTypeQinQOld) {
            break;
        }
        if (depth == limits::kMaxVlanDepth) {
            return finish(out, DecodeStatus::kVlanTooDeep);
        }
        std::uint16_t tci = 0;
        std::uint16_t next = 0;
        if (!r.read_u16(tci) || !r.read_u16(next)) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        if (depth == 0) {
            out.outer_vlan = tci & 0x0fff;
        }
        out.inner_vlan = tci & 0x0fff;
        out.vlan_depth = static_cast<std::uint8_t>(depth + 1);
        ethertype = next;
    }
    out.ethertype = ethertype;
    switch (ethertype) {
    case kEtherTypeIpv4:
        return decode_ipv4(c, r.rest());
    case kEtherTypeIpv6:
        return decode_ipv6(c, r.rest());
    default:
        // ARP, LLDP, MPLS, PPPoE, ..., and 802.3 frames, whose "ethertype" is a
        // length below 0x0600 (IEEE 802.3 section 3.2.6).
        return finish(out, DecodeStatus::kNotIp);
    }
}

DecodeStatus decode_raw(Ctx& c, Bytes frame) noexcept {
    if (frame.empty()) {
        return finish(c.out, DecodeStatus::kTruncatedLink);
    }
    switch (frame[0] >> 4) {
    case 4:
        return decode_ipv4(c, frame);
    case 6:
        return decode_ipv6(c, frame);
    default:
        return finish(c.out, DecodeStatus::kIpBadVersion);
    }
}

// BSD loopback: a 4-byte address family in the writer's byte order (DLT_NULL) or
// network order (DLT_LOOP); accept both. AF_INET is 2 everywhere; AF_INET6 is 24
// (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 23 (Windows/Npcap), 10 (Linux).
DecodeStatus decode_null(Ctx& c, Bytes frame) noexcept {
    if (frame.size() < kNullHeaderSize) {
        return finish(c.out, DecodeStatus::kTruncatedLink);
    }
    const std::uint32_t be = load_u32(frame.data());
    const std::uint32_t le = (be >> 24) | ((be >> 8) & 0xff00) | ((be << 8) & 0xff0000) | (be << 24);
    const std::uint32_t af = std::min(be, le); // the family is small: the other order is >= 2^24
    const Bytes ip = frame.subspan(kNullHeaderSize);
    switch (af) {
    case 2:
        return decode_ipv4(c, ip);
    case 10:
    case 23:
    case 24:
    case 28:
    case 30:
        return decode_ipv6(c, ip);
    default:
        return finish(c.out, DecodeStatus::kNotIp);
    }
}

} // namespace

std::string_view to_string(DecodeStatus s) noexcept {
    switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kNotIp: return "not_ip";
    case DecodeStatus::kUnsupportedLinkType: return "unsupported_link_type";
    case DecodeStatus::kTruncatedLink: return "truncated_link";
    case DecodeStatus::kVlanTooDeep: return "vlan_too_deep";
    case DecodeStatus::kIpBadVersion: return "ip_bad_version";
    case DecodeStatus::kIpv4TooShort: return "ipv4_too_short";
    case DecodeStatus::kIpv4BadVersion: return "ipv4_bad_version";
    case DecodeStatus::kIpv4BadHeaderLength: return "ipv4_bad_header_length";
    case DecodeStatus::kIpv4Truncated: return "ipv4_truncated";
    case DecodeStatus::kIpv4BadTotalLength: return "ipv4_bad_total_length";
    case DecodeStatus::kIpv6Truncated: return "ipv6_truncated";
    case DecodeStatus::kIpv6BadVersion: return "ipv6_bad_version";
    case DecodeStatus::kIpv6TooManyExtensions: return "ipv6_too_many_extensions";
    case DecodeStatus::kIpv6BadExtension: return "ipv6_bad_extension";
    case DecodeStatus::kTcpTruncated: return "tcp_truncated";
    case DecodeStatus::kTcpBadDataOffset: return "tcp_bad_data_offset";
    case DecodeStatus::kUdpTruncated: return "udp_truncated";
    case DecodeStatus::kUdpBadLength: return "udp_bad_length";
    case DecodeStatus::kTunnelTooDeep: return "tunnel_too_deep";
    case DecodeStatus::kCount: break;
    }
    return "unknown";
}

DecodeStatus decode_packet(LinkType link, Bytes frame, DecodedPacket& out, std::uint32_t wire_len) noexcept {
    reset(out);
    Ctx c{out};
    c.missing = wire_len > frame.size() ? wire_len - frame.size() : 0;
    switch (link) {
    case LinkType::kEthernet: {
        if (frame.size() < kEthernetHeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        std::memcpy(out.dst_mac.data(), frame.data(), 6);
        std::memcpy(out.src_mac.data(), frame.data() + 6, 6);
        out.has_mac = true;
        return decode_ethertype(c, load_u16(frame.data() + 12), frame.subspan(kEthernetHeaderSize));
    }
    case LinkType::kLinuxSll: {
        // packet_type(2) arphrd(2) addr_len(2) addr(8) protocol(2)
        if (frame.size() < kSllHeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::uint8_t* p = frame.data();
        if (load_u16(p + 2) == kArphrdEther && load_u16(p + 4) == 6) {
            std::memcpy(out.src_mac.data(), p + 6, 6);
            out.has_mac = true;
        }
        return decode_ethertype(c, load_u16(p + 14), frame.subspan(kSllHeaderSize));
    }
    case LinkType::kLinuxSll2: {
        // protocol(2) reserved(2) ifindex(4) arphrd(2) packet_type(1) addr_len(1) addr(8)
        if (frame.size() < kSll2HeaderSize) {
            return finish(out, DecodeStatus::kTruncatedLink);
        }
        const std::uint8_t* p = frame.data();
        if (load_u16(p + 8) == kArphrdEther && p[11] == 6) {
            std::memcpy(out.src_mac.data(), p + 12, 6);
            out.has_mac = true;
        }
        return decode_ethertype(c, load_u16(p), frame.subspan(kSll2HeaderSize));
    }
    case LinkType::kRaw:
        return decode_raw(c, frame);
    case LinkType::kIpv4:
        return decode_ipv4(c, frame);
    case LinkType::kIpv6:
        return decode_ipv6(c, frame);
    case LinkType::kNull:
    case LinkType::kLoop:
        return decode_null(c, frame);
    }
    return finish(out, DecodeStatus::kUnsupportedLinkType);
}

IpAddress make_ipv4(const std::uint8_t* p) noexcept {
    IpAddress a;
    set_ipv4(a, p);
    return a;
}

IpAddress make_ipv6(const std::uint8_t* p) noexcept {
    IpAddress a;
    set_ipv6(a, p);
    return a;
}

std::size_t hash_value(const IpAddress& a) noexcept {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    // Two multiply-xorshift rounds (splitmix64 finaliser constants).
    std::uint64_t h = (lo ^ (std::uint64_t{a.version} << 56)) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    h = (h ^ hi) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h);
}

namespace {

class TextOut {
public:
    TextOut(char* buf, std::size_t cap) noexcept : _buf(buf), _cap(cap) {}
    void put(char ch) noexcept {
        if (_len + 1 < _cap) {
            _buf[_len] = ch;
        }
        ++_len;
    }
    void dec(unsigned v) noexcept {
        char tmp[3];
        std::size_t n = 0;
        do {
            tmp[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0 && n < sizeof(tmp));
        while (n > 0) {
            put(tmp[--n]);
        }
    }
    void hex(unsigned v) noexcept {
        static constexpr char kDigits[] = "0123456789abcdef";
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned d = (v >> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                put(kDigits[d]);
                started = true;
            }
        }
    }
    void dotted(const std::uint8_t* p) noexcept {
        for (int i = 0; i < 4; ++i) {
            if (i != 0) {
                put('.');
            }
            dec(p[i]);
        }
    }
    std::size_t finish() noexcept {
        if (_cap > 0) {
            _buf[std::min(_len, _cap - 1)] = '\0';
        }
        return std::min(_len, _cap > 0 ? _cap - 1 : 0);
    }

private:
    char* _buf;
    std::size_t _cap;
    std::size_t _len = 0;
};

} // namespace

std::size_t format_ip(const IpAddress& a, char* buf, std::size_t cap) noexcept {
    TextOut t(buf, cap);
    if (a.version == 4) {
        t.dotted(a.bytes.data());
        return t.finish();
    }
    if (a.version != 6) {
        t.put('-');
        return t.finish();
    }
    const std::uint8_t* b = a.bytes.data();
    // RFC 5952 section 5: IPv4-mapped addresses in mixed notation.
    static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
        for (const char ch : std::string_view("::ffff:")) {
            t.put(ch);
        }
        t.dotted(b + 12);
        return t.finish();
    }
    std::array<unsigned, 8> g{};
    for (std::size_t i = 0; i < 8; ++i) {
        g[i] = load_u16(b + 2 * i);
    }
    // Section 4.2: "::" replaces the longest run (>= 2) of zero groups, the first on a tie.
    std::size_t best = 8;
    std::size_t best_len = 1;
    for (std::size_t i = 0; i < 8;) {
        if (g[i] != 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < 8 && g[j] == 0) {
            ++j;
        }
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (std::size_t i = 0; i < 8; ++i) {
        if (i == best) {
            t.put(':');
            t.put(':');
            i += best_len - 1;
            continue;
        }
        if (i != 0 && i != best + best_len) {
            t.put(':');
        }
        t.hex(g[i]); // section 4.3: lowercase, no leading zeros
    }
    return t.finish();
}

IpString to_string(const IpAddress& a) noexcept {
    char buf[IpString::capacity() + 1];
    const std::size_t n = format_ip(a, buf, sizeof(buf));
    IpString s;
    s.assign(std::string_view(buf, n));
    return s;
}

} // namespace wt::parsers
