#!/bin/bash
# Records the DNS pcaps used by tests/parsers/dns (see tests/parsers/dns/gen_vectors.py).
# dig (client) and dnsmasq (server) run in two private network namespaces joined by a veth
# pair; nothing leaves the machine. Run as root from anywhere: outputs land next to this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=wtdns-cli
srv=wtdns-srv
work=$(mktemp -d)
chmod 755 "$work"  # dnsmasq drops root privileges before reading the hosts file

cleanup() {
    [ -f "$work/dnsmasq.pid" ] && kill "$(cat "$work/dnsmasq.pid")" 2>/dev/null || true
    [ -f "$work/tcpdump.pid" ] && kill "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
    ip netns del $srv 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add $cli
ip netns add $srv
ip link add wtdns0 type veth peer name wtdns1
ip link set wtdns0 netns $cli
ip link set wtdns1 netns $srv
ip -n $cli addr add 10.77.0.2/24 dev wtdns0
ip -n $srv addr add 10.77.0.1/24 dev wtdns1
ip -n $cli link set wtdns0 up
ip -n $srv link set wtdns1 up
ip -n $cli link set lo up
ip -n $srv link set lo up

# many.example: 40 A records (> kMaxDnsAnswers, still fits a 1232-byte EDNS UDP reply);
# big.example: 400 A records, only reachable over TCP (about 6.4 KB, several segments).
{
    for i in $(seq 1 40); do echo "10.78.0.$i many.example"; done
    for i in $(seq 1 400); do echo "10.79.$((i / 250)).$((i % 250 + 1)) big.example"; done
} > "$work/hosts"

# HTTPS RR (RFC 9460 section 2.2) for svc.example: SvcPriority 1, TargetName "." (root),
# alpn=h2,h3 (key 1), ipv4hint=10.77.0.1 (key 4), ech=<ECHConfigList> (key 5, draft-ietf-tls-esni
# section 4: version 0xfe0d, X25519 HPKE key, HKDF-SHA256 + AES-128-GCM, public_name public.example).
https_hex=$(python3 - <<'PY'
import struct
def u16(v): return struct.pack('>H', v)
pub = bytes(range(0x20, 0x40))                                    # 32-byte X25519 public key
key_config = bytes([0x2a]) + u16(0x0020) + u16(len(pub)) + pub + u16(4) + u16(0x0001) + u16(0x0001)
name = b'public.example'
contents = key_config + bytes([0]) + bytes([len(name)]) + name + u16(0)
ech_config = u16(0xfe0d) + u16(len(contents)) + contents
ech_list = u16(len(ech_config)) + ech_config
alpn = b'\x02h2\x02h3'
rdata = u16(1) + b'\x00'
rdata += u16(1) + u16(len(alpn)) + alpn
rdata += u16(4) + u16(4) + bytes([10, 77, 0, 1])
rdata += u16(5) + u16(len(ech_list)) + ech_list
print(rdata.hex())
PY
)
# An AliasMode HTTPS record (SvcPriority 0) pointing at svc.example, no parameters.
alias_hex=$(python3 -c "import sys; sys.stdout.write('0000' + '03737663076578616d706c6500')")

ip netns exec $srv dnsmasq --keep-in-foreground --pid-file="$work/dnsmasq.pid" --no-resolv --no-hosts --addn-hosts="$work/hosts" \
    --listen-address=10.77.0.1 --bind-interfaces --local=/example/ \
    --host-record=www.example,10.77.1.1,2001:db8::1 \
    --host-record=c4.example,10.77.1.4 \
    --cname=c1.example,c2.example --cname=c2.example,c3.example --cname=c3.example,c4.example \
    --dns-rr=svc.example,65,"$https_hex" \
    --dns-rr=alias.example,65,"$alias_hex" \
    --local-ttl=300 --log-queries --log-facility=- >"$work/dnsmasq.log" 2>&1 &
sleep 1

record() { # record <pcap name> <dig args...>
    local out="$here/$1"; shift
    ip netns exec $srv tcpdump --immediate-mode -i wtdns1 -U -s 0 -w "$out" port 53 >/dev/null 2>&1 &
    echo $! > "$work/tcpdump.pid"
    sleep 1
    ip netns exec $cli dig @10.77.0.1 "$@" > "$out.dig.txt" || true
    sleep 0.5
    kill "$(cat "$work/tcpdump.pid")"; wait "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
    rm -f "$work/tcpdump.pid"
}

record a.pcap www.example A
record aaaa.pcap www.example AAAA
record cname_chain.pcap c1.example A
record nxdomain.pcap nosuch.example A
record https_ech.pcap svc.example TYPE65
record https_alias.pcap alias.example TYPE65
record many_answers.pcap many.example A
record tcp_big.pcap +tcp big.example A
record mixed_case.pcap WwW.ExAmPlE A
