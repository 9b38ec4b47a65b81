"""SARIF 2.1.0 for code-scanning upload: one result per finding, with the fixes.

A fix lists the character ranges of the original file that memfix replaces and the
text it puts there (`artifactChanges` / `replacements`), as `apply` would write it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from memfix import __version__
from memfix.report.redact import redact
from memfix.results import FileResult
from memfix.rules.codemod import Codemod

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule(codemod: type[Codemod]) -> dict[str, Any]:
    return {
        "id": codemod.NAME,
        "name": "".join(part.title() for part in codemod.NAME.split("-")),
        "shortDescription": {"text": codemod.summary() or codemod.NAME},
        "fullDescription": {"text": codemod.documentation() or codemod.NAME},
        "help": {"text": codemod.documentation(), "markdown": codemod.documentation()},
        "properties": {"fix": codemod.FIX.value},
    }


def replacements(before: str, after: str) -> list[dict[str, Any]]:
    """The edits turning `before` into `after`, as SARIF replacements over character offsets."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    edits: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(
            {
                "deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]},
                "insertedContent": {"text": "".join(new[j1:j2])},
            }
        )
    return edits


def _location(path: str, line: int, column: int, *, region: bool = True) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}
    if region:
        location["region"] = {"startLine": line, "startColumn": column}
    return {"physicalLocation": location}


def to_sarif(results: Sequence[FileResult], codemods: Sequence[type[Codemod]] = ()) -> str:
    """A SARIF 2.1.0 log of `results`; `codemods` are described as the rules."""
    rules = {codemod.NAME: _rule(codemod) for codemod in codemods}
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        fix_attached = False
        for f in result.findings:
            if f.codemod not in rules:
                rules[f.codemod] = {"id": f.codemod, "shortDescription": {"text": f.codemod}}
            # A notebook's line is within a cell, not the file: the message names the cell.
            where = "" if f.cell is None else f"cell {f.cell}, line {f.line}: "
            entry: dict[str, Any] = {
                "ruleId": f.codemod,
                "level": "warning",
                "message": {"text": where + redact(f.message)},
                "locations": [_location(result.path, f.line, f.column, region=f.cell is None)],
            }
            if f.applied and result.changed and not fix_attached:
                fix_attached = True  # one fix per file carries every edit of that file
                entry["fixes"] = [
                    {
                        "description": {"text": f"memfix fixes in {result.path}"},
                        "artifactChanges": [
                            {
                                "artifactLocation": {"uri": result.path, "uriBaseId": "%SRCROOT%"},
                                "replacements": replacements(result.before, result.after),
                            }
                        ],
                    }
                ]
            sarif_results.append(entry)
    index = {name: number for number, name in enumerate(rules)}
    for entry in sarif_results:
        entry["ruleIndex"] = index[entry["ruleId"]]
    notifications = [
        {
            "level": "error",
            "message": {"text": redact(result.error or "failed")},
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
