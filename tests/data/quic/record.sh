#!/bin/sh
# Records real QUIC client Initials for the parsers/quic tests.
# ngtcp2's GnuTLS examples (Debian ngtcp2-client/ngtcp2-server 0.12.1: gtlsclient/gtlsserver)
# talk to each other across two private network namespaces; tcpdump in the client namespace
# writes one pcap per QUIC version. Only the namespaces' own addresses are used.
#   v1:       ngtcp2_v1.pcap       (0x00000001, RFC 9000/9001)
#   v2draft:  ngtcp2_v2draft.pcap  (0x709a50c4: ngtcp2 0.12 predates RFC 9369's 0x6b3343cf;
#             the client sends its Initials in v2draft directly)
#   retry:    ngtcp2_retry.pcap    (v1 with a Retry from the server)
# Usage: sh record.sh   (as root, from any directory)
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cli=wtquic-cli
srv=wtquic-srv
cleanup() {
    ip netns pids $srv 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids $cli 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
    rm -rf /etc/netns/$cli
    ip netns del $srv 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add $cli
ip netns add $srv
ip link add wtqc0 netns $cli type veth peer name wtqs0 netns $srv
ip -n $cli addr add 10.77.0.1/24 dev wtqc0
ip -n $srv addr add 10.77.0.2/24 dev wtqs0
ip -n $cli link set lo up
ip -n $srv link set lo up
ip -n $cli link set wtqc0 up
ip -n $srv link set wtqs0 up

# gtlsclient 0.12 ignores --sni and sends "localhost" for a numeric host, so the client's
# namespace gets its own hosts file (ip netns exec bind-mounts /etc/netns/<ns>/hosts).
mkdir -p /etc/netns/$cli
printf '10.77.0.2 v1.quic.wiretally.test v2.quic.wiretally.test retry.quic.wiretally.test\n' >/etc/netns/$cli/hosts

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=quic.wiretally.test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

record() { # name, extra server args (one word or ""), server host name, extra client args...
    name=$1; srvargs=$2; host=$3; shift 3
    ip netns exec $srv gtlsserver -q $srvargs 10.77.0.2 4433 "$work/key.pem" "$work/cert.pem" &
    sleep 1
    ip netns exec $cli tcpdump -i wtqc0 -U -w "$out/$name.pcap" udp port 4433 2>/dev/null &
    sleep 1
    ip netns exec $cli timeout 10 gtlsclient -q --exit-on-all-streams-close --timeout=3s \
        "$@" $host 4433 https://$host/ || true
    sleep 1
    ip netns pids $cli | xargs -r kill
    ip netns pids $srv | xargs -r kill
    sleep 1
}
record ngtcp2_v1 "" v1.quic.wiretally.test
record ngtcp2_v2draft "" v2.quic.wiretally.test --version=v2draft
# Address validation: the server answers the first Initial with a Retry, the client resends
# its ClientHello under the DCID the Retry chose (RFC 9000 section 17.2.5).
record ngtcp2_retry --validate-addr retry.quic.wiretally.test
ls -l "$out"/*.pcap
