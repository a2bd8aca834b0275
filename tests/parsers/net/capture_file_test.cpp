// CaptureReader on the pcaps recorded by tests/data/net/record.sh, on every
// truncation of them, on hand-corrupted copies, and on the nDPI pcap corpus.
#include "parsers/net/capture_file.hpp"
#include "tests/parsers/net/same_decode.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "parsers/net/packet.hpp"
#include "tests/support/ndpi_corpus.hpp"

namespace wt::parsers {
namespace {

#ifndef WT_NET_DATA_DIR
#error "WT_NET_DATA_DIR must point to tests/data/net"
#endif

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> data_file(const char* name) {
    auto bytes = read_file(std::filesystem::path(WT_NET_DATA_DIR) / name);
    EXPECT_FALSE(bytes.empty()) << name;
    return bytes;
}

struct Rec {
    std::uint64_t ts_ns;
    std::uint32_t orig_len;
    std::uint32_t interface_id;
    LinkType link;
    std::vector<std::uint8_t> data;
    std::uint64_t end_offset; // reader offset after the record
};

struct ReadAll {
    CaptureStatus open_status;
    CaptureStatus final_status;
    std::vector<Rec> recs;
    std::string error;
};

ReadAll read_all(Bytes file) {
    ReadAll r;
    CaptureReader reader = CaptureReader::open(file);
    r.open_status = reader.status();
    CaptureRecord rec;
    CaptureStatus s = CaptureStatus::kOk;
    // More iterations than any file here has records: the loop must end by itself.
    for (int i = 0; i < 100000; ++i) {
        s = reader.next(rec);
        if (s != CaptureStatus::kOk) {
            break;
        }
        r.recs.push_back({rec.ts_ns, rec.orig_len, rec.interface_id, rec.link,
                          std::vector<std::uint8_t>(rec.data.begin(), rec.data.end()), reader.offset()});
    }
    r.final_status = s;
    if (s == CaptureStatus::kTruncatedRecord) {
        // Reported once, then the end.
        EXPECT_EQ(reader.next(rec), CaptureStatus::kEnd);
        EXPECT_EQ(reader.truncated_records(), 1u);
    }
    r.error = std::string(reader.error());
    EXPECT_EQ(reader.records_read(), r.recs.size());
    return r;
}

const char* const kFiles[] = {"tcp4.pcap",   "tcp4_be.pcap",   "tcp6_nano.pcap",   "udp.pcap",        "frag.pcap",
                              "ext6.pcap",   "vlan.pcap",      "qinq.pcap",        "tunnel.pcap",     "sll.pcap",
                              "sll2.pcap",   "tcp4.pcapng",    "tcp6_nano.pcapng", "multi_if.pcapng", "sections.pcapng",
                              "comments.pcapng"};

TEST(CaptureFile, EveryRecordedFileReadsToTheEndAndDecodes) {
    for (const char* name : kFiles) {
        SCOPED_TRACE(name);
        const auto bytes = data_file(name);
        const ReadAll all = read_all(bytes);
        EXPECT_EQ(all.open_status, CaptureStatus::kOk);
        EXPECT_EQ(all.final_status, CaptureStatus::kEnd) << all.error;
        EXPECT_FALSE(all.recs.empty());
        for (const Rec& r : all.recs) {
            DecodedPacket pkt;
            const DecodeStatus ds = decode_packet(r.link, r.data, pkt, r.orig_len);
            EXPECT_TRUE(ds == DecodeStatus::kOk || ds == DecodeStatus::kNotIp) << to_string(ds);
        }
    }
}

TEST(CaptureFile, PcapUsecHeader) {
    const auto bytes = data_file("tcp4.pcap");
    const CaptureReader r = CaptureReader::open(bytes);
    ASSERT_EQ(r.status(), CaptureStatus::kOk);
    EXPECT_EQ(r.format(), CaptureFormat::kPcap);
    EXPECT_EQ(r.link_type(), LinkType::kEthernet);
    EXPECT_EQ(r.snaplen(), 262144u);
    EXPECT_FALSE(r.nanosecond());
    EXPECT_FALSE(r.big_endian());
    EXPECT_TRUE(r.error().empty());
    const ReadAll all = read_all(bytes);
    for (const Rec& rec : all.recs) {
        EXPECT_EQ(rec.ts_ns % 1000, 0u); // microsecond file
        EXPECT_EQ(rec.orig_len, rec.data.size());
        EXPECT_EQ(rec.interface_id, 0u);
    }
}

void expect_same_records(const ReadAll& a, const ReadAll& b) {
    ASSERT_EQ(a.recs.size(), b.recs.size());
    for (std::size_t i = 0; i < a.recs.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(a.recs[i].ts_ns, b.recs[i].ts_ns);
        EXPECT_EQ(a.recs[i].orig_len, b.recs[i].orig_len);
        EXPECT_EQ(a.recs[i].link, b.recs[i].link);
        EXPECT_EQ(a.recs[i].data, b.recs[i].data);
    }
}

TEST(CaptureFile, BigEndianPcapAndPcapngMatchThePcap) {
    const auto le = data_file("tcp4.pcap");
    const auto be = data_file("tcp4_be.pcap");
    const auto ng = data_file("tcp4.pcapng");
    EXPECT_TRUE(CaptureReader::open(be).big_endian());
    const CaptureReader ngr = CaptureReader::open(ng);
    EXPECT_EQ(ngr.format(), CaptureFormat::kPcapng);
    const ReadAll base = read_all(le);
    expect_same_records(base, read_all(be));
    expect_same_records(base, read_all(ng));
}

TEST(CaptureFile, NanosecondPcapAndPcapngTsresol9) {
    const auto pcap = data_file("tcp6_nano.pcap");
    const auto ng = data_file("tcp6_nano.pcapng");
    EXPECT_TRUE(CaptureReader::open(pcap).nanosecond());
    const ReadAll a = read_all(pcap);
    bool sub_usec = false;
    for (const Rec& r : a.recs) {
        sub_usec = sub_usec || r.ts_ns % 1000 != 0;
    }
    EXPECT_TRUE(sub_usec) << "nanosecond digits lost";
    expect_same_records(a, read_all(ng));
}

TEST(CaptureFile, PcapngTwoInterfacesWithDifferentLinkTypes) {
    const ReadAll udp = read_all(data_file("udp.pcap"));
    const ReadAll sll2 = read_all(data_file("sll2.pcap"));
    const ReadAll multi = read_all(data_file("multi_if.pcapng"));
    ASSERT_EQ(multi.recs.size(), udp.recs.size() + sll2.recs.size());
    // mergecap merges chronologically; udp.pcap was recorded before sll2.pcap.
    for (std::size_t i = 0; i < multi.recs.size(); ++i) {
        const bool first = i < udp.recs.size();
        const Rec& want = first ? udp.recs[i] : sll2.recs[i - udp.recs.size()];
        EXPECT_EQ(multi.recs[i].interface_id, first ? 0u : 1u);
        EXPECT_EQ(multi.recs[i].link, first ? LinkType::kEthernet : LinkType::kLinuxSll2);
        EXPECT_EQ(multi.recs[i].data, want.data);
        EXPECT_EQ(multi.recs[i].ts_ns, want.ts_ns);
    }
}

// sections.pcapng is described in tests/data/net/gen_pcapng.py.
// Issue #15: packet comments (EPB opt_comment, section 3.5), written by editcap as a Wireshark user
// would: `editcap -F pcapng -a '1:Open app' -a '3:Climate page' tcp4.pcap comments.pcapng`.
TEST(CaptureFile, PcapngPacketCommentsAreRead) {
    const ReadAll plain = read_all(data_file("tcp4.pcap"));
    const auto bytes = data_file("comments.pcapng");
    CaptureReader r = CaptureReader::open(bytes);
    ASSERT_EQ(r.status(), CaptureStatus::kOk) << r.error();
    CaptureRecord rec;
    std::vector<std::string> comments;
    std::size_t i = 0;
    while (r.next(rec) == CaptureStatus::kOk) {
        comments.emplace_back(reinterpret_cast<const char*>(rec.comment.data()), rec.comment.size());
        ASSERT_LT(i, plain.recs.size());
        EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), plain.recs[i].data.begin(), plain.recs[i].data.end()));
        EXPECT_EQ(rec.ts_ns, plain.recs[i].ts_ns);
        ++i;
    }
    ASSERT_EQ(comments.size(), plain.recs.size());
    EXPECT_EQ(comments[0], "Open app");
    EXPECT_EQ(comments[1], "");
    EXPECT_EQ(comments[2], "Climate page");
    EXPECT_EQ(std::count_if(comments.begin(), comments.end(), [](const auto& c) { return !c.empty(); }), 2);
}

