#include "benches/generator/pcap_writer.hpp"

#include <cerrno>
#include <cstring>

namespace wt::gen {
namespace {

constexpr std::size_t kBufferSize = 4u << 20;

void le32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
    p[3] = static_cast<std::uint8_t>(v >> 24);
}

} // namespace

PcapWriter::~PcapWriter() { (void)close(); }

std::string PcapWriter::open(const std::string& path) {
    if (path == "-") {
        _file = stdout;
    } else {
        _file = std::fopen(path.c_str(), "wb");
        if (_file == nullptr) {
            return path + ": cannot create: " + std::strerror(errno);
        }
        _owned = true;
    }
    _buffer.resize(kBufferSize);
    // libpcap file header: magic (microseconds), version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET.
    std::uint8_t h[24];
    le32(h, 0xa1b2c3d4);
    le32(h + 4, 2 | (4u << 16));
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, 65535);
    le32(h + 20, 1);
    std::memcpy(_buffer.data(), h, sizeof h);
    _used = sizeof h;
    _bytes = sizeof h;
    return {};
}

void PcapWriter::write(std::uint64_t ts_ns, std::span<const std::uint8_t> frame) {
    if (_used + 16 + frame.size() > _buffer.size()) {
        flush();
    }
    std::uint8_t* p = _buffer.data() + _used;
    le32(p, static_cast<std::uint32_t>(ts_ns / 1000000000u));
    le32(p + 4, static_cast<std::uint32_t>(ts_ns % 1000000000u / 1000u));
    le32(p + 8, static_cast<std::uint32_t>(frame.size()));
    le32(p + 12, static_cast<std::uint32_t>(frame.size()));
    std::memcpy(p + 16, frame.data(), frame.size());
    _used += 16 + frame.size();
    _bytes += 16 + frame.size();
}

void PcapWriter::flush() {
    if (_file != nullptr && _used > 0 && !_failed) {
        if (std::fwrite(_buffer.data(), 1, _used, _file) != _used) {
            _failed = true;
            _errno = errno;
        }
    }
    _used = 0;
}

std::string PcapWriter::close() {
    if (_file == nullptr) {
        return {};
    }
    flush();
    if (std::fflush(_file) != 0 && !_failed) {
        _failed = true;
        _errno = errno;
    }
    if (_owned && std::fclose(_file) != 0 && !_failed) {
        _failed = true;
        _errno = errno;
    }
    _file = nullptr;
    return _failed ? std::string("write failed: ") + std::strerror(_errno) : std::string();
}

} // namespace wt::gen
