#!/usr/bin/env bash
# Reserves hugepages for wiretally (DPDK) now and at every boot, and mounts
# hugetlbfs where EAL looks for it. Idempotent: run it again with the same
# arguments and nothing changes.
#
#   deploy/hugepages.sh --mb MB | --pages N  [--size 2M|1G] [--no-persist] [--dry-run]
#
#   --mb MB        reserve at least MB megabytes (rounded up to whole pages);
#                  take eal.memory_mb plus about 256 MB of headroom
#   --pages N      reserve exactly N pages (0 releases them)
#   --size 2M|1G   page size, default 2M. 1G pages are best reserved at boot,
#                  before memory fragments: the script prints the kernel
#                  command line to use and reserves what it can now
#   --no-persist   change the running system only
#   --dry-run      print what would be done, change nothing
#   -h, --help     this text
#
# Now: writes /sys/kernel/mm/hugepages/hugepages-SIZE/nr_hugepages, mounts
# hugetlbfs at /dev/hugepages (2M) or /dev/hugepages1G (1G) if nothing is there.
# At boot: /etc/sysctl.d/80-wiretally-hugepages.conf (vm.nr_hugepages, 2M pages)
# or the printed kernel command line (1G); an /etc/fstab line for the mount
# unless systemd already provides it (dev-hugepages.mount). The kernel spreads
# the pages over the NUMA nodes; on a two-socket box reserve enough for both
# halves (DPDK takes its memory from the NIC's node).
# Exit: 0 done, 1 the kernel granted fewer pages than asked, 64 usage, 69 no
# hugepage support, 77 not root.
set -euo pipefail

# Overridable for tests, which point them at a scratch directory.
SYSFS_HP=${WT_SYSFS_HUGEPAGES:-/sys/kernel/mm/hugepages}
SYSCTL_FILE=${WT_SYSCTL_FILE:-/etc/sysctl.d/80-wiretally-hugepages.conf}
FSTAB=${WT_FSTAB:-/etc/fstab}
PROC_MOUNTS=${WT_PROC_MOUNTS:-/proc/mounts}
MEMINFO=${WT_MEMINFO:-/proc/meminfo}
SYSTEMD_MOUNT_UNIT=${WT_SYSTEMD_MOUNT_UNIT:-/lib/systemd/system/dev-hugepages.mount}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-64}"
}
die() {
  local code=$1
  shift
  echo "hugepages: $*" >&2
  exit "$code"
}

mb="" pages="" size="2M" persist=1 dry=0
while (($#)); do
  case $1 in
    --mb) mb=${2:-}; shift 2 || usage ;;
    --mb=*) mb=${1#*=}; shift ;;
    --pages) pages=${2:-}; shift 2 || usage ;;
    --pages=*) pages=${1#*=}; shift ;;
    --size) size=${2:-}; shift 2 || usage ;;
    --size=*) size=${1#*=}; shift ;;
    --no-persist) persist=0; shift ;;
    --dry-run|-n) dry=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "hugepages: unknown argument '$1'" >&2; usage ;;
  esac
done

case ${size^^} in
  2M|2MB|2048K|2048KB) size=2M kb=2048 mountpoint=/dev/hugepages ;;
  1G|1GB|1024M|1048576K|1048576KB) size=1G kb=1048576 mountpoint=/dev/hugepages1G ;;
  *) die 64 "--size takes 2M or 1G, not '$size'" ;;
esac
if [[ -n "$mb" && -n "$pages" ]] || [[ -z "$mb" && -z "$pages" ]]; then
  die 64 "give exactly one of --mb MB or --pages N (--help)"
fi
if [[ -n "$mb" ]]; then
  [[ "$mb" =~ ^[0-9]+$ && "$mb" -ge 1 ]] || die 64 "--mb takes a whole number of megabytes"
  pages=$(((mb * 1024 + kb - 1) / kb))
