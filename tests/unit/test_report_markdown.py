"""The markdown report (the pull-request description) and the masking of secrets."""

from __future__ import annotations

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.report.markdown import doc_sections, to_markdown
from memfix.report.redact import redact
from memfix.results import FileResult, Status
from memfix.rules.registry import all_codemods
from tests.support.fixtures import PROGRAM

CODEMODS = {codemod.NAME: codemod for codemod in all_codemods()}


def test_one_section_per_finding_with_the_codemod_docs() -> None:
    codemods = [CODEMODS["per-call-state"]]
    result = fix_source(PROGRAM, path="bot.py", codemods=codemods, settings=Settings())
    text = to_markdown([result], CODEMODS, title="Fix memory")
    sections = doc_sections(CODEMODS["per-call-state"].documentation())
    assert text.startswith("# Fix memory\n\nmemfix found 1 finding(s) in 1 file(s); ")
    assert "## 1. `per-call-state` at `bot.py:8:14`\n" in text
    assert f"**Why history was lost or shared:** {sections['Why is this bad?']}\n" in text
    assert f"**Fix safety (safe):** {sections['Fix safety']}\n" in text
    assert "**What changed:** Rewritten by memfix; the diff of the file is below.\n" in text
    assert "```diff\n" + result.diff.rstrip("\n") + "\n```\n" in text


def test_nothing_found() -> None:
    clean = FileResult("a.py", "x = 1\n", "x = 1\n", "", (), Status.UNCHANGED)
    assert to_markdown([clean], CODEMODS, title="T") == (
        "# T\n\nmemfix found nothing to change in 1 file(s).\n"
    )


def test_secrets_quoted_from_code_are_masked() -> None:
    source = PROGRAM.replace(
        'ChatOpenAI(model="gpt-4o-mini")',
        'ChatOpenAI(model="gpt-4o-mini", api_key="sk-proj-abcdefghijklmnopqrstuvwx")',
    )
    result = fix_source(source, path="bot.py", codemods=all_codemods(), settings=Settings())
    assert "sk-proj-abcdefghijklmnopqrstuvwx" in result.diff  # the patch stays exact
    text = to_markdown([result], CODEMODS)
    assert "sk-proj-abcdefghijklmnopqrstuvwx" not in text
    assert 'api_key="sk-****"' in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ('key = "sk-ant-api03-abcdefghijklmnopqrstu"', 'key = "sk-****"'),
        ("id = AKIAIOSFODNN7EXAMPLE", "id = AKIA****"),
        ("url = postgresql://app:s3cr3t@db:5432/x", "url = postgresql://app:****@db:5432/x"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = ****",
        ),
        ("token = ghp_abcdefghijklmnopqrstuvwxyz0123", "token = ghp_****"),
    ],
)
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    ["sk-short", "redis://localhost:6379/0", "http://host:8080/path", "task-manager"],
)
def test_redact_leaves_harmless_text(text: str) -> None:
    assert redact(text) == text