TEST(CaptureFile, PcapngSectionsBlocksAndTimestampResolutions) {
    const ReadAll eth = read_all(data_file("tcp4.pcap"));
    const ReadAll sll2 = read_all(data_file("sll2.pcap"));
    const auto bytes = data_file("sections.pcapng");
    CaptureReader r = CaptureReader::open(bytes);
    ASSERT_EQ(r.status(), CaptureStatus::kOk) << r.error();
    EXPECT_TRUE(r.big_endian());
    CaptureRecord rec;

    ASSERT_EQ(r.next(rec), CaptureStatus::kOk); // EPB, interface 0, default microseconds
    EXPECT_EQ(rec.interface_id, 0u);
    EXPECT_EQ(rec.link, LinkType::kEthernet);
    EXPECT_EQ(rec.ts_ns, eth.recs[0].ts_ns);
    EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), eth.recs[0].data.begin(), eth.recs[0].data.end()));
    EXPECT_EQ(r.interfaces(), 2u);

    ASSERT_EQ(r.next(rec), CaptureStatus::kOk); // EPB, interface 1: 2^-10 s units + 1000 s offset
    EXPECT_EQ(rec.interface_id, 1u);
    EXPECT_EQ(rec.link, LinkType::kLinuxSll2);
    EXPECT_LE(rec.ts_ns, sll2.recs[0].ts_ns);
    EXPECT_GT(rec.ts_ns + 1'000'000'000 / 1024 + 1, sll2.recs[0].ts_ns);
    EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), sll2.recs[0].data.begin(), sll2.recs[0].data.end()));
    EXPECT_EQ(r.skipped_blocks(), 0u);

    ASSERT_EQ(r.next(rec), CaptureStatus::kOk); // unknown block skipped, then an SPB
    EXPECT_EQ(r.skipped_blocks(), 1u);
    EXPECT_EQ(rec.ts_ns, 0u);
    EXPECT_EQ(rec.interface_id, 0u);
    EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), eth.recs[1].data.begin(), eth.recs[1].data.end()));
    EXPECT_EQ(rec.orig_len, eth.recs[1].orig_len);

    ASSERT_EQ(r.next(rec), CaptureStatus::kOk); // OPB
    EXPECT_EQ(rec.ts_ns, eth.recs[2].ts_ns);
    EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), eth.recs[2].data.begin(), eth.recs[2].data.end()));

    ASSERT_EQ(r.next(rec), CaptureStatus::kOk); // version 2.0 section skipped; little-endian section 3
    EXPECT_EQ(r.skipped_blocks(), 2u);
    EXPECT_EQ(r.sections(), 3u);
    EXPECT_FALSE(r.big_endian());
    EXPECT_EQ(r.interfaces(), 1u);
    EXPECT_EQ(rec.interface_id, 0u);
    EXPECT_EQ(rec.link, LinkType::kIpv4);
    EXPECT_EQ(rec.ts_ns, eth.recs[3].ts_ns); // if_tsresol = 9
    EXPECT_TRUE(std::equal(rec.data.begin(), rec.data.end(), eth.recs[3].data.begin() + 14, eth.recs[3].data.end()));
    DecodedPacket pkt;
    EXPECT_EQ(decode_packet(rec.link, rec.data, pkt), DecodeStatus::kOk);
    EXPECT_EQ(pkt.l4_proto, kIpProtoTcp);

    EXPECT_EQ(r.next(rec), CaptureStatus::kEnd);
    EXPECT_EQ(r.status(), CaptureStatus::kEnd);
    EXPECT_EQ(r.next(rec), CaptureStatus::kEnd);
    EXPECT_EQ(r.records_read(), 5u);
}

