"""Which files a run looks at."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from memfix.config import Settings
from memfix.errors import MissingPathError
from memfix.files import git
from memfix.files.read import read_file

SUFFIXES = (".py", ".ipynb")
# More than any real dependency file: what memfix reads of one at most.
DEPENDENCY_FILE_LIMIT = 4_000_000


@dataclass(frozen=True, slots=True)
class Discovery:
    """The files a run looks at, and the places it could not look into (path, problem)."""

    files: list[Path]
    problems: list[tuple[Path, str]]


def discover(paths: Sequence[Path], settings: Settings) -> list[Path]:
    """The Python files and Jupyter notebooks under `paths`, sorted, each once.

    `discover_all` without the problems. Raises MissingPathError for a path that does
    not exist.
    """
    return discover_all(paths, settings).files


def discover_all(paths: Sequence[Path], settings: Settings) -> Discovery:
    """The Python files and Jupyter notebooks under `paths`, and what could not be read.

    A file named on the command line is always taken; folders are walked (inside a git
    work tree, git's own list is used, so ignored files stay out) minus the excludes. A
    link out of the folder given is not followed. A folder that cannot be listed, a
    repository git cannot read and a loop of links are problems: the rest goes on.
    Raises MissingPathError for a path that does not exist.
    """
    patterns = (*settings.extend_exclude, *settings.exclude)
    found: dict[Path, None] = {}
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if not _exists(path):
            raise MissingPathError(str(path))
        if not path.is_dir():
            found[path] = None
            continue
        root = Path(os.path.realpath(path))
        for candidate in _walk(path, patterns, problems):
            relative = candidate.relative_to(path) if _is_below(candidate, path) else candidate
            if candidate.suffix not in SUFFIXES or is_excluded(relative, patterns):
                continue
            taken = _taken(candidate, root)
            if isinstance(taken, str):
                problems.append((candidate, taken))
            elif taken:
                found[candidate] = None
    return Discovery(sorted(found), problems)


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # there, but not readable: reading it will say why
    return True


def _taken(candidate: Path, root: Path) -> bool | str:
    """Whether to look at a file the walk found, or the problem that keeps it out."""
    if not candidate.is_symlink():
        return candidate.is_file()
    real = os.path.realpath(candidate)
    if os.path.islink(real):
        return "a loop of links"
    # A link out of the tree the user named is not followed.
    return _is_below(Path(real), root) and os.path.isfile(real)


def _walk(
    folder: Path, patterns: Sequence[str], problems: list[tuple[Path, str]]
) -> Iterable[Path]:
    try:
        listed = _listed_by_git(folder)
    except git.GitError as error:
        # Walking the folder instead would take files git ignores (secrets, builds):
        # the tree is left out, and the run says why.
        problems.append((folder, f"not checked: git cannot list its files: {error}"))
        return
    if listed is not None:
        yield from listed
        return

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else folder
        problems.append((where, f"cannot read this folder: {error.strerror or error}"))

    for current, dirs, files in os.walk(folder, onerror=unreadable):
        # An excluded folder is not entered: whatever is in it (or unreadable) is no concern.
        here = Path(current).relative_to(folder)
        dirs[:] = sorted(name for name in dirs if not is_excluded(here / name, patterns))
        for name in sorted(files):
            yield Path(current) / name


def _listed_by_git(folder: Path) -> list[Path] | None:
    """The files git lists under `folder`; None outside a git work tree."""
    root = git.work_tree_root(folder)
    if root is None:
        return None
    base = Path(os.path.realpath(folder))
    return [folder / path.relative_to(base) for path in git.listed_files(root, folder)]


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
    folder = Path(os.path.realpath(path))
    if not folder.is_dir():
        folder = folder.parent
    try:
        root = git.work_tree_root(folder)
    except git.GitError:
        root = None  # discover has reported it
    return folder if root is None else root


def dependency_file(file: Path, tops: Sequence[Path]) -> Path | None:
    """The dependency file nearest `file`: in its folder, then each folder above it up to
    the highest of `tops` holding it (just its own folder when none does).

    In one folder `dependencies.preferred` decides: a requirements file before a
    pyproject.toml, which counts only when it has a dependency list.
    """
    from memfix.deps import dependencies

    start = Path(os.path.realpath(file)).parent
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
        text = read_file(pyproject, DEPENDENCY_FILE_LIMIT).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return dependencies.lists_dependencies(pyproject.name, text)
