"""Which files a run looks at."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from memfix.config import Settings
from memfix.errors import MissingPathError
from memfix.files import git

SUFFIXES = (".py", ".ipynb")


def discover(paths: Sequence[Path], settings: Settings) -> list[Path]:
    """The Python files and Jupyter notebooks under `paths`, sorted, each once.

    A file named on the command line is always taken; folders are walked (inside a git
    work tree, git's own list is used, so ignored files stay out) minus the excludes.
    Raises MissingPathError for a path that does not exist.
    """
    patterns = (*settings.extend_exclude, *settings.exclude)
    found: dict[Path, None] = {}
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise MissingPathError(str(path))
        if not path.is_dir():
            found[path] = None
            continue
        root = path.resolve()
        for candidate in _walk(path):
            relative = candidate.relative_to(path) if _is_below(candidate, path) else candidate
            if candidate.suffix not in SUFFIXES or is_excluded(relative, patterns):
                continue
            if candidate.is_symlink() and not _is_below(candidate.resolve(), root):
                continue  # a link out of the tree the user named is not followed
            if candidate.is_file():
                found[candidate] = None
    return sorted(found)


def _walk(folder: Path) -> Iterable[Path]:
    root = git.work_tree_root(folder)
    if root is not None:
        base = folder.resolve()
        for listed in git.listed_files(root, folder):
            yield folder / listed.relative_to(base)
        return
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield Path(current) / name


def is_excluded(relative: Path, patterns: Sequence[str]) -> bool:
    """Whether a path matches an exclude glob: a bare name matches any part of the path."""
    whole, part = _compiled(tuple(patterns))
    if whole is not None and whole.match(os.path.normcase(relative.as_posix())):
        return True
    return part is not None and any(part.match(os.path.normcase(n)) for n in relative.parts)


@functools.lru_cache(maxsize=16)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regular expression for the path globs, one for the name globs (as fnmatch reads
    them: `*` crosses `/`, and a folder glob also matches what is under the folder)."""
    paths = [p for p in patterns if "/" in p]
    globs = [*paths, *(p.rstrip("/") + "/*" for p in paths)]
    names = [p for p in patterns if "/" not in p]
    return _either(globs), _either(names)


def _either(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(g))})" for g in globs))


def _is_below(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def search_top(path: Path) -> Path:
    """The highest folder a dependency-file search from a file under `path` may reach.

    The root of the git work tree holding `path`, else `path` itself (its folder, for a
    file): memfix never edits a file above what it was pointed at or its repository.
    """
    root = git.work_tree_root(path)
    if root is not None:
        return root
    folder = path.resolve()
    return folder if folder.is_dir() else folder.parent


def dependency_file(file: Path, tops: Sequence[Path]) -> Path | None:
    """The dependency file nearest `file`: in its folder, then each folder above it up to
    the highest of `tops` holding it (just its own folder when none does).

    In one folder `dependencies.preferred` decides: a requirements file before a
    pyproject.toml, which counts only when it has a dependency list.
    """
    from memfix.deps import dependencies

    start = file.resolve().parent
    holding = [top for top in tops if top == start or _is_below(start, top)]
    top = min(holding, key=lambda folder: len(folder.parts)) if holding else start
    for folder in (start, *start.parents):
        for name in dependencies.preferred(_file_names(folder)):
            candidate = folder / name
            if name != dependencies.PYPROJECT or _lists_dependencies(candidate):
                return candidate
        if folder == top:
            break
    return None


def _file_names(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(folder) if entry.is_file()]
    except OSError:
        return []


def _lists_dependencies(pyproject: Path) -> bool:
    from memfix.deps import dependencies

    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return dependencies.lists_dependencies(pyproject.name, text)
