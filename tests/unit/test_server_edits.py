"""The language server's pure part: findings to diagnostics, fixed text to LSP edits."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import Finding, Fix
from memfix.rules.registry import all_codemods, by_name
from memfix.server import protocol
from memfix.server.analysis import Analysis, analyse, beyond, fix_everything
from tests.support.fixtures import PROGRAM

UTF16 = "utf-16"
_BREAK = re.compile(r"\r\n|\r|\n")


def finding(line: int, column: int, codemod: str = "per-call-state", **changes: object) -> Finding:
    values: dict[str, object] = {
        "codemod": codemod,
        "message": "memory 'memory' is rebuilt on every call",
        "line": line,
        "column": column,
        "fix": Fix.SAFE,
        "fixed": True,
        "applied": True,
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def offset_of(text: str, position: types.Position) -> int:
    """The offset in `text` of an LSP position, counted the way a UTF-16 client counts it."""
    starts = [0, *(match.end() for match in _BREAK.finditer(text))]
    index = starts[position.line]
    counted = 0
    while counted < position.character:
        counted += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return index


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with `edits` applied as an LSP client does: every range on the original text."""
    spans = [
        (offset_of(text, e.range.start), offset_of(text, e.range.end), e.new_text) for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def test_lines_break_only_where_lsp_breaks_them_not_at_form_feeds() -> None:
    text = "a = 1\x0cb = 2\r\nc = 3\rd\u2028e\n"
    assert protocol.split_lines(text) == ["a = 1\x0cb = 2\r\n", "c = 3\r", "d\u2028e\n"]
    assert len(text.splitlines()) == 5  # Python's own split would shift every later line


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-16", 4), ("utf-8", 6), ("utf-32", 3)],
    ids=["an astral character is two UTF-16 units", "bytes in UTF-8", "code points in UTF-32"],
)
def test_columns_count_in_the_code_units_the_client_agreed_on(encoding: str, expected: int) -> None:
    assert protocol.units("a\U0001f600b", encoding) == expected


def test_a_finding_at_a_1_based_column_covers_the_name_it_points_at() -> None:
    lines = protocol.split_lines(PROGRAM)
    where = protocol.finding_range(finding(8, 14), lines, UTF16)
    assert (where.start.line, where.start.character) == (7, 13)
    assert (where.end.line, where.end.character) == (7, 13 + len("ConversationBufferMemory"))


def test_a_column_after_an_astral_character_is_shifted_for_utf16_clients() -> None:
    lines = protocol.split_lines('x = "\U0001f600"; memory = ConversationBufferMemory()\n')
    where = protocol.finding_range(finding(1, 19), lines, UTF16)  # code point 18, unit 19
    assert (where.start.character, where.end.character) == (
        19,
        19 + len("ConversationBufferMemory"),
    )


def test_a_finding_past_the_end_of_the_text_is_shown_on_its_last_line() -> None:
    lines = protocol.split_lines("a = 1\nb = 2\n")
    where = protocol.finding_range(finding(40, 3), lines, UTF16)
    assert where.start.line == where.end.line == 1


def test_a_diagnostic_is_a_memfix_warning_coded_by_the_codemod_that_names_its_explanation() -> None:
    shown = protocol.diagnostic(
        finding(8, 14), "file:///a.py", protocol.split_lines(PROGRAM), UTF16
    )
    assert (shown.source, shown.code) == ("memfix", "per-call-state")
    assert shown.severity is types.DiagnosticSeverity.Warning
    assert shown.code_description is None  # no page to link: no dead link in the editor
    assert shown.related_information is not None
    (note,) = shown.related_information
    assert "`memfix explain per-call-state`" in note.message
    assert note.location == types.Location("file:///a.py", shown.range)


def test_the_explanation_says_when_a_fix_is_unsafe_or_report_only() -> None:
    lines = protocol.split_lines(PROGRAM)
    unsafe = protocol.diagnostic(finding(9, 13, fix=Fix.UNSAFE), "file:///a.py", lines, UTF16)
    report = protocol.diagnostic(finding(9, 13, fix=Fix.NONE, fixed=False), "u", lines, UTF16)
    assert "unsafeFixes" in unsafe.related_information[0].message  # type: ignore[index]
    assert "report only" in report.related_information[0].message  # type: ignore[index]


