#!/usr/bin/env bash
# Records a tap or mirror port in rotating capture files and analyses each file
# with wiretally as soon as it is closed: a JSON report and a flows JSONL file
# land beside every capture. This is how a spare box on a mirror port is used
# until the live appliance (DPDK ports, control socket) ships.
#
#   deploy/tap-analyze.sh -i IFACE -o DIR [-G SECONDS] [-s SERVICES.toml] [-m MARKS.csv]
#
# Needs tcpdump and root (or CAP_NET_RAW) for the capture. Stop it with Ctrl-C:
# the last, partial file is analysed too.
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 64
}

iface="" outdir="" rotate=300 services="" marks=""
while getopts "i:o:G:s:m:h" opt; do
  case $opt in
    i) iface=$OPTARG ;;
    o) outdir=$OPTARG ;;
    G) rotate=$OPTARG ;;
    s) services=$OPTARG ;;
    m) marks=$OPTARG ;;
    *) usage ;;
  esac
done
[[ -n "$iface" && -n "$outdir" ]] || usage
[[ "$rotate" =~ ^[0-9]+$ && "$rotate" -ge 1 ]] || { echo "tap-analyze: -G takes whole seconds" >&2; exit 64; }
command -v tcpdump >/dev/null || { echo "tap-analyze: tcpdump is not installed (apt-get install tcpdump)" >&2; exit 69; }
ip link show "$iface" >/dev/null 2>&1 || { echo "tap-analyze: no interface '$iface'" >&2; exit 66; }

here=$(cd "$(dirname "$0")/.." && pwd)
wiretally=${WIRETALLY:-$here/build/app/wiretally}
[[ -x "$wiretally" ]] || { echo "tap-analyze: $wiretally not built (run scripts/build.sh)" >&2; exit 69; }
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

analyze_one() {
  local f=$1 base=${1%.pcap}
  local args=(analyze "$f" --format json --flows "$base.flows.jsonl")
  [[ -n "$services" ]] && args+=(--services "$services")
  [[ -n "$marks" ]] && args+=(--marks "$marks")
  if "$wiretally" "${args[@]}" >"$base.report.json" 2>"$base.err"; then
    rm -f "$base.err"
  fi
}

# Every file but the newest is closed: analyse those that have no report yet.
analyze_closed() {
  local files=() f
  mapfile -t files < <(ls -1 "$outdir"/wt-*.pcap 2>/dev/null | sort)
  local n=${#files[@]}
  for ((i = 0; i < n - ${1:-1}; i++)); do
    f=${files[i]}
    [[ -e "${f%.pcap}.report.json" ]] || analyze_one "$f"
  done
}

# tcpdump drops root after opening the interface (Debian: to user tcpdump); that user
# must be able to create the next files.
drop=()
if [[ $(id -u) -eq 0 ]] && id tcpdump >/dev/null 2>&1; then
  chown tcpdump: "$outdir"
  drop=(-Z tcpdump)
fi
echo "tap-analyze: recording $iface into $outdir, a new file every ${rotate}s"
tcpdump -i "$iface" -s 0 -n -U -G "$rotate" "${drop[@]}" -w "$outdir/wt-%Y%m%d-%H%M%S.pcap" &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' INT TERM
while kill -0 "$pid" 2>/dev/null; do
  sleep 2
  analyze_closed 1
done
wait "$pid" 2>/dev/null || true
analyze_closed 0
echo "tap-analyze: reports in $outdir"
