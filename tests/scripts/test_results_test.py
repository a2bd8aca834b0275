#!/usr/bin/env python3
"""scripts/test_results.py: how scripts/test.sh counts a meson test log (passed, failed, skipped and why)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import test_results as T  # noqa: E402

# What GoogleTest 1.12 prints for a skipped case, verbatim apart from the paths.
GTEST_ONE_SKIPPED = """[==========] Running 2 tests from 1 test suite.
[ RUN      ] CaptureFile.NdpiCorpus
../tests/parsers/net/capture_file_test.cpp:486: Skipped
nDPI corpus absent: /x/shared/corpus/ndpi/pcap (clone beside shared/ or configure with -Dndpi_corpus=DIR)

[  SKIPPED ] CaptureFile.NdpiCorpus (0 ms)
[ RUN      ] CaptureFile.Pcap
[       OK ] CaptureFile.Pcap (1 ms)
[==========] 2 tests from 1 test suite ran. (1 ms total)
[  PASSED  ] 1 test.
[  SKIPPED ] 1 test, listed below:
[  SKIPPED ] CaptureFile.NdpiCorpus
"""
GTEST_ALL_SKIPPED = """[ RUN      ] Sha.Ni
x.cpp:3: Skipped
CPU lacks this implementation

[  SKIPPED ] Sha.Ni (0 ms)
[  PASSED  ] 0 tests.
[  SKIPPED ] 1 test, listed below:
[  SKIPPED ] Sha.Ni
"""


def rec(name, result, stdout="", rc=0):
    return {"name": name, "result": result, "stdout": stdout, "stderr": "", "returncode": rc}


class Classify(unittest.TestCase):
    def test_plain_pass(self):
        self.assertEqual(T.classify("tests", rec("a", "OK", "[  PASSED  ] 3 tests.\n")), (True, [], []))

    def test_documented_gtest_skip_inside_a_passing_test(self):
        ok, fails, skips = T.classify("tests", rec("wiretally:unit / net", "OK", GTEST_ONE_SKIPPED))
        self.assertTrue(ok)
        self.assertEqual(fails, [])
        self.assertEqual(len(skips), 1)
        self.assertTrue(skips[0].startswith("unit / net / CaptureFile.NdpiCorpus: nDPI corpus absent: /x/"), skips)

    def test_undocumented_gtest_skip_fails(self):
        ok, fails, skips = T.classify("tests", rec("sha", "OK", GTEST_ALL_SKIPPED))
        self.assertFalse(ok)
        self.assertEqual(skips, [])
        self.assertEqual(len(fails), 1)
        self.assertIn("Sha.Ni", fails[0])
        self.assertIn("CPU lacks this implementation", fails[0])

    def test_exit_77_not_root_is_a_documented_skip(self):
        out = "PASS: something\nSKIP: not root: the inline test creates network namespaces\n"
        ok, fails, skips = T.classify("tests", rec("wiretally:e2e / inline", "SKIP", out, 77))
        self.assertFalse(ok)
        self.assertEqual(fails, [])
        self.assertEqual(skips, ["e2e / inline: not root: the inline test creates network namespaces"])

    def test_exit_77_for_a_missing_program_fails(self):
        ok, fails, skips = T.classify("tests", rec("e2e", "SKIP", "SKIP: missing required programs: ping\n", 77))
        self.assertFalse(ok)
        self.assertEqual(skips, [])
        self.assertIn("missing required programs: ping", fails[0])

    def test_exit_77_without_a_reason_fails(self):
        ok, fails, _ = T.classify("tests", rec("x", "SKIP", "", 77))
        self.assertFalse(ok)
        self.assertIn("without a SKIP: line", fails[0])

    def test_partial_skip_line_in_a_passing_script(self):
        out = "compared\nSKIP corpus comparison: nDPI corpus absent: /y/pcap\n"
        ok, fails, skips = T.classify("bench", rec("compare_peers_smoke", "OK", out))
        self.assertTrue(ok)
        self.assertEqual(skips, ["bench / compare_peers_smoke / corpus comparison: nDPI corpus absent: /y/pcap"])

    def test_failures(self):
        for result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
            ok, fails, skips = T.classify("tests", rec("wiretally:fuzz / fuzz_x", result, "", 1))
            self.assertFalse(ok)
            self.assertEqual(len(fails), 1)
            self.assertTrue(fails[0].startswith(f"fuzz / fuzz_x: {result}"))


class Main(unittest.TestCase):
    def run_main(self, records_by_run, extra=()):
        with tempfile.TemporaryDirectory() as d:
            specs = []
            for run, records in records_by_run.items():
                path = os.path.join(d, f"{run}.json")
                with open(path, "w") as f:
                    for r in records:
                        f.write(json.dumps(r) + "\n")
                specs.append(f"{run}={path}")
            args = [sys.executable, os.path.join(ROOT, "scripts", "test_results.py"), *extra, *specs]
            return subprocess.run(args, capture_output=True, text=True, timeout=30)

    def test_counts_and_exit_code(self):
        p = self.run_main({"tests": [rec("a", "OK"), rec("net", "OK", GTEST_ONE_SKIPPED),
                                     rec("inline", "SKIP", "SKIP: not root: namespaces\n", 77)],
                           "bench": [rec("b", "OK")]})
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertTrue(p.stdout.rstrip().endswith("3 passed, 0 failed, 2 skipped"), p.stdout)

    def test_a_missing_log_and_an_outside_failure_fail_the_run(self):
        p = self.run_main({"tests": [rec("a", "OK")]}, extra=["--failed", "clean-tree check: x"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("clean-tree check: x", p.stdout)
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "test_results.py"), "fuzz=/nonexistent.json"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no test log", p.stdout)
        self.assertTrue(p.stdout.rstrip().endswith("0 passed, 1 failed, 0 skipped"), p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
