"""The plain-text report: one line per finding, as ruff and compilers print them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from memfix.results import FileResult, Finding, Fix, Status

# What a terminal or a CI log acts on instead of showing: C0 and C1 controls (a newline
# starts a log line that GitHub Actions may run as a workflow command, ESC starts a
# terminal sequence), DEL, line and paragraph separators, the bidirectional marks,
# embeddings, overrides and isolates that make text read other than it is, and lone
# surrogates (an undecodable file name), which a UTF-8 terminal cannot even print.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\ufeff\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control, bidi or surrogate character shown as an escape.

    `\\n`, `\\r` and `\\t` by name, others as `\\x1b` or `\\u202e`: one line that shows
    what it holds. Every path and message in text output goes through it.
    """
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable_path(path: str) -> str:
    """`printable(path)`, made safe to start a line with: `./` goes before a path that
    starts with a space or `:` (`::error file=x::y.py` is a valid file name, and a CI log
    line starting with `::`, after any spaces, is a workflow command)."""
    shown = printable(path)
    return "./" + shown if shown[:1].isspace() or shown.startswith(":") else shown


def finding_line(path: str, finding: Finding) -> str:
    """`path:line:col: codemod-name message`, with `[*]` when `apply` would fix it.

    A notebook's finding reads `path:cell N:line:col: ...`, as ruff prints them.
    """
    mark = ""
    if finding.fixable:
        mark = " [*]" if finding.fix is Fix.SAFE or finding.applied else " [unsafe fix]"
    message = printable(finding.message)
    return f"{printable_path(path)}:{finding.location}: {finding.codemod} {message}{mark}"


def error_line(result: FileResult) -> str:
    """`path: error: ...` for a file memfix could not process (or `note:` for a skipped one)."""
    kind = "error" if result.failed else "note"
    return f"{printable_path(result.path)}: {kind}: {printable(result.error or '')}"


def findings_text(results: Sequence[FileResult]) -> str:
    lines = [finding_line(r.path, f) for r in results for f in r.findings]
    return "".join(line + "\n" for line in lines)


def tally(results: Sequence[FileResult]) -> str:
    """How many files were analysed and how many were not, and why.

    `3 files analysed, 12 skipped (no LangChain memory)`, then the files over the size
    limit and those memfix could not read, decode or parse, when there are any.
    """
    analysed = sum(result.analysed for result in results)
    screened = sum(result.screened for result in results)
    large = sum(result.status is Status.SKIPPED for result in results)
    failed = sum(result.failed for result in results)
    parts = [f"{analysed} {_plural(analysed, 'file')} analysed"]
    if screened:
        parts.append(f"{screened} skipped (no LangChain memory)")
    if large:
        parts.append(f"{large} skipped (over the size limit)")
    if failed:
        parts.append(f"{failed} failed (see above)")
    return ", ".join(parts)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