// Every prefix of every file: open + read never crashes, returns the records that
// fit completely (identical to the full read), then kEnd at a record boundary or
// kTruncatedRecord inside one.
TEST(CaptureFile, EveryTruncationOfEveryFile) {
    for (const char* name : kFiles) {
        SCOPED_TRACE(name);
        const auto bytes = data_file(name);
        const ReadAll full = read_all(bytes);
        for (std::size_t len = 0; len < bytes.size(); ++len) {
            // A fresh allocation of exactly `len` bytes, so ASan catches any over-read.
            std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
            const ReadAll part = read_all(cut);
            if (len == 0) {
                EXPECT_EQ(part.open_status, CaptureStatus::kEmpty);
                EXPECT_EQ(part.error, "empty file");
                continue;
            }
            std::size_t fit = 0;
            while (fit < full.recs.size() && full.recs[fit].end_offset <= len) {
                ++fit;
            }
            ASSERT_EQ(part.recs.size(), fit) << "len " << len << ": " << part.error;
            for (std::size_t i = 0; i < fit; ++i) {
                ASSERT_EQ(part.recs[i].data, full.recs[i].data);
            }
            const bool header_cut = part.open_status != CaptureStatus::kOk;
            if (header_cut) {
                EXPECT_EQ(part.open_status, CaptureStatus::kTruncatedRecord) << len;
                EXPECT_NE(part.error.find("truncated file header"), std::string::npos) << part.error;
                continue;
            }
            EXPECT_TRUE(part.final_status == CaptureStatus::kEnd || part.final_status == CaptureStatus::kTruncatedRecord)
                << "len " << len << ": " << to_string(part.final_status) << " " << part.error;
            if (fit > 0 && full.recs[fit - 1].end_offset == len && std::string(name).find(".pcapng") == std::string::npos) {
                EXPECT_EQ(part.final_status, CaptureStatus::kEnd) << len;
            }
            if (part.final_status == CaptureStatus::kTruncatedRecord) {
                EXPECT_FALSE(part.error.empty());
            }
        }
    }
}

