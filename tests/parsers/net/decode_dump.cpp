// decode_dump FILE: one line per record, "frame<TAB>status<TAB>src<TAB>dst<TAB>sport<TAB>dport<TAB>proto<TAB>tunneled",
// frame numbered from 1 like tshark. Used by compare_tshark.py to check decode_packet's
// (inner) 5-tuples against tshark's on the nDPI corpus. Not a test by itself.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "parsers/net/capture_file.hpp"
#include "parsers/net/packet.hpp"

int main(int argc, char **argv) {
    using namespace wt::parsers;
    if (argc != 2) {
        std::fprintf(stderr, "usage: decode_dump FILE\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CaptureReader r = CaptureReader::open(Bytes(bytes.data(), bytes.size()));
    CaptureRecord rec;
    std::size_t n = 0;
    while (r.status() == CaptureStatus::kOk && r.next(rec) == CaptureStatus::kOk) {
        ++n;
        DecodedPacket p;
        const DecodeStatus s = decode_packet(rec.link, rec.data, p, rec.orig_len);
        std::printf("%zu\t%s\t%s\t%s\t%u\t%u\t%u\t%d\n", n, std::string(to_string(s)).c_str(),
                    std::string(to_string(p.src).view()).c_str(), std::string(to_string(p.dst).view()).c_str(),
                    p.src_port, p.dst_port, p.l4_proto, p.tunneled ? 1 : 0);
    }
    return 0;
}
