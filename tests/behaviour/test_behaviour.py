"""Rewritten programs are run with a fake chat model for two turns.

The second turn must see the first: before the fix it does not, after the fix it does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from memfix.cli import app
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import all_codemods
from tests.support.fakes import PROMPTS, last_prompt, run_program
from tests.support.fixtures import PROGRAM


def two_turns(program: str) -> str:
    """Ask the program's ask() twice; return the prompt of the second turn."""
    ask = run_program(program)["ask"]
    ask("My name is Sam")
    ask("What's my name?")
    assert len(PROMPTS) == 2
    return last_prompt()


@pytest.mark.usefixtures("legacy_langchain")
def test_article_program_forgets_before_the_fix() -> None:
    assert "My name is Sam" not in two_turns(PROGRAM)


@pytest.mark.usefixtures("legacy_langchain")
def test_article_program_remembers_after_the_fix() -> None:
    result = fix_source(PROGRAM, path="ask.py", codemods=all_codemods(), settings=Settings())
    assert result.changed
    second = two_turns(result.after)
    assert "Human: My name is Sam" in second
    assert "What's my name?" in second


@pytest.mark.usefixtures("legacy_langchain")
def test_apply_yes_writes_a_program_that_remembers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ask.py").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["apply", "--yes", "ask.py"])
    # The hoisted ConversationChain is still legacy: migrating it is an unsafe fix
    # (ask() would return the answer text, not the result dict), so a finding remains.
    assert result.exit_code == 1, result.output
    assert "legacy-conversation-chain" in result.output
    assert "Human: My name is Sam" in two_turns((tmp_path / "ask.py").read_text("utf-8"))
