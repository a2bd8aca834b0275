#!/usr/bin/env bash
# Makes the emulated spare box: a Debian 12 root filesystem from Debian's repository (debootstrap), its
# kernel and initrd (linux-image-amd64), as a raw disk image that tests/box/box.py boots under QEMU with
# copy-on-write overlays, so every run starts from the same fresh box. Made once and cached in DIR; made
# again only when this script or the package list changes.
#
#   tests/box/make-box.sh [--packages "PKG ..."] [--force] [DIR]
#
#   DIR          default build/box
#   --packages   extra Debian packages to put on the box (the wiretally bundle's runtime libraries, so the
#                box needs no network for them; the guide's `apt-get install` step then finds them present)
#   --force      make it again even if the cached one is current
#
# What the box has: systemd, udev, kmod, iproute2, pciutils, OpenSSH (root logs in with DIR/id_ed25519
# only), sudo, Python, curl, DPDK's tools (dpdk: dpdk-devbind.py, dpdk-pmdinfo.py; dpdk-dev:
# dpdk-telemetry.py) and what wiretally's guide installs; nothing of wiretally itself: the test copies the
# bundle in as a user would. The management NIC (MAC 52:54:00:77:00:10) takes DHCP from QEMU's user network;
# the data NICs are left unconfigured, as on a box fresh from its installer.
# Prints the image's size and how long each stage took. Exit 0 made or current, 1 failed, 64 usage, 77 not root.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-64}"; }
dir="" extra="" force=0
while (($#)); do
  case $1 in
    --packages) extra=${2:-}; shift 2 || usage ;;
    --force) force=1; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "make-box: unknown argument '$1'" >&2; usage ;;
    *) dir=$1; shift ;;
  esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${dir:-$root/build/box}
[[ $(id -u) -eq 0 ]] || { echo "make-box: debootstrap and mkfs need root" >&2; exit 77; }
for p in debootstrap mkfs.ext4 qemu-img ssh-keygen; do
  command -v "$p" >/dev/null || { echo "make-box: $p is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

# The box's packages. linux-image-amd64 brings vfio-pci, uio_pci_generic and the virtio/e1000e drivers as
# modules; initramfs-tools puts virtio_blk and ext4 in the initrd.
packages=(linux-image-amd64 initramfs-tools systemd-sysv udev kmod iproute2 pciutils openssh-server sudo
  python3 curl procps iputils-ping ca-certificates dpdk dpdk-dev ieee-data)
read -r -a extra_packages <<<"$extra"
packages+=("${extra_packages[@]}")
mirror=http://deb.debian.org/debian
key=$( { cat "$0"; printf '%s\n' "${packages[@]}" | sort -u; } | sha256sum | cut -c1-16)

image=$dir/box.img
if ((!force)) && [[ -s $image && -s $dir/vmlinuz && -s $dir/initrd.img && -s $dir/id_ed25519 && $(cat "$dir/key" 2>/dev/null) == "$key" ]]; then
  echo "make-box: $image is current ($(du -h --apparent-size "$image" | cut -f1) image, $(du -h "$image" | cut -f1) used)"
  exit 0
fi

mkdir -p "$dir"
rootfs=$dir/rootfs
cleanup() { mountpoint -q "$rootfs/proc" && umount "$rootfs/proc"; rm -rf "$rootfs"; }
trap cleanup EXIT
rm -rf "$rootfs" "$image" "$dir/key"
t0=$SECONDS
echo "make-box: debootstrap bookworm from $mirror with ${#packages[@]} packages (about 2 minutes)"
if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" bookworm "$rootfs" "$mirror" \
    >"$dir/debootstrap.log" 2>&1; then
  tail -20 "$dir/debootstrap.log" >&2
  echo "make-box: debootstrap failed (whole log: $dir/debootstrap.log)" >&2
  exit 1
fi
t_boot=$((SECONDS - t0))

# Root logs in over SSH with our key only; the serial console has root's autologin for debugging.
[[ -s $dir/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N "" -C wiretally-box -f "$dir/id_ed25519"
install -d -m 0700 "$rootfs/root/.ssh"
install -m 0600 "$dir/id_ed25519.pub" "$rootfs/root/.ssh/authorized_keys"
echo wtbox >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 wtbox\n' >"$rootfs/etc/hosts"
echo "LABEL=boxroot / ext4 defaults 0 1" >"$rootfs/etc/fstab"
# The management NIC by its MAC; the data NICs stay unconfigured (no DHCP, no IPv6 autoconf chatter).
cat >"$rootfs/etc/systemd/network/10-mgmt.network" <<'EOF'
[Match]
MACAddress=52:54:00:77:00:10
[Network]
DHCP=ipv4
IPv6AcceptRA=no
EOF
cat >"$rootfs/etc/systemd/network/90-data.network" <<'EOF'
[Match]
Name=en* eth*
[Link]
Unmanaged=yes
EOF
chroot "$rootfs" systemctl enable systemd-networkd ssh >/dev/null 2>&1
mkdir -p "$rootfs/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$rootfs/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear %I 115200 linux
EOF
# sshd's host keys are made once here: a fresh box does not spend emulated seconds on them at every boot.
chroot "$rootfs" ssh-keygen -A >/dev/null
# DNS for the box is QEMU's user network's; apt's lists are current so that `apt-get install` in the guide
# resolves names without a network (everything it asks for is already installed).
echo "nameserver 10.0.2.3" >"$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" apt-get update -q >>"$dir/debootstrap.log" 2>&1 || echo "make-box: apt-get update in the box failed (offline?): the guide's apt step will need the network" >&2
umount "$rootfs/proc"
chroot "$rootfs" apt-get clean
cp "$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -1)" "$dir/vmlinuz"
cp "$(ls "$rootfs"/boot/initrd.img-* | sort -V | tail -1)" "$dir/initrd.img"
used_mb=$(du -sm "$rootfs" | cut -f1)
# 1 GiB of room beyond what is installed: the bundle, logs, the snapshot.
mkfs.ext4 -q -F -d "$rootfs" -L boxroot "$image" "$((used_mb + 1024))M"
echo "$key" >"$dir/key"
echo "make-box: $image: Debian 12, kernel $(basename "$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -1)" | sed 's/vmlinuz-//'), ${used_mb} MB installed, $(du -h --apparent-size "$image" | cut -f1) image; debootstrap ${t_boot} s, all $((SECONDS - t0)) s"
