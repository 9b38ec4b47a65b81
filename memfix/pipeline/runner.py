"""Runs the pure core over files: reads them, spreads the work over processes, sorts."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from memfix.config import Settings
from memfix.facts import NO_FACTS, FileFacts
from memfix.files import discover, read
from memfix.pipeline import prefilter
from memfix.project import repository as project
from memfix.project.platform import platform_config
from memfix.results import FileResult, Status
from memfix.rules import registry
from memfix.source.words import mentions_langchain

if TYPE_CHECKING:
    from memfix.deps.dependencies import Need
    from memfix.pipeline.cache import Cache
    from memfix.rules.codemod import Codemod

# Below this many files to analyse a process pool costs more than it saves: the prefilter
# has left only files worth parsing, each tens to hundreds of milliseconds of work.
POOL_THRESHOLD = 6
# Outputs (plots, tables) make notebooks large; the size limit is for their code,
# which `fix_notebook` checks once it is out of the JSON.
NOTEBOOK_SIZE_FACTOR = 32

Progress = Callable[[int, int], None]


def fix_paths(
    paths: Sequence[Path],
    settings: Settings,
    *,
    codemods: Sequence[type[Codemod]] | None = None,
    progress: Progress | None = None,
    cache: bool = True,
    cache_dir: Path | None = None,
) -> list[FileResult]:
    """Discover the files under `paths` and fix each one's text; writes nothing but the cache.

    Every file is read once, here, and screened by the byte prefilter; only the files
    that may matter go on to be analysed, over a process pool when there are enough of
    them, and the codemods (with libcst) are loaded only when one does. Results come
    back sorted by path, whatever the number of processes. The result cache
    (`cache_dir`, default $XDG_CACHE_HOME/memfix) is off with cache=False or
    MEMFIX_NO_CACHE=1. Raises MemfixError for a bad path or codemod name.
    """
    chosen = _Chosen(settings, codemods)
    found = discover.discover_all(paths, settings)
    tasks = [(str(file), display_path(file)) for file in found.files]
    done = _Progress(len(tasks), progress)
    run = _Run(settings, chosen, done)
    for place, problem in found.problems:  # a folder, a repository or a link: not analysed
        shown = display_path(place)
        run.results[shown] = _no_text(shown, Status.FAILED, problem)
    run.read_and_screen(tasks)
    located = {shown: location for location, shown in tasks}
    known = _repository_pass(run.kept, located, paths, settings, chosen.names)
    work = run.link(_with_platform(known.facts(), run.kept, located, paths))
    store = chosen.cache(cache, cache_dir) if work else None
    run.analyse(run.from_cache(work, store), store)
    settled = run.settle(known, store)
    settled = _with_dependency_edits(settled, paths, tasks)
    return sorted(settled, key=lambda result: result.path)


_Work = tuple[str, bytes, "FileFacts | None"]


class _Run:
    """What a run has found so far: final results by shown path, and the files still to do."""

    def __init__(self, settings: Settings, chosen: _Chosen, done: _Progress) -> None:
        self.settings, self.chosen, self.done = settings, chosen, done
        self.results: dict[str, FileResult] = {}
        self.kept: dict[str, bytes] = {}  # what analysis or the repository pass reads
        self.screened: dict[str, FileResult] = {}  # kept for the pass, though screened out

    def read_and_screen(self, tasks: Sequence[tuple[str, str]]) -> None:
        """Read each file once; the prefilter settles most of them without a parse."""
        for location, shown in tasks:
            data = _read(location, shown, self.settings)
            if isinstance(data, FileResult):
                self.results[shown] = self.done(data)
                continue
            # A file that never names LangChain is screened without loading any codemod.
            bare = self.settings.prefilter and not mentions_langchain(data)
            screens = () if bare else self.chosen.screens()
            early = prefilter.screen(data, path=shown, codemods=screens, settings=self.settings)
            if early is None or project.may_matter(data):
                self.kept[shown] = data
            if early is not None and shown in self.kept:
                self.screened[shown] = early  # final unless the pass gives the file facts
            elif early is not None:
                self.results[shown] = self.done(early)

    def link(self, facts: Mapping[str, FileFacts]) -> list[_Work]:
        """The files left to analyse, each with what the repository pass says of it."""
        for shown, early in self.screened.items():
            if shown not in facts:
                self.results[shown] = self.done(early)
        return [(s, self.kept[s], facts.get(s)) for s in self.kept if s not in self.results]

    def from_cache(self, work: list[_Work], store: Cache | None) -> list[_Work]:
        """The work the cache cannot answer; answered here, a file loads no codemod."""
        if store is None:
            return work
        misses = []
        for item in work:
            cached = _cached(store, item)
            if cached is None:
                misses.append(item)
            else:
                self.results[cached.path] = self.done(cached)
        return misses

    def analyse(self, work: list[_Work], store: Cache | None) -> None:
        """Run the codemods over `work`, over a process pool when there is enough of it."""
        classes, settings = self.chosen.classes, self.settings
        jobs = settings.jobs or os.cpu_count() or 1
        if jobs > 1 and len(work) >= POOL_THRESHOLD:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                count = len(work)
                outputs = pool.map(
                    _analyse,
                    work,
                    [classes()] * count,
                    [settings] * count,
                    [store] * count,
                    chunksize=max(1, count // (jobs * 8)),
                )
                for result in outputs:
                    self.results[result.path] = self.done(result)
            return
        for item in work:
            result = _analyse(item, classes(), settings, store)
            self.results[result.path] = self.done(result)

    def settle(self, known: project.Project, store: Cache | None) -> list[FileResult]:
        """The results, with a shared object's edits landing in both files or in neither."""
        settled = list(self.results.values())
        if not known.groups:
            return settled
        classes, settings = self.chosen.classes, self.settings
        return project.settle_results(
            known,
            settled,
            settings.unsafe_fixes,
            lambda shown, new: _analyse((shown, self.kept[shown], new), classes(), settings, store),
        )


