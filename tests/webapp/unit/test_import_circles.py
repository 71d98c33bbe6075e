"""The site has no import circle: module A importing B importing … A. Every import counts, the ones inside
functions too (an import moved into a function to dodge a circle hides it, it does not remove it); only
``if TYPE_CHECKING:`` imports, which never run, are left out. A circle says a module is in the wrong place: move the
shared thing down a floor (``webapp/core``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "webapp"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, modules: set[str], this: str) -> set[str]:
    """The site's modules ``tree`` imports (a ``from package import module`` names the module)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                package = this.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules and name != this}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in (ROOT / PACKAGE).rglob("*.py")}
    modules = set(files)
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), modules, name)
            for name, path in files.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_walker_sees_a_circle_hidden_in_a_function() -> None:
    modules = {"webapp.a", "webapp.b"}
    a = ast.parse("from webapp import b\n")
    b = ast.parse("def f():\n    from webapp.a import thing\n")
    typed = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from webapp.a import thing\n")
    graph = {"webapp.a": _imports(a, modules, "webapp.a"), "webapp.b": _imports(b, modules, "webapp.b")}
    assert _circles(graph) == [["webapp.a", "webapp.b"]]
    assert _circles({**graph, "webapp.b": _imports(typed, modules, "webapp.b")}) == []


def test_the_site_has_no_import_circle() -> None:
    graph = _graph()
    assert len(graph) > 50 and "webapp.core.i18n" in graph["webapp.core.timezones"]
    assert _circles(graph) == []
