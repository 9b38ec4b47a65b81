"""The repository pass: state defined in one module and used by routes in another.

Driven from the candidates, never by parsing the whole tree. Only a module that names
a web framework can use state per request, and only one that passes the byte prefilter
(LangChain and a state class) can define it; Python's own parser reads the web modules,
then only the candidates their imports lead to (and the modules those import), and
nothing else is parsed. A web module's imports are resolved to files (`memfix.project.modules`);
when one leads to a module-level memory, chain or history, or to a function that builds
one per call, the two files get `FileFacts` about each other, and the pure core fixes
each side with what the other told it.

Both edits of a shared object land together or not at all: after the files are fixed,
`settle` checks that every side reported the finding and applied (or declined) the same
fix, and downgrades a group that one side could not fix to report-only, so the runner
re-runs only those files. A definition outside the run is reported at the use, never
half-fixed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from memfix.facts import (
    FileFacts,
    PerCallBuilder,
    Plan,
    Route,
    SharedDefinition,
    SharedImport,
)
from memfix.project.modules import bindings
from memfix.project.state_index import StateName, builders, calls, handlers, is_web_module, reads
from memfix.project.state_index import state_names as find_state_names
from memfix.results import FileResult, Finding, Fix
from memfix.source.words import is_candidate
from memfix.vocabulary import WEB_FRAMEWORKS, factory_names

SHARED = "shared-global-state"
_STATE_WORDS = (b"Memory", b"ChatMessageHistory", b"ConversationChain")
_WEB_WORDS = tuple(sorted(name.encode() for name in WEB_FRAMEWORKS))


# A line that imports a web framework (`import flask`, `from fastapi import ...`).
_WEB_IMPORT = re.compile(
    rb"^[^\n]*\b(?:from|import)\b[^\n]*\b(?:" + b"|".join(_WEB_WORDS) + rb")\b", re.MULTILINE
)


def _may_import_web(data: bytes) -> bool:
    """A byte test, true of every module `is_web_module` accepts, before any parse."""
    if not any(word in data for word in _WEB_WORDS):
        return False
    return b"\\\n" in data or _WEB_IMPORT.search(data) is not None  # a continued line: parse


def may_matter(data: bytes) -> bool:
    """Whether the pass may read a file with these bytes: a web module or a candidate."""
    return any(word in data for word in _WEB_WORDS) or is_candidate(data, _STATE_WORDS)


@dataclass(frozen=True, slots=True)
class Disk:
    """How the pass sees files, given by the runner (the only one that touches disk)."""

    read: Callable[[Path], bytes | None]
    is_file: Callable[[Path], bool]
    shown: Callable[[Path], str]


@dataclass(frozen=True, slots=True)
class Use:
    """One web module's use of a shared object: where it imports it, which handlers read it."""

    user: str
    access: str
    line: int
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """One module-level object and every use of it from other modules' handlers."""

    definer: str
    name: str
    line: int
    kind: str
    uses: tuple[Use, ...]
    plan: Plan


@dataclass(frozen=True, slots=True)
class Project:
    """What the pass found: shared objects, and builders called per request."""

    groups: tuple[Group, ...] = ()
    builders: tuple[tuple[str, PerCallBuilder], ...] = ()

    def facts(self) -> dict[str, FileFacts]:
        """The facts of each file concerned, by shown path; files not listed have none."""
        found: dict[str, FileFacts] = {}

        def add(path: str, **items: tuple[object, ...]) -> None:
            current = found.get(path, FileFacts())
            changes = {key: (*getattr(current, key), *value) for key, value in items.items()}
            found[path] = replace(current, **changes)

        for group in self.groups:
            routes = tuple(route for use in group.uses for route in use.routes)
            partners = tuple(dict.fromkeys(use.user for use in group.uses))
            definition = SharedDefinition(group.name, routes, group.plan, partners, group.kind)
            add(group.definer, definitions=(definition,))
            factory = factory_names(group.name)[0]
            for use in group.uses:
                shared = SharedImport(
                    use.access, group.name, group.definer, factory, group.plan, use.line
                )
                add(use.user, imports=(shared,))
        for path, builder in self.builders:
            add(path, builders=(builder,))
        return found

    def settle(self, results: Mapping[str, FileResult], unsafe_fixes: bool) -> Project:
        """The groups with each plan made to match what the files' results show."""
        groups = tuple(replace(g, plan=_settled(g, results, unsafe_fixes)) for g in self.groups)
        return replace(self, groups=groups)


@dataclass
class _Module:
    shown: str
    tree: ast.Module
    in_run: bool
    states: dict[str, StateName] = field(default_factory=dict)
    builders: dict[str, str] = field(default_factory=dict)


def plan(files: Sequence[Path], roots: Sequence[Path], disk: Disk) -> Project:
    """Index the web modules among `files` (resolved paths) and the candidates they import.

    A candidate is parsed only when a web module's import leads to it.
    """
    index = _Index(roots, disk)
    web: list[tuple[Path, ast.Module]] = []
    for file in files:
        data = disk.read(file) if file.suffix == ".py" else None
        if data is None:
            continue
        index.in_run[file] = data if is_candidate(data, _STATE_WORDS) else None
        if _may_import_web(data):
            tree = _parse(data)
            if tree is not None and is_web_module(tree):
                web.append((file, tree))
    groups: dict[tuple[str, str], Group] = {}
    built: dict[tuple[str, str], PerCallBuilder] = {}
    for file, tree in web:
        shown = disk.shown(file)
        for binding in bindings(tree, file, roots, disk.is_file):
            source = None if binding.file == file else index.module(binding.file)
            if source is None:
                continue
            for name, access in _accesses(binding.name, binding.access, source):
                _link(groups, built, source, name, access, binding.line, shown, tree)
    return Project(
        tuple(groups.values()), tuple((key[0], builder) for key, builder in built.items())
    )


