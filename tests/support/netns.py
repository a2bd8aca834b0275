"""Shell helpers of the end-to-end tests that build hosts in network namespaces (tests/e2e/*).

sh(): runs a command with a timeout, its output captured; a non-zero exit raises with the command and
its stderr (unless check_rc=False). in_ns(): the same inside a namespace (`ip netns exec`, which also
mounts /etc/netns/NS/* over /etc). tear_down(): the clean-up every such test ends with.
"""
import subprocess


def sh(*cmd, check_rc=True, timeout=30, **kw):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {p.returncode}: {p.stderr.strip()}")
    return p


def in_ns(ns, *cmd, **kw):
    return sh("ip", "netns", "exec", ns, *cmd, **kw)


def tear_down(procs, namespaces):
    """Stops the test's servers (SIGTERM, SIGKILL after 5 s) and deletes its namespaces."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    for ns in namespaces:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