std::uint32_t get_le32(const std::vector<std::uint8_t>& b, std::size_t off) {
    return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (std::uint32_t{b[off + 3]} << 24);
}
void put_le32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

// Offset of pcap record `n` (0-based).
std::size_t pcap_record_offset(const std::vector<std::uint8_t>& b, std::size_t n) {
    std::size_t off = 24;
    for (std::size_t i = 0; i < n; ++i) {
        off += 16 + get_le32(b, off + 8);
    }
    return off;
}

TEST(CaptureFile, PcapCorruptMiddleRecordOverTheLimit) {
    auto bytes = data_file("tcp4.pcap");
    const std::size_t off = pcap_record_offset(bytes, 3);
    put_le32(bytes, off + 8, 300000);
    const ReadAll all = read_all(bytes);
    EXPECT_EQ(all.recs.size(), 3u);
    EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
    EXPECT_EQ(all.error, "record at offset " + std::to_string(off) + ": captured length 300000 exceeds the 262144-byte limit");
    CaptureReader r = CaptureReader::open(bytes);
    CaptureRecord rec;
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(r.next(rec), CaptureStatus::kOk);
    }
    EXPECT_EQ(r.next(rec), CaptureStatus::kCorrupt);
    EXPECT_EQ(r.error_offset(), off);
    EXPECT_EQ(r.next(rec), CaptureStatus::kCorrupt); // sticky
    EXPECT_EQ(r.status(), CaptureStatus::kCorrupt);
}

