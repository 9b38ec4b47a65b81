"""What a module imports and which imported names it calls, read with Python's own parser.

The prefilter's last stage. Python's parser is written in C and reads a file many times
faster than libcst, so an outline of the module decides, before libcst parses anything,
which codemods have a construction to look at: a codemod that reacts to LangChain
classes has nothing to do in a module that never calls one.

Names are resolved from the module's own imports only, wherever they appear, and scopes
are ignored: a name imported twice under one alias counts as both imports. That reads
more names than scope analysis would, never fewer, so a codemod the outline keeps out
could not have reported anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from memfix.codemods._vocabulary import LANGCHAIN_ROOTS


@dataclass(frozen=True, slots=True)
class Outline:
    """The packages a module imports and the LangChain classes it calls."""

    packages: frozenset[str]  # top-level packages of absolute imports
    imports: Mapping[str, frozenset[str]]  # each name an import binds: the dotted names
    langchain_calls: frozenset[str]  # last two parts of each LangChain or LangGraph callee


def outline(source: str) -> Outline | None:
    """The module's outline; None when Python's parser does not take the text."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imports: dict[str, set[str]] = {}
    calls: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(node.func)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            _record(node, imports)
    packages = frozenset(name.partition(".")[0] for names in imports.values() for name in names)
    called = set()
    for func in calls:
        for qualified in _qualified(func, imports):
            parts = qualified.split(".")
            if len(parts) > 1 and parts[0].startswith(LANGCHAIN_ROOTS):
                # The class, and the owner of a constructor such as `X.from_llm`.
                called.update(parts[-2:])
    table = {name: frozenset(dotted) for name, dotted in imports.items()}
    return Outline(packages, table, frozenset(called))


def import_table(tree: ast.Module) -> dict[str, frozenset[str]]:
    """Each name the module's absolute imports bind, and the dotted names it stands for.

    Imports are statements: only statement bodies are walked, never expressions.
    """
    imports: dict[str, set[str]] = {}
    for node in _statements(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            _record(node, imports)
    return {name: frozenset(dotted) for name, dotted in imports.items()}


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in body:
        yield statement
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(statement, "handlers", ()):
            yield from _statements(handler.body)
        for case in getattr(statement, "cases", ()):
            yield from _statements(case.body)


def _record(node: ast.Import | ast.ImportFrom, imports: dict[str, set[str]]) -> None:
    """Add what one import statement binds to `imports`."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            bound = alias.asname or alias.name.partition(".")[0]
            imports.setdefault(bound, set()).add(alias.name if alias.asname else bound)
    elif node.module and not node.level:
        for alias in node.names:
            imports.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")


def _qualified(node: ast.expr, imports: dict[str, set[str]]) -> set[str]:
    """The dotted names `node` (a name or an attribute chain) stands for, by the imports."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imports:
        return set()
    tail = "".join(f".{attribute}" for attribute in reversed(attributes))
    return {f"{base}{tail}" for base in imports[node.id]}
