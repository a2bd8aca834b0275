#!/usr/bin/env bash
# make_capture.sh - record a capture of REAL clients and servers that looks like a phone app session.
#
#   tests/e2e/make_capture.sh OUT_DIR [--action-interval SECONDS] [--actions "App launch,Climate,Location"]
#                                     [--suffix S] [--tail SECONDS] [--keep-work]
#
# Builds three network namespaces (wte2e-<suffix>-phone, -cloud, -resolver), starts real servers in them
# (dnsmasq, unbound DoT, openssl s_server, python3 http.server, ngtcp2 gtlsserver), captures the phone's
# interface with tcpdump (Ethernet, full snaplen) while real clients (dig, kdig, curl, openssl s_client,
# gtlsclient) perform one burst of traffic per on-screen action, every --action-interval seconds.
#
# Writes OUT_DIR/capture.pcap, OUT_DIR/marks.csv (timestamp,label) and OUT_DIR/manifest.json (the ground
# truth: one entry per connection, completed and checked against the capture by manifest.py with tshark).
# Only the namespaces' own addresses (10.77.0.0/16, fd77::/16) are ever targets. See tests/e2e/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR

usage() {
    sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- arguments
[[ $# -ge 1 ]] || usage
OUT_ARG=$1
shift
INTERVAL=30
ACTIONS_ARG="App launch,Climate,Location"
SUFFIX=$$
TAIL_MIN=1
KEEP_WORK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --action-interval) INTERVAL=${2:?}; shift 2 ;;
        --actions) ACTIONS_ARG=${2:?}; shift 2 ;;
        --suffix) SUFFIX=${2:?}; shift 2 ;;
        --tail) TAIL_MIN=${2:?}; shift 2 ;;
        --keep-work) KEEP_WORK=1; shift ;;
        -h | --help) usage ;;
        *) echo "make_capture: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ $INTERVAL =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "make_capture: bad --action-interval '$INTERVAL'" >&2; exit 2; }
