// HostingRanges: the address ranges that chosen autonomous systems announce (a CDN's or a cloud's,
// from a services file's `asns`), so that a name no pattern knows can be tallied as the CDN that
// serves it (issue #14, "inferred"). Built off the data path from IP data (app/ipdb walks the MMDB
// files once, at start); the workers only read it: a binary search over sorted, disjoint ranges,
// no allocation, no lock, no IP data file touched on the packet path.
#pragma once

#include "parsers/net/packet.hpp"

#include <cstdint>
#include <vector>

namespace wt::pipeline {

using IpAddr = parsers::IpAddress;

class HostingRanges {
public:
    // Builder side (off the data path). Ranges may come in any order; of overlapping ones (two
    // data sets disagreeing), the one that starts first is kept.
    void add(const IpAddr& first, const IpAddr& last, std::uint32_t asn);
    void finish();

    // The AS announcing `address`, 0 when none of the chosen ones does.
    [[nodiscard]] std::uint32_t asn_of(const IpAddr& address) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return _v4.size() + _v6.size(); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

private:
    template <typename Word>
    struct Range {
        Word first;
        Word last;
        std::uint32_t asn;
    };
    using U128 = unsigned __int128;
    std::vector<Range<std::uint32_t>> _v4;
    std::vector<Range<U128>> _v6;
};

} // namespace wt::pipeline
