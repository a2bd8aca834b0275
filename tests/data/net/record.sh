#!/bin/bash
# Records the small pcaps under tests/data/net/ from real traffic between two
# network namespaces (wtnet-cli <-> wtnet-srv over a veth pair), then derives the
# pcapng files with editcap/mergecap and gen_pcapng.py. Run as root:
#   tests/data/net/record.sh
# Only the two namespaces' own addresses (10.77.0.0/24, fd77::/64) are targets.
set -euo pipefail
cd "$(dirname "$0")"
OUT=$PWD
CLI=wtnet-cli
SRV=wtnet-srv
cleanup() {
    for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
    ip netns del $CLI 2>/dev/null || true
    ip netns del $SRV 2>/dev/null || true
    rm -rf "${WWW:-}"
}
cleanup
WWW=$(mktemp -d)
trap cleanup EXIT
ip netns add $CLI
ip netns add $SRV
ip netns exec $CLI ip link add wtn-c address 02:77:00:00:00:01 type veth peer name wtn-s address 02:77:00:00:00:02 netns $SRV
for ns in $CLI $SRV; do ip netns exec $ns ip link set lo up; done
ip netns exec $CLI ip addr add 10.77.0.1/24 dev wtn-c
ip netns exec $SRV ip addr add 10.77.0.2/24 dev wtn-s
ip netns exec $CLI ip -6 addr add fd77::1/64 dev wtn-c nodad
ip netns exec $SRV ip -6 addr add fd77::2/64 dev wtn-s nodad
ip netns exec $CLI ip link set wtn-c up
ip netns exec $SRV ip link set wtn-s up
sleep 1
echo "hello from wtnet" > "$WWW/index.html"
ip netns exec $SRV python3 -m http.server --bind :: 8080 --directory "$WWW" >/dev/null 2>&1 &
ip netns exec $SRV python3 -c '
import socket, threading
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((addr, 5353))
    while True:
        d, a = s.recvfrom(2048); s.sendto(b"echo:" + d, a)
for f, a in ((socket.AF_INET, "10.77.0.2"), (socket.AF_INET6, "fd77::2")):
    threading.Thread(target=serve, args=(f, a), daemon=True).start()
threading.Event().wait()' &
sleep 1

# capture NAME [tcpdump options...] -- runs the traffic function "traffic_NAME" while tcpdump records.
capture() {
    local name=$1; shift
    ip netns exec $CLI tcpdump -U -n -s 262144 "$@" -w "$OUT/$name.pcap" 'not arp and not (ip6 and ip6[6] == 58 and ip6[40] >= 133 and ip6[40] <= 137)' 2>/dev/null &
    local pid=$!
    sleep 1
    "traffic_$name"
    sleep 1
    kill -INT $pid
    wait $pid || true
}
udp_send() { # family addr message
    ip netns exec $CLI python3 -c '
import socket, sys
s = socket.socket(int(sys.argv[1]), socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(sys.argv[3].encode(), (sys.argv[2], 5353)); print(s.recv(2048))' "$@"
}
traffic_tcp4() { ip netns exec $CLI curl -s http://10.77.0.2:8080/index.html >/dev/null; }
traffic_tcp6_nano() { ip netns exec $CLI curl -s "http://[fd77::2]:8080/index.html" >/dev/null; }
traffic_udp() { udp_send 2 10.77.0.2 "udp over ipv4"; udp_send 10 fd77::2 "udp over ipv6"; }
traffic_frag() {
    ip netns exec $CLI ping -c1 -s 3000 10.77.0.2 >/dev/null
    ip netns exec $CLI ping -6 -c1 -s 3000 fd77::2 >/dev/null
}
traffic_ext6() { # a UDP datagram behind hop-by-hop and destination-options headers (RFC 8200 4.3, 4.6)
    ip netns exec $CLI python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 1, 1, 12] + [0] * 12))
s.sendto(b"ipv6 with extension headers", ("fd77::2", 5353))'
}
traffic_vlan() { ip netns exec $CLI python3 "$OUT/inject.py" wtn-c vlan; }
traffic_qinq() { ip netns exec $CLI python3 "$OUT/inject.py" wtn-c qinq; }
traffic_tunnel() { ip netns exec $CLI python3 "$OUT/inject.py" wtn-c tunnel; }
traffic_sll() { traffic_udp; traffic_tcp4; }
traffic_sll2() { traffic_udp; traffic_tcp4; }

capture tcp4 -i wtn-c
capture tcp6_nano -i wtn-c --time-stamp-precision=nano
capture udp -i wtn-c
capture frag -i wtn-c
capture ext6 -i wtn-c
capture vlan -i wtn-c
capture qinq -i wtn-c
capture tunnel -i wtn-c
capture sll -i any -y LINUX_SLL
capture sll2 -i any -y LINUX_SLL2

# pcapng: editcap conversions (tsresol 6 and 9), a two-interface file with
# different link types (Ethernet + SLL2), and gen_pcapng.py's hand-built blocks.
editcap -F pcapng tcp4.pcap tcp4.pcapng
editcap -F pcapng tcp6_nano.pcap tcp6_nano.pcapng
mergecap -F pcapng -w multi_if.pcapng udp.pcap sll2.pcap
python3 "$OUT/gen_pcapng.py" "$OUT"
ls -l "$OUT"
