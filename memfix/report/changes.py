"""A file's fix as line changes, and which of them rewrite a finding's own code.

A change replaces whole lines of the original text with new lines; applied together,
a file's changes turn `before` into `after`. The review formats (SARIF fixes, reviewdog
suggestions) hand them out per finding; `overlaps` says whether a change, or a diff hunk
of changes, touches the lines of a finding's statement.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from memfix.report.statements import Statement, split_lines


@dataclass(frozen=True, slots=True)
class Change:
    """Lines `start` to `end` (0-based, end exclusive) of the original, replaced by `new`.

    `start == end` inserts before line `start`; `offset` is the character offset of that
    line in the original text and `old` the text removed.
    """

    start: int
    end: int
    old: str
    new: str
    offset: int


def line_changes(before: str, after: str, *, join_within: int = 0) -> tuple[Change, ...]:
    """The changes turning `before` into `after`, in order; changes at most `join_within`
    unchanged lines apart become one (with those lines in both `old` and `new`)."""
    old, new = split_lines(before), split_lines(after)
    offsets = [0]
    for line in old:
        offsets.append(offsets[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    spans: list[tuple[int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if spans and i1 - spans[-1][1] <= join_within:
            spans[-1] = (spans[-1][0], i2, spans[-1][2], j2)
        else:
            spans.append((i1, i2, j1, j2))
    return tuple(
        Change(i1, i2, "".join(old[i1:i2]), "".join(new[j1:j2]), offsets[i1])
        for i1, i2, j1, j2 in spans
    )


def hunks(changes: Sequence[Change], context: int = 3) -> tuple[tuple[Change, ...], ...]:
    """`changes` grouped as a unified diff with `context` lines groups them in hunks."""
    groups: list[list[Change]] = []
    for change in changes:
        if groups and change.start - groups[-1][-1].end <= 2 * context:
            groups[-1].append(change)
        else:
            groups.append([change])
    return tuple(tuple(group) for group in groups)


def overlaps(statement: Statement, first: Change, last: Change, context: int = 0) -> bool:
    """Whether the lines `first` to `last` change (widened by `context` lines) touch the
    lines of `statement`; an insertion touches the lines on both sides of it."""
    low = first.start - context - (1 if first.start == first.end else 0)
    high = max(last.end, last.start + 1) + context
    return low < statement.end and statement.start - 1 < high


def apply_changes(before: str, changes: Sequence[Change]) -> str:
    """`before` with `changes` (of that text, in any order, not overlapping) applied."""
    text = before
    for change in sorted(changes, key=lambda c: c.offset, reverse=True):
        text = text[: change.offset] + change.new + text[change.offset + len(change.old) :]
    return text
