"""The checks a rewritten file must pass before it may be written."""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

# Names every module has without binding them.
_MODULE_NAMES = frozenset(
    {
        "__file__",
        "__name__",
        "__doc__",
        "__spec__",
        "__loader__",
        "__package__",
        "__builtins__",
        "__path__",
        "__annotations__",
    }
)


def undefined_names(module: cst.Module) -> frozenset[str]:
    """Names read somewhere in `module` that no scope binds (builtins count as bound)."""
    scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    names: set[str] = set()
    for scope in {scope for scope in scopes.values() if scope is not None}:
        for access in scope.accesses:
            if access.referents or not isinstance(access.node, cst.Name):
                continue
            names.add(access.node.value)
    return frozenset(names - _MODULE_NAMES)


def has_star_import(module: cst.Module) -> bool:
    return any(
        isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def validation_error(before: cst.Module, after_text: str, path: str) -> str | None:
    """Why `after_text` must not replace `before`, or None when it may.

    It must parse, compile, and read no name that `before` did not already leave unbound.
    """
    try:
        after = cst.parse_module(after_text)
    except cst.ParserSyntaxError as error:
        return f"the rewritten code does not parse: {_one_line(error)}"
    try:
        compile(after_text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        # Syntax newer than this Python (`class Box[T]:` on 3.11): its compiler can judge
        # neither text, and libcst, which reads every version, has parsed both.
        if _parses_here(before.code):
            return f"the rewritten code does not compile: {_one_line(error)}"
    if has_star_import(after):
        return None
    new = undefined_names(after) - undefined_names(before)
    if new:
        return f"the rewritten code reads undefined name(s): {', '.join(sorted(new))}"
    return None


def _parses_here(source: str) -> bool:
    """Whether the running Python's own parser reads `source`."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
