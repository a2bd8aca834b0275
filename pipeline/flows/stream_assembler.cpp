#include "pipeline/flows/stream_assembler.hpp"

#include <algorithm>
#include <cstring>

namespace wt::pipeline {

void StreamAssembler::reset() noexcept {
    _base = 0;
    _has_base = false;
    _base_fixed = false;
    _overflow = false;
    _range_count = 0;
    _contiguous = 0;
}

void StreamAssembler::set_base(std::uint32_t seq) noexcept {
    if (!_has_base) {
        _base = seq;
        _has_base = true;
        _base_fixed = true;
    }
}

bool StreamAssembler::rebase(std::uint32_t new_base) noexcept {
    // A segment from before the first one seen arrived (reordering on a flow whose SYN
    // we missed). Shift what we hold if it still fits.
    const std::uint32_t shift = _base - new_base;
    const std::uint32_t held = _range_count ? _ranges[_range_count - 1].end : 0;
    if (shift > kCapacity / 2 || held + shift > kCapacity) {
        return false;
    }
    std::memmove(_buf.data() + shift, _buf.data(), held);
    for (std::size_t i = 0; i < _range_count; ++i) {
        _ranges[i].begin += shift;
        _ranges[i].end += shift;
    }
    _base = new_base;
    _contiguous = (_range_count && _ranges[0].begin == 0) ? _ranges[0].end : 0;
    return true;
}

void StreamAssembler::insert_range(std::uint32_t begin, std::uint32_t end) noexcept {
    // Keep ranges sorted and merged; bounded by kMaxRanges (extra holes are dropped).
    std::size_t i = 0;
    while (i < _range_count && _ranges[i].end < begin) {
        ++i;
    }
    std::size_t j = i;
    while (j < _range_count && _ranges[j].begin <= end) {
        begin = std::min(begin, _ranges[j].begin);
        end = std::max(end, _ranges[j].end);
        ++j;
    }
    const std::size_t removed = j - i;
    if (removed == 0) {
        if (_range_count == kMaxRanges) {
            _overflow = true;
            return;
        }
        std::move_backward(_ranges.begin() + i, _ranges.begin() + _range_count, _ranges.begin() + _range_count + 1);
        ++_range_count;
    } else if (removed > 1) {
        std::move(_ranges.begin() + j, _ranges.begin() + _range_count, _ranges.begin() + i + 1);
        _range_count = static_cast<std::uint8_t>(_range_count - (removed - 1));
    }
    _ranges[i] = {begin, end};
}

bool StreamAssembler::add(std::uint32_t seq, std::span<const std::uint8_t> data) noexcept {
    if (data.empty()) {
        return false;
    }
    if (!_has_base) {
        _base = seq;
        _has_base = true;
    }
    auto offset = static_cast<std::int32_t>(seq - _base);
    std::size_t skip = 0;
    if (offset < 0) {
        const auto before = static_cast<std::uint32_t>(-static_cast<std::int64_t>(offset));
        if (!_base_fixed && before < data.size() + kCapacity / 2 && rebase(seq)) {
            offset = 0;
        } else if (before < data.size()) {
            skip = before; // retransmission overlapping the start
            offset = 0;
        } else {
            return false; // entirely old data
        }
    }
    const auto begin = static_cast<std::uint32_t>(offset);
    if (begin >= kCapacity) {
        _overflow = true;
        return false;
    }
    std::size_t len = data.size() - skip;
    if (begin + len > kCapacity) {
        len = kCapacity - begin;
        _overflow = true;
    }
    std::memcpy(_buf.data() + begin, data.data() + skip, len);
    insert_range(begin, static_cast<std::uint32_t>(begin + len));
    const std::uint32_t before_contig = _contiguous;
    _contiguous = (_range_count && _ranges[0].begin == 0) ? _ranges[0].end : 0;
    return _contiguous > before_contig;
}

} // namespace wt::pipeline
