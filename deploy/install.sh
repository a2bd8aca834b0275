#!/usr/bin/env bash
# Installs (or upgrades, or rolls back) wiretally as a systemd service.
#
#   sudo deploy/install.sh [--binary PATH] [--config SAMPLE] [--start] [--dry-run]
#   sudo deploy/install.sh --rollback [--start]
#
#   --binary PATH    the wiretally to install (default: build/app/wiretally, or
#                    bin/wiretally in a bundle made by deploy/bundle.sh)
#   --config SAMPLE  first install only: copied to /etc/wiretally/wiretally.toml
#                    (default deploy/configs/tap.toml); an existing config is
#                    never overwritten
#   --start          enable the service and (re)start it now
#   --rollback       swap /usr/local/bin/wiretally with the previous binary the
#                    last install kept (wiretally.prev); run again to undo
#   --destdir DIR    install under DIR instead of / (packaging, tests); no
#                    group creation, no systemctl
#   --dry-run        print what would be done
#   -h, --help       this text
#
# Installs: /usr/local/bin/wiretally (the one it replaces is kept as
# wiretally.prev), /etc/systemd/system/wiretally.service, /etc/wiretally/
# (root:wiretally 0750), the `wiretally` group (members may use `wiretally
# ctl`), and the deploy scripts, sample configs and README under
# /usr/local/share/wiretally/; from a bundle, also its IP data into
# /usr/local/share/wiretally/ipdb unless that holds some already. Hugepages and NIC binding are separate steps:
# deploy/hugepages.sh and deploy/check-box.sh --bind.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-64}"
}
die() {
  echo "install: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
binary="$root/build/app/wiretally" sample="$here/configs/tap.toml"
# An unpacked bundle (deploy/bundle.sh) has the binary in bin/ and no build tree.
[[ ! -x "$binary" && -x "$root/bin/wiretally" ]] && binary="$root/bin/wiretally"
destdir="" start=0 rollback=0 dry=0
while (($#)); do
  case $1 in
    --binary) binary=${2:-}; shift 2 || usage ;;
    --config) sample=${2:-}; shift 2 || usage ;;
    --destdir) destdir=${2:-}; shift 2 || usage ;;
    --start) start=1; shift ;;
    --rollback) rollback=1; shift ;;
    --dry-run|-n) dry=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install: unknown argument '$1'" >&2; usage ;;
  esac
done
destdir=${destdir%/}

bin="$destdir/usr/local/bin/wiretally"
unit="$destdir/etc/systemd/system/wiretally.service"
etc="$destdir/etc/wiretally"
share="$destdir/usr/local/share/wiretally"
doc="$destdir/usr/local/share/doc/wiretally"
systemd=0
[[ -z "$destdir" && -d /run/systemd/system ]] && systemd=1

run() {
  if ((dry)); then echo "would run: $*"; else echo "+ $*"; "$@"; fi
}
restart_if_wanted() {
  ((systemd)) || { echo "install: systemd is not running here; start wiretally by hand or on the target box"; return 0; }
  if ((start)); then
    run systemctl enable wiretally.service
    run systemctl restart wiretally.service
    ((dry)) || systemctl --no-pager --lines=5 status wiretally.service || true
  elif systemctl is-active -q wiretally.service; then
    echo "install: wiretally is running the old binary until: systemctl restart wiretally"
  else
    echo "install: start it with: systemctl enable --now wiretally"
  fi
}

if [[ -z "$destdir" && $(id -u) -ne 0 ]] && ((!dry)); then
  die "run as root (sudo), or try --dry-run / --destdir DIR"
fi

if ((rollback)); then
  [[ -x "$bin.prev" ]] || die "no previous binary ($bin.prev) to roll back to"
  run mv "$bin" "$bin.rollback.$$"
  run mv "$bin.prev" "$bin"
  run mv "$bin.rollback.$$" "$bin.prev"
  echo "install: rolled back; $bin.prev now holds the binary you left (run --rollback again to return to it)"
  restart_if_wanted
  exit 0
fi

