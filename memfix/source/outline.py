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
from typing import TYPE_CHECKING

from memfix.vocabulary import LANGCHAIN_ROOTS

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True, slots=True)
class Outline:
    """The packages a module imports and the LangChain classes it calls."""

    packages: frozenset[str]  # top-level packages of absolute imports
    imports: Mapping[str, frozenset[str]]  # each name an import binds: the dotted names
    langchain_calls: frozenset[str]  # last two parts of each LangChain or LangGraph callee


def outline(source: str) -> Outline | None:
    """The module's outline; None when neither Python's parser nor libcst takes the text.

    Code in a newer Python than the one running memfix (`class Box[T]:` on 3.11) is
    outlined by libcst, which reads every version: an outline that failed there would
    leave the codemods blind to the module's imports, and the file would pass as clean.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return _outline_by_libcst(source)
    except (ValueError, RecursionError, MemoryError):
        return None
    imports: dict[str, set[str]] = {}
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            chain = _chain(node.func)
            if chain:
                chains.append(chain)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            _record(node, imports)
    return _outline_of(imports, chains)


def _outline_of(imports: dict[str, set[str]], chains: list[list[str]]) -> Outline:
    """The outline of a module with these imports, calling these dotted names."""
    packages = frozenset(name.partition(".")[0] for names in imports.values() for name in names)
    called = set()
    for chain in chains:
        for qualified in _qualified(chain, imports):
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


def _chain(node: ast.expr) -> list[str]:
    """The names of a name or an attribute chain (`a.b.c`: a, b, c); empty for the rest."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    return [node.id, *reversed(attributes)]


def _qualified(chain: list[str], imports: dict[str, set[str]]) -> set[str]:
    """The dotted names a chain of names stands for, by the imports."""
    head, *attributes = chain
    if head not in imports:
        return set()
    tail = "".join(f".{attribute}" for attribute in attributes)
    return {f"{base}{tail}" for base in imports[head]}


def _outline_by_libcst(source: str) -> Outline | None:
    """The outline, read by libcst: imports and calls as `outline` reads them."""
    from memfix.source.nesting import nesting_problem

    if nesting_problem(source) is not None:
        return None
    import libcst as cst

    try:
        module = cst.parse_module(source)
    except Exception:  # libcst raises more than ParserSyntaxError on odd input
        return None
    imports: dict[str, set[str]] = {}
    chains: list[list[str]] = []
    for node in _walk_cst(module):
        if isinstance(node, cst.Call):
            chain = _cst_chain(node.func)
            if chain:
                chains.append(chain)
        elif isinstance(node, cst.Import):
            for alias in node.names:
                name = _dotted(alias.name)
                bound = _bound(alias)
                imports.setdefault(bound or name.partition(".")[0], set()).add(
                    name if bound else name.partition(".")[0]
                )
        elif isinstance(node, cst.ImportFrom) and node.module and not node.relative:
            if isinstance(node.names, cst.ImportStar):
                continue
            module_name = _dotted(node.module)
            for alias in node.names:
                name = _dotted(alias.name)
                imports.setdefault(_bound(alias) or name, set()).add(f"{module_name}.{name}")
    return _outline_of(imports, chains)


def _walk_cst(module: cst.Module) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def _cst_chain(node: cst.BaseExpression) -> list[str]:
    import libcst as cst

    attributes: list[str] = []
    while isinstance(node, cst.Attribute):
        attributes.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return []
    return [node.value, *reversed(attributes)]


def _dotted(node: cst.BaseExpression) -> str:
    from libcst.helpers import get_full_name_for_node

    return get_full_name_for_node(node) or ""


def _bound(alias: cst.ImportAlias) -> str | None:
    """The name an `as` clause binds, if the import has one."""
    import libcst as cst

    if alias.asname is None or not isinstance(alias.asname.name, cst.Name):
        return None
    return alias.asname.name.value
