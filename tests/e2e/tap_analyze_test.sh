#!/usr/bin/env bash
# deploy/tap-analyze.sh on a real interface: two namespaces joined by a veth, pings
# and DNS-looking datagrams across it, rotation every 2 s; every closed file must
# get a JSON report whose packet count matches the capture, and Ctrl-C must leave
# the last file analysed too. Needs root.
set -euo pipefail
WIRETALLY=$1
# The documented skip (tests/support/wt_skips.py): namespaces need root.
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: not root: the tap test creates network namespaces and runs tcpdump"
  exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
sfx="wttap$$"
out=$(mktemp -d)
cleanup() {
  ip netns del "$sfx-a" 2>/dev/null || true
  ip netns del "$sfx-b" 2>/dev/null || true
  rm -rf "$out" "$out.log"
}
trap cleanup EXIT
ip netns add "$sfx-a"
ip netns add "$sfx-b"
ip link add "${sfx}a" type veth peer name "${sfx}b"
ip link set "${sfx}a" netns "$sfx-a"
ip link set "${sfx}b" netns "$sfx-b"
ip -n "$sfx-a" addr add 10.98.0.1/24 dev "${sfx}a"
ip -n "$sfx-b" addr add 10.98.0.2/24 dev "${sfx}b"
ip -n "$sfx-a" link set "${sfx}a" up
ip -n "$sfx-b" link set "${sfx}b" up

WIRETALLY=$WIRETALLY ip netns exec "$sfx-a" "$ROOT/deploy/tap-analyze.sh" -i "${sfx}a" -o "$out" -G 2 >"$out.log" 2>&1 &
runner=$!
sleep 1
ip netns exec "$sfx-b" ping -c 12 -i 0.5 10.98.0.1 >/dev/null
sleep 1
pkill -INT -f "tcpdump -i ${sfx}a" || true
wait "$runner"
python3 - "$out" <<'PY'
import glob, json, subprocess, sys
out = sys.argv[1]
pcaps = sorted(glob.glob(out + "/wt-*.pcap"))
assert len(pcaps) >= 3, f"expected several rotated files, got {pcaps}"
total = 0
for p in pcaps:
    rep = json.load(open(p[:-5] + ".report.json"))
    n = int(subprocess.run(["tshark", "-r", p, "-T", "fields", "-e", "frame.number"], capture_output=True,
                           text=True).stdout.split().__len__())
    assert rep["input"]["records"] == n, (p, rep["input"]["records"], n)
    total += n
    with open(p[:-5] + ".flows.jsonl") as f:
        flows = [json.loads(l) for l in f]
    assert len(flows) == rep["total"]["connections"], p
print(f"tap-analyze: {len(pcaps)} files, {total} packets, every file reported")
assert total >= 24, total  # 12 echo requests and 12 replies at least
PY
echo "1 passed, 0 failed"
