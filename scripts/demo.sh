#!/usr/bin/env bash
# Quick start: set up, build, and analyse the bundled sample capture (real
# clients and servers recorded in network namespaces: see tests/e2e/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-only
scripts/build.sh
exec build/app/wiretally analyze tests/data/sample/capture.pcap --marks tests/data/sample/marks.csv "$@"
