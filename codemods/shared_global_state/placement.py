"""Where in a handler the per-session object is fetched, and identities the handler binds.

The fetch goes before the first statement that uses the shared object, and after every
earlier statement that binds a name the identity reads or can leave the handler early
(its own validation: `return ..., 400`, `raise`, `abort(400)`). A request the handler
turned away before the fix is turned away the same way after it, and the identity is
bound and checked when the fetch reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import is_docstring, leading_lines, simple_assignment
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.identity import IDENTITY_PRIORITY, Identity
from memfix.codemods._shared.names import bindings, names_read, parameter_names

# Builtins and constants that keep a request's value as stable as it came: `str(data["user_id"])`.
_CONVERSIONS = frozenset({"str", "int", "True", "False", "None"})
_EXIT = m.Return() | m.Raise() | m.Call(func=m.Name("abort") | m.Attribute(attr=m.Name("abort")))


def fetched_before_use(
    function: cst.FunctionDef, line: cst.BaseStatement, uses: set[str]
) -> cst.FunctionDef:
    """`function` with `line` inserted where `fetch_point` says (its comments kept above it)."""
    block = cst.ensure_type(function.body, cst.IndentedBlock)
    body = list(block.body)
    at = fetch_point(body, uses, names_read(line) - uses)
    if at < len(body):
        line = line.with_changes(leading_lines=leading_lines(body[at]))
        body[at] = body[at].with_changes(leading_lines=[])
    body.insert(at, line)
    return function.with_changes(body=block.with_changes(body=body))


def fetch_point(body: Sequence[cst.BaseStatement], uses: set[str], needs: set[str]) -> int:
    """The index in `body` to insert the fetch at: before the first statement reading
    `uses`, after the last earlier one that binds a name of `needs` or can leave early."""
    at = 1 if body and is_docstring(body[0]) else 0
    for index, statement in enumerate(body[: first_use(body, uses)]):
        binds = set(bindings([statement])[0]) & needs
        if binds or findall(statement, _EXIT):
            at = max(at, index + 1)
    return at


def first_use(body: Sequence[cst.BaseStatement], uses: set[str]) -> int:
    """The index of the first statement of `body` that reads a name of `uses`."""
    return next((i for i, s in enumerate(body) if names_read(s) & uses), len(body))


def bound_identity(
    function: cst.FunctionDef, uses: set[str], session_key: str | None
) -> Identity | None:
    """A local the handler binds from its request before it uses the shared object.

    `user_id = data.get("user_id")`, with `data = request.get_json(...)` and a check
    that turns away a request without it (`if not user_id: return ..., 400`). The local
    must be bound once, from the request or a parameter only (nothing generated), and
    be sure to hold a value: read by subscript, or checked before the first use; a
    `.get()` no check follows gives None to every client that omits the field, one
    conversation for all of them.
    """
    block = cst.ensure_type(function.body, cst.IndentedBlock)
    body = list(block.body)
    before = body[: first_use(body, uses)]
    counts, declares_global = bindings([function.body])
    if declares_global:
        return None
    derived = parameter_names(function.params) | {"request"}
    found: dict[str, tuple[int, cst.BaseExpression]] = {}
    for index, statement in enumerate(before):
        assignment = simple_assignment(statement)
        if assignment is None or counts.get(assignment[0]) != 1:
            continue
        name, value = assignment
        if names_read(value) and names_read(value) <= derived | _CONVERSIONS:
            derived.add(name)
            found[name] = index, value
    keys = (session_key, *IDENTITY_PRIORITY) if session_key else IDENTITY_PRIORITY
    for key in keys:
        if key not in found:
            continue
        index, value = found[key]
        if _always_set(value) or _checked(key, before[index + 1 :]):
            return Identity(key, f"{key!r}, bound in {function.name.value}()")
    return None


def _always_set(value: cst.BaseExpression) -> bool:
    """A read that fails rather than falls back: `data["user_id"]`, `req.user_id`."""
    fallback = m.Call() | m.BooleanOperation() | m.IfExp()
    return not findall(value, fallback) and not m.matches(value, fallback)


def _checked(name: str, statements: Sequence[cst.BaseStatement]) -> bool:
    """An `if` testing `name` turns the request away (`if not user_id: return ..., 400`)."""
    for statement in statements:
        if (
            isinstance(statement, cst.If)
            and _missing(name, statement.test)
            and findall(statement.body, _EXIT)
        ):
            return True
    return False


def _missing(name: str, test: cst.BaseExpression) -> bool:
    """`not name`, `name is None`, or either side of an `or` saying so."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _missing(name, test.left) or _missing(name, test.right)
    empty = m.UnaryOperation(operator=m.Not(), expression=m.Name(name))
    none = m.Comparison(
        left=m.Name(name),
        comparisons=[m.ComparisonTarget(operator=m.Is(), comparator=m.Name("None"))],
    )
    return m.matches(test, empty | none)
