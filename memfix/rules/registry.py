"""Every codemod in the `codemods` package, in the order they run.

A codemod's name is its module's name with dashes (`codemods/per_call_state.py` is
`per-call-state`), so names are known, checked and selected without importing the
codemods, which load libcst: a run imports them only once a file needs them.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from memfix.errors import UnknownCodemodError

if TYPE_CHECKING:
    from memfix.rules.codemod import Codemod

# Fixed order (DESIGN.md): where state lives, then keys, then chain shape, then wiring.
ORDER = (
    "shared-global-state",
    "in-process-history",
    "unstable-session-key",
    "per-call-state",
    "legacy-conversation-chain",
    "input-key-mismatch",
    "memory-key-mismatch",
    "unwired-memory",
)


@functools.cache
def names() -> tuple[str, ...]:
    """Every codemod's name, in run order, from the module names alone."""
    from memfix import codemods

    found = [
        info.name.replace("_", "-")
        for info in pkgutil.iter_modules(codemods.__path__)
        if not info.name.startswith("_")
    ]
    return tuple(sorted(found, key=_rank_name))


def selected_names(select: Iterable[str], ignore: Iterable[str]) -> tuple[str, ...]:
    """The names of the codemods a run uses (see `selected`), without importing them."""
    select, ignore = tuple(select), tuple(ignore)
    for name in (*select, *ignore):
        if name not in names():
            raise UnknownCodemodError(name, names())
    return tuple(n for n in names() if (not select or n in select) and n not in ignore)


@functools.cache
def all_codemods() -> tuple[type[Codemod], ...]:
    """Import each public module of `codemods/` and return its codemod classes, in run order."""
    from memfix import codemods
    from memfix.rules.codemod import Codemod

    found: list[type[Codemod]] = []
    for info in pkgutil.iter_modules(codemods.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"memfix.codemods.{info.name}")
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Codemod)
            and value.__module__ == module.__name__
            and value.NAME
        )
    return tuple(sorted(found, key=_rank))


def _rank(codemod: type[Codemod]) -> tuple[int, str]:
    return _rank_name(codemod.NAME)


def _rank_name(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def by_name(name: str) -> type[Codemod]:
    """The codemod called `name`; raises UnknownCodemodError."""
    for codemod in all_codemods():
        if name == codemod.NAME:
            return codemod
    raise UnknownCodemodError(name, (c.NAME for c in all_codemods()))


def selected(select: Iterable[str], ignore: Iterable[str]) -> Sequence[type[Codemod]]:
    """The codemods a run uses: `select` (default all) minus `ignore`, names checked."""
    chosen = selected_names(select, ignore)
    return [c for c in all_codemods() if c.NAME in chosen]
