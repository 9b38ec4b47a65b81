"""Unified diffs that `git apply` and `patch -p1` take."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(
    before: str, after: str, path: str, *, context: int = 3, git_paths: bool = True
) -> str:
    """The diff from `before` to `after`, with `a/` and `b/` paths; empty when equal.

    With git_paths=False both headers name `path` as it is (a notebook's `nb.ipynb:cell 3`).
    """
    if before == after:
        return ""
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        fromfile=_header_name(f"a/{path}" if git_paths else path),
        tofile=_header_name(f"b/{path}" if git_paths else path),
        n=context,
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a file without a final newline
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
_C_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _header_name(name: str) -> str:
    """`name` for a `---`/`+++` line: as it is, or quoted as git quotes it when it holds a
    control, bidi or other unprintable character, `"` or `\\` (`"a/x\\n.py"`), so that
    the header stays one line that shows what it holds and `git apply` reads it back."""
    if all(char.isprintable() and char not in '"\\' for char in name):
        return name
    data = name.encode("utf-8", "surrogateescape" if _escapable(name) else "surrogatepass")
    quoted = (
        _C_ESCAPES.get(byte) or (chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03o}")
        for byte in data
    )
    return '"' + "".join(quoted) + '"'


def _escapable(name: str) -> bool:
    """Whether every surrogate in `name` stands for an undecodable byte of a file name."""
    return all(0xDC80 <= ord(char) <= 0xDCFF for char in name if 0xD800 <= ord(char) <= 0xDFFF)


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines also breaks at form feeds and other separators,
    # which would make a diff that does not apply.
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
