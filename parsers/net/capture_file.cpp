#include "parsers/net/capture_file.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace wt::parsers {

namespace {

// pcap-savefile(5): magic numbers as read big-endian from the first four bytes.
constexpr std::uint32_t kPcapUsecBe = 0xa1b2c3d4;
constexpr std::uint32_t kPcapUsecLe = 0xd4c3b2a1;
constexpr std::uint32_t kPcapNsecBe = 0xa1b23c4d;
constexpr std::uint32_t kPcapNsecLe = 0x4d3cb2a1;
// Alexey Kuznetsov's "modified" pcap (24-byte record headers); recognised, not read.
constexpr std::uint32_t kPcapModifiedBe = 0xa1b2cd34;
constexpr std::uint32_t kPcapModifiedLe = 0x34cdb2a1;

constexpr std::size_t kPcapFileHeaderSize = 24;
constexpr std::size_t kPcapRecordHeaderSize = 16;

// draft-ietf-opsawg-pcapng sections 4.1-4.6 and 5.
constexpr std::uint32_t kBlockShb = 0x0a0d0d0a; // a palindrome: readable before the byte order is known
constexpr std::uint32_t kBlockIdb = 0x00000001;
constexpr std::uint32_t kBlockOpb = 0x00000002; // obsolete Packet Block (appendix)
constexpr std::uint32_t kBlockSpb = 0x00000003;
constexpr std::uint32_t kBlockEpb = 0x00000006;
constexpr std::uint16_t kOptComment = 1; // opt_comment (section 3.5)
constexpr std::uint32_t kByteOrderMagic = 0x1a2b3c4d;
constexpr std::size_t kBlockOverhead = 12; // type + total length + trailing total length
constexpr std::uint16_t kOptEndOfOpt = 0;
constexpr std::uint16_t kOptIfTsresol = 9;
constexpr std::uint16_t kOptIfTsoffset = 14;

constexpr std::uint64_t kNsPerSec = 1'000'000'000;

__extension__ using Uint128 = unsigned __int128;

[[nodiscard]] constexpr std::uint32_t load_u32_le(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}
[[nodiscard]] constexpr std::uint16_t load_u16_le(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[1] << 8) | p[0]);
}

[[nodiscard]] constexpr std::size_t pad4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

[[nodiscard]] bool is_magic_prefix(Bytes head) noexcept {
    constexpr std::array<std::uint32_t, 7> kMagics = {kPcapUsecBe, kPcapUsecLe, kPcapNsecBe, kPcapNsecLe,
                                                      kPcapModifiedBe, kPcapModifiedLe, kBlockShb};
    for (const std::uint32_t m : kMagics) {
        bool match = true;
        for (std::size_t i = 0; i < head.size() && i < 4; ++i) {
            if (head[i] != static_cast<std::uint8_t>(m >> (24 - 8 * i))) {
                match = false;
                break;
            }
        }
        if (match) {
            return true;
        }
    }
    return false;
}

} // namespace

std::string_view to_string(CaptureStatus s) noexcept {
    switch (s) {
    case CaptureStatus::kOk: return "ok";
    case CaptureStatus::kEnd: return "end";
    case CaptureStatus::kTruncatedRecord: return "truncated_record";
    case CaptureStatus::kCorrupt: return "corrupt";
    case CaptureStatus::kNotACapture: return "not_a_capture";
    case CaptureStatus::kEmpty: return "empty";
    case CaptureStatus::kUnsupported: return "unsupported";
    case CaptureStatus::kCount: break;
    }
    return "unknown";
}

std::string_view to_string(CaptureFormat f) noexcept {
    return f == CaptureFormat::kPcap ? "pcap" : "pcapng";
}

std::uint16_t CaptureReader::u16(const std::uint8_t* p) const noexcept {
    return _big_endian ? load_u16(p) : load_u16_le(p);
}
std::uint32_t CaptureReader::u32(const std::uint8_t* p) const noexcept {
    return _big_endian ? load_u32(p) : load_u32_le(p);
}

CaptureStatus CaptureReader::set_error(CaptureStatus s, std::uint64_t offset, const char* fmt, va_list ap) noexcept {
    const int n = std::vsnprintf(_error.data(), _error.size(), fmt, ap);
    _error_len = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), _error.size() - 1);
    _error_offset = offset;
    _status = s;
    return s;
}

CaptureStatus CaptureReader::fail(CaptureStatus s, std::uint64_t offset, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    set_error(s, offset, fmt, ap);
    va_end(ap);
    return s;
}

