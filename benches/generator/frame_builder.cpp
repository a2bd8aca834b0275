#include "benches/generator/frame_builder.hpp"

#include <cstring>

#include "parsers/common/byte_reader.hpp"
#include "parsers/net/checksum.hpp"

namespace wt::gen {
namespace {

using parsers::ones_fold;
using parsers::ones_sum;
constexpr auto put16 = parsers::store_u16;
constexpr auto put32 = parsers::store_u32;

// Ethernet and IP headers; returns the offset of the L4 header.
std::size_t write_l2_l3(std::uint8_t* buf, const Endpoints& e, bool from_client, std::uint8_t proto,
                        std::size_t l4_len, std::uint16_t ip_id) noexcept {
    const auto& src_mac = from_client ? e.client_mac : e.server_mac;
    const auto& dst_mac = from_client ? e.server_mac : e.client_mac;
    std::memcpy(buf, dst_mac.data(), 6);
    std::memcpy(buf + 6, src_mac.data(), 6);
    const auto& src = from_client ? e.client : e.server;
    const auto& dst = from_client ? e.server : e.client;
    std::uint8_t* ip = buf + kEthernetHeader;
    if (e.v6) {
        put16(buf + 12, 0x86dd);
        put32(ip, 0x60000000);                               // version 6, traffic class 0, flow label 0
        put16(ip + 4, static_cast<std::uint16_t>(l4_len));   // payload length
        ip[6] = proto;                                       // next header
        ip[7] = 64;                                          // hop limit
        std::memcpy(ip + 8, src.data(), 16);
        std::memcpy(ip + 24, dst.data(), 16);
        return kEthernetHeader + 40;
    }
    put16(buf + 12, 0x0800);
    ip[0] = 0x45;                                            // version 4, IHL 5
    ip[1] = 0;                                               // DSCP / ECN
    put16(ip + 2, static_cast<std::uint16_t>(20 + l4_len));  // total length
    put16(ip + 4, ip_id);
    put16(ip + 6, 0x4000);                                   // DF, fragment offset 0
    ip[8] = 64;                                              // TTL
    ip[9] = proto;
    put16(ip + 10, 0);
    std::memcpy(ip + 12, src.data(), 4);
    std::memcpy(ip + 16, dst.data(), 4);
    put16(ip + 10, static_cast<std::uint16_t>(~ones_fold(ones_sum(ip, 20))));
    return kEthernetHeader + 20;
}

// RFC 9293 section 3.1 / RFC 768 / RFC 8200 section 8.1 pseudo-header sum.
std::uint64_t pseudo_sum(const std::uint8_t* buf, bool v6, std::uint8_t proto, std::size_t l4_len) noexcept {
    const std::uint8_t* ip = buf + kEthernetHeader;
    std::uint64_t sum = proto + static_cast<std::uint64_t>(l4_len);
    if (v6) {
        return ones_sum(ip + 8, 32, sum);
    }
    return ones_sum(ip + 12, 8, sum);
}

std::size_t pad(std::uint8_t* buf, std::size_t len) noexcept {
    if (len < kMinFrame) {
        std::memset(buf + len, 0, kMinFrame - len);
        return kMinFrame;
    }
    return len;
}

} // namespace

std::size_t finish_tcp(std::uint8_t* buf, const Endpoints& e, bool from_client, const TcpFields& tcp,
                       std::size_t payload_len, std::uint16_t ip_id) noexcept {
    const std::size_t l4_len = 20 + payload_len;
    const std::size_t off = write_l2_l3(buf, e, from_client, kProtoTcp, l4_len, ip_id);
    std::uint8_t* h = buf + off;
    put16(h, from_client ? e.client_port : e.server_port);
    put16(h + 2, from_client ? e.server_port : e.client_port);
    put32(h + 4, tcp.seq);
    put32(h + 8, tcp.ack);
    h[12] = 0x50; // data offset 5 words
    h[13] = tcp.flags;
    put16(h + 14, tcp.window);
    put16(h + 16, 0);
    put16(h + 18, 0); // urgent pointer
    const std::uint16_t sum = ones_fold(ones_sum(h, l4_len, pseudo_sum(buf, e.v6, kProtoTcp, l4_len)));
    put16(h + 16, static_cast<std::uint16_t>(~sum));
    return pad(buf, off + l4_len);
}

std::size_t finish_udp(std::uint8_t* buf, const Endpoints& e, bool from_client, std::size_t payload_len,
                       std::uint16_t ip_id) noexcept {
    const std::size_t l4_len = 8 + payload_len;
    const std::size_t off = write_l2_l3(buf, e, from_client, kProtoUdp, l4_len, ip_id);
    std::uint8_t* h = buf + off;
    put16(h, from_client ? e.client_port : e.server_port);
    put16(h + 2, from_client ? e.server_port : e.client_port);
    put16(h + 4, static_cast<std::uint16_t>(l4_len));
    put16(h + 6, 0);
    std::uint16_t sum = static_cast<std::uint16_t>(~ones_fold(ones_sum(h, l4_len, pseudo_sum(buf, e.v6, kProtoUdp, l4_len))));
    if (sum == 0) {
        sum = 0xffff; // RFC 768: a computed zero is sent as all ones
    }
    put16(h + 6, sum);
    return pad(buf, off + l4_len);
}

} // namespace wt::gen