TEST(CaptureFile, PcapCorruptRecordOverSnaplen) {
    auto bytes = data_file("tcp4.pcap");
    put_le32(bytes, 16, 65535); // file snaplen
    const std::size_t off = pcap_record_offset(bytes, 2);
    put_le32(bytes, off + 8, 70000);
    const ReadAll all = read_all(bytes);
    EXPECT_EQ(all.recs.size(), 2u);
    EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
    EXPECT_EQ(all.error, "record at offset " + std::to_string(off) + ": captured length 70000 exceeds snaplen 65535");
}

TEST(CaptureFile, PcapTrailingGarbage) {
    auto bytes = data_file("udp.pcap");
    const std::size_t n = read_all(bytes).recs.size();
    auto shortg = bytes;
    shortg.insert(shortg.end(), 7, 0xee);
    ReadAll all = read_all(shortg);
    EXPECT_EQ(all.recs.size(), n);
    EXPECT_EQ(all.final_status, CaptureStatus::kTruncatedRecord);
    EXPECT_EQ(all.error, "record at offset " + std::to_string(bytes.size()) + ": truncated record header (7 of 16 bytes)");

    auto longg = bytes;
    longg.insert(longg.end(), 64, 0xff);
    all = read_all(longg);
    EXPECT_EQ(all.recs.size(), n);
    EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
    EXPECT_NE(all.error.find("captured length 4294967295 exceeds"), std::string::npos) << all.error;
}

TEST(CaptureFile, PcapngTrailingGarbageAndCorruptBlocks) {
    const auto bytes = data_file("tcp4.pcapng");
    const std::size_t n = read_all(bytes).recs.size();

    auto shortg = bytes;
    shortg.insert(shortg.end(), 5, 0xee);
    ReadAll all = read_all(shortg);
    EXPECT_EQ(all.recs.size(), n);
    EXPECT_EQ(all.final_status, CaptureStatus::kTruncatedRecord);

    auto zeros = bytes;
    zeros.insert(zeros.end(), 16, 0);
    all = read_all(zeros);
    EXPECT_EQ(all.recs.size(), n);
    EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
    EXPECT_EQ(all.error, "block at offset " + std::to_string(bytes.size()) + ": bad total length 0 (type 0x00000000)");

    // Walk to the 4th block (SHB, IDB, EPB 0, EPB 1 ...) and break it three ways.
    std::size_t off = 0;
    for (int i = 0; i < 3; ++i) {
        off += get_le32(bytes, off + 4);
    }
    const std::uint32_t total = get_le32(bytes, off + 4);
    {
        auto b = bytes;
        put_le32(b, off + total - 4, total + 4);
        all = read_all(b);
        EXPECT_EQ(all.recs.size(), 1u);
        EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
        EXPECT_EQ(all.error, "block at offset " + std::to_string(off) + ": trailing length " + std::to_string(total + 4) +
                                 " does not match " + std::to_string(total));
    }
    {
        auto b = bytes;
        put_le32(b, off + 4, total + 2);
        all = read_all(b);
        EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
        EXPECT_NE(all.error.find("bad total length"), std::string::npos);
    }
    {
        auto b = bytes;
        put_le32(b, off + 8, 7); // interface id
        all = read_all(b);
        EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
        EXPECT_EQ(all.error, "enhanced packet block at offset " + std::to_string(off) +
                                 ": interface id 7 but 1 interfaces defined");
    }
    {
        auto b = bytes;
        put_le32(b, off + 20, total); // captured length larger than the block
        all = read_all(b);
        EXPECT_EQ(all.final_status, CaptureStatus::kCorrupt);
        EXPECT_NE(all.error.find("overruns the block"), std::string::npos) << all.error;
    }
}

