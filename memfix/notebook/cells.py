"""A notebook's code cells as one program for the codemods, and that program split back.

The code cells are joined in order, each after an inert string statement that names
it (`"memfix-cell <nonce> <N>"`), so the codemods see the notebook as Jupyter runs it:
a memory built in cell 1 and used in cell 3 is one memory, and a statement a codemod
inserts before a function lands in that function's cell. IPython lines (`%magic`,
`!shell`, `?help`, `name?`) are masked as comments while the codemods run and put
back afterwards.
"""

from __future__ import annotations

import hashlib
import io
import re
import tokenize
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from memfix.notebook.document import Notebook

_IPYTHON_LINE = re.compile(r"^([ \t]*)([%!?].*|[\w.]+\?\??[ \t]*)$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass(frozen=True, slots=True)
class Program:
    """The code cells joined into one module, and how to take it apart again."""

    text: str
    cells: tuple[int, ...]  # the cell numbers it holds, in order
    starts: tuple[int, ...]  # 1-based line of each cell's first line in `text`
    added_newline: tuple[bool, ...]
    magics: tuple[str, ...]  # masked IPython lines, by mask number
    nonce: str

    def locate(self, line: int) -> tuple[int, int]:
        """The cell number and the line within it of a line of `text`."""
        index = max(i for i, start in enumerate(self.starts) if start <= line or i == 0)
        return self.cells[index], line - self.starts[index] + 1

    def split(self, text: str) -> dict[int, str] | None:
        """Each cell's masked source in a rewritten `text`; None when the cells are lost."""
        pieces: list[str] = []
        current: list[str] = []
        expected = iter(self.cells[1:])
        following = next(expected, None)
        for line in _LINE.findall(text):
            if following is not None and line.rstrip("\r\n") == _separator(self.nonce, following):
                pieces.append("".join(current))
                current, following = [], next(expected, None)
            elif self.nonce in line and "memfix-cell" in line:
                return None
            else:
                current.append(line)
        pieces.append("".join(current))
        if following is not None or len(pieces) != len(self.cells):
            return None
        sources: dict[int, str] = {}
        for number, piece, added in zip(self.cells, pieces, self.added_newline, strict=True):
            sources[number] = piece[:-1] if added and piece.endswith("\n") else piece
        return sources

    def unmask(self, source: str) -> str:
        """`source` with the IPython lines put back in place of their masks."""
        pattern = re.compile(
            rf"^([ \t]*)# memfix-magic {self.nonce} (\d+)[ \t]*(?=\r?$)", re.MULTILINE
        )
        return pattern.sub(lambda m: m.group(1) + self.magics[int(m.group(2))].lstrip(), source)

    def masks_kept(self, sources: Mapping[int, str]) -> bool:
        """Whether every masked IPython line is still there, once."""
        found = re.findall(rf"# memfix-magic {self.nonce} (\d+)", "".join(sources.values()))
        return sorted(map(int, found)) == list(range(len(self.magics)))


def _separator(nonce: str, number: int) -> str:
    return f'"memfix-cell {nonce} {number}"'


def join_cells(notebook: Notebook, *, only: int | None = None) -> Program:
    """The code cells that are Python (once IPython lines are masked) as one module.

    A cell that still does not compile (a `%%bash` cell, a syntax error, top-level
    `await`) is left out, and so never changed. `only` keeps just that cell.
    """
    nonce = hashlib.sha256(notebook.text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    magics: list[str] = []
    parts: list[str] = []
    numbers: list[int] = []
    starts: list[int] = []
    added: list[bool] = []
    line = 1
    for cell in notebook.code_cells():
        if only is not None and cell.number != only:
            continue
        masked, cell_magics = _mask(cell.source, nonce, len(magics))
        if cell_magics and not _compiles(masked):
            # `% b` continuing an expression looks like a magic: the cell may be plain code.
            masked, cell_magics = cell.source, []
        if not _compiles(masked):
            continue
        magics.extend(cell_magics)
        if numbers:
            parts.append(_separator(nonce, cell.number) + "\n")
            line += 1
        numbers.append(cell.number)
        starts.append(line)
        added.append(not masked.endswith("\n"))
        parts.append(masked + ("\n" if added[-1] else ""))
        line += parts[-1].count("\n")
    return Program(
        "".join(parts), tuple(numbers), tuple(starts), tuple(added), tuple(magics), nonce
    )


def _mask(source: str, nonce: str, first: int) -> tuple[str, list[str]]:
    """`source` with each IPython line (not inside a string or brackets) made a comment."""
    lines = _LINE.findall(source)
    candidates = [i for i, line in enumerate(lines) if _IPYTHON_LINE.match(line.rstrip("\r\n"))]
    if not candidates:
        return source, []
    masked = list(lines)
    for i in candidates:
        masked[i] = _masked_line(lines[i], "")
    in_strings = _continued_lines("".join(masked), brackets=False)
    magics: list[str] = []
    for i in candidates:
        # Brackets are judged on the lines above only: a masked line may hide a `)`.
        above = "".join(masked[:i]) + _masked_line(lines[i], "")
        if i + 1 in in_strings or i + 1 in _continued_lines(above, brackets=True):
            masked[i] = lines[i]
            continue
        masked[i] = _masked_line(lines[i], f" {nonce} {first + len(magics)}")
        magics.append(lines[i].rstrip("\r\n"))
    return "".join(masked), magics


def _masked_line(line: str, label: str) -> str:
    body = line.rstrip("\r\n")
    indent = body[: len(body) - len(body.lstrip(" \t"))]
    return f"{indent}# memfix-magic{label}{line[len(body) :]}"


def _continued_lines(source: str, *, brackets: bool) -> set[int]:
    """1-based lines that start inside a multi-line string (or an open bracket)."""
    inside: set[int] = set()
    opened: list[int] = []
    depth = 0
    seen = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.start[0] > seen:
                seen = token.start[0]
                if depth > 0 and brackets:
                    inside.add(seen)
            name = tokenize.tok_name[token.type]
            if name.endswith("STRING_START"):
                opened.append(token.start[0])
            elif name.endswith("STRING_END") and opened:
                inside.update(range(opened.pop() + 1, token.end[0] + 1))
            elif token.type == tokenize.STRING:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
            elif token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(0, depth - 1)
    except (tokenize.TokenError, SyntaxError):
        pass  # the compile check that follows decides
    return inside


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. an invalid escape: the user's, not ours
            compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
