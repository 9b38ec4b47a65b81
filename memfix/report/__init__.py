"""Turning results into what the user reads, and the exit code."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from memfix.report.text import tally
from memfix.results import FileResult, Finding, Fix, Status


def remaining(result: FileResult, written: Collection[str]) -> list[Finding]:
    """The findings of `result` that this run leaves in the file."""
    was_written = result.path in written
    return [f for f in result.findings if not (f.applied and was_written)]


def exit_code(results: Sequence[FileResult], written: Collection[str] = ()) -> int:
    """0 nothing left to fix, 1 findings (or unreadable files) remain, 2 memfix failed."""
    if any(result.internal for result in results):
        return 2
    if any(result.status is Status.FAILED or remaining(result, written) for result in results):
        return 1
    return 0


def summary(results: Sequence[FileResult], written: Collection[str] = ()) -> str:
    """One closing line: what was found, what can be fixed, what failed."""
    left = [f for r in results for f in remaining(r, written)]
    files = len({r.path for r in results if remaining(r, written)})
    failed = sum(r.status is Status.FAILED for r in results)
    counted = tally(results)
    parts: list[str] = []
    if written:
        parts.append(f"Fixed {len(written)} {_plural(len(written), 'file')}.")
    if left:
        # An unsafe fix already applied (`--unsafe-fixes`) is as fixable as a safe one.
        safe = sum(f.fixable and (f.fix is Fix.SAFE or f.applied) for f in left)
        unsafe = sum(f.fixable and f.fix is Fix.UNSAFE and not f.applied for f in left)
        detail = [f"{safe} fixable with `memfix apply`"] if safe else []
        if unsafe:
            detail.append(f"{unsafe} more with `--unsafe-fixes`")
        text = f"Found {len(left)} {_plural(len(left), 'finding')} in {files} "
        text += _plural(files, "file") + (f" ({'; '.join(detail)})" if detail else "") + "."
        parts.append(text)
    elif not written and not failed:
        parts.append(f"All clean: {counted}.")
        counted = ""
    if counted:
        parts.append(f"{counted}.")
    return " ".join(parts)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
