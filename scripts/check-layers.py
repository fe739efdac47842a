#!/usr/bin/env python3
"""Fails when the workspace's crates or a crate's modules stop pointing one way.

Run: scripts/check-layers.py   (scripts/test.sh runs it)

Crates: each workspace crate has a layer (below); a crate may depend only on crates of lower
layers, never on one of its own layer or above. Modules: within each crate, the graph of
`crate::module` references between its top-level modules must have no cycle.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

# Lowest first: a crate may use only crates listed before its own layer.
LAYERS = [
    ["twiml-edge-twiml"],
    ["twiml-edge-e164", "twiml-edge-sdk"],
    ["twiml-edge-bins", "twiml-edge-sandbox", "twiml-edge-store", "twiml-edge-outbound"],
    ["twiml-edge-server"],
    ["twiml-edge"],
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def crate_problems(metadata):
    problems = []
    members = {p["id"]: p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]}
    for package in members.values():
        name = package["name"]
        if name not in LAYER:
            problems.append(f"{name} has no layer in scripts/check-layers.py: give it one")
            continue
        for dep in package["dependencies"]:
            if dep["name"] not in LAYER or dep.get("kind") == "dev":
                continue
            if LAYER[dep["name"]] >= LAYER[name]:
                problems.append(
                    f"{name} depends on {dep['name']}, which is not below it: the crates point "
                    "one way, from the command line down to the TwiML rules"
                )
    return problems, members


USE = re.compile(r"\bcrate::(\w+)|\bcrate::\{([^;]*)\}", re.S)


def modules_of(src: Path):
    """Top-level module name -> the text of all its files."""
    modules = {}
    for path in src.rglob("*.rs"):
        rel = path.relative_to(src)
        if rel.parts[0] in ("lib.rs", "main.rs"):
            continue
        top = rel.parts[0].removesuffix(".rs")
        text = path.read_text()
        # Tests may reach anywhere in their crate.
        text = text.split("#[cfg(test)]")[0]
        modules[top] = modules.get(top, "") + text
    return modules


def module_problems(crate_name, src: Path):
    modules = modules_of(src)
    edges = {m: set() for m in modules}
    for module, text in modules.items():
        for single, group in USE.findall(text):
            names = [single] if single else re.findall(r"(?:^|[,{]\s*)(\w+)", group)
            for target in names:
                if target in modules and target != module:
                    edges[module].add(target)
    # Depth-first search for a cycle.
    state, stack, problems = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append(f"{crate_name}: modules refer to each other: {' -> '.join(cycle)}")
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return problems


def main():
    root = Path(__file__).resolve().parent.parent
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    problems, members = crate_problems(metadata)
    for package in members.values():
        src = Path(package["manifest_path"]).parent / "src"
        problems += module_problems(package["name"], src)
    for problem in problems:
        print(f"check-layers: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-layers: {len(members)} crates point one way, no module cycles")


if __name__ == "__main__":
    main()
