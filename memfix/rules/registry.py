"""Every rule a run knows: the built-in ones and those other distributions declare.

A rule is known by its declaration (`memfix.rules.Rule`), which loads without libcst:
the built-in ones are `RULE` of each package of `memfix.codemods` (a package whose name
starts with `_` holds helpers), the others the `Rule` objects that entry points of the
group `memfix.codemods` name. Names are checked and selected, files screened, and
`memfix rules` and `explain` answered from the declarations alone; a rule's codemod
class, with libcst, is imported only once a file needs it. Rules run in order of
priority, then name.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import pkgutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memfix.config import Settings, ignored_in
from memfix.errors import ConfigError, MemfixError, UnknownCodemodError, did_you_mean
from memfix.rules.rule import Rule

if TYPE_CHECKING:
    from memfix.rules.codemod import Codemod

# Where the built-in rules are declared, one package each; read by name, never imported
# by the core: only their declarations are, and only here.
BUILTIN_PACKAGE = "memfix.codemods"
# The entry-point group through which other distributions add rules.
ENTRY_POINT_GROUP = "memfix.codemods"


class PluginError(MemfixError):
    """A rule another distribution declares that cannot be used; the run stops (exit 2)."""

    def __init__(self, distribution: str, problem: str) -> None:
        super().__init__(f"plugin {distribution}: {problem}")
        self.distribution = distribution
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Declared:
    """A rule; the distribution it comes from (None: memfix) and the top-level module that
    declares it."""

    rule: Rule
    distribution: str | None
    origin: str


@functools.cache
def _declared() -> tuple[_Declared, ...]:
    """Every declaration, built-in then plugins, checked for clashes, in run order."""
    found = [_Declared(rule, None, BUILTIN_PACKAGE) for rule in _builtin_rules()]
    owners: dict[str, str | None] = {entry.rule.name: None for entry in found}
    for entry, distribution in _plugin_rules():
        name = entry.rule.name
        if name in owners:
            owner = owners[name]
            other = "a built-in rule" if owner is None else f"a rule of {owner}"
            raise PluginError(distribution, f"its rule {name!r} has the name of {other}")
        owners[name] = distribution
        found.append(entry)
    return tuple(sorted(found, key=lambda entry: (entry.rule.priority, entry.rule.name)))


def _builtin_rules() -> Iterator[Rule]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and not info.name.startswith("_"):
            declared = importlib.import_module(f"{package.__name__}.{info.name}").RULE
            if not isinstance(declared, Rule):
                raise TypeError(f"{package.__name__}.{info.name}.RULE is not a Rule")
            yield declared


def _plugin_rules() -> Iterator[tuple[_Declared, str]]:
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution = point.dist.name if point.dist is not None else point.value
        try:
            declared = point.load()
        except Exception as error:  # whatever its import raises, the plugin is at fault
            problem = f"entry point {point.name!r} ({point.value}) cannot be loaded"
            raise PluginError(distribution, f"{problem}: {type(error).__name__}: {error}") from None
        if not isinstance(declared, Rule):
            kind = type(declared).__name__
            problem = f"entry point {point.name!r} ({point.value}) names a {kind}, not a Rule"
            raise PluginError(distribution, problem)
        yield _Declared(declared, distribution, point.module.partition(".")[0]), distribution


def rules() -> tuple[Rule, ...]:
    """Every rule's declaration, in run order; raises PluginError for a plugin's fault."""
    return tuple(entry.rule for entry in _declared())


def names() -> tuple[str, ...]:
    """Every rule's name, in run order, from the declarations alone."""
    return tuple(rule.name for rule in rules())


def rule(name: str) -> Rule:
    """The declaration of the rule called `name`; raises UnknownCodemodError."""
    for declared in rules():
        if declared.name == name:
            return declared
    raise UnknownCodemodError(name, names())


