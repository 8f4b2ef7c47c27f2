"""bench/ has no import cycle: shared pieces live in a module the scripts import (e.g.
bench/efficiency_common.py), never in a script that imports its importers back. Imports inside
functions count too: a lazy import hides a cycle from Python, not from the reader."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_imports(path: Path) -> set[str]:
    """Names of the bench modules that `path` imports (anywhere in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "bench":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("bench."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("bench.")}
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as a path [a, b, ..., a], or [] when there is none (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_chain() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_bench_has_no_import_cycle() -> None:
    modules = {p.stem: p for p in BENCH.glob("*.py")}
    assert {"search_efficiency", "efficiency_rerun", "efficiency_report", "efficiency_common"} <= set(modules)
    graph = {name: bench_imports(path) & set(modules) for name, path in modules.items()}
    assert graph["efficiency_rerun"], "the parser must see bench imports (efficiency_rerun imports some)"
    cycle = find_cycle(graph)
    assert not cycle, "import cycle in bench/: " + " -> ".join(cycle)
