#!/bin/sh
# Records vxlan.pcap: real kernel VXLAN (RFC 7348, UDP 4789, VNI 42) between two network
# namespaces of our own (wtnet-a 10.88.0.1 <-> wtnet-b 10.88.0.2 over a veth pair); the
# overlay is 10.89.0.1 <-> 10.89.0.2. Frames: inner ARP request/reply (not IP: decoded as
# the outer UDP datagram), then inner IPv4 UDP "vxlan payload" to 10.89.0.2:5353.
# GRE could not be recorded here (the kernel has no ip_gre module): GRE is hand-built.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
cleanup() { ip netns del wtnet-a 2>/dev/null || true; ip netns del wtnet-b 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add wtnet-a
ip netns add wtnet-b
ip link add wtnet-va netns wtnet-a type veth peer name wtnet-vb netns wtnet-b
ip -n wtnet-a addr add 10.88.0.1/24 dev wtnet-va
ip -n wtnet-b addr add 10.88.0.2/24 dev wtnet-vb
ip -n wtnet-a link set wtnet-va address 02:88:00:00:00:01 up
ip -n wtnet-b link set wtnet-vb address 02:88:00:00:00:02 up
ip -n wtnet-a link add vx0 type vxlan id 42 remote 10.88.0.2 local 10.88.0.1 dstport 4789
ip -n wtnet-b link add vx0 type vxlan id 42 remote 10.88.0.1 local 10.88.0.2 dstport 4789
ip -n wtnet-a link set vx0 address 02:89:00:00:00:01 up
ip -n wtnet-b link set vx0 address 02:89:00:00:00:02 up
ip -n wtnet-a addr add 10.89.0.1/24 dev vx0
ip -n wtnet-b addr add 10.89.0.2/24 dev vx0
ip netns exec wtnet-a tcpdump -U -n -i wtnet-va -w "$OUT/vxlan.pcap" udp port 4789 2>/dev/null &
TCPDUMP=$!
sleep 1
ip netns exec wtnet-a python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.0.1", 40001))
s.sendto(b"vxlan payload", ("10.89.0.2", 5353))
'
sleep 1
kill "$TCPDUMP"
wait "$TCPDUMP" 2>/dev/null || true
ls -l "$OUT/vxlan.pcap"
