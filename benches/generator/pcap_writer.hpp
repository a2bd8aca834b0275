// A streaming pcap writer (microsecond timestamps, Ethernet, snaplen 65535) with its own
// 4 MiB buffer: two memcpys per packet and one write(2) per 4 MiB.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace wt::gen {

class PcapWriter {
public:
    PcapWriter() = default;
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    // "-" writes to stdout. Returns an error message, empty on success.
    std::string open(const std::string& path);
    void write(std::uint64_t ts_ns, std::span<const std::uint8_t> frame);
    // Flushes and closes; returns an error message, empty on success.
    std::string close();

    [[nodiscard]] std::uint64_t bytes() const noexcept { return _bytes; }

private:
    void flush();

    std::FILE* _file = nullptr;
    bool _owned = false;
    bool _failed = false;
    int _errno = 0;
    std::vector<std::uint8_t> _buffer;
    std::size_t _used = 0;
    std::uint64_t _bytes = 0;
};

} // namespace wt::gen