Bytes as_bytes(const char* s) { return {reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)}; }

TEST(CaptureFile, NotACaptureEmptyAndUnsupported) {
    CaptureReader r = CaptureReader::open(Bytes{});
    EXPECT_EQ(r.status(), CaptureStatus::kEmpty);
    EXPECT_EQ(r.error(), "empty file");
    CaptureRecord rec;
    EXPECT_EQ(r.next(rec), CaptureStatus::kEmpty);

    r = CaptureReader::open(as_bytes("hello, world\n"));
    EXPECT_EQ(r.status(), CaptureStatus::kNotACapture);
    EXPECT_EQ(r.error(), "not a pcap or pcapng file (magic 0x68656c6c)");
    EXPECT_EQ(r.next(rec), CaptureStatus::kNotACapture);

    r = CaptureReader::open(as_bytes("hi"));
    EXPECT_EQ(r.status(), CaptureStatus::kNotACapture);
    EXPECT_EQ(r.error(), "not a pcap or pcapng file (2 bytes)");

    const std::uint8_t two[] = {0xd4, 0xc3};
    r = CaptureReader::open(two);
    EXPECT_EQ(r.status(), CaptureStatus::kTruncatedRecord);
    EXPECT_EQ(r.error(), "truncated file header (2 bytes)");
    EXPECT_EQ(r.next(rec), CaptureStatus::kEnd);

    auto pcap = data_file("udp.pcap");
    r = CaptureReader::open(Bytes(pcap).first(20));
    EXPECT_EQ(r.error(), "truncated file header (20 of 24 bytes)");

    auto modified = pcap;
    modified[0] = 0x34; // 0xa1b2cd34 little-endian
    modified[1] = 0xcd;
    r = CaptureReader::open(modified);
    EXPECT_EQ(r.status(), CaptureStatus::kUnsupported);
    EXPECT_EQ(r.error(), "modified pcap format (magic 0x34cdb2a1) is not supported");

    auto v3 = pcap;
    v3[4] = 3;
    r = CaptureReader::open(v3);
    EXPECT_EQ(r.status(), CaptureStatus::kUnsupported);
    EXPECT_EQ(r.error(), "pcap version 3.4 is not supported");

    // pcapng whose first section is version 2 without a section length: cannot skip it.
    auto ng = data_file("tcp4.pcapng");
    ng[12] = 2;
    r = CaptureReader::open(ng);
    EXPECT_EQ(r.status(), CaptureStatus::kUnsupported);
    EXPECT_EQ(r.error(), "section header at offset 0: pcapng version 2.0 is not supported");

    auto bom = data_file("tcp4.pcapng");
    bom[8] = 0x11;
    r = CaptureReader::open(bom);
    EXPECT_EQ(r.status(), CaptureStatus::kCorrupt);
    EXPECT_EQ(r.error(), "section header at offset 0: bad byte-order magic 0x113c2b1a");

    // A pcap with only its header: no records, not an error.
    r = CaptureReader::open(Bytes(pcap).first(24));
    EXPECT_EQ(r.status(), CaptureStatus::kOk);
    EXPECT_EQ(r.next(rec), CaptureStatus::kEnd);
}

