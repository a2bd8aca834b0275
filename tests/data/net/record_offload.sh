#!/usr/bin/env bash
# Records tests/data/net/offload.pcap: frames as a packet socket sees them on a veth whose peers have
# their default offloads (checksums left partial, TSO and UDP_SEGMENT super-frames): a TCP SYN, a TCP
# super-frame of a download, a UDP DNS query and a QUIC super-datagram from ngtcp2's gtlsserver.
# Needs root, iproute2, tcpdump, editcap, python3, openssl, dig, dnsmasq, gtlsserver/gtlsclient.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
s=off$$
cleanup() {
  ip netns del "$s-c" 2>/dev/null || true
  ip netns del "$s-s" 2>/dev/null || true
  ip link del "$s-br" 2>/dev/null || true
  pkill -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$s-c"; ip netns add "$s-s"
ip link add "$s-br" type bridge
ip link add "$s-vc" type veth peer name vc0 netns "$s-c"
ip link add "$s-vs" type veth peer name vs0 netns "$s-s"
for l in "$s-vc" "$s-vs"; do ip link set "$l" master "$s-br"; ip link set "$l" up; done
ip link set "$s-br" up
ip -n "$s-c" addr add 10.89.0.2/24 dev vc0; ip -n "$s-c" link set vc0 up; ip -n "$s-c" link set lo up
ip -n "$s-s" addr add 10.89.0.1/24 dev vs0; ip -n "$s-s" link set vs0 up; ip -n "$s-s" link set lo up

head -c 300000 /dev/zero | tr '\0' 'x' > "$work/f.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/k.pem" -out "$work/c.pem" \
  -days 1 -subj /CN=offload.example 2>/dev/null
ip netns exec "$s-s" python3 -m http.server 8080 --bind 10.89.0.1 --directory "$work" >/dev/null 2>&1 &
ip netns exec "$s-s" gtlsserver -q -d "$work" 10.89.0.1 4433 "$work/k.pem" "$work/c.pem" >/dev/null 2>&1 &
ip netns exec "$s-s" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.89.0.1 --bind-interfaces \
  --address=/offload.example/10.89.0.1 --pid-file="$work/dnsmasq.pid" >/dev/null 2>&1 &
sleep 1
tcpdump -i "$s-vs" -s 0 -U -w "$work/all.pcap" 'host 10.89.0.2' 2>/dev/null &
dump=$!
sleep 1
ip netns exec "$s-c" dig +short +time=2 +tries=1 @10.89.0.1 offload.example >/dev/null
ip netns exec "$s-c" curl -s -o /dev/null http://10.89.0.1:8080/f.bin
ip netns exec "$s-c" timeout 8 gtlsclient -q --exit-on-all-streams-close 10.89.0.1 4433 https://offload.example/f.bin \
  >/dev/null 2>&1 || true
sleep 1
kill -INT "$dump"; wait "$dump" || true
# The first frame of each kind: SYN, the largest TCP frame, the DNS query, the largest UDP datagram.
python3 - "$work/all.pcap" "$here/offload.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, off, recs = data[:24], 24, []
while off + 16 <= len(data):
    ts, us, incl, orig = struct.unpack_from("<IIII", data, off)
    recs.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
    off += 16 + incl
def ip(f): return f[14:]
def proto(f): return ip(f)[9]
def dport(f): return struct.unpack_from("!H", ip(f), (ip(f)[0] & 15) * 4 + 2)[0]
syn = next(r for r in recs if proto(r[1]) == 6 and ip(r[1])[(ip(r[1])[0] & 15) * 4 + 13] == 0x02)
tcp = max((r for r in recs if proto(r[1]) == 6), key=lambda r: len(r[1]))
dns = next(r for r in recs if proto(r[1]) == 17 and dport(r[1]) == 53)
udp = max((r for r in recs if proto(r[1]) == 17), key=lambda r: len(r[1]))
with open(sys.argv[2], "wb") as out:
    out.write(hdr)
    for h, f in (syn, tcp, dns, udp):
        out.write(h + f)
print("offload.pcap:", [len(r[1]) for r in (syn, tcp, dns, udp)])
PY
