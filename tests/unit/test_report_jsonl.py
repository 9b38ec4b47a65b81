"""`--format jsonl`: one finding a line, with a fingerprint that follows the code, not
the line it is on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.pipeline.notebooks import fix_notebook
from memfix.report.fingerprint import fingerprint
from memfix.report.jsonl import to_jsonl
from memfix.report.statements import Statements
from memfix.results import FileResult, Status
from memfix.rules.registry import all_codemods
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

# PROGRAM as a formatter (and a commenting colleague) could leave it: two-space indents,
# single quotes, blank lines, comments, a call split over lines with a trailing comma.
REFORMATTED = """\
from langchain_openai import ChatOpenAI
from langchain.memory import ConversationBufferMemory
from langchain.chains import ConversationChain
def ask(question: str):  # one turn of the conversation
  llm = ChatOpenAI(model='gpt-4o-mini')

  # a fresh memory on every call
  memory = ConversationBufferMemory(
  )  # that is the bug

  chain = ConversationChain(
      llm=llm,
      memory=memory,
  )
  return chain.invoke({'input': question})
"""

# The same broken function twice: two conversations, one statement.
TWO_CONVERSATIONS = PROGRAM + "\n\n" + PROGRAM.split("\n\n\n", 1)[1].replace("ask(", "ask_again(")


def records(source: str, path: str = "app/bot.py") -> list[dict[str, Any]]:
    result = fix_source(source, path=path, codemods=all_codemods(), settings=Settings())
    return [json.loads(line) for line in to_jsonl([result]).splitlines()]


def prints(source: str) -> dict[str, str]:
    return {record["codemod"]: record["fingerprint"] for record in records(source)}


def test_each_line_is_one_finding_with_its_fix_safety_and_fingerprint() -> None:
    result = fix_source(PROGRAM, path="app/bot.py", codemods=all_codemods(), settings=Settings())
    lines = to_jsonl([result]).splitlines()
    assert len(lines) == len(result.findings)
    first = json.loads(lines[1])
    finding = result.findings[1]
    assert first == {
        "kind": "finding",
        "codemod": "per-call-state",
        "path": "app/bot.py",
        "line": 8,
        "column": 14,
        "message": finding.message,
        "fix": "safe",
        "fixable": True,
        "applied": True,
        "fingerprint": first["fingerprint"],
    }
    assert len(first["fingerprint"]) == 16 and int(first["fingerprint"], 16) >= 0


def test_the_fingerprint_stays_when_lines_are_added_above_the_finding() -> None:
    moved = PROGRAM.replace("\n\n\ndef ask", "\nimport os\n\n# Ask the model.\n\n\ndef ask")
    assert [r["line"] for r in records(moved)] != [r["line"] for r in records(PROGRAM)]
    assert prints(moved) == prints(PROGRAM)


def test_the_fingerprint_stays_when_the_file_is_reformatted() -> None:
    assert set(prints(REFORMATTED)) == {"per-call-state", "legacy-conversation-chain"}
    assert prints(REFORMATTED) == prints(PROGRAM)


def test_the_fingerprint_changes_when_the_statement_changes() -> None:
    changed = PROGRAM.replace(
        "memory = ConversationBufferMemory()",
        "memory = ConversationBufferMemory(return_messages=True)",
    )
    assert prints(changed)["per-call-state"] != prints(PROGRAM)["per-call-state"]


def test_the_fingerprint_changes_with_the_codemod_and_the_path() -> None:
    statement = Statements(PROGRAM).at(8)
    assert statement.scope == "ask" and statement.bound == "memory"
    one = fingerprint("per-call-state", "app/bot.py", statement)
    assert one != fingerprint("unwired-memory", "app/bot.py", statement)
    assert one != fingerprint("per-call-state", "app/other.py", statement)
    assert one == fingerprint("per-call-state", "./app/bot.py", statement)


def test_findings_in_two_conversations_have_different_fingerprints() -> None:
    found = [r for r in records(TWO_CONVERSATIONS) if r["codemod"] == "per-call-state"]
    assert len(found) == 2
    assert found[0]["fingerprint"] != found[1]["fingerprint"]
    # Each conversation has its own: deleting the first leaves the second's as it was.
    alone = TWO_CONVERSATIONS.replace(PROGRAM.split("\n\n\n", 1)[1], "", 1)
    assert prints(alone)["per-call-state"] == found[1]["fingerprint"]


def test_the_same_statement_twice_in_one_function_gets_two_fingerprints() -> None:
    doubled = PROGRAM.replace(
        "    memory = ConversationBufferMemory()\n",
        "    memory = ConversationBufferMemory()\n    memory = ConversationBufferMemory()\n",
    )
    result = fix_source(doubled, path="bot.py", codemods=all_codemods(), settings=Settings())
    twice = replace(result, findings=(result.findings[1], replace(result.findings[1], line=9)))
    first, second = (json.loads(line) for line in to_jsonl([twice]).splitlines())
    assert first["fingerprint"] != second["fingerprint"]


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "source": source}
                for source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_a_notebook_fingerprint_stays_when_a_cell_is_added_above() -> None:
    def fingerprints(text: str) -> list[str]:
        result = fix_notebook(text, path="nb.ipynb", codemods=all_codemods(), settings=Settings())
        found = [json.loads(line) for line in to_jsonl([result]).splitlines()]
        return [r["fingerprint"] for r in found if r["codemod"] == "per-call-state"]

    body = PROGRAM.split("\n\n\n", 1)[1]
    imports = PROGRAM.split("\n\n\n", 1)[0] + "\n"
    once = fingerprints(notebook(imports, body))
    assert len(once) == 1
    assert once == fingerprints(notebook("x = 1\n", imports, "# notes\n" + body))


def test_messages_are_masked_and_names_escaped() -> None:
    secret = "sk-proj-Zq8vLm2Rt5Xw9Yb3Nc6Kd1Hf4Gj7Ps0Ua"
    result = fix_source(PROGRAM, path="a\n.py", codemods=all_codemods(), settings=Settings())
    leaky = replace(
        result, findings=tuple(replace(f, message=f"{secret}\x1b") for f in result.findings)
    )
    text = to_jsonl([leaky])
    assert secret[3:] not in text and "sk-****" in text
    for record in map(json.loads, text.splitlines()):
        assert record["path"] == "a\\n.py" and record["message"] == "sk-****\\x1b"


def test_a_file_memfix_could_not_process_is_an_error_line() -> None:
    failed = FileResult("bad.py", "", "", "", (), Status.FAILED, "syntax error at line 1")
    [line] = to_jsonl([failed]).splitlines()
    assert json.loads(line) == {
        "kind": "error",
        "path": "bad.py",
        "message": "syntax error at line 1",
    }


def test_check_format_jsonl_prints_one_finding_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    code, out, _ = invoke("check", "--format", "jsonl")
    assert code == 1
    assert [json.loads(line)["codemod"] for line in out.splitlines()] == [
        "legacy-conversation-chain",
        "per-call-state",
    ]
