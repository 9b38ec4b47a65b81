"""The frozen values the pure core returns: findings and per-file results."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Fix(enum.Enum):
    """How far a codemod's rewrite may be trusted (as in ruff)."""

    SAFE = "safe"  # keeps every public signature: applied by `apply`
    UNSAFE = "unsafe"  # changes a signature or a return shape: needs --unsafe-fixes
    NONE = "none"  # report only


class Status(enum.Enum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not analysed (too large); `error` says why


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a codemod found, at a 1-based line and column of the original text.

    In a notebook, `cell` is the cell's 1-based position among all its cells, and the
    line is counted within that cell.
    """

    codemod: str
    message: str
    line: int
    column: int
    fix: Fix
    fixed: bool  # an edit comes with it
    applied: bool  # that edit is part of the result's `after`
    cell: int | None = None

    @property
    def location(self) -> str:
        """`line:col`, or `cell N:line:col` in a notebook."""
        place = f"{self.line}:{self.column}"
        return place if self.cell is None else f"cell {self.cell}:{place}"

    @property
    def fixable(self) -> bool:
        return self.fixed and self.fix is not Fix.NONE


@dataclass(frozen=True, slots=True)
class FileResult:
    """What memfix makes of one file.

    `before` is the decoded text as read, `after` the text to write (equal to `before`
    unless status is CHANGED). `pending_diff` shows the unsafe fixes left out of `after`.
    """

    path: str
    before: str
    after: str
    diff: str
    findings: tuple[Finding, ...]
    status: Status
    error: str | None = None
    internal: bool = False  # the error is memfix's own fault, not the file's
    pending_diff: str = ""
    encoding: str = "utf-8"
    bom: bool = False
    # Distributions the code in `after` imports that the fix brought in (CHANGED only),
    # and the codemods whose fixes need them: the run adds them to a dependency file.
    packages: tuple[str, ...] = ()
    packages_by: tuple[str, ...] = ()
    digest: str = field(default="", compare=False)
    # Left out by the byte prefilter: the file names nothing the codemods look for, so it
    # was never parsed. Reports count it apart from the files analysed.
    screened: bool = field(default=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.status is Status.CHANGED

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    @property
    def analysed(self) -> bool:
        """Whether the codemods' analysis read this file (it was not screened or skipped)."""
        return self.status in (Status.CHANGED, Status.UNCHANGED) and not self.screened


def unchanged_result(
    path: str, source: str, findings: tuple[Finding, ...], pending: str = ""
) -> FileResult:
    """The result for a file that stays as it is, with its findings and any unsafe diff."""
    return FileResult(path, source, source, "", findings, Status.UNCHANGED, pending_diff=pending)


def failed_result(
    path: str,
    source: str,
    error: str,
    *,
    internal: bool = False,
    findings: tuple[Finding, ...] = (),
) -> FileResult:
    """The result for a file left untouched because of `error` (internal: memfix's own)."""
    return FileResult(path, source, source, "", findings, Status.FAILED, error, internal)
