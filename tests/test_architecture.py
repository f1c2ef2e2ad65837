"""The house has no cycles: vendors apart, the shared part vendor-free, nothing imports the tap."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tap_messages"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every module's imports of the package's own modules, those under TYPE_CHECKING included."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found |= {n for n in names if n.startswith("tap_messages")}
        graph[module_name(path)] = found
    modules = set(graph)
    # `from tap_messages.shared import timestamps` names a module; a class name is its module.
    return {
        m: {n if n in modules else n.rsplit(".", 1)[0] for n in names} & modules - {m}
        for m, names in graph.items()
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if any, as the list of modules around it."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


GRAPH = imports()


def test_the_package_has_no_import_cycle():
    assert cycle_in(GRAPH) is None


def test_nothing_imports_the_tap_module():
    assert [m for m, names in GRAPH.items() if "tap_messages.tap" in names] == []


@pytest.mark.parametrize(
    ("part", "never"),
    [
        ("tap_messages.cekat", "tap_messages.convotic"),
        ("tap_messages.convotic", "tap_messages.cekat"),
        ("tap_messages.shared", "tap_messages.cekat"),
        ("tap_messages.shared", "tap_messages.convotic"),
        ("tap_messages.shared", "tap_messages.settings"),
        ("tap_messages.shared", "tap_messages.streams"),
        ("tap_messages.settings", "tap_messages.cekat"),
        ("tap_messages.settings", "tap_messages.convotic"),
    ],
)
def test_a_part_never_imports_another_it_must_not_know(part, never):
    offending = {
        module: sorted(n for n in names if n.startswith(never))
        for module, names in GRAPH.items()
        if module.startswith(part)
    }
    assert {m: n for m, n in offending.items() if n} == {}


def test_the_check_finds_a_cycle_when_there_is_one():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None


def test_no_module_is_longer_than_a_page_or_two():
    lengths = {module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {m: n for m, n in lengths.items() if n > 260} == {}
