#include "app/offline/output_file.hpp"
#include "app/offline/analyze.hpp"

#include "app/export/flow_export_sink.hpp"

#include "app/offline/capture_input.hpp"
#include "app/offline/png_render.hpp"
#include "app/report/capture_timeline.hpp"
#include "app/report/flow_writer.hpp"
#include "app/report/html_report.hpp"
#include "app/report/report.hpp"
#include "app/config/services_loader.hpp"
#include "parsers/net/capture_file.hpp"
#include "pipeline/tally/actions.hpp"
#include "pipeline/classify/classifier.hpp"
#include "pipeline/worker.hpp"

#include <system_error>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wt::app {

namespace {

constexpr std::uint16_t kBurst = 32;
constexpr std::string_view kMarksFromComments = "pcapng";
constexpr std::size_t kDnsOutbox = 1024;
// Longer frames are clipped and counted (capture_oversized_frames_clipped): the room a frame
// had when analyze still carried each one in an mbuf (a 16-bit buffer length behind DPDK's
// standard 128-byte RTE_PKTMBUF_HEADROOM), so reports stay comparable with earlier versions'.
constexpr std::size_t kMaxFrame = UINT16_MAX - 128;

void error_line(const std::string& file, const std::string& message) {
    fmt::print(stderr, "wiretally: {}: {}\n", file, message);
}

} // namespace

