// Ethernet II / IPv4 or IPv6 / TCP or UDP headers written in front of a payload that is
// already in place, so a packet is built in one buffer with no copy. Lengths and the IPv4,
// TCP and UDP checksums are correct (tshark and nDPI see clean packets); frames shorter than
// Ethernet's 60-byte minimum are zero-padded, as a NIC pads them on the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wt::gen {

inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;

// TCP flag bits (RFC 9293 section 3.1).
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;

inline constexpr std::size_t kEthernetHeader = 14;
inline constexpr std::size_t kMinFrame = 60;    // without the FCS
inline constexpr std::size_t kMaxFrame = 1514;  // 1500-byte MTU, without the FCS
inline constexpr std::size_t kFrameBuffer = 2048;

// The two ends of a flow. Addresses are 4 (IPv4) or 16 bytes in network order.
struct Endpoints {
    std::array<std::uint8_t, 16> client{};
    std::array<std::uint8_t, 16> server{};
    std::array<std::uint8_t, 6> client_mac{};
    std::array<std::uint8_t, 6> server_mac{};
    std::uint16_t client_port = 0;
    std::uint16_t server_port = 0;
    bool v6 = false;
};

[[nodiscard]] constexpr std::size_t l4_offset(bool v6) noexcept { return kEthernetHeader + (v6 ? 40 : 20); }
[[nodiscard]] constexpr std::size_t payload_offset(bool v6, std::uint8_t proto) noexcept {
    return l4_offset(v6) + (proto == kProtoTcp ? 20 : 8);
}
// The largest payload that keeps the frame within kMaxFrame.
[[nodiscard]] constexpr std::size_t max_payload(bool v6, std::uint8_t proto) noexcept {
    return kMaxFrame - payload_offset(v6, proto);
}

struct TcpFields {
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 64240;
};

// `buf` holds `payload_len` bytes at payload_offset(e.v6, kProtoTcp); writes the headers
// before them and returns the frame length. `ip_id` is the IPv4 identification.
std::size_t finish_tcp(std::uint8_t* buf, const Endpoints& e, bool from_client, const TcpFields& tcp,
                       std::size_t payload_len, std::uint16_t ip_id) noexcept;
// The same for UDP (payload at payload_offset(e.v6, kProtoUdp)).
std::size_t finish_udp(std::uint8_t* buf, const Endpoints& e, bool from_client, std::size_t payload_len,
                       std::uint16_t ip_id) noexcept;

} // namespace wt::gen