fi
[[ "$pages" =~ ^[0-9]+$ ]] || die 64 "--pages takes a whole number"
pages=$((10#$pages))

# Prints the command; runs it unless --dry-run.
run() {
  if ((dry)); then
    echo "would run: $*"
  else
    echo "+ $*"
    "$@"
  fi
}
# Writes (or in --dry-run shows) a whole file; skips it if the content is equal.
write_file() {
  local path=$1 content=$2
  if [[ -f "$path" && "$(cat "$path")" == "$content" ]]; then
    echo "unchanged: $path"
    return
  fi
  if ((dry)); then
    echo "would write $path:"
    printf '    %s\n' "${content//$'\n'/$'\n    '}"
  else
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" >"$path.tmp.$$"
    mv "$path.tmp.$$" "$path"
    echo "wrote $path"
  fi
}

if ((!dry)) && [[ $(id -u) -ne 0 && -z "${WT_SYSFS_HUGEPAGES:-}" ]]; then
  die 77 "must run as root (or try --dry-run)"
fi
hpdir="$SYSFS_HP/hugepages-${kb}kB"
[[ -d "$hpdir" ]] || die 69 "the kernel offers no ${size} hugepages ($hpdir missing)$([[ $size == 1G ]] && echo '; the CPU needs the pdpe1gb flag')"

default_kb=$(awk '/^Hugepagesize:/ {print $2}' "$MEMINFO" 2>/dev/null || true)
default_kb=${default_kb:-2048}

# 1. Reserve now.
have=$(cat "$hpdir/nr_hugepages")
if ((have == pages)); then
  echo "reserved: $pages x $size pages already ($((pages * kb / 1024)) MB)"
else
  echo "reserving $pages x $size pages ($((pages * kb / 1024)) MB; now $have)"
  if ((dry)); then
    echo "would run: echo $pages > $hpdir/nr_hugepages"
  else
    # Compacting first gives the kernel contiguous memory to carve pages from.
    if [[ -w /proc/sys/vm/compact_memory && -z "${WT_SYSFS_HUGEPAGES:-}" ]]; then
      echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
    fi
    echo "$pages" >"$hpdir/nr_hugepages"
  fi
fi

# 2. Mount hugetlbfs if nothing of this page size is mounted.
mounted_at=""
while read -r _ mnt fstype opts _; do
  [[ "$fstype" == hugetlbfs ]] || continue
  # The kernel shows pagesize=2M or pagesize=1024M; no option means the default size.
  psize=$(sed -n 's/.*pagesize=\([0-9]*[KMG]\).*/\1/p' <<<"$opts")
  mkb=$default_kb
  case $psize in
    *K) mkb=${psize%K} ;;
    *M) mkb=$((${psize%M} * 1024)) ;;
    *G) mkb=$((${psize%G} * 1048576)) ;;
  esac
  [[ "$mkb" == "$kb" ]] && mounted_at=$mnt
  [[ -n "$mounted_at" ]] && break
done <"$PROC_MOUNTS"
if [[ -n "$mounted_at" ]]; then
  echo "mounted: hugetlbfs ($size) at $mounted_at already"
else
  run mkdir -p "$mountpoint"
  run mount -t hugetlbfs -o "pagesize=$size" nodev "$mountpoint"
fi

# 3. Persist.
if ((persist)); then
  if [[ "$size" == 2M && "$kb" == "$default_kb" ]]; then
    write_file "$SYSCTL_FILE" "# Written by wiretally deploy/hugepages.sh: $pages x 2 MB hugepages for DPDK.
vm.nr_hugepages = $pages"
  else
    # vm.nr_hugepages only sets the default size; other sizes are reserved
    # most reliably on the kernel command line, before memory fragments.
    [[ -f "$SYSCTL_FILE" ]] && echo "note: $SYSCTL_FILE also reserves default-size pages; remove it if you moved to $size pages"
    # hugepagesz= without default_hugepagesz= keeps 2M as the default size, so
    # /dev/hugepages stays 2M and the $mountpoint mount below serves the 1G pages.
    echo "persist: add to GRUB_CMDLINE_LINUX in /etc/default/grub, then run update-grub and reboot:"
    echo "    hugepagesz=$size hugepages=$pages"
  fi
  # The mount: systemd mounts /dev/hugepages (default size) by itself; other
  # sizes, or a system without systemd, need an fstab line.
  if [[ "$mountpoint" == /dev/hugepages && -e "$SYSTEMD_MOUNT_UNIT" ]]; then
    echo "persist: $mountpoint is mounted at boot by systemd (dev-hugepages.mount)"
  elif grep -Eq "^[^#]*[[:space:]]${mountpoint}[[:space:]]+hugetlbfs" "$FSTAB" 2>/dev/null; then
    echo "unchanged: $FSTAB already mounts $mountpoint"
  else
    line="nodev $mountpoint hugetlbfs pagesize=$size 0 0"
    if ((dry)); then
      echo "would append to $FSTAB: $line"
    else
      printf '%s\n' "$line" >>"$FSTAB"
      echo "appended to $FSTAB: $line"
    fi
  fi
fi

# 4. What the kernel actually granted.
((dry)) && exit 0
got=$(cat "$hpdir/nr_hugepages")
free=$(cat "$hpdir/free_hugepages" 2>/dev/null || echo "?")
if ((got < pages)); then
  echo "hugepages: the kernel granted only $got of $pages $size pages (memory is fragmented or short)." >&2
  echo "hugepages: reboot to get them from the boot-time reservation, or ask for fewer." >&2
  exit 1
fi
echo "ok: $got x $size hugepages reserved, $free free"