class _Chosen:
    """The run's codemods: their names at once (checked), their classes when first needed."""

    def __init__(self, settings: Settings, codemods: Sequence[type[Codemod]] | None) -> None:
        self._classes = self._given = codemods
        self._screens: Sequence[prefilter.Wanting] | None = None
        self._settings = settings
        if codemods is None:
            self.names = registry.selected_names(
                settings.select, settings.ignore, settings.per_file_ignores
            )
        else:
            self.names = tuple(codemod.NAME for codemod in codemods)

    def screens(self) -> Sequence[prefilter.Wanting]:
        """What the prefilter asks of a file for these codemods, without loading them."""
        if self._screens is None:
            if self._classes is None:
                self._screens = prefilter.screens(self.names)
            else:
                self._screens = list(self.classes())
        return self._screens

    def classes(self) -> Sequence[type[Codemod]]:
        if self._classes is None:
            self._classes = registry.selected(
                self._settings.select, self._settings.ignore, self._settings.per_file_ignores
            )
        return self._classes

    def cache(self, enabled: bool, folder: Path | None) -> Cache | None:
        from memfix.pipeline.cache import open_cache

        keyed: Sequence[type[Codemod] | str] = self._given or self.names
        return open_cache(keyed, self._settings, enabled=enabled, folder=folder)


class _Progress:
    """Counts finished files and tells the caller's callback."""

    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total, self.count, self.callback = total, 0, callback

    def __call__(self, result: FileResult) -> FileResult:
        self.count += 1
        if self.callback is not None:
            self.callback(self.count, self.total)
        return result


def _repository_pass(
    kept: Mapping[str, bytes],
    located: Mapping[str, str],
    paths: Sequence[Path],
    settings: Settings,
    names: Sequence[str],
) -> project.Project:
    """What modules say about each other, when a codemod that reads it is selected.

    It reads the bytes already read for the run (`kept`: the files that may matter);
    only a module outside the run is read from disk, when an import leads to it.
    """
    if not registry.needs_project(names):
        return project.Project()
    roots = [Path(os.path.realpath(p if p.is_dir() else p.parent)) for p in paths]
    # Only kept files can define or use state: a module an import leads to that is in the
    # run but was not kept is read again, and found to hold nothing for the pass.
    in_run = {Path(os.path.realpath(located[shown])): shown for shown in kept}
    files = list(in_run)

    def read(path: Path) -> bytes | None:
        if path in in_run:
            return kept[in_run[path]]
        data = _read(str(path), "", settings)  # a module outside the run
        return data if isinstance(data, bytes) else None

    disk = project.Disk(
        read=read,
        is_file=functools.cache(Path.is_file),  # imports ask about the same paths often
        shown=lambda path: in_run.get(path) or display_path(path),
    )
    return project.plan(files, roots, disk)


def _with_platform(
    facts: Mapping[str, FileFacts],
    kept: Mapping[str, bytes],
    located: Mapping[str, str],
    paths: Sequence[Path],
) -> dict[str, FileFacts]:
    """The facts, plus for each kept file the `langgraph.json` that serves it as a graph.

    Only a config inside the run's tree counts: at or above the file, up to the path given.
    """
    found = dict(facts)
    for shown in kept:
        file = Path(located[shown]).resolve()
        roots = [p.resolve() for p in paths if file.is_relative_to(p.resolve())]
        root = roots[0] if roots else file.parent
        config = platform_config(file, root if root.is_dir() else root.parent)
        if config is not None:
            found[shown] = replace(found.get(shown, NO_FACTS), platform=(display_path(config),))
    return found