[[ $TAIL_MIN =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "make_capture: bad --tail '$TAIL_MIN'" >&2; exit 2; }
[[ $SUFFIX =~ ^[A-Za-z0-9]{1,12}$ ]] || { echo "make_capture: --suffix must be 1-12 alphanumerics" >&2; exit 2; }
IFS=',' read -r -a ACTIONS <<<"$ACTIONS_ARG"
[[ ${#ACTIONS[@]} -ge 1 ]] || { echo "make_capture: --actions is empty" >&2; exit 2; }

[[ $(id -u) -eq 0 ]] || { echo "make_capture: must run as root (network namespaces, tcpdump)" >&2; exit 2; }
# Every tool is required (scripts/packages.txt names their packages; scripts/setup.sh installs them): a
# recording without DNS over TLS or QUIC would not be the session the tests and the sample describe.
for tool in ip tcpdump tshark dnsmasq openssl curl dig kdig unbound gtlsserver gtlsclient ethtool python3 timeout awk ss; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || {
        echo "make_capture: missing required tool '$tool' (scripts/setup.sh installs it)" >&2; exit 2; }
done
PY=$(command -v python3)
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

mkdir -p "$OUT_ARG"
OUT_DIR=$(cd "$OUT_ARG" && pwd)

# ---------------------------------------------------------------- names and addresses
readonly PFX="wte2e-${SUFFIX}"
readonly NS_PHONE="${PFX}-phone" NS_CLOUD="${PFX}-cloud" NS_RES="${PFX}-resolver"
for ns in "$NS_PHONE" "$NS_CLOUD" "$NS_RES"; do
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
        echo "make_capture: namespace $ns already exists (another run with suffix $SUFFIX?)" >&2
        exit 2
    fi
done

readonly PHONE4=10.77.0.2 PHONE6=fd77::2 GW4=10.77.0.1 GW6=fd77::1
readonly RES_GW4=10.77.53.1 RES_GW6=fd77:53::1
readonly DNS4=10.77.53.53 DNS6=fd77:53::53 DOT4=10.77.53.85
# Server addresses live on the cloud namespace's loopback; the cloud namespace routes between phone and resolver.
readonly IP_CLOUDFRONT=10.77.1.11 IP6_CLOUDFRONT=fd77:1::11
readonly IP_AKAMAI=10.77.1.12 IP6_AKAMAI=fd77:1::12
readonly IP_GOOGLEAPIS=10.77.1.20 IP6_GOOGLEAPIS=fd77:1::20
readonly IP_GSTATIC=10.77.1.21 IP6_GSTATIC=fd77:1::21
readonly IP_CRASHLYTICS=10.77.1.30
readonly IP_MEASUREMENT=10.77.1.31
readonly IP_APNS=10.77.1.40
readonly IP_FACEBOOK=10.77.1.50 IP6_FACEBOOK=fd77:1::50
readonly IP_NOSNI=10.77.1.60
readonly IP_HTTP=10.77.1.80
readonly IP_EVENTS=10.77.1.70 EVENTS_NAME=events.weather-app.example
readonly DOT_NAME=dns.google

WORK=$(mktemp -d /tmp/wte2e-work.XXXXXX)
REC="$WORK/records.tsv"
: >"$REC"
PIDS=()
TCPDUMP_PID=""
NETNS_ETC="/etc/netns/$NS_PHONE"
CREATED_ETC_NETNS=0

log() { printf '[make_capture %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
NAP_PID=""
nap() { # an interruptible sleep: a trapped INT/TERM ends `wait` at once
    sleep "$1" &
    NAP_PID=$!
    wait "$NAP_PID"
    NAP_PID=""
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------- cleanup on every exit path
stop_pid() { # pid signal seconds: signal, wait up to seconds, then SIGKILL
    local pid=$1 sig=$2 secs=$3 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [[ -n $NAP_PID ]] && kill "$NAP_PID" 2>/dev/null
    [[ -n $TCPDUMP_PID ]] && stop_pid "$TCPDUMP_PID" INT 5
    local pid ns
    for pid in "${PIDS[@]}"; do stop_pid "$pid" TERM 3; done
    for ns in "$NS_PHONE" "$NS_CLOUD" "$NS_RES"; do
        if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
            # Stragglers started inside our own namespaces only (e.g. a client whose timeout fired).
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        fi
    done
    rm -rf "$NETNS_ETC"
    [[ $CREATED_ETC_NETNS -eq 1 ]] && rmdir /etc/netns 2>/dev/null
    if [[ $KEEP_WORK -eq 1 || $rc -ne 0 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- topology
setup_topology() {
    log "namespaces $NS_PHONE, $NS_CLOUD, $NS_RES"
    ip netns add "$NS_PHONE"
    ip netns add "$NS_CLOUD"
    ip netns add "$NS_RES"
    local ns
    for ns in "$NS_PHONE" "$NS_CLOUD" "$NS_RES"; do ip -n "$ns" link set lo up; done

    # phone ph0 <-> cloud clph ; cloud clrs <-> resolver rs0. Fixed MACs keep the capture stable across runs.
    ip -n "$NS_PHONE" link add ph0 address 02:77:00:00:00:02 type veth peer name clph address 02:77:00:00:00:01 netns "$NS_CLOUD"
    ip -n "$NS_CLOUD" link add clrs address 02:77:00:00:53:01 type veth peer name rs0 address 02:77:00:00:53:53 netns "$NS_RES"

    ip -n "$NS_PHONE" addr add "$PHONE4/24" dev ph0
    ip -n "$NS_PHONE" addr add "$PHONE6/64" dev ph0 nodad
    ip -n "$NS_CLOUD" addr add "$GW4/24" dev clph
    ip -n "$NS_CLOUD" addr add "$GW6/64" dev clph nodad
    ip -n "$NS_CLOUD" addr add "$RES_GW4/24" dev clrs
    ip -n "$NS_CLOUD" addr add "$RES_GW6/64" dev clrs nodad
    ip -n "$NS_RES" addr add "$DNS4/24" dev rs0
    ip -n "$NS_RES" addr add "$DOT4/24" dev rs0
    ip -n "$NS_RES" addr add "$DNS6/64" dev rs0 nodad
    local a
    for a in $IP_CLOUDFRONT $IP_AKAMAI $IP_GOOGLEAPIS $IP_GSTATIC $IP_CRASHLYTICS $IP_MEASUREMENT $IP_APNS \
        $IP_FACEBOOK $IP_NOSNI $IP_HTTP $IP_EVENTS; do
        ip -n "$NS_CLOUD" addr add "$a/32" dev lo
    done
    for a in $IP6_CLOUDFRONT $IP6_AKAMAI $IP6_GOOGLEAPIS $IP6_GSTATIC $IP6_FACEBOOK; do
        ip -n "$NS_CLOUD" addr add "$a/128" dev lo
    done
    in_ns "$NS_CLOUD" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

    local dev
    for dev in "$NS_PHONE:ph0" "$NS_CLOUD:clph" "$NS_CLOUD:clrs" "$NS_RES:rs0"; do
        # No checksum/segmentation offload: the tap must see wire-sized frames with valid checksums.
        in_ns "${dev%%:*}" ethtool -K "${dev#*:}" tx off tso off gso off gro off >/dev/null 2>&1 || true
        ip -n "${dev%%:*}" link set "${dev#*:}" up
    done
    ip -n "$NS_PHONE" route add default via "$GW4"
    ip -n "$NS_PHONE" -6 route add default via "$GW6"
    ip -n "$NS_RES" route add default via "$RES_GW4"
    ip -n "$NS_RES" -6 route add default via "$RES_GW6"

    # The QUIC client (gtlsclient) only sends an SNI when given a host name, so the phone's /etc/hosts (bind-mounted
    # by `ip netns exec`) maps the QUIC names to the addresses our own resolver hands out; resolv.conf points at
    # our dnsmasq so nothing can ever resolve outside.
    [[ -d /etc/netns ]] || CREATED_ETC_NETNS=1
    mkdir -p "$NETNS_ETC"
    printf '127.0.0.1 localhost\n%s maps.googleapis.com\n%s www.gstatic.com\n' "$IP_GOOGLEAPIS" "$IP_GSTATIC" \
        >"$NETNS_ETC/hosts"
    printf 'nameserver %s\n' "$DNS4" >"$NETNS_ETC/resolv.conf"

    # Reachability (and warm neighbour caches) before the capture starts; IPv6 link-local DAD takes about 1 s.
    local target
    for target in "$DNS4" "$DOT4" "$IP_HTTP" "$DNS6" "$IP6_FACEBOOK"; do
        in_ns "$NS_PHONE" ping -c1 -w8 -i0.5 "$target" >/dev/null || { log "phone cannot reach $target"; return 1; }
    done
}

# ---------------------------------------------------------------- certificates and content
make_cert() { # id rsa|ec "DNS:a,DNS:b,IP:x" -> $WORK/pki/id.{key,pem}, signed by the private CA (one openssl run)
    local id=$1 kind=$2 san=$3 d="$WORK/pki" key
    if [[ $kind == rsa ]]; then
        cp "$d/rsa.key" "$d/$id.key" # RSA key generation is slow: the RSA servers share one key
        key=(-key "$d/$id.key")
    else
        key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$id.key")
    fi
    openssl req -x509 -config "$d/req.cnf" -CA "$d/ca.pem" -CAkey "$d/ca.key" "${key[@]}" -out "$d/$id.pem" \
        -days 30 -subj "/CN=${san#*:}" -addext "subjectAltName=$san" -addext basicConstraints=CA:FALSE \
        -addext keyUsage=digitalSignature,keyEncipherment -addext extendedKeyUsage=serverAuth 2>"$d/$id.err"
}

make_pki_and_content() {
    log "private CA, server certificates and content"
    local d="$WORK/pki"
    mkdir -p "$d"
    printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$d/req.cnf" # no defaults from the system openssl.cnf
    openssl req -x509 -config "$d/req.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
        -out "$d/ca.pem" -days 30 -subj "/O=wiretally e2e/CN=wte2e private CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>"$d/ca.err"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.key" 2>"$d/rsa.err"
    local pids=() pid
    make_cert cloudfront ec "DNS:api.weather-app.example,DNS:*.cloudfront.net" &
    pids+=($!)
    make_cert akamai rsa "DNS:tiles.maps.example,DNS:*.akamaiedge.net,DNS:*.edgekey.net" &
    pids+=($!)
    make_cert googleapis ec "DNS:maps.googleapis.com,DNS:*.googleapis.com" &
    pids+=($!)
    make_cert gstatic ec "DNS:www.gstatic.com,DNS:*.gstatic.com" &
    pids+=($!)
    make_cert crashlytics rsa "DNS:firebase-settings.crashlytics.com,DNS:*.crashlytics.com" &
    pids+=($!)
    make_cert measurement ec "DNS:app-measurement.com,DNS:*.app-measurement.com" &
    pids+=($!)
    make_cert apns rsa "DNS:courier.push.apple.com,DNS:*.push.apple.com" &
    pids+=($!)
    make_cert facebook ec "DNS:graph.facebook.com,DNS:*.facebook.com" &
    pids+=($!)
    make_cert nosni rsa "IP:$IP_NOSNI" &
    pids+=($!)
    make_cert dot ec "DNS:$DOT_NAME,IP:$DOT4" &
    pids+=($!)
    make_cert events ec "DNS:$EVENTS_NAME" &
    pids+=($!)
    for pid in "${pids[@]}"; do
        wait "$pid" || { log "certificate generation failed"; cat "$d"/*.err >&2; return 1; }
    done

    # Content: random bytes so that TLS/QUIC byte counts equal what was asked for (no compression).
    mkdir -p "$WORK/www-tiles" "$WORK/www-quic-maps/maps/vt" "$WORK/www-quic-gstatic/js" "$WORK/www-http/radar" "$WORK/dl"
    head -c 307200 /dev/urandom >"$WORK/www-tiles/tile-12-2132-1358.pbf"
    head -c 153600 /dev/urandom >"$WORK/www-quic-maps/maps/vt/tile.png"
    head -c 61440 /dev/urandom >"$WORK/www-quic-gstatic/js/app.js"
    head -c 92160 /dev/urandom | base64 -w 76 >"$WORK/www-http/radar/latest.json"
    truncate -s 122880 "$WORK/www-http/radar/latest.json"
}

# ---------------------------------------------------------------- servers
start_bg() { # workdir logname cmd... : start in background, remember the pid
    local dir=$1 name=$2
    shift 2
    (cd "$dir" && exec "$@") >"$WORK/$name.log" 2>&1 </dev/null &
    PIDS+=("$!")
}

LISTEN_WAIT=()
expect_listen() { # ns tcp|udp addr port : checked later by wait_all_listen
    LISTEN_WAIT+=("$1 $2 $3 $4")
}

wait_all_listen() { # every expected server must be listening within 10 s
    local item ns proto addr port pat missing deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
        missing=()
        declare -A seen=()
        for item in "${LISTEN_WAIT[@]}"; do
            read -r ns proto addr port <<<"$item"
            [[ -n ${seen[$ns]+x} ]] || seen[$ns]=$(in_ns "$ns" ss -Hltun | awk '{print $1, $5}')
            [[ $addr == *:* ]] && pat="[$addr]:$port" || pat="$addr:$port"
            [[ $proto == tcp ]] && pat="tcp $pat" || pat="udp $pat"
            grep -qxF -- "$pat" <<<"${seen[$ns]}" || missing+=("$pat in $ns")
        done
        unset seen
        [[ ${#missing[@]} -eq 0 ]] && return 0
        sleep 0.1
    done
    log "servers not listening: ${missing[*]}; their logs:"
    tail -n 5 "$WORK"/*.log >&2 || true
    return 1
}

s_server() { # name addr port dir [extra args...]
    local name=$1 addr=$2 port=$3 dir=$4
    shift 4
    local acc="$addr:$port"
    [[ $addr == *:* ]] && acc="[$addr]:$port"
    start_bg "$dir" "s_server-$name-$port" ip netns exec "$NS_CLOUD" openssl s_server -quiet -accept "$acc" \
        -cert "$WORK/pki/$name.pem" -key "$WORK/pki/$name.key" "$@"
    expect_listen "$NS_CLOUD" tcp "$addr" "$port"
}

start_servers() {
    log "starting servers"
    local p="$WORK/pki"
    # ---- DNS: dnsmasq, authoritative-style answers only, with CNAME chains of length 2 and 3, AAAA, NXDOMAIN.
    start_bg "$WORK" dnsmasq ip netns exec "$NS_RES" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv \
        --no-hosts --user=root --bind-interfaces --listen-address="$DNS4" --listen-address="$DNS6" \
        --except-interface=lo --pid-file="$WORK/dnsmasq.pid" --local-ttl=300 --log-queries --log-facility=- \
        --host-record="d1234abcd.cloudfront.net,$IP_CLOUDFRONT,$IP6_CLOUDFRONT" \
        --cname=api.weather-app.example,d1234abcd.cloudfront.net \
        --host-record="e1234.a.akamaiedge.net,$IP_AKAMAI,$IP6_AKAMAI" \
        --cname=tiles.maps.example.edgekey.net,e1234.a.akamaiedge.net \
        --cname=tiles.maps.example,tiles.maps.example.edgekey.net \
        --host-record="maps.googleapis.com,$IP_GOOGLEAPIS,$IP6_GOOGLEAPIS" \
        --host-record="www.gstatic.com,$IP_GSTATIC,$IP6_GSTATIC" \
        --host-record="connectivitycheck.gstatic.com,radar.weather-app.example,$IP_HTTP" \
        --host-record="firebase-settings.crashlytics.com,$IP_CRASHLYTICS" \
        --host-record="app-measurement.com,$IP_MEASUREMENT" \
        --host-record="courier-push-apple.com.akadns.net,$IP_APNS" \
        --cname=courier.push.apple.com,courier-push-apple.com.akadns.net \
        --host-record="star.c10r.facebook.com,$IP_FACEBOOK,$IP6_FACEBOOK" \
        --cname=graph.facebook.com,star.c10r.facebook.com \
        --host-record="$DOT_NAME,$DOT4" \
        --host-record="$EVENTS_NAME,$IP_EVENTS" \
        --local=/weather-app.example/
    expect_listen "$NS_RES" udp "$DNS4" 53
    expect_listen "$NS_RES" udp "$DNS6" 53

    # ---- DNS over TLS: unbound on DOT4@853, answering from local-data only (local-zone "." static: no recursion).
    cat >"$WORK/unbound.conf" <<EOF
server:
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-daemonize: no
  num-threads: 1
  interface: $DOT4@853
  tls-port: 853
  tls-service-key: "$p/dot.key"
  tls-service-pem: "$p/dot.pem"
  do-ip6: no
  access-control: 10.77.0.0/16 allow
  module-config: "iterator"
  local-zone: "." static
  local-data: "www.gstatic.com. 300 IN A $IP_GSTATIC"
  local-data: "api.weather-app.example. 300 IN CNAME d1234abcd.cloudfront.net."
  local-data: "d1234abcd.cloudfront.net. 300 IN A $IP_CLOUDFRONT"
  local-data: "maps.googleapis.com. 300 IN A $IP_GOOGLEAPIS"
  local-data: "maps.googleapis.com. 300 IN AAAA $IP6_GOOGLEAPIS"
remote-control:
  control-enable: no
EOF
    start_bg "$WORK" unbound ip netns exec "$NS_RES" unbound -d -c "$WORK/unbound.conf"
    expect_listen "$NS_RES" tcp "$DOT4" 853

    # ---- TLS over TCP: one openssl s_server per address:port (each serves connections one after the other).
    s_server cloudfront "$IP_CLOUDFRONT" 443 "$WORK" -www
    s_server akamai "$IP_AKAMAI" 443 "$WORK/www-tiles" -WWW -http_server_binmode
    s_server googleapis "$IP_GOOGLEAPIS" 443 "$WORK" -www
    s_server crashlytics "$IP_CRASHLYTICS" 443 "$WORK" -www
    s_server measurement "$IP_MEASUREMENT" 443 "$WORK" -www -alpn http/1.1
    s_server apns "$IP_APNS" 5223 "$WORK" -www
    s_server facebook "$IP6_FACEBOOK" 443 "$WORK" -www
    s_server nosni "$IP_NOSNI" 443 "$WORK" -www

    # ---- cleartext HTTP (Host header names), with an Android-style /generate_204.
    cat >"$WORK/http_server.py" <<'EOF'
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/generate_204":
            self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers(); return
        super().do_GET()
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("Host"), fmt % args))
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
EOF
    start_bg "$WORK/www-http" http ip netns exec "$NS_CLOUD" "$PY" "$WORK/http_server.py" "$IP_HTTP" 80
    expect_listen "$NS_CLOUD" tcp "$IP_HTTP" 80

    # ---- the app's kept-open API connection: HTTP/1.1 keep-alive over TLS 1.3 (python3 http.server + ssl).
    start_bg "$WORK" events ip netns exec "$NS_CLOUD" "$PY" "$SCRIPT_DIR/keepalive_https.py" serve "$IP_EVENTS" 443 \
        "$p/events.pem" "$p/events.key"
    expect_listen "$NS_CLOUD" tcp "$IP_EVENTS" 443

    # ---- QUIC v1 + HTTP/3: ngtcp2's example server (GnuTLS build), one per address.
    start_bg "$WORK" quic-googleapis ip netns exec "$NS_CLOUD" gtlsserver -q --timeout=5s \
        -d "$WORK/www-quic-maps" "$IP_GOOGLEAPIS" 443 "$p/googleapis.key" "$p/googleapis.pem"
    expect_listen "$NS_CLOUD" udp "$IP_GOOGLEAPIS" 443
    start_bg "$WORK" quic-gstatic ip netns exec "$NS_CLOUD" gtlsserver -q --timeout=5s \
        -d "$WORK/www-quic-gstatic" "$IP_GSTATIC" 443 "$p/gstatic.key" "$p/gstatic.pem"
    expect_listen "$NS_CLOUD" udp "$IP_GSTATIC" 443
    wait_all_listen
}

# ---------------------------------------------------------------- capture
start_capture() {
    rm -f "$OUT_DIR/capture.pcap"
    ip netns exec "$NS_PHONE" tcpdump -i ph0 -n -s 0 -U -Z root -w "$OUT_DIR/capture.pcap" \
        >"$WORK/tcpdump.log" 2>&1 </dev/null &
    TCPDUMP_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
        grep -qs 'listening on' "$WORK/tcpdump.log" && return 0
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "tcpdump did not start:"
    cat "$WORK/tcpdump.log" >&2
    return 1
}

stop_capture() {
    stop_pid "$TCPDUMP_PID" INT 10
    TCPDUMP_PID=""
    log "tcpdump: $(grep -E 'captured|dropped' "$WORK/tcpdump.log" | tr '\n' ' ')"
    if grep -qE '^[1-9][0-9]* packets? dropped by kernel' "$WORK/tcpdump.log"; then
        log "tcpdump dropped packets"
        return 1
    fi
}

# ---------------------------------------------------------------- clients (all in the phone namespace)
CUR_ACTION=""
CUR_INDEX=0
FAILURES=0
SEQ=0

rec() { # key=value ... -> one tab-separated line in records.tsv (manifest.py turns them into JSON)
    local IFS=$'\t'
    printf 'action_index=%s\t%s\n' "$CUR_INDEX" "$*" >>"$REC"
}

fail() { # message [client output file to show]
    FAILURES=$((FAILURES + 1))
    log "FAILED: $1"
    if [[ -n ${2:-} && -s $2 ]]; then tail -n 5 "$2" | sed 's/^/    /' >&2; fi
}

RESOLVED=""
dns_query() { # name qtype [server] : sets RESOLVED to the last address of the answer
    local name=$1 qtype=$2 server=${3:-$DNS4}
    local out="$WORK/dig.$((++SEQ))" start rc=0
    start=$(now)
    in_ns "$NS_PHONE" timeout 5 dig +time=2 +tries=1 +nocookie "@$server" "$name" "$qtype" >"$out" 2>&1 || rc=$?
    local status cnames addrs
    status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$out" | head -n1)
    cnames=$(awk '/^;; ANSWER SECTION:/{f=1;next} /^$/{f=0} f && $4=="CNAME"{sub(/\.$/,"",$5); printf "%s%s", s, $5; s=","}' "$out")
    addrs=$(awk '/^;; ANSWER SECTION:/{f=1;next} /^$/{f=0} f && ($4=="A"||$4=="AAAA"){printf "%s%s", s, $5; s=","}' "$out")
    RESOLVED=${addrs##*,}
    rec "kind=dns" "action=$CUR_ACTION" "start=$start" "app=dns" "proto=udp" "server_ip=$server" "server_port=53" \
        "name=$name" "qtype=$qtype" "rcode=${status:-TIMEOUT}" "cnames=$cnames" "answers=$addrs" "rc=$rc"
    if [[ $rc -ne 0 || -z $status ]]; then fail "dig $name $qtype @$server (rc=$rc)" "$out"; fi
}

dot_query() { # name qtype : DNS over TLS to unbound (kdig), SNI = DOT_NAME
    local name=$1 qtype=$2 out="$WORK/dot.$((++SEQ))" start rc=0 client sni
    start=$(now)
    client=kdig sni=$DOT_NAME
    in_ns "$NS_PHONE" timeout 6 kdig "@$DOT4" -p 853 +tls-ca="$WORK/pki/ca.pem" +tls-hostname="$DOT_NAME" \
        +tls-sni="$DOT_NAME" +time=3 +retry=0 "$name" "$qtype" >"$out" 2>&1 || rc=$?
    local status
    status=$(grep -oE 'status: [A-Z]+' "$out" | head -n1 | awk '{print $2}')
    rec "kind=dot" "action=$CUR_ACTION" "start=$start" "app=dot" "proto=tcp" "server_ip=$DOT4" "server_port=853" \
        "name=${sni:-$DOT4}" "sni=$sni" "query=$name" "qtype=$qtype" "rcode=${status:-NONE}" "client=$client" \
        "tls_version_requested=default" "alpn_requested=dot" "rc=$rc"
    if [[ $rc -ne 0 || $status != NOERROR ]]; then fail "DoT query $name (rc=$rc)" "$out"; fi
}

# curl_tls name ip port path tls(1.3|1.2) cipher alpn(default|http1.1|none) expected_bytes
curl_tls() {
    local name=$1 ip=$2 port=$3 path=$4 tls=$5 cipher=$6 alpn=$7 expect=$8
    local args=(-sS -o /dev/null --cacert "$WORK/pki/ca.pem" --connect-timeout 3 --max-time 10 --no-keepalive)
    local hostip=$ip
    [[ $ip == *:* ]] && hostip="[$ip]"
    args+=(--resolve "$name:$port:$hostip")
    case $tls in
        1.3) args+=(--tlsv1.3) ;;
        1.2) args+=(--tlsv1.2 --tls-max 1.2) ;;
    esac
    if [[ $cipher != default ]]; then
        if [[ $tls == 1.3 ]]; then args+=(--tls13-ciphers "$cipher"); else args+=(--ciphers "$cipher"); fi
    fi
    local alpn_list="h2,http/1.1"
    case $alpn in
        http1.1) args+=(--http1.1); alpn_list="http/1.1" ;;
        none) args+=(--http1.1 --no-alpn); alpn_list="" ;;
    esac
    local start rc=0 out err="$WORK/curl.$((++SEQ)).err"
    start=$(now)
    out=$(in_ns "$NS_PHONE" timeout 12 curl "${args[@]}" \
        -w '%{local_ip}\t%{local_port}\t%{http_code}\t%{size_download}\t%{size_header}\t%{size_request}' \
        "https://$name:$port$path" 2>"$err") || rc=$?
    local lip lport code down hdr req
    IFS=$'\t' read -r lip lport code down hdr req <<<"$out"
    rec "kind=tls" "action=$CUR_ACTION" "start=$start" "app=tls" "proto=tcp" "client=curl" "client_ip=$lip" \
        "client_port=$lport" "server_ip=$ip" "server_port=$port" "name=$name" "sni=$name" "path=$path" \
        "tls_version_requested=$tls" "cipher_requested=$cipher" "alpn_requested=$alpn_list" "http_status=$code" \
        "response_bytes=$down" "header_bytes=$hdr" "request_bytes=$req" "expected_body_bytes=$expect" "rc=$rc"
    if [[ $rc -ne 0 || $code != 200 ]]; then fail "curl https://$name$path at $ip (rc=$rc, http $code)" "$err"; fi
    if [[ $expect != "" && $down != "$expect" ]]; then fail "curl https://$name$path: $down bytes, expected $expect"; fi
}

# sclient name(or "" for no SNI) ip port tls(1.3|1.2) cipher alpn
sclient() {
    local name=$1 ip=$2 port=$3 tls=$4 cipher=$5 alpn=$6
    local acc="$ip:$port" args=(-quiet -CAfile "$WORK/pki/ca.pem" -verify_return_error)
    [[ $ip == *:* ]] && acc="[$ip]:$port"
    args+=(-connect "$acc")
    if [[ -n $name ]]; then args+=(-servername "$name"); else args+=(-noservername); fi
    case $tls in
        1.3) args+=(-tls1_3) ;;
        1.2) args+=(-tls1_2) ;;
    esac
    if [[ $cipher != default ]]; then
        if [[ $tls == 1.3 ]]; then args+=(-ciphersuites "$cipher"); else args+=(-cipher "$cipher"); fi
    fi
    [[ -n $alpn ]] && args+=(-alpn "$alpn")
    local start rc=0 out="$WORK/sclient.$((++SEQ))"
    start=$(now)
    printf 'GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: wte2e\r\n\r\n' "${name:-$ip}" |
        in_ns "$NS_PHONE" timeout 10 openssl s_client "${args[@]}" >"$out" 2>"$out.err" || rc=$?
    local got
    got=$(wc -c <"$out")
    rec "kind=tls" "action=$CUR_ACTION" "start=$start" "app=tls" "proto=tcp" "client=openssl-s_client" \
        "server_ip=$ip" "server_port=$port" "name=${name:-$ip}" "sni=$name" "tls_version_requested=$tls" \
        "cipher_requested=$cipher" "alpn_requested=$alpn" "response_bytes=$got" "rc=$rc"
    if [[ $rc -ne 0 ]] || ! head -c 20 "$out" | grep -q '^HTTP/1.0 200'; then
        fail "s_client ${name:-<no SNI>} at $acc (rc=$rc)" "$out.err"
    fi
}

# http_get name ip path expected_bytes
http_get() {
    local name=$1 ip=$2 path=$3 expect=$4 start rc=0 out err="$WORK/http.$((++SEQ)).err"
    start=$(now)
    out=$(in_ns "$NS_PHONE" timeout 10 curl -sS -o /dev/null --connect-timeout 3 --max-time 8 --no-keepalive \
        --resolve "$name:80:$ip" -A 'Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)' \
        -w '%{local_ip}\t%{local_port}\t%{http_code}\t%{size_download}\t%{size_header}\t%{size_request}' \
        "http://$name$path" 2>"$err") || rc=$?
    local lip lport code down hdr req
    IFS=$'\t' read -r lip lport code down hdr req <<<"$out"
    rec "kind=http" "action=$CUR_ACTION" "start=$start" "app=http" "proto=tcp" "client=curl" "client_ip=$lip" \
        "client_port=$lport" "server_ip=$ip" "server_port=80" "name=$name" "host_header=$name" "path=$path" \
        "http_status=$code" "response_bytes=$down" "header_bytes=$hdr" "request_bytes=$req" \
        "expected_body_bytes=$expect" "rc=$rc"
    if [[ $rc -ne 0 || ! $code =~ ^20[04]$ ]]; then fail "curl http://$name$path (rc=$rc, http $code)" "$err"; fi
    if [[ $down != "$expect" ]]; then fail "curl http://$name$path: $down bytes, expected $expect"; fi
}

# quic_get name ip path expected_bytes : HTTP/3 over QUIC v1, SNI = name (resolved through the phone's hosts file)
quic_get() {
    local name=$1 ip=$2 path=$3 expect=$4 start rc=0
    local dl="$WORK/dl/$((++SEQ))"
    mkdir -p "$dl"
    start=$(now)
    in_ns "$NS_PHONE" timeout 10 gtlsclient -q --timeout=5s --exit-on-all-streams-close --download="$dl" \
        "$name" 443 "https://$name$path" >"$dl.log" 2>&1 || rc=$?
    local got=0 f
    f="$dl/$(basename "$path")"
    [[ -f $f ]] && got=$(stat -c %s "$f")
    rec "kind=quic" "action=$CUR_ACTION" "start=$start" "app=quic" "proto=udp" "client=ngtcp2-gtlsclient" \
        "server_ip=$ip" "server_port=443" "name=$name" "sni=$name" "path=$path" "quic_version=1" \
        "tls_version_requested=1.3" "alpn_requested=h3" "response_bytes=$got" "expected_body_bytes=$expect" "rc=$rc"
    if [[ $rc -ne 0 || $got != "$expect" ]]; then fail "QUIC https://$name$path (rc=$rc, $got bytes)" "$dl.log"; fi
}

# ---------------------------------------------------------------- the kept-open API connection
# One openssl s_client stays connected to EVENTS_NAME across the actions, as a phone app's API connection does:
# its stdin is a FIFO that this script holds open on fd 8, each action writes one HTTP/1.1 GET into it, and closing
# fd 8 (after the last action) makes the client send close_notify and end (-no_ign_eof). records.tsv gets the
# connection (kind=tls, kept_open=1, conn_ref=events) in the action that opens it, one kind=request line per GET
# and one kind=close line; manifest.py joins them by conn_ref.
KA_PID=""
KA_OUT=""
KA_REQS=0

keepalive_open() { # name ip
    local name=$1 ip=$2 fifo="$WORK/keepalive.in" start i lport=""
    KA_OUT="$WORK/keepalive.out"
    KA_REQS=0
    rm -f "$fifo"
    mkfifo "$fifo"
    exec 8<>"$fifo" # read-write: never blocks, and the FIFO has a writer until fd 8 is closed
    start=$(now)
    in_ns "$NS_PHONE" openssl s_client -quiet -no_ign_eof -nocommands -CAfile "$WORK/pki/ca.pem" \
        -verify_return_error -tls1_3 -connect "$ip:443" -servername "$name" <"$fifo" >"$KA_OUT" 2>"$KA_OUT.err" 8>&- &
    KA_PID=$!
    PIDS+=("$KA_PID")
    for ((i = 0; i < 50; i++)); do
        lport=$(in_ns "$NS_PHONE" ss -Htn state established dst "$ip:443" | awk '{split($3, a, ":"); print a[2]; exit}')
        [[ -n $lport ]] && break
        kill -0 "$KA_PID" 2>/dev/null || break
        sleep 0.1
    done
    rec "kind=tls" "action=$CUR_ACTION" "start=$start" "app=tls" "proto=tcp" "client=openssl-s_client" \
        "client_ip=$PHONE4" "client_port=$lport" "server_ip=$ip" "server_port=443" "name=$name" "sni=$name" \
        "tls_version_requested=1.3" "cipher_requested=default" "alpn_requested=" "kept_open=1" "conn_ref=events"
    [[ -n $lport ]] || fail "kept-open s_client to $name at $ip:443 did not connect" "$KA_OUT.err"
}

keepalive_get() { # path expected_body_bytes : one GET on the kept-open connection, waits for its whole response
    local path=$1 expect=$2 start end i status="" got="" last
    if [[ -z $KA_PID ]]; then # no action opened it yet (labels that do not start with an app launch)
        dns_query "$EVENTS_NAME" A
        keepalive_open "$EVENTS_NAME" "$RESOLVED"
    fi
    start=$(now)
    printf 'GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: wte2e\r\nAccept: */*\r\n\r\n' "$path" "$EVENTS_NAME" >&8
    KA_REQS=$((KA_REQS + 1))
    for ((i = 0; i < 100; i++)); do
        last=$("$PY" "$SCRIPT_DIR/keepalive_https.py" count "$KA_OUT" | sed -n "${KA_REQS}p")
        [[ -n $last ]] && break
        kill -0 "$KA_PID" 2>/dev/null || break
        sleep 0.1
    done
    end=$(now)
    status=${last%%:*} got=${last#*:}
    rec "kind=request" "action=$CUR_ACTION" "start=$start" "end=$end" "conn_ref=events" "name=$EVENTS_NAME" \
        "path=$path" "http_status=$status" "response_bytes=$got" "expected_body_bytes=$expect"
    if [[ $status != 200 || $got != "$expect" ]]; then
        fail "kept-open GET https://$EVENTS_NAME$path: status '$status', $got bytes, expected $expect" "$KA_OUT.err"
    fi
}

keepalive_close() { # closes the FIFO: the client sends close_notify and ends
    [[ -n $KA_PID ]] || return 0
    local start rc=0 i
    start=$(now)
    exec 8>&-
    for ((i = 0; i < 50; i++)); do
        kill -0 "$KA_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$KA_PID" 2>/dev/null; then
        rc=124
        stop_pid "$KA_PID" TERM 2
    else
        wait "$KA_PID" || rc=$?
    fi
    KA_PID=""
    rec "kind=close" "action=$CUR_ACTION" "start=$start" "conn_ref=events" "name=$EVENTS_NAME" "requests=$KA_REQS" \
        "rc=$rc"
    [[ $rc -eq 0 ]] || fail "kept-open s_client to $EVENTS_NAME ended with rc=$rc" "$KA_OUT.err"
}

# ---------------------------------------------------------------- the three action profiles
profile_app_launch() {
    # The app's API connection: opened now, kept open for the next actions' requests.
    keepalive_get /bytes/20480 20480
    dns_query connectivitycheck.gstatic.com A
    http_get connectivitycheck.gstatic.com "$RESOLVED" /generate_204 0
    dns_query "$DOT_NAME" A
    dot_query www.gstatic.com A
    quic_get www.gstatic.com "$IP_GSTATIC" /js/app.js 61440
    dns_query api.weather-app.example A
    curl_tls api.weather-app.example "$RESOLVED" 443 /v2/config 1.3 default default ""
    dns_query firebase-settings.crashlytics.com A
    curl_tls firebase-settings.crashlytics.com "$RESOLVED" 443 /spi/v2/platforms/android/settings 1.2 \
        ECDHE-RSA-CHACHA20-POLY1305 http1.1 ""
    dns_query app-measurement.com A
    curl_tls app-measurement.com "$RESOLVED" 443 /config/app/1:123456789:android 1.3 default default ""
    dns_query courier.push.apple.com A
    sclient courier.push.apple.com "$RESOLVED" 5223 1.3 default ""
}

profile_climate() {
    keepalive_get /bytes/40960 40960 # on the connection App launch opened
    dns_query api.weather-app.example A
    curl_tls api.weather-app.example "$RESOLVED" 443 '/v2/forecast?lat=48.85&lon=2.35' 1.3 default http1.1 ""
    dns_query radar.weather-app.example A
    http_get radar.weather-app.example "$RESOLVED" /radar/latest.json 122880
    dns_query legacy-api.weather-app.example A
    dns_query graph.facebook.com AAAA "$DNS6"
    sclient graph.facebook.com "$RESOLVED" 443 1.3 default h2,http/1.1
    # A hard-coded telemetry address: no DNS, no SNI.
    sclient "" "$IP_NOSNI" 443 1.2 ECDHE-RSA-AES256-GCM-SHA384 ""
    dot_query api.weather-app.example A
}

profile_location() {
    keepalive_get /bytes/81920 81920 # on the connection App launch opened
    dns_query maps.googleapis.com A
    dns_query maps.googleapis.com AAAA
    curl_tls maps.googleapis.com "$IP_GOOGLEAPIS" 443 '/maps/api/geocode/json?latlng=48.85,2.35' 1.3 \
        TLS_AES_128_GCM_SHA256 default ""
    quic_get maps.googleapis.com "$IP_GOOGLEAPIS" /maps/vt/tile.png 153600
    dns_query tiles.maps.example A
    curl_tls tiles.maps.example "$RESOLVED" 443 /tile-12-2132-1358.pbf 1.2 ECDHE-RSA-AES128-GCM-SHA256 default 307200
    dns_query app-measurement.com A
    # TLS 1.2 so that the server's ALPN choice (http/1.1) is visible in its ServerHello.
    curl_tls app-measurement.com "$RESOLVED" 443 /a 1.2 default default ""
    dot_query maps.googleapis.com AAAA
}

# ---------------------------------------------------------------- main
main() {
    local t_begin
    t_begin=$(date +%s)
    log "output $OUT_DIR, ${#ACTIONS[@]} actions every ${INTERVAL}s"
    setup_topology
    make_pki_and_content
    start_servers
    start_capture

    printf 'timestamp,label\n' >"$WORK/marks.csv"
    local t0 i target d
    t0=$(awk -v n="$(now)" 'BEGIN{printf "%.6f", n + 1.0}')
    for ((i = 0; i < ${#ACTIONS[@]}; i++)); do
        target=$(awk -v t="$t0" -v i="$i" -v s="$INTERVAL" 'BEGIN{printf "%.6f", t + i * s}')
        d=$(awk -v t="$target" -v n="$(now)" 'BEGIN{d = t - n; if (d < 0) d = 0; printf "%.3f", d}')
        nap "$d"
        CUR_ACTION=${ACTIONS[$i]}
        CUR_INDEX=$i
        local mark
        mark=$(now)
        printf '%.6f,%s\n' "$mark" "$CUR_ACTION" >>"$WORK/marks.csv"
        log "action $((i + 1))/${#ACTIONS[@]}: $CUR_ACTION"
        # The profile follows the label when it names one, otherwise the three profiles take turns.
        local profile=$((i % 3))
        case ${CUR_ACTION,,} in
            *launch*) profile=0 ;;
            *climate*) profile=1 ;;
            *location*) profile=2 ;;
        esac
        case $profile in
            0) profile_app_launch ;;
            1) profile_climate ;;
            2) profile_location ;;
        esac
        rec "kind=action_end" "action=$CUR_ACTION" "start=$(now)"
    done
    # The last action's request has completed: the app closes its API connection before the capture stops.
    keepalive_close
    # Keep the capture open until the last action's window ends (at least TAIL_MIN seconds): late packets
    # (session tickets, FINs, QUIC close) belong to the session.
    target=$(awk -v t="$t0" -v n="${#ACTIONS[@]}" -v s="$INTERVAL" -v m="$TAIL_MIN" -v now="$(now)" \
        'BEGIN{e = t + n * s; if (e < now + m) e = now + m; printf "%.3f", e - now}')
    nap "$target"
    stop_capture

    cp "$WORK/marks.csv" "$OUT_DIR/marks.csv"
    log "building manifest and checking the capture with tshark"
    "$PY" "$SCRIPT_DIR/manifest.py" --records "$REC" --marks "$OUT_DIR/marks.csv" --pcap "$OUT_DIR/capture.pcap" \
        --out "$OUT_DIR/manifest.json" --interval "$INTERVAL" --phone "$PHONE4,$PHONE6" \
        --failures "$FAILURES" --elapsed "$(($(date +%s) - t_begin))"
    if [[ $FAILURES -ne 0 ]]; then
        log "$FAILURES client operation(s) failed"
        return 1
    fi
    log "done in $(($(date +%s) - t_begin)) s: $OUT_DIR/{capture.pcap,marks.csv,manifest.json}"
}

main
