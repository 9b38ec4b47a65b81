"""reviewdog's rdjsonl: one Diagnostic a line, whose suggestions rebuild the fixed file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.report.rdjsonl import to_rdjsonl
from memfix.results import FileResult, Finding, Fix, Status
from memfix.rules.registry import all_codemods
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

# Far-apart fixes in one file: a wrapper key the prompt does not read, a wrong input key.
KEYS = """\
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI
from langchain_community.chat_message_histories import SQLChatMessageHistory


def history(session_id: str) -> SQLChatMessageHistory:
    return SQLChatMessageHistory(session_id=session_id, connection="sqlite:///h.db")


prompt = ChatPromptTemplate.from_messages(
    [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{input}")]
)
chain = RunnableWithMessageHistory(
    prompt | ChatOpenAI(),
    history,
    input_messages_key="input",
    history_messages_key="chat_history",
)

# Nothing else in this module keeps state between calls.
#
#
#


def ask(question: str, user_id: str) -> str:
    return chain.invoke({"question": question}, config={"configurable": {"session_id": user_id}})
"""

# The legacy program: the migration adds imports, a history factory and rewrites the call.
LEGACY = PROGRAM.replace("def ask(question: str):", "def ask(question: str) -> str:")


def fixed(source: str, path: str = "app/bot.py", unsafe: bool = False) -> FileResult:
    settings = Settings(unsafe_fixes=unsafe)
    return fix_source(source, path=path, codemods=all_codemods(), settings=settings)


def diagnostics(results: list[FileResult]) -> list[dict[str, Any]]:
    text = to_rdjsonl(results)
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]


def offset(lines: list[str], position: dict[str, int]) -> int:
    """A 1-based line and (UTF-8 byte) column as a character offset into the text."""
    before = "".join(lines[: position["line"] - 1])
    line = lines[position["line"] - 1] if position["line"] <= len(lines) else ""
    column = len(line.encode("utf-8")[: position["column"] - 1].decode("utf-8"))
    return len(before) + column


def apply_suggestions(source: str, found: list[dict[str, Any]]) -> str:
    """Every suggestion of `found`, applied from the bottom of the file up."""
    lines = source.splitlines(keepends=True)
    edits = [
        (offset(lines, s["range"]["start"]), offset(lines, s["range"]["end"]), s["text"])
        for diagnostic in found
        for s in diagnostic.get("suggestions", [])
    ]
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def test_every_line_is_a_reviewdog_diagnostic_of_a_finding() -> None:
    result = fixed(KEYS)
    found = diagnostics([result])
    assert len(found) == len(result.findings)
    for diagnostic, finding in zip(found, result.findings, strict=True):
        assert set(diagnostic) <= {"message", "location", "severity", "source", "code"} | {
            "suggestions"
        }
        assert diagnostic["message"] == finding.message
        assert diagnostic["severity"] == "WARNING"
        assert diagnostic["source"] == {"name": "memfix"}
        assert diagnostic["code"] == {"value": finding.codemod}  # no `url`
        location = diagnostic["location"]
        assert location["path"] == "app/bot.py"
        assert location["range"]["start"] == {"line": finding.line, "column": finding.column}
        assert location["range"]["end"]["line"] == finding.line


@pytest.mark.parametrize(
    ("source", "unsafe"),
    [
        pytest.param(KEYS, False, id="two far-apart fixes"),
        pytest.param(PROGRAM, False, id="state hoisted out of the function"),
        pytest.param(LEGACY, True, id="legacy chain migrated with imports added"),
        pytest.param(KEYS.replace("\n", "\r\n"), False, id="CRLF line endings"),
        pytest.param("# é ☃\n" + KEYS, False, id="non-ASCII above the fixes"),
    ],
)
def test_suggestions_applied_bottom_up_give_the_fixed_file(source: str, unsafe: bool) -> None:
    result = fixed(source, unsafe=unsafe)
    assert result.changed
    found = diagnostics([result])
    assert apply_suggestions(source, found) == result.after


def test_suggestions_replace_whole_lines_and_each_diagnostic_carries_at_most_one() -> None:
    found = diagnostics([fixed(LEGACY, unsafe=True)])
    suggestions = [s for d in found for s in d.get("suggestions", [])]
    assert suggestions
    for diagnostic in found:
        assert len(diagnostic.get("suggestions", [])) <= 1
    for s in suggestions:
        assert s["range"]["start"]["column"] == 1 and s["range"]["end"]["column"] == 1
    spans = [(s["range"]["start"]["line"], s["range"]["end"]["line"]) for s in suggestions]
    assert len(set(spans)) == len(spans)  # each change suggested once


def test_a_finding_carries_the_change_to_its_own_statement() -> None:
    found = diagnostics([fixed(KEYS)])
    by_code = {d["code"]["value"]: d for d in found if "suggestions" in d}
    [key] = by_code["memory-key-mismatch"]["suggestions"]
    assert key["text"] == '    history_messages_key="history",\n'
    assert key["range"] == {"start": {"line": 18, "column": 1}, "end": {"line": 19, "column": 1}}
    [call] = by_code["input-key-mismatch"]["suggestions"]
    assert call["range"]["start"]["line"] == 28
    assert '{"input": question}' in call["text"]


def test_a_change_no_finding_claims_is_part_of_the_nearest_finding() -> None:
    filler = "".join(f"print({n})\n" for n in range(10))
    before = f"import a\n{filler}memory = a.Memory()\n"
    after = f"import a\nimport b\n{filler}memory = b.Memory()\n"
    finding = Finding("per-call-state", "rebuilt", 12, 10, Fix.SAFE, True, True)
    result = FileResult("m.py", before, after, "diff", (finding,), Status.CHANGED)
    own, extra = diagnostics([result])
    assert own["suggestions"] == [
        {
            "range": {"start": {"line": 12, "column": 1}, "end": {"line": 13, "column": 1}},
            "text": "memory = b.Memory()\n",
        }
    ]
    assert extra["message"] == "part of the fix for line 12: rebuilt"
    assert extra["code"] == {"value": "per-call-state"}
    insertion = {"start": {"line": 2, "column": 1}, "end": {"line": 2, "column": 1}}
    assert extra["location"] == {"path": "m.py", "range": insertion}
    assert extra["suggestions"] == [{"range": insertion, "text": "import b\n"}]
    assert apply_suggestions(before, [own, extra]) == after


def test_columns_are_counted_in_utf8_bytes() -> None:
    finding = Finding("per-call-state", "m", 1, 5, Fix.SAFE, False, False)
    result = FileResult("x.py", "é = 1; memory = 2\n", "", "", (finding,), Status.UNCHANGED)
    [diagnostic] = diagnostics([result])
    assert diagnostic["location"]["range"]["start"] == {"line": 1, "column": 6}
    assert diagnostic["location"]["range"]["end"] == {"line": 1, "column": 19}


def test_a_notebook_finding_names_its_cell_and_has_no_file_range() -> None:
    finding = Finding("per-call-state", "rebuilt", 3, 14, Fix.SAFE, False, False, cell=4)
    result = FileResult("nb.ipynb", "{}", "{}", "", (finding,), Status.UNCHANGED)
    [diagnostic] = diagnostics([result])
    assert diagnostic["message"] == "cell 4, line 3: rebuilt"
    assert diagnostic["location"] == {"path": "nb.ipynb"}


def test_a_file_memfix_could_not_process_is_an_error_diagnostic() -> None:
    failed = FileResult("bad.py", "", "", "", (), Status.FAILED, "syntax error at line 1")
    [diagnostic] = diagnostics([failed])
    assert diagnostic == {
        "message": "syntax error at line 1",
        "location": {"path": "bad.py"},
        "severity": "ERROR",
        "source": {"name": "memfix"},
    }


def test_messages_and_suggestions_are_masked_and_names_escaped() -> None:
    secret = "sk-proj-Zq8vLm2Rt5Xw9Yb3Nc6Kd1Hf4Gj7Ps0Ua"
    source = PROGRAM.replace('model="gpt-4o-mini"', f'model="gpt-4o-mini", api_key="{secret}"')
    result = fixed(source, path="a\n::error::b.py")
    leaky = replace(
        result, findings=tuple(replace(f, message=f"{secret}\x1b[2J") for f in result.findings)
    )
    text = to_rdjsonl([leaky])
    assert secret[3:] not in text and "sk-****" in text
    found = [json.loads(line) for line in text.splitlines()]
    assert all(d["location"]["path"] == "a\\n::error::b.py" for d in found)
    assert all("\x1b" not in d["message"] and "\\x1b" in d["message"] for d in found if "code" in d)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    (tmp_path / "bot.py").write_text(KEYS, encoding="utf-8")
    return tmp_path


def test_check_format_rdjsonl_prints_the_diagnostics(project: Path) -> None:
    code, out, _ = invoke("check", "--format", "rdjsonl")
    assert code == 1
    found = [json.loads(line) for line in out.splitlines()]
    assert {d["code"]["value"] for d in found} == {"memory-key-mismatch", "input-key-mismatch"}
    assert apply_suggestions(KEYS, found) == fixed(KEYS, path="bot.py").after