CaptureStatus CaptureReader::truncated(std::uint64_t offset, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    set_error(CaptureStatus::kTruncatedRecord, offset, fmt, ap);
    va_end(ap);
    ++_truncated_records;
    return _status;
}

CaptureReader CaptureReader::open(Bytes file) noexcept {
    CaptureReader r;
    r._file = file;
    if (file.empty()) {
        r.fail(CaptureStatus::kEmpty, 0, "empty file");
        return r;
    }
    if (file.size() < 4) {
        if (is_magic_prefix(file)) {
            r.truncated(0, "truncated file header (%zu bytes)", file.size());
        } else {
            r.fail(CaptureStatus::kNotACapture, 0, "not a pcap or pcapng file (%zu bytes)", file.size());
        }
        return r;
    }
    const std::uint32_t magic = load_u32(file.data());
    switch (magic) {
    case kPcapUsecBe:
    case kPcapUsecLe:
    case kPcapNsecBe:
    case kPcapNsecLe:
        r.open_pcap(magic);
        break;
    case kBlockShb:
        r.open_pcapng();
        break;
    case kPcapModifiedBe:
    case kPcapModifiedLe:
        r.fail(CaptureStatus::kUnsupported, 0, "modified pcap format (magic 0x%08x) is not supported", magic);
        break;
    default:
        r.fail(CaptureStatus::kNotACapture, 0, "not a pcap or pcapng file (magic 0x%08x)", magic);
        break;
    }
    return r;
}

// pcap-savefile(5): magic(4) version_major(2) version_minor(2) thiszone(4) sigfigs(4)
// snaplen(4) linktype(4), all in the writer's byte order.
void CaptureReader::open_pcap(std::uint32_t magic) noexcept {
    _format = CaptureFormat::kPcap;
    _big_endian = magic == kPcapUsecBe || magic == kPcapNsecBe;
    _nano = magic == kPcapNsecBe || magic == kPcapNsecLe;
    ByteReader r(_file);
    Bytes hdr;
    if (!r.read_bytes(kPcapFileHeaderSize, hdr)) {
        truncated(0, "truncated file header (%zu of %zu bytes)", _file.size(), kPcapFileHeaderSize);
        return;
    }
    const std::uint16_t major = u16(hdr.data() + 4);
    const std::uint16_t minor = u16(hdr.data() + 6);
    if (major != 2) {
        // libpcap reads only major version 2 (1 predates 1994 and nobody writes it).
        fail(CaptureStatus::kUnsupported, 4, "pcap version %u.%u is not supported", major, minor);
        return;
    }
    _snaplen = u32(hdr.data() + 16);
    // The upper bits of the link type carry FCS information (LT_FCS_LENGTH); the
    // link type proper is the low 16 bits.
    _link = static_cast<LinkType>(u32(hdr.data() + 20) & 0xffff);
    _have_link = true;
    _pos = kPcapFileHeaderSize;
}

void CaptureReader::open_pcapng() noexcept {
    _format = CaptureFormat::kPcapng;
    std::uint32_t type = 0;
    Bytes body;
    const CaptureStatus s = read_block(type, body);
    if (s == CaptureStatus::kTruncatedRecord) {
        _error_len = static_cast<std::size_t>(
            std::snprintf(_error.data(), _error.size(), "truncated file header (section header block)"));
        return;
    }
    if (s != CaptureStatus::kOk) {
        return;
    }
    parse_shb(body);
}

CaptureStatus CaptureReader::next(CaptureRecord& out) noexcept {
    switch (_status) {
    case CaptureStatus::kOk:
        break;
    case CaptureStatus::kTruncatedRecord:
    case CaptureStatus::kEnd:
        return CaptureStatus::kEnd;
    default:
        return _status;
    }
    return _format == CaptureFormat::kPcap ? next_pcap(out) : next_pcapng(out);
}

CaptureStatus CaptureReader::check_caplen(std::uint32_t caplen, std::uint32_t snaplen, const char* what) noexcept {
    if (caplen > limits::kMaxCaptureRecordSize) {
        return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: captured length %u exceeds the %zu-byte limit",
                    what, _block_start, caplen, limits::kMaxCaptureRecordSize);
    }
    // A snaplen of 0 (or one above the limit) is "no limit" in old writers.
    if (snaplen != 0 && snaplen < limits::kMaxCaptureRecordSize && caplen > snaplen) {
        return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: captured length %u exceeds snaplen %u", what,
                    _block_start, caplen, snaplen);
    }
    return CaptureStatus::kOk;
}