EDIT_CASES = [
    pytest.param("a\nb\nc\n", "a\nB\nc\n", id="one line replaced"),
    pytest.param("a\nb\n", "x\na\nb\n", id="a line inserted at the start"),
    pytest.param("a\nb\n", "a\nb\nc\n", id="a line added at the end"),
    pytest.param("a\nb", "a\nc", id="the last line has no line break"),
    pytest.param("a\nb", "a\nb\n", id="a final line break added"),
    pytest.param("a\nb\n", "a\nb", id="the final line break removed"),
    pytest.param("a\r\nb\r\n", "a\r\nc\r\nb\r\n", id="windows line endings kept"),
    pytest.param("a\x0cb\nc\n", "a\x0cb\nd\n", id="a form feed inside a line"),
    pytest.param("\U0001f600 = 1\nb\n", "\U0001f600 = 1\nc", id="an astral character"),
    pytest.param("", "a\n", id="an empty document filled"),
    pytest.param("a\n", "", id="a document emptied"),
]


@pytest.mark.parametrize(("before", "after"), EDIT_CASES)
def test_applying_the_edits_gives_exactly_the_fixed_text(before: str, after: str) -> None:
    assert apply(before, protocol.text_edits(before, after, UTF16)) == after


lines_of_text = st.lists(
    st.sampled_from(["a\n", "b\n", "c\r\n", "d\r", "\U0001f600\n", "e\x0cf\n", "g"]), max_size=8
)


@given(before=lines_of_text, after=lines_of_text)
def test_any_edit_between_two_texts_applies_back_to_the_second(
    before: list[str], after: list[str]
) -> None:
    old, new = "".join(before), "".join(after)
    assert apply(old, protocol.text_edits(old, new, UTF16)) == new


def test_an_unchanged_text_needs_no_edit() -> None:
    assert protocol.text_edits(PROGRAM, PROGRAM, UTF16) == []


def test_the_edits_of_a_real_fix_touch_only_the_lines_it_changes() -> None:
    after = fix_source(PROGRAM, path="a.py", codemods=all_codemods(), settings=Settings()).after
    edits = protocol.text_edits(PROGRAM, after, UTF16)
    assert apply(PROGRAM, edits) == after
    assert all(edit.range.start.line > 0 for edit in edits)  # the imports stay untouched


def test_a_client_taking_document_changes_gets_an_edit_for_the_version_it_shows() -> None:
    target = protocol.Target("file:///a.py", 7, UTF16, versioned=True)
    edit = protocol.workspace_edit(target, "a\n", "b\n")
    assert edit.changes is None
    (change,) = edit.document_changes  # type: ignore[misc]
    assert isinstance(change, types.TextDocumentEdit)
    assert (change.text_document.uri, change.text_document.version) == ("file:///a.py", 7)


def test_a_client_without_document_changes_gets_plain_changes() -> None:
    edit = protocol.workspace_edit(protocol.Target("file:///a.py", 7, UTF16, False), "a\n", "b\n")
    assert edit.document_changes is None
    assert edit.changes is not None
    assert list(edit.changes) == ["file:///a.py"]


@pytest.mark.parametrize(
    ("kind", "only", "expected"),
    [
        (protocol.FIX_ALL, None, True),
        (protocol.FIX_ALL, ["source"], True),
        (protocol.FIX_ALL, ["source.fixAll"], True),
        (protocol.FIX_ALL, ["quickfix"], False),
        (protocol.FIX_ALL, ["source.fixAll.memfixes"], False),
        (protocol.QUICK_FIX, ["quickfix"], True),
        (protocol.QUICK_FIX, ["source"], False),
    ],
    ids=[
        "any kind asked",
        "all source actions asked",
        "fix-all asked, on save",
        "only quick fixes asked",
        "a longer name is not a sub-kind",
        "quick fixes asked",
        "only source actions asked",
    ],
)
def test_actions_follow_the_kinds_the_client_asks_for(
    kind: str, only: list[str] | None, expected: bool
) -> None:
    assert protocol.wanted(kind, only) is expected


