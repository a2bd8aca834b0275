#!/usr/bin/env bash
# Installs what wiretally needs on Debian 12: the packages of scripts/packages.txt (every one with
# --build-only: only those the build needs), then the default IP data set (scripts/ipdb/install.sh).
# Idempotent: what is already present is not fetched again, so a second run is instant.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh

case "${1:-}" in
  "") groups=(build test) ;;
  --build-only) groups=(build) ;;
  -h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup: unknown argument '$1' (--build-only or nothing)" >&2; exit 64 ;;
esac

mapfile -t want < <(package_rows "${groups[@]}" | cut -d' ' -f1)
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
else
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
fi
# The default IP data (who hosts each server address): from the npm registry, once.
$SUDO scripts/ipdb/install.sh