// Record: ts_sec(4) ts_usec_or_nsec(4) incl_len(4) orig_len(4), then incl_len bytes.
CaptureStatus CaptureReader::next_pcap(CaptureRecord& out) noexcept {
    ByteReader r(_file.subspan(_pos));
    _block_start = _pos;
    if (r.empty()) {
        _status = CaptureStatus::kEnd;
        return _status;
    }
    Bytes hdr;
    if (!r.read_bytes(kPcapRecordHeaderSize, hdr)) {
        return truncated(_pos, "record at offset %zu: truncated record header (%zu of %zu bytes)", _pos, r.remaining(),
                         kPcapRecordHeaderSize);
    }
    const std::uint32_t ts_sec = u32(hdr.data());
    const std::uint32_t ts_frac = u32(hdr.data() + 4);
    const std::uint32_t caplen = u32(hdr.data() + 8);
    const std::uint32_t origlen = u32(hdr.data() + 12);
    if (check_caplen(caplen, _snaplen, "record") != CaptureStatus::kOk) {
        return _status;
    }
    Bytes data;
    if (!r.read_bytes(caplen, data)) {
        return truncated(_pos, "record at offset %zu: captured length %u but only %zu bytes left", _pos, caplen,
                         r.remaining());
    }
    out.ts_ns = std::uint64_t{ts_sec} * kNsPerSec + (_nano ? ts_frac : std::uint64_t{ts_frac} * 1000);
    out.orig_len = origlen;
    out.interface_id = 0;
    out.link = _link;
    out.data = data;
    _pos += kPcapRecordHeaderSize + caplen;
    ++_records_read;
    return CaptureStatus::kOk;
}

// Generic block (section 3.1): type(4) total_length(4) body total_length(4).
CaptureStatus CaptureReader::read_block(std::uint32_t& type, Bytes& body) noexcept {
    _block_start = _pos;
    ByteReader r(_file.subspan(_pos));
    if (r.empty()) {
        _status = CaptureStatus::kEnd;
        return _status;
    }
    Bytes head;
    if (!r.read_bytes(8, head)) {
        return truncated(_pos, "block at offset %zu: truncated block header (%zu of 8 bytes)", _pos, r.remaining());
    }
    type = load_u32(head.data());
    if (type == kBlockShb) {
        // Section 4.1: the byte-order magic right after the length decides how this
        // section (including this block's length) is read.
        Bytes bom;
        ByteReader probe = r;
        if (!probe.read_bytes(4, bom)) {
            return truncated(_pos, "section header at offset %zu: truncated (%zu bytes)", _pos, r.remaining() + 8);
        }
        const std::uint32_t magic = load_u32(bom.data());
        if (magic == kByteOrderMagic) {
            _big_endian = true;
        } else if (load_u32_le(bom.data()) == kByteOrderMagic) {
            _big_endian = false;
        } else {
            return fail(CaptureStatus::kCorrupt, _pos, "section header at offset %zu: bad byte-order magic 0x%08x", _pos,
                        magic);
        }
    } else {
        type = u32(head.data());
    }
    const std::uint32_t total = u32(head.data() + 4);
    if (total < kBlockOverhead || total % 4 != 0) {
        return fail(CaptureStatus::kCorrupt, _pos, "block at offset %zu: bad total length %u (type 0x%08x)", _pos, total,
                    type);
    }
    Bytes rest;
    if (!r.read_bytes(total - 8, rest)) {
        return truncated(_pos, "block at offset %zu: total length %u but only %zu bytes left", _pos, total,
                         r.remaining() + 8);
    }
    const std::uint32_t trailer = u32(rest.data() + rest.size() - 4);
    if (trailer != total) {
        return fail(CaptureStatus::kCorrupt, _pos, "block at offset %zu: trailing length %u does not match %u", _pos,
                    trailer, total);
    }
    body = rest.first(rest.size() - 4);
    _pos += total;
    return CaptureStatus::kOk;
}

