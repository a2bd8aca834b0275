#!/usr/bin/env python3
"""The tree's layering, checked from the sources (docs/ARCHITECTURE.md, "Layering").

- Includes go down only: parsers/ includes only parsers/, pipeline/ never includes app/.
- The folder include graph has no cycle (a folder is a meson library; a cycle would mean two
  libraries that need each other).
- No DPDK header in the folders that must build and test without DPDK.
- Each source file is compiled by the meson.build of its own folder, so the libraries match the
  folders.

Usage: layering_test.py SOURCE_ROOT. Exit 0 when every rule holds, 1 with one line per breach.
"""
import collections
import pathlib
import re
import sys

LAYERS = ("parsers", "pipeline", "app")
# A folder may include only folders whose layer is not above its own.
LAYER_RANK = {name: rank for rank, name in enumerate(LAYERS)}
NO_DPDK = ("parsers", "pipeline/flows", "pipeline/classify", "pipeline/tally", "app/ipdb", "app/report",
           "app/control", "app/config", "app/live/state")
NO_DPDK_FILES = ("pipeline/worker.hpp", "pipeline/worker.cpp", "pipeline/extract.cpp",
                 "pipeline/counters.hpp", "pipeline/flow_record.hpp", "pipeline/known_endpoints.hpp")
# Sources built by a meson.build above their folder, and why.
BUILT_BY_PARENT = {
    "app/cli/main.cpp": "app/meson.build builds the executable, so that it stays build/app/wiretally",
}
PROJECT_INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:parsers|pipeline|app)/[^"]+)"', re.M)
DPDK_INCLUDE = re.compile(r'^\s*#\s*include\s+<(rte_[^>]+)>', re.M)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1]).resolve()
    sources = sorted(p for layer in LAYERS for p in (root / layer).rglob("*")
                     if p.suffix in (".cpp", ".hpp") and p.is_file())
    if not sources:
        print(f"{root}: no sources under {', '.join(LAYERS)}", file=sys.stderr)
        return 2
    breaches = []
    edges = collections.defaultdict(set)
    for path in sources:
        rel = path.relative_to(root).as_posix()
        folder = rel.rsplit("/", 1)[0]
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in PROJECT_INCLUDE.finditer(text):
            target = match.group(1)
            target_folder = target.rsplit("/", 1)[0]
            if LAYER_RANK[target.split("/", 1)[0]] > LAYER_RANK[rel.split("/", 1)[0]]:
                breaches.append(f"{rel}: includes {target}, a layer above it")
            if target_folder != folder:
                edges[folder].add(target_folder)
        no_dpdk = rel in NO_DPDK_FILES or any(rel.startswith(f + "/") for f in NO_DPDK)
        if no_dpdk:
            for match in DPDK_INCLUDE.finditer(text):
                breaches.append(f"{rel}: includes DPDK's <{match.group(1)}> in a folder built without DPDK")
        if path.suffix == ".cpp":
            meson = path.parent / "meson.build"
            if rel in BUILT_BY_PARENT:
                continue
            if not meson.is_file() or not re.search(r"['\"]" + re.escape(path.name) + r"['\"]", meson.read_text()):
                breaches.append(f"{rel}: not compiled by {folder}/meson.build (a library a folder)")

    # A cycle in the folder graph: depth-first search with colours.
    state = {}
    stack = []

    def visit(folder):
        state[folder] = "open"
        stack.append(folder)
        for nxt in sorted(edges.get(folder, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                breaches.append("folder include cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[folder] = "done"

    for folder in sorted(edges):
        if folder not in state:
            visit(folder)

    for line in breaches:
        print(line)
    print(f"layering: {len(sources)} sources, {sum(len(v) for v in edges.values())} folder dependencies, "
          f"{len(breaches)} breaches")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
