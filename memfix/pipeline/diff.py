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
        fromfile=f"a/{path}" if git_paths else path,
        tofile=f"b/{path}" if git_paths else path,
        n=context,
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a file without a final newline
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines also breaks at form feeds and other separators,
    # which would make a diff that does not apply.
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