// SHB body (section 4.1): byte-order magic(4) major(2) minor(2) section_length(8) options.
CaptureStatus CaptureReader::parse_shb(Bytes body) noexcept {
    if (body.size() < 16) {
        return fail(CaptureStatus::kCorrupt, _block_start, "section header at offset %zu: body of %zu bytes is too short",
                    _block_start, body.size());
    }
    ++_sections;
    _interface_count = 0; // interface ids restart in every section
    const std::uint16_t major = u16(body.data() + 4);
    const std::uint16_t minor = u16(body.data() + 6);
    if (major == 1) {
        // 1.0 is current; 1.2 was written by old tools and is read as 1.0 (section 4.1).
        return CaptureStatus::kOk;
    }
    // Unknown major version: its blocks cannot be interpreted, but the section can be
    // stepped over when the writer recorded its length (-1 means "not specified").
    const std::uint64_t section_len =
        (std::uint64_t{u32(body.data() + (_big_endian ? 8 : 12))} << 32) | u32(body.data() + (_big_endian ? 12 : 8));
    if (section_len == ~std::uint64_t{0}) {
        return fail(CaptureStatus::kUnsupported, _block_start,
                    "section header at offset %zu: pcapng version %u.%u is not supported", _block_start, major, minor);
    }
    if (section_len % 4 != 0) {
        return fail(CaptureStatus::kCorrupt, _block_start,
                    "section header at offset %zu: section length %llu is not a multiple of 4", _block_start,
                    static_cast<unsigned long long>(section_len));
    }
    if (section_len > _file.size() - _pos) {
        return truncated(_block_start, "section at offset %zu: version %u.%u section of %llu bytes is cut off",
                         _block_start, major, minor, static_cast<unsigned long long>(section_len));
    }
    _pos += static_cast<std::size_t>(section_len);
    ++_skipped_blocks;
    return CaptureStatus::kOk;
}

// IDB body (section 4.2): linktype(2) reserved(2) snaplen(4) options.
CaptureStatus CaptureReader::parse_idb(Bytes body) noexcept {
    if (body.size() < 8) {
        return fail(CaptureStatus::kCorrupt, _block_start, "interface block at offset %zu: body of %zu bytes is too short",
                    _block_start, body.size());
    }
    if (_interface_count == _interfaces.size()) {
        return fail(CaptureStatus::kUnsupported, _block_start,
                    "interface block at offset %zu: more than %zu interfaces in one section", _block_start,
                    _interfaces.size());
    }
    Interface itf;
    itf.link = static_cast<LinkType>(u16(body.data()));
    itf.snaplen = u32(body.data() + 4);
    ByteReader opts(body.subspan(8));
    // Options (section 3.5): code(2) length(2) value padded to 4 bytes.
    for (std::size_t i = 0; i < limits::kMaxPcapngOptions; ++i) {
        Bytes head;
        if (!opts.read_bytes(4, head)) {
            break; // no (more) options; opt_endofopt may be omitted
        }
        const std::uint16_t code = u16(head.data());
        const std::uint16_t len = u16(head.data() + 2);
        if (code == kOptEndOfOpt) {
            break;
        }
        Bytes value;
        if (!opts.read_bytes(len, value) || !opts.skip(pad4(len) - len)) {
            return fail(CaptureStatus::kCorrupt, _block_start, "interface block at offset %zu: option %u overruns the block",
                        _block_start, code);
        }
        if (code == kOptIfTsresol && len == 1) {
            itf.tsresol = value[0];
        } else if (code == kOptIfTsoffset && len == 8) {
            const std::uint64_t hi = u32(value.data() + (_big_endian ? 0 : 4));
            const std::uint64_t lo = u32(value.data() + (_big_endian ? 4 : 0));
            itf.tsoffset_s = static_cast<std::int64_t>((hi << 32) | lo);
        }
    }
    _interfaces[_interface_count++] = itf;
    if (!_have_link) {
        _link = itf.link;
        _snaplen = itf.snaplen;
        _have_link = true;
    }
    return CaptureStatus::kOk;
}

// if_tsresol (section 4.2): MSB clear: units of 10^-v s; MSB set: 2^-(v & 0x7f) s.
// Timestamps from hostile files may overflow; the result then wraps, which is harmless.
std::uint64_t CaptureReader::to_ns(const Interface& itf, std::uint64_t ts) const noexcept {
    std::uint64_t ns = 0;
    if ((itf.tsresol & 0x80) != 0) {
        ns = static_cast<std::uint64_t>((Uint128{ts} * kNsPerSec) >> (itf.tsresol & 0x7f));
    } else if (itf.tsresol <= 9) {
        std::uint64_t mul = 1;
        for (std::uint8_t i = itf.tsresol; i < 9; ++i) {
            mul *= 10;
        }
        ns = ts * mul;
    } else {
        // 10^-10 .. 10^-127: divide; past 10^-28 every 64-bit timestamp is below 1 ns.
        const std::uint8_t exp = std::min<std::uint8_t>(itf.tsresol, 29);
        std::uint64_t div = 1;
        for (std::uint8_t i = 9; i < exp && i < 28; ++i) {
            div *= 10;
        }
        ns = exp >= 29 ? 0 : ts / div;
    }
    return ns + static_cast<std::uint64_t>(itf.tsoffset_s) * kNsPerSec;
}

