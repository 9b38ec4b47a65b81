"""How memfix's modules import each other, read with `ast` from the source alone."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "memfix"
# Plain data and values: what every layer may read, and what may read nothing above it.
BOTTOM = frozenset({"files", "config", "results", "errors", "vocabulary"})
# The rule API a declaration is written in: it must load nothing but the bottom layer.
RULE_API = ("memfix.rules.rule", "memfix.rules.registry", "memfix.rules.suppression")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, ast.Module]:
    """Every module of memfix but the codemods, parsed."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "codemods" not in path.relative_to(PACKAGE).parts:
            found[_module_name(path)] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _type_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:`, which never run."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def imported(node: ast.stmt) -> Iterator[str]:
    """The modules an import statement names, and for `from x import y` also `x.y`."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        yield node.module
        yield from (f"{node.module}.{alias.name}" for alias in node.names)


def imports(tree: ast.Module, *, at_import_time: bool) -> set[str]:
    """What a module imports: everywhere but under TYPE_CHECKING, or only at its top level."""
    hidden = _type_only(tree)
    if at_import_time:
        nodes: list[ast.AST] = []
        pending: list[ast.AST] = list(tree.body)
        while pending:  # statements that run on import: not those inside def or class
            node = pending.pop()
            nodes.append(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                pending.extend(ast.iter_child_nodes(node))
    else:
        nodes = list(ast.walk(tree))
    return {
        name
        for node in nodes
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in hidden
        for name in imported(node)
    }


def test_no_core_module_imports_a_codemod() -> None:
    for name, tree in core_modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in imported(node):
                    assert not target.startswith(("memfix.codemods", "codemods")), (name, target)


def test_memfix_modules_import_each_other_without_a_cycle() -> None:
    modules = core_modules()
    graph = {
        name: {target for target in imports(tree, at_import_time=True) if target in modules}
        - {name}
        for name, tree in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            pytest.fail("import cycle: " + " -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def _unit(module: str) -> str | None:
    """The subpackage or top-level module of memfix that `module` belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == "memfix" and len(parts) > 1 else None


def test_the_bottom_layer_imports_nothing_above_it_when_loaded() -> None:
    for name, tree in core_modules().items():
        if _unit(name) in BOTTOM:
            above = {
                t for t in imports(tree, at_import_time=True) if _unit(t) not in {*BOTTOM, None}
            }
            assert not above, (name, sorted(above))


def test_the_rule_api_imports_only_the_bottom_layer() -> None:
    modules = core_modules()
    for name in RULE_API:
        targets = imports(modules[name], at_import_time=False)
        above = {t for t in targets if _unit(t) not in {*BOTTOM, "rules", None}}
        assert not above, (name, sorted(above))


def test_subpackages_import_each_other_without_a_cycle_even_inside_functions() -> None:
    graph: dict[str, set[str]] = {}
    for name, tree in core_modules().items():
        source = _unit(name) or name
        targets = {_unit(t) for t in imports(tree, at_import_time=False)} - {None, source}
        graph.setdefault(source, set()).update(t for t in targets if t and t != "__version__")
    done: set[str] = set()

    def visit(unit: str, path: tuple[str, ...]) -> None:
        if unit in path:
            pytest.fail("layer cycle: " + " -> ".join((*path[path.index(unit) :], unit)))
        if unit in done:
            return
        for target in sorted(graph.get(unit, ())):
            visit(target, (*path, unit))
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, ())
    # The order the pipeline reads in: each of these imports none of those after it.
    order = ["cli", "pipeline", "project", "rules", "source", "config"]
    for upper, lower in itertools.pairwise(order):
        assert upper not in graph.get(lower, set()), (lower, upper)
