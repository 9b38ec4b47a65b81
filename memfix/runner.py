"""Runs the pure core over files: reads them, spreads the work over processes, sorts."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from memfix import discover, registry
from memfix.codemod import Codemod
from memfix.config import Settings
from memfix.results import FileResult, Status

if TYPE_CHECKING:
    from memfix.cache import Cache

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
                chunksize=chunk,
            )
            for result in outputs:
                results.append(result)
                if progress:
                    progress(len(results), len(tasks))
    else:
        for task in tasks:
            results.append(_fix_file(task, codemods, settings, store))
            if progress:
                progress(len(results), len(tasks))
    return sorted(results, key=lambda result: result.path)


def _fix_file(
    task: tuple[str, str],
    codemods: Sequence[type[Codemod]],
    settings: Settings,
    store: Cache | None = None,
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
    if store is None:
        return fix_bytes(data, path=shown, codemods=codemods, settings=settings)
    cached = store.load(hashlib.sha256(data).hexdigest(), shown)
    if cached is not None:
        return cached
    result = fix_bytes(data, path=shown, codemods=codemods, settings=settings)
    store.store(result)
    return result


def _no_text(path: str, status: Status, error: str) -> FileResult:
    return FileResult(path, "", "", "", (), status, error)


def display_path(path: Path) -> str:
    """The path as reports show it: relative to the current folder when below it, with `/`."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.getcwd()).as_posix()
    except ValueError:
        return path.as_posix()
