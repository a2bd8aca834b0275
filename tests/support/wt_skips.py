"""The only skips scripts/test.sh accepts, and how a Python test takes one.

A test that cannot run prints `SKIP: REASON` and exits 77 (meson counts that as skipped). scripts/test.sh
(through scripts/test_results.py) accepts a skip only when REASON starts with one of DOCUMENTED; any other
skip fails the run, because a missing program, package, file or kernel feature is a set-up failure, not a
pass. A missing program is never a skip: scripts/setup.sh installs it (scripts/packages.txt).

GoogleTest cases use the same words (tests/support/ndpi_corpus.hpp).
"""
import os
import sys

NOT_ROOT = "not root"                # network namespaces, veths, /var/run/dpdk: only root may create them
NO_CORPUS = "nDPI corpus absent"     # a clone without ../shared/corpus (and no -Dndpi_corpus=DIR)
DOCUMENTED = (NOT_ROOT, NO_CORPUS)
EXIT_SKIP = 77


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(EXIT_SKIP)


def skip_unless_root(what):
    """Skips the test, with the documented reason, unless it runs as root."""
    if os.geteuid() != 0:
        skip(f"{NOT_ROOT}: {what}")


def corpus_absent_reason(path):
    return f"{NO_CORPUS}: {path} (clone beside shared/ or configure with -Dndpi_corpus=DIR)"


def corpus_or_skip(path):
    """The nDPI corpus directory (with pcap/ and expected/), or a documented skip of the whole test."""
    if not os.path.isdir(os.path.join(path, "pcap")):
        skip(corpus_absent_reason(path))
    return path
