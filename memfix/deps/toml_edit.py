"""Minimal text edits of a TOML file: strings appended to an array, keys added to a table.

Only the lines around the insertion change; comments, spacing, quotes, line endings and
the array's layout (one line, one item a line, trailing comma or not) stay as they were.
The edits find their place by reading lines, not by parsing, so the caller must parse
the result and compare it with what it expects before using it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\n|\r")
_HEADER = re.compile(r"[ \t]*\[")
_DEFAULT_INDENT = "    "


def append_to_array(
    text: str, table: str, key: str, values: Sequence[str]
) -> tuple[str, int] | None:
    """`text` with `values` appended, as strings, to the array `key` of `[table]`, and the
    key's line (from 1); None when there is no such array of strings."""
    section = _section(text, _header(table))
    if section is None:
        return None
    key_pattern = re.compile(rf"[ \t]*{re.escape(key)}[ \t]*=[ \t]*\[")
    for start, line in section[1:]:
        found = key_pattern.match(line)
        if found is not None:
            array = _scan_array(text, start + found.end() - 1)
            if array is None:
                return None
            return _insert(text, array, values), text.count("\n", 0, start) + 1
    return None


def add_to_table(text: str, table: str, entries: Mapping[str, str]) -> tuple[str, int] | None:
    """`text` with a `key = "value"` line for each entry after the last entry of `[table]`,
    and the header's line (from 1); None when the table has no header of its own."""
    section = _section(text, _header(table))
    if section is None:
        return None
    header_at = section[0][0]
    # After the last entry: a comment below it may introduce the next table.
    filled = [(start, line) for start, line in section if line.strip()[:1] not in ("", "#")]
    start, last = filled[-1]
    end = start + len(last)
    indent = "" if len(filled) == 1 else last[: len(last) - len(last.lstrip())]
    newline = _newline(text)
    lines = "".join(
        f"{indent}{_key(name)} = {_basic_string(value)}{newline}" for name, value in entries.items()
    )
    if end < len(text):
        at = _next_line(text, end)
        new = text[:at] + lines + text[at:]
    else:
        new = text + newline + lines
    return new, text.count("\n", 0, header_at) + 1


def _header(table: str) -> re.Pattern[str]:
    """The line `[a.b]` for table `a.b`, with any blanks TOML allows and a comment."""
    dotted = r"[ \t]*\.[ \t]*".join(re.escape(part) for part in table.split("."))
    return re.compile(rf"[ \t]*\[[ \t]*{dotted}[ \t]*\][ \t]*(?:#.*)?$")


def _key(name: str) -> str:
    """A bare key when TOML allows one (a dot would make it a dotted key), else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _basic_string(name)


def _basic_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _newline(text: str) -> str:
    """The file's line ending, from its first line; `\\n` for a file of one line."""
    found = _NEWLINE.search(text)
    return found.group() if found else "\n"


def _next_line(text: str, at: int) -> int:
    """The start of the line after the one holding `at` (the end of the text if none)."""
    found = _NEWLINE.search(text, at)
    return len(text) if found is None else found.end()


@dataclass(frozen=True, slots=True)
class _Array:
    """A TOML array of strings in the text: its brackets, items and trailing comma."""

    open: int
    close: int
    items: tuple[tuple[int, int], ...]  # (start, end) of each string
    trailing_comma: int | None  # where the comma after the last item is


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    offsets: list[tuple[int, str]] = []
    at = 0
    for line in text.splitlines(keepends=True):
        offsets.append((at, line.rstrip("\r\n")))
        at += len(line)
    return offsets


def _section(text: str, header: re.Pattern[str]) -> list[tuple[int, str]] | None:
    """The lines after the first line matching `header`, up to the next table header."""
    lines = _lines_with_offsets(text)
    for index, (_, line) in enumerate(lines):
        if header.match(line):
            body = lines[index + 1 :]
            end = next((i for i, (_, ln) in enumerate(body) if _HEADER.match(ln)), len(body))
            return [lines[index], *body[:end]]
    return None


def _scan_array(text: str, open_at: int) -> _Array | None:
    """The array of strings opening at `open_at`; None for anything else inside it."""
    items: list[tuple[int, int]] = []
    comma: int | None = None
    at = open_at + 1
    while at < len(text):
        char = text[at]
        if char in " \t\r\n":
            at += 1
        elif char == "#":
            end = text.find("\n", at)
            at = len(text) if end < 0 else end
        elif char == ",":
            if not items or comma is not None:
                return None
            comma, at = at, at + 1
        elif char in "\"'":
            closed = _string_end(text, at)
            if closed is None or (items and comma is None):
                return None
            items.append((at, closed))
            comma, at = None, closed
        elif char == "]":
            return _Array(open_at, at, tuple(items), comma)
        else:
            return None  # an inline table or a nested array: not a list of names
    return None


def _string_end(text: str, start: int) -> int | None:
    """The index just past the TOML string starting at `start` (basic or literal)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        return None if end < 0 else end + 3
    at = start + 1
    while at < len(text) and text[at] not in "\r\n":
        if text[at] == "\\" and quote == '"':
            at += 2
            continue
        if text[at] == quote:
            return at + 1
        at += 1
    return None


def _insert(text: str, array: _Array, values: Sequence[str]) -> str:
    """The values after the array's last item, quoted as it is, in the array's layout."""
    quote = text[array.items[-1][0]] if array.items else '"'
    names = [f"{quote}{value}{quote}" for value in values]
    if not array.items:
        return _insert_into_empty(text, array, names)
    last_start, last_end = array.items[-1]
    trailing = array.trailing_comma is not None
    after = array.trailing_comma + 1 if array.trailing_comma is not None else last_end
    if "\n" not in text[array.open : array.close]:  # a one-line array stays on its line
        joined = ", ".join(names)
        return text[:after] + (f" {joined}," if trailing else f", {joined}") + text[after:]
    newline = _newline(text)
    indent = _indent_of(text, last_start)
    if "\n" not in text[after : array.close]:  # closed on the last item's line
        pieces = [f"{newline}{indent}{name}" for name in names]
        added = "".join(p + "," for p in pieces) if trailing else "," + ",".join(pieces)
        return text[:after] + added + text[after:]
    at = _next_line(text, after)  # past a comment on the last item's line
    lines = [
        f"{indent}{name}{',' if trailing or index < len(names) - 1 else ''}{newline}"
        for index, name in enumerate(names)
    ]
    new = text[:at] + "".join(lines) + text[at:]
    return new if trailing else new[:last_end] + "," + new[last_end:]


def _insert_into_empty(text: str, array: _Array, names: Sequence[str]) -> str:
    if "\n" not in text[array.open : array.close]:
        return text[: array.open + 1] + ", ".join(names) + text[array.open + 1 :]
    at = text.rfind("\n", 0, array.close) + 1
    indent = _indent_of(text, array.close) + _DEFAULT_INDENT
    newline = _newline(text)
    return text[:at] + "".join(f"{indent}{name},{newline}" for name in names) + text[at:]


def _indent_of(text: str, at: int) -> str:
    """The blanks before `at` on its line; the default indent when other text is there."""
    before = text[text.rfind("\n", 0, at) + 1 : at]
    if before.strip():
        return _DEFAULT_INDENT
    return before
