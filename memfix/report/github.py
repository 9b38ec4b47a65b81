"""GitHub Actions workflow commands: one `::warning` annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence

from memfix.report.redact import redact
from memfix.report.text import printable
from memfix.results import FileResult


def _data(text: str) -> str:
    """A command's message, escaped as the runner reads it back (`%`, CR and LF), with
    every other control or bidi character shown escaped (`printable`): none reaches the
    log raw, so nothing in a file name or message can start a command of its own."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    """A command's property value: `_data`, and `:` and `,` that would end it."""
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
