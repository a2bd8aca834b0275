#!/bin/sh
# Records the TLS handshakes used by tests/parsers/tls (run as root from this directory:
# sh record.sh). Everything happens between two network namespaces of our own
# (wttls-cli 10.78.9.1 <-> wttls-srv 10.78.9.2) joined by a veth pair with a small MTU
# (576) so that larger ClientHellos also span several TCP segments.
# Servers: openssl s_server with two RSA certificates selected by SNI.
# Clients: openssl s_client (TLS 1.2 / 1.3, cipher choices, ALPN, record splitting)
# and curl. One pcap per scenario. Then: python3 ../../parsers/tls/gen_vectors.py.
set -eu
CLI=wttls-cli
SRV=wttls-srv
CLI_IP=10.78.9.1
SRV_IP=10.78.9.2
TMP=$(mktemp -d)
OUT=$(pwd)

cleanup() {
    [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null || true
    [ -n "${TPID:-}" ] && kill "$TPID" 2>/dev/null || true
    ip netns del $CLI 2>/dev/null || true
    ip netns del $SRV 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add $CLI
ip netns add $SRV
ip link add wttls-c type veth peer name wttls-s
ip link set wttls-c netns $CLI
ip link set wttls-s netns $SRV
ip -n $CLI addr add $CLI_IP/24 dev wttls-c
ip -n $SRV addr add $SRV_IP/24 dev wttls-s
for ns in $CLI $SRV; do
    ip -n $ns link set lo up
done
ip -n $CLI link set wttls-c mtu 576 up
ip -n $SRV link set wttls-s mtu 576 up
# Fixed offload settings so that tcpdump sees wire-sized segments.
ip netns exec $CLI ethtool -K wttls-c tso off gso off gro off 2>/dev/null || true
ip netns exec $SRV ethtool -K wttls-s tso off gso off gro off 2>/dev/null || true

for n in a b; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n.wttls.test" \
        -keyout "$TMP/$n.key" -out "$TMP/$n.pem" 2>/dev/null
done

start_server() { # extra s_server options
    ip netns exec $SRV openssl s_server -accept 443 -www -quiet \
        -cert "$TMP/a.pem" -key "$TMP/a.key" \
        -servername b.wttls.test -cert2 "$TMP/b.pem" -key2 "$TMP/b.key" \
        -alpn h2,http/1.1 "$@" >"$TMP/server.log" 2>&1 &
    SPID=$!
    sleep 0.5
}
stop_server() { kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=; tail -3 "$TMP/server.log" >&2; }

capture() { # name, then the client command
    name=$1; shift
    ip netns exec $SRV tcpdump -i wttls-s -s 0 -U --immediate-mode -w "$OUT/$name.pcap" 'tcp port 443' 2>/dev/null &
    TPID=$!
    sleep 0.5
    timeout 10 ip netns exec $CLI "$@" </dev/null >"$TMP/$name.log" 2>&1 ||
        { echo "$name: client exit $?" >&2; tail -5 "$TMP/$name.log" >&2; }
    # --immediate-mode and this pause: without them TPACKET_V3 blocks still in the
    # kernel are lost when tcpdump is killed, and short clients (curl) record nothing.
    sleep 1
    kill "$TPID"; wait "$TPID" 2>/dev/null || true; TPID=
}

SC="openssl s_client -connect $SRV_IP:443 -ign_eof"
start_server
capture s_client_tls13_alpn sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -tls1_3 -servername a.wttls.test -alpn h2,http/1.1"
capture s_client_tls12_sni_b sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -tls1_2 -servername b.wttls.test -cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
capture s_client_tls13_chacha sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -tls1_3 -servername a.wttls.test -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
capture s_client_tls12_cbc_nosni sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -tls1_2 -noservername -cipher AES256-SHA"
# Many suites and groups, sent in 512-byte records: one ClientHello over several TLS
# records and several TCP segments.
capture s_client_split_records sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -servername l0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.l1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.l2xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.wttls.test -max_send_frag 512 -cipher ALL:COMPLEMENTOFALL:@SECLEVEL=0 -groups X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192 -alpn h2,http/1.1,spdy/3.1,a-very-long-protocol-name-for-testing"
capture curl_tls12 curl -sk --http1.1 --tlsv1.2 --tls-max 1.2 --resolve a.wttls.test:443:$SRV_IP https://a.wttls.test/
capture curl_tls13 curl -sk --max-time 3 --tlsv1.3 --resolve b.wttls.test:443:$SRV_IP https://b.wttls.test/
stop_server
# HelloRetryRequest: the client's first key share (X448) is not acceptable to the server.
start_server -groups P-256
capture s_client_hrr sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | $SC -tls1_3 -servername a.wttls.test -groups X448:P-256"
stop_server
ls -l "$OUT"/*.pcap
