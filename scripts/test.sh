#!/usr/bin/env bash
# Sets up, builds and runs every test: unit, pipeline, end to end (network namespaces; root), the nDPI
# conformance corpus, the benchmarks in smoke mode and each libFuzzer target briefly. Ends with
# "N passed, N failed, N skipped" and the reason for each skip; exits 0 only when nothing failed.
#
#   scripts/test.sh                   everything
#   FUZZ_SECONDS=600 scripts/test.sh  longer fuzzing (default 10 s a target)
#
# Before any test: a preflight checks that every program the suites run is on PATH (scripts/packages.txt)
# and names the Debian package of each one missing. A skip counts as a pass nowhere: only two skips are
# accepted, printed as such (not root: the namespace suites; the nDPI corpus absent: a clone without
# ../shared), and any other skip fails the run (scripts/test_results.py). After the tests, the work tree must
# be as it was: nothing the tests write may land in it. Each meson run keeps its own log in build/meson-logs/:
# tests.txt (unit, eal, conformance, e2e), bench.txt, fuzz.txt (with .json and .junit.xml beside each).
set -uo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS=${FUZZ_SECONDS:-10}
LOGS=build/meson-logs
outside=()   # failures found outside meson, for the summary

scripts/setup.sh || { echo "test: scripts/setup.sh failed"; exit 1; }

source scripts/packages.sh
missing=$(missing_programs build test)
if [[ -n $missing ]]; then
  echo "test: preflight: programs the tests run are not on PATH:"
  while read -r prog pkg; do echo "  $prog    (Debian package $pkg)"; done <<<"$missing"
  echo "test: install them (scripts/setup.sh installs scripts/packages.txt) and run again"
  exit 1
fi
echo "test: preflight: every program in scripts/packages.txt is on PATH"

scripts/build.sh || { echo "test: the build failed"; exit 1; }

# Everything git would see in the work tree (tracked or not, ignored files aside) as one tree hash.
worktree_state() {
  local index
  index=$(mktemp) || return 1
  rm -f "$index"
  GIT_INDEX_FILE=$index git read-tree HEAD && GIT_INDEX_FILE=$index git add -A . && GIT_INDEX_FILE=$index git write-tree
  local rc=$?
  rm -f "$index"
  return $rc
}
tree_before=$(worktree_state 2>/dev/null) || outside+=("clean-tree check: not a git work tree, so what the tests write cannot be checked")

rm -f "$LOGS"/{tests,bench,fuzz}.{txt,json,junit.xml}

# Unit, EAL (the binary end to end), conformance and end-to-end suites.
meson test -C build --logbase tests --print-errorlogs --num-processes 2 \
  --suite unit --suite eal --suite conformance --suite e2e --suite box

# Benchmarks in smoke mode: every benchmark runs briefly and must report no error; figures are not judged.
BENCHMARK_MIN_TIME=0.005 meson test -C build --benchmark --logbase bench --print-errorlogs --num-processes 1 --suite bench

# libFuzzer targets (clang, ASan, UBSan): a build of their own, each target FUZZ_SECONDS on its seeds.
if [[ ! -f build-fuzz/build.ninja ]]; then
  CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized >build/fuzz-setup.log 2>&1 || { tail -30 build/fuzz-setup.log; outside+=("fuzz: meson setup failed (build/fuzz-setup.log)"); }
fi
if [[ -f build-fuzz/build.ninja ]]; then
  if ninja -C build-fuzz >build/fuzz-build.log 2>&1; then
    meson test -C build-fuzz --logbase fuzz --print-errorlogs --num-processes 2 --suite fuzz
    cp build-fuzz/meson-logs/fuzz.{txt,json,junit.xml} "$LOGS"/ 2>/dev/null
  else
    tail -30 build/fuzz-build.log
    outside+=("fuzz: the build failed (build/fuzz-build.log)")
  fi
fi

if [[ -n ${tree_before:-} ]]; then
  tree_after=$(worktree_state 2>/dev/null)
  if [[ $tree_after != "$tree_before" ]]; then
    outside+=("clean-tree check: the tests changed the work tree: $(git diff --name-status "$tree_before" "$tree_after" | tr '\t\n' ' ')")
  fi
fi

summary_args=()
for f in "${outside[@]}"; do summary_args+=(--failed "$f"); done
python3 scripts/test_results.py "${summary_args[@]}" tests="$LOGS/tests.json" bench="$LOGS/bench.json" fuzz="$LOGS/fuzz.json"
