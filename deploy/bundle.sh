#!/usr/bin/env bash
# Packs what a box needs to run wiretally, for a box that does not build it: the binary, this deploy kit
# (install.sh, check-box.sh, hugepages.sh, the unit, the sample configs, the guide), the default IP data
# (who hosts an address) and the list of Debian packages the box needs: those that hold the libraries the
# binary links, and those of the tools the kit runs (DPDK's scripts, lspci, modprobe, ip).
#
#   deploy/bundle.sh [--binary PATH] [--ipdb DIR] [-o FILE]
#
#   --binary PATH  the wiretally to pack (default: build/app/wiretally)
#   --ipdb DIR     the IP data to pack (default: /usr/local/share/wiretally/ipdb, what scripts/setup.sh
#                  installs); packed only when present
#   -o FILE        the tarball (default: build/wiretally-VERSION-bundle.tar.gz)
#   -h, --help     this text
#
# On the box (Debian 12, x86-64):
#   tar xzf wiretally-VERSION-bundle.tar.gz && cd wiretally-VERSION
#   sudo apt-get install $(cat runtime-packages.txt)
#   sudo deploy/install.sh
# Exit: 0 written, 1 failed, 64 usage.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-64}"; }
die() { echo "bundle: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
binary=$root/build/app/wiretally ipdb=/usr/local/share/wiretally/ipdb out=""
while (($#)); do
  case $1 in
    --binary) binary=${2:-}; shift 2 || usage ;;
    --ipdb) ipdb=${2:-}; shift 2 || usage ;;
    -o) out=${2:-}; shift 2 || usage ;;
    -h|--help) usage 0 ;;
    *) echo "bundle: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -x $binary ]] || die "$binary is not an executable (build it: scripts/build.sh, or give --binary PATH)"
version=$("$binary" --version | awk '{print $1; exit}')
[[ -n $version ]] || die "$binary --version printed nothing"
name=wiretally-$version
out=${out:-$root/build/$name-bundle.tar.gz}

# The Debian packages that own the shared libraries the binary loads (found, not listed by hand, so the list
# follows the build). A library no package owns cannot be installed on the box by apt: refuse.
runtime_packages() {
  local lib real pkg missing=()
  while read -r lib; do
    real=$(readlink -f "$lib")
    pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) || true
    [[ -z $pkg ]] && pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
    if [[ -z $pkg ]]; then missing+=("$lib"); else echo "$pkg"; fi
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  ((${#missing[@]} == 0)) || die "no Debian package owns ${missing[*]}: the box could not install it"
}
if ldd "$binary" | grep -q 'not found'; then
  die "$binary cannot load some of its libraries here: $(ldd "$binary" | awk '/not found/ {print $1}' | tr '\n' ' ')"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top=$stage/$name
mkdir -p "$top/bin" "$top/deploy/configs"
install -m 0755 "$binary" "$top/bin/wiretally"
install -m 0755 "$here"/*.sh "$top/deploy/"
install -m 0644 "$here/wiretally.service" "$here/README.md" "$top/deploy/"
install -m 0644 "$here"/configs/*.toml "$top/deploy/configs/"
# The libraries, and the tools the kit runs on the box: dpdk-devbind.py and dpdk-pmdinfo.py (dpdk; pmdinfo
# reads ELF with pyelftools, which dpdk only recommends), lspci, modprobe, ip and ss, Python for check-box.sh.
{ runtime_packages; printf '%s\n' dpdk python3-pyelftools pciutils kmod iproute2 python3; } | sort -u >"$top/runtime-packages.txt"
if [[ -s $ipdb/asn.mmdb && -s $ipdb/datasets.json ]]; then
  cp -a "$ipdb" "$top/ipdb"
else
  echo "bundle: no IP data in $ipdb (scripts/ipdb/install.sh makes it): the box will report hosting as unknown" >&2
fi
mkdir -p "$(dirname "$out")"
tar -C "$stage" -czf "$out.tmp" "$name"
mv -f "$out.tmp" "$out"
echo "bundle: $out ($(du -h "$out" | cut -f1)): $name, $(wc -l <"$top/runtime-packages.txt") runtime packages$([[ -d $top/ipdb ]] && echo ", IP data")"
