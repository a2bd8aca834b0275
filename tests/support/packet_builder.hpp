// Builds Ethernet/IPv4/IPv6 TCP and UDP frames for tests and benchmarks, with
// correct lengths (checksums are left zero: nothing here verifies them).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace wt::testing {

struct Addr {
    std::array<std::uint8_t, 16> bytes{};
    bool v6 = false;
};

inline Addr ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    Addr x;
    x.bytes[0] = a;
    x.bytes[1] = b;
    x.bytes[2] = c;
    x.bytes[3] = d;
    return x;
}

inline Addr ip6(std::uint16_t last) {
    Addr x;
    x.v6 = true;
    x.bytes[0] = 0xfd;
    x.bytes[1] = 0x77;
    x.bytes[14] = static_cast<std::uint8_t>(last >> 8);
    x.bytes[15] = static_cast<std::uint8_t>(last);
    return x;
}

inline void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x >> 8));
    v.push_back(static_cast<std::uint8_t>(x));
}
inline void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    put16(v, static_cast<std::uint16_t>(x >> 16));
    put16(v, static_cast<std::uint16_t>(x));
}

struct Endpoint {
    Addr ip;
    std::uint16_t port = 0;
};

inline std::vector<std::uint8_t> frame(const Endpoint& src, const Endpoint& dst, std::uint8_t proto,
                                       std::span<const std::uint8_t> l4, std::uint16_t vlan = 0) {
    std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}; // dst MAC, src MAC
    if (vlan != 0) {
        put16(f, 0x8100); // 802.1Q tag: TPID, then PCP/DEI/VID
        put16(f, vlan);
    }
    if (src.ip.v6) {
        put16(f, 0x86dd);
        put32(f, 0x60000000);                                 // version 6, class, flow label
        put16(f, static_cast<std::uint16_t>(l4.size()));       // payload length
        f.push_back(proto);                                   // next header
        f.push_back(64);                                      // hop limit
        f.insert(f.end(), src.ip.bytes.begin(), src.ip.bytes.end());
        f.insert(f.end(), dst.ip.bytes.begin(), dst.ip.bytes.end());
    } else {
        put16(f, 0x0800);
        f.push_back(0x45);                                    // version 4, IHL 5
        f.push_back(0);                                       // DSCP/ECN
        put16(f, static_cast<std::uint16_t>(20 + l4.size())); // total length
        put16(f, 1);                                          // identification
        put16(f, 0x4000);                                     // DF, offset 0
        f.push_back(64);                                      // TTL
        f.push_back(proto);
        put16(f, 0);                                          // header checksum (unchecked)
        f.insert(f.end(), src.ip.bytes.begin(), src.ip.bytes.begin() + 4);
        f.insert(f.end(), dst.ip.bytes.begin(), dst.ip.bytes.begin() + 4);
    }
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

inline std::vector<std::uint8_t> tcp(const Endpoint& src, const Endpoint& dst, std::uint32_t seq, std::uint32_t ack,
                                     std::uint8_t flags, std::span<const std::uint8_t> payload = {},
                                     std::uint16_t vlan = 0) {
    std::vector<std::uint8_t> h;
    put16(h, src.port);
    put16(h, dst.port);
    put32(h, seq);
    put32(h, ack);
    h.push_back(0x50); // data offset 5
    h.push_back(flags);
    put16(h, 65535); // window
    put16(h, 0);     // checksum
    put16(h, 0);     // urgent pointer
    h.insert(h.end(), payload.begin(), payload.end());
    return frame(src, dst, 6, h, vlan);
}

inline std::vector<std::uint8_t> udp(const Endpoint& src, const Endpoint& dst, std::span<const std::uint8_t> payload,
                                     std::uint16_t vlan = 0) {
    std::vector<std::uint8_t> h;
    put16(h, src.port);
    put16(h, dst.port);
    put16(h, static_cast<std::uint16_t>(8 + payload.size()));
    put16(h, 0);
    h.insert(h.end(), payload.begin(), payload.end());
    return frame(src, dst, 17, h, vlan);
}

inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;

// A DNS response (RFC 1035 section 4.1) for `qname` with a CNAME chain and one A record.
inline std::vector<std::uint8_t> dns_response(std::uint16_t id, const std::vector<std::string>& chain,
                                              std::array<std::uint8_t, 4> address) {
    std::vector<std::uint8_t> m;
    auto put_name = [&m](const std::string& name) {
        std::size_t start = 0;
        while (start <= name.size()) {
            std::size_t dot = name.find('.', start);
            if (dot == std::string::npos) {
                dot = name.size();
            }
            m.push_back(static_cast<std::uint8_t>(dot - start));
            m.insert(m.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                     name.begin() + static_cast<std::ptrdiff_t>(dot));
            start = dot + 1;
        }
        m.push_back(0);
    };
    put16(m, id);
    put16(m, 0x8180); // QR, RD, RA, NOERROR
    put16(m, 1);      // QDCOUNT
    put16(m, static_cast<std::uint16_t>(chain.size())); // ANCOUNT: CNAMEs + A
    put16(m, 0);
    put16(m, 0);
    put_name(chain.front());
    put16(m, 1); // QTYPE A
    put16(m, 1); // QCLASS IN
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        put_name(chain[i]);
        put16(m, 5); // CNAME
        put16(m, 1);
        put32(m, 300);
        std::vector<std::uint8_t> saved;
        saved.swap(m);
        put_name(chain[i + 1]);
        std::vector<std::uint8_t> rdata;
        rdata.swap(m);
        m.swap(saved);
        put16(m, static_cast<std::uint16_t>(rdata.size()));
        m.insert(m.end(), rdata.begin(), rdata.end());
    }
    put_name(chain.back());
    put16(m, 1); // A
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    m.insert(m.end(), address.begin(), address.end());
    return m;
}

} // namespace wt::testing
