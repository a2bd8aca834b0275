// The frames of a small pcap or pcapng file (recorded test vectors), in order; empty when unreadable.
#pragma once

#include "parsers/net/capture_file.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace wt::testing {

inline std::vector<std::vector<std::uint8_t>> pcap_frames(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    parsers::CaptureReader r = parsers::CaptureReader::open(bytes);
    std::vector<std::vector<std::uint8_t>> out;
    parsers::CaptureRecord rec;
    while (r.next(rec) == parsers::CaptureStatus::kOk) {
        out.emplace_back(rec.data.begin(), rec.data.end());
    }
    return out;
}

} // namespace wt::testing
