"""Lines of a rewritten text traced back to the lines of the text as the user wrote it.

The codemods run one after another on each other's output, so a finding made on the
second pass, or by a later codemod of the first, names a line of memfix's own text.
Every finding is shown at a line of the original file: a line that survived the edits
keeps its own, and a line an edit wrote takes the line of what it replaced, or of the
statement it was written in front of.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def identity(line_count: int) -> tuple[int, ...]:
    """The map of a text to itself: 1-based line N is line N."""
    return tuple(range(1, line_count + 1))


def compose(
    old_map: Sequence[int], old_lines: Sequence[str], new_lines: Sequence[str]
) -> tuple[int, ...]:
    """The map of `new_lines` to the original, given `old_map` of `old_lines` to it."""
    if not old_map:
        return tuple(1 for _ in new_lines)
    last = old_map[-1]
    mapped: list[int] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(j2 - j1):
            if tag == "equal":
                mapped.append(old_map[i1 + offset])
            elif i2 > i1:  # a replacement: line for line, then the last replaced line
                mapped.append(old_map[min(i1 + offset, i2 - 1)])
            else:  # an insertion: the statement it was written in front of
                mapped.append(old_map[i1] if i1 < len(old_map) else last)
    return tuple(mapped)


def original_line(line_map: Sequence[int], line: int) -> int:
    """The original line for 1-based `line` of the mapped text (clamped to the text)."""
    if not line_map:
        return max(line, 1)
    return line_map[min(max(line, 1), len(line_map)) - 1]
