"""JSON lines for tools that track findings across commits: one finding a line.

{"kind": "finding", "codemod", "path", "line", "column", "cell" (notebooks only),
 "message", "fix": "safe"|"unsafe"|"none", "fixable", "applied", "fingerprint"}
{"kind": "error", "path", "message"}   # a file memfix could not process

`fingerprint` (`memfix.report.fingerprint`) stays the same while the finding's code
does, wherever the lines around it move: a tool can tell a new finding from an old one.
Shared like SARIF: messages have their secrets masked (`redact`), and paths and
messages show control characters escaped (`printable`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from memfix.report.fingerprint import fingerprint, occurrence
from memfix.report.redact import redact
from memfix.report.statements import FindingStatements
from memfix.report.text import printable
from memfix.results import FileResult


def _file_records(result: FileResult, seen: Counter[str]) -> list[dict[str, Any]]:
    statements = FindingStatements(result)
    records: list[dict[str, Any]] = []
    for f in result.findings:
        base = fingerprint(f.codemod, result.path, statements.of(f))
        record: dict[str, Any] = {
            "kind": "finding",
            "codemod": f.codemod,
            "path": printable(result.path),
            "line": f.line,
            "column": f.column,
        }
        if f.cell is not None:
            record["cell"] = f.cell
        record |= {
            "message": printable(redact(f.message)),
            "fix": f.fix.value,
            "fixable": f.fixable,
            "applied": f.applied,
            "fingerprint": occurrence(base, seen[base]),
        }
        seen[base] += 1
        records.append(record)
    if result.failed and result.error:
        message = printable(redact(result.error))
        records.append({"kind": "error", "path": printable(result.path), "message": message})
    return records


def to_jsonl(results: Sequence[FileResult]) -> str:
    """One JSON object a line for every finding (and file error) of `results`."""
    seen: Counter[str] = Counter()
    lines = [json.dumps(record) for r in results for record in _file_records(r, seen)]
    return "".join(line + "\n" for line in lines)
