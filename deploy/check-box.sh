#!/usr/bin/env bash
# Checks whether this box can run wiretally with DPDK ports, and binds NICs.
#
#   deploy/check-box.sh [--config FILE] [--json]
#   deploy/check-box.sh --bind PCI... [--driver vfio-pci|uio_pci_generic] [--dry-run]
#   deploy/check-box.sh --unbind PCI... [--dry-run]
#   deploy/check-box.sh --noiommu [--dry-run]
#
#   (no option)      check CPUs, IOMMU, vfio-pci, hugepages, NICs and tools as
#                    a PCI-NIC appliance needs them; one PASS/WARN/FAIL line per
#                    check, each WARN/FAIL with a one-line fix
#   --config FILE    judge by this wiretally config instead: its cores, memory,
#                    hugepages, PCI devices and vdevs (a config with
#                    eal.hugepages = false and no eal.allow needs neither
#                    hugepages nor an IOMMU); also runs `wiretally run --check`
#   --json           one JSON document instead of text
#   --bind PCI...    bind these NICs (0000:03:00.0 or 03:00.0) to vfio-pci with
#                    dpdk-devbind.py. Refused for a NIC that carries a default
#                    route or an SSH session (the management interface), or
#                    still has addresses or routes, or, for vfio-pci, without
#                    an IOMMU unless no-IOMMU mode is on (--noiommu)
#   --driver D       with --bind: vfio-pci (default) or uio_pci_generic (no
#                    IOMMU needed; no MSI-X, so no per-queue interrupts, and
#                    the unit needs ProtectKernelTunables=no)
#   --noiommu        for a box without an IOMMU (a VM, an old board): turn on
#                    vfio's unsafe no-IOMMU mode now and at boot
#                    (/etc/modprobe.d/wiretally-vfio-noiommu.conf). The NICs
#                    can then DMA anywhere in memory: use it on a box that runs
#                    nothing else
#   --unbind PCI...  give these NICs back to their kernel driver
#   --dry-run        with --bind/--unbind: say what would be done
#   -h, --help       this text
#
# Exit: 0 every needed check passed (WARNs are advice), 1 a needed check failed
# or a bind failed, 64 usage. Reads only, except --bind/--unbind/--noiommu (root).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-64}"
}

