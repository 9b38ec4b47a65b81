"""Runs the pure core over files: reads them, spreads the work over processes, sorts."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from memfix import discover, project, registry
from memfix.codemod import Codemod
from memfix.config import Settings
from memfix.facts import NO_FACTS, FileFacts
from memfix.results import FileResult, Status

if TYPE_CHECKING:
    from memfix.cache import Cache
    from memfix.dependencies import Need

# Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 24
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

    Results come back sorted by path, whatever the number of processes. The result cache
    (`cache_dir`, default $XDG_CACHE_HOME/memfix) is off with cache=False or MEMFIX_NO_CACHE=1.
    Raises MemfixError for a bad path or codemod name.
    """
    from memfix.cache import open_cache

    if codemods is None:
        codemods = registry.selected(settings.select, settings.ignore)
    store = open_cache(codemods, settings, enabled=cache, folder=cache_dir)
    files = discover.discover(paths, settings)
    jobs = settings.jobs or os.cpu_count() or 1
    tasks = [(str(file), display_path(file)) for file in files]
    known = _repository_pass(files, paths, settings, codemods)
    by_file = known.facts()
    facts = [by_file.get(shown) for _, shown in tasks]
    results: list[FileResult] = []
    if jobs > 1 and len(tasks) >= POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunk = max(1, len(tasks) // (jobs * 8))
            count = len(tasks)
            outputs = pool.map(
                _fix_file,
                tasks,
                [codemods] * count,
                [settings] * count,
                [store] * count,
                facts,
                chunksize=chunk,
            )
            for result in outputs:
                results.append(result)
                if progress:
                    progress(len(results), len(tasks))
    else:
        for task, its_facts in zip(tasks, facts, strict=True):
            results.append(_fix_file(task, codemods, settings, store, its_facts))
            if progress:
                progress(len(results), len(tasks))
    if known.groups:
        by_shown = {shown: (location, shown) for location, shown in tasks}
        results = project.settle_results(
            known,
            results,
            settings.unsafe_fixes,
            lambda shown, new: _fix_file(by_shown[shown], codemods, settings, store, new),
        )
    results = _with_dependency_edits(results, paths, tasks)
    return sorted(results, key=lambda result: result.path)


def _repository_pass(
    files: Sequence[Path],
    paths: Sequence[Path],
    settings: Settings,
    codemods: Sequence[type[Codemod]],
) -> project.Project:
    """What modules say about each other, when a codemod that reads it is selected."""
    if not {c.NAME for c in codemods} & {"shared-global-state", "per-call-state"}:
        return project.Project()
    roots = [(p if p.is_dir() else p.parent).resolve() for p in paths]
    resolved = {file.resolve(): file for file in files}
    disk = project.Disk(
        read=partial(_read_small, limit=settings.max_file_size),
        is_file=Path.is_file,
        shown=lambda path: display_path(resolved.get(path, path)),
    )
    return project.plan(list(resolved), roots, disk)


def _read_small(path: Path, *, limit: int) -> bytes | None:
    """The file's bytes, or None when it cannot be read or is over the size limit."""
    try:
        if path.stat().st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _fix_file(
    task: tuple[str, str],
    codemods: Sequence[type[Codemod]],
    settings: Settings,
    store: Cache | None = None,
    facts: FileFacts | None = None,
) -> FileResult:
    import hashlib

    from memfix.engine import fix_bytes

    location, shown = task
    try:
        size = os.stat(location).st_size
        limit = settings.max_file_size
        if location.endswith(".ipynb"):
            limit *= NOTEBOOK_SIZE_FACTOR
        if size > limit:
            return _no_text(shown, Status.SKIPPED, f"skipped: {size} bytes, over the {limit} limit")
        with open(location, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return _no_text(shown, Status.FAILED, f"cannot read: {error.strerror or error}")
    facts = facts or NO_FACTS
    if store is None:
        return fix_bytes(data, path=shown, codemods=codemods, settings=settings, facts=facts)
    cached = store.load(hashlib.sha256(data).hexdigest(), shown, facts.key())
    if cached is not None:
        return cached
    result = fix_bytes(data, path=shown, codemods=codemods, settings=settings, facts=facts)
    store.store(result, facts.key())
    return result


def _with_dependency_edits(
    results: list[FileResult], paths: Sequence[Path], tasks: Sequence[tuple[str, str]]
) -> list[FileResult]:
    """`results`, plus a result for each dependency file lacking packages that a fix needs.

    Each CHANGED result with packages goes to the dependency file nearest it, searched no
    higher than the git root of the paths given, or those paths (`discover.search_top`).
    """
    from memfix import dependencies

    located = {shown: Path(location).resolve() for location, shown in tasks}
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
    import hashlib

    from memfix.decode import DecodeError, decode_source
    from memfix.dependencies import dependency_result

    try:
        data = path.read_bytes()
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
