// Counts global operator new calls so a test can assert that a data-path operation
// allocates nothing (STYLE.md lesson 5). Link alloc_counter.cpp into the test
// executable: the replacement operators live in their own translation unit so the
// compiler never sees new and free() inlined together (-Wmismatched-new-delete).
#pragma once

#include <cstddef>

namespace wt::pipeline::test {
std::size_t allocation_count() noexcept;
} // namespace wt::pipeline::test
