"""reviewdog's Diagnostic Format as JSON lines (`reviewdog -f=rdjsonl`), with suggestions.

One diagnostic a line: `message`, `location` (`path`, `range.start`/`end`, 1-based
`line` and `column`, the column counted in UTF-8 bytes as reviewdog counts it),
`severity` ("WARNING" for a finding, "ERROR" for a file memfix could not process),
`source` ({"name": "memfix"}) and `code` ({"value": codemod}).

The fix comes as `suggestions`: each replaces whole lines, from column 1 of the first
replaced line to column 1 of the line after the last (an insertion starts and ends at
the same place), with the new lines; changes fewer than three unchanged lines apart are
one suggestion. reviewdog's `github-pr-review` reporter posts a diagnostic's first
suggestion as a suggested change on that suggestion's lines, so each diagnostic carries
at most one, and each change of a file appears once in the whole output: a finding
carries the first change that touches its statement (`memfix.report.changes`), and
every change no finding claims becomes a diagnostic of its own, "part of the fix for"
the nearest finding whose edit is in the written text. Applied bottom-up, every
suggestion of a file together turns it into the file `memfix apply` writes.

Shared like SARIF: messages and suggested text have their secrets masked (`redact`);
paths and messages show control characters escaped (`printable`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from memfix.report.changes import Change, line_changes, overlaps
from memfix.report.redact import redact
from memfix.report.statements import FindingStatements, split_lines
from memfix.report.text import printable
from memfix.results import FileResult, Finding

SOURCE = {"name": "memfix"}
JOIN_WITHIN = 2  # unchanged lines between two changes that a suggestion spans


def _position(line: int, column: int) -> dict[str, int]:
    return {"line": line, "column": column}


def _byte_column(lines: Sequence[str], line: int, column: int) -> int:
    """The 1-based character `column` of `line` as reviewdog counts it: in UTF-8 bytes."""
    if not 0 < line <= len(lines):
        return column
    text = lines[line - 1][: max(column - 1, 0)]
    return len(text.encode("utf-8", "surrogatepass")) + 1


def _line_end(lines: Sequence[str], line: int) -> int:
    text = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
    return len(text.encode("utf-8", "surrogatepass")) + 1


def suggestion(change: Change) -> dict[str, Any]:
    """`change` as a reviewdog suggestion: whole lines out, the new lines in (masked)."""
    span = {"start": _position(change.start + 1, 1), "end": _position(change.end + 1, 1)}
    return {"range": span, "text": redact(change.new)}


def _changes(result: FileResult) -> tuple[Change, ...]:
    return line_changes(result.before, result.after, join_within=JOIN_WITHIN)


class _File:
    """The diagnostics of one result."""

    def __init__(self, result: FileResult) -> None:
        self.result = result
        self.path = printable(result.path)
        self.lines = split_lines(result.before) if result.findings else []
        self.statements = FindingStatements(result)
        # Most files of a run have nothing to say: only a changed one is compared.
        self.unclaimed = list(_changes(result)) if result.changed else []

    def diagnostics(self) -> list[dict[str, Any]]:
        out = [self._finding(f) for f in self.result.findings]
        out.extend(self._rest(change) for change in list(self.unclaimed))
        if self.result.failed and self.result.error:
            message = printable(redact(self.result.error))
            out.append(
                {"message": message, "location": {"path": self.path}, "severity": "ERROR"}
                | {"source": SOURCE}
            )
        return out

    def _claim(self, f: Finding) -> Change | None:
        if not f.applied or f.cell is not None or not self.statements.text().parsed:
            return None
        statement = self.statements.of(f)
        for change in self.unclaimed:
            if overlaps(statement, change, change):
                self.unclaimed.remove(change)
                return change
        return None

    def _where(self, f: Finding) -> str:
        return "" if f.cell is None else f"cell {f.cell}, line {f.line}: "

    def _finding(self, f: Finding) -> dict[str, Any]:
        location: dict[str, Any] = {"path": self.path}
        if f.cell is None:  # a notebook's line counts from its cell, not from the file
            start = _position(f.line, _byte_column(self.lines, f.line, f.column))
            end = _position(f.line, max(start["column"], _line_end(self.lines, f.line)))
            location["range"] = {"start": start, "end": end}
        entry = self._entry(self._where(f) + redact(f.message), location, f.codemod)
        change = self._claim(f)
        if change is not None:
            entry["suggestions"] = [suggestion(change)]
        return entry

    def _rest(self, change: Change) -> dict[str, Any]:
        owner = self._nearest(change)
        span = suggestion(change)
        location = {"path": self.path, "range": span["range"]}
        if owner is None:
            return self._entry("part of memfix's fix", location, None) | {"suggestions": [span]}
        where = self._where(owner) or f"line {owner.line}: "
        message = f"part of the fix for {where}{redact(owner.message)}"
        return self._entry(message, location, owner.codemod) | {"suggestions": [span]}

    def _nearest(self, change: Change) -> Finding | None:
        applied = [f for f in self.result.findings if f.applied] or list(self.result.findings)
        if not applied:
            return None
        line = change.start + 1
        return min(applied, key=lambda f: 0 if f.cell is not None else abs(f.line - line))

    @staticmethod
    def _entry(message: str, location: dict[str, Any], codemod: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "message": printable(message),
            "location": location,
            "severity": "WARNING",
            "source": SOURCE,
        }
        if codemod is not None:
            entry["code"] = {"value": codemod}
        return entry


def to_rdjsonl(results: Sequence[FileResult]) -> str:
    """One reviewdog Diagnostic (JSON) a line for every finding and file error of `results`,
    carrying the fixes as suggestions."""
    lines = [
        json.dumps(diagnostic) for result in results for diagnostic in _File(result).diagnostics()
    ]
    return "".join(line + "\n" for line in lines)