def test_the_fix_all_kind_is_memfix_own_never_the_bare_one() -> None:
    action = protocol.fix_all(protocol.Target("file:///a.py", 1, UTF16, False), "a\n", "b\n")
    assert action.kind == "source.fixAll.memfix"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"memfix": {"unsafeFixes": True}}, True),
        ({"unsafeFixes": True}, True),
        ({"memfix": {"unsafeFixes": False}}, False),
        ({"memfix": {"unsafeFixes": "yes"}}, None),
        ({"other": {"unsafeFixes": True}}, None),
        (None, None),
    ],
    ids=[
        "in the memfix section",
        "sent without the section",
        "turned off",
        "not a boolean",
        "another server's section",
        "no options",
    ],
)
def test_client_options_enable_unsafe_fixes_only_when_they_say_so(
    given: object, expected: bool | None
) -> None:
    assert protocol.client_options(given).unsafe_fixes is expected


def test_settings_without_the_option_keep_what_the_client_said_before() -> None:
    before = protocol.ClientOptions(unsafe_fixes=True)
    assert protocol.client_options({"memfix": {}}, before) == before


def test_a_cursor_at_the_end_of_a_name_still_touches_it() -> None:
    name = types.Range(types.Position(3, 4), types.Position(3, 10))
    cursor = types.Range(types.Position(3, 10), types.Position(3, 10))
    elsewhere = types.Range(types.Position(4, 0), types.Position(4, 0))
    assert protocol.overlaps(name, cursor)
    assert not protocol.overlaps(name, elsewhere)


def test_each_finding_is_located_in_the_text_the_editor_shows() -> None:
    found = analyse(PROGRAM, path="ask.py", codemods=all_codemods(), settings=Settings())
    lines = PROGRAM.splitlines()
    starts = {f.codemod: lines[f.line - 1][f.column - 1 :] for f in found.findings}
    assert starts["per-call-state"].startswith("ConversationBufferMemory()")
    assert starts["legacy-conversation-chain"].startswith("ConversationChain(")


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe fixes", "with unsafe fixes"])
def test_a_codemod_fix_is_what_apply_writes_with_that_codemod_alone(unsafe: bool) -> None:
    settings = Settings(unsafe_fixes=unsafe)
    found = analyse(PROGRAM, path="ask.py", codemods=all_codemods(), settings=settings)
    for name in ("per-call-state", "legacy-conversation-chain"):
        alone = fix_source(PROGRAM, path="ask.py", codemods=[by_name(name)], settings=settings)
        assert found.fixed_by(name) == (alone.after if alone.changed else None)


def test_an_unsafe_finding_is_applied_only_with_unsafe_fixes() -> None:
    def legacy(settings: Settings) -> Finding:
        found = analyse(PROGRAM, path="ask.py", codemods=all_codemods(), settings=settings)
        return next(f for f in found.findings if f.codemod == "legacy-conversation-chain")

    assert not legacy(Settings()).applied
    assert legacy(Settings(unsafe_fixes=True)).applied


def test_text_that_does_not_parse_is_one_problem_of_the_file_and_no_finding() -> None:
    broken = PROGRAM + "def (:\n"
    found = analyse(broken, path="ask.py", codemods=all_codemods(), settings=Settings())
    assert found.findings == ()
    assert len(found.problems) == 1
    assert found.problems[0].message.startswith("ask.py: ")
    assert not found.problems[0].internal


def test_fix_everything_is_the_run_of_every_codemod_at_once() -> None:
    settings = Settings()
    together = fix_source(PROGRAM, path="ask.py", codemods=all_codemods(), settings=settings)
    assert fix_everything(PROGRAM, path="ask.py", codemods=all_codemods(), settings=settings) == (
        together
    )


def test_only_what_other_modules_tell_is_beyond_the_text() -> None:
    shown = finding(8, 14)
    told = finding(3, 1, "shared-global-state", message="'chain' from app/memory.py is shared")
    assert beyond(Analysis(PROGRAM, (shown,)), [shown, told]) == (told,)
