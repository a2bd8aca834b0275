// CaptureReader: pcap and pcapng records from a byte span (the app mmaps the file).
//
// Formats: pcap (all four magics: usec / nsec, either byte order; tcpdump's
// pcap-savefile(5)) and pcapng (draft-ietf-opsawg-pcapng: SHB with per-section byte
// order, IDB with if_tsresol / if_tsoffset, EPB, SPB, OPB; every other block type is
// skipped by its length). Interfaces are per section and may have different link types.
//
// Contract: never reads outside the span; does not allocate; noexcept. Records point
// into the span, so the file must stay mapped while they are used. Errors carry a
// one-line message ("record at offset 1234: ...") and the offset of the offending
// record or block. A record cut off by the end of the file (a capture still being
// written, or killed) is kTruncatedRecord and counted; garbage inside the file is
// kCorrupt and stops the reader.
#pragma once

#include <cstdarg>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/common/byte_reader.hpp"
#include "parsers/common/limits.hpp"

namespace wt::parsers {

// pcap LINKTYPE_* values (https://www.tcpdump.org/linktypes.html). Other values pass
// through as raw numbers (static_cast<uint16_t>(link)).
enum class LinkType : std::uint16_t {
    kNull = 0,          ///< BSD loopback: 4-byte address family in the writer's byte order
    kEthernet = 1,      ///< Ethernet II / 802.3
    kPpp = 9,           ///< PPP (RFC 1661), optional 0xff 0x03 address/control (RFC 1662)
    kPppHdlc = 50,      ///< PPP in HDLC-like framing, or Cisco HDLC when the first byte is 0x0f / 0x8f
    kRaw = 101,         ///< raw IPv4 or IPv6, version nibble decides
    kCHdlc = 104,       ///< Cisco HDLC: address, control, 2-byte ethertype
    kIeee80211 = 105,   ///< IEEE 802.11 without radio header (data frames with LLC/SNAP are decoded)
    kLoop = 108,        ///< OpenBSD loopback: 4-byte address family
    kIeee80211Radiotap = 127, ///< 802.11 behind a radiotap header (radiotap.org: version 0, LE length)
    kPpi = 192,         ///< Per-Packet Information header (PPI 1.0.10: version 0, LE length, LE DLT), 802.11 inside
    kLinuxSll = 113,    ///< Linux cooked capture v1 (16-byte header)
    kIpv4 = 228,        ///< raw IPv4
    kIpv6 = 229,        ///< raw IPv6
    kLinuxSll2 = 276,   ///< Linux cooked capture v2 (20-byte header)
};

enum class CaptureFormat : std::uint8_t { kPcap, kPcapng };

struct CaptureRecord {
    std::uint64_t ts_ns = 0;        ///< nanoseconds since the epoch (0 for pcapng SPB: it has none)
    std::uint32_t orig_len = 0;     ///< length on the wire as the writer recorded it
    std::uint32_t interface_id = 0; ///< pcapng interface id within the section; 0 for pcap
    LinkType link = LinkType::kEthernet;
    Bytes data;                     ///< captured bytes (data.size() is the captured length)
    Bytes comment;                  ///< pcapng EPB opt_comment (section 3.5), as written; empty when none
};

enum class CaptureStatus : std::uint8_t {
    kOk,              ///< a record was returned / the reader is usable
    kEnd,             ///< no more records
    kTruncatedRecord, ///< the file ends inside a header or record (counted; next() then gives kEnd)
    kCorrupt,         ///< a header or record violates the format; the reader stops
    kNotACapture,     ///< the magic is neither pcap nor pcapng
    kEmpty,           ///< zero-length file
    kUnsupported,     ///< a known but unsupported variant (modified pcap, pcapng major version != 1)
    kCount
};

[[nodiscard]] std::string_view to_string(CaptureStatus s) noexcept;
[[nodiscard]] std::string_view to_string(CaptureFormat f) noexcept;

class CaptureReader {
public:
    // An empty pcap reader: next() gives kEnd. Use open() for a file.
    CaptureReader() noexcept = default;

    // Parses the file header (pcap) or the first Section Header Block (pcapng).
    // Check status(): kOk means next() can be called.
    [[nodiscard]] static CaptureReader open(Bytes file) noexcept;

    // kOk with `out` filled, kEnd, kTruncatedRecord (once; then kEnd) or kCorrupt /
    // kUnsupported (sticky, with error() and error_offset()).
    CaptureStatus next(CaptureRecord& out) noexcept;

