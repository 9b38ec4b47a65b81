"""`# memfix: ignore[...]` comments, and the ones that silence nothing.

A codemod records the lines whose comment silenced one of its findings
(`Codemod.used_suppressions`); `unused_suppressions` turns every other suppression
comment of the file into a finding, so stale comments do not hide future bugs.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from memfix.results import Finding, Fix

NAME = "unused-suppression"

_SUPPRESSION = re.compile(r"#\s*memfix:\s*ignore(?:\[(?P<names>[^\]]*)\])?")


@dataclass(frozen=True, slots=True)
class Suppression:
    """A suppression comment: its 1-based line and column, and the names (empty: all)."""

    line: int
    column: int
    names: frozenset[str]


def suppressed_names(line: str) -> frozenset[str] | None:
    """Codemod names silenced by a comment on `line`; empty set means all; None means none."""
    match = _SUPPRESSION.search(line)
    if match is None:
        return None
    names = match.group("names")
    if names is None:
        return frozenset()
    return frozenset(name.strip() for name in names.split(",") if name.strip())


def suppressions(source: str) -> Iterator[Suppression]:
    """The suppression comments of `source` (comments only: never text inside a string)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT:
                continue
            names = suppressed_names(token.string)
            if names is not None:
                yield Suppression(token.start[0], token.start[1] + 1, names)
    except (tokenize.TokenError, SyntaxError):
        return


def unused_suppressions(
    source: str, used: Collection[tuple[int, str]], ran: Collection[str]
) -> list[Finding]:
    """A finding for each suppression comment in `source` that silenced nothing.

    `used` holds (line, codemod name) for every finding a comment silenced; `ran` the names
    of the codemods that ran on the file (a name for a codemod that did not run is not
    reported: `--select` or `per-file-ignores` may have turned it off).
    """
    findings: list[Finding] = []
    used_lines = {line for line, _ in used}
    for comment in suppressions(source):
        if not comment.names:
            if comment.line not in used_lines:
                findings.append(_finding(comment, "suppression silences nothing"))
            continue
        idle = sorted(
            name for name in comment.names if name in ran and (comment.line, name) not in used
        )
        if idle:
            quoted = ", ".join(f"`{name}`" for name in idle)
            findings.append(_finding(comment, f"suppression of {quoted} silences nothing"))
    return findings


def _finding(comment: Suppression, message: str) -> Finding:
    return Finding(NAME, message, comment.line, comment.column, Fix.NONE, False, False)
