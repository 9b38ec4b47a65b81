"""The one place memfix writes a source file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from memfix.errors import MemfixError
from memfix.files.decode import encode_source
from memfix.results import FileResult


class WriteError(MemfixError):
    """A file could not be written; the original is left as it was."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: not written: {problem}")
        self.path = path
        self.problem = problem


def write_if_unchanged(result: FileResult) -> None:
    """Write `result.after` over its file, atomically, if the file still holds what was read.

    Keeps the file's mode, encoding, BOM and line endings (they are in the text already).
    Raises WriteError, leaving the file untouched, when it changed on disk or cannot be written.
    """
    path = Path(result.path)
    if path.suffix == ".ipynb":
        _check_notebook(result)
    try:
        data = encode_source(result.after, result.encoding, result.bom)
    except UnicodeEncodeError:
        raise WriteError(result.path, f"the fix is not encodable as {result.encoding}") from None
    try:
        current = path.read_bytes()
        mode = path.stat().st_mode & 0o7777
    except OSError as error:
        raise WriteError(result.path, error.strerror or str(error)) from None
    if hashlib.sha256(current).hexdigest() != result.digest:
        raise WriteError(result.path, "it changed on disk since it was read; run memfix again")
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise WriteError(result.path, "the file is read-only")
    target = path.resolve()  # write through a link, never replace the link itself
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".memfix", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise WriteError(result.path, error.strerror or str(error)) from None


def _check_notebook(result: FileResult) -> None:
    """A notebook is written only as valid JSON: the last guard before its bytes go."""
    try:
        json.loads(result.after)
    except (ValueError, RecursionError):
        raise WriteError(result.path, "the rewritten notebook is not valid JSON") from None