[[ -x "$binary" ]] || die "$binary is not an executable (build it: scripts/build.sh, or give --binary PATH)"
[[ -f "$sample" ]] || die "no sample config $sample"
# The binary links Hyperscan, fmt and friends dynamically: refuse a copy that
# cannot start here rather than find out from systemd.
if missing=$(ldd "$binary" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ') && [[ -n "$missing" ]]; then
  if [[ -s "$root/runtime-packages.txt" ]]; then
    die "$binary needs libraries this box lacks: $missing(install them: apt-get install $(tr '\n' ' ' <"$root/runtime-packages.txt"))"
  fi
  die "$binary needs libraries this box lacks: $missing(install the runtime packages: scripts/setup.sh --build-only)"
fi

# An upgrade must not leave the service with a config the new binary rejects:
# check the existing config with the new binary before anything changes.
if [[ -z "$destdir" && -e "$etc/wiretally.toml" ]] && ((!dry)); then
  if ! "$binary" run --check --config "$etc/wiretally.toml" >/dev/null; then
    die "the new binary rejects $etc/wiretally.toml (message above); nothing was changed"
  fi
  echo "install: $etc/wiretally.toml passes the new binary's check"
fi

# 1. The group whose members may use the control socket.
if [[ -n "$destdir" ]]; then
  echo "install: --destdir: not creating the wiretally group"
elif getent group wiretally >/dev/null; then
  echo "install: group wiretally exists"
else
  run groupadd --system wiretally
fi
group=root
if getent group wiretally >/dev/null || ((dry)); then group=wiretally; fi
owner=(-o root -g "$group")
[[ $(id -u) -eq 0 ]] || owner=() # --destdir as a user: files stay the user's

# 2. The binary; the one it replaces stays as wiretally.prev for --rollback.
run mkdir -p "$(dirname "$bin")"
if [[ -e "$bin" ]] && cmp -s "$binary" "$bin"; then
  echo "install: $bin is already this build"
else
  [[ -e "$bin" ]] && run cp -p "$bin" "$bin.prev"
  # Copy then rename: a running wiretally keeps its old inode, nothing is half-written.
  run install -m 0755 "$binary" "$bin.new.$$"
  run mv -f "$bin.new.$$" "$bin"
fi

# 3. Config directory and, the first time only, a config.
run install -d -m 0750 "${owner[@]}" "$etc"
if [[ -e "$etc/wiretally.toml" ]]; then
  echo "install: keeping $etc/wiretally.toml"
else
  run install -m 0640 "${owner[@]}" "$sample" "$etc/wiretally.toml"
  echo "install: edit $etc/wiretally.toml (PCI addresses, cores) before starting"
fi

# 4. Unit, scripts, samples, docs.
run install -D -m 0644 "$here/wiretally.service" "$unit"
run install -d -m 0755 "$share/configs" "$doc"
run install -m 0755 "$here/check-box.sh" "$here/hugepages.sh" "$share/"
run install -m 0644 "$here"/configs/*.toml "$share/configs/"
run install -m 0644 "$here/README.md" "$doc/README.md"
# A bundle's IP data (who hosts an address); data already there (scripts/ipdb/install.sh --update) is newer.
if [[ -s "$root/ipdb/asn.mmdb" ]]; then
  if [[ -s "$share/ipdb/asn.mmdb" ]]; then
    echo "install: keeping the IP data in $share/ipdb"
  else
    run install -d -m 0755 "$share/ipdb"
    run install -m 0644 "$root"/ipdb/* "$share/ipdb/"
  fi
fi
((systemd)) && run systemctl daemon-reload

if [[ -z "$destdir" ]]; then
  if ((!dry)) && ! "$bin" run --check --config "$etc/wiretally.toml" >/dev/null; then
    echo "install: $etc/wiretally.toml does not pass yet; edit it, then: $bin run --check --config $etc/wiretally.toml" >&2
    # A first install's sample names PCI addresses of its own: expected, and the install itself succeeded.
    # Asked to start, it cannot: that is a failure.
    if ((start)); then
      echo "install: not starting the service" >&2
      exit 1
    fi
    echo "install: done; start it once the config passes: systemctl enable --now wiretally"
    exit 0
  fi
  restart_if_wanted
fi
echo "install: done"