def _read(location: str, shown: str, settings: Settings) -> bytes | FileResult:
    """The file's bytes; or its result, when it is over the size limit or cannot be read.

    Only a regular file is read, and no more than the limit and one byte: a FIFO, a
    device or a link to one is an error, never a wait or an endless read.
    """
    limit = settings.max_file_size
    if location.endswith(".ipynb"):
        limit *= NOTEBOOK_SIZE_FACTOR
    try:
        with open(location, "rb", buffering=0, opener=read.nonblocking) as handle:
            return read.read_regular(handle, limit)
    except read.TooLargeError as error:
        return _no_text(shown, Status.SKIPPED, f"skipped: {error}")
    except OSError as error:
        return _no_text(shown, Status.FAILED, f"cannot read: {error.strerror or error}")


def _analyse(
    item: tuple[str, bytes, FileFacts | None],
    codemods: Sequence[type[Codemod]],
    settings: Settings,
    store: Cache | None = None,
) -> FileResult:
    """One file's result from its bytes (shown path, bytes, facts), through the cache."""
    from memfix.pipeline.engine import fix_bytes

    shown, data, facts = item
    facts = facts or NO_FACTS
    if store is None:
        return fix_bytes(data, path=shown, codemods=codemods, settings=settings, facts=facts)
    cached = _cached(store, item)
    if cached is not None:
        return cached
    result = fix_bytes(data, path=shown, codemods=codemods, settings=settings, facts=facts)
    store.store(result, facts.key())
    return result


def _cached(store: Cache, item: tuple[str, bytes, FileFacts | None]) -> FileResult | None:
    shown, data, facts = item
    return store.load(hashlib.sha256(data).hexdigest(), shown, (facts or NO_FACTS).key())


def _with_dependency_edits(
    results: list[FileResult], paths: Sequence[Path], tasks: Sequence[tuple[str, str]]
) -> list[FileResult]:
    """`results`, plus a result for each dependency file lacking packages that a fix needs.

    Each CHANGED result with packages goes to the dependency file nearest it, searched no
    higher than the git root of the paths given, or those paths (`discover.search_top`).
    """
    if not any(result.changed and result.packages for result in results):
        return results
    from memfix.deps import dependencies

    located = {shown: Path(os.path.realpath(location)) for location, shown in tasks}
    tops = [discover.search_top(path) for path in paths]
    needs: dict[Path, list[dependencies.Need]] = {}
    for result in results:
        if result.changed and result.packages and result.path in located:
            file = located[result.path]
            found = discover.dependency_file(file, tops)
            if found is not None:
                source = Path(os.path.relpath(file, found.parent)).as_posix()
                needs.setdefault(found, []).append(dependencies.need_of(result, source))
    for found, asked in needs.items():
        if found in located.values():
            continue  # the run has a result for it already
        added = _dependency_result(found, _shown_above(found), asked)
        if added is not None:
            results.append(added)
    return results


def _shown_above(path: Path) -> str:
    """`display_path`; `../requirements.txt` for one in a folder above the current one (the
    git root of a run in a subfolder), so that the diff stays relative."""
    here = Path(os.getcwd())
    if path.parent in here.parents:
        return Path(os.path.relpath(path, here)).as_posix()
    return display_path(path)


def _dependency_result(path: Path, shown: str, needs: Sequence[Need]) -> FileResult | None:
    """The dependency file's result (see `dependencies.dependency_result`); None when it
    lists every package, or cannot be read or decoded (the fix's comment names them)."""
    from memfix.deps.dependencies import dependency_result
    from memfix.files.decode import DecodeError, decode_source

    try:
        data = read.read_file(path, discover.DEPENDENCY_FILE_LIMIT)
        decoded = decode_source(data)
    except (OSError, DecodeError):
        return None
    result = dependency_result(shown, decoded.text, needs)
    if result is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return replace(result, encoding=decoded.encoding, bom=decoded.bom, digest=digest)


def _no_text(path: str, status: Status, error: str) -> FileResult:
    return FileResult(path, "", "", "", (), status, error)


def display_path(path: Path) -> str:
    """The path as reports show it: relative to the current folder when below it, with `/`."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.getcwd()).as_posix()
    except ValueError:
        return path.as_posix()
