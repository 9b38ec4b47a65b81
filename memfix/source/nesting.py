"""A cheap check that a file is not nested too deeply for libcst to handle safely.

libcst's parser and code generator recurse once per level of nesting: a few hundred
levels exhaust Python's recursion limit, and some ten thousand crash the native parser
and with it the whole process. Python's own parser fails cleanly on such input, so it
measures the depth first.
"""

from __future__ import annotations

import ast

MAX_DEPTH = 200
TOO_DEEP = "too deeply nested for memfix to analyse"


def nesting_problem(source: str) -> str | None:
    """Why `source` must not be handed to libcst, or None when it may be.

    A syntax error is not a nesting problem: None, so that the parse reports it.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        return TOO_DEEP
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{TOO_DEEP} (more than {MAX_DEPTH} levels)"
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None
