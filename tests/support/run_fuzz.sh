#!/usr/bin/env bash
# Runs one libFuzzer target briefly, as `meson test --suite fuzz` does for each (tests/meson.build):
#
#   run_fuzz.sh TARGET SEED_DIR WORK_DIR       FUZZ_SECONDS=N (default 10) sets the length
#
# The seeds are copied into WORK_DIR/corpus, so what libFuzzer adds never lands in the source tree; a crash,
# leak or timeout is written to WORK_DIR/artifacts/ and fails the run (libFuzzer's own exit code).
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: run_fuzz.sh TARGET SEED_DIR WORK_DIR" >&2; exit 64; }
target=$1 seeds=$2 work=$3
seconds=${FUZZ_SECONDS:-10}
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || { echo "run_fuzz: FUZZ_SECONDS must be a whole number of seconds" >&2; exit 64; }
# A target without seeds would start from nothing: that is a tree that lost its corpus, not a pass.
if ! compgen -G "$seeds/*" >/dev/null; then
  echo "run_fuzz: no seeds in $seeds" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$seeds"/. "$work/corpus"/
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
