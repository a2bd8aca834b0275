// Prometheus remote write (issue #19): the exposition read back as samples, the WriteRequest's protobuf
// decoded field by field (a decoder written here from the remote write 1.0 messages), snappy, and the
// writer against an in-process receiver that refuses, then takes.
#include "app/export/remote_write.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/support/local_http_server.hpp"
#include <snappy-c.h>

#include <bit>
#include <cmath>
#include <map>
#include <thread>

namespace wt::app::remote_write {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Decoded {
    Labels labels;
    double value = 0;
    std::int64_t timestamp = 0;
};

std::uint64_t varint(std::string_view& in) {
    std::uint64_t v = 0;
    for (int shift = 0; !in.empty(); shift += 7) {
        const auto b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    return v;
}

// Reads (field, bytes) pairs of length-delimited fields; fixed64 and varint fields come back as their bytes.
std::vector<std::pair<unsigned, std::string_view>> fields(std::string_view in) {
    std::vector<std::pair<unsigned, std::string_view>> out;
    while (!in.empty()) {
        const std::uint64_t tag = varint(in);
        const auto field = static_cast<unsigned>(tag >> 3);
        switch (tag & 7) {
        case 2: {
            const std::uint64_t n = varint(in);
            out.emplace_back(field, in.substr(0, n));
            in.remove_prefix(n);
            break;
        }
        case 1:
            out.emplace_back(field, in.substr(0, 8));
            in.remove_prefix(8);
            break;
        case 0: {
            const std::string_view start = in;
            varint(in);
            out.emplace_back(field, start.substr(0, start.size() - in.size()));
            break;
        }
        default: ADD_FAILURE() << "wire type " << (tag & 7); return out;
        }
    }
    return out;
}

std::vector<Decoded> decode(std::string_view request) {
    std::vector<Decoded> out;
    for (const auto& [field, series] : fields(request)) {
        EXPECT_EQ(field, 1u); // WriteRequest.timeseries
        Decoded d;
        for (const auto& [f, part] : fields(series)) {
            if (f == 1) { // Label
                std::string name, value;
                for (const auto& [lf, text] : fields(part)) {
                    (lf == 1 ? name : value) = std::string(text);
                }
                d.labels.emplace_back(name, value);
            } else if (f == 2) { // Sample
                for (const auto& [sf, bytes] : fields(part)) {
                    if (sf == 1) {
                        std::uint64_t bits = 0;
                        for (int b = 0; b < 8; ++b) {
                            bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[b])) << (8 * b);
                        }
                        d.value = std::bit_cast<double>(bits);
                    } else {
                        std::string_view v = bytes;
                        d.timestamp = static_cast<std::int64_t>(varint(v));
                    }
                }
            }
        }
        out.push_back(std::move(d));
    }
    return out;
}

constexpr std::string_view kExposition = R"(# HELP wiretally_service_bytes_total bytes by service and direction
# TYPE wiretally_service_bytes_total counter
wiretally_service_bytes_total{service="Google Maps",direction="down"} 173027
wiretally_service_bytes_total{service="a \"quoted\" \\ name\nx",direction="up"} 7
wiretally_uptime_seconds 12.5
wiretally_build_info{version="0.1",dpdk="DPDK 22.11.4"} 1
this is not a sample
)";

TEST(RemoteWrite, ExpositionReadsBackAsSamples) {
    std::size_t malformed = 0;
    const std::vector<Sample> samples = parse_exposition(kExposition, &malformed);
    EXPECT_EQ(malformed, 1u);
    ASSERT_EQ(samples.size(), 4u);
    EXPECT_EQ(samples[0].labels, (Labels{{"__name__", "wiretally_service_bytes_total"}, {"service", "Google Maps"},
                                         {"direction", "down"}}));
    EXPECT_EQ(samples[0].value, 173027);
    EXPECT_EQ(samples[1].labels[1].second, "a \"quoted\" \\ name\nx");
    EXPECT_EQ(samples[2].labels, (Labels{{"__name__", "wiretally_uptime_seconds"}}));
    EXPECT_EQ(samples[2].value, 12.5);
}

