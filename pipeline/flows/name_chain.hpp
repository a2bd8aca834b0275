// NameChain: a DNS CNAME chain (RFC 1034 section 3.6.2), the names an answer led through in order,
// kept whole in one fixed buffer with a space between names. DNS name text never holds a space
// (parsers/dns writes one as \032), so the text splits back exactly. 511 characters hold what
// resolvers send (2 to 5 names; 8 of 60 characters): a name that does not fit is left off whole,
// never cut, and the caller counts it. Half the size of four 256-byte names, and no limit on the
// count of short names.
#pragma once

#include "parsers/common/fixed_string.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wt::pipeline {

class NameChain {
public:
    static constexpr std::size_t kCapacity = 511;

    // Appends a name; false (nothing added) when it is empty, holds a space or does not fit.
    bool push(std::string_view name) noexcept {
        const std::size_t need = name.size() + (_count != 0 ? 1 : 0);
        if (name.empty() || name.find(' ') != std::string_view::npos || _text.size() + need > kCapacity ||
            _count == 0xff) {
            return false;
        }
        if (_count != 0) {
            _text.push_back(' ');
        }
        _text.append(name);
        ++_count;
        return true;
    }
    // From text() (a snapshot, a merged row); false (left empty) for text no chain could have.
    bool assign_text(std::string_view text) noexcept {
        clear();
        while (!text.empty()) {
            const std::size_t space = text.find(' ');
            if (!push(text.substr(0, space))) {
                clear();
                return false;
            }
            text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
        }
        return true;
    }
    void clear() noexcept {
        _text.clear();
        _count = 0;
    }

    [[nodiscard]] bool empty() const noexcept { return _count == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return _count; }
    // The names with a space between them.
    [[nodiscard]] std::string_view text() const noexcept { return _text.view(); }
    // The same from the name at `index` on (a suffix: no copy); empty past the end.
    [[nodiscard]] std::string_view text_from(std::size_t index) const noexcept {
        std::string_view rest = _text.view();
        for (std::size_t i = 0; i < index && !rest.empty(); ++i) {
            const std::size_t space = rest.find(' ');
            rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        }
        return rest;
    }

    class Iterator {
    public:
        explicit Iterator(std::string_view rest) noexcept : _rest(rest) {}
        [[nodiscard]] std::string_view operator*() const noexcept { return _rest.substr(0, _rest.find(' ')); }
        Iterator& operator++() noexcept {
            const std::size_t space = _rest.find(' ');
            _rest = space == std::string_view::npos ? std::string_view{} : _rest.substr(space + 1);
            return *this;
        }
        friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
            return a._rest.data() == b._rest.data() || (a._rest.empty() && b._rest.empty());
        }

    private:
        std::string_view _rest;
    };
    [[nodiscard]] Iterator begin() const noexcept { return Iterator(_text.view()); }
    [[nodiscard]] Iterator end() const noexcept { return Iterator({}); }

    [[nodiscard]] std::string_view at(std::size_t index) const noexcept {
        const std::string_view rest = text_from(index);
        return rest.substr(0, rest.find(' '));
    }
    [[nodiscard]] bool contains(std::string_view name) const noexcept {
        for (std::string_view n : *this) {
            if (n == name) {
                return true;
            }
        }
        return false;
    }
    // The index of `name` in the chain, or size() when it is not there.
    [[nodiscard]] std::size_t index_of(std::string_view name) const noexcept {
        std::size_t i = 0;
        for (std::string_view n : *this) {
            if (n == name) {
                return i;
            }
            ++i;
        }
        return _count;
    }

    friend bool operator==(const NameChain& a, const NameChain& b) noexcept { return a._text == b._text; }

private:
    parsers::FixedString<kCapacity> _text;
    std::uint8_t _count = 0;
};

} // namespace wt::pipeline
