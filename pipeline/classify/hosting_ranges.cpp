#include "pipeline/classify/hosting_ranges.hpp"

#include <algorithm>

namespace wt::pipeline {

namespace {

std::uint32_t v4_word(const IpAddr& a) noexcept {
    return std::uint32_t{a.bytes[0]} << 24 | std::uint32_t{a.bytes[1]} << 16 | std::uint32_t{a.bytes[2]} << 8 |
           a.bytes[3];
}

unsigned __int128 v6_word(const IpAddr& a) noexcept {
    unsigned __int128 w = 0;
    for (std::uint8_t b : a.bytes) {
        w = w << 8 | b;
    }
    return w;
}

// Sorts by start and drops any range that overlaps one kept before it, so a search finds at most one.
template <typename R>
void sort_disjoint(std::vector<R>& ranges) {
    std::stable_sort(ranges.begin(), ranges.end(), [](const R& a, const R& b) { return a.first < b.first; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (kept == 0 || ranges[i].first > ranges[kept - 1].last) {
            ranges[kept++] = ranges[i];
        }
    }
    ranges.resize(kept);
    ranges.shrink_to_fit();
}

template <typename R, typename W>
std::uint32_t search(const std::vector<R>& ranges, W word) noexcept {
    const auto it = std::upper_bound(ranges.begin(), ranges.end(), word, [](W w, const R& r) { return w < r.first; });
    if (it == ranges.begin()) {
        return 0;
    }
    const R& r = *(it - 1);
    return word <= r.last ? r.asn : 0;
}

} // namespace

void HostingRanges::add(const IpAddr& first, const IpAddr& last, std::uint32_t asn) {
    if (first.version == 4 && last.version == 4) {
        _v4.push_back({v4_word(first), v4_word(last), asn});
    } else if (first.version == 6 && last.version == 6) {
        _v6.push_back({v6_word(first), v6_word(last), asn});
    }
}

void HostingRanges::finish() {
    sort_disjoint(_v4);
    sort_disjoint(_v6);
}

std::uint32_t HostingRanges::asn_of(const IpAddr& address) const noexcept {
    if (address.version == 4) {
        return search(_v4, v4_word(address));
    }
    if (address.version == 6) {
        return search(_v6, v6_word(address));
    }
    return 0;
}

} // namespace wt::pipeline
