"""The package's import graph has no cycles.

An edge A -> B is any import of mmeb module B written in module A: at the top level AND inside functions (a
deferred import only hides a cycle until the function runs), except under ``if TYPE_CHECKING:`` (never executed).
``from pkg import name`` points at ``pkg.name`` when that is a module, else at ``pkg``. A package's ``__init__``
is a node of its own; the implicit import of a parent package is not an edge (every module has it, and the
``__init__`` modules here import their children lazily, so it closes no loop).
"""

from __future__ import annotations

import ast
from pathlib import Path

import mmeb

ROOT = Path(mmeb.__file__).parent


def module_files() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for branch in node.body for n in ast.walk(branch))
    return skipped


def import_graph() -> dict[str, set[str]]:
    modules = module_files()

    def owner(name: str) -> str | None:  # the longest mmeb module that `name` is or lives in
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        skipped = _type_checking_nodes(tree)
        targets: set[str | None] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(owner(a.name) for a in node.names if a.name.split(".")[0] == "mmeb")
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                if base.split(".")[0] == "mmeb":
                    targets.update(owner(f"{base}.{a.name}") if f"{base}.{a.name}" in modules else owner(base)
                                   for a in node.names)
        graph[module] = {t for t in targets if t and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_mmeb_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_sees_deferred_imports_and_cycles():
    graph = import_graph()
    assert "mmeb.data.loader" in graph["mmeb.tasks.base"]  # an import inside a method counts
    assert "mmeb.tasks.metadata" in graph["mmeb.tasks.base"]
    assert not graph["mmeb.tasks.metadata"] and not graph["mmeb._version"]  # the leaves
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