TEST(RemoteWrite, WriteRequestHasSortedLabelsWithApplianceAndSite) {
    const std::vector<Sample> samples = parse_exposition(kExposition);
    const std::string request =
        encode_write_request(samples, {{"appliance", "box-1"}, {"site", "hq"}, {"empty", ""}}, 1'700'000'000'123);
    const std::vector<Decoded> series = decode(request);
    ASSERT_EQ(series.size(), samples.size());
    EXPECT_EQ(series[0].labels, (Labels{{"__name__", "wiretally_service_bytes_total"}, {"appliance", "box-1"},
                                        {"direction", "down"}, {"service", "Google Maps"}, {"site", "hq"}}));
    EXPECT_EQ(series[0].value, 173027);
    EXPECT_EQ(series[0].timestamp, 1'700'000'000'123);
    EXPECT_EQ(series[2].value, 12.5);
    for (const Decoded& d : series) {
        EXPECT_TRUE(std::is_sorted(d.labels.begin(), d.labels.end()));
    }
}

TEST(RemoteWrite, SnappyBlockRoundTrips) {
    const std::string request = encode_write_request(parse_exposition(kExposition), {{"appliance", "a"}}, 1);
    const std::string compressed = snappy_compress(request);
    std::size_t length = 0;
    ASSERT_EQ(snappy_uncompressed_length(compressed.data(), compressed.size(), &length), SNAPPY_OK);
    std::string back(length, '\0');
    ASSERT_EQ(snappy_uncompress(compressed.data(), compressed.size(), back.data(), &length), SNAPPY_OK);
    EXPECT_EQ(back, request);
}

TEST(RemoteWrite, WriterRetriesUntilTheReceiverTakesItAndDropsWhatItRefuses) {
    std::mutex mutex;
    std::vector<std::string> bodies;
    std::vector<std::string> encodings;
    std::atomic<int> answer{503};
    wt::test::LocalHttpServer receiver; // after what its handler uses: stopped before they go
    receiver.routes().Post("/api/v1/write", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex);
        res.status = answer.load();
        if (res.status == 204) {
            bodies.push_back(req.body);
            encodings.push_back(req.get_header_value("Content-Encoding"));
        }
    });
    receiver.start();
    RemoteWriteConfig config;
    config.urls = {receiver.url() + "/api/v1/write"};
    config.timeout = std::chrono::milliseconds(2000);
    RemoteWriter writer(config, {{"appliance", "box-1"}});
    writer.start();
    writer.submit(std::string(kExposition), 1000);
    const auto wait = [&](auto pred) {
        for (int i = 0; i < 500 && !pred(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return pred();
    };
    ASSERT_TRUE(wait([&] { return writer.status().writes_failed >= 1; }));
    EXPECT_EQ(writer.status().queued, 1u);
    EXPECT_NE(writer.status().last_error.find("HTTP 503"), std::string::npos);
    answer = 204;
    ASSERT_TRUE(wait([&] { return writer.status().writes_sent == 1; }));
    EXPECT_EQ(writer.status().samples_sent, 4u);
    answer = 400;
    writer.submit(std::string(kExposition), 2000);
    ASSERT_TRUE(wait([&] { return writer.status().writes_dropped == 1; }));
    EXPECT_EQ(writer.status().queued, 0u);
    writer.stop(std::chrono::milliseconds(500));
    receiver.stop();
    ASSERT_EQ(bodies.size(), 1u);
    EXPECT_EQ(encodings[0], "snappy");
    std::size_t length = 0;
    ASSERT_EQ(snappy_uncompressed_length(bodies[0].data(), bodies[0].size(), &length), SNAPPY_OK);
    std::string request(length, '\0');
    ASSERT_EQ(snappy_uncompress(bodies[0].data(), bodies[0].size(), request.data(), &length), SNAPPY_OK);
    const std::vector<Decoded> series = decode(request);
    ASSERT_EQ(series.size(), 4u);
    EXPECT_EQ(series[3].timestamp, 1000);
}

} // namespace
} // namespace wt::app::remote_write
