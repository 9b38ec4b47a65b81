"""The statement a finding points at, read from a result's original text with `ast`.

Reports use it twice: to tie a file's fix to the findings whose code it rewrites
(`memfix.report.changes`), and to fingerprint a finding by its code rather than its
line (`memfix.report.fingerprint`). Python's own parser reads the text; nothing is
imported or run. Text that does not parse (a dependency file, a cell holding IPython
magics) still answers: the statement is then the finding's own line.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from memfix.results import FileResult, Finding

# The line breaks Python's parser and memfix's findings count (a lone CR is one too).
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CLOSING = frozenset({")", "]", "}"})


@dataclass(frozen=True, slots=True)
class Statement:
    """The code of one statement: its own lines (a `def` or `if` is only its header).

    `start` and `end` are 1-based and inclusive; `scope` is the dotted name of the
    enclosing functions and classes (empty at module level); `bound` the names the
    statement binds, comma-separated.
    """

    start: int
    end: int
    scope: str
    bound: str
    code: str


def split_lines(text: str) -> list[str]:
    """`text` as lines that keep their line endings, counted as Python and findings count."""
    lines: list[str] = []
    start = 0
    for match in _NEWLINE.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():  # an invalid escape in the user's code is not ours
            warnings.simplefilter("ignore")
            return ast.parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _children(node: ast.stmt) -> Iterator[ast.stmt]:
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list):
            yield from (child for child in value if isinstance(child, ast.stmt))
    for holder in (*getattr(node, "handlers", []), *getattr(node, "cases", [])):
        yield from holder.body


def _bound(node: ast.stmt) -> str:
    if isinstance(node, _SCOPES):
        return node.name
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return ",".join((alias.asname or alias.name).split(".")[0] for alias in node.names)
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = (
        name.id
        for target in targets
        for name in ast.walk(target)
        if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)
    )
    return ",".join(dict.fromkeys(names))


class Statements:
    """The statements of one text, looked up by line."""

    def __init__(self, text: str) -> None:
        self.lines = split_lines(text)
        self.tree = _parse(text)

    @property
    def parsed(self) -> bool:
        return self.tree is not None

    def at(self, line: int) -> Statement:
        """The innermost statement holding `line`; for a blank or comment line between
        statements, the statement after it (where code inserted there would go); else
        that line alone."""
        found = None if self.tree is None else self._innermost(self.tree.body, line, "")
        if found is None:
            return Statement(line, line, "", "", self._text(line, line))
        node, scope = found
        children = [_first_line(child) for child in _children(node)]
        end = max(node.lineno, min(children) - 1) if children else node.end_lineno or node.lineno
        return Statement(_first_line(node), end, scope, _bound(node), self._text(node.lineno, end))

    def _innermost(
        self, body: Sequence[ast.stmt], line: int, scope: str
    ) -> tuple[ast.stmt, str] | None:
        # A loop, not recursion over every level: nesting is as deep as the user wrote it.
        found: tuple[ast.stmt, str] | None = None
        level: Sequence[ast.stmt] = body
        while True:
            node = next((n for n in level if line <= (n.end_lineno or 0)), None)
            if node is None:
                return found
            if _first_line(node) > line:
                return node, scope
            found = (node, scope)
            if isinstance(node, _SCOPES):
                scope = f"{scope}.{node.name}" if scope else node.name
            level = list(_children(node))
            if not level or line < _first_line(level[0]):
                return found  # on the header of a `def`, `class`, `if`...

    def _text(self, start: int, end: int) -> str:
        return "".join(self.lines[max(start - 1, 0) : max(end, 0)])


class FindingStatements:
    """The statement of each finding of one result; a notebook's cells are read apart,
    since a notebook finding's line counts from the start of its cell."""

    def __init__(self, result: FileResult) -> None:
        self.result = result
        self._read: dict[int | None, Statements] = {}

    def of(self, finding: Finding) -> Statement:
        """The statement `finding` points at."""
        return self.text(finding.cell).at(finding.line)

    def text(self, cell: int | None = None) -> Statements:
        """The statements of the whole file, or of notebook cell `cell` (1-based)."""
        if cell not in self._read:
            self._read[cell] = Statements(
                self.result.before if cell is None else _cell_source(self.result.before, cell)
            )
        return self._read[cell]


def _cell_source(notebook: str, cell: int) -> str:
    try:
        source = json.loads(notebook)["cells"][cell - 1].get("source", "")
        return "".join(source) if isinstance(source, list) else str(source)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return ""


def normalised(code: str) -> str:
    """`code` as its tokens: comments, line breaks and indentation gone, one space between
    tokens, strings written as Python would print them, and a comma before a closing
    bracket dropped, so that reformatting the code does not change what comes out."""
    try:
        tokens = [token for token in _tokens(code) if token]
    except (tokenize.TokenError, SyntaxError, ValueError):
        tokens = _without_comments(code).split()
    kept = [
        token
        for index, token in enumerate(tokens)
        if not (token == "," and index + 1 < len(tokens) and tokens[index + 1] in _CLOSING)
    ]
    return " ".join(kept)


_SKIPPED = frozenset(
    {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
)


def _tokens(code: str) -> Iterator[str]:
    for token in tokenize.generate_tokens(io.StringIO(code.lstrip()).readline):
        if token.type in _SKIPPED or token.type == tokenize.ENDMARKER:
            continue
        yield _string(token.string) if token.type == tokenize.STRING else token.string


def _string(literal: str) -> str:
    try:
        return repr(ast.literal_eval(literal))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return literal  # an f-string, which has no one value: kept as written


def _without_comments(code: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in split_lines(code))
