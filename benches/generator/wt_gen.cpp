// wt-gen: writes synthetic traffic (TLS, QUIC, DNS, HTTP, bulk) to a pcap file.
//
//   wt-gen --flows 10000 --mix tls=40,quic=20,dns=20,http=5,bulk=15 --size imix
//          --new-flows-per-s 2000 --duration 30 --out traffic.pcap
//   wt-gen --bytes 300M --out big.pcap
//
// See traffic.hpp for the traffic model. Exit codes follow sysexits like wiretally's.
#include "benches/generator/pcap_writer.hpp"
#include "benches/generator/traffic.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitNoInput = 66;
constexpr int kExitCantCreate = 73;

// "300M", "1.5G", "64k", "100MiB", "12345" -> bytes (K/M/G are powers of 1000, KiB/MiB/GiB of 1024).
bool parse_size(const std::string& text, std::uint64_t& out) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return false;
    }
    std::string unit = text.substr(used);
    for (auto& c : unit) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    double scale = 1;
    if (unit.empty() || unit == "b") {
        scale = 1;
    } else if (unit == "k" || unit == "kb") {
        scale = 1e3;
    } else if (unit == "m" || unit == "mb") {
        scale = 1e6;
    } else if (unit == "g" || unit == "gb") {
        scale = 1e9;
    } else if (unit == "kib") {
        scale = 1024.0;
    } else if (unit == "mib") {
        scale = 1024.0 * 1024;
    } else if (unit == "gib") {
        scale = 1024.0 * 1024 * 1024;
    } else {
        return false;
    }
    if (v <= 0) {
        return false;
    }
    out = static_cast<std::uint64_t>(v * scale);
    return true;
}

