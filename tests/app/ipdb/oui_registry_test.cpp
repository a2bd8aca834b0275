// app/ipdb/oui_registry: the IEEE MAC block registries as Debian's ieee-data ships them (RFC 4180
// CSV whose quoted addresses may span lines), the longest assigned prefix, randomised addresses,
// and errors that name the file and line.
#include "app/ipdb/oui_registry.hpp"

#include <gtest/gtest.h>

namespace wt::app {
namespace {

constexpr std::string_view kOui =
    "Registry,Assignment,Organization Name,Organization Address\r\n"
    "MA-L,00000C,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE SAN JOSE CA US 95134 \r\n"
    "MA-L,C404D8,Aviva Links Inc.,\"160 E Tasman Dr\n"
    "STE 102 SAN JOSE CA US 95134 \"\r\n"
    "MA-L,70B3D5,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \r\n";
constexpr std::string_view kOui36 =
    "Registry,Assignment,Organization Name,Organization Address\n"
    "MA-S,70B3D5F2F,\"Quoted \"\"Name\"\" GmbH\",Somewhere DE\n";

TEST(OuiRegistry, LongestPrefixQuotedFieldsAndRandomisedAddresses) {
    OuiRegistry r;
    std::string error;
    ASSERT_TRUE(r.load_csv(kOui, "oui.csv", error)) << error;
    ASSERT_TRUE(r.load_csv(kOui36, "oui36.csv", error)) << error;
    EXPECT_EQ(r.size(), 4u);
    EXPECT_EQ(r.vendor({0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}), "Cisco Systems, Inc");
    EXPECT_EQ(r.vendor({0xc4, 0x04, 0xd8, 0, 0, 1}), "Aviva Links Inc.") << "the record after a two-line address";
    EXPECT_EQ(r.vendor({0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x01}), "Quoted \"Name\" GmbH") << "36 bits beat 24";
    EXPECT_EQ(r.vendor({0x70, 0xb3, 0xd5, 0xf3, 0x00, 0x01}), "IEEE Registration Authority");
    EXPECT_EQ(r.vendor({0x00, 0x11, 0x22, 0, 0, 0}), "");
    // Bit 1 of the first octet: locally administered (a phone's private, per-network address).
    EXPECT_TRUE(OuiRegistry::locally_administered({0x02, 0x00, 0x0c, 0, 0, 0}));
    EXPECT_EQ(r.vendor({0x02, 0x00, 0x0c, 0x12, 0x34, 0x56}), "");
}

TEST(OuiRegistry, ErrorsNameFileAndLine) {
    OuiRegistry r;
    std::string error;
    EXPECT_FALSE(r.load_csv("a,b,c\n", "x.csv", error));
    EXPECT_EQ(error, "x.csv:1: not an IEEE registry CSV (expected the header Registry,Assignment,...)");
    EXPECT_FALSE(r.load_csv("Registry,Assignment,Organization Name\nMA-L,00000C,A\nMA-L,0000ZZ,B\n", "x.csv", error));
    EXPECT_EQ(error, "x.csv:3: assignment '0000ZZ' is not hexadecimal");
    EXPECT_FALSE(r.load_csv("Registry,Assignment,Organization Name\nMA-L,\"multi\nline\",A\nMA-L,12345,B\n", "x.csv",
                            error));
    EXPECT_EQ(error, "x.csv:2: assignment 'multi\nline' is not 6, 7 or 9 hex digits");
    EXPECT_FALSE(r.load_csv("Registry,Assignment,Organization Name\nMA-L\n", "x.csv", error));
    EXPECT_EQ(error, "x.csv:2: expected Registry,Assignment,Organization Name,...");
    // A directory without the files is not an error: vendors stay unknown.
    OuiRegistry empty;
    EXPECT_TRUE(empty.load_directory("/nonexistent-ieee-data", error));
    EXPECT_EQ(empty.size(), 0u);
}

} // namespace
} // namespace wt::app
