// Counts global operator new calls so tests can assert that a parse allocates nothing
// (STYLE.md lesson 5). Link alloc_counter.cpp into the test executable.
#pragma once

#include <cstddef>

namespace wt::parsers::test {
std::size_t allocation_count() noexcept;
} // namespace wt::parsers::test
