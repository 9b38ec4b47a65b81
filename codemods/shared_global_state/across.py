"""Tree helpers for state that one module defines and another module's handlers read.

The repository pass (`memfix.project.repository`) says which imported name holds shared state and
how the module reads it: a bound name (`memory`) or a read through a module
(`m.memory`). These helpers find that import and the functions that read the name, and
make the edits that fetch the per-session object instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import is_import
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.names import bindings, names_read, parameter_names

_CODE = cst.Module([])
Reader = tuple[cst.FunctionDef, list[cst.Attribute]]


def import_aliases(module: cst.Module, access: str) -> list[cst.ImportAlias]:
    """The top-level import aliases that bind what `access` reads through."""
    dotted = "." in access
    bound = access.rpartition(".")[0] if dotted else access
    found: list[cst.ImportAlias] = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            names: Sequence[cst.ImportAlias] = ()
            if dotted and isinstance(small, cst.Import):
                names = small.names
            elif not dotted and isinstance(small, cst.ImportFrom):
                names = _named(small)
            found.extend(alias for alias in names if _bound(alias) == bound)
    return found


def readers(module: cst.Module, access: str) -> tuple[list[Reader], bool]:
    """The functions and methods that read `access` without binding it, with the dotted
    reads to replace (none for a bound name); and whether other code reads it too."""
    base = access.partition(".")[0]
    found: list[Reader] = []
    blocked = False
    for statement in module.body:
        functions: list[cst.FunctionDef] = []
        if isinstance(statement, cst.FunctionDef):
            functions = [statement]
        elif isinstance(statement, cst.ClassDef):
            for inner in statement.body.body:
                if isinstance(inner, cst.FunctionDef):
                    functions.append(inner)
                else:
                    blocked |= _reads(inner, access)
        elif not is_import(statement):
            blocked |= _reads(statement, access)
        for function in functions:
            counts, declares_global = bindings([function.body])
            if not _reads(function.body, access):
                continue
            if declares_global:
                blocked = True
            elif base not in set(counts) | parameter_names(function.params):
                found.append((function, _dotted_reads(function.body, access)))
    return found, blocked


def alias_renamed(name: str, node: cst.CSTNode) -> cst.CSTNode:
    """`from x import memory [as mem]` made `from x import <name>`."""
    alias = cst.ensure_type(node, cst.ImportAlias)
    return alias.with_changes(name=cst.Name(name), asname=None)


def read_replaced(call: str, node: cst.CSTNode) -> cst.CSTNode:
    """`m.memory` made `m.get_session_memory(<identity>)`."""
    return cst.parse_expression(call)


def _reads(node: cst.CSTNode, access: str) -> bool:
    if "." in access:
        return bool(_dotted_reads(node, access))
    return access in names_read(node)


def _dotted_reads(node: cst.CSTNode, access: str) -> list[cst.Attribute]:
    if "." not in access:
        return []
    return [
        cst.ensure_type(found, cst.Attribute)
        for found in findall(node, m.Attribute())
        if _CODE.code_for_node(found) == access
    ]


def _bound(alias: cst.ImportAlias) -> str:
    """The name an alias binds; for `import a.b` without `as`, `a.b` (read as `a.b.x`)."""
    name = alias.name if alias.asname is None else alias.asname.name
    return _CODE.code_for_node(name)


def _named(statement: cst.ImportFrom) -> Sequence[cst.ImportAlias]:
    """The aliases of `from x import a, b` (none for `import *`)."""
    return statement.names if isinstance(statement.names, Sequence) else ()
