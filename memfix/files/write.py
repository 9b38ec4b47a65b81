"""The one gate every write memfix makes goes through.

Source files, dependency files, notebooks, `batch` patches and descriptions, and
`--output` reports: each write lands inside the tree the run was given, or not at all.
The real target of a write is found after every link is resolved; outside the tree,
the write is refused. Inside, the folder it lands in is opened component by component
without following links, so a link swapped in meanwhile cannot move the write out,
and the file is replaced atomically: a temporary file beside it, then a rename. The
temporaries a killed run left in that folder go first; no other file is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from memfix.errors import MemfixError
from memfix.files import git
from memfix.files.decode import encode_source
from memfix.files.read import read_regular
from memfix.results import FileResult

# A temporary file is `.NAME.XXXXXXXX.memfix` beside the file NAME it replaces.
_TEMPORARY = re.compile(r"\A\..+\.[a-z0-9_]{8}\.memfix\Z", re.DOTALL)
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
# A temporary this old that no process holds locked was left by a run that was killed.
# The age covers the moment between its creation and its writer taking the lock.
STALE_AFTER = 10.0
_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NO_LINK = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class WriteError(MemfixError):
    """A file was not written; whatever was there is left as it was.

    `refused` is true when the gate kept the write out of a place outside the tree.
    """

    def __init__(self, path: str, problem: str, *, refused: bool = False) -> None:
        super().__init__(f"{path}: not written: {problem}")
        self.path = path
        self.problem = problem
        self.refused = refused

    @property
    def kind(self) -> str:
        """How a report line names it: `path: not written: ...` or `path: error: ...`."""
        return "not written" if self.refused else "error"


@dataclass(frozen=True, slots=True)
class Gate:
    """The folders a run may write in (real paths, links resolved)."""

    roots: tuple[Path, ...]

    @classmethod
    def around(cls, paths: Iterable[Path]) -> Gate:
        """The gate of a run over `paths`: each folder given, each file's folder, and the
        git work tree holding one (where the dependency-file search may reach)."""
        return cls(tuple(dict.fromkeys(_tree_of(path) for path in paths)))

    @classmethod
    def at(cls, folder: Path) -> Gate:
        """The gate that lets writes land in `folder` and below it only."""
        return cls((Path(os.path.realpath(folder)),))

    def refusal(self, path: str | Path) -> WriteError | None:
        """Why a write to `path` cannot be made (it leads outside the tree, or into a loop
        of links), or None."""
        try:
            self._target(path)
        except WriteError as error:
            return error
        return None

    def write_if_unchanged(self, result: FileResult) -> None:
        """Write `result.after` over its file, atomically, if the file still holds what was read.

        Keeps the file's mode, encoding, BOM and line endings (they are in the text
        already). Raises WriteError, leaving the file untouched, when the write leads
        outside the tree, the file changed on disk, or it cannot be written.
        """
        if result.path.endswith(".ipynb"):
            _check_notebook(result)
        try:
            data = encode_source(result.after, result.encoding, result.bom)
        except UnicodeEncodeError:
            raise WriteError(
                result.path, f"the fix is not encodable as {result.encoding}"
            ) from None
        root, target = self._target(result.path)
        with _folder(root, target.parent, result.path) as folder:
            mode = _unchanged_mode(folder, target.name, result)
            _swap(folder, target.name, data, mode, result.path)

    def write(self, path: Path, data: bytes) -> None:
        """Write `data` to `path` atomically, whatever it held (a report, a patch).

        Keeps the mode of a file already there. Raises WriteError when the write leads
        outside the tree or cannot be done.
        """
        root, target = self._target(path)
        with _folder(root, target.parent, str(path)) as folder:
            try:
                status = os.stat(target.name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                mode = None
            except OSError as error:
                raise WriteError(str(path), _reason(error)) from None
            else:
                mode = stat.S_IMODE(status.st_mode)
            _swap(folder, target.name, data, mode, str(path))

    def _target(self, path: str | Path) -> tuple[Path, Path]:
        """The root holding the real target of a write to `path`, and that target."""
        real = os.path.realpath(os.path.abspath(path))
        if os.path.islink(real):
            raise WriteError(str(path), "it is a loop of links")
        target = Path(real)
        for root in self.roots:
            if root in target.parents:
                return root, target
        raise WriteError(str(path), f"it leads outside the tree (-> {real})", refused=True)


def write_if_unchanged(result: FileResult, gate: Gate | None = None) -> None:
    """`Gate.write_if_unchanged`; without a gate, the write may land in the file's own folder."""
    if gate is None:
        gate = Gate.at(Path(os.path.abspath(result.path)).parent)
    gate.write_if_unchanged(result)


