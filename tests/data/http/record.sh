#!/bin/bash
# Records the HTTP/1.x pcaps used by tests/parsers/http (see tests/parsers/http/gen_vectors.py).
# curl (client) and python3 -m http.server (server) run in two private network namespaces joined
# by a veth pair; nothing leaves the machine. Run as root: outputs land next to this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=wthttp-cli
srv=wthttp-srv
work=$(mktemp -d)

cleanup() {
    [ -f "$work/server.pid" ] && kill "$(cat "$work/server.pid")" 2>/dev/null || true
    [ -f "$work/tcpdump.pid" ] && kill "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
    ip netns del $srv 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add $cli
ip netns add $srv
ip link add wthttp0 type veth peer name wthttp1
ip link set wthttp0 netns $cli
ip link set wthttp1 netns $srv
ip -n $cli addr add 10.78.0.2/24 dev wthttp0
ip -n $srv addr add 10.78.0.1/24 dev wthttp1
ip -n $cli link set wthttp0 up
ip -n $srv link set wthttp1 up
ip -n $cli link set lo up
ip -n $srv link set lo up

mkdir -p "$work/www"
echo "hello from wiretally" > "$work/www/index.html"
(cd "$work/www" && exec ip netns exec $srv python3 -m http.server --bind 10.78.0.1 8080) >/dev/null 2>&1 &
echo $! > "$work/server.pid"
sleep 1.5

record() { # record <pcap name> <curl args...>
    local out="$here/$1"; shift
    ip netns exec $srv tcpdump --immediate-mode -i wthttp1 -U -s 0 -w "$out" tcp port 8080 >/dev/null 2>&1 &
    echo $! > "$work/tcpdump.pid"
    sleep 1
    ip netns exec $cli curl -s -o /dev/null "$@" || true
    sleep 0.5
    kill "$(cat "$work/tcpdump.pid")"; wait "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
    rm -f "$work/tcpdump.pid"
}

url=http://10.78.0.1:8080/index.html
record get_11.pcap "$url"
record get_10_custom_host.pcap -0 -H 'Host: WWW.Example.COM:8080' -A 'wiretally-test/1.0' "$url"
record ipv6_host.pcap -H 'Host: [2001:DB8::1]:8080' "$url?q=1"
record post.pcap -X POST -d 'a=1&b=2' -H 'host:   spaced.example  ' "$url"
record no_host_10.pcap -0 -H 'Host:' "$url"
record late_host.pcap -H 'X-One: 1' -H 'X-Two: 2' -H 'Host: late.example' -H 'User-Agent:' "$url"
record head.pcap -I "$url"
# WebDAV method with a long header block (30 extra header lines before Host).
many=()
for i in $(seq 1 30); do many+=(-H "X-Filler-$i: $(printf 'v%.0s' $(seq 1 40))"); done
record propfind.pcap -X PROPFIND "${many[@]}" -H 'Host: dav.example' "$url"
