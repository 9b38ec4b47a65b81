"""Where the generated tests go: the app module's import name, and writing new files
only inside `--out`, never over a file memfix did not write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from memfix.errors import MemfixError
from memfix.files.decode import DecodeError, decode_source
from memfix.files.read import read_file
from memfix.verify.generate import AppModule
from memfix.verify.runtime import MARKER


class VerifyWriteError(MemfixError):
    """A generated test file was not written; whatever was there is left as it was."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: not written: {problem}")
        self.path = path
        self.problem = problem


def import_name(file: Path) -> tuple[str, Path]:
    """(dotted module name, the folder it is imported from) of a Python file: the
    folder above its outermost package (folders holding `__init__.py`)."""
    resolved = file.resolve()
    parts = [resolved.stem]
    folder = resolved.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def write_generated(out: Path, name: str, text: str) -> Path:
    """Write `text` as `out/name`, creating `out`; returns the path written.

    Raises VerifyWriteError when the name leads outside `out`, or when a file already
    there does not start with memfix's marker line (the user's own file is never replaced).
    """
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    given = root / name
    if given.is_symlink():
        raise VerifyWriteError(given, "a link is there: memfix replaces only files it wrote")
    target = given.resolve()
    if target.parent != root or name != target.name:
        raise VerifyWriteError(out / name, f"the name leads outside {out}")
    if target.exists() and not _written_by_memfix(target):
        raise VerifyWriteError(target, "a file memfix did not write is there already")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".memfix", dir=root)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise VerifyWriteError(target, error.strerror or str(error)) from None
    return target


def _written_by_memfix(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            return stream.readline().rstrip("\r\n") == MARKER
    except OSError:
        return False


def app_modules(files: Sequence[Path], out: Path) -> tuple[list[AppModule], list[str]]:
    """The Python files among `files` as app modules, with their import folder relative
    to `out`; and a one-line error for each file that cannot be read."""
    modules: list[AppModule] = []
    errors: list[str] = []
    for file in files:
        if file.suffix != ".py":
            continue
        try:
            text = decode_source(read_file(file)).text
        except (OSError, DecodeError) as error:
            errors.append(f"{file}: cannot read: {error}")
            continue
        if text.startswith(MARKER):
            continue  # a test memfix wrote earlier, inside the folder being verified
        module, root = import_name(file)
        relative = os.path.relpath(root, out.resolve()) if _same_drive(root, out) else str(root)
        modules.append(AppModule(str(file), text, module, Path(relative).as_posix()))
    return modules, errors


def _same_drive(root: Path, out: Path) -> bool:
    return root.drive == out.resolve().drive
