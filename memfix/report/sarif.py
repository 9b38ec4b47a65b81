"""SARIF 2.1.0 for code-scanning upload: one result per finding, with the fixes.

A fix lists the character ranges of the original file that memfix replaces and the
text it puts there (`artifactChanges` / `replacements`), as `apply` would write it.

Which finding carries which part of a file's fix: the file's changes are grouped in
the hunks `apply --dry-run` shows (three lines of context). A hunk belongs to a finding
when it touches the lines of the finding's statement; a hunk that touches no finding's
statement (the imports a fix adds, a definition it moves to module level) is shared.
Every finding whose edit is in the written text (`applied`) carries a fix: its own
hunks plus the shared ones when those alone still pass the checks a rewritten file
must pass (parse, compile, bind every name), else the whole file's fix. A finding
whose statement no hunk touches, and every finding of a notebook or of a file Python
cannot read, carries the whole file's fix. So each fix is valid code on its own, and
the fixes of a file's findings together make exactly the written file. A finding whose
fix is unsafe and was left out (no `--unsafe-fixes`) carries none: it is not in the
text memfix would write; its `properties` say so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from memfix import __version__
from memfix.report.changes import Change, apply_changes, hunks, line_changes, overlaps
from memfix.report.redact import redact
from memfix.report.statements import FindingStatements
from memfix.report.text import printable
from memfix.results import FileResult, Finding
from memfix.rules.codemod import Codemod

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
CONTEXT = 3  # the context lines of memfix's diffs, which make its hunks


def _rule(codemod: type[Codemod]) -> dict[str, Any]:
    return {
        "id": codemod.NAME,
        "name": "".join(part.title() for part in codemod.NAME.split("-")),
        "shortDescription": {"text": codemod.summary() or codemod.NAME},
        "fullDescription": {"text": codemod.documentation() or codemod.NAME},
        "help": {"text": codemod.documentation(), "markdown": codemod.documentation()},
        "properties": {"fix": codemod.FIX.value},
    }


def _replacement(change: Change) -> dict[str, Any]:
    return {
        "deletedRegion": {"charOffset": change.offset, "charLength": len(change.old)},
        # A SARIF log is shared (code scanning shows it to everyone with access):
        # the text memfix puts in is masked like the messages. Patches stay exact.
        "insertedContent": {"text": redact(change.new)},
    }


def replacements(before: str, after: str) -> list[dict[str, Any]]:
    """The edits turning `before` into `after`, as SARIF replacements over character offsets.

    The inserted text has its secrets masked (`redact`): SARIF logs are shared.
    """
    return [_replacement(change) for change in line_changes(before, after)]


def _uri(path: str) -> str:
    """`path` as a URI reference: percent-encoded, so a space or a control character in a
    file name is neither lost nor shown raw."""
    try:
        return quote(path, safe="/", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte of a file name
        return quote(path, safe="/", errors="surrogatepass")


def _location(path: str, line: int, column: int, *, region: bool = True) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}}
    if region:
        location["region"] = {"startLine": line, "startColumn": column}
    return {"physicalLocation": location}


class _FileFixes:
    """The part of one changed file's fix each of its findings carries."""

    def __init__(self, result: FileResult) -> None:
        self.result = result
        self.changes = line_changes(result.before, result.after)
        self.hunks = hunks(self.changes, CONTEXT)
        self.statements = FindingStatements(result)
        readable = self.statements.text().parsed
        self.owned = {
            index: self._own_hunks(finding) if readable else frozenset()
            for index, finding in enumerate(result.findings)
            if finding.applied
        }
        claimed = frozenset().union(*self.owned.values())
        self.shared = frozenset(range(len(self.hunks))) - claimed
        self._valid: dict[frozenset[int], bool] = {}

    def _own_hunks(self, finding: Finding) -> frozenset[int]:
        if finding.cell is not None:
            return frozenset()
        statement = self.statements.of(finding)
        return frozenset(
            number
            for number, hunk in enumerate(self.hunks)
            if overlaps(statement, hunk[0], hunk[-1], CONTEXT)
        )

    def of(self, index: int) -> tuple[Change, ...]:
        """The changes finding `index` carries; none when its edit is not in `after`."""
        if index not in self.owned:
            return ()
        chosen = self.owned[index] | self.shared
        if not self.owned[index] or len(chosen) == len(self.hunks) or not self._alone(chosen):
            return self.changes
        return tuple(change for number in sorted(chosen) for change in self.hunks[number])

    def _alone(self, chosen: frozenset[int]) -> bool:
        """Whether the hunks `chosen`, without the others, make a file memfix would write."""
        if chosen not in self._valid:
            import libcst as cst  # only when a finding's own hunks may stand alone

            from memfix.source.validate import validation_error

            changes = [change for number in sorted(chosen) for change in self.hunks[number]]
            text = apply_changes(self.result.before, changes)
            try:
                original = cst.parse_module(self.result.before)
                problem = validation_error(original, text, self.result.path)
            except (cst.ParserSyntaxError, RecursionError, ValueError):
                problem = "unreadable"
            self._valid[chosen] = problem is None
        return self._valid[chosen]


def _fix(result: FileResult, changes: Sequence[Change]) -> list[dict[str, Any]]:
    return [
        {
            "description": {"text": printable(redact(f"memfix fixes in {result.path}"))},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": _uri(result.path), "uriBaseId": "%SRCROOT%"},
                    "replacements": [_replacement(change) for change in changes],
                }
            ],
        }
    ]


def _result(result: FileResult, f: Finding, changes: Sequence[Change]) -> dict[str, Any]:
    # A notebook's line is within a cell, not the file: the message names the cell.
    where = "" if f.cell is None else f"cell {f.cell}, line {f.line}: "
    entry: dict[str, Any] = {
        "ruleId": f.codemod,
        "level": "warning",
        "message": {"text": printable(where + redact(f.message))},
        "locations": [_location(result.path, f.line, f.column, region=f.cell is None)],
        "properties": {"fix": f.fix.value, "fixable": f.fixable, "applied": f.applied},
    }
    if changes:
        entry["fixes"] = _fix(result, changes)
    return entry


def _file_results(result: FileResult) -> list[dict[str, Any]]:
    fixes = _FileFixes(result) if result.changed else None
    return [
        _result(result, f, () if fixes is None else fixes.of(index))
        for index, f in enumerate(result.findings)
    ]


def to_sarif(results: Sequence[FileResult], codemods: Sequence[type[Codemod]] = ()) -> str:
    """A SARIF 2.1.0 log of `results`; `codemods` are described as the rules."""
    rules = {codemod.NAME: _rule(codemod) for codemod in codemods}
    sarif_results = [entry for result in results for entry in _file_results(result)]
    for entry in sarif_results:
        name = entry["ruleId"]
        rules.setdefault(name, {"id": name, "shortDescription": {"text": name}})
    index = {name: number for number, name in enumerate(rules)}
    for entry in sarif_results:
        entry["ruleIndex"] = index[entry["ruleId"]]
    notifications = [
        {
            "level": "error",
            "message": {"text": printable(redact(result.error or "failed"))},
            "locations": [_location(result.path, 1, 1)],
        }
        for result in results
        if result.failed
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "memfix",
                "version": __version__,
                "rules": list(rules.values()),
            }
        },
        "invocations": [
            {
                "executionSuccessful": not any(result.internal for result in results),
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": sarif_results,
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"
