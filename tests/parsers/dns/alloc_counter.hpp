// Counts calls to the global operator new (replaced in alloc_counter.cpp, a separate translation
// unit so the compiler does not see new/free pairs). Parsers must not allocate (STYLE.md lesson 5).
#pragma once

#include <cstddef>

namespace wt::test {
std::size_t allocation_count() noexcept;
} // namespace wt::test