def selected_rules(
    select: Iterable[str],
    ignore: Iterable[str],
    per_file_ignores: Iterable[tuple[str, Sequence[str]]] = (),
) -> tuple[Rule, ...]:
    """The declarations of the rules a run uses: `select` (default all) minus `ignore`.

    Raises UnknownCodemodError for a name no rule has, and ConfigError naming the
    pattern for such a name in `per-file-ignores`.
    """
    select, ignore = tuple(select), tuple(ignore)
    for name in (*select, *ignore):
        if name not in names():
            raise UnknownCodemodError(name, names())
    for pattern, ignored in per_file_ignores:
        for name in ignored:
            if name not in names():
                hint = did_you_mean(name, names())
                problem = f"unknown codemod {name!r}{hint}; `memfix rules` lists them"
                raise ConfigError(f"per-file-ignores.{pattern}", problem)
    return tuple(r for r in rules() if (not select or r.name in select) and r.name not in ignore)


def selected_names(
    select: Iterable[str],
    ignore: Iterable[str],
    per_file_ignores: Iterable[tuple[str, Sequence[str]]] = (),
) -> tuple[str, ...]:
    """The names of the rules a run uses (see `selected`), without importing a codemod."""
    return tuple(d.name for d in selected_rules(select, ignore, per_file_ignores))


def needs_project(names: Iterable[str]) -> bool:
    """Whether one of the named rules reads the repository pass (a name no rule has, that
    of a codemod given by its class alone, reads none)."""
    known = {declared.name: declared for declared in rules()}
    return any(known[name].needs_project for name in names if name in known)


@functools.cache
def load(declared: Rule) -> type[Codemod]:
    """The codemod class `declared` names, imported now (with libcst).

    Raises PluginError when a plugin's class cannot be imported or is not the codemod of
    that declaration.
    """
    from memfix.rules.codemod import Codemod

    owner = _owner(declared)
    try:
        value = getattr(importlib.import_module(declared.module), declared.attribute)
    except Exception as error:  # whatever its import raises, the rule's module is at fault
        if owner is None:
            raise
        problem = f"rule {declared.name!r}: {declared.load} cannot be loaded"
        raise PluginError(owner, f"{problem}: {type(error).__name__}: {error}") from None
    if not (isinstance(value, type) and issubclass(value, Codemod) and declared == value.RULE):
        problem = f"rule {declared.name!r}: {declared.load} is not a Codemod whose RULE is it"
        if owner is None:
            raise TypeError(problem)
        raise PluginError(owner, problem)
    return value


def _owner(declared: Rule) -> str | None:
    for entry in _declared():
        if entry.rule is declared:
            return entry.distribution
    return None


def all_codemods() -> tuple[type[Codemod], ...]:
    """Every rule's codemod class, imported now, in run order."""
    return tuple(load(declared) for declared in rules())


def by_name(name: str) -> type[Codemod]:
    """The codemod class of the rule called `name`; raises UnknownCodemodError."""
    return load(rule(name))


def selected(
    select: Iterable[str],
    ignore: Iterable[str],
    per_file_ignores: Iterable[tuple[str, Sequence[str]]] = (),
) -> Sequence[type[Codemod]]:
    """The codemods a run uses: `select` (default all) minus `ignore`, names checked."""
    return [load(declared) for declared in selected_rules(select, ignore, per_file_ignores)]


def for_path(
    settings: Settings, codemods: Sequence[type[Codemod]], path: str
) -> list[type[Codemod]]:
    """The codemods to run on `path`: `codemods` less those `per-file-ignores` turns off."""
    ignored = ignored_in(settings, path)
    return [codemod for codemod in codemods if codemod.NAME not in ignored]


def source_files() -> list[Path]:
    """The Python files of every module that declares a rule (built-in or not), sorted.

    Read from disk by the result cache, so that a change to any rule's code, helpers
    included, starts a new cache; nothing more is imported to find them.
    """
    found: set[Path] = set()
    for origin in {entry.origin for entry in _declared()}:
        module = sys.modules.get(origin)
        folders = getattr(module, "__path__", None)
        if folders is not None:
            for folder in folders:
                found.update(Path(folder).rglob("*.py"))
        elif module is not None and module.__file__:
            found.add(Path(module.__file__))
    return sorted(found)