// decode_packet's Ethernet/IPv4/TCP shortcut against the general decoder on every
// record of the nDPI corpus, with the capture's wire lengths.
TEST(CaptureFile, NdpiCorpusDecodeShortcutMatchesGeneralDecoder) {
    WT_SKIP_WITHOUT_NDPI_CORPUS();
    const std::filesystem::path dir = wt::testing::ndpi_pcap_dir();
    std::error_code ec;
    std::size_t compared = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (!e.is_regular_file()) {
            continue;
        }
        const auto bytes = read_file(e.path());
        auto r = CaptureReader::open(bytes);
        CaptureRecord rec;
        while (r.status() == CaptureStatus::kOk && r.next(rec) == CaptureStatus::kOk) {
            DecodedPacket fast;
            DecodedPacket general;
            const std::uint32_t wire = rec.orig_len > rec.data.size() ? rec.orig_len : 0;
            const DecodeStatus a = decode_packet(rec.link, rec.data, fast, wire);
            const DecodeStatus b = decode_packet_general(rec.link, rec.data, general, wire);
            ASSERT_EQ(a, b) << e.path();
            ASSERT_EQ(test::decode_difference(fast, general), "") << e.path() << " record " << compared;
            ++compared;
        }
    }
    EXPECT_GT(compared, 50000u);
}

// Every pcap/pcapng of the nDPI test corpus opens and reads to the end, or stops
// with a clear error (printed, so the report can list them). Floors on files, records
// and decoded packets make a reader that stops reading fail here, not pass quietly.
TEST(CaptureFile, NdpiCorpus) {
    WT_SKIP_WITHOUT_NDPI_CORPUS();
    const std::filesystem::path dir = wt::testing::ndpi_pcap_dir();
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.is_regular_file()) {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::size_t ok = 0;
    std::size_t records = 0;
    std::size_t decode_ok = 0;
    std::size_t decode_counts[static_cast<std::size_t>(DecodeStatus::kCount)] = {};
    for (const auto& p : files) {
        const auto bytes = read_file(p);
        CaptureReader r = CaptureReader::open(bytes);
        CaptureRecord rec;
        CaptureStatus s = r.status();
        for (std::size_t i = 0; s == CaptureStatus::kOk && i < 10'000'000; ++i) {
            s = r.next(rec);
            if (s == CaptureStatus::kOk) {
                ++records;
                DecodedPacket pkt;
                const DecodeStatus ds = decode_packet(rec.link, rec.data, pkt, rec.orig_len);
                ++decode_counts[static_cast<std::size_t>(ds)];
                decode_ok += ds == DecodeStatus::kOk;
            }
        }
        if (s == CaptureStatus::kEnd && r.truncated_records() == 0) {
            ++ok;
            continue;
        }
        // Not a failure by itself: the message must say what and where.
        EXPECT_FALSE(r.error().empty()) << p.filename();
        std::printf("[ndpi] %s: %s after %llu records: %.*s\n", p.filename().c_str(),
                    std::string(to_string(r.status())).c_str(), static_cast<unsigned long long>(r.records_read()),
                    static_cast<int>(r.error().size()), r.error().data());
    }
    std::printf("[ndpi] %zu of %zu files read cleanly; %zu records, %zu decoded to L4\n", ok, files.size(), records,
                decode_ok);
    for (std::size_t i = 0; i < static_cast<std::size_t>(DecodeStatus::kCount); ++i) {
        if (decode_counts[i] != 0) {
            std::printf("[ndpi]   %-26s %zu\n", std::string(to_string(static_cast<DecodeStatus>(i))).c_str(),
                        decode_counts[i]);
        }
    }
    // The corpus holds 360 captures, 72,068 records of which 71,329 decode to L4; one file is rejected
    // (a record claiming 524,501 bytes). The floors leave room for a corpus that grows, not for a reader
    // that loses files or records.
    EXPECT_GE(files.size(), 300u);
    EXPECT_GE(ok * 100, files.size() * 99) << ok << " of " << files.size() << " files read cleanly";
    EXPECT_GE(records, 60'000u);
    EXPECT_GE(decode_ok * 100, records * 98) << decode_ok << " of " << records << " records decoded to L4";
}

} // namespace
} // namespace wt::parsers