CaptureStatus CaptureReader::packet_block(std::uint32_t type, Bytes body, CaptureRecord& out) noexcept {
    std::uint32_t iface = 0;
    std::uint64_t ts = 0;
    std::uint32_t caplen = 0;
    std::uint32_t origlen = 0;
    Bytes data_area;
    const char* what = type == kBlockEpb ? "enhanced packet block" : type == kBlockSpb ? "simple packet block" : "packet block";
    if (type == kBlockSpb) {
        // Section 4.4: original_length(4) data; no interface id (always 0), no timestamp,
        // captured length = min(original length, snaplen, what the block holds).
        if (body.size() < 4) {
            return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: body of %zu bytes is too short", what,
                        _block_start, body.size());
        }
        origlen = u32(body.data());
        data_area = body.subspan(4);
        caplen = origlen;
    } else {
        // EPB (section 4.3): interface_id(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data options.
        // OPB (appendix A): interface_id(2) drops_count(2) then the same fields.
        if (body.size() < 20) {
            return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: body of %zu bytes is too short", what,
                        _block_start, body.size());
        }
        iface = type == kBlockEpb ? u32(body.data()) : u16(body.data());
        ts = (std::uint64_t{u32(body.data() + 4)} << 32) | u32(body.data() + 8);
        caplen = u32(body.data() + 12);
        origlen = u32(body.data() + 16);
        data_area = body.subspan(20);
    }
    if (iface >= _interface_count) {
        return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: interface id %u but %zu interfaces defined",
                    what, _block_start, iface, _interface_count);
    }
    const Interface& itf = _interfaces[iface];
    if (type == kBlockSpb) {
        caplen = static_cast<std::uint32_t>(std::min<std::size_t>(caplen, data_area.size()));
        if (itf.snaplen != 0) {
            caplen = std::min(caplen, itf.snaplen);
        }
    }
    if (check_caplen(caplen, itf.snaplen, what) != CaptureStatus::kOk) {
        return _status;
    }
    ByteReader r(data_area);
    Bytes data;
    if (!r.read_bytes(caplen, data)) {
        return fail(CaptureStatus::kCorrupt, _block_start, "%s at offset %zu: captured length %u overruns the block", what,
                    _block_start, caplen);
    }
    out.ts_ns = type == kBlockSpb ? 0 : to_ns(itf, ts);
    out.orig_len = origlen;
    out.interface_id = iface;
    out.link = itf.link;
    out.data = data;
    out.comment = {};
    // Section 4.3: the packet data is padded to 32 bits, options follow. Only opt_comment (section
    // 3.5, code 1: how Wireshark users mark a packet) is read; options that overrun the block are
    // ignored, since they never change the packet.
    if (type == kBlockEpb && r.skip(pad4(caplen) - caplen)) {
        for (std::size_t i = 0; i < limits::kMaxPcapngOptions; ++i) {
            Bytes head;
            Bytes value;
            if (!r.read_bytes(4, head)) {
                break;
            }
            const std::uint16_t code = u16(head.data());
            const std::uint16_t len = u16(head.data() + 2);
            if (code == kOptEndOfOpt || !r.read_bytes(len, value) || !r.skip(pad4(len) - len)) {
                break;
            }
            if (code == kOptComment && len != 0) {
                out.comment = value;
                break;
            }
        }
    }
    ++_records_read;
    return CaptureStatus::kOk;
}

CaptureStatus CaptureReader::next_pcapng(CaptureRecord& out) noexcept {
    for (std::size_t i = 0; i < limits::kMaxPcapngBlocksBetweenPackets; ++i) {
        std::uint32_t type = 0;
        Bytes body;
        const CaptureStatus s = read_block(type, body);
        if (s != CaptureStatus::kOk) {
            return s;
        }
        CaptureStatus parsed = CaptureStatus::kOk;
        switch (type) {
        case kBlockShb:
            parsed = parse_shb(body);
            break;
        case kBlockIdb:
            parsed = parse_idb(body);
            break;
        case kBlockEpb:
        case kBlockSpb:
        case kBlockOpb:
            return packet_block(type, body, out);
        default:
            // ISB, NRB, DSB, custom and unknown blocks: section 3.1 says skip by length.
            ++_skipped_blocks;
            break;
        }
        if (parsed != CaptureStatus::kOk) {
            return parsed;
        }
    }
    return fail(CaptureStatus::kCorrupt, _pos, "more than %zu blocks without a packet before offset %zu",
                limits::kMaxPcapngBlocksBetweenPackets, _pos);
}

} // namespace wt::parsers
