#!/usr/bin/env python3
"""The closing summary of scripts/test.sh, from meson's test logs: what passed, failed and was skipped, and why.

    test_results.py [--failed "WHAT: WHY"]... RUN=TESTLOG.json...

Each RUN is one `meson test` run (tests, bench, fuzz) and its testlog.json. A test is

  - passed: meson's OK or EXPECTEDFAIL, and at least one of its GoogleTest cases (if it has any) ran;
  - skipped: exit 77, with the reason from its `SKIP: REASON` line; or, inside a test that passed, each
    GoogleTest case it skipped (GTEST_SKIP, read from the output) and each `SKIP PART: REASON` line;
  - failed: anything else (FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS).

A skip is accepted only with one of the documented reasons (tests/support/wt_skips.py: not root, the nDPI
corpus absent); any other skip is counted as a failure, because a missing program, package, file or kernel
feature is a set-up problem, not a pass. --failed adds a failure found outside meson (set-up, build, the
preflight, the clean-tree check). Ends with `N passed, N failed, N skipped`; exit 0 only when nothing failed.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
import wt_skips  # noqa: E402

PASS_RESULTS = {"OK", "EXPECTEDFAIL"}
GTEST_RUN = re.compile(r"^\[ RUN      \] (\S+)")
GTEST_SKIPPED = re.compile(r"^\[  SKIPPED \] (\S+) \(\d+ ms\)")
GTEST_PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\.")
SKIP_LINE = re.compile(r"^SKIP(?: ([^:]+))?: (.+)$")


def gtest_skips(output):
    """[(case, reason)] for each GoogleTest case the output shows skipped; the reason is the message
    GTEST_SKIP() streamed, printed between the "Skipped" line and the case's SKIPPED line."""
    skips, current, message, collecting = [], None, [], False
    for line in output.splitlines():
        m = GTEST_RUN.match(line)
        if m:
            current, message, collecting = m.group(1), [], False
            continue
        if current and line.rstrip().endswith(": Skipped"):
            collecting = True
            continue
        m = GTEST_SKIPPED.match(line)
        if m and m.group(1) == current:
            skips.append((current, " ".join(x.strip() for x in message if x.strip()) or "no reason given"))
            current, collecting = None, False
            continue
        if collecting:
            message.append(line)
    return skips


def gtest_cases_passed(output):
    m = None
    for line in output.splitlines():
        m = GTEST_PASSED.match(line) or m
    return int(m.group(1)) if m else None


def skip_lines(output):
    """[(part or None, reason)] for each `SKIP: REASON` / `SKIP PART: REASON` line."""
    out = []
    for line in output.splitlines():
        m = SKIP_LINE.match(line.strip())
        if m:
            out.append((m.group(1), m.group(2).strip()))
    return out


def documented(reason):
    return any(reason.startswith(prefix) for prefix in wt_skips.DOCUMENTED)


def classify(run, record):
    """(passed: bool, failures: [text], skips: [text]) for one meson test of run RUN."""
    name = re.sub(r"^[^:/ ]+:", "", record["name"])  # "wiretally:unit / cli" -> "unit / cli"
    if " / " not in name:  # benchmarks carry no suite in their name
        name = f"{run} / {name}"
    output = (record.get("stdout") or "") + "\n" + (record.get("stderr") or "")
    result = record.get("result")
    skips = []
    if result == "SKIP":
        lines = skip_lines(output)
        skips.append((name, lines[-1][1] if lines else "exit 77 without a SKIP: line"))
        passed = False
    elif result in PASS_RESULTS:
        cases = gtest_skips(output)
        skips += [(f"{name} / {case}", why) for case, why in cases]
        skips += [(f"{name} / {part}", why) for part, why in skip_lines(output) if part]
        ran = gtest_cases_passed(output)
        passed = not (cases and ran == 0)
    else:
        rc = record.get("returncode")
        return False, [f"{name}: {result}" + (f" (exit {rc})" if rc not in (None, "") else "")], []
    failures = [f"{what}: skipped for a reason that is not a documented skip: {why}"
                for what, why in skips if not documented(why)]
    accepted = [f"{what}: {why}" for what, why in skips if documented(why)]
    return passed and not failures, failures, accepted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN=TESTLOG.json")
    ap.add_argument("--failed", action="append", default=[], metavar="WHAT: WHY",
                    help="a failure found outside meson (repeatable)")
    args = ap.parse_args()

    passed, failures, skipped = 0, list(args.failed), []
    print("\n== results")
    for spec in args.runs:
        run, _, path = spec.partition("=")
        if not path or not os.path.isfile(path):
            failures.append(f"{run}: no test log at {path or '(none given)'} (the run did not happen)")
            continue
        r_pass = r_fail = r_skip = 0
        with open(path, encoding="utf-8", errors="replace") as f:
            records = [json.loads(line) for line in f if line.strip()]
        for record in records:
            ok, fails, skips = classify(run, record)
            passed += ok
            r_pass += ok
            failures += fails
            r_fail += bool(fails)
            skipped += skips
            r_skip += len(skips)
        base = os.path.splitext(path)[0]
        print(f"{run:<6} {len(records):>3} tests: {r_pass} passed, {r_fail} failed, {r_skip} skipped"
              f"   (log: {base}.txt)")
    if skipped:
        print("skipped (documented: tests/support/wt_skips.py):")
        for s in skipped:
            print(f"  {s}")
    if failures:
        print("failed:")
        for f in failures:
            print(f"  {f}")
    print(f"{passed} passed, {len(failures)} failed, {len(skipped)} skipped")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
