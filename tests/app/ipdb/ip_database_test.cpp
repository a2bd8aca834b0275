// IpDatabases: AS number, organisation and country from MMDB files in each layout it reads
// (GeoLite2-style ASN and country, IPinfo Lite), asked in order; data set names from the
// manifest of the default directory; a clear error for a file that is missing or not MMDB.
#include "app/ipdb/ip_database.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace wt::app {
namespace {

namespace fs = std::filesystem;

pipeline::IpAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    pipeline::IpAddr ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    ip.version = 4;
    return ip;
}

pipeline::IpAddr v6(std::initializer_list<std::uint8_t> prefix) {
    pipeline::IpAddr ip;
    std::size_t i = 0;
    for (const std::uint8_t b : prefix) {
        ip.bytes[i++] = b;
    }
    ip.version = 6;
    return ip;
}

class IpDatabaseTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir() = fs::temp_directory_path() / ("wt-ipdb-test-" + std::to_string(::getpid()));
        fs::create_directories(dir());
        // Documentation ranges (RFC 5737, RFC 3849) and one public-looking range.
        build("asn", "asn.mmdb",
              "198.51.100.0,198.51.100.255,64500,\"Example Cloud, Inc.\"\n"
              "203.0.113.0,203.0.113.127,64501,Example CDN\n"
              "2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64502,Example IPv6 Host\n");
        build("country", "country.mmdb",
              "198.51.100.0,198.51.100.255,nl\n"
              "203.0.113.0,203.0.113.255,US\n"
              "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,DE\n");
        build("ipinfo", "ipinfo.mmdb", "198.51.100.0,198.51.100.127,65000,Other Org,FR\n"
                                       "192.0.2.0,192.0.2.255,65001,Doc Net,JP\n");
    }
    static void TearDownTestSuite() { fs::remove_all(dir()); }

    static fs::path& dir() {
        static fs::path d;
        return d;
    }
    static void build(const std::string& type, const std::string& file, const std::string& csv) {
        const fs::path csv_path = dir() / (file + ".csv");
        std::ofstream(csv_path) << csv;
        const std::string cmd = "perl '" WT_CSV_TO_MMDB "' --type " + type + " --epoch 1781654400 --description 'test " +
                                type + "' --out '" + (dir() / file).string() + "' '" + csv_path.string() + "' 2>/dev/null";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    static std::string path(const std::string& file) { return (dir() / file).string(); }
};

TEST_F(IpDatabaseTest, AsnAndCountryFromTwoFiles) {
    IpDatabases dbs;
    std::string error;
    ASSERT_TRUE(dbs.add_file(path("asn.mmdb"), error)) << error;
    ASSERT_TRUE(dbs.add_file(path("country.mmdb"), error)) << error;
    const Hosting cloud = dbs.lookup(v4(198, 51, 100, 7));
    ASSERT_TRUE(cloud.asn.has_value());
    EXPECT_EQ(*cloud.asn, 64500u);
    EXPECT_EQ(cloud.as_org, "Example Cloud, Inc.");
    EXPECT_EQ(cloud.country, "NL");
    // The AS file covers only the first half of 203.0.113.0/24, the country file all of it.
    const Hosting half = dbs.lookup(v4(203, 0, 113, 200));
    EXPECT_FALSE(half.asn.has_value());
    EXPECT_EQ(half.as_org, "");
    EXPECT_EQ(half.country, "US");
    const Hosting six = dbs.lookup(v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1}));
    EXPECT_EQ(six.asn.value_or(0), 64502u);
    EXPECT_EQ(six.country, "DE");
    const Hosting none = dbs.lookup(v4(192, 0, 2, 1));
    EXPECT_FALSE(none.known());
    EXPECT_FALSE(dbs.lookup(pipeline::IpAddr{}).known()) << "an unset address has no hosting";
}