bool read_names(const std::string& path, std::vector<std::string>& out) {
    std::ifstream in(path);
    if (!in) {
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        const auto hash = line.find('#');
        if (hash != std::string::npos) {
            line.resize(hash);
        }
        const auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) {
            continue;
        }
        const auto e = line.find_last_not_of(" \t\r");
        out.push_back(line.substr(b, e - b + 1));
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Synthetic TLS/QUIC/DNS/HTTP/bulk traffic to a pcap file (deterministic for a --seed)"};
    app.footer("Limits: generation stops at the first of --duration, --bytes, --packets, or when --total-flows "
               "flows have all ended; with none given, 10 s of capture time.\n"
               "Sizes are Ethernet frame sizes with the FCS (RFC 2544/IMIX); records hold them without it.\n"
               "Exit codes: 0 success, 64 usage, 66 names file unreadable, 73 output not writable.");
    wt::gen::TrafficConfig cfg;
    std::string out_path;
    std::string mix = "tls=40,quic=20,dns=20,http=5,bulk=15";
    std::string size = "imix";
    std::string bytes;
    std::string names_path;
    std::string names_out;
    std::size_t name_count = 1000;
    bool quiet = false;
    app.add_option("--out,-o", out_path, "output pcap file ('-' for stdout)")->required();
    app.add_option("--flows", cfg.flows, "concurrent flows (steady state)")->capture_default_str();
    app.add_option("--new-flows-per-s", cfg.new_flows_per_s,
                   "flows started per second of capture time (default: flows / 5, so flows live ~5 s)");
    app.add_option("--mix", mix, "flow kinds and weights: tls, quic, dns, http, bulk")->capture_default_str();
    app.add_option("--size", size, "data packet sizes: 64, imix (64/594/1518 at 7:4:1) or 1500")
        ->check(CLI::IsMember({"64", "imix", "1500"}))
        ->capture_default_str();
    app.add_option("--duration", cfg.duration_s, "seconds of capture time");
    app.add_option("--bytes", bytes, "stop before the file exceeds this size (300M, 1G, 512MiB)");
    app.add_option("--packets", cfg.max_packets, "stop after this many packets");
    app.add_option("--total-flows", cfg.total_flows, "start this many flows, then let them finish");
    app.add_option("--seed", cfg.seed, "random seed: the same seed and options give the same file")
        ->capture_default_str();
    app.add_option("--ipv6", cfg.ipv6_percent, "percent of flows over IPv6")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    app.add_option("--clients", cfg.clients, "client addresses")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--names", names_path, "server names, one per line (default: built-in list)");
    app.add_option("--name-count", name_count, "how many built-in names to use")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--names-out", names_out, "write the names that appear in the capture, one per line");
    app.add_flag("--quiet,-q", quiet, "no summary on stderr");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    if (!wt::gen::parse_mix(mix, cfg.mix)) {
        std::fprintf(stderr, "wt-gen: --mix: expected kind=weight,... with kinds tls, quic, dns, http, bulk: %s\n",
                     mix.c_str());
        return kExitUsage;
    }
    (void)wt::gen::parse_size_mode(size, cfg.size);
    if (!bytes.empty() && !parse_size(bytes, cfg.max_bytes)) {
        std::fprintf(stderr, "wt-gen: --bytes: not a size: %s\n", bytes.c_str());
        return kExitUsage;
    }
    if (!names_path.empty()) {
        if (!read_names(names_path, cfg.names)) {
            std::fprintf(stderr, "wt-gen: %s: cannot read\n", names_path.c_str());
            return kExitNoInput;
        }
        if (cfg.names.empty()) {
            std::fprintf(stderr, "wt-gen: %s: no names\n", names_path.c_str());
            return kExitUsage;
        }
    } else {
        cfg.names = wt::gen::default_names(name_count);
    }

    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<wt::gen::TrafficGenerator> gen;
    try {
        gen = std::make_unique<wt::gen::TrafficGenerator>(cfg);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "wt-gen: %s\n", e.what());
        return kExitUsage;
    }
    wt::gen::PcapWriter writer;
    if (std::string err = writer.open(out_path); !err.empty()) {
        std::fprintf(stderr, "wt-gen: %s\n", err.c_str());
        return kExitCantCreate;
    }
    gen->for_each([&](const wt::gen::Packet& p) { writer.write(p.ts_ns, p.frame); });
    if (std::string err = writer.close(); !err.empty()) {
        std::fprintf(stderr, "wt-gen: %s: %s\n", out_path.c_str(), err.c_str());
        return kExitCantCreate;
    }
    if (!names_out.empty()) {
        std::FILE* f = std::fopen(names_out.c_str(), "w");
        if (f == nullptr) {
            std::fprintf(stderr, "wt-gen: %s: cannot create\n", names_out.c_str());
            return kExitCantCreate;
        }
        for (const auto& n : gen->names_emitted()) {
            std::fprintf(f, "%s\n", n.c_str());
        }
        if (std::fclose(f) != 0) {
            std::fprintf(stderr, "wt-gen: %s: write failed\n", names_out.c_str());
            return kExitCantCreate;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet) {
        const auto& s = gen->stats();
        std::fprintf(stderr,
                     "wt-gen: %s: %llu packets, %.1f MB, %.1f s of capture; %llu flows (tls %llu, quic %llu, dns "
                     "%llu, http %llu, bulk %llu), up to %llu at once, %zu names; %.2f s, %.0f MB/s, %.2f Mpps\n",
                     out_path.c_str(), static_cast<unsigned long long>(s.packets), writer.bytes() / 1e6,
                     s.packets ? (s.last_ns - s.first_ns) / 1e9 : 0.0,
                     static_cast<unsigned long long>(s.flows_started), static_cast<unsigned long long>(s.flows[0]),
                     static_cast<unsigned long long>(s.flows[1]), static_cast<unsigned long long>(s.flows[2]),
                     static_cast<unsigned long long>(s.flows[3]), static_cast<unsigned long long>(s.flows[4]),
                     static_cast<unsigned long long>(s.max_active), gen->names_emitted().size(), secs,
                     writer.bytes() / 1e6 / secs, s.packets / 1e6 / secs);
    }
    return 0;
}
