// Counts global operator new calls so a test can assert that a data-path operation
// allocates nothing (STYLE.md lesson 5). Link tests/support/alloc_counter.cpp (meson:
// `alloc_counter_src`) into the test executable: it replaces every form of the global
// operator new and delete for the whole binary, in its own translation unit so the
// compiler never sees new and free() inlined together (-Wmismatched-new-delete).
#pragma once

#include <cstddef>

namespace wt::testing {
// Calls to any form of operator new since the program started.
std::size_t allocation_count() noexcept;
} // namespace wt::testing
