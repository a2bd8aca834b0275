// CaptureInput: the whole capture as one byte span, however it arrives. A regular file is mapped in
// place (the worker reads frames from the mapping, no copy); a gzip or zstd file is decompressed into
// memory, told by its magic bytes and not its name (RFC 1952 section 2.3.1: 1f 8b; RFC 8878 section
// 3.1.1: 28 b5 2f fd), concatenated members or frames included; standard input ("-") and pipes are
// read whole, then decompressed the same way. Decompressed input is capped at half the machine's
// memory, so a hostile file cannot exhaust it.
#pragma once

#include "parsers/common/byte_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wt::app {

class CaptureInput {
public:
    CaptureInput() = default;
    CaptureInput(const CaptureInput&) = delete;
    CaptureInput& operator=(const CaptureInput&) = delete;
    ~CaptureInput();

    enum class Failure : std::uint8_t { kNone, kNoInput, kData, kResources };
    // Opens `path` ("-": standard input). On failure returns the reason (one line, without the path)
    // and sets `failure`: kNoInput (missing or unreadable: exit 66), kData (empty, corrupt or
    // truncated compressed data, too large once decompressed: 65), kResources (out of memory: 70).
    std::string open(const std::string& path, Failure& failure);

    [[nodiscard]] parsers::Bytes bytes() const noexcept;
    // "gzip", "zstd", or "" for input read as it is.
    [[nodiscard]] std::string_view compression() const noexcept { return _compression; }
    // Maps a mapped file's pages in ahead of the reader (best effort; nothing for data in memory).
    void populate() const noexcept;

    // The decompression limit for a machine with `memory_bytes` of RAM (half of it).
    [[nodiscard]] static std::size_t decompressed_limit(std::size_t memory_bytes) noexcept {
        return memory_bytes / 2;
    }

private:
    std::string read_whole(int fd, Failure& failure);
    std::string decompress(parsers::Bytes in, Failure& failure);

    int _fd = -1;
    void* _map = nullptr;
    std::size_t _map_size = 0;
    std::vector<std::uint8_t> _memory; // what was read or decompressed
    bool _in_memory = false;
    std::string_view _compression;
};

} // namespace wt::app