class _Index:
    """The candidate modules, parsed on first use, with the state they import followed."""

    def __init__(self, roots: Sequence[Path], disk: Disk) -> None:
        self.roots = roots
        self.disk = disk
        self.in_run: dict[Path, bytes | None] = {}  # None: in the run, not a candidate
        self.parsed: dict[Path, _Module | None] = {}

    def module(self, file: Path, depth: int = 0) -> _Module | None:
        if file in self.parsed:
            return self.parsed[file]
        in_run = file in self.in_run
        data = self.in_run[file] if in_run else self.disk.read(file)
        if data is None or not (in_run or is_candidate(data, _STATE_WORDS)):
            self.parsed[file] = None
            return None
        module = _definer(data, self.disk.shown(file), in_run=in_run)
        self.parsed[file] = module  # before following its imports: they may lead back here
        if module is not None and depth < 2:
            self._follow(file, module, depth)
        return module

    def _follow(self, file: Path, module: _Module, depth: int) -> None:
        """Add the chains a module builds from state it imports (`memory` in one module,
        `chain = ConversationChain(memory=memory)` in a second)."""
        seed: dict[str, str] = {}
        for binding in bindings(module.tree, file, self.roots, self.disk.is_file):
            source = self.module(binding.file, depth + 1) if binding.name else None
            if source is not None and binding.name in source.states:
                seed[binding.access] = source.states[binding.name].kind
        if seed:
            for state in find_state_names(module.tree, seed):
                module.states.setdefault(state.name, state)


def _link(
    groups: dict[tuple[str, str], Group],
    built: dict[tuple[str, str], PerCallBuilder],
    source: _Module,
    name: str,
    access: str,
    line: int,
    user: str,
    tree: ast.Module,
) -> None:
    """Record the handlers of `tree` that read (or call) `access`, bound from `source`."""
    if name in source.states:
        routes = tuple(
            Route(h.label, user, h.line) for h in handlers(tree) if reads(h.node, access)
        )
        if not routes:
            return
        state = source.states[name]
        key = (source.shown, name)
        # State built from another module's state: reported, not fixed (yet) across three.
        plan = Plan.FIX if source.in_run and not state.imported else Plan.REPORT
        group = groups.get(key, Group(source.shown, name, state.line, state.kind, (), plan))
        groups[key] = replace(group, uses=(*group.uses, Use(user, access, line, routes)))
    elif name in source.builders and source.in_run:
        routes = tuple(
            Route(h.label, user, h.line) for h in handlers(tree) if calls(h.node, access)
        )
        if routes:
            key = (source.shown, name)
            old = built.get(key, PerCallBuilder(name, ()))
            built[key] = replace(old, users=(*old.users, *routes))


def _accesses(name: str | None, access: str, source: _Module) -> list[tuple[str, str]]:
    """(name in the source, how the user reads it) for each state or builder it can reach."""
    if name is not None:
        return [(name, access)]
    return [(n, f"{access}.{n}") for n in (*source.states, *source.builders)]


def _definer(data: bytes, shown: str, *, in_run: bool) -> _Module | None:
    tree = _parse(data)
    if tree is None:
        return None
    states = {state.name: state for state in find_state_names(tree)}
    return _Module(shown, tree, in_run, states, builders(tree))


def _parse(data: bytes) -> ast.Module | None:
    try:
        return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _settled(group: Group, results: Mapping[str, FileResult], unsafe_fixes: bool) -> Plan:
    """The plan both sides can keep: downgraded when one side did not report or apply it."""
    if group.plan is Plan.REPORT:
        return Plan.REPORT
    sites = [(group.definer, group.line, group.name)]
    sites.extend((use.user, use.line, use.access) for use in group.uses)
    findings: list[Finding] = []
    for path, line, name in sites:
        result = results.get(path)
        if result is None or result.failed:
            return Plan.REPORT
        found = [
            f
            for f in result.findings
            if f.codemod == SHARED and f.line == line and repr(name) in f.message
        ]
        if not found or not found[0].fixed:
            return Plan.REPORT
        findings.append(found[0])
    if group.plan is Plan.FIX and any(f.fix is Fix.UNSAFE for f in findings):
        return Plan.UNSAFE
    applies = group.plan is Plan.FIX or unsafe_fixes
    if applies and not all(f.applied for f in findings):
        return Plan.REPORT
    return group.plan


# Each round can only downgrade a plan (FIX to UNSAFE to REPORT), so a few suffice.
MAX_ROUNDS = 4
Refix = Callable[[str, FileFacts | None], FileResult]


def settle_results(
    project: Project, results: Sequence[FileResult], unsafe_fixes: bool, refix: Refix
) -> list[FileResult]:
    """`results`, with the files whose cross-module plan changed fixed again by `refix`.

    `refix(shown path, facts)` runs the core over one file with its new facts.
    """
    by_path = {result.path: result for result in results}
    facts = project.facts()
    for _ in range(MAX_ROUNDS):
        project = project.settle(by_path, unsafe_fixes)
        new = project.facts()
        again = [path for path in by_path if new.get(path) != facts.get(path)]
        if not again:
            break
        for path in again:
            by_path[path] = refix(path, new.get(path))
        facts = new
    return list(by_path.values())
