"""Findings and fixes as the Language Server Protocol speaks them: ranges, diagnostics, edits.

Pure: text and findings in, lsprotocol values out. Two ways of counting differ from
Python's. LSP breaks lines on `\\n`, `\\r\\n` and `\\r` only (`str.splitlines` also breaks
on form feeds and Unicode separators, which would shift every later line), and it counts
columns in the code units of the encoding agreed at initialisation (UTF-16 unless the
client offers another), where memfix counts code points from 1.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lsprotocol import types

from memfix.results import Finding, Fix

SOURCE = "memfix"
# Only the memfix kind: a client asked for `source.fixAll` on save runs it (kinds are
# hierarchical), and the bare kind stays free for the other servers of the same file.
FIX_ALL = "source.fixAll.memfix"
QUICK_FIX = types.CodeActionKind.QuickFix.value
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[\w.]*\w")  # an identifier or dotted name, the start of most findings
_TOKEN = re.compile(r"\S+")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as LSP counts them, each with its line break (the last may lack one)."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def units(text: str, encoding: str) -> int:
    """The length of `text` in the code units of `encoding` (`utf-8`, `utf-16` or `utf-32`)."""
    if encoding == types.PositionEncodingKind.Utf8.value:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32.value:
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _content(line: str) -> str:
    """`line` without its line break."""
    return line.rstrip("\r\n")


def finding_range(finding: Finding, lines: Sequence[str], encoding: str) -> types.Range:
    """Where `finding` shows in the editor: the name or token at its line and column.

    A position past the end of the text (a finding made after another fix moved the code)
    is brought back onto the last line rather than sent where no client can show it.
    """
    if not lines:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    row = min(max(finding.line - 1, 0), len(lines) - 1)
    text = _content(lines[row])
    start = min(max(finding.column - 1, 0), len(text))
    word = _NAME.match(text, start) or _TOKEN.match(text, start)
    end = word.end() if word is not None else start
    return types.Range(
        types.Position(row, units(text[:start], encoding)),
        types.Position(row, units(text[:end], encoding)),
    )


def _safety(finding: Finding) -> str:
    if finding.fix is Fix.NONE:
        return "report only"
    if not finding.fixed:
        return "no automatic fix for this case"
    if finding.fix is Fix.UNSAFE:
        return 'unsafe fix, offered with the setting "unsafeFixes"'
    return "safe fix"


def diagnostic(finding: Finding, uri: str, lines: Sequence[str], encoding: str) -> types.Diagnostic:
    """`finding` as a warning from memfix whose code is the codemod's name.

    There is no web page to link as `codeDescription.href`, and clients show an href to a
    missing page as a dead link: the related information, which every client that shows
    it places under the message, names the command that prints the rule's documentation.
    """
    where = finding_range(finding, lines, encoding)
    note = f"`memfix explain {finding.codemod}` tells what it finds and why ({_safety(finding)})"
    return types.Diagnostic(
        range=where,
        message=finding.message,
        severity=types.DiagnosticSeverity.Warning,
        code=finding.codemod,
        source=SOURCE,
        related_information=[types.DiagnosticRelatedInformation(types.Location(uri, where), note)],
    )


def _end_of(lines: Sequence[str], index: int, encoding: str) -> types.Position:
    """The position where line `index` starts; `len(lines)` is the end of the text."""
    if index < len(lines):
        return types.Position(index, 0)
    if not lines:
        return types.Position(0, 0)
    last = lines[-1]
    if _content(last) != last:
        return types.Position(len(lines), 0)
    # No final line break: the text ends on its last line, not on a line after it.
    return types.Position(len(lines) - 1, units(last, encoding))


def text_edits(before: str, after: str, encoding: str) -> list[types.TextEdit]:
    """The edits, whole lines at a time, that turn `before` into `after`.

    Every range refers to `before`, and no two overlap, as LSP requires of one edit list.
    """
    old, new = split_lines(before), split_lines(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        types.TextEdit(
            types.Range(_end_of(old, i1, encoding), _end_of(old, i2, encoding)),
            "".join(new[j1:j2]),
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


@dataclass(frozen=True, slots=True)
class Target:
    """The document an edit is for, and how the client takes edits."""

    uri: str
    version: int | None
    encoding: str
    versioned: bool  # the client takes `documentChanges`, so it can refuse a stale edit


def workspace_edit(target: Target, before: str, after: str) -> types.WorkspaceEdit:
    """The edit that turns the document's text `before` into `after`."""
    edits = text_edits(before, after, target.encoding)
    if not target.versioned:
        return types.WorkspaceEdit(changes={target.uri: edits})
    document = types.OptionalVersionedTextDocumentIdentifier(uri=target.uri, version=target.version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(document, edits)])


def quick_fix(
    target: Target, diagnostic: types.Diagnostic, fix: Finding, before: str, after: str
) -> types.CodeAction:
    """The quick fix for one finding: its codemod's whole fix of the document."""
    unsafe = " (unsafe fix)" if fix.fix is Fix.UNSAFE else ""
    return types.CodeAction(
        title=f"memfix: fix {fix.codemod}{unsafe}",
        kind=QUICK_FIX,
        diagnostics=[diagnostic],
        is_preferred=fix.fix is Fix.SAFE,
        edit=workspace_edit(target, before, after),
    )


def fix_all(target: Target, before: str, after: str) -> types.CodeAction:
    """The source action that applies every fix of the document, as `memfix apply` would."""
    return types.CodeAction(
        title="memfix: fix all",
        kind=FIX_ALL,
        edit=workspace_edit(target, before, after),
    )


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether a client that asked for the kinds `only` (None: any) wants actions of `kind`.

    Kinds are dotted paths: asking for `source` or `source.fixAll` includes `FIX_ALL`.
    """
    if only is None:
        return True
    return any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def overlaps(one: types.Range, other: types.Range) -> bool:
    """Whether two ranges share a position (touching ends count, as a cursor on a word)."""
    return _key(one.start) <= _key(other.end) and _key(other.start) <= _key(one.end)


def is_asked(shown: types.Diagnostic, asked: types.Range, near: Sequence[types.Diagnostic]) -> bool:
    """Whether a code action request is for the diagnostic `shown`.

    It is when the range asked touches it, or when the client sent it back in the
    request's context: some clients send the diagnostics of the cursor's whole line.
    """
    if overlaps(shown.range, asked):
        return True
    return any((d.source, d.code, d.range) == (SOURCE, shown.code, shown.range) for d in near)


def _key(position: types.Position) -> tuple[int, int]:
    return (position.line, position.character)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """What the client said about memfix; None where it said nothing."""

    unsafe_fixes: bool | None = None


def client_options(value: object, current: ClientOptions = ClientOptions()) -> ClientOptions:
    """The options in initializationOptions or configuration settings, over `current`.

    Reads `{"memfix": {"unsafeFixes": true}}`; a client that sends the server's own
    options without the section (`{"unsafeFixes": true}`) is understood too. Values of
    the wrong type are left out, never guessed at.
    """
    if not isinstance(value, Mapping):
        return current
    section = value.get(SOURCE, value)
    if not isinstance(section, Mapping):
        return current
    unsafe = section.get("unsafeFixes")
    if isinstance(unsafe, bool):
        return ClientOptions(unsafe_fixes=unsafe)
    return current
