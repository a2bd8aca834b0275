// Who hosts an address: AS number, AS organisation and country from MaxMind DB (MMDB)
// files, read through libmaxminddb. Lookups run where reports are built (offline at the
// end, live on the stats core when a view is asked for), never on a worker.
//
// Any MMDB with one of the usual layouts works: GeoLite2 / DB-IP ASN
// (autonomous_system_number, autonomous_system_organization), GeoLite2 / DB-IP country or
// city (country.iso_code, else registered_country.iso_code), IPinfo Lite and ip-location-db
// (asn as "AS13335" or a number, as_name, country_code). Several files are asked in the
// order given; each field comes from the first file that has it for the address.
#pragma once

#include "pipeline/classify/hosting_ranges.hpp"
#include "pipeline/flows/flow.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

namespace wt::app {

struct Hosting {
    std::optional<std::uint32_t> asn;
    std::string as_org;  // empty: unknown
    std::string country; // ISO 3166-1 alpha-2; empty: unknown
    [[nodiscard]] bool known() const noexcept { return asn.has_value() || !as_org.empty() || !country.empty(); }
};

// Addresses no AS announces (RFC 6890's special-purpose registries): "private" (RFC 1918, RFC 4193),
// "shared" (RFC 6598 carrier-grade NAT), "loopback", "link-local", "multicast", "documentation"
// (RFC 5737, RFC 3849), "unspecified"; empty for a global address. The report shows it where
// hosting would be, so a private server reads as such and not as unknown.
[[nodiscard]] std::string_view address_scope(const pipeline::IpAddr& address) noexcept;

// What the report says about each data set.
struct IpDataSet {
    std::string path;
    std::string name;        // the sidecar's name, else the file's database_type
    std::string source;      // where it came from (package and version); empty: unknown
    std::string licence;     // empty: unknown (a file the user named carries none)
    std::string date;        // YYYY-MM-DD: the sidecar's, else the file's build epoch
    std::string description; // the file's English description, if any
};

class IpDatabases {
public:
    IpDatabases();
    ~IpDatabases();
    IpDatabases(IpDatabases&&) noexcept;
    IpDatabases& operator=(IpDatabases&&) noexcept;

    // Opens one MMDB file; on failure `error` is "FILE: reason" and nothing is added.
    bool add_file(const std::string& path, std::string& error);
    // Opens the data sets a directory's datasets.json lists (written by scripts/ipdb/install.sh:
    // [{"file", "name", "source", "licence", "date"}, ...]), in its order. A missing directory
    // or manifest is not an error (returns true, adds nothing); a listed file that cannot be
    // opened, or a malformed manifest, is.
    bool add_directory(const std::string& dir, std::string& error);

    [[nodiscard]] bool empty() const noexcept;
    [[nodiscard]] const std::vector<IpDataSet>& data_sets() const noexcept { return _sets; }
    [[nodiscard]] Hosting lookup(const pipeline::IpAddr& address) const;
    // Every address range that one of `asns` announces in the data sets, for the workers to read
    // (a walk of each file's search tree with MMDB_read_node: off the data path, when services are
    // loaded). IPv4 inside an IPv6 file comes out once, as IPv4 (its alias prefixes
    // ::ffff:0:0/96, 2002::/16 are not walked again).
    [[nodiscard]] pipeline::HostingRanges asn_ranges(std::span<const std::uint32_t> asns) const;

private:
    struct Database;
    std::vector<std::unique_ptr<Database>> _dbs;
    std::vector<IpDataSet> _sets;
};

// The IP data a command uses: the files named (--ipdb, in order) when there are any, else
// the default data set when `use_default` (nothing, without error, when it is not installed).
bool open_ip_databases(const std::vector<std::string>& files, bool use_default, IpDatabases& out, std::string& error);

// The directory the default data set is installed in (scripts/ipdb/install.sh): the
// WIRETALLY_IPDB_DIR environment variable when set, else the one compiled in.
[[nodiscard]] std::string default_ipdb_directory();

} // namespace wt::app
