"""Tree surgery shared by the codemods."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst


def simple_assignment(statement: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    """`(name, value)` for a statement that is exactly `name = value` or `name: T = value`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        if isinstance(target, cst.Name):
            return target.value, small.value
    if (
        isinstance(small, cst.AnnAssign)
        and small.value is not None
        and isinstance(small.target, cst.Name)
    ):
        return small.target.value, small.value
    return None


def is_import(statement: cst.BaseStatement) -> bool:
    """Whether a statement line holds imports and nothing else."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )


def is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def blank_lines_first(
    lines: Sequence[cst.EmptyLine],
) -> tuple[list[cst.EmptyLine], list[cst.EmptyLine]]:
    """Split leading lines into the blank lines before the first comment, and the rest."""
    split = 0
    while split < len(lines) and lines[split].comment is None:
        split += 1
    return list(lines[:split]), list(lines[split:])


def leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """The blank and comment lines above a statement."""
    if isinstance(statement, cst.SimpleStatementLine | cst.BaseCompoundStatement):
        return statement.leading_lines
    return ()


def without_blank_lines(statement: cst.BaseStatement) -> cst.BaseStatement:
    """The statement with the blank lines above it removed (comments stay)."""
    kept = [line for line in leading_lines(statement) if line.comment is not None]
    return statement.with_changes(leading_lines=kept)


def two_blank_lines_before(statement: cst.BaseStatement) -> cst.BaseStatement:
    """The statement preceded by exactly two blank lines, then its own comments (PEP 8)."""
    _, comments = blank_lines_first(leading_lines(statement))
    return statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *comments])