here=$(cd "$(dirname "$0")" && pwd)
config="" json=0 dry=0 action=check bind_driver=vfio-pci
targets=()
while (($#)); do
  case $1 in
    --config) config=${2:-}; [[ -n "$config" ]] || usage; shift 2 ;;
    --config=*) config=${1#*=}; shift ;;
    --json) json=1; shift ;;
    --dry-run|-n) dry=1; shift ;;
    --driver) bind_driver=${2:-}; shift 2 || usage
      [[ $bind_driver == vfio-pci || $bind_driver == uio_pci_generic ]] || { echo "check-box: --driver takes vfio-pci or uio_pci_generic" >&2; usage; } ;;
    --noiommu) action=noiommu; shift ;;
    --bind|--unbind)
      action=${1#--}
      shift
      while (($#)) && [[ $1 != -* ]]; do
        targets+=("$1")
        shift
      done
      ((${#targets[@]})) || { echo "check-box: --$action needs PCI addresses" >&2; usage; }
      ;;
    -h|--help) usage 0 ;;
    *) echo "check-box: unknown argument '$1'" >&2; usage ;;
  esac
done

# Overridable for tests.
SYS=${WT_SYSFS:-/sys}
PROC=${WT_PROCFS:-/proc}
BINDINGS=${WT_BINDINGS_FILE:-/var/lib/wiretally/nic-drivers}
NOIOMMU_CONF=${WT_NOIOMMU_CONF:-/etc/modprobe.d/wiretally-vfio-noiommu.conf}
T=10 # seconds any external command may take

# ---------------------------------------------------------------- reporting
statuses=() checks=() details=() fixes=()
n_fail=0
report() { # STATUS CHECK DETAIL [FIX]
  local st=$1 ck=$2 de=$3 fx=${4:-}
  statuses+=("$st") checks+=("$ck") details+=("$de") fixes+=("$fx")
  [[ "$st" == FAIL ]] && n_fail=$((n_fail + 1))
  if ((!json)); then
    printf '%-4s  %-11s %s\n' "$st" "$ck" "$de"
    if [[ -n "$fx" && "$st" != PASS ]]; then
      printf '      %-11s fix: %s\n' "" "$fx"
    fi
  fi
}
# Progress lines of --bind/--unbind: stderr with --json, so stdout stays one document.
say() { if ((json)); then echo "$@" >&2; else echo "$@"; fi; }
# FAIL when the thing is needed, WARN when it is only advice.
need_status() { if (($1)); then echo FAIL; else echo WARN; fi; }

emit_json() {
  local i
  for i in "${!statuses[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "${statuses[i]}" "${checks[i]}" "${details[i]//$'\t'/ }" "${fixes[i]//$'\t'/ }"
  done | python3 -c '
import json, sys
rows = [dict(zip(("status", "check", "detail", "fix"), l.rstrip("\n").split("\t"))) for l in sys.stdin]
print(json.dumps({"ok": not any(r["status"] == "FAIL" for r in rows), "checks": rows}, indent=2))'
}

finish() {
  if ((json)); then
    emit_json
  else
    local n_warn=0 s
    for s in "${statuses[@]}"; do [[ "$s" == WARN ]] && n_warn=$((n_warn + 1)); done
    echo
    if ((n_fail)); then
      echo "check-box: $n_fail FAIL, $n_warn WARN: fix the FAIL lines first"
    else
      echo "check-box: no FAIL ($n_warn WARN)"
    fi
  fi
  if ((n_fail)); then exit 1; fi
  exit 0
}

# ---------------------------------------------------------------- helpers
# "0-3,6,8-9" -> "0 1 2 3 6 8 9"
expand_cpulist() {
  local part out=() a b i
  for part in ${1//,/ }; do
    if [[ "$part" == *-* ]]; then
      a=${part%-*} b=${part#*-}
      for ((i = a; i <= b; i++)); do out+=("$i"); done
    else
      out+=("$part")
    fi
  done
  echo "${out[*]:-}"
}
# "1 2 3 5" -> "1-3,5"
compress_cpulist() {
  local res="" start="" prev="" c
  for c in $1; do
    if [[ -z "$start" ]]; then
      start=$c
    elif ((c != prev + 1)); then
      res+="${res:+,}$(cpu_range "$start" "$prev")"
      start=$c
    fi
    prev=$c
  done
  if [[ -n "$start" ]]; then res+="${res:+,}$(cpu_range "$start" "$prev")"; fi
  echo "$res"
}
cpu_range() { if [[ "$1" == "$2" ]]; then echo "$1"; else echo "$1-$2"; fi; }
in_list() { # WORD LIST...
  local w=$1 x
  shift
  for x in "$@"; do [[ "$x" == "$w" ]] && return 0; done
  return 1
}
cmdline=$(cat "$PROC/cmdline" 2>/dev/null || true)
cmdline_has() { [[ " $cmdline " == *" $1"* ]]; }

# Interfaces that must stay with the kernel: those carrying a default route
# (any table, IPv4 or IPv6) or an established SSH session.
route_ifaces=() ssh_ifaces=()
load_mgmt() {
  local line dev laddr
  while read -r line; do
    dev=$(awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' <<<"$line")
    [[ -n "$dev" ]] && route_ifaces+=("$dev")
  done < <({ timeout $T ip -o -4 route show table all 2>/dev/null; timeout $T ip -o -6 route show table all 2>/dev/null; } | awk '$1 == "default"')
  while read -r laddr; do
    [[ -z "$laddr" ]] && continue
    laddr=${laddr%:*} laddr=${laddr#[} laddr=${laddr%]}
    dev=$(timeout $T ip -o addr show to "$laddr" 2>/dev/null | awk '{print $2; exit}' || true)
    [[ -n "$dev" ]] && ssh_ifaces+=("$dev")
  done < <(timeout $T ss -Htn state established '( sport = :22 )' 2>/dev/null | awk '{print $3}')
  return 0
}
# IFACE plus every device stacked on it (VLANs, bonds, bridges), recursively.
stacked_ifaces() {
  local dev=$1 depth=${2:-0} u
  echo "$dev"
  ((depth > 4)) && return 0
  for u in "$SYS/class/net/$dev"/upper_* "$SYS/class/net/$dev/master"; do
    [[ -e "$u" ]] || continue
    stacked_ifaces "$(basename "$(readlink -f "$u")")" $((depth + 1))
  done
}
# Prints why IFACE is the management interface, or nothing.
mgmt_reason() {
  local s what
  while read -r s; do
    what=""
    in_list "$s" "${route_ifaces[@]}" && what="the default route"
    in_list "$s" "${ssh_ifaces[@]}" && what="${what:+$what and }an SSH session"
    if [[ -n "$what" ]]; then
      if [[ "$s" == "$1" ]]; then echo "$1 carries $what"; else echo "$1 is under $s, which carries $what"; fi
      return 0
    fi
  done < <(stacked_ifaces "$1" | sort -u)
}
pci_ifaces() { # ADDR -> kernel interface names (virtio nests them one level down)
  local d="$SYS/bus/pci/devices/$1" n
  for n in "$d"/net/* "$d"/virtio*/net/*; do
    [[ -e "$n" ]] && basename "$n"
  done
  return 0
}
pci_driver() {
  local l="$SYS/bus/pci/devices/$1/driver"
  if [[ -L "$l" ]]; then basename "$(readlink "$l")"; else echo "none"; fi
}
pci_id() { # ADDR -> vendor:device without 0x
  local d="$SYS/bus/pci/devices/$1"
  echo "$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
}
pci_name() {
  local n
  n=$(timeout $T lspci -mm -s "$1" 2>/dev/null | awk -F'"' '{print $4 " " $6; exit}' || true)
  echo "${n:-PCI device}"
}
normalize_pci() { # 03:00.0 -> 0000:03:00.0; prints nothing if malformed
  local a=${1,,}
  [[ "$a" =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && a="0000:$a"
  [[ "$a" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && echo "$a"
  return 0
}
net_pci_devices() {
  local d
  for d in "$SYS"/bus/pci/devices/*; do
    [[ -e "$d/class" ]] || continue
    [[ $(cat "$d/class") == 0x02* ]] && basename "$d"
  done
  return 0
}
iommu_groups() { local g=("$SYS"/kernel/iommu_groups/*); [[ -e "${g[0]}" ]] && echo "${#g[@]}" || echo 0; }
# vfio's no-IOMMU mode exists only in kernels built with CONFIG_VFIO_NOIOMMU; Debian 12's stock kernel is not.
# 0: built in, 1: not built, 2: unknown (no /boot/config).
kernel_noiommu() {
  local cfg="${WT_KERNEL_CONFIG:-/boot/config-$(uname -r)}"
  [[ -r "$cfg" ]] || return 2
  grep -q '^CONFIG_VFIO_NOIOMMU=y' "$cfg" && return 0
  return 1
}
# How to give DPDK a NIC without an IOMMU on this kernel: vfio's no-IOMMU mode where it exists, else
# uio_pci_generic. The one wording for the IOMMU check, a refused bind and --noiommu.
without_iommu_fix() {
  if kernel_noiommu; then
    echo "sudo $0 --noiommu (vfio-pci's no-IOMMU mode), or bind with: sudo $0 --bind PCI... --driver uio_pci_generic"
  else
    echo "bind with: sudo $0 --bind PCI... --driver uio_pci_generic (this kernel has no vfio no-IOMMU mode: CONFIG_VFIO_NOIOMMU is off, as in Debian 12's)"
  fi
}
UIO_DROPIN=${WT_UIO_DROPIN:-/etc/systemd/system/wiretally.service.d/50-uio_pci_generic.conf}
# The NICs bound to a uio driver (the config's, or any): no IOMMU is needed for them.
uio_nics() {
  local a out=() list=("${cfg_allow[@]}")
  ((${#list[@]})) || mapfile -t list < <(net_pci_devices)
  for a in "${list[@]}"; do
    case $(pci_driver "$a") in uio_pci_generic|igb_uio) out+=("$a") ;; esac
  done
  echo "${out[*]:-}"
}
noiommu_mode() { [[ $(cat "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode" 2>/dev/null) == Y ]]; }
vfio_loaded() { [[ -d "$SYS/bus/pci/drivers/vfio-pci" || -d "$SYS/module/vfio_pci" ]]; }
# Devices that share ADDR's IOMMU group but are bound to another kernel driver
# (vfio can only use a group when every endpoint in it is free or vfio's).
group_conflicts() {
  local addr=$1 g o drv cls
  g="$SYS/bus/pci/devices/$addr/iommu_group/devices"
  [[ -d "$g" ]] || return 0
  for o in "$g"/*; do
    o=$(basename "$o")
    [[ "$o" == "$addr" ]] && continue
    cls=$(cat "$SYS/bus/pci/devices/$o/class" 2>/dev/null || echo 0)
    [[ "$cls" == 0x0604* ]] && continue # PCI bridges do not count
    drv=$(pci_driver "$o")
    [[ "$drv" == none || "$drv" == vfio-pci || "$drv" == pcieport ]] && continue
    echo "$o($drv)"
  done
  return 0
}

find_wiretally() {
  local c
  for c in "${WIRETALLY:-}" /usr/local/bin/wiretally "$here/../build/app/wiretally"; do
    [[ -n "$c" && -x "$c" ]] && { echo "$c"; return 0; }
  done
  return 0
}

# PCI ids DPDK has a driver for: "SOURCE VENDOR:DEVICE PMD KMOD", SOURCE being
# "build" (drivers linked into this wiretally binary) or "dpdk" (every PMD of
# the installed DPDK, /usr/lib/*/dpdk/pmds-*).
declare -A pmd_build=() pmd_dpdk=() kmod_of=()
pmdinfo_works=0
load_pmds() {
  command -v dpdk-pmdinfo.py >/dev/null || return 0
  # DPDK 22.11's dpdk-pmdinfo.py reads ELF sections with pyelftools, which the dpdk package only recommends:
  # without it every table comes back empty, which must not read as "no driver".
  # Ask the interpreter dpdk-pmdinfo.py runs under (its #! line), not whichever python3 is first on PATH.
  local interpreter
  interpreter=$(sed -n '1s/^#! *//p' "$(command -v dpdk-pmdinfo.py)" | awk '{print ($1 ~ /env$/) ? $2 : $1}')
  if ! "${interpreter:-python3}" -c 'import elftools' 2>/dev/null; then
    report WARN pmdinfo "dpdk-pmdinfo.py cannot read driver tables: python3-pyelftools is missing, so NIC support is unknown below" \
      "apt-get install python3-pyelftools, then run this again"
    return 0
  fi
  pmdinfo_works=1
  local src id pmd kmod
  while read -r src id pmd kmod; do
    [[ -z "$id" ]] && continue
    if [[ "$src" == build ]]; then pmd_build[$id]=$pmd; else pmd_dpdk[$id]=$pmd; fi
    kmod_of[$id]=$kmod
  done < <(timeout 60 python3 - "$(find_wiretally)" <<'EOF' 2>/dev/null || true
import glob, json, os, subprocess, sys
def ids(paths):
    paths = [p for p in paths if p]
    if not paths:
        return []
    try:
        out = subprocess.run(["dpdk-pmdinfo.py", *paths], capture_output=True, text=True, timeout=50).stdout
        return json.loads(out or "[]")
    except Exception:
        return []
libs = sorted({os.path.realpath(p) for p in glob.glob("/usr/lib/*/dpdk/pmds-*/librte_net_*.so*")})
for src, paths in (("build", [sys.argv[1]]), ("dpdk", libs)):
    for drv in ids(paths):
        for pid in drv.get("pci_ids", []):
            if pid.get("vendor") and pid.get("device"):
                kmod = (drv.get("kmod") or "-").replace(" ", "")
                print(src, f'{pid["vendor"]}:{pid["device"]}', drv["name"], kmod)
EOF
  )
}

# ---------------------------------------------------------------- config
cfg_hugepages=1 cfg_memory_mb=1024 cfg_pci=1
cfg_cores=() cfg_allow=() cfg_vdev_ifaces=() cfg_mode=inline
load_config() {
  local out
  if ! out=$(python3 - "$config" 2>&1 <<'EOF'
import shlex, sys, tomllib
path = sys.argv[1]
try:
    with open(path, "rb") as f:
        c = tomllib.load(f)
except OSError as e:
    print(f"{path}: {e.strerror}", file=sys.stderr); sys.exit(1)
except tomllib.TOMLDecodeError as e:
    print(f"{path}: {e}", file=sys.stderr); sys.exit(1)
eal = c.get("eal", {})
q = lambda v: shlex.quote(str(v))
arr = lambda name, vals: print(f"{name}=(" + " ".join(q(v) for v in vals) + ")")
print(f"cfg_hugepages={1 if eal.get('hugepages', True) else 0}")
print(f"cfg_memory_mb={int(eal.get('memory_mb', 1024))}")
arr("cfg_cores", eal.get("cores", [0, 1]))
arr("cfg_allow", eal.get("allow", []))
ifaces = []
for v in eal.get("vdevs", []):
    name, _, args = str(v).partition(",")
    if name.startswith(("net_af_packet", "eth_af_packet", "net_af_xdp", "net_pcap")):
        for kv in args.split(","):
            k, _, val = kv.partition("=")
            if k in ("iface", "rx_iface", "tx_iface", "rx_iface_in"):
                ifaces.append(val)
arr("cfg_vdev_ifaces", ifaces)
print(f"cfg_mode={q(c.get('run', {}).get('mode', 'inline'))}")
print(f"cfg_pci={1 if eal.get('allow') else 0}")
EOF
  ); then
    report FAIL config "$out" "fix the TOML at the line named; deploy/configs/ has commented examples"
    return 1
  fi
  eval "$out"
}

# ---------------------------------------------------------------- checks
check_root() {
  if [[ $(id -u) -eq 0 ]]; then
    report PASS root "running as root"
  else
    report WARN root "not root: vfio, pagemap and some sysfs files are unreadable, results may be incomplete" "run it with sudo"
  fi
}

check_cpu() {
  local online n flags workers=() isolated missing=() c notiso=() gov govs
  online=$(expand_cpulist "$(cat "$SYS/devices/system/cpu/online" 2>/dev/null || echo 0)")
  read -r -a _cpus <<<"$online"
  n=${#_cpus[@]}
  if ((n < 2)); then
    report FAIL cpu "$n CPU online; wiretally needs 2 (stats core + one worker)" "use a box with at least 2 (better 4) cores"
  else
    report PASS cpu "$n CPUs online ($(compress_cpulist "$online"))"
  fi
  if [[ -n "$config" ]]; then
    for c in "${cfg_cores[@]}"; do in_list "$c" "${_cpus[@]}" || missing+=("$c"); done
    if ((${#missing[@]})); then
      report FAIL cores "eal.cores lists CPU ${missing[*]}, not online here" "set eal.cores in $config to CPUs from $(compress_cpulist "$online")"
    else
      report PASS cores "eal.cores ${cfg_cores[*]} are online"
    fi
    workers=("${cfg_cores[@]:1}")
  else
    workers=("${_cpus[@]:1}")
  fi
  flags=$(grep -m1 '^flags' "$PROC/cpuinfo" 2>/dev/null || true)
  if [[ " $flags " == *" sse4_2 "* ]]; then
    report PASS cpu-isa "SSE4.2 present (DPDK is built for corei7, Hyperscan needs SSSE3)"
  else
    report FAIL cpu-isa "no SSE4.2: DPDK (-march=corei7) and Hyperscan will not run" "use an x86-64 CPU from 2009 or later (Nehalem / Bulldozer)"
  fi
  isolated=$(expand_cpulist "$(cat "$SYS/devices/system/cpu/isolated" 2>/dev/null || true)")
  read -r -a _iso <<<"$isolated"
  if [[ -z "$config" && -n "$isolated" ]]; then
    # No config to compare with: any isolated set is a deliberate choice.
    report PASS isolcpus "CPUs $(compress_cpulist "$isolated") isolated: give them to the workers (eal.cores after the first)"
  elif ((${#workers[@]})); then
    for c in "${workers[@]}"; do in_list "$c" "${_iso[@]}" || notiso+=("$c"); done
    local wl
    wl=$(compress_cpulist "${workers[*]}")
    if ((${#notiso[@]})); then
      report WARN isolcpus "worker CPU(s) $(compress_cpulist "${notiso[*]}") not isolated: the scheduler and interrupts share them (poll-mode latency spikes)" \
        "add isolcpus=$wl nohz_full=$wl rcu_nocbs=$wl to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot"
    else
      report PASS isolcpus "worker CPUs $wl are isolated"
    fi
  fi
  govs=$(cat "$SYS"/devices/system/cpu/cpu*/cpufreq/scaling_governor 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [[ -z "$govs" ]]; then
    report PASS cpufreq "no frequency scaling exposed (fixed clock or VM)"
  else
    gov=${govs% }
    if [[ "$gov" == performance ]]; then
      report PASS cpufreq "governor performance"
    else
      report WARN cpufreq "governor $gov: polling cores may be clocked down" "apt-get install linux-cpupower && cpupower frequency-set -g performance (or set it in the BIOS)"
    fi
  fi
}

check_iommu() {
  local n vendor need=$cfg_pci st want on_uio
  n=$(iommu_groups)
  on_uio=$(uio_nics)
  vendor=$(awk -F': ' '/^vendor_id/ {print $2; exit}' "$PROC/cpuinfo" 2>/dev/null || true)
  # AMD-Vi is on by default once the BIOS enables it; Intel VT-d needs intel_iommu=on.
  if [[ "$vendor" == AuthenticAMD ]]; then want="iommu=pt"; else want="intel_iommu=on iommu=pt"; fi
  st=$(need_status "$need")
  if ((n > 0)); then
    report PASS iommu "$n IOMMU groups"
    if ! cmdline_has "iommu=pt"; then
      report WARN iommu-pt "iommu=pt not on the kernel command line: the kernel's own NIC and disk DMA go through IOMMU translation" "add iommu=pt to GRUB_CMDLINE_LINUX, update-grub, reboot"
    fi
  elif noiommu_mode; then
    report WARN iommu "no IOMMU; vfio runs in unsafe no-IOMMU mode (a NIC can DMA anywhere in memory)" "enable VT-d / AMD-Vi in the BIOS and add $want to the kernel command line"
  elif [[ -n "$on_uio" ]]; then
    report WARN iommu "no IOMMU; $on_uio on uio_pci_generic: works, but a NIC can DMA anywhere in memory" "enable VT-d / AMD-Vi (a VM: give it an IOMMU) and bind to vfio-pci for isolation"
  else
    local why="no IOMMU groups (/sys/kernel/iommu_groups is empty)" fix
    if [[ "$vendor" != AuthenticAMD ]] && ! cmdline_has "intel_iommu=on"; then why+="; intel_iommu=on is not on the kernel command line"; fi
    ((need)) || why+="; not needed by $config (no eal.allow)"
    local without
    without=$(without_iommu_fix)
    if grep -qw hypervisor "$PROC/cpuinfo" 2>/dev/null; then
      # A VM has no IOMMU unless its host gives it one; nothing in this guest's firmware can add it.
      why+="; this is a VM"
      fix="$without; or give the VM an IOMMU (QEMU: -machine q35 -device intel-iommu) and add $want"
    else
      fix="enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the BIOS, add $want to GRUB_CMDLINE_LINUX, update-grub, reboot; a board without one: $without"
    fi
    report "$st" iommu "$why" "$fix"
  fi
}

check_vfio() {
  local need=$cfg_pci
  if vfio_loaded; then
    report PASS vfio-pci "vfio-pci loaded"
  elif timeout $T modprobe -n -q vfio-pci 2>/dev/null; then
    report PASS vfio-pci "vfio-pci loadable (check-box.sh --bind loads it)"
  elif grep -qs 'vfio-pci.ko' "/lib/modules/$(uname -r)/modules.builtin"; then
    report PASS vfio-pci "vfio-pci built into the kernel"
  else
    report "$(need_status "$need")" vfio-pci "vfio-pci is neither loaded nor loadable (no module for kernel $(uname -r))$( ((need)) || echo "; not needed by $config")" \
      "boot a distribution kernel with modules (apt-get install linux-image-amd64) or one built with CONFIG_VFIO_PCI"
  fi
}

check_hugepages() {
  local need=$cfg_hugepages want=$cfg_memory_mb d kb nr free total_mb=0 free_mb=0 sizes=() mounts
  for d in "$SYS"/kernel/mm/hugepages/hugepages-*kB; do
    [[ -d "$d" ]] || continue
    kb=${d##*hugepages-}
    kb=${kb%kB}
    nr=$(cat "$d/nr_hugepages")
    free=$(cat "$d/free_hugepages")
    ((nr > 0)) && sizes+=("${nr}x$((kb / 1024))M")
    total_mb=$((total_mb + nr * kb / 1024))
    free_mb=$((free_mb + free * kb / 1024))
  done
  mounts=$(awk '$3 == "hugetlbfs" {print $2}' "$PROC/mounts" 2>/dev/null | tr '\n' ' ' || true)
  mounts=${mounts% }
  if ((!need)); then
    report PASS hugepages "not needed: eal.hugepages = false in $config (${total_mb} MB reserved)"
    return
  fi
  local fix="deploy/hugepages.sh --mb $((want + 256))"
  if ((total_mb == 0)); then
    report FAIL hugepages "no hugepages reserved; wiretally needs ${want} MB (eal.memory_mb)" "$fix"
  elif ((free_mb >= want)); then
    report PASS hugepages "${sizes[*]} reserved, ${free_mb} MB free (${want} MB needed)"
  elif ((total_mb >= want)) && pgrep -x wiretally >/dev/null 2>&1; then
    report PASS hugepages "${sizes[*]} reserved, ${free_mb} MB free: the running wiretally holds the rest"
  else
    report FAIL hugepages "${sizes[*]} reserved but only ${free_mb} MB free; wiretally needs ${want} MB (eal.memory_mb)" "$fix"
  fi
  if [[ -n "$mounts" ]]; then
    report PASS hugetlbfs "mounted at $mounts"
  else
    report FAIL hugetlbfs "no hugetlbfs mounted: EAL finds no hugepages without it" "deploy/hugepages.sh --mb $((want + 256)) (mounts /dev/hugepages)"
  fi
}

check_nics() {
  local addr id drv ifs name numa pmd bpmd kmod mg st det fix confl usable=0 n=0
  local wt
  wt=$(find_wiretally)
  load_pmds
  local have_tables=$(( ${#pmd_dpdk[@]} + ${#pmd_build[@]} ))
  # A static build carries exactly the drivers in meson.build's dpdk_static_libs.
  if [[ -n "$wt" ]] && ((pmdinfo_works && ${#pmd_build[@]} == 0)); then
    report "$(need_status "$cfg_pci")" build-pmds "$wt links no PCI NIC driver (virtual devices such as net_af_packet only)" \
      "add bus_pci and your NIC's net_* driver to dpdk_static_libs in meson.build and rebuild"
  fi
  while read -r addr; do
    [[ -z "$addr" ]] && continue
    n=$((n + 1))
    id=$(pci_id "$addr")
    drv=$(pci_driver "$addr")
    ifs=$(pci_ifaces "$addr" | tr '\n' ' ')
    ifs=${ifs% }
    name=$(pci_name "$addr")
    numa=$(cat "$SYS/bus/pci/devices/$addr/numa_node" 2>/dev/null || echo -1)
    pmd=${pmd_dpdk[$id]:-} bpmd=${pmd_build[$id]:-} kmod=${kmod_of[$id]:-}
    mg=""
    local i
    for i in $ifs; do
      mg=$(mgmt_reason "$i")
      [[ -n "$mg" ]] && break
    done
    local wanted=0
    in_list "$addr" "${cfg_allow[@]}" && wanted=1
    det="$addr $name [$id] drv=$drv${ifs:+ if=$ifs} numa=$numa"
    fix=""
    if [[ -n "$mg" ]]; then
      st=PASS det+=": management interface ($mg), stays with the kernel"
      if ((wanted)); then
        st=FAIL fix="do not give wiretally the management NIC: pick another in eal.allow, or move management to another port first"
      fi
    elif [[ "$drv" == vfio-pci || "$drv" == uio_pci_generic || "$drv" == igb_uio ]]; then
      st=PASS det+=": bound to $drv, ready for DPDK${pmd:+ ($pmd)}"
      usable=$((usable + 1))
    elif [[ "$kmod" == *mlx5_core* ]]; then
      st=PASS det+=": ${pmd:-net_mlx5} uses it beside the kernel driver (bifurcated), no binding needed"
      usable=$((usable + 1))
    elif [[ -n "$pmd" || -n "$bpmd" ]]; then
      st=WARN det+=": DPDK driver ${bpmd:-$pmd}, not bound yet"
      fix="deploy/check-box.sh --bind $addr"
      if [[ $(iommu_groups) == 0 ]] && ! noiommu_mode && ! kernel_noiommu; then fix+=" --driver uio_pci_generic (no IOMMU here)"; fi
      ((wanted)) && st=FAIL
      usable=$((usable + 1))
    elif ((have_tables == 0)); then
      st=WARN det+=": DPDK support unknown (dpdk-pmdinfo.py gave no driver table)"
      fix="apt-get install dpdk python3-pyelftools, then run this again"
    else
      st=WARN det+=": no DPDK driver for $id in the installed DPDK"
      fix="use a NIC DPDK supports (https://core.dpdk.org/supported/), e.g. Intel I350, X520/X710, E810"
      ((wanted)) && st=FAIL
    fi
    # This wiretally build may carry fewer drivers than the DPDK package.
    if [[ -n "$wt" && ${#pmd_build[@]} -gt 0 && -n "$pmd" && -z "$bpmd" && -z "$mg" ]]; then
      [[ "$st" == PASS ]] && st=WARN
      ((wanted)) && st=FAIL
      det+="; this wiretally build does not link $pmd"
      fix="rebuild wiretally with $pmd in its DPDK driver list"
    fi
    confl=$(group_conflicts "$addr" | tr '\n' ' ')
    if [[ -n "$confl" && -z "$mg" && "$drv" != vfio-pci ]]; then
      [[ "$st" == PASS ]] && st=WARN
      det+="; its IOMMU group also holds ${confl% }"
      local others=""
      for i in $confl; do others+=" ${i%%(*}"; done
      fix="vfio takes whole IOMMU groups: deploy/check-box.sh --bind $addr$others, or use a slot with its own group"
    fi
    report "$st" nic "$det" "$fix"
  done < <(net_pci_devices)

  local need=$cfg_pci
  if [[ -n "$config" ]] && ((need)); then
    local a missing=()
    for a in "${cfg_allow[@]}"; do
      [[ -e "$SYS/bus/pci/devices/$a" ]] || missing+=("$a")
    done
    if ((${#missing[@]})); then
      report FAIL ports "eal.allow lists ${missing[*]}, not on this box's PCI bus" "dpdk-devbind.py --status-dev net lists the addresses; fix eal.allow and [[port]] device"
    else
      report PASS ports "eal.allow devices present: ${cfg_allow[*]}"
    fi
  elif ((usable > 0)); then
    report PASS nics "$usable of $n network devices can be DPDK ports"
  elif ((have_tables == 0 && n > 1)); then
    report WARN nics "whether DPDK can use the $n network devices is unknown (no driver tables)" "apt-get install dpdk python3-pyelftools, then run this again"
  else
    report "$(need_status "$need")" nics "no network device DPDK can use besides the management interface ($n found)$( ((need)) || echo "; not needed by $config")" \
      "add a second NIC DPDK supports (deploy/README.md suggests some), or use the af_packet config (deploy/configs/laptop-af_packet.toml)"
  fi
  local ifc
  for ifc in "${cfg_vdev_ifaces[@]}"; do
    if [[ -e "$SYS/class/net/$ifc" ]]; then
      report PASS vdev "interface $ifc for the af_packet/pcap vdev exists ($(cat "$SYS/class/net/$ifc/operstate" 2>/dev/null || echo unknown))"
    else
      report FAIL vdev "interface $ifc named in eal.vdevs does not exist" "ip link lists the interfaces; fix iface= in eal.vdevs"
    fi
  done
}

check_tools() {
  local wt out rc
  if command -v dpdk-devbind.py >/dev/null; then
    report PASS tools "dpdk-devbind.py $(dpkg-query -W -f='(dpdk ${Version})' dpdk 2>/dev/null || true)"
  else
    report WARN tools "dpdk-devbind.py missing (needed by --bind)" "apt-get install dpdk"
  fi
  wt=$(find_wiretally)
  if [[ -z "$wt" ]]; then
    report WARN wiretally "wiretally binary not found (/usr/local/bin, build/app)" "scripts/build.sh && sudo deploy/install.sh"
    return
  fi
  report PASS wiretally "binary $wt"
  [[ -n "$config" ]] || return 0
  rc=0
  out=$(timeout 20 "$wt" run --check --config "$config" 2>&1 >/dev/null) || rc=$?
  case $rc in
    0) report PASS config "wiretally run --check accepts $config" ;;
    78) report FAIL config "$(head -n1 <<<"$out")" "fix the line named; deploy/configs/ has commented examples" ;;
    124) report WARN config "wiretally run --check did not answer in 20 s" "run it by hand: $wt run --check --config $config" ;;
    *) report WARN config "wiretally run --check exited $rc: $(head -n1 <<<"$out")" "a build without the live mode cannot check configs; rebuild" ;;
  esac
}

check_service() {
  [[ -d /run/systemd/system ]] || return 0
  systemctl cat wiretally.service >/dev/null 2>&1 || return 0
  local st
  st=$(systemctl is-active wiretally.service 2>/dev/null || true)
  case $st in
    active) report PASS service "wiretally.service active" ;;
    failed) report WARN service "wiretally.service failed" "journalctl -u wiretally -n 50" ;;
    *) report PASS service "wiretally.service installed, $st" ;;
  esac
}

# ---------------------------------------------------------------- bind
record_driver() { # ADDR DRIVER: remember the kernel driver for --unbind
  ((dry)) && return 0
  mkdir -p "$(dirname "$BINDINGS")"
  touch "$BINDINGS"
  grep -v "^$1 " "$BINDINGS" >"$BINDINGS.tmp" || true
  echo "$1 $2" >>"$BINDINGS.tmp"
  mv "$BINDINGS.tmp" "$BINDINGS"
}
run_devbind() { # DRIVER ADDR
  if ((dry)); then
    say "would run: dpdk-devbind.py --bind=$1 $2"
    return 0
  fi
  say "+ dpdk-devbind.py --bind=$1 $2"
  timeout 60 dpdk-devbind.py --bind="$1" "$2" 2>&1 | grep -v 'libkmod' | while IFS= read -r l; do say "$l"; done || true
}
do_bind() {
  local raw addr drv ifs i mg confl addrs
  command -v dpdk-devbind.py >/dev/null || { report FAIL bind "dpdk-devbind.py not installed" "apt-get install dpdk"; finish; }
  if [[ $(id -u) -ne 0 ]] && ((!dry)); then report FAIL bind "binding needs root" "sudo $0 --bind ${targets[*]}"; finish; fi
  load_mgmt
  local norm_targets=()
  for raw in "${targets[@]}"; do norm_targets+=("$(normalize_pci "$raw")"); done
  for raw in "${targets[@]}"; do
    addr=$(normalize_pci "$raw")
    if [[ -z "$addr" ]]; then report FAIL bind "'$raw' is not a PCI address (0000:03:00.0)" "dpdk-devbind.py --status-dev net lists them"; continue; fi
    if [[ ! -e "$SYS/bus/pci/devices/$addr" ]]; then report FAIL bind "$addr: no such PCI device" "dpdk-devbind.py --status-dev net lists them"; continue; fi
    if [[ $(cat "$SYS/bus/pci/devices/$addr/class") != 0x02* ]]; then report FAIL bind "$addr is not a network device" "pick a NIC from dpdk-devbind.py --status-dev net"; continue; fi
    drv=$(pci_driver "$addr")
    ifs=$(pci_ifaces "$addr" | tr '\n' ' ')
    mg=""
    for i in $ifs; do mg=$(mgmt_reason "$i"); [[ -n "$mg" ]] && break; done
    if [[ -n "$mg" ]]; then
      report FAIL bind "$addr refused: management interface ($mg); binding it would cut this box off the network" "bind a different NIC; keep this one for SSH and the metrics scrape"
      continue
    fi
    if [[ "$action" == unbind ]]; then
      do_unbind_one "$addr" "$drv"
      continue
    fi
    if [[ "$drv" == "$bind_driver" ]]; then report PASS bind "$addr already bound to $bind_driver"; continue; fi
    addrs=""
    for i in $ifs; do
      addrs+=$(timeout $T ip -o addr show dev "$i" scope global 2>/dev/null | awk '{print $4}' | tr '\n' ' ' || true)
    done
    if [[ -n "$addrs" ]]; then
      report FAIL bind "$addr ($ifs) still has addresses ${addrs% }: something on this box uses it" \
        "if nothing should: ip addr flush dev ${ifs%% *} && ip link set ${ifs%% *} down, and drop it from /etc/network/interfaces or NetworkManager; then bind again"
      continue
    fi
    if [[ $bind_driver == vfio-pci && $(iommu_groups) == 0 ]] && ! noiommu_mode; then
      report FAIL bind "$addr: no IOMMU, vfio-pci cannot take the NIC" "enable VT-d/AMD-Vi in the BIOS and add intel_iommu=on iommu=pt; without an IOMMU: $(without_iommu_fix)"
      continue
    fi
    confl=""
    for i in $(group_conflicts "$addr"); do
      in_list "$(normalize_pci "${i%%(*}")" "${norm_targets[@]}" || confl+="$i "
    done
    if [[ -n "$confl" ]]; then
      report WARN bind "$addr shares its IOMMU group with ${confl% }: DPDK cannot open the group until those are bound too" "bind them in the same command, or use another slot"
    fi
    if [[ ! -d "$SYS/bus/pci/drivers/$bind_driver" ]]; then
      if ((dry)); then say "would run: modprobe $bind_driver"
      elif ! timeout $T modprobe "$bind_driver"; then
        report FAIL bind "modprobe $bind_driver failed" "install the kernel's modules (linux-image-amd64)"
        continue
      fi
    fi
    [[ "$drv" != none ]] && record_driver "$addr" "$drv"
    run_devbind "$bind_driver" "$addr"
    if ((dry)); then
      report PASS bind "$addr ($drv${ifs:+, ${ifs% }}) would be bound to $bind_driver"
    elif [[ $(pci_driver "$addr") == "$bind_driver" ]]; then
      report PASS bind "$addr bound to $bind_driver (was $drv); undo: deploy/check-box.sh --unbind $addr" \
        ""
    else
      report FAIL bind "$addr is still on $(pci_driver "$addr") after dpdk-devbind.py (its message is above)" "dpdk-devbind.py --status-dev net; dmesg | tail"
    fi
  done
  if ((n_fail == 0)) && [[ "$action" == bind && $bind_driver == uio_pci_generic ]]; then
    # DPDK maps a uio device's BARs through /sys/bus/pci/devices/*/resource*, read-write: the unit's
    # ProtectKernelTunables=yes makes /sys read-only, so the unit needs a drop-in that lifts it.
    if ((dry)); then
      say "would write $UIO_DROPIN: [Service] ProtectKernelTunables=no"
    elif [[ ! -s "$UIO_DROPIN" ]]; then
      mkdir -p "$(dirname "$UIO_DROPIN")"
      printf '# Written by check-box.sh --bind --driver uio_pci_generic: DPDK maps uio BARs through /sys read-write.\n[Service]\nProtectKernelTunables=no\n' >"$UIO_DROPIN"
      say "+ wrote $UIO_DROPIN (ProtectKernelTunables=no: DPDK writes uio devices' /sys resource files)"
      [[ -d /run/systemd/system ]] && systemctl daemon-reload 2>/dev/null || true
    fi
  fi
  if ((!dry && n_fail == 0)) && [[ "$action" == bind ]]; then
    say "The binding lasts until reboot. To keep it: apt-get install driverctl && driverctl set-override ADDR $bind_driver"
  fi
  finish
}
do_unbind_one() { # ADDR CURRENT-DRIVER
  local addr=$1 drv=$2 orig
  if [[ "$drv" != vfio-pci && "$drv" != uio_pci_generic && "$drv" != igb_uio ]]; then
    report PASS unbind "$addr is on its kernel driver ($drv) already"
    return
  fi
  orig=$(awk -v a="$addr" '$1 == a {print $2}' "$BINDINGS" 2>/dev/null | tail -n1 || true)
  if [[ -z "$orig" ]]; then
    orig=$(timeout $T lspci -k -s "$addr" 2>/dev/null | awk -F': ' '/Kernel modules/ {split($2, m, ", "); print m[1]; exit}' || true)
  fi
  if [[ -z "$orig" ]]; then
    report FAIL unbind "$addr: no kernel driver known for it" "dpdk-devbind.py --bind=DRIVER $addr (the NIC's kernel driver, e.g. ixgbe, i40e, igb)"
    return
  fi
  if ((dry)); then say "would run: modprobe $orig"; else timeout $T modprobe "$orig" 2>/dev/null || true; fi
  if ((!dry)) && command -v driverctl >/dev/null && driverctl list-overrides 2>/dev/null | grep -q "^$addr "; then
    say "+ driverctl unset-override $addr"
    driverctl unset-override "$addr" || true
  fi
  run_devbind "$orig" "$addr"
  if ((dry)); then
    report PASS unbind "$addr would go back to $orig"
  elif [[ $(pci_driver "$addr") == "$orig" ]]; then
    report PASS unbind "$addr back on $orig; its interface returns with the kernel's name"
  else
    report FAIL unbind "$addr is on $(pci_driver "$addr"), not $orig" "dpdk-devbind.py --bind=$orig $addr; dmesg | tail"
  fi
}

# vfio's unsafe no-IOMMU mode, now and at every boot.
do_noiommu() {
  if [[ $(iommu_groups) != 0 ]]; then
    report PASS noiommu "this box has an IOMMU ($(iommu_groups) groups): vfio-pci uses it, no-IOMMU mode is not needed"
    finish
  fi
  if [[ $(id -u) -ne 0 ]] && ((!dry)); then report FAIL noiommu "needs root" "sudo $0 --noiommu"; finish; fi
  local kn=0
  kernel_noiommu || kn=$?
  if ((kn == 1)); then
    report FAIL noiommu "kernel $(uname -r) is built without vfio's no-IOMMU mode (CONFIG_VFIO_NOIOMMU is off, as in Debian 12's)" \
      "$(without_iommu_fix)"
    finish
  fi
  local line="options vfio enable_unsafe_noiommu_mode=1"
  if ((dry)); then
    say "would write: $line > $NOIOMMU_CONF"
  elif [[ $(cat "$NOIOMMU_CONF" 2>/dev/null) != "$line" ]]; then
    mkdir -p "$(dirname "$NOIOMMU_CONF")"
    echo "$line" >"$NOIOMMU_CONF"
    say "+ wrote $NOIOMMU_CONF: $line"
  fi
  if [[ -w "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode" ]]; then
    if ((dry)); then say "would write: 1 > $SYS/module/vfio/parameters/enable_unsafe_noiommu_mode"
    else echo 1 >"$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode"; fi
  elif ((dry)); then
    say "would run: modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci"
  else
    timeout $T modprobe vfio enable_unsafe_noiommu_mode=1 || true
  fi
  ((dry)) || timeout $T modprobe vfio-pci || true
  if ((dry)); then
    report PASS noiommu "would turn on vfio's no-IOMMU mode"
  elif noiommu_mode; then
    report PASS noiommu "vfio no-IOMMU mode on (and at boot: $NOIOMMU_CONF); DPDK uses physical addresses (IOVA as PA), which needs root and hugepages" \
      ""
  else
    report FAIL noiommu "vfio's no-IOMMU mode did not turn on" "grep VFIO_NOIOMMU /boot/config-$(uname -r) (Debian 12's kernel lacks it) and dmesg | grep -i vfio; or bind with: sudo $0 --bind PCI... --driver uio_pci_generic"
  fi
  finish
}

# ---------------------------------------------------------------- main
if [[ "$action" == noiommu ]]; then
  do_noiommu
elif [[ "$action" != check ]]; then
  do_bind
fi

if [[ -n "$config" ]]; then
  if [[ ! -r "$config" ]]; then
    report FAIL config "$config: no such file (or unreadable)" "give a config path; deploy/configs/*.toml are examples"
    finish
  fi
  load_config || finish
fi
load_mgmt
((json)) || echo "wiretally box check: $(uname -n), kernel $(uname -r)${config:+, config $config (mode $cfg_mode)}"
check_root
check_cpu
check_iommu
check_vfio
check_hugepages
check_nics
check_tools
check_service
finish
