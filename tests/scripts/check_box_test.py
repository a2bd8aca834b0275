#!/usr/bin/env python3
"""deploy/check-box.sh's IOMMU and binding advice against simulated machines (a sysfs, /proc and a kernel config
of the test's own): what the emulated box (tests/box) found, checked without a VM and without root.

    tests/scripts/check_box_test.py CHECK_BOX_SH

- A VM without an IOMMU, on a kernel without vfio's no-IOMMU mode (Debian 12's): FAIL iommu, and the fix is
  uio_pci_generic; `--noiommu` refuses with the same advice and writes nothing.
- The same on a kernel that has the mode: the fix offers `--noiommu` first.
- Bare metal without an IOMMU: the fix is the firmware first.
- NICs already on uio_pci_generic: no IOMMU is a WARN (it works), not a FAIL.
- With IOMMU groups: PASS.
"""
import os
import re
import subprocess
import sys
import tempfile

failures = []


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


class Machine:
    """A directory holding sys/, proc/ and a kernel config, for check-box.sh's WT_* overrides."""

    def __init__(self, root, vm=True, noiommu_kernel=False, iommu_groups=0, nic_driver="virtio-pci"):
        self.root = root
        self.sys = os.path.join(root, "sys")
        self.proc = os.path.join(root, "proc")
        for d in ("kernel/iommu_groups", "bus/pci/drivers", "devices/system/cpu", "kernel/mm/hugepages",
                  "class/net"):
            os.makedirs(os.path.join(self.sys, d), exist_ok=True)
        for g in range(iommu_groups):
            os.makedirs(os.path.join(self.sys, "kernel/iommu_groups", str(g), "devices"))
        self.write("sys/devices/system/cpu/online", "0-3\n")
        os.makedirs(self.proc, exist_ok=True)
        flags = "fpu sse4_2 ssse3" + (" hypervisor" if vm else "")
        self.write("proc/cpuinfo", f"vendor_id\t: GenuineIntel\nflags\t\t: {flags}\n")
        self.write("proc/cmdline", "root=/dev/vda1 ro\n")
        self.write("proc/mounts", "proc /proc proc rw 0 0\n")
        self.write("config", "CONFIG_VFIO=m\n" + ("CONFIG_VFIO_NOIOMMU=y\n" if noiommu_kernel else
                                                   "# CONFIG_VFIO_NOIOMMU is not set\n"))
        # One data NIC: a virtio-net function bound to NIC_DRIVER.
        dev = os.path.join(self.sys, "bus/pci/devices/0000:00:04.0")
        os.makedirs(dev)
        self.write("sys/bus/pci/devices/0000:00:04.0/class", "0x020000\n")
        self.write("sys/bus/pci/devices/0000:00:04.0/vendor", "0x1af4\n")
        self.write("sys/bus/pci/devices/0000:00:04.0/device", "0x1000\n")
        self.write("sys/bus/pci/devices/0000:00:04.0/numa_node", "-1\n")
        drv = os.path.join(self.sys, "bus/pci/drivers", nic_driver)
        os.makedirs(drv, exist_ok=True)
        os.symlink(drv, os.path.join(dev, "driver"))

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def run(self, script, *args):
        env = dict(os.environ, WT_SYSFS=self.sys, WT_PROCFS=self.proc, WT_KERNEL_CONFIG=os.path.join(self.root, "config"),
                   WT_NOIOMMU_CONF=os.path.join(self.root, "modprobe.d", "wiretally-vfio-noiommu.conf"),
                   WT_UIO_DROPIN=os.path.join(self.root, "dropin.conf"),
                   WT_BINDINGS_FILE=os.path.join(self.root, "bindings"), WIRETALLY="/nonexistent")
        p = subprocess.run(["bash", script, *args], capture_output=True, text=True, timeout=120, env=env)
        return p.returncode, p.stdout + p.stderr


def line(out, check_name):
    """The check's line and its fix line, joined."""
    m = re.search(rf"^(\S+)\s+{re.escape(check_name)}\s+(.*)\n(?:\s+fix: (.*)\n)?", out, re.M)
    return (m.group(1), m.group(2), m.group(3) or "") if m else (None, "", "")


def main():
    script = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        m = Machine(os.path.join(tmp, "debian-vm"))
        rc, out = m.run(script)
        st, detail, fix = line(out, "iommu")
        check("VM, no IOMMU, Debian's kernel: FAIL iommu, says it is a VM", st == "FAIL" and "this is a VM" in detail, out)
        check("... the fix is uio_pci_generic, and says why vfio's no-IOMMU mode is out",
              "--driver uio_pci_generic" in fix and "CONFIG_VFIO_NOIOMMU is off" in fix and "--noiommu" not in fix, fix)
        check("... the check exits 1", rc == 1, f"rc={rc}")
        st, detail, fix = line(out, "nic")
        check("... the NIC's own fix binds with uio_pci_generic", "--driver uio_pci_generic" in fix, f"{st} {detail} {fix}")
        rc, out = m.run(script, "--noiommu", "--dry-run")
        st, detail, fix = line(out, "noiommu")
        check("... --noiommu refuses: the kernel has no such mode, use uio_pci_generic",
              rc == 1 and st == "FAIL" and "built without vfio's no-IOMMU mode" in detail and
              "--driver uio_pci_generic" in fix, out)
        check("... and writes no modprobe file", not os.path.exists(os.path.join(m.root, "modprobe.d")))

        m = Machine(os.path.join(tmp, "vm-noiommu-kernel"), noiommu_kernel=True)
        rc, out = m.run(script)
        st, detail, fix = line(out, "iommu")
        check("VM on a kernel with vfio's no-IOMMU mode: the fix offers --noiommu, then uio_pci_generic",
              st == "FAIL" and fix.find("--noiommu") >= 0 and fix.find("--noiommu") < fix.find("uio_pci_generic"), fix)
        rc, out = m.run(script, "--noiommu", "--dry-run")
        check("... --noiommu --dry-run says what it would write", rc == 0 and
              "options vfio enable_unsafe_noiommu_mode=1" in out, out)

        m = Machine(os.path.join(tmp, "metal"), vm=False)
        rc, out = m.run(script)
        st, detail, fix = line(out, "iommu")
        check("bare metal without an IOMMU: the fix starts with the firmware",
              st == "FAIL" and fix.startswith("enable VT-d") and "uio_pci_generic" in fix and "this is a VM" not in detail,
              f"{st} {detail} {fix}")

        m = Machine(os.path.join(tmp, "bound-uio"), nic_driver="uio_pci_generic")
        rc, out = m.run(script)
        st, detail, fix = line(out, "iommu")
        check("NICs on uio_pci_generic without an IOMMU: WARN (it works, without DMA isolation), not FAIL",
              st == "WARN" and "0000:00:04.0 on uio_pci_generic" in detail, f"{st} {detail} {fix}")
        st, detail, _ = line(out, "nic")
        check("... the NIC is ready for DPDK", st == "PASS" and "bound to uio_pci_generic" in detail, f"{st} {detail}")

        m = Machine(os.path.join(tmp, "iommu"), iommu_groups=5)
        rc, out = m.run(script)
        st, detail, _ = line(out, "iommu")
        check("with IOMMU groups: PASS", st == "PASS" and "5 IOMMU groups" in detail, f"{st} {detail}")
        rc, out = m.run(script, "--noiommu", "--dry-run")
        check("... --noiommu says it is not needed", rc == 0 and "not needed" in out, out)

    print(f"{'all passed' if not failures else f'{len(failures)} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
