"""Jupyter notebooks as JSON text: their cells out, and new cell sources back in.

Only the `"source"` values of the cells that change are rewritten, in the layout they
had (one string, or one string a line, with the same indentation), so a notebook keeps
its key order, outputs, metadata and final newline byte for byte. Stdlib `json` only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class NotebookError(ValueError):
    """The text is not an nbformat 4 notebook; the message is one line."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: its 1-based position among all cells, type, source and JSON span."""

    number: int
    kind: str
    source: str
    span: tuple[int, int]  # offsets of the "source" value in the notebook's text


@dataclass(frozen=True, slots=True)
class Notebook:
    text: str
    cells: tuple[Cell, ...]
    python: bool  # the kernel runs Python (or says nothing about its language)

    def code_cells(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.kind == "code"] if self.python else []


def read_notebook(text: str) -> Notebook:
    """The cells of a notebook's JSON text; raises NotebookError for anything else."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"invalid JSON: {error}") from None
    except RecursionError:
        raise NotebookError("invalid JSON: nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError('not an nbformat 4 notebook: no "cells" list')
    start = _skip(text, 0)
    cells_value = dict(_members(text, start)).get("cells")
    assert cells_value is not None  # json.loads found it
    spans = list(_elements(text, cells_value[0]))
    cells: list[Cell] = []
    for number, (raw, (begin, _)) in enumerate(zip(document["cells"], spans, strict=True), 1):
        source_span = dict(_members(text, begin)).get("source") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or source_span is None:
            raise NotebookError(f'cell {number} has no "source"')
        source = raw["source"]
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f'cell {number}: "source" is not text')
        cells.append(Cell(number, str(raw.get("cell_type", "")), source, source_span))
    return Notebook(text, tuple(cells), _is_python(document.get("metadata")))


def _is_python(metadata: object) -> bool:
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return str(section[field]).lower() == "python"
    return True


def with_sources(notebook: Notebook, sources: Mapping[int, str]) -> str:
    """The notebook's text with the cells numbered in `sources` given new sources."""
    ascii_only = notebook.text.isascii()
    parts: list[str] = []
    position = 0
    for cell in notebook.cells:
        if cell.number not in sources:
            continue
        begin, end = cell.span
        parts.append(notebook.text[position:begin])
        parts.append(_dump_source(notebook, cell, sources[cell.number], ascii_only))
        position = end
    parts.append(notebook.text[position:])
    return "".join(parts)


def layout_problem(notebook: Notebook, after: str, sources: Mapping[int, str]) -> str | None:
    """Why `after` is not the notebook with just these cells' sources replaced, or None."""
    try:
        new = json.loads(after, parse_constant=str)
    except (ValueError, RecursionError) as error:
        return f"the rewritten notebook is not valid JSON: {error}"
    old = json.loads(notebook.text, parse_constant=str)
    for document in (old, new):
        for raw in document["cells"]:
            if isinstance(raw["source"], list):
                raw["source"] = "".join(raw["source"])
    for number, source in sources.items():
        old["cells"][number - 1]["source"] = source
    if old != new:
        return "the rewritten notebook differs beyond the changed cells' sources"
    return None


def _dump_source(notebook: Notebook, cell: Cell, source: str, ascii_only: bool) -> str:
    text = notebook.text
    begin, end = cell.span
    if text[begin] == '"':
        return json.dumps(source, ensure_ascii=ascii_only)
    # Split as nbformat does, so that Jupyter saving the notebook again changes nothing.
    lines = [json.dumps(line, ensure_ascii=ascii_only) for line in source.splitlines(True)]
    if not lines:
        return "[]"
    layout = _list_layout(text, begin, end) or next(
        (found for c in notebook.cells if (found := _list_layout(text, *c.span))), None
    )
    opening, separator, closing = layout or ("", ", ", "")
    return "[" + opening + separator.join(lines) + closing + "]"


def _list_layout(text: str, begin: int, end: int) -> tuple[str, str, str] | None:
    """The whitespace after `[`, between items and before `]` of a non-empty JSON list."""
    if text[begin] != "[":
        return None
    items = list(_elements(text, begin))
    if not items:
        return None
    opening = text[begin + 1 : items[0][0]]
    closing = text[items[-1][1] : end - 1]
    if len(items) > 1:
        separator = text[items[0][1] : items[1][0]]
    else:
        separator = "," + opening if "\n" in opening else ", "
    return opening, separator, closing


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _members(text: str, index: int) -> Iterator[tuple[str, tuple[int, int]]]:
    """Each key of the JSON object at `index`, with the span of its value."""
    if text[index] != "{":
        return
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield str(key), (index, end)
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)


def _elements(text: str, index: int) -> Iterator[tuple[int, int]]:
    """The span of each element of the JSON list at `index`."""
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        yield index, end
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
