#!/usr/bin/env bash
# Installs what wiretally needs on Debian 12: the packages of scripts/packages.txt (every one with
# --build-only: only those the build needs), the front-end packages of package.json from the npm registry
# (uPlot, which the build inlines into the HTML report; playwright-core, which drives the browser tests),
# then the default IP data set (scripts/ipdb/install.sh).
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
# package.json's packages, at the versions package-lock.json pins, into node_modules/ (again only when the
# lock file changed since: npm ci deletes and reinstalls).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing package.json's packages (npm ci)"
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "setup: npm could not install package.json's packages (no access to the npm registry?)" >&2
    exit 69
  fi
else
  echo "setup: package.json's packages present"
fi
# The default IP data (who hosts each server address): from the npm registry, once.
$SUDO scripts/ipdb/install.sh
