"""The JSON report: a versioned document for tools (schema version 1).

{"version": 1, "tool": "memfix", "memfix_version": str,
 "files": [{"path", "status", "error", "diff", "pending_diff",
            "findings": [{"codemod", "message", "line", "column",
                          "fix": "safe"|"unsafe"|"none", "fixable", "applied",
                          "cell" (notebooks only: 1-based; line is within the cell)}]}],
 "summary": {"files", "changed", "failed", "findings", "exit_code"}}

The report may be shared, so messages, errors and diffs have their secrets masked
(`memfix.report.redact`) unless `redacted=False` (`--no-redact`) asks for exact diffs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from memfix import __version__
from memfix.report import exit_code
from memfix.report.redact import redact
from memfix.results import FileResult, Finding, Status

SCHEMA_VERSION = 1


def _exact(text: str) -> str:
    return text


def _finding(f: Finding, mask: Callable[[str], str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "codemod": f.codemod,
        "message": mask(f.message),
        "line": f.line,
        "column": f.column,
        "fix": f.fix.value,
        "fixable": f.fixable,
        "applied": f.applied,
    }
    if f.cell is not None:
        entry["cell"] = f.cell
    return entry


def to_json(results: Sequence[FileResult], *, redacted: bool = True) -> str:
    """The schema-1 document of `results`; secrets masked unless `redacted` is False."""
    mask = redact if redacted else _exact
    files: list[dict[str, Any]] = [
        {
            "path": r.path,
            "status": r.status.value,
            "error": None if r.error is None else mask(r.error),
            "diff": mask(r.diff),
            "pending_diff": mask(r.pending_diff),
            "findings": [_finding(f, mask) for f in r.findings],
        }
        for r in results
        if r.findings or r.status is not Status.UNCHANGED
    ]
    document = {
        "version": SCHEMA_VERSION,
        "tool": "memfix",
        "memfix_version": __version__,
        "files": files,
        "summary": {
            "files": len(results),
            "changed": sum(r.changed for r in results),
            "failed": sum(r.failed for r in results),
            "findings": sum(len(r.findings) for r in results),
            "exit_code": exit_code(results),
        },
    }
    return json.dumps(document, indent=2) + "\n"