def _tree_of(path: Path) -> Path:
    """The folder a path given to a run stands for, links resolved: the folder itself, or
    a file's folder. A folder given as a link stands for the link: it is analysed, but
    nothing is written through it (no real path lies below a link)."""
    absolute = Path(os.path.abspath(path))
    if absolute.is_dir() and absolute.is_symlink():
        return Path(os.path.realpath(absolute.parent)) / absolute.name
    folder = Path(os.path.realpath(absolute if absolute.is_dir() else absolute.parent))
    try:
        top = git.work_tree_root(folder)
    except (git.GitError, OSError):
        top = None
    return folder if top is None else Path(os.path.realpath(top))


@contextlib.contextmanager
def _folder(root: Path, folder: Path, shown: str) -> Iterator[int]:
    """The folder `folder` (below `root`), opened from `root` one part at a time, never
    through a link."""
    try:
        handle = os.open(root, _FOLDER)
    except OSError as error:
        raise WriteError(shown, _reason(error)) from None
    try:
        for part in folder.relative_to(root).parts:
            inner = os.open(part, _FOLDER | os.O_NOFOLLOW, dir_fd=handle)
            os.close(handle)
            handle = inner
    except OSError as error:
        os.close(handle)
        raise WriteError(shown, _reason(error)) from None
    try:
        yield handle
    finally:
        os.close(handle)


def _unchanged_mode(folder: int, name: str, result: FileResult) -> int:
    """The mode of `name` in `folder`, after checking it still holds what was read."""
    try:
        handle = os.open(name, os.O_RDONLY | _NO_LINK, dir_fd=folder)
        with open(handle, "rb", buffering=0) as stream:
            current = read_regular(stream)
            mode = stat.S_IMODE(os.fstat(handle).st_mode)
    except OSError as error:
        raise WriteError(result.path, _reason(error)) from None
    if hashlib.sha256(current).hexdigest() != result.digest:
        raise WriteError(result.path, "it changed on disk since it was read; run memfix again")
    if not mode & 0o222 or not os.access(name, os.W_OK, dir_fd=folder):
        raise WriteError(result.path, "the file is read-only")
    return mode


def _swap(folder: int, name: str, data: bytes, mode: int | None, shown: str) -> None:
    """Put `data` in place of `name` in `folder` through a temporary file and a rename."""
    _remove_stale(folder)
    try:
        temporary, handle = _create_temporary(folder, name, mode)
    except OSError as error:
        raise WriteError(shown, _reason(error)) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a later run's clean-up leaves it alone
        with open(handle, "wb", closefd=False) as stream:
            stream.write(data)
        os.fsync(handle)
        if mode is not None:
            os.fchmod(handle, mode)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise WriteError(shown, _reason(error)) from None
    finally:
        os.close(handle)
    with contextlib.suppress(OSError):
        os.fsync(folder)  # the rename itself survives a crash


def _create_temporary(folder: int, name: str, mode: int | None) -> tuple[str, int]:
    """A new, empty temporary file beside `name`: its name and an open descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_LINK
    # A new file gets the default permissions; an existing one's are set once written.
    permissions = 0o666 if mode is None else 0o600
    while True:
        token = "".join(secrets.choice(_LETTERS) for _ in range(8))
        temporary = f".{name}.{token}.memfix"
        try:
            return temporary, os.open(temporary, flags, permissions, dir_fd=folder)
        except FileExistsError:
            continue


def _remove_stale(folder: int) -> None:
    """Delete the temporaries a killed run left in `folder`: regular files of this user
    named as memfix names them, older than STALE_AFTER and locked by no process."""
    try:
        names = [entry.name for entry in os.scandir(folder) if _TEMPORARY.match(entry.name)]
    except OSError:
        return
    now = time.time()
    for name in names:
        with contextlib.suppress(OSError):
            _remove_if_stale(folder, name, now)


def _remove_if_stale(folder: int, name: str, now: float) -> None:
    handle = os.open(name, os.O_RDONLY | _NO_LINK, dir_fd=folder)  # a link: ELOOP
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return
        if now - status.st_mtime < STALE_AFTER:
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a run is writing it right now
        again = os.stat(name, dir_fd=folder, follow_symlinks=False)
        if (again.st_dev, again.st_ino) == (status.st_dev, status.st_ino):
            os.unlink(name, dir_fd=folder)
    finally:
        os.close(handle)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _check_notebook(result: FileResult) -> None:
    """A notebook is written only as valid JSON: the last guard before its bytes go."""
    try:
        json.loads(result.after)
    except (ValueError, RecursionError):
        raise WriteError(result.path, "the rewritten notebook is not valid JSON") from None