int run_analyze(const AnalyzeOptions& options) {
    // Configuration first: a bad services or marks file should not cost a capture read.
    std::string error;
    LoadedServices services;
    if (!load_services(options.services, services, error)) {
        fmt::print(stderr, "wiretally: {}\n", error);
        return kExitConfig;
    }
    std::unique_ptr<pipeline::ActionSchedule> actions;
    // "--marks pcapng": the actions are the capture's packet comments (read once the capture is open).
    const bool marks_from_comments = options.marks == kMarksFromComments;
    std::string marks_origin = !options.marks_every.empty() ? "--marks-every " + options.marks_every : options.marks;
    if ((!options.marks.empty() && !marks_from_comments) || !options.marks_every.empty()) {
        auto loaded = !options.marks.empty() ? pipeline::ActionSchedule::from_csv_file(options.marks)
                                             : pipeline::ActionSchedule::from_every_spec(options.marks_every);
        if (auto* e = std::get_if<pipeline::ActionError>(&loaded)) {
            fmt::print(stderr, "wiretally: {}\n", e->format());
            return kExitConfig;
        }
        actions = std::make_unique<pipeline::ActionSchedule>(std::move(std::get<pipeline::ActionSchedule>(loaded)));
    }

    IpDatabases ip_databases;
    if (!open_ip_databases(options.ipdb_files, options.use_default_ipdb, ip_databases, error)) {
        fmt::print(stderr, "wiretally: {}\n", error);
        return kExitConfig;
    }

    CaptureInput file;
    const std::string input_name = options.capture == "-" ? std::string("standard input") : options.capture;
    CaptureInput::Failure failure = CaptureInput::Failure::kNone;
    if (std::string why = file.open(options.capture, failure); !why.empty()) {
        error_line(input_name, why);
        return failure == CaptureInput::Failure::kData        ? kExitDataError
               : failure == CaptureInput::Failure::kResources ? kExitSoftware
                                                              : kExitNoInput;
    }
    parsers::CaptureReader reader = parsers::CaptureReader::open(file.bytes());
    if (reader.status() != parsers::CaptureStatus::kOk) {
        error_line(input_name, std::string(reader.error()));
        return kExitDataError;
    }
    // pcapng packet comments are the natural way to mark an action in Wireshark: with --marks pcapng,
    // and whenever no marks are given and the capture has some, they become the actions. They are
    // learnt while the capture is read (each one a mark at its packet's time, before that packet
    // reaches a worker): a pass of its own to find them first would fault the whole file in twice.
    const bool comments_as_marks = !actions && reader.format() == parsers::CaptureFormat::kPcapng &&
                                   (marks_from_comments || options.marks_every.empty());
    if (marks_from_comments && !comments_as_marks) {
        fmt::print(stderr, "wiretally: --marks pcapng: {} is a pcap file, not pcapng: it has no packet comments\n",
                   input_name);
        return kExitConfig;
    }
    if (comments_as_marks) {
        actions = std::make_unique<pipeline::ActionSchedule>(pipeline::ActionSchedule::from_timed_labels({}));
    }
    std::size_t comment_marks = 0;

    std::unique_ptr<FlowJsonWriter> flow_writer;
    OutputFile flows_file;
    if (!options.flows_out.empty()) {
        if (std::string why; !flows_file.open(options.flows_out, stdout, why)) {
            error_line(options.flows_out, why);
            return kExitCantCreate;
        }
        static std::array<char, 1 << 20> buffer;
        std::setvbuf(flows_file.get(), buffer.data(), _IOFBF, buffer.size());
        flow_writer = std::make_unique<FlowJsonWriter>(flows_file.get(), actions.get());
    }

    // The pictures (issue #16): each flow keeps its bytes by interval of the capture's clock and hands
    // them over when it ends, under its final name (so the timeline adds up to the tables); the lanes
    // keep the largest connections.
    const bool pictures = options.timeline || options.format == ReportFormat::kHtml || options.format == ReportFormat::kPng;
    std::unique_ptr<FlowLaneCollector> lanes;
    if (pictures) {
        lanes = std::make_unique<FlowLaneCollector>(FlowLaneCollector::kDefaultCap, flow_writer.get());
    }
    pipeline::FlowSink* sink = lanes ? static_cast<pipeline::FlowSink*>(lanes.get()) : flow_writer.get();
    // --export: flows go out while the capture is read (the sending thread works beside the worker); the
    // capture's tables follow as one interval, [first packet, last packet].
    std::unique_ptr<clickhouse::ClickHouseExport> exporter;
    std::unique_ptr<clickhouse::FlowExportSink> export_sink;
    if (!options.export_url.empty()) {
        ClickHouseConfig c;
        c.urls = {options.export_url};
        c.database = options.export_database;
        c.user = options.export_user;
        c.password_file = options.export_password_file;
        c.batch_interval = std::chrono::seconds(1);
        c.timeout = std::chrono::seconds(30);
        c.spool.clear(); // offline, what ClickHouse does not take is an error, not a spool
        c.spool_max_mb = 0;
        exporter = std::make_unique<clickhouse::ClickHouseExport>(
            c, clickhouse::RowOrigin{options.appliance.empty() ? default_appliance_name() : options.appliance,
                                     options.site});
        if (!exporter->start(error)) {
            fmt::print(stderr, "wiretally: --export: {}\n", error);
            return kExitNoInput;
        }
        export_sink = std::make_unique<clickhouse::FlowExportSink>(*exporter, ip_databases, actions.get(), sink);
        sink = export_sink.get();
    }
    pipeline::IntervalClock interval_clock;
    pipeline::WorkerConfig config;
    config.interval_clock = pictures ? &interval_clock : nullptr;
    // A capture cannot hold more flows than records (each at least a 16-byte record
    // header and a 40-byte frame), so small files get small tables: zeroing a
    // million-flow table would cost more than analysing them.
    const std::size_t record_bound = file.bytes().size() / 56 + 64;
    config.max_flows = std::clamp<std::size_t>(record_bound, 1024, options.max_flows);
    config.detail_pool = std::min<std::size_t>(config.max_flows, 1u << 15);
    config.dns_cache_entries = std::min<std::size_t>(config.max_flows, 1u << 14);
    config.tally.domains = std::min<std::size_t>(config.max_flows, config.tally.domains);
    config.tally.client_services = std::min<std::size_t>(config.max_flows, config.tally.client_services);
    config.tally.client_domains = std::min<std::size_t>(config.max_flows, config.tally.client_domains);
    config.tally.action_domains = std::min<std::size_t>(config.max_flows, config.tally.action_domains);
    config.tally.server_names = std::min<std::size_t>(config.max_flows, config.tally.server_names);
    // Several workers run as the appliance's cores would: packets spread by a symmetric
    // flow hash, share-nothing tables, DNS answers posted between workers as messages,
    // tallies merged at the end. Offline they take turns on one thread, in capture order,
    // so the result is identical for any worker count.
    //
    // Start-up runs side by side: the workers' tables are built, and the capture mapped in, on
    // one thread; another walks the IP data for where the services' ASNs announce addresses
    // (names no pattern knows are tallied as the CDN that hosts them), which the workers read
    // only once packets flow; a third reads the IEEE registries.
    auto hosting = std::async(std::launch::async, [&] {
        return ip_databases.asn_ranges(services.classifier->listed_asns());
    });
    // The IEEE registries name each device's maker (read once, off the packet path, meanwhile).
    std::string oui_error;
    auto oui = std::async(std::launch::async, [&] {
        OuiRegistry registry;
        (void)registry.load_directory(std::string(OuiRegistry::kDefaultDirectory), oui_error);
        return registry;
    });
    auto prepared = std::async(std::launch::async, [&] {
        std::vector<std::unique_ptr<pipeline::Worker>> built;
        for (std::size_t i = 0; i < options.workers; ++i) {
            pipeline::WorkerConfig own = config;
            own.first_flow_serial = i; // flow serials unique across workers: i, i + workers, ...
            own.flow_serial_step = options.workers;
            built.push_back(std::make_unique<pipeline::Worker>(own, services.classifier.get(), actions.get(), sink));
            if (options.workers > 1) {
                built.back()->enable_dns_outbox(kDnsOutbox);
            }
        }
        file.populate();
        return built;
    });
    std::vector<std::unique_ptr<pipeline::Worker>> workers = prepared.get();
    services.classifier->set_hosting_ranges(hosting.get());
    std::array<std::uint16_t, kBurst> target{};

    Report report;
    report.input.file = input_name;
    report.input.marks = actions && !comments_as_marks ? marks_origin : std::string();
    report.input.format = std::string(parsers::to_string(reader.format()));
    if (!file.compression().empty()) {
        report.input.format += fmt::format(" ({})", file.compression());
    }
    report.services_origin = services.origin;

    // The worker reads the frames in place from the file mapping, as spans: the same
    // Worker::process_burst a live port's MbufInput feeds, without DPDK's EAL, whose start-up
    // calibrates the TSC against a 100 ms sleep on CPUs that do not report its frequency
    // (two thirds of a short analysis' wall time on this project's AMD VM).
    std::array<pipeline::FrameRef, kBurst> frames{};
    // A burst, then expiry as of its last frame: what MbufInput::process_burst does for a live burst.
    const auto feed = [](pipeline::Worker& w, std::span<const pipeline::FrameRef> burst, std::uint64_t fallback_ns) {
        w.process_burst(burst);
        w.expire(burst.empty() ? fallback_ns : burst.back().ts_ns);
    };
    parsers::CaptureRecord record;
    bool anchored = false;
    bool more = true;
    int exit_code = kExitOk;

    // Pictures: the workers' interval log goes to the timeline (through the lanes' sink).
    std::optional<CaptureTimelineBuilder> timeline;
    if (pictures) {
        timeline.emplace();
        lanes->set_timeline(&*timeline);
    }

    while (more) {
        std::uint16_t n = 0;
        while (n < kBurst) {
            const parsers::CaptureStatus st = reader.next(record);
            if (st == parsers::CaptureStatus::kOk) {
                if (!anchored) {
                    report.input.first_ns = record.ts_ns;
                    if (actions) {
                        actions->anchor(record.ts_ns);
                    }
                    anchored = true;
                }
                if (comments_as_marks && !record.comment.empty()) {
                    actions->add(record.ts_ns, std::string(reinterpret_cast<const char*>(record.comment.data()),
                                                           record.comment.size()));
                    ++comment_marks;
                    for (const auto& w : workers) {
                        w->actions_changed();
                    }
                }
                report.input.last_ns = std::max(report.input.last_ns, record.ts_ns);
                std::size_t len = record.data.size();
                if (len > kMaxFrame) {
                    ++report.input.oversized_frames;
                    len = kMaxFrame;
                }
                const std::uint32_t wire_len = record.orig_len > len ? record.orig_len : 0;
                frames[n] = {parsers::Bytes(record.data.data(), len), record.ts_ns, wire_len, record.link};
                if (workers.size() > 1) {
                    const std::uint64_t h =
                        pipeline::Worker::dispatch_hash(record.link, {record.data.data(), len}, wire_len);
                    target[n] = static_cast<std::uint16_t>(h % workers.size());
                }
                ++n;
                continue;
            }
            more = false;
            if (st == parsers::CaptureStatus::kCorrupt || st == parsers::CaptureStatus::kUnsupported) {
                report.input.stopped_early = std::string(reader.error());
                exit_code = kExitDataError;
            }
            break;
        }
        if (workers.size() == 1) {
            feed(*workers[0], {frames.data(), n}, report.input.last_ns);
        } else {
            for (std::uint16_t i = 0; i < n; ++i) {
                pipeline::Worker& w = *workers[target[i]];
                feed(w, {&frames[i], 1}, report.input.last_ns);
                if (!w.dns_outbox().empty()) {
                    for (const auto& peer : workers) {
                        if (peer.get() != &w) {
                            for (const auto& r : w.dns_outbox()) {
                                peer->learn_dns(r);
                            }
                        }
                    }
                    w.clear_dns_outbox();
                }
            }
        }
    }
    report.input.records = reader.records_read();
    report.input.truncated_records = reader.truncated_records();
    std::vector<const pipeline::CoreTally*> tallies;
    for (const auto& w : workers) {
        w->flush_all();
        report.counters.merge(w->counters());
        for (std::size_t i = 0; i < report.decode_drops.size(); ++i) {
            report.decode_drops[i] += w->decode_drops()[i];
        }
        tallies.push_back(&w->tally());
    }
    report.workers = workers.size();
    report.tally = pipeline::merge_tallies(tallies);
    report.services = services.names;
    report.categories = services.categories;
    if (comments_as_marks && comment_marks != 0) {
        report.input.marks = fmt::format("{} pcapng packet comment{}", comment_marks, comment_marks == 1 ? "" : "s");
    }
    if (actions) {
        report.actions = actions->labels();
    }
    if (timeline) {
        // A capture without a packet has no clock: an empty timeline, not one at 1970.
        report.timeline = interval_clock.started() ? timeline->build(interval_clock) : Timeline{};
        if (actions) {
            for (std::size_t i = 0; i < actions->marks().size(); ++i) {
                const std::uint64_t at = actions->mark_ns(i);
                report.timeline->marks.emplace_back(at, std::string(actions->label(actions->span_at(at).action)));
            }
        }
        report.flow_lanes = lanes->take();
    }
    add_hosting(report, ip_databases);
    const OuiRegistry registry = oui.get();
    if (!oui_error.empty()) {
        fmt::print(stderr, "wiretally: warning: {} (device vendors unknown)\n", oui_error);
    }
    add_devices(report, registry);
    workers.clear();
    int export_rc = kExitOk;
    if (exporter) {
        const std::uint64_t first_s = report.input.first_ns / 1'000'000'000ull;
        const std::uint64_t last_s = report.input.last_ns / 1'000'000'000ull + 1;
        exporter->add_intervals(report, first_s, std::max(last_s, first_s + 1));
        exporter->stop(std::chrono::seconds(60));
        const clickhouse::ExportStatus s = exporter->status();
        if (s.rows_dropped != 0 || s.queued_batches != 0) {
            fmt::print(stderr, "wiretally: --export: {} of {} rows not stored in {}: {}\n", s.rows_dropped,
                       s.rows_dropped + s.rows_sent, options.export_url, s.last_error);
            export_rc = kExitUnavailable;
        } else {
            fmt::print(stderr, "wiretally: --export: {} rows stored in {} ({} {})\n", s.rows_sent, options.export_url,
                       options.export_database, s.server_version);
        }
    }
    // Every record was of a link type the decoder does not know: an error naming it, not an empty report.
    const std::uint64_t unsupported =
        report.decode_drops[static_cast<std::size_t>(parsers::DecodeStatus::kUnsupportedLinkType)];
    if (report.input.records != 0 && unsupported == report.input.records) {
        error_line(input_name,
                   fmt::format("link type {} is not supported, so no packet could be read (wiretally decodes "
                               "Ethernet, Linux cooked v1/v2, raw IP, BSD null/loopback, PPP, Cisco HDLC and "
                               "802.11 data frames, bare or behind radiotap or PPI)",
                               static_cast<unsigned>(reader.link_type())));
        return kExitDataError;
    }

    // Marks refused once the capture was read: --marks pcapng on a capture without comments, and
    // --marks-every with fewer labels than the capture has intervals (rather than lump the rest into
    // its last label). The span is known once the capture was read: a pass of its own to learn it
    // first would fault the whole file in twice (a quarter more time on a 300 MB capture). A refused
    // run prints no report and leaves no flows file.
    std::string refused;
    if (marks_from_comments && comment_marks == 0) {
        refused = fmt::format("--marks pcapng: {} has no packet comments", input_name);
    } else if (actions && !options.marks_every.empty() && report.input.records != 0) {
        if (const auto e = actions->check_every_covers(report.input.first_ns, report.input.last_ns)) {
            refused = e->format();
        }
    }
    if (!refused.empty()) {
        flows_file.discard();
        fmt::print(stderr, "wiretally: {}\n", refused);
        return kExitConfig;
    }

    if (flow_writer) {
        const bool failed = flow_writer->failed();
        if (!flows_file.finish() || failed) {
            error_line(options.flows_out, "write failed");
            exit_code = kExitCantCreate;
        }
    }
    // A PNG is drawn by a browser from the HTML page, written beside it first.
    const std::string page_path = options.format == ReportFormat::kPng ? options.output + ".html" : options.output;
    OutputFile report_file;
    if (std::string why; !report_file.open(page_path, options.flows_out == "-" ? stderr : stdout, why)) {
        error_line(page_path, why);
        return kExitCantCreate;
    }
    std::FILE* out = report_file.get();
    // fmt::print reports a failed write (a full disk, a closed pipe) by throwing: it is the same failure.
    bool write_failed = false;
    try {
        switch (options.format) {
        case ReportFormat::kTable:
            render_table(report, out, TableOptions{options.top_domains, 100});
            break;
        case ReportFormat::kJson:
        {
            fmt::memory_buffer text;
            // Room for the whole document up front: growing a buffer of megabytes by doubling copies it each
            // time, and the copies' fresh pages cost more than writing it (a row is under 1.5 KB pretty-printed;
            // pages never written are never touched).
            const std::size_t rows = report.tally.domains.size() + report.tally.clients.size() + report.tally.servers.size() +
                                     report.tally.actions.size() + report.tally.services.size();
            text.reserve(64 * 1024 + rows * 1536);
            write_report_json(report, text, 2);
            text.push_back('\n');
            std::fwrite(text.data(), 1, text.size(), out);
            break;
        }
        case ReportFormat::kCsv:
            render_csv(report, out);
            break;
        case ReportFormat::kHtml:
        case ReportFormat::kPng:
        {
            fmt::memory_buffer page;
            write_html_report(report, page);
            std::fwrite(page.data(), 1, page.size(), out);
            break;
        }
        }
    } catch (const std::system_error&) {
        write_failed = true;
    }
    if (!report_file.finish() || write_failed) {
        error_line(report_file.name(), "write failed");
        return kExitCantCreate;
    }
    if (options.format == ReportFormat::kPng) {
        std::string why;
        const bool drawn = render_png(page_path, options.output, why);
        std::remove(page_path.c_str());
        if (!drawn) {
            error_line(options.output, why);
            return kExitCantCreate;
        }
    }
    if (!report.input.stopped_early.empty()) {
        error_line(input_name, report.input.stopped_early);
    }
    return exit_code != kExitOk ? exit_code : export_rc;
}

} // namespace wt::app
