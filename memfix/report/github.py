"""GitHub Actions workflow commands: one `::warning` annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence

from memfix.report.redact import redact
from memfix.results import FileResult


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(results: Sequence[FileResult]) -> str:
    """`::warning file=...,line=...,col=...,title=...::message` lines; `::error` for failures."""
    lines: list[str] = []
    for result in results:
        path = _property(result.path)
        for f in result.findings:
            title = _property(f"memfix {f.codemod}")
            message = _data(
                redact(f.message) + (" (fixable with `memfix apply`)" if f.fixable else "")
            )
            if f.cell is None:
                place = f"file={path},line={f.line},col={f.column}"
            else:  # the line is within a cell, not the file: the message names the cell
                place, message = f"file={path}", _data(f"cell {f.cell}, line {f.line}: ") + message
            lines.append(f"::warning {place},title={title}::{message}")
        if result.failed and result.error:
            lines.append(f"::error file={path},title=memfix::{_data(redact(result.error))}")
    return "".join(line + "\n" for line in lines)
