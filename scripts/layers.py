#!/usr/bin/env python3
"""Prints, for every module of src/, the modules of the crate it imports, and fails (exit 1)
if two modules import each other, directly or around a circle.

    python3 scripts/layers.py

A module's imports are its `use crate::...`/`use super::...` items and the `crate::` paths
in its code (doc comments and test modules left out). lib.rs, which only declares modules
and re-exports them, is left out too.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def modules():
    mods = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in sorted(files):
            if f.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3]
                name = rel.replace("/mod", "").replace("/", "::")
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    mods[name] = fh.read()
    return mods


def resolve(names, current, path):
    parts = path.split("::")
    if parts[0] == "crate":
        parts = parts[1:]
    elif parts[0] == "super":
        parts = current.split("::")[:-1] + parts[1:]
    elif parts[0] == "self":
        parts = current.split("::") + parts[1:]
    else:
        return None
    for n in range(len(parts), 0, -1):
        candidate = "::".join(parts[:n])
        if candidate in names and candidate != current:
            return candidate
    return None


def imports(names, name, text):
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
    text = re.sub(r"//.*", "", text)
    found = set()
    for m in re.finditer(r"\buse\s+([^;]+);", text, re.S):
        body = " ".join(m.group(1).split())
        braced = re.match(r"((?:crate|super|self)(?:::\w+)*)::\{(.*)\}$", body)
        paths = ([braced.group(1) + "::" + p.strip().split(" as ")[0].split("::{")[0]
                  for p in braced.group(2).split(",") if p.strip()]
                 if braced else [body.split(" as ")[0]])
        for path in paths:
            target = resolve(names, name, path)
            if target:
                found.add(target)
    for m in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", text):
        target = resolve(names, name, m.group(1))
        if target:
            found.add(target)
    found.discard(name)
    found.discard("lib")
    return sorted(found)


def cycles(graph):
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    sys.setrecursionlimit(10000)
    mods = modules()
    names = set(mods)
    graph = {name: imports(names, name, text) for name, text in mods.items() if name != "lib"}
    for name in sorted(graph):
        print(f"{name:18} -> {', '.join(graph[name]) or '(nothing)'}")
    found = cycles(graph)
    if found:
        for component in found:
            print("import cycle among: " + ", ".join(component), file=sys.stderr)
        return 1
    print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
