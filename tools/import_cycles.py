"""Find import cycles in supportgroup/, between modules and between feature packages.

Every module is parsed with `ast` (nothing is imported or run). Both module-level imports and imports inside
functions count: a lazy import hides a cycle from Python, not from the reader. Imports under
`if TYPE_CHECKING:` do not count (they never run). Relative imports are resolved. An import names its target
module (`from .chat import events` -> supportgroup.chat.events; `from .models import User` ->
supportgroup.models); the packages Python initialises on the way are not edges of their own.

Two graphs:
- modules: one node per module;
- packages: one node per feature package (supportgroup/<name>/) or top-level module (supportgroup/<name>.py).
The package root `supportgroup/__init__.py` builds the app, imports every feature on purpose, and is left out
of both graphs.

Usage: `python -m tools.import_cycles` (exit status 1 when there is a cycle). tests/test_import_cycles.py keeps it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT_PACKAGE = "supportgroup"
MAX_CYCLES_SHOWN = 12
MAX_CYCLES_SEARCHED = 5000


@dataclass(frozen=True)
class ImportLine:
    """Where one import statement stands: the proof of one edge."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass
class Graph:
    """Directed graph: edges[a][b] lists the import lines that make a depend on b."""

    edges: dict[str, dict[str, list[ImportLine]]] = field(default_factory=dict)

    def add(self, source: str, target: str, where: ImportLine) -> None:
        self.edges.setdefault(source, {}).setdefault(target, []).append(where)
        self.edges.setdefault(target, {})

    def successors(self, node: str) -> list[str]:
        return sorted(self.edges.get(node, {}))


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module under package_dir, by dotted name (a package by its own name, from __init__.py)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth, except under `if TYPE_CHECKING:` (its else branch counts)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name that a (possibly relative) `from X import ...` names."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ours that one import statement names."""
    found = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
        return found
    origin = _resolve(module, is_package, node)
    for alias in node.names:
        if f"{origin}.{alias.name}" in known:
            found.add(f"{origin}.{alias.name}")
        elif origin in known:
            found.add(origin)
    return found


def build_graphs(package_dir: Path) -> tuple[Graph, Graph]:
    """The module graph and the package graph of the package at package_dir (its root module left out)."""
    names = module_names(package_dir)
    known = set(names)
    root = package_dir.name
    modules, packages = Graph(), Graph()
    for module, path in names.items():
        if module == root:
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        shown = path.relative_to(package_dir.parent).as_posix()
        modules.edges.setdefault(module, {})
        for node in _import_nodes(ast.parse(source, filename=str(path))):
            where = ImportLine(shown, node.lineno, lines[node.lineno - 1].strip())
            for target in _targets(node, module, path.name == "__init__.py", known):
                if target in (module, root):
                    continue
                modules.add(module, target, where)
                source_package, target_package = package_of(module), package_of(target)
                if source_package != target_package:
                    packages.add(source_package, target_package, where)
    return modules, packages


def package_of(module: str) -> str:
    """supportgroup.chat.events -> supportgroup.chat; supportgroup.permissions stays itself."""
    return ".".join(module.split(".")[:2])


def strongly_connected_components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm (iterative); only components that hold a cycle (two nodes or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph.edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph.successors(start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph.successors(successor))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def elementary_cycles(graph: Graph, component: list[str], limit: int) -> list[list[str]]:
    """The simple cycles inside one component, each from its smallest node, at most `limit` of them."""
    members = set(component)
    cycles: list[list[str]] = []

    def walk(path: list[str]) -> None:
        for successor in graph.successors(path[-1]):
            if len(cycles) >= limit or successor not in members or successor < path[0]:
                continue
            if successor == path[0]:
                cycles.append([*path, successor])
            elif successor not in path:
                walk([*path, successor])

    for start in component:
        walk([start])
    return sorted(cycles, key=lambda cycle: (len(cycle), cycle))


def describe(graph: Graph, title: str) -> list[str]:
    """Every cycle of the graph, shortest first, then each import line that holds the component together."""
    report = []
    for component in strongly_connected_components(graph):
        report.append(f"{title}: {len(component)} in one cycle: {', '.join(component)}")
        cycles = elementary_cycles(graph, component, MAX_CYCLES_SEARCHED)
        for cycle in cycles[:MAX_CYCLES_SHOWN]:
            report.append("  cycle: " + " -> ".join(cycle))
        if len(cycles) > MAX_CYCLES_SHOWN:
            more = f"{len(cycles) - MAX_CYCLES_SHOWN}{'+' if len(cycles) >= MAX_CYCLES_SEARCHED else ''}"
            report.append(f"  ... and {more} longer cycles through the same imports")
        report.append("  the imports inside this component (remove enough of them to break every cycle):")
        members = set(component)
        for source in component:
            for target in graph.successors(source):
                if target in members:
                    report.append(f"    {source} -> {target}")
                    report.extend(f"      {where}" for where in graph.edges[source][target])
    return report


def find_cycles(package_dir: Path) -> list[str]:
    """The printable report of every module and package cycle under package_dir."""
    modules, packages = build_graphs(package_dir)
    return describe(modules, "modules") + describe(packages, "packages")


def main() -> int:
    package_dir = Path(__file__).resolve().parent.parent / ROOT_PACKAGE
    report = find_cycles(package_dir)
    print("\n".join(report) if report else f"No import cycles in {ROOT_PACKAGE}/.")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