// Issue #14: the walk of the search tree finds exactly the ranges of the ASes asked for, IPv4 once
// (not again under the IPv6 tree's IPv4 aliases), and agrees with lookups; a country file is not walked.
TEST_F(IpDatabaseTest, AsnRangesAgreeWithLookups) {
    IpDatabases dbs;
    std::string error;
    ASSERT_TRUE(dbs.add_file(path("country.mmdb"), error)) << error;
    ASSERT_TRUE(dbs.add_file(path("asn.mmdb"), error)) << error;
    const std::vector<std::uint32_t> wanted = {64501, 64502, 64999};
    const pipeline::HostingRanges ranges = dbs.asn_ranges(wanted);
    EXPECT_EQ(ranges.asn_of(v4(203, 0, 113, 0)), 64501u);
    EXPECT_EQ(ranges.asn_of(v4(203, 0, 113, 127)), 64501u);
    EXPECT_EQ(ranges.asn_of(v4(203, 0, 113, 128)), 0u) << "past the AS file's range";
    EXPECT_EQ(ranges.asn_of(v4(198, 51, 100, 7)), 0u) << "AS64500 was not asked for";
    EXPECT_EQ(ranges.asn_of(v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1})), 64502u);
    EXPECT_EQ(ranges.asn_of(v6({0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0})), 0u);
    // ::ffff:203.0.113.5 and 2002:cb00:7105:: (6to4) are the same IPv4 tree in the file: not listed twice.
    EXPECT_EQ(ranges.asn_of(v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 5})), 0u);
    EXPECT_EQ(ranges.asn_of(v6({0x20, 0x02, 203, 0, 113, 5})), 0u);
    // Every address the ranges give agrees with a lookup.
    for (int last = 0; last < 256; last += 5) {
        const auto a = v4(203, 0, 113, static_cast<std::uint8_t>(last));
        const Hosting h = dbs.lookup(a);
        const std::uint32_t expect = h.asn && (*h.asn == 64501 || *h.asn == 64502) ? *h.asn : 0;
        EXPECT_EQ(ranges.asn_of(a), expect) << last;
    }
    EXPECT_TRUE(dbs.asn_ranges({}).empty());
    IpDatabases countries;
    ASSERT_TRUE(countries.add_file(path("country.mmdb"), error)) << error;
    EXPECT_TRUE(countries.asn_ranges(wanted).empty());
}

TEST_F(IpDatabaseTest, IpinfoLayoutAndFileOrder) {
    IpDatabases ipinfo_first;
    std::string error;
    ASSERT_TRUE(ipinfo_first.add_file(path("ipinfo.mmdb"), error)) << error;
    ASSERT_TRUE(ipinfo_first.add_file(path("asn.mmdb"), error)) << error;
    const Hosting h = ipinfo_first.lookup(v4(198, 51, 100, 1));
    EXPECT_EQ(h.asn.value_or(0), 65000u) << "\"AS65000\" is read as 65000, and the first file wins";
    EXPECT_EQ(h.as_org, "Other Org");
    EXPECT_EQ(h.country, "FR");
    // Past the IPinfo range the AS file answers.
    EXPECT_EQ(ipinfo_first.lookup(v4(198, 51, 100, 200)).asn.value_or(0), 64500u);
    EXPECT_EQ(ipinfo_first.lookup(v4(192, 0, 2, 9)).country, "JP");
}

TEST_F(IpDatabaseTest, DataSetsNameTheirFileAndDate) {
    IpDatabases dbs;
    std::string error;
    ASSERT_TRUE(dbs.add_file(path("asn.mmdb"), error)) << error;
    ASSERT_EQ(dbs.data_sets().size(), 1u);
    const IpDataSet& set = dbs.data_sets()[0];
    EXPECT_EQ(set.path, path("asn.mmdb"));
    EXPECT_EQ(set.name, "wiretally-ASN");
    EXPECT_EQ(set.date, "2026-06-17");
    EXPECT_EQ(set.description, "test asn");
    EXPECT_EQ(set.licence, "") << "a file the user names carries no licence";
}

TEST_F(IpDatabaseTest, DirectoryManifestNamesSourceAndLicence) {
    const fs::path d = dir() / "default";
    fs::create_directories(d);
    fs::copy_file(path("asn.mmdb"), d / "asn.mmdb", fs::copy_options::overwrite_existing);
    std::ofstream(d / "datasets.json") << R"([{"file": "asn.mmdb", "name": "ip-location-db asn",
        "source": "npm @ip-location-db/asn 2.3.2026061719", "licence": "CC BY 4.0", "date": "2026-06-17"}])";
    IpDatabases dbs;
    std::string error;
    ASSERT_TRUE(dbs.add_directory(d.string(), error)) << error;
    ASSERT_EQ(dbs.data_sets().size(), 1u);
    EXPECT_EQ(dbs.data_sets()[0].name, "ip-location-db asn");
    EXPECT_EQ(dbs.data_sets()[0].licence, "CC BY 4.0");
    EXPECT_EQ(dbs.data_sets()[0].source, "npm @ip-location-db/asn 2.3.2026061719");
    EXPECT_EQ(dbs.lookup(v4(203, 0, 113, 1)).as_org, "Example CDN");

    IpDatabases nothing;
    EXPECT_TRUE(nothing.add_directory((dir() / "absent").string(), error)) << "no default data is not an error";
    EXPECT_TRUE(nothing.empty());
}