    // kOk while records remain, else the status that ended the reader (kEnd,
    // kTruncatedRecord, kCorrupt, ...).
    [[nodiscard]] CaptureStatus status() const noexcept { return _status; }
    // Empty while no error; e.g. "record at offset 1234: captured length 70000 exceeds snaplen 65535".
    [[nodiscard]] std::string_view error() const noexcept { return {_error.data(), _error_len}; }
    [[nodiscard]] std::uint64_t error_offset() const noexcept { return _error_offset; }

    [[nodiscard]] CaptureFormat format() const noexcept { return _format; }
    // pcap: the file's link type and snaplen; pcapng: those of the first interface seen.
    [[nodiscard]] LinkType link_type() const noexcept { return _link; }
    [[nodiscard]] std::uint32_t snaplen() const noexcept { return _snaplen; }
    [[nodiscard]] bool nanosecond() const noexcept { return _nano; }
    [[nodiscard]] bool big_endian() const noexcept { return _big_endian; }

    [[nodiscard]] std::uint64_t records_read() const noexcept { return _records_read; }
    [[nodiscard]] std::uint64_t truncated_records() const noexcept { return _truncated_records; }
    // pcapng blocks skipped: unknown types, ISB, NRB, DSB, ..., and whole sections of unknown versions.
    [[nodiscard]] std::uint64_t skipped_blocks() const noexcept { return _skipped_blocks; }
    [[nodiscard]] std::uint64_t sections() const noexcept { return _sections; }
    [[nodiscard]] std::size_t interfaces() const noexcept { return _interface_count; }
    [[nodiscard]] std::uint64_t offset() const noexcept { return _pos; }

private:
    struct Interface {
        LinkType link = LinkType::kEthernet;
        std::uint32_t snaplen = 0;
        // if_tsresol (section 4.2): units per second are 10^-exp or 2^-exp.
        std::uint8_t tsresol = 6;
        std::int64_t tsoffset_s = 0; // if_tsoffset (section 4.2), seconds
    };

    void open_pcap(std::uint32_t magic) noexcept;
    void open_pcapng() noexcept;
    CaptureStatus next_pcap(CaptureRecord& out) noexcept;
    CaptureStatus next_pcapng(CaptureRecord& out) noexcept;

    // Reads one block at _pos: type, body (without the three length/type words).
    // Returns kOk, kEnd, kTruncatedRecord or kCorrupt (with the error set).
    CaptureStatus read_block(std::uint32_t& type, Bytes& body) noexcept;
    CaptureStatus parse_shb(Bytes body) noexcept;
    CaptureStatus parse_idb(Bytes body) noexcept;
    CaptureStatus packet_block(std::uint32_t type, Bytes body, CaptureRecord& out) noexcept;
    std::uint64_t to_ns(const Interface& itf, std::uint64_t ts) const noexcept;

    CaptureStatus fail(CaptureStatus s, std::uint64_t offset, const char* fmt, ...) noexcept
        __attribute__((format(printf, 4, 5)));
    CaptureStatus truncated(std::uint64_t offset, const char* fmt, ...) noexcept
        __attribute__((format(printf, 3, 4)));
    CaptureStatus set_error(CaptureStatus s, std::uint64_t offset, const char* fmt, va_list ap) noexcept
        __attribute__((format(printf, 4, 0)));
    CaptureStatus check_caplen(std::uint32_t caplen, std::uint32_t snaplen, const char* what) noexcept;

    [[nodiscard]] std::uint16_t u16(const std::uint8_t* p) const noexcept;
    [[nodiscard]] std::uint32_t u32(const std::uint8_t* p) const noexcept;

    Bytes _file;
    std::size_t _pos = 0;
    std::size_t _block_start = 0; // offset of the block being parsed, for messages
    CaptureStatus _status = CaptureStatus::kOk;
    CaptureFormat _format = CaptureFormat::kPcap;
    LinkType _link = LinkType::kEthernet;
    std::uint32_t _snaplen = 0;
    bool _nano = false;
    bool _big_endian = false; // byte order of the file (pcap) or of the current section (pcapng)

    std::array<Interface, limits::kMaxPcapngInterfaces> _interfaces{};
    std::size_t _interface_count = 0;
    bool _have_link = false;

    std::uint64_t _records_read = 0;
    std::uint64_t _truncated_records = 0;
    std::uint64_t _skipped_blocks = 0;
    std::uint64_t _sections = 0;

    std::array<char, 160> _error{};
    std::size_t _error_len = 0;
    std::uint64_t _error_offset = 0;
};

} // namespace wt::parsers
