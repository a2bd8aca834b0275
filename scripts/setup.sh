#!/usr/bin/env bash
# Installs what wiretally needs to build and test on Debian 12. Idempotent:
# packages already present are not fetched again, so a second run is instant.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential pkg-config meson ninja-build python3
  libdpdk-dev dpdk libhyperscan-dev libfmt-dev libtoml11-dev nlohmann-json3-dev libcli11-dev
  libssl-dev libpcap-dev libgtest-dev libgmock-dev libbenchmark-dev
)
TEST_PACKAGES=(
  clang libclang-rt-14-dev                # libFuzzer targets
  iproute2 ethtool tcpdump                # namespaces and captures for end-to-end tests
  openssl curl bind9-dnsutils knot-dnsutils dnsmasq-base unbound ngtcp2-client ngtcp2-server python3
  prometheus                              # the live appliance's metrics, scraped by a real server
  dpdk-dev                                # dpdk-telemetry.py, the standard telemetry client
  tshark libndpi-bin                      # reference tools
)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" != "--build-only" ]]; then
  want+=("${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# unbound's and prometheus's packages enable system services; the tests start their own.
for service in unbound prometheus; do
  if systemctl is-enabled "$service" >/dev/null 2>&1; then
    $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done