TEST_F(IpDatabaseTest, BadFilesAndManifestsAreNamed) {
    IpDatabases dbs;
    std::string error;
    EXPECT_FALSE(dbs.add_file(path("missing.mmdb"), error));
    EXPECT_EQ(error, path("missing.mmdb") + ": No such file or directory");
    std::ofstream(dir() / "text.mmdb") << "not a database\n";
    EXPECT_FALSE(dbs.add_file(path("text.mmdb"), error));
    EXPECT_NE(error.find(path("text.mmdb") + ": not a MaxMind DB file"), std::string::npos) << error;
    EXPECT_TRUE(dbs.empty()) << "a failed file adds nothing";

    const fs::path broken = dir() / "broken";
    fs::create_directories(broken);
    std::ofstream(broken / "datasets.json") << "{\"file\": ";
    EXPECT_FALSE(dbs.add_directory(broken.string(), error));
    EXPECT_EQ(error, (broken / "datasets.json").string() + ": not a JSON array of data sets");
    std::ofstream(broken / "datasets.json") << R"([{"file": "gone.mmdb"}])";
    EXPECT_FALSE(dbs.add_directory(broken.string(), error));
    EXPECT_EQ(error, (broken / "gone.mmdb").string() + ": No such file or directory");
    std::ofstream(broken / "datasets.json") << R"([{"file": "../asn.mmdb"}])";
    EXPECT_FALSE(dbs.add_directory(broken.string(), error));
    EXPECT_NE(error.find("has no \"file\""), std::string::npos) << error;
}

TEST(AddressScope, SpecialPurposeAddressesAreNamed) {
    EXPECT_EQ(address_scope(v4(10, 1, 2, 3)), "private");
    EXPECT_EQ(address_scope(v4(172, 31, 0, 1)), "private");
    EXPECT_EQ(address_scope(v4(172, 32, 0, 1)), "");
    EXPECT_EQ(address_scope(v4(192, 168, 0, 1)), "private");
    EXPECT_EQ(address_scope(v4(100, 64, 0, 1)), "shared");
    EXPECT_EQ(address_scope(v4(100, 128, 0, 1)), "");
    EXPECT_EQ(address_scope(v4(127, 0, 0, 1)), "loopback");
    EXPECT_EQ(address_scope(v4(169, 254, 1, 1)), "link-local");
    EXPECT_EQ(address_scope(v4(224, 0, 0, 251)), "multicast");
    EXPECT_EQ(address_scope(v4(198, 51, 100, 9)), "documentation");
    EXPECT_EQ(address_scope(v4(8, 8, 8, 8)), "");
    EXPECT_EQ(address_scope(v6({0xfd, 0x77})), "private");
    EXPECT_EQ(address_scope(v6({0xfe, 0x80})), "link-local");
    EXPECT_EQ(address_scope(v6({0xff, 0x02})), "multicast");
    EXPECT_EQ(address_scope(v6({0x20, 0x01, 0x0d, 0xb8})), "documentation");
    EXPECT_EQ(address_scope(v6({0x2a, 0x00, 0x14, 0x50})), "");
    EXPECT_EQ(address_scope(v6({})), "unspecified");
    EXPECT_EQ(address_scope(pipeline::IpAddr{}), "");
}

TEST_F(IpDatabaseTest, NamedFilesReplaceTheDefault) {
    IpDatabases dbs;
    std::string error;
    ::setenv("WIRETALLY_IPDB_DIR", (dir() / "absent").c_str(), 1);
    EXPECT_EQ(default_ipdb_directory(), (dir() / "absent").string());
    ASSERT_TRUE(open_ip_databases({path("country.mmdb")}, true, dbs, error)) << error;
    ASSERT_EQ(dbs.data_sets().size(), 1u);
    EXPECT_EQ(dbs.data_sets()[0].name, "wiretally-Country");
    IpDatabases off;
    ASSERT_TRUE(open_ip_databases({}, false, off, error));
    EXPECT_TRUE(off.empty());
    ::unsetenv("WIRETALLY_IPDB_DIR");
}

} // namespace
} // namespace wt::app
