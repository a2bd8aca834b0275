// Where the GoogleTest cases that read the nDPI regression corpus find it. Meson passes WT_NDPI_CORPUS_DIR
// (`ndpi_corpus_cpp_args`: the `ndpi_corpus` option, by default ../shared/corpus/ndpi beside the source
// tree). A clone without the corpus is one of the two documented skips of scripts/test.sh, and the reason
// must start with the words scripts/test_results.py recognises ("nDPI corpus absent"); any other skip fails
// the run.
#pragma once

#include <filesystem>

#include <gtest/gtest.h>

#ifndef WT_NDPI_CORPUS_DIR
#error "build with ndpi_corpus_cpp_args (meson.build): the corpus location comes from the build"
#endif

namespace wt::testing {

inline std::filesystem::path ndpi_pcap_dir() { return std::filesystem::path(WT_NDPI_CORPUS_DIR) / "pcap"; }

} // namespace wt::testing

// In a test body: skips the test, with the documented reason, when the corpus is not there.
#define WT_SKIP_WITHOUT_NDPI_CORPUS()                                                                      \
    do {                                                                                                   \
        std::error_code wt_corpus_ec;                                                                      \
        if (!std::filesystem::is_directory(::wt::testing::ndpi_pcap_dir(), wt_corpus_ec)) {                \
            GTEST_SKIP() << "nDPI corpus absent: " << ::wt::testing::ndpi_pcap_dir().string()              \
                         << " (clone beside shared/ or configure with -Dndpi_corpus=DIR)";                 \
        }                                                                                                  \
    } while (false)
