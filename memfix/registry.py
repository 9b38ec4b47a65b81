"""Every codemod in the `codemods` package, in the order they run."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable, Sequence

from memfix.codemod import Codemod
from memfix.errors import UnknownCodemodError

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
def all_codemods() -> tuple[type[Codemod], ...]:
    """Import each public module of `codemods/` and return its codemod classes, in run order."""
    import codemods

    found: list[type[Codemod]] = []
    for info in pkgutil.iter_modules(codemods.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"codemods.{info.name}")
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
    name = codemod.NAME
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def by_name(name: str) -> type[Codemod]:
    """The codemod called `name`; raises UnknownCodemodError."""
    for codemod in all_codemods():
        if name == codemod.NAME:
            return codemod
    raise UnknownCodemodError(name, (c.NAME for c in all_codemods()))


def selected(select: Iterable[str], ignore: Iterable[str]) -> Sequence[type[Codemod]]:
    """The codemods a run uses: `select` (default all) minus `ignore`, names checked."""
    select, ignore = tuple(select), tuple(ignore)
    for name in (*select, *ignore):
        by_name(name)
    return [c for c in all_codemods() if (not select or c.NAME in select) and c.NAME not in ignore]
