"""Reading a file's bytes without hanging on a FIFO or a device, and never more than asked."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class NotRegularError(OSError):
    """The path leads to a FIFO, a device, a socket or a folder: nothing memfix reads."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not a regular file ({kind})")
        self.kind = kind


class TooLargeError(OSError):
    """The file holds more bytes than the limit the caller gave."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over the {limit} limit")
        self.size = size
        self.limit = limit


def nonblocking(path: str, flags: int) -> int:
    """An `opener` for `open()`: a FIFO opened for reading must not wait for a writer."""
    return os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def read_regular(handle: BinaryIO, limit: int | None = None) -> bytes:
    """The bytes of the regular file open as `handle` (see `nonblocking`), at most `limit`.

    Raises NotRegularError for anything but a regular file, whatever link led to it, and
    TooLargeError as soon as more than `limit` bytes are there (a file may grow after its
    size was asked, so no more than `limit` + 1 bytes are ever read).
    """
    status = os.fstat(handle.fileno())
    if not stat.S_ISREG(status.st_mode):
        raise NotRegularError(_kind(status.st_mode))
    if limit is None:
        return handle.read()
    if status.st_size > limit:
        raise TooLargeError(status.st_size, limit)
    data = _read_up_to(handle, limit + 1)
    if len(data) > limit:
        raise TooLargeError(len(data), limit)
    return data


def _read_up_to(handle: BinaryIO, count: int) -> bytes:
    # One read may return less than asked before the end of the file.
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = handle.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_file(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `limit`.

    Raises OSError when it cannot be read, NotRegularError or TooLargeError as
    `read_regular` does.
    """
    with open(path, "rb", buffering=0, opener=nonblocking) as handle:
        return read_regular(handle, limit)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"
