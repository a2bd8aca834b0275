#!/usr/bin/env bash
# Sets up, builds and runs every test: unit, pipeline, end-to-end (network
# namespaces; needs root), the nDPI conformance corpus, benchmarks in smoke
# mode, and each libFuzzer target briefly. Ends with "N passed, N failed".
#
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=60 scripts/test.sh longer fuzzing
#   SKIP_FUZZ=1 / SKIP_E2E=1        leave those parts out (local iteration)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-10}

scripts/setup.sh || exit 1
scripts/build.sh || exit 1

passed=0
failed=0
failures=()
record() { # name rc
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

# Meson suites. meson's own summary counts each test; we fold it into ours.
suites=(--suite unit --suite eal --suite conformance)
if [[ -z "${SKIP_E2E:-}" ]]; then
  if [[ $(id -u) -eq 0 ]]; then suites+=(--suite e2e); else echo "test: not root: skipping the e2e suite"; fi
fi
meson test -C build --print-errorlogs --num-processes 2 "${suites[@]}"
python3 - "$ROOT/build/meson-logs/testlog.json" >"$ROOT/build/meson-counts.txt" <<'PY'
import json, sys
ok = bad = 0
names = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
        ok += 1
    else:
        bad += 1
        names.append(r.get("name", "?"))
print(ok, bad, " ".join(names))
PY
read -r mok mbad mnames <"$ROOT/build/meson-counts.txt"
passed=$((passed + mok)); failed=$((failed + mbad))
[[ -n "${mnames:-}" ]] && failures+=($mnames)

# Benchmarks: smoke mode only (each runs briefly; figures are not judged here).
meson test -C build --benchmark --suite bench --num-processes 1 \
  --test-args=--benchmark_min_time=0.005 >"$ROOT/build/bench-smoke.log" 2>&1
rc=$?; record "benchmarks (smoke)" $rc
[[ $rc -ne 0 ]] && tail -30 "$ROOT/build/bench-smoke.log"

# Traffic generator and the peer comparison (benches/RESULTS.md): smoke mode, a few seconds.
build/benches/generator/wt-gen --flows 1000 --bytes 2M --seed 1 --quiet --out "$ROOT/build/wt-gen-smoke.pcap" \
  >"$ROOT/build/wt-gen-smoke.log" 2>&1
rc=$?; record "wt-gen (smoke)" $rc
[[ $rc -ne 0 ]] && tail -30 "$ROOT/build/wt-gen-smoke.log"
python3 benches/compare-peers/compare_peers.py --wiretally build/app/wiretally --smoke \
  --json-out "$ROOT/build/compare-peers-smoke.json" >"$ROOT/build/compare-peers-smoke.log" 2>&1
rc=$?; record "compare-peers (smoke)" $rc
[[ $rc -ne 0 ]] && tail -30 "$ROOT/build/compare-peers-smoke.log"

# Fuzz targets: built with clang + ASan/UBSan, each run for FUZZ_SECONDS on its seeds.
if [[ -z "${SKIP_FUZZ:-}" ]]; then
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      --buildtype=debugoptimized >/dev/null || { record "fuzz build" 1; }
  fi
  if ninja -C build-fuzz >"$ROOT/build/fuzz-build.log" 2>&1; then
    record "fuzz build" 0
    while IFS= read -r target; do
      name=$(basename "$target")
      corpus_dir=$(find tests/parsers -type d -path "*/corpus/${name#fuzz_}" -print -quit)
      [[ -z "$corpus_dir" ]] && corpus_dir=$(find tests/parsers -type d -path "*/corpus/$name" -print -quit)
      work=$(mktemp -d)
      [[ -n "$corpus_dir" ]] && cp -r "$corpus_dir"/. "$work"/ 2>/dev/null
      if "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
          "$work" >"$ROOT/build/$name.log" 2>&1; then
        record "$name" 0
      else
        record "$name" 1; tail -40 "$ROOT/build/$name.log"
      fi
      rm -rf "$work"
    done < <(find build-fuzz -type f -name 'fuzz_*' -perm -u+x | sort)
  else
    record "fuzz build" 1; tail -30 "$ROOT/build/fuzz-build.log"
  fi
fi

if ((failed > 0)); then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
