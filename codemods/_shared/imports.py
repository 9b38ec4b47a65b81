"""Dropping imports a fix left unused, without libcst's scope analysis.

libcst's `RemoveImportsVisitor` runs a scope analysis of the whole module for every
call, which costs more than the rest of a fix. A fix knows which imports it may have
made unused, so this reads only whether each of their names still appears anywhere in
the module: as a name (in any scope), as an attribute, or inside a string (an
annotation, `__all__`). A name that still appears keeps its import; so an import is
never removed while something could use it, though a shadowed one may be kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import libcst as cst

from memfix.codemods._shared.find import descendants

# (module, name, alias) as libcst's RemoveImportsVisitor takes them: name None for
# `import module`.
Unused = tuple[str, str | None, str | None]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE = cst.Module([])


def without_imports(module: cst.Module, unused: Iterable[Unused]) -> cst.Module:
    """`module` without each listed top-level import whose bound name nothing reads."""
    wanted = {_bound(source, name, alias): (source, name, alias) for source, name, alias in unused}
    if not wanted:
        return module
    read = _names_read(module)
    gone = {entry for bound, entry in wanted.items() if bound not in read}
    if not gone:
        return module
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        kept = (
            _without(statement, gone)
            if isinstance(statement, cst.SimpleStatementLine)
            else statement
        )
        if kept is not None:
            body.append(kept)
    return module.with_changes(body=body)


def without_unused_names(module: cst.Module, names: Iterable[str]) -> cst.Module:
    """`module` without the `from ... import` of these names, where nothing reads them."""
    names = set(names)
    return without_imports(module, [i for i in top_level_imports(module) if i[1] in names])


def top_level_imports(module: cst.Module) -> Iterator[Unused]:
    """(module, name, alias) of each absolute top-level import (name None: `import x`)."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    yield _entry(alias, None)
            elif isinstance(small, cst.ImportFrom) and (found := _absolute(small)) is not None:
                source, aliases = found
                for alias in aliases:
                    yield _entry(alias, source)


def _absolute(statement: cst.ImportFrom) -> tuple[str, Sequence[cst.ImportAlias]] | None:
    """(module, aliases) of an absolute `from module import names`; None for a relative
    or a `*` one."""
    if (
        statement.module is None
        or statement.relative
        or isinstance(statement.names, cst.ImportStar)
    ):
        return None
    return _CODE.code_for_node(statement.module), statement.names


def _bound(source: str, name: str | None, alias: str | None) -> str:
    """The name an import binds."""
    if alias is not None:
        return alias
    return name if name is not None else source.partition(".")[0]


def _names_read(module: cst.Module) -> set[str]:
    """Every name the module spells outside its import statements, strings included."""
    inside: set[int] = set()
    read: set[str] = set()
    for node in descendants(module):
        if isinstance(node, cst.Import | cst.ImportFrom):
            inside.update(id(inner) for inner in descendants(node))
        elif isinstance(node, cst.Name) and id(node) not in inside:
            read.add(node.value)
        elif isinstance(node, cst.SimpleString | cst.FormattedStringText):
            read.update(_WORD.findall(node.value))
    return read


def _without(line: cst.SimpleStatementLine, gone: set[Unused]) -> cst.SimpleStatementLine | None:
    """The line with the gone imports taken out; None when nothing of it is left."""
    small: list[cst.BaseSmallStatement] = []
    for statement in line.body:
        if isinstance(statement, cst.Import):
            names = [a for a in statement.names if _entry(a, None) not in gone]
            if names:
                small.append(statement.with_changes(names=_last_bare(names)))
        elif isinstance(statement, cst.ImportFrom) and (found := _absolute(statement)) is not None:
            source, aliases = found
            names = [a for a in aliases if _entry(a, source) not in gone]
            if not names:
                continue
            if len(names) < len(aliases):
                statement = statement.with_changes(names=_last_bare(names))
            small.append(statement)
        else:
            small.append(statement)
    if not small:
        return None
    if len(small) < len(line.body):
        last = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        small[-1] = last
    return line.with_changes(body=small)


def _entry(alias: cst.ImportAlias, source: str | None) -> Unused:
    name = _CODE.code_for_node(alias.name)
    as_name = alias.evaluated_alias
    return (name, None, as_name) if source is None else (source, name, as_name)


def _last_bare(names: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    """The aliases with no comma after the last one, as one written by hand has."""
    return [*names[:-1], names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
